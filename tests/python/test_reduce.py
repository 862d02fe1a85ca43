"""Reductions (API.md "Reductions") against a pure-Python model of the left-aligned semantics,
NumPy on rectangular data, and Awkward Array when it is installed."""

from __future__ import annotations

import math

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

OPS = ["sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"]


# ---------------------------------------------------------------- reference model


def finish(op, vals):
    """Reduce a flat list of non-null values."""
    if op == "sum":
        return sum(vals)
    if op == "prod":
        return math.prod(vals)
    if op == "count":
        return len(vals)
    if op == "any":
        return any(vals)
    if op == "all":
        return all(vals)
    if not vals:
        return None
    if op == "mean":
        return sum(vals) / len(vals)
    if op == "min":
        return min(vals)
    if op == "max":
        return max(vals)
    assert op == "ptp"
    return max(vals) - min(vals)


def as_lists(x, levels):
    """Unions: a scalar where a list is expected (levels > 0) counts as a length-1 list."""
    if x is None or levels == 0:
        return x
    if not isinstance(x, list):
        x = [x]
    return [as_lists(e, levels - 1) for e in x]


def merge(members, op, ndim):
    """Left-aligned merge of `members` (each of `ndim - 1` nested levels; ndim 1 = values)."""
    present = [m for m in members if m is not None]
    if ndim == 1:
        return finish(op, present)
    width = max((len(m) for m in present), default=0)
    return [merge([m[j] for m in present if j < len(m)], op, ndim - 1) for j in range(width)]


def leaves(x):
    if x is None:
        return []
    if isinstance(x, list):
        return [v for e in x for v in leaves(e)]
    return [x]


def ref_reduce(data, op, dim, ndim):
    data = [as_lists(r, ndim - 1) for r in data]
    if dim is None:
        return finish(op, leaves(data))
    k = dim + ndim if dim < 0 else dim

    def go(rows, k, nd):
        if k == 0:
            return merge(rows, op, nd)
        return [None if r is None else go(r, k - 1, nd - 1) for r in rows]

    return go(data, k, ndim)


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
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and type(a) is type(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def result_of(x, op, dim):
    r = getattr(x, op)(dim=dim)
    return r.to_list() if isinstance(r, gr.GrumpyArray) else r


# ---------------------------------------------------------------- data


@st.composite
def ragged(draw, unions=True, nulls=True, kinds=("int", "float", "bool")):
    ndim = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(kinds))
    leaf = {
        "int": st.integers(-20, 20),
        "float": st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 3)),
        "bool": st.booleans(),
    }[kind]
    value = st.one_of(leaf, st.none()) if nulls else leaf
    union = unions and ndim >= 2 and draw(st.booleans())

    def gen(depth):
        if depth == 1:
            return draw(value)
        r = draw(st.integers(0, 12))
        if nulls and r == 0:
            return None
        if union and depth == 2 and r <= 2:
            return draw(leaf)
        return [gen(depth - 1) for _ in range(draw(st.integers(0, 4)))]

    data = [gen(ndim) for _ in range(draw(st.integers(0, 5)))]
    dtype = {"int": gr.int64, "float": gr.float64, "bool": gr.bool_}[kind]
    return data, dtype, kind


# ---------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(ragged(), st.sampled_from(OPS))
def test_matches_reference_every_dim(case, op):
    data, dtype, kind = case
    x = gr.array(data, dtype=dtype)
    if op == "ptp" and kind == "bool":
        with pytest.raises(gr.DTypeError):
            x.ptp()
        return
    nd = x.ndim
    for dim in [None, *range(-nd, nd)]:
        got = result_of(x, op, dim)
        want = ref_reduce(data, op, dim, nd)
        assert same(got, want), (data, op, dim, got, want)


