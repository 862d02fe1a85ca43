"""Compiled plans give the Python body's result, always: hypothesis draws random pipelines of
the supported ops and random list-chain, union and dataframe batches (float64, float32, int64,
int32, with nulls) and compares the plan against the eager Python body.

Fallbacks are not hidden: a pipeline whose ops all apply to the layout must run in the plan
(``plan.run`` raising ``Unsupported`` fails the test). The only allowed fallbacks are the
documented ones: Python-scalar arithmetic where Python itself raises or differs from 64-bit
math (after a ``dim=None`` reduction)."""

from __future__ import annotations

import importlib.util
import itertools
import math
import warnings

import grumpy as gr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_counter = itertools.count()


def load(tmp_path, src):
    name = f"parity{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.f


def same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b and type(a) is type(b)


def value(x):
    if isinstance(x, gr.DataFrame):
        return {k: v.to_list() for k, v in x.to_dict().items()}
    return x.to_list() if hasattr(x, "to_list") else x


BINOPS = ["+", "-", "*", "/", "%", "//", "**"]
UNARY = [
    "gr.sqrt",
    "gr.exp",
    "gr.abs",
    "gr.floor",
    "gr.ceil",
    "gr.sin",
    "gr.log1p",
    "abs",
    "gr.sign",
    "gr.round",
    "gr.cos",
]
REDUCE = ["sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"]
CONSTS = [0.5, 2.0, 3, 1.5, -2.0, 0, 2**2, 1e300]


@st.composite
def elementwise(draw, x="x"):
    kind = draw(st.sampled_from(["bin", "rbin", "un", "neg", "clip", "where", "self", "fn2"]))
    c = draw(st.sampled_from(CONSTS))
    if kind == "bin":
        op = draw(st.sampled_from(BINOPS))
        if op == "**":
            c = draw(st.sampled_from([2, 0.5, 2.0, 3]))
        return f"{x} = {x} {op} {c!r}"
    if kind == "rbin":
        return f"{x} = {c!r} {draw(st.sampled_from(['+', '-', '*', '/']))} {x}"
    if kind == "un":
        return f"{x} = {draw(st.sampled_from(UNARY))}({x})"
    if kind == "neg":
        return f"{x} = -{x}"
    if kind == "clip":
        lo, hi = draw(st.sampled_from([(-5.0, 5.0), (0, 1), (None, 2.5), (-1, None)]))
        return f"{x} = gr.clip({x}, {lo!r}, {hi!r})"
    if kind == "where":
        return f"{x} = gr.where({x} > 1.0, {x}, {c!r})"
    if kind == "self":
        return f"{x} = {x} {draw(st.sampled_from(['+', '*', '-']))} {x}"
    f = draw(st.sampled_from(["minimum", "maximum", "add", "multiply"]))
    return f"{x} = gr.{f}({x}, {c!r})"


@st.composite
def pipelines(draw, x="batch"):
    """(lines, return expression, uses_scalar_registers)."""
    lines = [draw(elementwise(x)) for _ in range(draw(st.integers(1, 4)))]
    tail = draw(st.sampled_from(["none", "reduce", "scalar"]))
    if tail == "none":
        return lines, x, False
    red = draw(st.sampled_from(REDUCE))
    if tail == "reduce":
        return lines, f"{x}.{red}(dim={draw(st.sampled_from([0, 1, -1]))})", False
    lines.append(f"s = {x}.{red}()")
    lines += [draw(elementwise("s")) for _ in range(draw(st.integers(0, 2)))]
    return lines, draw(st.sampled_from(["s", f"{x} * s", f"s - {x}"])), True


def floats(allow_null):
    f = st.floats(-4, 4, allow_nan=False, width=32)
    return st.one_of(f, st.none()) if allow_null else f


def ragged(draw, depth, leaf):
    if depth == 1:
        return draw(st.lists(leaf, min_size=0, max_size=4))
    return [ragged(draw, depth - 1, leaf) for _ in range(draw(st.integers(1, 4)))]


@st.composite
def batches(draw):
    layout = draw(st.sampled_from(["list2", "list3", "union"]))
    dtype = draw(st.sampled_from([gr.float64, gr.float32, gr.int64, gr.int32]))
    nulls = draw(st.booleans())
    leaf = floats(nulls)
    if dtype in (gr.int64, gr.int32):
        leaf = st.integers(-5, 5) | (st.none() if nulls else st.nothing())
    if layout == "union":
        rows = draw(st.lists(leaf | st.lists(leaf, max_size=3), min_size=1, max_size=6))
        if not any(isinstance(r, list) for r in rows):
            rows.append([draw(leaf)])
        if all(isinstance(r, list) for r in rows):
            rows.append(draw(leaf))
    else:
        rows = ragged(draw, 2 if layout == "list2" else 3, leaf)
    if all(v is None for v in _leaves(rows)):
        rows = [rows, [1]] if layout != "union" else rows + [1]
    return gr.array(rows, dtype=dtype), layout


