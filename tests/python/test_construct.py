"""Construction and conversion: gr.array, from_offsets, to_list, to_numpy, values, offsets,
shape, size, layout, dtype, astype, repr — checked against a pure-Python model."""

from __future__ import annotations

import math

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


# ---------------------------------------------------------------- reference model
def ref_depth(x):
    """ndim of a nested list the way grumpy counts it (max depth, leaves = 1)."""
    if isinstance(x, list):
        return 1 + max((ref_depth(v) for v in x), default=0)
    return 0


def ref_leaves(x):
    if isinstance(x, list):
        for v in x:
            yield from ref_leaves(v)
    elif x is not None:
        yield x


def ref_kind(rows):
    """'leaf', 'list' or 'union' from the Python structure."""

    def level_kinds(items):
        kinds = {("list" if isinstance(v, list) else "scalar") for v in items if v is not None}
        return kinds

    def walk(items):
        kinds = level_kinds(items)
        if kinds == {"list", "scalar"}:
            return "union"
        children = [c for v in items if isinstance(v, list) for c in v]
        if "list" in kinds:
            return "union" if walk(children) == "union" else "list"
        return "leaf"

    return walk(rows)


def leaf_strategy(kind):
    if kind == "float":
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if kind == "int":
        return st.integers(-(2**40), 2**40)
    if kind == "bool":
        return st.booleans()
    return st.text(max_size=5)


@st.composite
def ragged(draw, max_depth=4, nulls=True, unions=True):
    kind = draw(st.sampled_from(["float", "int", "bool", "str"]))
    depth = draw(st.integers(1, max_depth))
    leaf = leaf_strategy(kind)
    if nulls:
        leaf = st.one_of(leaf, st.none()) if draw(st.booleans()) else leaf

    def level(d):
        if d == 1:
            return leaf
        inner = st.lists(level(d - 1), max_size=4)
        if nulls and draw(st.booleans()):
            inner = st.one_of(inner, st.none())
        return inner

    rows = draw(st.lists(level(depth), min_size=1, max_size=6))
    if unions and depth == 2 and draw(st.booleans()):
        rows.append(draw(leaf))  # a scalar row among list rows → union
    if not any(True for _ in ref_leaves(rows)):
        rows = [draw(leaf_strategy(kind))]
    return rows, kind


def same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


# ---------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(ragged())
def test_round_trip_matches_python(data):
    rows, kind = data
    x = gr.array(rows)
    assert same(x.to_list(), rows)
    assert len(x) == len(rows)
    assert x.layout == ref_kind(rows)
    want = {"float": "float64", "int": "int64", "bool": "bool", "str": "string"}[kind]
    assert x.dtype == want
    assert str(x.dtype) == want


@settings(max_examples=80, deadline=None)
@given(ragged(unions=False))
def test_size_and_ndim(data):
    rows, _ = data
    x = gr.array(rows)
    total = sum(1 for _ in _all_slots(rows, 1, ref_depth(rows)))
    assert x.size == total
    assert x.ndim == max(1, ref_depth(rows))


def _all_slots(x, depth, leaf_depth):
    """Leaf slots: values, plus None where a leaf is expected (a None above is a null list)."""
    for v in x:
        if isinstance(v, list):
            yield from _all_slots(v, depth + 1, leaf_depth)
        elif v is not None or depth == max(leaf_depth, 1):
            yield v


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, width=64), max_size=5), min_size=1, max_size=8))
def test_values_and_offsets_are_flat_buffers(rows):
    x = gr.array(rows, dtype=gr.float64)
    flat = [v for r in rows for v in r]
    assert x.values.tolist() == flat
    offs = np.cumsum([0] + [len(r) for r in rows]).tolist()
    assert x.offsets(0).tolist() == offs
    assert x.shape(0) == len(rows)
    assert x.shape(1).to_list() == [len(r) for r in rows]


# ---------------------------------------------------------------- explicit cases
def test_seed_construction():
    x = gr.array([[1, 2], [3]], dtype=gr.float64)
    assert x.to_list() == [[1.0, 2.0], [3.0]]
    assert x.dtype == gr.float64


def test_inference_widens_bool_int_float():
    assert gr.array([True, 1]).dtype == gr.int64
    assert gr.array([1, 2.5]).dtype == gr.float64
    assert gr.array([True, False]).dtype == gr.bool_
    assert gr.array([[1], [2.0]]).dtype == gr.float64


def test_mixing_strings_and_numbers_is_a_dtype_error():
    with pytest.raises(gr.DTypeError) as e:
        gr.array(["a", 1])
    assert e.value.code == "DTypeError"
    assert e.value.fix


def test_all_null_needs_dtype():
    with pytest.raises(gr.DTypeError, match="dtype="):
        gr.array([None, None])
    x = gr.array([None, None], dtype=gr.int32)
    assert x.to_list() == [None, None]
    assert x.dtype == gr.int32


