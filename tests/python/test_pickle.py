"""GrumpyArray pickling carries the buffers (not Python lists): exact dtypes and layouts, views
pickle only what they cover, and a corrupt state is an ArgumentError, never a crash."""

from __future__ import annotations

import copy
import pickle

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ARRAYS = {
    "floats": lambda: gr.array([[1.5, 2.0], [], [3.0]]),
    "int8": lambda: gr.array([[1, -2], [3]], dtype=gr.int8),
    "uint64": lambda: gr.array([[2**64 - 1], [0, 7]], dtype=gr.uint64),
    "float32 xyz": lambda: gr.from_offsets(
        np.arange(12, dtype=np.float32).reshape(4, 3), np.array([0, 1, 4])
    ),
    "bools with nulls": lambda: gr.array([[True, None], None, [False]]),
    "strings": lambda: gr.array([["a", None], ["bc", "déjà"], []]),
    "union": lambda: gr.array([1.0, [2.0, 3.0], None, []]),
    "deep": lambda: gr.array([[[[1, 2]], [[3]]], [], [[[], [4]]]]),
    "flat": lambda: gr.array([1, 2, 3], dtype=gr.int16),
    "empty": lambda: gr.array([], dtype=gr.float64),
    "slice": lambda: gr.array([[1, 2], [3], [4, 5, 6]])[1:],
    "step slice": lambda: gr.array([[1, 2], [3], [4, 5, 6], [7]])[::2],
}


def same(a, b):
    assert type(b) is gr.GrumpyArray
    assert b.to_list() == a.to_list()
    assert b.dtype == a.dtype
    assert b.layout == a.layout
    assert len(b) == len(a)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_round_trip_every_protocol(name):
    x = ARRAYS[name]()
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        same(x, pickle.loads(pickle.dumps(x, protocol=proto)))
    same(x, copy.deepcopy(x))


def test_state_is_the_buffers_not_python_objects():
    coords = np.random.default_rng(0).normal(size=(200_000, 3))
    x = gr.from_offsets(coords, np.arange(0, 200_001, 100))
    blob = pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL)
    # the leaf values plus both offsets levels, a little framing: not a list of floats
    assert len(blob) < 1.05 * x.nbytes + 4096
    back = pickle.loads(blob)
    assert np.array_equal(back.values, coords.ravel()) or np.array_equal(back.values, coords)
    assert back.dtype == gr.float64


def test_a_view_pickles_only_what_it_covers():
    x = gr.array([[float(i)] * 50 for i in range(100)])
    row = x[3:4]
    assert len(pickle.dumps(row)) * 20 < len(pickle.dumps(x))
    same(row, pickle.loads(pickle.dumps(row)))


def test_corrupt_states_are_argument_errors():
    x = ARRAYS["union"]()
    state = x.__reduce__()[1][0]
    for cut in range(len(state)):
        with pytest.raises(gr.ArgumentError, match="corrupt"):
            gr.GrumpyArray._from_state(state[:cut])
    with pytest.raises(gr.ArgumentError, match="corrupt"):
        gr.GrumpyArray._from_state(state + b"\0")
    with pytest.raises(gr.ArgumentError, match="marker"):
        gr.GrumpyArray._from_state(gr.dataframe({"a": gr.array([1])}).__reduce__()[1][0])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 199), st.integers(0, 255))
def test_flipped_states_never_crash(junk, at, byte):
    state = bytearray(ARRAYS["strings"]().__reduce__()[1][0])
    state[at % len(state)] = byte
    for s in (bytes(state), b"GRUMPYA1" + junk):
        try:
            y = gr.GrumpyArray._from_state(s)
        except gr.ArgumentError:
            continue
        y.to_list()  # whatever decoded is a valid array
