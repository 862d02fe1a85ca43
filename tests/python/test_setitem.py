"""Assignment `x[key] = value` (API.md "Indexing"): NumPy parity on rectangular arrays,
NumPy 2 overflow rules, in-place writes on unshared buffers, and the rest of the key forms
(NumPy integers, 0-d arrays, Ellipsis, negative steps, unions, ragged values, `del`)."""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

N, M = 4, 5


def component(n, allow_list=True):
    small = st.integers(-n, n - 1)
    opts = [
        small,
        st.builds(
            slice,
            st.one_of(st.none(), st.integers(-6, 6)),
            st.one_of(st.none(), st.integers(-6, 6)),
            st.one_of(st.none(), st.sampled_from([1, 2, -1, -2])),
        ),
    ]
    if allow_list:
        opts.append(st.lists(small, min_size=1, max_size=3))
        opts.append(st.lists(st.booleans(), min_size=n, max_size=n))
    return st.one_of(*opts)


@st.composite
def rect_key(draw):
    first = draw(component(N))
    if draw(st.booleans()):
        return first
    return (first, draw(component(M, allow_list=False)))


@settings(max_examples=300, deadline=None)
@given(rect_key(), st.sampled_from(["scalar", "shaped"]), st.sampled_from(["float64", "int32"]))
def test_setitem_matches_numpy_on_rectangles(key, kind, dt):
    """Scalars and values shaped like x[key] write exactly where NumPy writes."""
    a = np.arange(N * M).reshape(N, M).astype(dt)
    x = gr.array(a.copy())
    target = a[key]
    value = 99 if kind == "scalar" else (np.arange(np.size(target)) + 100).reshape(np.shape(target))
    if kind == "shaped" and np.ndim(target) == 0:
        value = 7
    a[key] = value
    x[key] = value if np.ndim(value) == 0 else gr.array(value)
    np.testing.assert_array_equal(x.to_numpy(), a)
    assert str(x.dtype) == dt


def test_fast_path_writes_in_place_on_unshared_buffers():
    x = gr.from_offsets(np.arange(12.0), np.array([0, 5, 12]))
    x[:] = 1.0  # the NumPy buffer is never written: replaced without copying the old values
    v = x.values
    p = v.__array_interface__["data"][0]
    del v
    x[:, 0] = 7.0
    x[1:] = 2.0
    x[x > 1.5] = 3.0
    x[[0, 1], -1] = 5.0
    v = x.values
    assert v.__array_interface__["data"][0] == p  # no copy: written in place
    assert x.to_list() == [[3.0, 1.0, 1.0, 1.0, 5.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 5.0]]
    keep = x[0:1]  # a view shares the buffer: the next write copies, the view keeps its values
    x[:] = 0.0
    assert keep.to_list() == [[3.0, 1.0, 1.0, 1.0, 5.0]]
    assert x.to_list() == [[0.0] * 5, [0.0] * 7]


def test_fast_path_on_sliced_views_and_nulls():
    base = gr.array([[1, 2], [3, 4, 5], [6]])
    y = base[1:]
    y[:, 0] = 0
    assert y.to_list() == [[0, 4, 5], [0]]
    assert base.to_list() == [[1, 2], [3, 4, 5], [6]]
    y[:] = gr.array([[7, 8, 9], [10]])
    assert y.to_list() == [[7, 8, 9], [10]]
    y[:] = [[1], [2]]  # length-1 rows broadcast along ragged rows
    assert y.to_list() == [[1, 1, 1], [2]]
    z = gr.array([[1.0, None], [None]])
    z[:, 0] = 5.0  # leaf nulls are overwritten (and become valid)
    assert z.to_list() == [[5.0, None], [5.0]]
    z[:] = None
    assert z.to_list() == [[None, None], [None]]
    z[:] = gr.array([[1.0, None], [2.0]])
    assert z.to_list() == [[1.0, None], [2.0]]
    w = gr.array([[1.0, None, 3.0], [4.0]])
    w[w > 2] = 0.0  # the mask has a null flag (None > 2): it selects nothing
    assert w.to_list() == [[1.0, None, 0.0], [0.0]]
    w[w == None] = 7.0
    w[w < 0.5] = None
    assert w.to_list() == [[1.0, 7.0, None], [None]]
    flat = gr.array(np.arange(6.0))
    flat[np.arange(6) % 2 == 0] = -1.0
    flat[gr.array([True, None, False, False, False, True])] = 9.0
    assert flat.to_list() == [9.0, 1.0, -1.0, 3.0, -1.0, 9.0]


