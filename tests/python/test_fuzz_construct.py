"""Hypothesis fuzzing of gr.array on arbitrary nested Python objects: every input gives an array
or a grumpy error (gr.GrumpyError subclass), never another exception type or a crash. When an
array is built, its to_list() round trip is checked against a pure-Python model of the input."""

from __future__ import annotations

import math

import grumpy as gr
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Opaque:
    """An arbitrary object (not a number, not a sequence)."""


class Seq:
    """A sequence-like object that is not a list (has __len__ and __getitem__)."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


NP_SCALARS = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(np.int32),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
    st.integers(0, 2**64 - 1).map(np.uint64),
    st.floats(width=32).map(np.float32),
    st.floats().map(np.float64),
    st.booleans().map(np.bool_),
)

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.complex_numbers(max_magnitude=10),
    NP_SCALARS,
    st.just(Opaque()),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2),
)


def _np_array(children):
    return st.lists(st.floats(allow_nan=True), max_size=4).map(np.asarray)


NESTED = st.recursive(
    LEAVES,
    lambda c: st.one_of(
        st.lists(c, max_size=4),
        st.lists(c, max_size=4).map(tuple),
        st.lists(c, max_size=3).map(Seq),
        _np_array(c),
        st.lists(st.integers(-5, 5), max_size=6).map(lambda v: np.asarray(v, dtype=np.int16)),
        st.lists(st.lists(st.floats(-1, 1), min_size=2, max_size=2), max_size=3).map(
            lambda v: np.asarray(v).reshape(-1, 2) if v else np.zeros((0, 2))
        ),
    ),
    max_leaves=12,
)

DTYPES = st.sampled_from([None, "float64", "int64", "int8", "uint8", "bool", "float32", "string"])


def _same(got, want):
    """Model check: numbers compare by value (NaN == NaN), lists elementwise, None exactly."""
    if isinstance(want, (list, tuple, Seq, np.ndarray)):
        want = list(want)
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if want is None:
        return got is None
    if isinstance(want, (float, np.floating)) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    try:
        return got == want or float(got) == float(want)
    except (TypeError, ValueError, OverflowError):
        return False


def _plain(x):
    """Inputs the model understands exactly: nested lists/tuples of bool/int/float/None that
    fit float64 or int64."""
    if isinstance(x, (list, tuple)):
        return all(_plain(v) for v in x)
    if x is None or isinstance(x, bool):
        return True
    if isinstance(x, int):
        return -(2**53) <= x <= 2**53
    return isinstance(x, float)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(obj=NESTED, dtype=DTYPES)
def test_array_of_anything_is_an_array_or_a_grumpy_error(obj, dtype):
    try:
        a = gr.array(obj) if dtype is None else gr.array(obj, dtype=dtype)
    except gr.GrumpyError as e:
        assert e.code and str(e)
        return
    out = a.to_list()
    assert len(a) == len(out) or not isinstance(out, list)
    if dtype is None and _plain(obj) and isinstance(obj, (list, tuple)):
        assert _same(out, obj), (obj, out)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(obj=NESTED)
def test_repr_len_and_roundtrip_never_raise_foreign_errors(obj):
    try:
        a = gr.array(obj)
    except gr.GrumpyError:
        return
    repr(a)
    try:
        b = gr.array(a.to_list(), dtype=a.dtype)
    except gr.GrumpyError:
        return
    assert b.to_list() == a.to_list() or _same(b.to_list(), a.to_list())


def test_deep_nesting_is_an_error_not_a_crash():
    obj = 1.0
    for _ in range(5000):
        obj = [obj]
    try:
        a = gr.array(obj)
    except gr.GrumpyError:
        return
    assert a.ndim == 5001


def test_self_referential_list_is_an_error_not_a_crash():
    x = [1.0]
    x.append(x)
    try:
        gr.array(x)
    except gr.GrumpyError:
        return
    raise AssertionError("a self-referential list cannot be an array")
