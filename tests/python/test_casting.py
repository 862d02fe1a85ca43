"""astype(casting=...) against np.can_cast, casting values against NumPy's astype, truth values
against NumPy's bool(), and size/nbytes/shape against Awkward and a Python model."""

from __future__ import annotations

import itertools

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NUMERIC = [
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
]
ALL = NUMERIC + ["string"]
RULES = ["no", "equiv", "safe", "same_kind", "unsafe"]


def np_dtype(name):
    return np.dtype(str) if name == "string" else np.dtype(name)


@pytest.mark.parametrize("rule", RULES)
def test_casting_rules_match_numpy_can_cast(rule):
    for a, b in itertools.product(ALL, ALL):
        x = gr.array([1, 0], dtype=a) if a != "string" else gr.array(["1", "0"])
        allowed = np.can_cast(np_dtype(a), np_dtype(b), rule)
        if allowed:
            y = x.astype(b, casting=rule)
            assert y.dtype == b
        else:
            with pytest.raises(gr.DTypeError, match=rule):
                x.astype(b, casting=rule)


def test_same_kind_refuses_float_to_int():
    with pytest.raises(gr.DTypeError):
        gr.array([1.5]).astype(gr.int64, casting="same_kind")
    assert gr.array([1.5]).astype(gr.float32, casting="same_kind").to_list() == [1.5]


def test_unknown_casting_is_an_argument_error():
    with pytest.raises(gr.ArgumentError, match="casting"):
        gr.array([1]).astype(gr.int8, casting="lossy")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-(2**31), 2**31), min_size=1, max_size=8),
    st.sampled_from(NUMERIC),
)
def test_unsafe_integer_casts_match_numpy(values, dtype):
    a = np.array(values, dtype=np.int64)
    want = a.astype(dtype)
    got = gr.array(a).astype(dtype).to_numpy()
    np.testing.assert_array_equal(got, want)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8),
    st.sampled_from(["float32", "int32", "int64", "bool", "uint8"]),
)
def test_float_casts_match_numpy_in_range(values, dtype):
    a = np.array(values)
    if dtype == "uint8":
        a = np.abs(a) % 256
    np.testing.assert_array_equal(gr.array(a).astype(dtype).to_numpy(), a.astype(dtype))


def test_astype_string_prints_like_numpy():
    a = np.array([0.1, 1e-5, 2.0], dtype=np.float32)
    assert gr.array(a).astype("string").to_list() == [str(v) for v in a.astype(str)]
    assert gr.array([1.5, 1e20]).astype("string").to_list() == ["1.5", "1e+20"]


# ---------------------------------------------------------------- truth values
@pytest.mark.parametrize(
    "rows",
    [[1], [0], [[5]], [[0.0]], [[[True]]], [[[False]]], [0.5], ["a"], [""]],
)
def test_one_value_arrays_have_numpys_truth(rows):
    assert bool(gr.array(rows)) is bool(np.array(rows))


@pytest.mark.parametrize("rows", [[1, 2], [[1, 2]], [[1], [2]], [[1, 2], [3]]])
def test_many_value_arrays_are_ambiguous(rows):
    with pytest.raises(ValueError, match="ambiguous") as e:
        bool(gr.array(rows))
    assert isinstance(e.value, gr.ArgumentError)
    assert "any()" in e.value.fix


@pytest.mark.parametrize("rows", [[], [[]], [[[]]]])
def test_empty_arrays_are_ambiguous_like_numpy(rows):
    x = gr.array(rows, dtype=gr.float64)
    with pytest.raises(ValueError, match="empty"):
        bool(x)
    with pytest.raises(ValueError):
        bool(np.array(rows))


def test_a_null_is_false():
    assert bool(gr.array([None], dtype=gr.int64)) is False
    assert bool(gr.array([[None]], dtype=gr.int64)) is False


# ---------------------------------------------------------------- size, nbytes, shape
def test_nbytes_matches_awkward_for_list_chains():
    ak = pytest.importorskip("awkward")
    for rows in ([[1.0, 2.0], [3.0]], [[[1, 2], []], [[3]]], [["ab", "c"], ["def"]], [1, 2, 3]):
        x = gr.array(rows)
        assert x.nbytes == ak.Array(rows).nbytes, rows


def test_nbytes_counts_nulls_and_unions():
    x = gr.array([[1.0, None], [3.0]])
    # offsets 3 * 8, values 3 * 8, validity 1 byte
    assert x.nbytes == 3 * 8 + 3 * 8 + 1
    u = gr.array([1.0, [2.0, 3.0], 4.0])
    # tags 3 * 1 + index 3 * 8, scalars 2 * 8, list offsets 2 * 8 + values 2 * 8
    assert u.nbytes == 3 + 24 + 16 + 16 + 16
    s = x[1:]
    assert s.nbytes == 2 * 8 + 1 * 8 + 1


def test_size_and_shape_of_unions():
    u = gr.array([1.0, [2.0, 3.0], None, []])
    assert u.size == 1 + 2 + 1 + 0
    assert u.shape(0) == 4
    assert u.shape(1).to_list() == [1, 2, 1, 0]
    nested = gr.array([[1, [2, 3]], [4]])
    assert nested.shape(2).to_list() == [[1, 2], [1]]
    assert nested.size == 4
    # a scalar row counts as a length-1 list at every depth below it
    assert gr.array([1.0, [[2.0]]]).shape(2).to_list() == [[1], [1]]
