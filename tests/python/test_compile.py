"""@gr.compile: what compiles, what falls back (with exactly one warning and the Python
body's result), the error messages, and the plan listing."""

from __future__ import annotations

import functools
import importlib.util
import inspect
import itertools
import math
import warnings

import grumpy as gr
import pytest

_counter = itertools.count()


def load_module(tmp_path, source, name=None):
    name = name or f"gen{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def compile_body(tmp_path, body, prelude=""):
    src = f"import grumpy as gr\nSCALE = 3.0\n{prelude}\n@gr.compile\ndef f(batch):\n{body}"
    return load_module(tmp_path, src).f


def same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b and type(a) is type(b)


def value(x):
    """A comparable Python value of a result (arrays as lists, generators drained)."""
    if hasattr(x, "to_list"):
        return x.to_list()
    if hasattr(x, "tolist"):
        return x.tolist()
    if inspect.isgenerator(x):
        return [value(v) for v in x]
    return x


def calls_warn(fn, *args, times=2):
    """Call fn `times` times; return (results, categories of warnings)."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = [fn(*args) for _ in range(times)]
    return out, [c.category for c in w]


def no_fallback(t, x):
    """The plan runs on x without falling back (and equals the Python body)."""
    got = t.plan.run(x)  # raises gr.Unsupported if the plan does not apply
    assert same(value(got), value(t.fn(x)))
    return got


X = gr.array([[1.0, 2.0], [3.0]])


# ------------------------------------------------------------------ the seed's constructs
def test_seed_constructs_compile_and_fuse():
    @gr.compile
    def normalize_and_pool(batch):
        batch = batch * 0.01
        batch = batch + 1.0
        return batch.mean(dim=1)

    assert normalize_and_pool.is_compiled and normalize_and_pool.compile_error is None
    assert normalize_and_pool.plan.explain() == (
        "plan: 3 ops in 1 step\n"
        "  r1 = r0 * 0.01\n"
        "  r2 = r1 + 1.0\n"
        "  r3 = r2.mean(dim=1)\n"
        "steps:\n"
        "  1. r3 = ((r0 * 0.01) + 1.0).mean(dim=1)\n"
        "fused:\n"
        "  r3: 2 elementwise ops folded into mean(dim=1): one pass over r0, no temporary buffer\n"
        "output: r3\n"
    )


def test_explain_is_python_like():
    @gr.compile
    def f(batch):
        m = batch > 0
        c = gr.clip(batch, 0, 1)
        w = gr.where(m, c, -1.5)
        nb = gr.neighbors(batch, batch, k=16, dim=1, loop=False)
        return gr.sqrt(-w) + nb.sum()

    text = f.plan.explain()
    for line in [
        "r1 = r0 > 0",
        "r2 = clip(r0, 0, 1)",
        "r3 = where(r1, r2, -1.5)",
        "r4 = neighbors(r0, r0, k=16, dim=1, loop=False)",
        "r5 = -r3",
        "r6 = sqrt(r5)",
        "r7 = r4.sum()",
        "r8 = r6 + r7",
    ]:
        assert f"  {line}\n" in text, text
    for leak in ("Some(", "Gt", "Int(", "Float("):
        assert leak not in text


# ------------------------------------------------------------------ unsupported constructs
@pytest.mark.parametrize(
    "body, construct, line",
    [
        (
            "    if batch is None:\n        return batch\n    return batch * 2.0\n",
            "if statement",
            6,
        ),
        ("    for i in range(2):\n        batch = batch * 2.0\n    return batch\n", "for loop", 6),
        ("    while False:\n        pass\n    return batch\n", "while loop", 6),
        (
            "    try:\n        return batch\n    except Exception:\n        return batch\n",
            "try statement",
            6,
        ),
        ("    import math\n    return batch\n", "import", 6),
        ("    def inner(x):\n        return x\n    return batch\n", "nested function", 6),
        ("    return batch.astype('float32')\n", "method .astype()", 6),
        ("    return len(batch)\n", "call to len()", 6),
        ("    return batch * SCALE\n", "closure over outside state `SCALE`", 6),
        ("    return (lambda b: b)(batch)\n", "lambda", 6),
        ("    x = batch * 2.0\n    yield x\n", "yield: generators cannot be compiled", 7),
        ("    return batch.columns\n", "attribute .columns", 6),
        ("    return batch.values * 2\n", "attribute .values", 6),
        ("    return batch[0]\n", "indexing", 6),
        (
            "    return gr.neighbors(batch, batch, k=2, return_distances=True)\n",
            "return_distances=True",
            6,
        ),
        ("    return gr.neighbors(\n        batch, batch, k=2, dmi=1)\n", "unexpected keyword", 6),
        ("    return gr.clip(batch, 0, 1, a_min=0)\n", "gr.clip", 6),
        ("    return batch.mean(dim=1.5)\n", "dim must be a literal int", 6),
        ("    return batch * (1 / 0)\n", "ZeroDivisionError", 6),
        ("    x = batch\n    return x if x else x\n", "conditional expression", 7),
    ],
)
def test_unsupported_constructs_fall_back_with_one_warning(tmp_path, body, construct, line):
    f = compile_body(tmp_path, body)
    assert not f.is_compiled
    assert construct in f.compile_error, f.compile_error
    assert f"(line {line}" in f.compile_error, f.compile_error
    try:
        want = value(f.fn(X))
    except Exception as e:  # noqa: BLE001 - the compiled call must raise the same
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(type(e)):
                f(X)
            with pytest.raises(type(e)):
                f(X)
        assert [c.category for c in w] == [gr.CompileWarning]
        return
    out, cats = calls_warn(f, X)
    assert cats == [gr.CompileWarning]
    assert all(same(value(o), want) for o in out)


def test_parameters_lambdas_and_methods():
    def two(a, b):
        return a

    t = gr.compile(two)
    assert not t.is_compiled and "exactly one parameter" in t.compile_error
    lam = gr.compile(lambda batch: batch * 2.0)
    assert not lam.is_compiled and "lambda" in lam.compile_error
    assert issubclass(gr.CompileWarning, UserWarning)

    class Model:
        def forward(self, batch):
            return batch * 2.0

        def scaled(self, batch):
            return batch * self.k

    m = Model()
    fwd = gr.compile(m.forward)
    assert fwd.is_compiled, fwd.compile_error
    assert no_fallback(fwd, X).to_list() == [[2.0, 4.0], [6.0]]
    sc = gr.compile(m.scaled)
    assert "outside state `self`" in sc.compile_error


def test_wrapped_callables_compile_their_own_code_only():
    def inner(batch):
        return batch * 2.0

    class Logged:
        def __init__(self, f):
            functools.update_wrapper(self, f)
            self.calls = 0

        def __call__(self, batch):
            self.calls += 1
            return inner(batch) + 1.0

    logged = Logged(inner)
    t = gr.compile(logged)
    assert not t.is_compiled and "only functions defined with def" in t.compile_error
    out, cats = calls_warn(t, X)
    assert out[0].to_list() == [[3.0, 5.0], [7.0]] and logged.calls == 2
    assert cats == [gr.CompileWarning]

    @functools.wraps(inner)
    def wrapper(*args):
        return inner(*args) - 1.0

    w = gr.compile(wrapper)
    assert not w.is_compiled
    assert same(value(calls_warn(w, X)[0][0]), [[1.0, 3.0], [5.0]])


def test_plan_not_applicable_to_layout_falls_back_once():
    @gr.compile
    def pool(batch):
        return batch.residue.coords.mean(dim=-1)

    assert pool.is_compiled
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for _ in range(3):
            with pytest.raises(AttributeError):
                pool(X)  # not a dataframe: the Python body raises what Python raises
    assert [c.category for c in w] == [gr.CompileWarning]
    assert "r1 = r0.residue" in str(w[0].message)


# ------------------------------------------------------------------ constants and literals
def test_constant_folding_and_literals():
    @gr.compile
    def f(batch):
        k = 2.0
        k = k * 3
        batch = (batch - 1.0) * 2**2
        return batch * k + 2**70 - -1.0

    assert f.is_compiled, f.compile_error
    got = no_fallback(f, X)
    assert got.to_list() == f.fn(X).to_list()

    @gr.compile
    def g(batch):
        return gr.where(batch > 1.5, batch * 1e400, -(1e400))

    assert g.is_compiled, g.compile_error
    assert no_fallback(g, X).to_list() == [[-math.inf, math.inf], [math.inf]]


def test_big_int_literals_apply_only_to_floats():
    @gr.compile
    def f(batch):
        return batch * 2**70

    assert f.is_compiled
    assert no_fallback(f, X).to_list() == f.fn(X).to_list()
    xi = gr.array([[1, 2], [3]])
    with pytest.raises(gr.Unsupported):
        f.plan.run(xi)  # the Python body decides what 2**70 means for int64
    try:
        want = value(f.fn(xi))
    except gr.GrumpyError as e:
        with pytest.raises(type(e)):
            f(xi)
    else:
        assert value(calls_warn(f, xi, times=1)[0][0]) == want


def test_every_op_name_round_trips():
    """Every op name the compiler emits is one the Rust plan accepts."""
    gc = importlib.import_module("grumpy.compile")
    from grumpy.compiler import BINARY, BINARY_FUNCS, COMPARE, REDUCTIONS, UNARY_FUNCS, Program

    def ok(op):
        _plan, err = gc.build_plan(Program(ops=[op], output=1, lines=[1]))
        assert err is None, (op, err)

    for kind in list(UNARY_FUNCS.values()) + ["neg", "not"]:
        ok({"op": "unary", "kind": kind, "src": 0})
    names = set(BINARY.values()) | set(BINARY_FUNCS.values()) | set(COMPARE.values())
    for kind in names:
        ok({"op": "binary", "kind": kind, "lhs": {"reg": 0}, "rhs": {"scalar": 2}})
    for kind in REDUCTIONS:
        ok({"op": "reduce", "kind": kind, "src": 0, "dim": 1})
    for lit in (float("inf"), float("-inf"), float("nan"), 2**64 - 1, -(2**63), True, 0.5):
        ok({"op": "binary", "kind": "add", "lhs": {"scalar": lit}, "rhs": {"reg": 0}})
        ok({"op": "clip", "src": 0, "lo": lit, "hi": None})


def test_isnan_and_isfinite_compile(tmp_path):
    f = compile_body(tmp_path, "    return gr.isnan(batch) | ~gr.isfinite(batch * 1e308)\n")
    assert f.is_compiled, f.compile_error
    x = gr.array([[1.0, float("nan")], [3.0]])
    assert no_fallback(f, x).to_list() == [[False, True], [True]]  # 1e308 is finite, 3e308 is not


def test_plan_rejections_name_the_line():
    gc = importlib.import_module("grumpy.compile")
    from grumpy.compiler import Program

    prog = Program(
        ops=[
            {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2}},
            {"op": "unary", "kind": "frobnicate", "src": 1},
        ],
        output=2,
        lines=[10, 11],
    )
    plan, err = gc.build_plan(prog)
    assert plan is None and "op 1" in err and "(line 11)" in err


# ------------------------------------------------------------------ clip keywords
def test_clip_keywords_compile_as_eager(tmp_path):
    import inspect

    params = list(inspect.signature(gr.clip).parameters)
    for kw in ("lo", "a_min", "min", "hi", "a_max", "max"):
        f = compile_body(tmp_path, f"    return gr.clip(batch, {kw}=1.5)\n")
        if kw in params:
            assert f.is_compiled, (kw, f.compile_error)
            assert no_fallback(f, X).to_list() == f.fn(X).to_list()
        else:
            assert not f.is_compiled and "unexpected keyword" in f.compile_error
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(TypeError):
                    f(X)


# ------------------------------------------------------------------ builtins and scalars
def test_builtin_abs_and_scalar_registers(tmp_path):
    f = compile_body(
        tmp_path,
        "    s = abs(batch).sum()\n"
        "    t = -s\n"
        "    u = gr.sqrt(abs(t)) + gr.clip(t, -1, 1)\n"
        "    v = gr.where(s > 1, s, 0.5)\n"
        "    return batch * u + v\n",
    )
    assert f.is_compiled, f.compile_error
    assert no_fallback(f, X).to_list() == f.fn(X).to_list()
    shadow = compile_body(tmp_path, "    return abs(batch)\n", prelude="abs = len\n")
    assert "closure over outside state `abs`" in shadow.compile_error


def test_scalar_registers_follow_python_rules(tmp_path):
    # Python raises ZeroDivisionError for a Python float / 0.0: the plan defers to it
    f = compile_body(tmp_path, "    return batch * (batch.sum() / 0.0)\n")
    assert f.is_compiled
    with pytest.raises(gr.Unsupported):
        f.plan.run(X)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(ZeroDivisionError):
            f(X)
    assert [c.category for c in w] == [gr.CompileWarning]
    g = compile_body(tmp_path, "    return batch.sum() % -4.0 + batch.max() // 2\n")
    assert same(no_fallback(g, X), g.fn(X))
    xi = gr.array([[7, -3], [2]])
    assert same(no_fallback(g, xi), g.fn(xi))


# ------------------------------------------------------------------ dataframes
def frame():
    return gr.dataframe(
        {"residue_coords": [[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[6.0, 7.0, 8.0]]], "n": [2, 1]},
        schema=["protein", "residue"],
    )


def test_dataframe_dot_assignment_compiled_mutates_and_returns_input():
    @gr.compile
    def center(batch):
        batch.residue.center = batch.residue.residue_coords.mean(dim=-1)
        return batch

    assert center.is_compiled
    a, b = frame(), frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = center(a)
    assert out is a
    center.fn(b)
    assert a["center"].to_list() == b["center"].to_list() == [[1.0, 4.0], [7.0]]


def test_dataframe_missing_columns_and_levels_match_python(tmp_path):
    for body, exc in [
        ("    return batch.residue.nope\n", AttributeError),
        ("    return batch.nope.residue_coords\n", AttributeError),
        ("    return batch.residue.n\n", AttributeError),  # column above the view
    ]:
        f = compile_body(tmp_path, body)
        assert f.is_compiled
        with pytest.raises(gr.Unsupported):
            f.plan.run(frame())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(exc):
                f(frame())


def test_whole_dataframe_arithmetic_is_rejected_early_with_a_reason(tmp_path):
    f = compile_body(tmp_path, "    return batch * 2\n")
    with pytest.raises(gr.Unsupported) as e:
        f.plan.run(frame())
    assert "r1 = r0 * 2" in e.value.summary and "whole-dataframe" in e.value.cause
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = f(frame()), f.fn(frame())
    assert got.to_dict(as_arrays=False) == want.to_dict(as_arrays=False)


def test_column_chains_on_frames_compile(tmp_path):
    f = compile_body(
        tmp_path,
        "    c = batch.residue.residue_coords\n"
        "    batch.residue.r = gr.sqrt((c * c).sum(dim=-1))\n"
        "    batch.protein.m = batch.residue.r.max(dim=-1)\n"
        "    return batch.residue.r - 1.0\n",
    )
    assert f.is_compiled, f.compile_error
    a, b = frame(), frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = f(a)
    want = f.fn(b)
    assert got.to_list() == want.to_list()
    assert a.to_dict(as_arrays=False) == b.to_dict(as_arrays=False)


# ------------------------------------------------------------------ errors and dead code
def test_errors_follow_python_evaluation_order(tmp_path):
    f = compile_body(
        tmp_path,
        "    a = batch // 0\n"
        "    b = gr.neighbors(batch, batch, k=1, dim=5)\n"
        "    return a + b.sum()\n",
    )
    xi = gr.array([[1, 2], [3]])
    with pytest.raises(gr.GrumpyError) as eager:
        f.fn(xi)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(type(eager.value)):
            f(xi)


def test_unused_ops_are_skipped_unless_they_would_raise(tmp_path):
    f = compile_body(
        tmp_path,
        "    batch = batch * 0.01 + 1.0\n"
        "    nb = gr.neighbors(batch, batch, k=2, dim=1)\n"
        "    unused = gr.sqrt(batch)\n"
        "    return batch.mean(dim=1)\n",
    )
    text = f.plan.explain()
    assert "only its input checks run" in text and "unused" in text
    pts = gr.array([[[0.0, 0.0], [1.0, 0.0], [3.0, 1.0]], [[0.0, 2.0], [5.0, 5.0]]])
    assert no_fallback(f, pts).to_list() == f.fn(pts).to_list()
    for bad in (
        gr.array([[[0.0, float("nan")], [1.0, 0.0]]]),  # non-finite coordinates
        gr.array([[[0.0, 1.0], [1.0]]]),  # ragged coordinates
        gr.array([[0.0, 1.0], [2.0]]),  # dim out of range
    ):
        with pytest.raises(gr.GrumpyError) as eager:
            f.fn(bad)
        with pytest.raises(type(eager.value)):
            f.plan.run(bad)


def test_expression_statements_run_for_their_errors(tmp_path):
    f = compile_body(tmp_path, "    gr.neighbors(batch, batch, k=1, dim=0)\n    return batch\n")
    assert f.is_compiled, f.compile_error
    with pytest.raises(gr.GrumpyError):
        f.fn(X)
    with pytest.raises(gr.GrumpyError):
        f.plan.run(X)


def test_int_batches_follow_python_dtypes():
    @gr.compile
    def f(batch):
        return (batch * 2 + 1) / 2

    x = gr.array([[1, 2], [3]])
    got = no_fallback(f, x)
    assert got.dtype == f.fn(x).dtype == gr.float64


def test_neighbors_in_a_plan_matches_eager():
    @gr.compile
    def graph(batch):
        return gr.neighbors(batch, batch, k=2, dim=1, loop=False)

    x = gr.array([[[0.0, 0, 0], [1, 0, 0], [3, 0, 0]], [[0.0, 0, 0], [0, 2, 0]]])
    assert no_fallback(graph, x).to_list() == graph.fn(x).to_list()


def _graph_reference(qs, ds, k, radius, loop):
    """Brute-force pairs per group: ranked by (d², index), pair (i, i) dropped by position
    without loops, at most k (or every one with d² <= radius²)."""
    out = []
    for q, d in zip(qs, ds):
        rows = []
        for i, p in enumerate(q):
            cand = sorted(
                (sum((a - b) ** 2 for a, b in zip(p, r)), j)
                for j, r in enumerate(d)
                if loop or j != i
            )
            if k is not None:
                cand = cand[:k]
            else:
                cand = [c for c in cand if c[0] <= radius * radius]
            rows.append([[i, j] for _, j in cand])
        out.append(rows)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "k,radius,loop", [(1, None, False), (5, None, True), (16, None, False), (None, 2.5, False)]
)
def test_neighbors_plans_match_a_brute_force_reference(tmp_path, seed, k, radius, loop):
    """The compiled kNN/radius graph against an independent model, on groups of 0..90 points:
    chains (the hinted search), clouds with tied distances (integer grids), groups smaller
    than k, and query != data (a scaled copy)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = []
    for _ in range(int(rng.integers(1, 7))):
        n = int(rng.choice([0, 1, 3, 8, 17, 40, 90]))
        if rng.random() < 0.5:  # a chain: consecutive points close together
            pts = np.cumsum(rng.normal(size=(n, 3)), axis=0)
        else:  # a small integer grid: many equal distances, ranked by index
            pts = rng.integers(0, 4, size=(n, 3)).astype(float)
        groups.append(pts.tolist())
    x = gr.array(groups)

    args = f"k={k}, radius={radius}, dim=1, loop={loop}"
    self_graph = compile_body(tmp_path, f"    return gr.neighbors(batch, batch, {args})")
    cross_graph = compile_body(tmp_path, f"    return gr.neighbors(batch, batch * 0.5, {args})")
    assert self_graph.is_compiled and cross_graph.is_compiled, cross_graph.compile_error

    halves = [[[c * 0.5 for c in p] for p in g] for g in groups]
    assert no_fallback(self_graph, x).to_list() == _graph_reference(groups, groups, k, radius, loop)
    assert no_fallback(cross_graph, x).to_list() == _graph_reference(
        groups, halves, k, radius, loop
    )
