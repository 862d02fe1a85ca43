"""@gr.compile and Stream.apply(compile=, scheduler=): compiled results equal the Python body's,
unsupported code falls back with exactly one warning, and plans fuse as documented."""

from __future__ import annotations

import importlib.util
import itertools
import math
import warnings

import grumpy as gr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def load_module(tmp_path, source, name="gen"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def value(x):
    return x.to_list() if hasattr(x, "to_list") else x


# ------------------------------------------------------------------ analysis
def test_seed_constructs_compile():
    @gr.compile
    def normalize_and_pool(batch):
        batch = batch * 0.01
        batch = batch + 1.0
        return batch.mean(dim=1)

    assert normalize_and_pool.is_compiled
    assert normalize_and_pool.compile_error is None
    text = normalize_and_pool.plan.explain()
    assert "fused[mul 0.01 -> add 1.0] -> mean(dim=1)" in text
    assert "no temporary buffer" in text


@pytest.mark.parametrize(
    "body, construct",
    [
        ("    if batch is None:\n        return batch\n    return batch * 2.0\n", "if statement"),
        ("    for i in range(2):\n        batch = batch * 2.0\n    return batch\n", "for loop"),
        ("    while False:\n        pass\n    return batch\n", "while loop"),
        (
            "    try:\n        return batch\n    except Exception:\n        return batch\n",
            "try statement",
        ),
        ("    import math\n    return batch\n", "import"),
        ("    def inner(x):\n        return x\n    return batch\n", "nested function"),
        ("    return batch.astype('float32')\n", "method .astype()"),
        ("    return len(batch)\n", "call to"),
        ("    return batch * SCALE\n", "closure over outside state `SCALE`"),
        ("    return (lambda b: b)(batch)\n", "lambda"),
    ],
)
def test_unsupported_constructs_fall_back_with_one_warning(tmp_path, body, construct):
    src = f"import grumpy as gr\nSCALE = 3.0\n\n@gr.compile\ndef f(batch):\n{body}"
    mod = load_module(tmp_path, src, name="unsupported_" + str(abs(hash(body)) % 10**8))
    assert not mod.f.is_compiled
    assert construct in mod.f.compile_error
    assert "line" in mod.f.compile_error
    x = gr.array([[1.0, 2.0], [3.0]])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        first = mod.f(x)
        second = mod.f(x)
    assert [c.category for c in w] == [gr.CompileWarning]
    assert same(value(first), value(mod.f.fn(x)))
    assert same(value(second), value(first))


def test_several_parameters_and_lambdas():
    def two(a, b):
        return a

    t = gr.compile(two)
    assert not t.is_compiled and "exactly one parameter" in t.compile_error
    lam = gr.compile(lambda batch: batch * 2.0)
    assert not lam.is_compiled and "lambda" in lam.compile_error
    assert issubclass(gr.CompileWarning, UserWarning)


def test_plan_not_applicable_to_layout_falls_back_once():
    @gr.compile
    def pool(batch):
        return batch.residue.coords.mean(dim=-1)

    assert pool.is_compiled
    x = gr.array([[1.0, 2.0]])  # not a dataframe: the plan does not apply
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(AttributeError):
            pool(x)
        with pytest.raises(AttributeError):
            pool(x)
    assert [c.category for c in w] == [gr.CompileWarning]


def test_return_without_value_and_constants():
    @gr.compile
    def f(batch):
        k = 2.0
        batch = batch * k
        return batch - -1.0

    assert f.is_compiled
    x = gr.array([[1.0], [2.0, 3.0]])
    assert f(x).to_list() == [[3.0], [5.0, 7.0]]


# ------------------------------------------------------------------ parity
BINOPS = ["+", "-", "*", "/", "%", "//", "**"]
UNARY = ["gr.sqrt", "gr.exp", "gr.abs", "gr.floor", "gr.ceil", "gr.sin", "gr.log1p"]
REDUCE = ["sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"]


@st.composite
def pipelines(draw):
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["bin", "rbin", "un", "neg", "clip", "cmpwhere"]))
        c = draw(st.sampled_from([0.5, 2.0, 3, 1.5, -2.0]))
        if kind == "bin":
            op = draw(st.sampled_from(BINOPS))
            if op == "**":
                c = draw(st.sampled_from([2, 0.5, 2.0]))
            lines.append(f"batch = batch {op} {c!r}")
        elif kind == "rbin":
            op = draw(st.sampled_from(["+", "-", "*"]))
            lines.append(f"batch = {c!r} {op} batch")
        elif kind == "un":
            lines.append(f"batch = {draw(st.sampled_from(UNARY))}(gr.abs(batch))")
        elif kind == "neg":
            lines.append("batch = -batch")
        elif kind == "clip":
            lines.append("batch = gr.clip(batch, -5.0, 5.0)")
        else:
            lines.append("batch = gr.where(batch > 1.0, batch, 0.5)")
    tail = draw(st.sampled_from(["none"] + REDUCE))
    dim = draw(st.sampled_from([None, 0, 1, -1]))
    ret = "batch" if tail == "none" else f"batch.{tail}(dim={dim})"
    return lines, ret


def ragged_rows(draw, depth):
    leaf = st.floats(-4, 4, allow_nan=False, width=64)
    if depth == 1:
        return draw(st.lists(leaf, min_size=1, max_size=5))
    return [ragged_rows(draw, depth - 1) for _ in range(draw(st.integers(1, 4)))]