def _leaves(rows):
    for r in rows:
        if isinstance(r, list):
            yield from _leaves(r)
        else:
            yield r


def check(f, x, scalar_ops):
    """Compare the plan with the Python body on x; returns True when the plan ran."""
    try:
        want = f.fn(x)
    except Exception as e:  # noqa: BLE001 - the compiled transform must raise the same
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(type(e)):
                f(x)
        return True
    try:
        got = f.plan.run(x)
    except gr.Unsupported:
        assert scalar_ops, "the plan fell back on a layout it supports"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = f(x)
        assert same(value(got), value(want))
        return False
    assert same(value(got), value(want)), (value(got), value(want))
    if hasattr(want, "dtype"):
        assert got.dtype == want.dtype
    return True


SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(pipelines(), batches())
def test_compiled_equals_python_body(tmp_path_factory, pipe, batch):
    lines, ret, scalar_ops = pipe
    body = "".join(f"    {ln}\n" for ln in lines)
    src = f"import grumpy as gr\n\ndef f(batch):\n{body}    return {ret}\n"
    f = gr.compile(load(tmp_path_factory.mktemp("p"), src))
    assert f.is_compiled, (src, f.compile_error)
    x, _layout = batch
    check(f, x, scalar_ops)


def test_scalar_register_fallbacks_are_rare(tmp_path):
    """After a dim=None reduction, Python-scalar arithmetic runs in the plan except where
    Python raises or differs (ZeroDivisionError, complex powers)."""
    ran = total = 0
    x = gr.array([[1.0, 2.0], [3.0]])
    for a, b in itertools.product([1.0, -2.5, 3], [2.0, 0.5, -1, 0]):
        for op in ["+", "-", "*", "/", "%", "//", "**", "<"]:
            src = (
                "import grumpy as gr\n\ndef f(batch):\n"
                f"    s = batch.sum() * {a!r}\n    return batch * (s {op} {b!r})\n"
            )
            f = gr.compile(load(tmp_path, src))
            assert f.is_compiled
            total += 1
            try:
                want = f.fn(x)
            except (ZeroDivisionError, TypeError):  # TypeError: a complex power, e.g. (-1) ** 0.5
                with pytest.raises(gr.Unsupported):
                    f.plan.run(x)
                continue
            try:
                got = f.plan.run(x)
            except gr.Unsupported:
                continue
            ran += 1
            assert same(value(got), value(want)), src
    assert ran >= total * 0.8, (ran, total)


@st.composite
def frames(draw):
    n = draw(st.integers(1, 4))
    counts = [draw(st.integers(0, 3)) for _ in range(n)]
    dtype = draw(st.sampled_from([gr.float64, gr.float32, gr.int64]))
    leaf = st.integers(-5, 5) if dtype == gr.int64 else st.floats(-4, 4, width=32)
    coords = [[[draw(leaf) for _ in range(3)] for _ in range(c)] for c in counts]
    mass = [[draw(leaf) for _ in range(c)] for c in counts]
    return gr.dataframe(
        {
            "residue_coords": gr.array(coords, dtype=dtype),
            "residue_mass": gr.array(mass, dtype=dtype),
            "protein_id": list(range(n)),
        },
        schema=["protein", "residue"],
    )


@SETTINGS
@given(
    st.lists(elementwise("c"), min_size=1, max_size=3),
    frames(),
    st.sampled_from(REDUCE),
    st.sampled_from(["assign_residue", "assign_protein", "return_column", "return_scalar"]),
)
def test_dataframe_pipelines(tmp_path_factory, lines, df, red, tail):
    body = "    c = batch.residue.residue_coords\n" + "".join(f"    {ln}\n" for ln in lines)
    if tail == "assign_residue":
        body += f"    batch.residue.out = c.{red}(dim=-1)\n    return batch\n"
    elif tail == "assign_protein":
        body += (
            f"    batch.protein.out = (c.{red}(dim=-1) + batch.residue.residue_mass).sum(dim=-1)\n"
        )
        body += "    return batch.protein.out\n"
    elif tail == "return_column":
        body += f"    return c.{red}(dim=1) * batch.residue.residue_mass\n"
    else:
        body += f"    return c.{red}()\n"
    src = f"import grumpy as gr\n\ndef f(batch):\n{body}"
    f = gr.compile(load(tmp_path_factory.mktemp("d"), src))
    assert f.is_compiled, (src, f.compile_error)
    a = df
    b = gr.dataframe({k: v for k, v in df.to_dict().items()}, schema=df.schema)
    try:
        want = f.fn(b)
    except Exception as e:  # noqa: BLE001
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(type(e)):
                f(a)
        return
    got = f.plan.run(a)  # must not fall back: every op applies to this frame
    assert same(value(got), value(want)), src
    assert same(value(a), value(b))  # same dot assignments on the input
