"""Unions of any depth (API.md "Layouts", "Reductions", "Elementwise").

- Reductions on unions whose list rows are 1..3 levels deep (and unions nested inside list
  rows) match Awkward Array on the same data with every scalar row wrapped as a length-1 list
  (the API rule "a scalar row counts as a length-1 list"), at every dim.
- `shape(dim)`, `.values`, `.size` and broadcasting against list-chains work at any depth.
- union ⊕ union and `gr.where` follow a pure-Python model: a result row is a scalar only where
  every array operand's row is a scalar; otherwise a scalar row acts as a length-1 list (nested
  to its union's depth) and broadcasts against the list rows.
"""

from __future__ import annotations

import math
import operator

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

OPS = ["sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"]


# ---------------------------------------------------------------- reference helpers


def wrap(x, levels):
    """A scalar where `levels` list levels are expected becomes `[[...x...]]`; None stays."""
    if x is None or levels == 0:
        return x
    if not isinstance(x, list):
        x = [x]
    return [wrap(e, levels - 1) for e in x]


def leaves(x):
    if isinstance(x, list):
        return [v for e in x for v in leaves(e)]
    return [x]


def same(a, b):
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b))
        )
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def plain(x):
    return x.to_list() if isinstance(x, gr.GrumpyArray) else x


def ak_value(v):
    import awkward as ak

    if isinstance(v, ak.Array):
        return v.to_list()
    if v is None:
        return None
    return v.item() if hasattr(v, "item") else v


def nan_to_none(x):
    if isinstance(x, list):
        return [nan_to_none(e) for e in x]
    return None if isinstance(x, float) and math.isnan(x) else x


# ---------------------------------------------------------------- data


@st.composite
def deep_unions(draw):
    """Rows of lists nested 1..4 deep where, at any list level, an element may be a scalar
    (so unions appear at any depth, also nested inside list rows), with null leaves and
    empty lists. At least one scalar row sits among list rows somewhere."""
    kind = draw(st.sampled_from(["int", "float"]))
    leaf = st.integers(-9, 9) if kind == "int" else st.integers(-40, 40).map(lambda v: v / 4)
    depth = draw(st.integers(2, 4))

    def gen(d):
        if d == 0:
            return draw(st.one_of(leaf, leaf, leaf, st.none()))
        r = draw(st.integers(0, 9))
        if r <= 1:
            return draw(leaf)  # a scalar where a list could be: a union row
        return [gen(d - 1) for _ in range(draw(st.integers(0, 3)))]

    rows = [gen(depth - 1) for _ in range(draw(st.integers(0, 4)))]
    deepest = draw(leaf)
    for _ in range(depth - 1):
        deepest = [deepest]
    rows.insert(draw(st.integers(0, len(rows))), deepest)  # a list row of full depth ...
    rows.insert(draw(st.integers(0, len(rows))), draw(leaf))  # ... and a scalar row
    return rows, kind


# ---------------------------------------------------------------- audit examples


def test_deep_union_examples_from_the_audit():
    x = gr.array([1.0, [[[2.0]]]])
    assert x.layout == "union" and x.ndim == 4
    assert x.sum() == 3.0
    assert x.sum(dim=1).to_list() == [[[1.0]], [[2.0]]]
    assert x.sum(dim=-1).to_list() == [[[1.0]], [[2.0]]]
    assert x.sum(dim=0).to_list() == [[[3.0]]]
    y = gr.array([[2, [[[0, 5]]]]])
    assert y.count() == 3
    assert y.count(dim=-1).to_list() == [[[[1]], [[2]]]]
    assert y.sum(dim=1).to_list() == [[[[2, 5]]]]
    assert y.values.tolist() == [2, 0, 5]
    assert x.values.tolist() == [1.0, 2.0]
    assert x.size == 2


