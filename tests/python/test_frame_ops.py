"""Elementwise ops and reductions on dataframes.

Rule under test (grumpy_core::frame::ops): an op applies to every column whose dtype it is
defined for by NumPy's type rules; other columns are carried unchanged by elementwise ops and
left out of reductions (pandas' numeric_only); string columns never take part (count counts
them). The reference applies the NumPy ufunc to each column's flat values on its own: a
TypeError from NumPy means "carried / left out", anything else gives the expected values and
dtype, re-nested like the column.
"""

from __future__ import annotations

import math
import operator

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCHEMA = ["molecule", "residue", "atom"]


# ---------------------------------------------------------------- reference model


def flatten(x):
    if isinstance(x, list):
        return [v for item in x for v in flatten(item)]
    return [x]


def renest(structure, flat):
    it = iter(flat)

    def go(x):
        return [go(v) for v in x] if isinstance(x, list) else next(it)

    return go(structure)


def np_dtype_name(d):
    name = np.dtype(d).name
    return {"float16": "float32", "str": "string"}.get(name, name)


def same(a, b):
    """Nested equality with nan == nan and exact types for bools."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def reference_elementwise(data, dtypes, fn):
    """{name: (values, dtype) or None (carried)} applying `fn` (NumPy) column by column."""
    out = {}
    for name, rows in data.items():
        if dtypes[name] == "string":
            out[name] = None
            continue
        flat = np.array(flatten(rows), dtype=dtypes[name])
        try:
            with np.errstate(all="ignore"):
                res = fn(flat)
        except TypeError:
            out[name] = None
            continue
        out[name] = (renest(rows, res.tolist()), np_dtype_name(res.dtype))
    return out


def check_elementwise(df, data, dtypes, result, fn):
    ref = reference_elementwise(data, dtypes, fn)
    assert result.columns == df.columns
    assert result.levels == df.levels
    for name, want in ref.items():
        got = result[name]
        if want is None:
            assert got.to_list() == data[name], name
            assert str(got.dtype) == dtypes[name], name
        else:
            values, dtype = want
            assert str(got.dtype) == dtype, (name, got.dtype, dtype)
            assert same(got.to_list(), values), (name, got.to_list(), values)


# ---------------------------------------------------------------- data


@st.composite
def frames(draw):
    n_mol = draw(st.integers(0, 4))
    res = [draw(st.integers(0, 3)) for _ in range(n_mol)]
    atoms = [[draw(st.integers(0, 3)) for _ in range(r)] for r in res]
    fl = st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 3))
    data = {
        "s": [f"m{i}" for i in range(n_mol)],
        "x": [[[draw(fl) for _ in range(a)] for a in mol] for mol in atoms],
        "n": [[draw(st.integers(-20, 20)) for _ in mol] for mol in atoms],
        "b": [[draw(st.booleans()) for _ in mol] for mol in atoms],
    }
    dtypes = {"s": "string", "x": "float64", "n": "int64", "b": "bool"}
    # Explicit dtypes and levels: an empty column infers neither.
    cols = {k: gr.array(v, dtype=dtypes[k]) for k, v in data.items()}
    levels = {"s": "molecule", "x": "atom", "n": "residue", "b": "residue"}
    df = gr.dataframe(cols, schema=SCHEMA, levels=levels)
    return df, data, dtypes


BINARY = {
    "add": (operator.add, np.add),
    "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply),
    "truediv": (operator.truediv, np.divide),
    "floordiv": (operator.floordiv, np.floor_divide),
    "mod": (operator.mod, np.remainder),
    "gt": (operator.gt, np.greater),
    "le": (operator.le, np.less_equal),
    "eq": (operator.eq, np.equal),
    "ne": (operator.ne, np.not_equal),
    "and": (operator.and_, np.bitwise_and),
}
UNARY = {
    "neg": (operator.neg, np.negative),
    "abs": (abs, np.absolute),
    "sqrt": (gr.sqrt, np.sqrt),
    "floor": (gr.floor, np.floor),
    "sign": (gr.sign, np.sign),
    "isnan": (gr.isnan, np.isnan),
    "invert": (operator.invert, np.invert),
}


@settings(max_examples=150, deadline=None)
@given(
    frames(),
    st.sampled_from(sorted(BINARY)),
    st.one_of(st.integers(1, 5), st.floats(0.5, 4.0).map(lambda v: round(v, 2))),
    st.booleans(),
)
def test_property_scalar_ops_match_numpy_per_column(fr, name, scalar, reflected):
    df, data, dtypes = fr
    op, ufunc = BINARY[name]
    if name == "and" and isinstance(scalar, float):
        scalar = 3
    ints = flatten(data["n"]) + flatten(data["b"])
    if reflected and name in ("floordiv", "mod") and isinstance(scalar, int) and 0 in ints:
        # Integer // or % by zero is an error in grumpy (NumPy warns and gives 0).
        with pytest.raises(gr.ArgumentError, match="column"):
            op(scalar, df)
        return
    try:
        got = op(scalar, df) if reflected else op(df, scalar)
    except gr.DTypeError as e:
        # Only when no column takes part.
        ref = reference_elementwise(
            data, dtypes, lambda a: ufunc(scalar, a) if reflected else ufunc(a, scalar)
        )
        assert all(v is None for v in ref.values()) and df.columns, e
        return
    check_elementwise(
        df, data, dtypes, got, lambda a: ufunc(scalar, a) if reflected else ufunc(a, scalar)
    )


@settings(max_examples=100, deadline=None)
@given(frames(), st.sampled_from(sorted(UNARY)), st.booleans())
def test_property_unary_ops_match_numpy_per_column(fr, name, view):
    df, data, dtypes = fr
    op, ufunc = UNARY[name]
    if view:  # the same rule on a view, against the peeled reference
        df = df.residue
        data = {k: [r for mol in v for r in mol] for k, v in data.items() if k != "s"}
        dtypes = {k: v for k, v in dtypes.items() if k != "s"}
    res = op(df)
    check_elementwise(df, data, dtypes, res, ufunc)
    # The NumPy ufunc on the frame gives the same frame.
    np_res = ufunc(df)
    assert isinstance(np_res, gr.DataFrame)
    for col in df.columns:
        assert same(np_res[col].to_list(), res[col].to_list()), col


REDUCE = {
    "sum": np.sum,
    "mean": np.mean,
    "min": np.min,
    "max": np.max,
    "ptp": np.ptp,
    "prod": np.prod,
    "any": np.any,
    "all": np.all,
}


@settings(max_examples=100, deadline=None)
@given(frames(), st.sampled_from(sorted(REDUCE) + ["count"]))
def test_property_reductions_numeric_only(fr, name):
    df, data, dtypes = fr
    got = getattr(df, name)()
    assert got == getattr(gr, name)(df)
    want = {}
    for col, rows in data.items():
        flat = flatten(rows)
        if name == "count":
            want[col] = len(flat)
            continue
        if dtypes[col] == "string":
            continue
        arr = np.array(flat, dtype=dtypes[col])
        try:  # (an empty column is checked on one dummy value: NumPy's dtype rule only)
            value = REDUCE[name](arr if len(arr) else np.ones(1, dtype=arr.dtype)).item()
        except TypeError:  # NumPy refuses the dtype: left out
            continue
        if not len(arr):  # empty: sum 0, prod 1, any False, all True; mean/min/max/ptp null
            value = {"sum": 0, "prod": 1, "any": False, "all": True}.get(name)
            if value is not None and name in ("sum", "prod") and dtypes[col] == "float64":
                value = float(value)
        want[col] = value
    assert list(got) == list(want)
    for col, w in want.items():
        g = got[col]
        if isinstance(w, float):
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9), (col, g, w)
        else:
            assert g == w and type(g) is type(w), (col, g, w)


@settings(max_examples=60, deadline=None)
@given(frames(), st.sampled_from(["add", "mul", "sub", "gt"]), st.randoms())
def test_property_frame_with_frame_pairs_by_name(fr, name, rnd):
    df, data, dtypes = fr
    op, ufunc = BINARY[name]
    cols = df.columns
    rnd.shuffle(cols)
    other = df[cols] * 2
    got = op(df, other)
    assert got.columns == df.columns
    for col in df.columns:
        a, b = df[col], other[col]
        if dtypes[col] == "string":
            assert got[col].to_list() == data[col]
            continue
        flat_a = np.array(flatten(a.to_list()), dtype=dtypes[col])
        flat_b = np.array(flatten(b.to_list()), dtype=str(b.dtype))
        try:
            want = ufunc(flat_a, flat_b)
        except TypeError:
            assert got[col].to_list() == data[col]
            continue
        assert same(got[col].to_list(), renest(data[col], want.tolist())), col


# ---------------------------------------------------------------- the API surface


@pytest.fixture
def df():
    return gr.dataframe(
        {
            "name": ["a", "b"],
            "x": [[[1.0, 4.0], [9.0]], [[16.0]]],
            "n": [[1, 2], [3]],
            "core": [[True, False], [True]],
        },
        schema=SCHEMA,
        levels={"n": "residue", "core": "residue"},
    )


def test_functions_operators_and_ufuncs_agree(df):
    for res in [gr.sqrt(df), np.sqrt(df)]:
        assert isinstance(res, gr.DataFrame)
        assert res.x.to_list() == [[[1.0, 2.0], [3.0]], [[4.0]]]
        assert res.name.to_list() == ["a", "b"]
    for res in [gr.add(df, 1), df + 1, 1 + df, np.add(df, 1), np.add(1, df)]:
        assert res.n.to_list() == [[2, 3], [4]]
        assert res.core.to_list() == [[2, 1], [2]]  # bool + int → int64 (NumPy)
    assert (df - np.float32(1)).x.to_list() == [[[0.0, 3.0], [8.0]], [[15.0]]]
    assert (np.arange(2) * df).n.to_list() == [[0, 0], [3]]  # an array broadcasts per row
    assert (df * gr.array([10, 100])).n.to_list() == [[10, 20], [300]]
    assert gr.clip(df, 2, 8).x.to_list() == [[[2.0, 4.0], [8.0]], [[8.0]]]
    assert gr.maximum(df, 2).n.to_list() == [[2, 2], [3]]


def test_where_on_frames(df):
    r = gr.where(df > 5, df, 0)
    assert isinstance(r, gr.DataFrame)
    assert r.x.to_list() == [[[0.0, 0.0], [9.0]], [[16.0]]]
    assert r.n.to_list() == [[0, 0], [0]]
    assert r.name.to_list() == ["a", "b"]  # strings carried
    assert gr.where(True, -1, df.residue).n.to_list() == [-1, -1, -1]
    with pytest.raises(gr.SchemaError, match="one frame only"):
        gr.where(df[["x"]] > 1, df, 0)


def test_comparisons_give_bool_frames(df):
    gt = df > 1
    assert isinstance(gt, gr.DataFrame)
    assert gt.n.to_list() == [[False, True], [True]]
    assert gt.core.to_list() == [[False, False], [False]]
    eq = df == 1
    assert isinstance(eq, gr.DataFrame)
    assert eq.n.to_list() == [[True, False], [False]]
    assert (1 < df).n.to_list() == gt.n.to_list()
    assert (df != df.copy()).x.to_list() == [[[False, False], [False]], [[False]]]
    assert (df.residue <= 2).n.to_list() == [True, True, False]


def test_unary_with_bool_and_string_columns(df):
    neg = -df
    assert neg.x.to_list() == [[[-1.0, -4.0], [-9.0]], [[-16.0]]]
    assert neg.core.to_list() == [[True, False], [True]]  # NumPy refuses -bool: carried
    assert neg.name.to_list() == ["a", "b"]
    assert (~df).core.to_list() == [[False, True], [False]]
    assert (~df).x.to_list() == df.x.to_list()  # ~float is refused: carried
    assert abs(df).x.to_list() == df.x.to_list()
    assert (+df).to_dict(as_arrays=False) == df.to_dict(as_arrays=False)
    with pytest.raises(gr.DTypeError, match="no column"):
        -df[["name"]]


def test_reductions(df):
    assert df.sum() == {"x": 30.0, "n": 6, "core": 2}
    assert gr.sum(df) == df.sum()
    m = gr.mean(df, dim=1)
    assert list(m) == ["x", "n", "core"]
    assert m["n"].to_list() == [1.5, 3.0]
    assert m["x"].to_list() == [[5.0, 4.0], [16.0]]  # left-aligned over the residue axis
    assert m["core"].to_list() == [0.5, 1.0]
    r1 = df.residue.mean(dim=1)  # residue-level columns have no atom axis: left out
    assert list(r1) == ["x"] and r1["x"].to_list() == [2.5, 9.0, 16.0]
    r = df.residue.mean(dim=-1)  # each column's innermost axis
    assert r["x"].to_list() == [2.5, 9.0, 16.0]
    assert r["n"] == 2.0  # a 1-d column reduces to a scalar along its only axis
    assert df.count() == {"name": 2, "x": 4, "n": 3, "core": 3}
    assert "core" not in df.ptp()
    mx = df.max(dim=2)
    assert list(mx) == ["x"] and mx["x"].to_list() == df.x.max(dim=2).to_list()


def test_frame_with_frame(df):
    two = df * 2
    s = df + two[["core", "n", "x", "name"]]
    assert s.columns == df.columns
    assert s.x.to_list() == [[[3.0, 12.0], [27.0]], [[48.0]]]
    assert s.name.to_list() == ["a", "b"]
    with pytest.raises(gr.SchemaError, match="one frame only"):
        df + df[["x", "n"]]
    with pytest.raises(gr.SchemaError, match="different schemas"):
        df.residue + df.residue.atom


def test_unsupported_ufuncs_and_operands(df):
    with pytest.raises(gr.Unsupported, match="arctan2"):
        np.arctan2(df, 1)
    with pytest.raises(gr.Unsupported, match="reduce"):
        np.add.reduce(df)
    with pytest.raises(gr.Unsupported, match="out"):
        np.sqrt(df, out=np.zeros(3))
    with pytest.raises(TypeError):
        df + object()
    with pytest.raises(gr.DTypeError):
        gr.add(df, object())
    with pytest.raises(gr.BroadcastError):
        df + [1.0, 2.0, 3.0]


def test_value_errors_name_the_column(df):
    with pytest.raises(gr.ArgumentError, match='column "n"'):
        df // 0
    with pytest.raises(gr.ArgumentError, match="out of bounds"):
        gr.dataframe({"k": gr.array([1, 2], dtype=gr.int8)}) + 1000
    assert (df[["n"]].residue * 2).n.to_list() == [2, 4, 6]


@pytest.mark.parametrize(
    "scalar",
    [2, 2.5, np.float32(2), np.float64(2.5), np.int8(3), np.int64(-4), np.uint16(7), True],
    ids=repr,
)
@pytest.mark.parametrize("dtype", ["float32", "int8", "int32", "uint8", "bool"])
def test_frame_operands_promote_like_arrays_nep50(scalar, dtype):
    """`df ⊕ s` gives each column exactly what `column ⊕ s` gives (weak Python scalars,
    strong NumPy scalars), and that matches NumPy 2 on the flat values."""
    vals = [[1, 0], [3]]
    col = gr.array(vals, dtype=dtype)
    df = gr.dataframe({"c": col, "name": [["a", "b"], ["c"]]}, schema=["row", "item"])
    flat = np.array([1, 0, 3], dtype=dtype)
    for op in (operator.add, operator.mul, operator.truediv):
        want = op(flat, scalar)
        got = op(df, scalar).c
        assert got.dtype == op(col, scalar).dtype == str(want.dtype), (op, got.dtype, want.dtype)
        np.testing.assert_allclose(got.values, want)
        assert op(df, scalar).name.to_list() == [["a", "b"], ["c"]]


def test_frame_big_ints_follow_numpy():
    df = gr.dataframe({"n": gr.array([[1, 2], [3]], dtype=gr.int64)}, schema=["row", "item"])
    with pytest.raises(gr.GrumpyError):
        df + 2**70  # NumPy 2: OverflowError
    assert (df < 2**70).n.to_list() == [[True, True], [True]]
    assert (df / 2**70).n.dtype == "float64"
    r = gr.where(df > 1, df, np.int8(0))
    assert r.n.to_list() == [[0, 2], [3]] and r.n.dtype == "int64"