def test_assignment_overflow_follows_numpy():
    x = gr.array([[1, 2], [3]], dtype="int8")
    a = np.array([1, 2, 3], dtype="int8")
    for bad in (300, -129, 2**70, np.int64(300), 1e10, float("inf")):
        with pytest.raises(ValueError, match="out of bounds"):
            x[0, 0] = bad
        with pytest.raises((OverflowError, ValueError)):
            a[0] = bad
    with pytest.raises(gr.ArgumentError, match="NaN"):
        x[0, 0] = float("nan")
    with pytest.raises(gr.ArgumentError, match="out of bounds"):
        x[0] = [300, 1]
    with pytest.raises(gr.ArgumentError):
        x[:] = [[1, 2], [1000]]
    assert x.to_list() == [[1, 2], [3]]
    x[0, 0] = 3.7  # floats truncate, like NumPy
    x[0, 1] = np.float32(-2.9)
    assert x.to_list() == [[3, -2], [3]]
    x[0] = np.array([300, 1])  # arrays cast unsafely (wrap), like NumPy
    a[:2] = np.array([300, 1])
    assert x[0].to_list() == a[:2].tolist() == [44, 1]
    u = gr.array([1, 2], dtype="uint8")
    with pytest.raises(gr.ArgumentError):
        u[0] = -1
    f = gr.array([1.0, 2.0])
    f[0] = 2**70
    assert f.to_list() == [2.0**70, 2.0]
    b = gr.array([True, False])
    b[1] = 5
    assert b.to_list() == [True, True]


def test_key_forms():
    x = gr.array([[1, 2, 3], [4, 5], [6]])
    assert x[np.int64(1)].to_list() == [4, 5]
    assert x[np.array(1)].to_list() == [4, 5]
    assert x[np.uint8(0), np.int16(-1)] == 3
    assert x[np.array(2), np.array(0)] == 6
    x[np.array(1), np.int32(0)] = 40
    assert x[..., -1].to_list() == [3, 5, 6]
    assert x[::-1, ::-1].to_list() == [[6], [5, 40], [3, 2, 1]]
    x[::-1] = [[9], [8, 7], [6, 5, 4]]
    assert x.to_list() == [[6, 5, 4], [8, 7], [9]]
    x[:, ::-2] = 0
    assert x.to_list() == [[0, 5, 0], [8, 0], [0]]
    x[..., 0] = gr.array([1, 2, 3])
    assert x.to_list() == [[1, 5, 0], [2, 0], [3]]
    x[1:, :] = [[7, 7], [7]]
    assert x.to_list() == [[1, 5, 0], [7, 7], [7]]
    with pytest.raises(gr.Unsupported, match="delete"):
        del x[0]
    with pytest.raises(gr.Unsupported):
        x[np.array([[0, 1]])]


def test_unions_get_and_set():
    u = gr.array([1.0, [2.0, 3.0], 4.0, [5.0]])
    assert u[1, -1] == 3.0
    assert u[[1, 3], 0].to_list() == [2.0, 5.0]
    u[1, 0] = 20.0
    u[3] = 50.0
    u[0] = 10.0
    assert u.to_list() == [10.0, [20.0, 3.0], 4.0, [50.0]]
    u[1] = [7.0, 8.0]
    assert u.to_list() == [10.0, [7.0, 8.0], 4.0, [50.0]]
    with pytest.raises(IndexError, match="row 0 is a scalar"):
        u[0, 0] = 1.0
    with pytest.raises(IndexError, match="row 2 is a scalar"):
        u[1:, 0]
    with pytest.raises(gr.ArgumentError, match="union"):
        u[u > 5.0]  # a mask mixing scalar and list rows is not a jagged index
    u[:] = 0.0
    assert u.to_list() == [0.0, [0.0, 0.0], 0.0, [0.0]]
