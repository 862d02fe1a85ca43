"""NumPy interop of the elementwise operators (API.md "Elementwise", "Dtypes").

NumPy operands on either side of an operator, NumPy ufuncs on grumpy arrays (through
``__array_ufunc__``), NumPy 2 / NEP 50 promotion of NumPy scalars (strong) versus Python
scalars (weak), Python-int overflow, comparisons with ``None`` and unsupported objects, and
``gr.clip`` / ``gr.round``. The reference is NumPy itself, applied to the flat values of the
ragged arrays (a scalar operand maps every leaf, so the values must match elementwise and the
offsets must be unchanged).
"""

from __future__ import annotations

import math
import operator

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DTYPES = [
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
OFFSETS = np.array([0, 3, 3, 5, 6])  # rows of length 3, 0, 2, 1

BINARY = {
    "add": (operator.add, np.add),
    "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply),
    "truediv": (operator.truediv, np.true_divide),
    "floordiv": (operator.floordiv, np.floor_divide),
    "mod": (operator.mod, np.remainder),
    "pow": (operator.pow, np.power),
    "lt": (operator.lt, np.less),
    "ge": (operator.ge, np.greater_equal),
    "eq": (operator.eq, np.equal),
    "ne": (operator.ne, np.not_equal),
    "and": (operator.and_, np.bitwise_and),
    "or": (operator.or_, np.bitwise_or),
    "xor": (operator.xor, np.bitwise_xor),
    "minimum": (None, np.minimum),
    "maximum": (None, np.maximum),
}


def flat_values(dt, seed=0):
    """Six values valid as divisors and exponents for every dtype (1..3, or True)."""
    if dt == "bool":
        return np.ones(6, dtype=bool)
    return np.array([1, 2, 3, 2, 3, 1][seed:] + [1, 2, 3, 2, 3, 1][:seed]).astype(dt)


def ragged(values):
    return gr.from_offsets(values, OFFSETS)


def numpy_result(fn):
    """(outcome, value): NumPy's result or the exception family it raises."""
    try:
        with np.errstate(all="ignore"):
            return "ok", fn()
    except TypeError:
        return "TypeError", None
    except (OverflowError, ValueError):
        return "ValueError", None


def grumpy_result(fn):
    try:
        return "ok", fn()
    except TypeError:
        return "TypeError", None
    except ValueError:
        return "ValueError", None


def assert_same(got, want, offsets=OFFSETS):
    """A grumpy result equals a NumPy result on the flat values (dtype, values, layout)."""
    assert isinstance(got, gr.GrumpyArray), type(got)
    want = np.asarray(want)
    assert str(got.dtype) == str(want.dtype), (got.dtype, want.dtype)
    np.testing.assert_array_equal(got.offsets(), offsets)
    np.testing.assert_array_equal(got.values, want)


# ---------------------------------------------------------------- NEP 50: strong NumPy scalars


@settings(max_examples=300, deadline=None)
@given(
    dt=st.sampled_from(DTYPES),
    st_dt=st.sampled_from(DTYPES),
    name=st.sampled_from(sorted(BINARY)),
    scalar_left=st.booleans(),
    form=st.sampled_from(["operator", "ufunc"]),
    value=st.integers(1, 3),
)
def test_numpy_scalars_promote_like_numpy(dt, st_dt, name, scalar_left, form, value):
    """`np.float32(2) * x`, `x + np.int64(1)`, `np.add(np.int8(1), x)`... match NumPy 2."""
    op, ufunc = BINARY[name]
    if form == "operator" and op is None:
        form = "ufunc"
    fn = op if form == "operator" else ufunc
    s = np.dtype(st_dt).type(value)
    vals = flat_values(dt)
    x = ragged(vals)
    want = numpy_result(lambda: fn(s, vals) if scalar_left else fn(vals, s))
    got = grumpy_result(lambda: fn(s, x) if scalar_left else fn(x, s))
    assert got[0] == want[0], (dt, st_dt, name, scalar_left, form, got, want)
    if want[0] == "ok":
        assert_same(got[1], want[1])


@settings(max_examples=150, deadline=None)
@given(
    dt=st.sampled_from(DTYPES),
    name=st.sampled_from(sorted(BINARY)),
    scalar=st.sampled_from([2, 2.5, True, -1, 200]),
    scalar_left=st.booleans(),
)
def test_python_scalars_stay_weak(dt, name, scalar, scalar_left):
    """Python scalars are weak in both operand orders, through operators and ufuncs."""
    _, ufunc = BINARY[name]
    vals = flat_values(dt, 2)
    x = ragged(vals)
    want = numpy_result(lambda: ufunc(scalar, vals) if scalar_left else ufunc(vals, scalar))
    got = grumpy_result(lambda: ufunc(scalar, x) if scalar_left else ufunc(x, scalar))
    assert got[0] == want[0], (dt, name, scalar, got, want)
    if want[0] == "ok":
        assert_same(got[1], want[1])


def test_brief_examples():
    f32 = gr.array([[1.0, 2.0], [3.0]], dtype="float32")
    i8 = gr.array([[1, 2], [3]], dtype="int8")
    b = gr.array([[True, False], [True]])
    assert str((f32 * np.float64(2)).dtype) == "float64"
    assert str((np.float64(2) * f32).dtype) == "float64"
    assert str((i8 + np.int64(1)).dtype) == "int64"
    assert str((i8 * np.float32(2)).dtype) == "float32"
    assert str((f32 * 2.0).dtype) == "float32"  # a Python float stays weak
    assert str((i8 + 1).dtype) == "int8"
    r = np.float32(2) * i8
    assert isinstance(r, gr.GrumpyArray) and str(r.dtype) == "float32"
    assert r.to_list() == [[2.0, 4.0], [6.0]]
    r = np.int8(2) * i8
    assert str(r.dtype) == "int8" and r.to_list() == [[2, 4], [6]]
    r = np.bool_(True) & b
    assert isinstance(r, gr.GrumpyArray) and r.to_list() == [[True, False], [True]]
    r = np.array(2.0) + f32  # a 0-d array is strong too
    assert str(r.dtype) == "float64"


# ---------------------------------------------------------------- NumPy arrays and ufuncs


def test_numpy_array_operands_broadcast_with_grumpy_rules():
    x = gr.array([[1, 2, 3], [4, 5]])
    r = np.array([10, 20]) + x
    assert isinstance(r, gr.GrumpyArray)
    assert r.to_list() == [[11, 12, 13], [24, 25]]
    assert (x + np.array([10, 20])).to_list() == [[11, 12, 13], [24, 25]]
    assert (np.array([[1], [2]]) * x).to_list() == [[1, 2, 3], [8, 10]]
    assert (np.array([2.0, 0.5]) < x).to_list() == [[False, False, True], [True, True]]
    r = np.maximum(x, np.array([2, 5]))
    assert r.to_list() == [[2, 2, 3], [5, 5]]
    with pytest.raises(gr.BroadcastError):
        np.array([1, 2, 3]) + x
    # rectangular grumpy arrays stay grumpy arrays (no silent conversion to ndarray)
    sq = gr.array([[1.0, 4.0], [9.0, 16.0]])
    r = np.array([1.0, 2.0]) + sq
    assert isinstance(r, gr.GrumpyArray) and r.to_list() == [[2.0, 5.0], [11.0, 18.0]]
    assert isinstance(np.sqrt(sq), gr.GrumpyArray)


UNARY_UFUNCS = [
    np.sqrt,
    np.exp,
    np.log,
    np.log1p,
    np.sin,
    np.cos,
    np.absolute,
    np.negative,
    np.positive,
    np.sign,
    np.floor,
    np.ceil,
    np.rint,
    np.isnan,
    np.isfinite,
    np.invert,
    np.logical_not,
]


@pytest.mark.parametrize("ufunc", UNARY_UFUNCS, ids=lambda u: u.__name__)
@pytest.mark.parametrize("dt", DTYPES)
def test_unary_ufuncs_match_numpy(ufunc, dt):
    vals = np.array([0.0, 1.5, -2.5, np.nan, np.inf, 4.0]).astype(dt) if "float" in dt else None
    if vals is None:
        vals = np.array([0, 1, 2, 3, 1, 0]).astype(dt)
    x = ragged(vals)
    want = numpy_result(lambda: ufunc(vals))
    got = grumpy_result(lambda: ufunc(x))
    assert got[0] == want[0], (ufunc.__name__, dt, got, want)
    if want[0] != "ok":
        return
    want_v = want[1]
    if want_v.dtype == np.float16:  # grumpy has no float16: float32 instead
        with np.errstate(all="ignore"):
            want_v = ufunc(vals.astype(np.float32))
    assert str(got[1].dtype) == str(want_v.dtype)
    np.testing.assert_allclose(
        got[1].values.astype(float), want_v.astype(float), rtol=1e-6, equal_nan=True
    )
    np.testing.assert_array_equal(got[1].offsets(), OFFSETS)


def test_logical_ufuncs_use_truthiness():
    x = gr.array([[0.0, 2.0, np.nan], [-1.0]])
    assert np.logical_and(x, True).to_list() == [[False, True, True], [True]]
    assert np.logical_or(x, 0).to_list() == [[False, True, True], [True]]
    assert np.logical_xor(x, x > 1).to_list() == [[False, False, True], [True]]
    assert np.logical_not(x).to_list() == [[True, False, False], [False]]


def test_unsupported_ufuncs_and_keywords_raise_clear_errors():
    x = gr.array([[1.0, 2.0], [3.0]])
    with pytest.raises(gr.Unsupported, match="arctan2") as e:
        np.arctan2(x, x)
    assert e.value.fix
    with pytest.raises(gr.Unsupported, match="reduce"):
        np.add.reduce(x)
    with pytest.raises(gr.Unsupported, match="accumulate"):
        np.add.accumulate(x)
    with pytest.raises(gr.Unsupported, match="out="):
        np.add(x, 1, out=np.empty(3))
    with pytest.raises(gr.Unsupported, match="dtype="):
        np.add(x, 1, dtype=np.float32)
    with pytest.raises(gr.Unsupported, match="out="):
        np.round(x, 1, out=np.empty(3))
    assert np.add(x, 1, out=None).to_list() == [[2.0, 3.0], [4.0]]
    with pytest.raises(TypeError):
        np.add(x, object())


# ---------------------------------------------------------------- overflow (NumPy 2)


@pytest.mark.parametrize("dt", ["bool", "int8", "int64", "uint64"])
def test_python_int_beyond_64_bits_raises_with_integer_arrays(dt):
    x = gr.array([[1, 0], [1]], dtype=dt)
    for big in (2**70, -(2**70), 2**64):
        with pytest.raises(gr.ArgumentError, match="out of bounds"):
            x + big
        with pytest.raises(ValueError):
            big * x
        with pytest.raises(gr.ArgumentError, match="out of bounds"):
            gr.maximum(x, big)


def test_python_int_overflow_examples():
    with pytest.raises(gr.ArgumentError, match="out of bounds"):
        gr.array([1]) + 2**70
    with pytest.raises(gr.ArgumentError, match="1000 out of bounds for int8"):
        gr.array([1], dtype="int8") + 1000
    f = gr.array([[1.0], [2.0, 3.0]])
    assert (f + 2**70).to_list() == [[1.0 + 2**70], [2.0 + 2**70, 3.0 + 2**70]]
    assert (2**70 - f).to_list()[0] == [2.0**70 - 1.0]
    f32 = gr.array([1.0], dtype="float32")
    np.testing.assert_array_equal((f32 * 2**70).values, np.array([1.0], np.float32) * 2**70)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("big", [2**70, -(2**70), 2**64, -(2**63) - 1])
@pytest.mark.parametrize("name", ["lt", "le", "gt", "ge", "eq", "ne"])
def test_comparisons_with_huge_ints_match_numpy(dt, big, name):
    op = getattr(operator, name)
    vals = np.array([0, 1, 1, 0, 1, 0]).astype(dt)
    if dt.startswith("u"):
        vals = np.array([0, 1, 2**32, 3, 1, 0], dtype="uint64").astype(dt)
    x = ragged(vals)
    for left in (False, True):
        want = numpy_result(lambda left=left: op(big, vals) if left else op(vals, big))
        got = grumpy_result(lambda left=left: op(big, x) if left else op(x, big))
        assert got[0] == want[0], (dt, big, name, left)
        if want[0] == "ok":
            assert_same(got[1], want[1])
    if dt != "bool":  # NumPy compares every integer dtype exactly; bool arrays raise
        assert want[0] == "ok"


# ---------------------------------------------------------------- None and unsupported objects


def test_comparison_with_none_is_a_null_test():
    """`x == None` is True where a value is null (never null itself); `!=` its complement;
    null lists stay null lists; ordering against None is an error."""
    x = gr.array([[1.0, None], None, [], [None, 3.0]])
    assert (x == None).to_list() == [[False, True], None, [], [True, False]]
    assert (x != None).to_list() == [[True, False], None, [], [False, True]]
    assert (None == x).to_list() == (x == None).to_list()
    flat = gr.array([1, 2])
    assert (flat == None).to_list() == [False, False]
    u = gr.array([1.0, [None, 2.0], None])
    assert (u == None).to_list() == [False, [True, False], True]
    with pytest.raises(gr.DTypeError, match="None"):
        _ = x < None
    with pytest.raises(gr.DTypeError):
        _ = None >= x


def test_comparison_with_unsupported_objects_raises():
    x = gr.array([1, 2])
    for other in (object(), {"a": 1}, {1, 2}):
        with pytest.raises(gr.DTypeError, match="cannot compare"):
            _ = x == other
        with pytest.raises(gr.DTypeError):
            _ = x != other
        with pytest.raises(TypeError):
            _ = x < other
    with pytest.raises(TypeError):
        x + object()
    with pytest.raises(gr.DTypeError):  # strings with numbers: an error, not False
        _ = x == "a"


# ---------------------------------------------------------------- clip and round


@settings(max_examples=100, deadline=None)
@given(
    vals=st.lists(st.integers(-50, 50), min_size=6, max_size=6),
    lo=st.lists(st.integers(-20, 0), min_size=6, max_size=6),
    hi=st.lists(st.integers(0, 20), min_size=6, max_size=6),
    dt=st.sampled_from(["int8", "int64", "float32", "float64"]),
    kind=st.sampled_from(["flat", "rows"]),
)
def test_clip_with_array_bounds_matches_numpy(vals, lo, hi, dt, kind):
    v = np.array(vals).astype(dt)
    x = ragged(v)
    if kind == "flat":
        lo_a, hi_a = np.array(lo).astype(dt), np.array(hi).astype(dt)
        lo_g, hi_g = ragged(lo_a), ragged(hi_a)
    else:  # one bound per row, broadcast along the ragged rows
        lo_g, hi_g = np.array(lo[:4]).astype(dt), np.array(hi[:4]).astype(dt)
        lens = np.diff(OFFSETS)
        lo_a, hi_a = np.repeat(lo_g, lens), np.repeat(hi_g, lens)
    want = np.clip(v, lo_a, hi_a)
    assert_same(gr.clip(x, lo_g, hi_g), want)
    assert_same(gr.clip(x, a_min=lo_g, a_max=hi_g), want)
    assert_same(gr.clip(x, min=lo_g, max=hi_g), want)
    assert_same(np.clip(x, lo_g, hi_g), want)
    assert_same(gr.clip(x, hi=hi_g), np.minimum(v, hi_a))


def test_clip_keywords_and_numpy_rules():
    x = gr.array([[1, 5, 9], [-3]], dtype="int8")
    assert gr.clip(x, a_min=0, a_max=6).to_list() == [[1, 5, 6], [0]]
    assert gr.clip(x, min=2).to_list() == [[2, 5, 9], [2]]
    assert gr.clip(x, None, 4).to_list() == [[1, 4, 4], [-3]]
    assert str(gr.clip(x, -1000, 5).dtype) == "int8"  # harmless out-of-range bound: skipped
    assert gr.clip(x, -1000, 5).to_list() == [[1, 5, 5], [-3]]
    with pytest.raises(gr.ArgumentError, match="out of bounds"):
        gr.clip(x, 1000, None)
    with pytest.raises(gr.ArgumentError, match="twice"):
        gr.clip(x, 0, a_min=1)
    with pytest.raises(gr.ArgumentError, match="twice"):
        gr.clip(x, hi=1, max=2)
    assert str(gr.clip(x, np.float64(0.5), None).dtype) == "float64"
    assert gr.clip(3.5, 0, 1) == 1.0


@settings(max_examples=200, deadline=None)
@given(
    vals=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 4)), min_size=6, max_size=6
    ),
    decimals=st.integers(-4, 6),
    dt=st.sampled_from(["float32", "float64"]),
)
def test_round_decimals_matches_numpy_exactly(vals, decimals, dt):
    v = np.array(vals, dtype=dt)
    want = np.round(v, decimals)
    for got in (gr.round(ragged(v), decimals), gr.round(ragged(v), decimals=decimals)):
        assert str(got.dtype) == dt
        np.testing.assert_array_equal(got.values, want)
    np.testing.assert_array_equal(np.round(ragged(v), decimals).values, want)
    np.testing.assert_array_equal(round(ragged(v), decimals).values, want)