@st.composite
def batches(draw):
    kind = draw(st.sampled_from(["list2", "list3", "union"]))
    if kind == "union":
        rows = draw(
            st.lists(
                st.one_of(
                    st.floats(-4, 4, width=64), st.lists(st.floats(-4, 4, width=64), max_size=3)
                ),
                min_size=1,
                max_size=6,
            )
        )
        if not any(isinstance(r, list) for r in rows):
            rows.append([1.0])
        return rows
    return ragged_rows(draw, 2 if kind == "list2" else 3)


_counter = itertools.count()


@settings(max_examples=80, deadline=None)
@given(pipelines(), batches())
def test_compiled_equals_python_body(tmp_path_factory, pipe, rows):
    lines, ret = pipe
    body = "".join(f"    {ln}\n" for ln in lines)
    src = f"import grumpy as gr\n\n@gr.compile\ndef f(batch):\n{body}    return {ret}\n"
    mod = load_module(tmp_path_factory.mktemp("p"), src, name=f"parity{next(_counter)}")
    assert mod.f.is_compiled, (src, mod.f.compile_error)
    x = gr.array(rows, dtype=gr.float64)
    try:
        want = mod.f.fn(x)
    except gr.GrumpyError as e:
        with pytest.raises(type(e)):
            mod.f.plan.run(x)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback allowed for list-chain / union batches
        try:
            got = mod.f.plan.run(x)
        except gr.Unsupported:
            got = mod.f.fn(x)  # the documented fallback (e.g. a union-only limitation)
    assert same(value(got), value(want)), src


def test_int_batches_follow_python_dtypes():
    @gr.compile
    def f(batch):
        return (batch * 2 + 1) / 2

    x = gr.array([[1, 2], [3]])
    got, want = f(x), f.fn(x)
    assert got.dtype == want.dtype == gr.float64
    assert got.to_list() == want.to_list()


def test_neighbors_in_a_plan_matches_eager():
    @gr.compile
    def graph(batch):
        return gr.neighbors(batch, batch, k=2, dim=1, loop=False)

    assert graph.is_compiled
    x = gr.array([[[0.0, 0, 0], [1, 0, 0], [3, 0, 0]], [[0.0, 0, 0], [0, 2, 0]]])
    assert graph(x).to_list() == graph.fn(x).to_list()


def test_dataframe_dot_assignment_compiled_mutates_and_returns_input():
    def make():
        return gr.dataframe(
            {"residue_coords": [[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[6.0, 7.0, 8.0]]]},
            schema=["protein", "residue"],
        )

    @gr.compile
    def center(batch):
        batch.residue.center = batch.residue.residue_coords.mean(dim=-1)
        return batch

    assert center.is_compiled
    a, b = make(), make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = center(a)
    assert out is a
    center.fn(b)
    assert a["center"].to_list() == b["center"].to_list() == [[1.0, 4.0], [7.0]]


# ------------------------------------------------------------------ Stream.apply
def stage_a(batch):
    return batch * 2.0


def stage_b(batch):
    return batch + 1.0


def not_compilable(batch):
    if batch is None:
        return batch
    return batch - 1.0


@pytest.mark.parametrize("compile", ["auto", True, "force", False, "never"])
@pytest.mark.parametrize("scheduler", ["auto", "python", "rust"])
@pytest.mark.parametrize("cpu", [1, 2, 4])
@pytest.mark.parametrize("fns", [[stage_a, stage_b], [stage_a, not_compilable]])
def test_apply_every_combination_equals_eager_loop(compile, scheduler, cpu, fns):
    rows = [[float(i), float(i) / 2] * (i % 3 + 1) for i in range(23)]
    st_ = gr.stream(gr.array(rows), batch_size=4)
    eager = []
    for b in st_:
        for f in fns:
            b = f(b)
        eager.append(b.to_list())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = [o.to_list() for o in st_.apply(fns, compile=compile, scheduler=scheduler, cpu=cpu)]
    assert out == eager


def test_apply_fuses_only_when_everything_compiles():
    st_ = gr.stream(gr.array([[1.0], [2.0]]), batch_size=1)
    assert st_.apply([stage_a, stage_b]).is_compiled
    assert not st_.apply([stage_a, not_compilable]).is_compiled
    assert not st_.apply([stage_a, stage_b], compile="never").is_compiled


def test_apply_on_store_with_shuffle_and_ranks(tmp_path):
    rows = [[float(i)] * (i % 4 + 1) for i in range(40)]
    gr.save(gr.array(rows), tmp_path / "d.gr", chunk_size=7)
    for rank in (0, 1):
        st_ = gr.stream(
            str(tmp_path / "d.gr"), batch_size=3, shuffle=True, seed=5, world_size=2, rank=rank
        )
        eager = [stage_b(stage_a(b)).to_list() for b in st_]
        out = [o.to_list() for o in st_.apply([stage_a, stage_b], cpu=2, scheduler="rust")]
        assert out == eager
        sub = st_[1:3]
        assert [o.to_list() for o in sub.apply(stage_a, scheduler="rust")] == [
            stage_a(b).to_list() for b in sub
        ]


def test_rust_scheduler_stops_cleanly_on_break():
    st_ = gr.stream(gr.array([[float(i)] for i in range(1000)]), batch_size=1, prefetch=2)
    for i, out in enumerate(st_.apply(stage_a, cpu=2, scheduler="rust")):
        if i == 3:
            break
    # a second full pass still works
    assert len(list(st_.apply(stage_a, cpu=2, scheduler="rust"))) == 1000


def test_demo_runs_small(tmp_path):
    from grumpy import demo

    assert (
        demo.main(
            ["--proteins", "40", "--batch-size", "8", "--no-progress", "--out", str(tmp_path)]
        )
        == 0
    )
    assert (tmp_path / "proteins.gr").is_dir()
