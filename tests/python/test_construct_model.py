"""gr.array(obj) against a pure-Python model of construction: the structure (lists, unions at
any level, nulls, empty rows) comes back unchanged from to_list(), leaves normalised to the
inferred dtype, and the dtype (or the error) is the one the model infers."""

from __future__ import annotations

import math

import grumpy as gr
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)


# ---------------------------------------------------------------- the model
def leaves(obj):
    """Every non-None leaf of a nested list."""
    if isinstance(obj, (list, tuple)):
        for v in obj:
            yield from leaves(v)
    elif obj is not None:
        yield obj


def model_dtype(obj):
    """(dtype name, None) or (None, error class) for gr.array(obj) without dtype=."""
    vals = list(leaves(obj))
    strs = [v for v in vals if isinstance(v, str)]
    nums = [v for v in vals if not isinstance(v, str)]
    if strs:
        return (None, gr.DTypeError) if nums else ("string", None)
    if any(isinstance(v, float) for v in nums):
        return "float64", None
    ints = [v for v in nums if not isinstance(v, bool)]
    if ints:
        lo, hi = min(ints), max(ints)
        if INT64[0] <= lo and hi <= INT64[1]:
            return "int64", None
        if UINT64[0] <= lo and hi <= UINT64[1]:
            return "uint64", None
        return None, gr.ArgumentError
    if nums:
        return "bool", None
    return None, None  # nothing typed: not generated here


def normalise(obj, dtype):
    """What to_list() returns: the same nesting, leaves converted to the dtype's Python type."""
    if isinstance(obj, (list, tuple)):
        return [normalise(v, dtype) for v in obj]
    if obj is None:
        return None
    if dtype == "float64":
        return float(obj)
    if dtype in ("int64", "uint64"):
        return int(obj)
    if dtype == "bool":
        return bool(obj)
    return obj


def model_layout(rows):
    """'leaf', 'list' or 'union': a union when any level mixes scalars and lists."""

    def level(items):
        kinds = {isinstance(v, (list, tuple)) for v in items if v is not None}
        children = [c for v in items if isinstance(v, (list, tuple)) for c in v]
        if kinds == {True, False}:
            return "union"
        if True in kinds:
            return "union" if level(children) == "union" else "list"
        return "leaf"

    return level(rows)


def same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------- strategies
def leaf_values(kinds):
    options = {
        "bool": st.booleans(),
        "int": st.integers(-(2**40), 2**40),
        "bigint": st.sampled_from([2**63, 2**64 - 1, -(2**63), 2**64, -(2**63) - 1]),
        "float": st.floats(allow_infinity=True, allow_nan=True, width=64),
        "str": st.text(max_size=4),
    }
    return st.one_of([options[k] for k in kinds])


@st.composite
def nested(draw, kinds, max_depth=4, unions=True):
    """Rows of depth 1..max_depth; with `unions`, any level may mix scalars and lists."""
    leaf = leaf_values(kinds)
    if draw(st.booleans()):
        leaf = st.one_of(leaf, st.none())
    depth = draw(st.integers(1, max_depth))

    def level(d):
        if d == 1:
            return leaf
        row = st.lists(level(d - 1), max_size=4)
        if draw(st.booleans()):
            row = st.one_of(row, st.none())
        if unions and draw(st.integers(0, 3)) == 0:
            row = st.one_of(row, leaf)
        return row

    rows = draw(st.lists(level(depth), min_size=1, max_size=6))
    # at least one typed leaf, so that the dtype is never "all null"
    if not list(leaves(rows)):
        extra = draw(leaf_values(kinds))
        for _ in range(depth - 1):
            extra = [extra]
        rows.append(extra)
    return rows


NUMERIC_MIXES = [["bool"], ["int"], ["float"], ["bool", "int"], ["int", "float"], ["bool", "float"]]


def check_against_model(rows):
    dtype, error = model_dtype(rows)
    if error is not None:
        with pytest.raises(error):
            gr.array(rows)
        return
    x = gr.array(rows)
    assert x.dtype == dtype
    assert same(x.to_list(), normalise(rows, dtype))
    assert len(x) == len(rows)
    assert x.layout == model_layout(rows)


# ---------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NUMERIC_MIXES + [["str"]]).flatmap(lambda k: nested(k)))
def test_round_trip_and_dtype_match_the_model(rows):
    check_against_model(rows)


@settings(max_examples=150, deadline=None)
@given(nested(["int", "bigint", "bool"], max_depth=3))
def test_integer_inference_int64_uint64_or_error(rows):
    check_against_model(rows)


@settings(max_examples=150, deadline=None)
@given(nested(["int", "bigint", "float"], max_depth=2))
def test_floats_absorb_any_integers(rows):
    check_against_model(rows)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(NUMERIC_MIXES).flatmap(lambda k: nested(k, max_depth=3)),
    st.text(max_size=3),
    st.data(),
)
def test_a_string_among_numbers_is_always_a_dtype_error(rows, s, data):
    """Insert one string anywhere (any depth, before or after numbers): always DTypeError."""
    target = rows
    while True:
        lists = [v for v in target if isinstance(v, list)]
        if not lists or data.draw(st.booleans()):
            break
        target = data.draw(st.sampled_from(lists))
    target.insert(data.draw(st.integers(0, len(target))), s)
    with pytest.raises(gr.DTypeError):
        gr.array(rows)


@settings(max_examples=200, deadline=None)
@given(
    nested(["str"], max_depth=3), st.one_of(st.floats(), st.integers(), st.booleans()), st.data()
)
def test_a_number_among_strings_is_always_a_dtype_error(rows, num, data):
    target = rows
    while True:
        lists = [v for v in target if isinstance(v, list)]
        if not lists or data.draw(st.booleans()):
            break
        target = data.draw(st.sampled_from(lists))
    target.insert(data.draw(st.integers(0, len(target))), num)
    with pytest.raises(gr.DTypeError):
        gr.array(rows)


INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**64), 2**64), min_size=1, max_size=6),
    st.sampled_from(INT_DTYPES + ["float32", "float64", "bool"]),
)
def test_explicit_dtype_bounds_match_numpy(values, dtype):
    """NumPy 2 raises OverflowError for a Python int out of bounds of the requested dtype."""
    try:
        want = np.array(values, dtype=dtype)
    except OverflowError:
        with pytest.raises(gr.ArgumentError, match="out of bounds"):
            gr.array(values, dtype=dtype)
        return
    x = gr.array(values, dtype=dtype)
    assert x.dtype == dtype
    np.testing.assert_array_equal(x.to_numpy(), want)
    # the same values nested one level deeper follow the same rule
    y = gr.array([values[:1], values[1:]], dtype=dtype)
    assert y.to_list() == [want[:1].tolist(), want[1:].tolist()]


@settings(max_examples=100, deadline=None)
@given(nested(["int", "float", "bool"], max_depth=3, unions=False))
def test_size_and_ndim_match_the_model(rows):
    _, error = model_dtype(rows)
    assume(error is None)
    x = gr.array(rows)

    def depth(v):
        return 1 + max((depth(c) for c in v), default=0) if isinstance(v, list) else 0

    nd = max(1, depth(rows))
    assert x.ndim == nd

    def slots(v, d):
        # leaf slots: values, plus None where a leaf is expected (a None above is a null list)
        for c in v:
            if isinstance(c, list):
                yield from slots(c, d + 1)
            elif c is not None or d == nd:
                yield c

    assert x.size == sum(1 for _ in slots(rows, 1))
