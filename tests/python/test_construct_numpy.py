"""NumPy in and out: masked arrays, byte order, strides, unsupported dtypes, empty shapes, and
gr.from_offsets argument checking — NumPy itself is the reference."""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


# ---------------------------------------------------------------- masked arrays
def test_masked_array_keeps_its_mask():
    m = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])
    x = gr.array(m)
    assert x.to_list() == [1, None, 3]
    assert x.dtype == gr.int64
    back = x.to_numpy()
    assert isinstance(back, np.ma.MaskedArray)
    assert back.mask.tolist() == [False, True, False]
    assert back.compressed().tolist() == [1, 3]


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float64, np.float32, np.int32, np.uint8, np.bool_]),
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    ),
    st.data(),
)
def test_masked_arrays_match_numpy_tolist(a, data):
    mask = data.draw(hnp.arrays(np.bool_, a.shape))
    m = np.ma.masked_array(a, mask=mask)
    # compare as text so that nan == nan
    assert repr(gr.array(m).to_list()) == repr(m.tolist())


def test_masked_arrays_nested_in_lists_and_masked_constant():
    m = np.ma.masked_array([1.0, 2.0], mask=[1, 0])
    assert gr.array([m, [3.0]]).to_list() == [[None, 2.0], [3.0]]
    assert gr.array([1.0, np.ma.masked]).to_list() == [1.0, None]


def test_masked_strings():
    m = np.ma.masked_array(["a", "b"], mask=[0, 1])
    assert gr.array(m).to_list() == ["a", None]


# ---------------------------------------------------------------- byte order, strides
@pytest.mark.parametrize("dt", [">i4", ">f8", "<u2", ">u8", ">f4"])
def test_any_byte_order(dt):
    a = np.arange(6).astype(dt).reshape(2, 3)
    x = gr.array(a)
    assert x.to_list() == a.tolist()
    assert x.dtype == np.dtype(dt).newbyteorder("=").name


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5)),
    st.data(),
)
def test_non_contiguous_views(a, data):
    steps = tuple(
        data.draw(st.sampled_from([slice(None), slice(None, None, 2), slice(None, None, -1)]))
        for _ in a.shape
    )
    v = a[steps]
    x = gr.array(v)
    assert x.to_list() == v.tolist() or np.isnan(a).any()
    np.testing.assert_array_equal(x.to_numpy(), v)


def test_transposed_and_fortran_order():
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    assert gr.array(a).to_list() == a.tolist()
    assert gr.array(a.T).to_list() == a.T.tolist()


def test_contiguous_input_is_zero_copy():
    a = np.arange(12.0).reshape(4, 3)
    x = gr.array(a)
    assert np.shares_memory(x.values, a)


# ---------------------------------------------------------------- dtypes NumPy has and grumpy has not
@pytest.mark.parametrize(
    ("a", "words"),
    [
        (np.zeros(3, dtype=[("x", "f8"), ("y", "i4")]), "dataframe"),
        (np.zeros(3, dtype=np.complex128), "imag"),
        (np.zeros(3, dtype="datetime64[s]"), "int64"),
        (np.zeros(3, dtype="timedelta64[s]"), "int64"),
        (np.zeros(3, dtype=np.float16), "float32"),
        (np.array([b"ab", b"c"]), "astype"),
    ],
)
def test_unsupported_numpy_dtypes_are_dtype_errors_with_a_fix(a, words):
    with pytest.raises(gr.DTypeError) as e:
        gr.array(a)
    assert words in e.value.fix


def test_object_arrays_convert_their_items():
    a = np.array([[1, 2], [3]], dtype=object)
    assert gr.array(a).to_list() == [[1, 2], [3]]
    with pytest.raises(gr.DTypeError):
        gr.array(np.array([object()], dtype=object))


def test_numpy_scalars_inside_lists():
    x = gr.array([[np.float32(1.5), np.int64(2)], [np.bool_(True), np.uint64(2**64 - 1)]])
    assert x.dtype == gr.float64
    y = gr.array([np.int16(3), np.uint8(4), np.bool_(False)])
    assert y.to_list() == [3, 4, 0]
    assert y.dtype == gr.int64
    assert gr.array([np.str_("a"), "b"]).to_list() == ["a", "b"]
    assert gr.array([np.array(1.5)]).to_list() == [1.5]