def test_shape_at_every_dim_of_a_deep_union():
    x = gr.array([1.0, [[2.0, 3.0], []], [[4.0]]])
    assert x.shape(0) == 3
    assert x.shape(1).to_list() == [1, 2, 1]
    assert x.shape(2).to_list() == [[1], [2, 0], [1]]
    assert x.shape(-1).to_list() == [[1], [2, 0], [1]]
    nested = gr.array([[1.0, [2.0, [3.0, 4.0]]], [[5.0]]])  # unions inside list rows
    assert nested.layout == "union"
    assert nested.shape(1).to_list() == [2, 1]
    assert nested.shape(2).to_list() == [[1, 2], [1]]
    assert nested.shape(3).to_list() == [[[1], [1, 2]], [[1]]]
    with pytest.raises(gr.ArgumentError):
        x.shape(3)


def test_deep_union_broadcasts_against_list_chains():
    u = gr.array([1.0, [[2.0, 3.0], [4.0]]])
    lc = gr.array([[[10.0, 20.0]], [[30.0, 40.0], [50.0]]])
    assert (u + lc).to_list() == [[[11.0, 21.0]], [[32.0, 43.0], [54.0]]]
    assert (lc - u).to_list() == [[[9.0, 19.0]], [[28.0, 37.0], [46.0]]]
    # a shallower list-chain spreads over the union's deeper rows
    assert (u * gr.array([[2.0], [10.0, 100.0]])).to_list() == [[[2.0]], [[20.0, 30.0], [400.0]]]
    assert (u + gr.array([100.0, 200.0])).to_list() == [101.0, [[202.0, 203.0], [204.0]]]


# ---------------------------------------------------------------- reductions vs Awkward


@settings(max_examples=120, deadline=None)
@given(deep_unions(), st.sampled_from(OPS))
def test_union_reductions_match_awkward_at_every_dim(case, op):
    ak = pytest.importorskip("awkward")
    rows, kind = case
    x = gr.array(rows, dtype=gr.int64 if kind == "int" else gr.float64)
    assert x.layout == "union"
    nd = x.ndim
    ref = ak.Array([wrap(r, nd - 1) for r in rows])
    if ref.ndim != nd:  # Awkward infers a shallower type for all-empty levels
        return
    # values: every leaf in order (a scalar row is one leaf; null slots hold anything)
    flat = leaves(rows)
    vals = np.asarray(x.values, dtype=float)
    assert len(vals) == len(flat) == x.size
    assert all(v is None or vals[i] == v for i, v in enumerate(flat))
    for dim in [None, *range(-nd, nd)]:
        kw = {} if op in ("sum", "prod", "count", "any", "all") else {"mask_identity": True}
        want = ak_value(getattr(ak, op)(ref, axis=dim, **kw))
        got = plain(getattr(x, op)(dim=dim))
        assert same(got, want) or same(got, nan_to_none(want)), (rows, op, dim, got, want)
    for dim in range(1, nd):  # shape(dim) = Awkward's num at that axis
        assert x.shape(dim).to_list() == ak.num(ref, axis=dim).to_list()


# ---------------------------------------------------------------- union ⊕ union model


def ref_nary(f, vals, deps, strict=True):
    """Awkward broadcasting of several nested values of list depths `deps` (0 = a value);
    `strict`: a null value nulls the result (else `f` sees the nulls)."""
    if all(d == 0 for d in deps):
        return None if strict and any(v is None for v in vals) else f(*vals)
    if any(d > 0 and v is None for v, d in zip(vals, deps)):
        return None
    lens = {len(v) for v, d in zip(vals, deps) if d > 0}
    long = lens - {1}
    if len(long) > 1:
        raise ValueError("incompatible")
    n = long.pop() if long else 1
    out = []
    for i in range(n):
        sub = [(v[i if len(v) > 1 else 0], d - 1) if d > 0 else (v, 0) for v, d in zip(vals, deps)]
        out.append(ref_nary(f, [s[0] for s in sub], [s[1] for s in sub], strict))
    return out