@settings(max_examples=60, deadline=None)
@given(ragged(), st.sampled_from(OPS))
def test_module_functions_equal_methods(case, op):
    data, dtype, kind = case
    if op == "ptp" and kind == "bool":
        return
    x = gr.array(data, dtype=dtype)
    for dim in [None, -1, 0]:
        a = getattr(gr, op)(x, dim=dim)
        b = getattr(x, op)(dim)
        a = a.to_list() if isinstance(a, gr.GrumpyArray) else a
        b = b.to_list() if isinstance(b, gr.GrumpyArray) else b
        assert same(a, b)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4),
    st.sampled_from(["int64", "float64", "int32", "float32", "uint8"]),
    st.integers(0, 2**32 - 1),
)
def test_numpy_parity_on_rectangles(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    a = (rng.integers(0, 9, size=shape) if dtype != "float64" else rng.normal(size=shape)).astype(
        dtype
    )
    x = gr.array(a)
    nd = len(shape)
    for op in ["sum", "mean", "min", "max", "ptp", "prod", "any", "all"]:
        fn = getattr(np, op)
        for dim in [None, *range(-nd, nd)]:
            want = fn(a, axis=dim)
            got = getattr(x, op)(dim=dim)
            if isinstance(got, gr.GrumpyArray):
                assert got.dtype == gr.dtype(want.dtype.name), (op, dim)
                got = np.asarray(got.to_list(), dtype=want.dtype)
                want_arr = np.asarray(want)
            else:
                want_arr = np.asarray(want)
            tol = 1e-5 if dtype == "float32" else 1e-9
            np.testing.assert_allclose(
                np.asarray(got, dtype=float), want_arr.astype(float), rtol=tol, atol=tol
            )
        count = x.count(dim=None)
        assert count == a.size


# ---------------------------------------------------------------- awkward parity


AK_FN = {"count": "count", "any": "any", "all": "all", "sum": "sum", "prod": "prod"}


@settings(max_examples=60, deadline=None)
@given(ragged(unions=False, kinds=("int", "float")), st.sampled_from(OPS))
def test_awkward_parity(case, op):
    ak = pytest.importorskip("awkward")
    data, dtype, _ = case
    x = gr.array(data, dtype=dtype)
    arr = ak.Array(data)
    if arr.ndim != x.ndim:  # Awkward infers a different depth for all-null levels
        return
    for dim in [None, *range(-x.ndim, x.ndim)]:
        kw = {} if op in AK_FN else {"mask_identity": True}
        want = getattr(ak, op)(arr, axis=dim, **kw)
        want = (
            want.to_list()
            if isinstance(want, ak.Array)
            else (None if want is None else want.item() if hasattr(want, "item") else want)
        )
        got = result_of(x, op, dim)
        assert same(got, want) or same(got, nan_to_none(want)), (data, op, dim, got, want)


def nan_to_none(x):
    if isinstance(x, list):
        return [nan_to_none(e) for e in x]
    return None if isinstance(x, float) and math.isnan(x) else x


# ---------------------------------------------------------------- examples and dtypes


def test_api_examples():
    x = gr.array([[1, 2, 3], [4, 5]])
    assert x.sum(dim=0).to_list() == [5, 7, 3]
    assert x.sum(dim=1).to_list() == [6, 9]
    assert x.sum() == 15
    assert gr.sum([[1, 2, 3], [4, 5]], dim=-1).to_list() == [6, 9]
    e = gr.array([[], [None], [1.0]])
    assert e.sum(dim=1).to_list() == [0.0, 0.0, 1.0]
    assert e.prod(dim=1).to_list() == [1.0, 1.0, 1.0]
    assert e.count(dim=1).to_list() == [0, 0, 1]
    for op in ["mean", "min", "max", "ptp"]:
        assert getattr(e, op)(dim=1).to_list() == [None, None, 1.0 if op != "ptp" else 0.0]
    assert gr.array([[]], dtype=gr.float64).mean() is None
    assert gr.array([1.0, [2.0, 3.0], 4.0]).sum(dim=1).to_list() == [1.0, 5.0, 4.0]


def test_proteins_mean_over_residues():
    rng = np.random.default_rng(0)
    lens = rng.integers(1, 20, size=50)
    flat = rng.normal(size=(int(lens.sum()), 3))
    offs = np.concatenate([[0], np.cumsum(lens)])
    x = gr.from_offsets(flat, offs)
    assert x.ndim == 3
    got = np.asarray(x.mean(dim=1).to_list())
    want = np.add.reduceat(flat, offs[:-1], axis=0) / lens[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(x.sum(dim=-1).values), flat.sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize(
    "op,inp,out",
    [
        ("sum", "bool", "int64"),
        ("sum", "int8", "int64"),
        ("sum", "uint16", "uint64"),
        ("sum", "float32", "float32"),
        ("prod", "int32", "int64"),
        ("prod", "uint64", "uint64"),
        ("mean", "int64", "float64"),
        ("mean", "float32", "float32"),
        ("min", "int16", "int16"),
        ("max", "bool", "bool"),
        ("ptp", "uint8", "uint8"),
        ("count", "float64", "int64"),
        ("count", "string", "int64"),
        ("any", "int64", "bool"),
        ("all", "float32", "bool"),
    ],
)
def test_result_dtypes(op, inp, out):
    data = [["a", "b"], ["c"]] if inp == "string" else [[1, 0], [1]]
    x = gr.array(data, dtype=gr.dtype(inp))
    assert getattr(x, op)(dim=-1).dtype == gr.dtype(out)
    assert getattr(x, op)(dim=0).dtype == gr.dtype(out)


def test_scalar_types():
    x = gr.array([[1, 2], [3]])
    assert type(x.sum()) is int
    assert type(x.mean()) is float
    assert type(x.any()) is bool
    assert type(gr.array([1.5, 2.0]).max()) is float
    assert gr.array([2**64 - 1, 0], dtype=gr.uint64).max() == 2**64 - 1


def test_null_rows_before_the_axis_stay_null():
    x = gr.array([[1, 2], None, [3]])
    assert x.sum(dim=1).to_list() == [3, None, 3]
    assert x.sum(dim=0).to_list() == [4, 2]
    assert x.sum() == 6


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("dim", [2, -3, 99])
def test_dim_out_of_range(dim):
    x = gr.array([[1, 2], [3]])
    with pytest.raises(gr.ArgumentError) as e:
        x.sum(dim=dim)
    assert isinstance(e.value, ValueError)
    assert "out of range" in str(e.value) and e.value.fix


@pytest.mark.parametrize("op", [o for o in OPS if o != "count"])
def test_strings_count_only(op):
    x = gr.array([["a"], ["b", None]])
    assert x.count(dim=1).to_list() == [1, 1]
    with pytest.raises(gr.DTypeError) as e:
        getattr(x, op)(dim=1)
    assert isinstance(e.value, TypeError)


def test_ptp_of_bool_is_a_dtype_error():
    with pytest.raises(gr.DTypeError):
        gr.array([True, False]).ptp()


def test_module_function_rejects_bad_input():
    with pytest.raises(gr.ArgumentError):
        gr.mean([[1.0]], dim=5)


def test_dim_argument_is_checked_and_axis_is_numpys_name():
    x = gr.array([[1.0, 2.0], [3.0]])
    assert x.sum(axis=1).to_list() == x.sum(dim=1).to_list() == [3.0, 3.0]
    assert gr.mean(x, axis=-1).to_list() == [1.5, 3.0]
    assert x.max(dim=np.int64(1)).to_list() == [2.0, 3.0]
    for bad in ({"dim": 1.5}, {"dim": "a"}, {"dim": True}, {"dim": 1, "axis": 1}):
        with pytest.raises(gr.ArgumentError) as e:
            x.sum(**bad)
        assert e.value.fix
        with pytest.raises(gr.ArgumentError):
            gr.prod(x, **bad)