def test_empty_lists_default_to_float64():
    x = gr.array([[], []])
    assert x.to_list() == [[], []]
    assert x.dtype == gr.float64
    assert x.layout == "list"


def test_null_lists_and_null_leaves():
    x = gr.array([[1, None], None, []])
    assert x.to_list() == [[1, None], None, []]
    assert x.layout == "list"


def test_union_layout():
    u = gr.array([1.0, [2.0, 3.0], 4.0], dtype=gr.float64)
    assert u.layout == "union"
    assert u.to_list() == [1.0, [2.0, 3.0], 4.0]
    assert u.ndim == 2


def test_tuples_are_lists():
    assert gr.array([(1, 2), (3,)]).to_list() == [[1, 2], [3]]


def test_numpy_zero_copy_contiguous():
    a = np.arange(12.0).reshape(4, 3)
    x = gr.array(a)
    assert x.layout == "list"
    assert x.to_list() == a.tolist()
    assert np.shares_memory(x.values, a)
    assert x.offsets(0).tolist() == [0, 3, 6, 9, 12]
    np.testing.assert_array_equal(x.to_numpy(), a)


def test_numpy_non_contiguous_is_copied_correctly():
    a = np.arange(20, dtype=np.int32).reshape(4, 5)[:, ::2]
    x = gr.array(a)
    assert x.to_list() == a.tolist()
    assert x.dtype == gr.int32


@pytest.mark.parametrize(
    "dt",
    [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
    ],
)
def test_every_numpy_dtype(dt):
    a = (np.arange(6) % 2 == 0) if dt == "bool" else np.arange(6).astype(dt)
    x = gr.array(a)
    assert x.dtype == dt
    assert x.to_list() == a.tolist()
    assert x.values.dtype == np.dtype(dt)


def test_to_numpy_ragged_names_the_fix():
    with pytest.raises(gr.ShapeError, match="to_padded"):
        gr.array([[1, 2], [3]]).to_numpy()


def test_from_offsets_builds_proteins_residues_xyz():
    n = 5
    flat = np.arange(n * 3, dtype=np.float64)
    prot = np.array([0, 2, 5])
    x = gr.from_offsets(flat, prot, np.arange(0, n * 3 + 1, 3))
    assert x.to_list() == [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11], [12, 13, 14]]]
    assert np.shares_memory(x.values, flat)
    y = gr.from_offsets(flat.reshape(n, 3), prot)
    assert y.to_list() == x.to_list()


def test_from_offsets_validates():
    with pytest.raises(gr.ShapeError):
        gr.from_offsets(np.arange(3.0), np.array([0, 2, 1]))
    with pytest.raises(gr.ShapeError):
        gr.from_offsets(np.arange(3.0), np.array([0, 5]))


def test_astype_keeps_layout_and_nulls():
    x = gr.array([[1.7, None], [3.2]])
    y = x.astype(gr.int32)
    assert y.to_list() == [[1, None], [3]]
    assert y.dtype == gr.int32
    assert y.offsets(0).tolist() == x.offsets(0).tolist()
    assert x.astype("string").to_list() == [["1.7", None], ["3.2"]]


def test_dtype_objects():
    assert gr.dtype("float64") == gr.float64
    assert gr.dtype("f4") == gr.float32
    assert repr(gr.bool_) == "gr.bool_"
    assert str(gr.int8) == "int8"
    with pytest.raises(gr.DTypeError):
        gr.dtype("complex64")


def test_repr_truncates():
    x = gr.array([[float(i)] * 50 for i in range(100)])
    r = repr(x)
    assert r.startswith("gr.array(")
    assert "..." in r
    assert len(r.splitlines()) < 12
    assert repr(gr.array([1, 2, 3])) == "gr.array([1, 2, 3], dtype=int64)"


def test_shape_of_deeper_dims():
    x = gr.array([[[1, 2], [3]], [[4, 5, 6]]])
    assert x.shape(0) == 2
    assert x.shape(1).to_list() == [2, 1]
    assert x.shape(2).to_list() == [[2, 1], [3]]
    assert x.shape(-1).to_list() == [[2, 1], [3]]
    with pytest.raises(gr.ArgumentError):
        x.shape(3)


def test_iteration_yields_rows():
    x = gr.array([[1, 2], [3]])
    rows = [r.to_list() for r in x]
    assert rows == [[1, 2], [3]]
    assert list(gr.array([1, 2])) == [1, 2]


def test_errors_carry_code_cause_fix():
    try:
        gr.array([None])
    except gr.GrumpyError as e:
        msg = str(e)
        assert msg.startswith("grumpy.DTypeError:")
        assert "\ncause: " in msg and "\nfix: " in msg
        assert isinstance(e, TypeError)
    else:
        raise AssertionError("expected an error")


def test_bad_leaf_type():
    with pytest.raises(gr.DTypeError):
        gr.array([object()])


def test_numpy_scalars_inside_lists():
    x = gr.array([[np.float32(1.5), np.int64(2)]])
    assert x.to_list() == [[1.5, 2.0]]