@pytest.mark.parametrize("dt", ["int8", "int16", "int64", "uint8", "uint32"])
@pytest.mark.parametrize("decimals", [-3, -2, -1, 0, 2])
def test_round_integers_matches_numpy(dt, decimals):
    v = np.array([15, 25, 35, 45, 124, 125]).astype(dt)
    got = gr.round(ragged(v), decimals)
    assert_same(got, np.round(v, decimals))


def test_round_edge_cases():
    assert gr.round(gr.array([[2.5, 3.5], [-0.5]])).to_list() == [[2.0, 4.0], [-0.0]]
    assert gr.round(1.25, 1) == 1.2
    r = gr.round(gr.array([1234.5]), 400).to_list()
    assert math.isnan(r[0])  # NumPy: 10**400 overflows, inf / inf
    with pytest.raises(gr.DTypeError):
        gr.round(gr.array([True]), 1)
    x = gr.array([[1.26, None], None])
    assert gr.round(x, 1).to_list() == [[1.3, None], None]


def test_three_argument_pow_is_refused_not_ignored():
    with pytest.raises(gr.Unsupported, match="modulo"):
        pow(gr.array([2, 3]), 3, 5)
    assert pow(gr.array([2, 3]), 3).to_list() == [8, 27]


def test_true_division_accepts_any_python_int():
    """Integer true division computes in float64, so NumPy takes out-of-range ints there."""
    for dt in ("uint8", "int8", "bool", "uint64"):
        v = np.array([1, 2]).astype(dt)
        for s in (-1, 1000, 2**63, 2**70):
            np.testing.assert_array_equal((gr.array(v) / s).values, v / s)
            np.testing.assert_array_equal((s / gr.array(v)).values, s / v)
    with pytest.raises(gr.ArgumentError):
        gr.array([1], dtype="int8") // 1000