def test_array_likes_go_through_numpy():
    class Like:
        def __array__(self, dtype=None, copy=None):
            return np.arange(4).reshape(2, 2)

    assert gr.array(Like()).to_list() == [[0, 1], [2, 3]]
    assert gr.array([Like()]).to_list() == [[[0, 1], [2, 3]]]


# ---------------------------------------------------------------- out: to_numpy shapes
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0), (0, 2, 3), (2, 0, 3), (3, 2, 0)])
def test_empty_shapes_round_trip(shape):
    a = np.zeros(shape, dtype=np.float32)
    x = gr.array(a)
    out = x.to_numpy()
    assert out.shape == shape
    assert out.dtype == np.float32
    assert np.asarray(x).shape == shape


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        st.sampled_from([np.float64, np.int8, np.uint32, np.bool_]),
        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4),
    )
)
def test_to_numpy_round_trips_any_rectangle(a):
    out = gr.array(a).to_numpy()
    assert out.shape == a.shape
    assert out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)


def test_to_numpy_of_nulls_is_masked():
    out = gr.array([[1.0, None], [3.0, 4.0]]).to_numpy()
    assert isinstance(out, np.ma.MaskedArray)
    assert out.mask.tolist() == [[False, True], [False, False]]
    assert out.shape == (2, 2)


# ---------------------------------------------------------------- from_offsets
def test_from_offsets_validity_applies_to_nd_values():
    vals = np.arange(6.0).reshape(3, 2)
    valid = np.array([[True, False], [True, True], [False, True]])
    x = gr.from_offsets(vals, np.array([0, 1, 3]), validity=valid)
    assert x.to_list() == [[[0.0, None]], [[2.0, 3.0], [None, 5.0]]]
    flat = gr.from_offsets(vals, np.array([0, 1, 3]), validity=valid.ravel())
    assert flat.to_list() == x.to_list()
    y = gr.from_offsets(np.arange(3.0), np.array([0, 3]), validity=[1, 0, 1])
    assert y.to_list() == [[0.0, None, 2.0]]


def test_from_offsets_combines_validity_with_a_mask():
    m = np.ma.masked_array([1.0, 2.0, 3.0], mask=[1, 0, 0])
    x = gr.from_offsets(m, np.array([0, 2, 3]), validity=[True, True, False])
    assert x.to_list() == [[None, 2.0], [None]]


@pytest.mark.parametrize(
    ("offsets", "error", "words"),
    [
        (np.array([0.0, 1.5, 3.0]), gr.DTypeError, "integers"),
        (np.array([0, 2.0, 3]), gr.DTypeError, "integers"),
        (np.array([True, False]), gr.DTypeError, "integers"),
        (np.array([[0, 1], [2, 3]]), gr.ShapeError, "1-d"),
        (np.array([0, 2, 1, 3]), gr.ShapeError, "decrease"),
        (np.array([0, 4]), gr.ShapeError, "past"),
        (np.array([-1, 2]), gr.ShapeError, "first offset"),
        (np.array([], dtype=np.int64), gr.ShapeError, "empty"),
        (np.array([0, 2**63], dtype=np.uint64), gr.ArgumentError, "int64"),
    ],
)
def test_from_offsets_checks_offsets(offsets, error, words):
    with pytest.raises(error, match=words):
        gr.from_offsets(np.arange(3.0), offsets)


def test_from_offsets_accepts_any_integer_dtype_and_lists():
    for o in (np.array([0, 1, 3], dtype=np.int32), np.array([0, 1, 3], dtype=np.uint16), [0, 1, 3]):
        assert gr.from_offsets(np.arange(3.0), o).to_list() == [[0.0], [1.0, 2.0]]
    # offsets may start above 0 (a view into the values, like a sliced Arrow array)
    assert gr.from_offsets(np.arange(4.0), np.array([1, 3])).to_list() == [[1.0, 2.0]]


def test_from_offsets_checks_validity():
    with pytest.raises(gr.ShapeError, match="flags"):
        gr.from_offsets(np.arange(3.0), np.array([0, 3]), validity=[True, False])
    with pytest.raises(gr.DTypeError, match="bool"):
        gr.from_offsets(np.arange(3.0), np.array([0, 3]), validity=[0.5, 1.0, 1.0])
    with pytest.raises(gr.DTypeError, match="bool"):
        gr.from_offsets(np.arange(3.0), np.array([0, 3]), validity=[2, 1, 1])