def ref_union_rows(f, operands, depths, strict=True):
    """Row by row: a scalar row stays a scalar only when every operand's row is a scalar.
    Otherwise a union's scalar row acts as a length-1 list nested to the depth of that
    union's list rows (the union behaves like its list form), and broadcasts against the
    other rows; an operand without list rows (a flat array) spreads its values."""
    is_union = [any(isinstance(r, list) for r in op) for op in operands]
    out = []
    for rows in zip(*operands):
        if not any(isinstance(r, list) for r in rows):
            out.append(ref_nary(f, list(rows), [0] * len(rows), strict))
            continue
        vals, deps = [], []
        for r, d, u in zip(rows, depths, is_union):
            if isinstance(r, list) or u:
                vals.append(wrap(r, d))
                deps.append(d)
            else:
                vals.append(r)
                deps.append(0)
        out.append(ref_nary(f, vals, deps, strict))
    return out


def union_operand(leaf, n, depth):
    """n rows, each a scalar or a list-chain row `depth` deep (with null leaves)."""
    value = st.one_of(leaf, leaf, st.none())
    row = st.lists(value, max_size=3)
    for _ in range(depth - 1):
        row = st.lists(row, min_size=1, max_size=2)
    return st.lists(st.one_of(leaf, row), min_size=n, max_size=n)


@st.composite
def union_pairs(draw):
    n = draw(st.integers(1, 6))
    leaf = st.integers(-20, 20).map(lambda v: v / 4)
    da, db = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = draw(union_operand(leaf, n, da))
    b = draw(union_operand(leaf, n, db))
    return a, b, da, db


def build(rows):
    return gr.array(rows, dtype=gr.float64)


@settings(max_examples=150, deadline=None)
@given(union_pairs(), st.sampled_from(["add", "sub", "mul", "minimum"]))
def test_union_op_union_matches_the_row_model(case, name):
    a, b, da, db = case
    f = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "minimum": min}[name]
    g = {
        "add": operator.add,
        "sub": operator.sub,
        "mul": operator.mul,
        "minimum": gr.minimum,
    }[name]
    try:
        want = ref_union_rows(f, [a, b], [da, db])
    except ValueError:
        with pytest.raises(gr.BroadcastError):
            g(build(a), build(b))
        return
    got = g(build(a), build(b)).to_list()
    assert same(got, want), (a, b, got, want)


def test_union_op_union_audit_example():
    r = gr.array([1.0, [5.0], 2.0]) + gr.array([[1.0], 5.0, 2.0])
    assert r.to_list() == [[2.0], [10.0], 4.0]
    assert r.layout == "union"
    r = gr.array([1.0, [5.0, 6.0], 2.0]) * gr.array([[1.0, 2.0], 3.0, 2.0])
    assert r.to_list() == [[1.0, 2.0], [15.0, 18.0], 4.0]


def test_where_on_unions_follows_the_row_rule():
    c = gr.array([True, [True], True])
    x = gr.array([[1.0], 5.0, 2.0])
    assert gr.where(c, x, 0).to_list() == [[1.0], [5.0], 2.0]
    c = gr.array([False, [True, False], True, [False]])
    x = gr.array([[1.0, 2.0], 5.0, 7.0, [9.0]])
    y = gr.array([0.5, [1.5, 2.5], [3.5], 4.5])
    want = ref_union_rows(
        lambda k, p, q: p if k else q,
        [c.to_list(), x.to_list(), y.to_list()],
        [1, 1, 1],
    )
    assert gr.where(c, x, y).to_list() == want == [[0.5, 0.5], [5.0, 2.5], [7.0], [4.5]]


@settings(max_examples=80, deadline=None)
@given(union_pairs(), st.data())
def test_where_with_union_operands_matches_the_model(case, data):
    a, b, da, db = case
    cond = [
        data.draw(st.booleans())
        if not isinstance(r, list)
        else ref_nary(lambda v: v > 0, [r], [da])
        for r in a
    ]
    try:
        # null where the condition or the chosen value is null
        want = ref_union_rows(
            lambda k, p, q: None if k is None else (p if k else q),
            [cond, a, b],
            [da, da, db],
            strict=False,
        )
    except ValueError:
        with pytest.raises(gr.BroadcastError):
            gr.where(gr.array(cond, dtype=gr.bool_), build(a), build(b))
        return
    got = gr.where(gr.array(cond, dtype=gr.bool_), build(a), build(b)).to_list()
    assert same(got, want), (cond, a, b, got, want)
