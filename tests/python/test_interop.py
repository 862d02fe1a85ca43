"""Conversions: to_padded against a pure-Python model of the padding rule, Arrow and Awkward
round trips against pyarrow / awkward themselves, zero copy checked through buffer addresses,
and to_torch through a minimal stand-in torch module (torch itself is not installed here)."""

from __future__ import annotations

import sys
import types

import grumpy as gr
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

# ---------------------------------------------------------------- reference model of to_padded


def _is_list(x):
    return isinstance(x, list)


def model_pad(rows, depth, pad, max_len=None):
    """The padding rule of GrumpyArray.to_padded, on nested Python lists of known depth.

    A scalar where a list is expected (a union row) counts as a length-1 list; None where a
    list is expected is a null list; None at the leaf depth is a null value."""

    def norm(x, d):  # d = list levels below x's own position
        if d == 0 or x is None:
            return x
        if not _is_list(x):
            x = [x]
        return [norm(c, d - 1) for c in x]

    rows = [norm(r, depth - 1) for r in rows]
    levels = [rows]  # elements at axis a
    for _ in range(depth - 1):
        levels.append([c for e in levels[-1] if e is not None for c in e])
    k = 1 if depth > 1 else 0
    for j in range(depth - 1):
        elems = levels[j]
        if any(e is None for e in elems):
            k = max(k, j)
        lens = {len(e) for e in elems if e is not None}
        if len(lens) > 1:
            k = max(k, j + 1)
    if any(e is None for e in levels[depth - 1]):
        k = max(k, depth - 1)
    fixed = []
    if isinstance(max_len, int):
        fixed = [max_len]
    elif isinstance(max_len, tuple):
        fixed = list(max_len)
        k = len(fixed)
    widths = []
    for a in range(1, k + 1):
        lens = [len(e) for e in levels[a - 1] if e is not None]
        f = fixed[a - 1] if a - 1 < len(fixed) else None
        widths.append(f if f is not None else max(lens, default=0))
    trailing = []
    for j in range(k, depth - 1):
        lens = [len(e) for e in levels[j] if e is not None]
        trailing.append(lens[0] if lens else 0)

    def block(shape):
        if not shape:
            return pad
        return [block(shape[1:]) for _ in range(shape[0])]

    def fill(e, a):  # element e at axis a -> (values, mask)
        if a == k:
            if e is None:
                return block(trailing), False
            return e, True
        sub = widths[a]
        vals, mask = [], []
        for c in range(sub):
            if e is not None and c < len(e):
                v, m = fill(e[c], a + 1)
            else:
                v, m = block([*widths[a + 1 :], *trailing]), block_mask(widths[a + 1 :])
            vals.append(v)
            mask.append(m)
        return vals, mask

    def block_mask(shape):
        if not shape:
            return False
        return [block_mask(shape[1:]) for _ in range(shape[0])]

    out = [fill(r, 0) for r in rows]
    shape = (len(rows), *widths, *trailing)
    return [v for v, _ in out], [m for _, m in out], shape, k + 1


def check_padded(rows, depth, dtype, pad=0, max_len=None):
    x = gr.array(rows, dtype=dtype)
    # gr.array decides the depth ([] or [None] rows can make it shallower than drawn)
    depth = x.ndim
    v, m = x.to_padded(pad=pad, max_len=max_len)
    ev, em, shape, mask_ndim = model_pad(rows, depth, pad, max_len)
    assert v.shape == shape and m.shape == shape[:mask_ndim]
    assert m.dtype == np.bool_ and v.dtype == np.dtype(x.dtype.name)
    np.testing.assert_array_equal(m, np.array(em, dtype=bool).reshape(m.shape))
    np.testing.assert_array_equal(v, np.array(ev, dtype=v.dtype).reshape(v.shape))
    return v, m


# ---------------------------------------------------------------- random ragged data


@st.composite
def nested(draw, depth, leaf, nulls=True, unions=False, regular_tail=0):
    """Rows of `depth` axes; the last `regular_tail` list levels have one fixed length; with
    `unions`, scalars sometimes stand where a list of leaves is expected (union rows)."""
    tail_len = [draw(st.integers(0, 3)) for _ in range(regular_tail)]

    def node(d):  # d = axes left including this element's
        if d == 1:
            if nulls and draw(st.integers(0, 9)) == 0:
                return None
            return draw(leaf)
        levels_left = d - 1
        if unions and d == 2 and draw(st.integers(0, 3)) == 0:
            return draw(leaf)  # a scalar row in a list position
        if nulls and levels_left > regular_tail and draw(st.integers(0, 11)) == 0:
            return None
        if levels_left <= regular_tail:
            n = tail_len[regular_tail - levels_left]
        else:
            n = draw(st.integers(0, 4))
        return [node(d - 1) for _ in range(n)]

    return [node(depth) for _ in range(draw(st.integers(0, 6)))]


FLOATS = st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 3))
INTS = st.integers(-50, 50)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_to_padded_matches_model(data):
    depth = data.draw(st.integers(1, 4))
    tail = data.draw(st.integers(0, max(0, depth - 2)))
    rows = data.draw(nested(depth, FLOATS, nulls=data.draw(st.booleans()), regular_tail=tail))
    pad = data.draw(st.sampled_from([0, -1.5, 7]))
    check_padded(rows, depth, gr.float64, pad=pad)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_to_padded_unions_and_ints(data):
    depth = data.draw(st.integers(2, 4))
    rows = data.draw(nested(depth, INTS, nulls=False, unions=True))
    check_padded(rows, depth, gr.int64, pad=-1)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_to_padded_max_len(data):
    depth = data.draw(st.integers(2, 4))
    rows = data.draw(nested(depth, INTS, nulls=data.draw(st.booleans())))
    x = gr.array(rows, dtype=gr.int32)
    assume(x.ndim >= 2)  # e.g. rows == []: a flat array has no axis for max_len
    _shape, mask_ndim = x._padded_shape()
    k = mask_ndim - 1
    if data.draw(st.booleans()):
        max_len = data.draw(st.integers(0, 5))
    else:
        extra = data.draw(st.integers(0, x.ndim - 1 - k))
        max_len = tuple(
            data.draw(st.one_of(st.none(), st.integers(0, 4))) for _ in range(k + extra)
        )
    check_padded(rows, depth, gr.int32, pad=0, max_len=max_len)


def test_to_padded_xyz_and_examples():
    xyz = [[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], []]
    v, m = gr.array(xyz).to_padded()
    assert v.shape == (3, 2, 3) and m.tolist() == [[True, False], [True, True], [False, False]]
    assert v[1, 1].tolist() == [7.0, 8.0, 9.0] and v[2].sum() == 0
    # equal-length sequences still get an (n, L) mask
    v, m = gr.array([[1, 2], [3, 4]]).to_padded()
    assert v.shape == m.shape == (2, 2) and m.all()
    # a null xyz triple masks its residue only
    v, m = gr.array([[[1.0, 2.0, 3.0], None]]).to_padded(pad=-1)
    assert v.tolist() == [[[1.0, 2.0, 3.0], [-1.0, -1.0, -1.0]]] and m.tolist() == [[True, False]]
    # flat arrays: mask = validity
    v, m = gr.array([1, None, 3]).to_padded(pad=9)
    assert v.tolist() == [1, 9, 3] and m.tolist() == [True, False, True]
    # unions: scalar rows are length-1 lists
    v, m = gr.array([1.0, [2.0, 3.0]]).to_padded()
    assert v.tolist() == [[1.0, 0.0], [2.0, 3.0]] and m.tolist() == [[True, False], [True, True]]
    # bool arrays pad with False; truncation
    v, m = gr.array([[True, True, True], [False]]).to_padded(max_len=2)
    assert v.tolist() == [[True, True], [False, False]] and m.tolist() == [
        [True, True],
        [True, False],
    ]
    # a view whose offsets do not start at 0
    x = gr.array([[9.0], [1.0, 2.0], [], [3.0]])[1:]
    v, m = x.to_padded()
    assert v.tolist() == [[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]


def test_to_padded_large_parallel_matches_numpy():
    rng = np.random.default_rng(0)
    lens = rng.integers(0, 40, 50_000)
    flat = rng.normal(size=(int(lens.sum()), 3))
    x = gr.from_offsets(flat, np.concatenate([[0], np.cumsum(lens)]))
    v, m = x.to_padded(pad=np.nan)
    width = lens.max()
    ref_m = np.arange(width)[None, :] < lens[:, None]
    ref_v = np.full((len(lens), width, 3), np.nan)
    ref_v[ref_m] = flat
    assert v.shape == (len(lens), width, 3)
    np.testing.assert_array_equal(m, ref_m)
    np.testing.assert_array_equal(v, ref_v)


def test_to_padded_errors():
    x = gr.array([[1, 2], [3]])
    with pytest.raises(gr.ArgumentError, match="pad"):
        x.to_padded(pad=0.5)
    with pytest.raises(gr.ArgumentError):
        x.to_padded(pad=np.nan)
    with pytest.raises(gr.ArgumentError):
        x.astype(gr.uint8).to_padded(pad=-1)
    with pytest.raises(gr.ArgumentError):
        x.to_padded(pad="a")
    with pytest.raises(gr.ArgumentError):
        x.to_padded(max_len=-1)
    with pytest.raises(gr.ArgumentError):
        x.to_padded(max_len="3")
    with pytest.raises(gr.ArgumentError, match="entries"):
        x.to_padded(max_len=(1, 2))
    with pytest.raises(gr.ArgumentError):
        gr.array([1.0, 2.0]).to_padded(max_len=1)
    with pytest.raises(gr.Unsupported):
        gr.array([["a"], ["b", "c"]]).to_padded()
    e = pytest.raises(gr.ArgumentError, x.to_padded, pad=0.5).value
    assert "astype" in e.fix
    v, _m = x.astype(gr.float32).to_padded(pad=np.nan)
    assert v.dtype == np.float32 and np.isnan(v[1, 1])


# ---------------------------------------------------------------- torch (stand-in module)


class FakeTensor:
    def __init__(self, a):
        self.array = a


@pytest.fixture
def fake_torch(monkeypatch):
    mod = types.ModuleType("torch")
    mod.from_numpy = FakeTensor
    monkeypatch.setitem(sys.modules, "torch", mod)
    import grumpy.torch as gt

    monkeypatch.setattr(gt, "_torch", None)
    return mod


def test_to_torch_rectangular_shares_memory(fake_torch):
    flat = np.arange(12.0).reshape(4, 3)
    x = gr.array(flat)
    t = x.to_torch()
    assert isinstance(t, FakeTensor) and np.shares_memory(t.array, flat)
    assert t.array.tolist() == flat.tolist()


def test_to_torch_ragged_pads(fake_torch):
    t, m = gr.array([[1, 2, 3], [4]]).to_torch(pad=-1)
    assert t.array.tolist() == [[1, 2, 3], [4, -1, -1]]
    assert m.array.tolist() == [[True, True, True], [True, False, False]]
    t, m = gr.array([[1.0, 2.0], [3.0, 4.0]]).to_torch(max_len=1)
    assert t.array.tolist() == [[1.0], [3.0]] and m.array.all()
    t, m = gr.array([[1.0, None]]).to_torch()
    assert m.array.tolist() == [[True, False]]


def test_to_torch_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    import grumpy.torch as gt

    monkeypatch.setattr(gt, "_torch", None)
    with pytest.raises(gr.Unsupported) as e:
        gr.array([[1.0]]).to_torch()
    assert e.value.fix == "pip install torch"


# ---------------------------------------------------------------- Arrow


def test_arrow_capsules_without_pyarrow(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    s, a = gr.array([[1.0, 2.0], [3.0]]).__arrow_c_array__()
    assert type(s).__name__ == "PyCapsule"
    assert "arrow_schema" in repr(s) and "arrow_array" in repr(a)
    del s, a  # unconsumed capsules release their structs
    with pytest.raises(gr.Unsupported) as e:
        gr.array([1.0]).to_arrow()
    assert e.value.fix == "pip install pyarrow"


pa = pytest.importorskip("pyarrow")


def addr(a):
    return a.__array_interface__["data"][0]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_arrow_round_trip(data):
    depth = data.draw(st.integers(1, 4))
    kind = data.draw(st.sampled_from(["f8", "i8", "bool", "str", "union"]))
    leaf = {
        "f8": FLOATS,
        "i8": INTS,
        "bool": st.booleans(),
        "str": st.text(max_size=4),
        "union": FLOATS,
    }[kind]
    if kind == "union":
        depth = max(depth, 2)
    rows = data.draw(nested(depth, leaf, nulls=data.draw(st.booleans()), unions=kind == "union"))
    dtype = {
        "f8": gr.float64,
        "i8": gr.int64,
        "bool": gr.bool_,
        "str": gr.string,
        "union": gr.float64,
    }
    x = gr.array(rows, dtype=dtype[kind])
    a = x.to_arrow()
    assert a.to_pylist() == x.to_list()
    a.validate(full=True)
    assert gr.from_arrow(a).to_list() == x.to_list()
    # a consumer other than to_arrow: pa.array through the capsule protocol
    assert pa.array(x).to_pylist() == x.to_list()
    # slices (views) export too
    if len(x) > 1:
        assert x[1:].to_arrow().to_pylist() == x.to_list()[1:]


def test_arrow_types_and_zero_copy():
    flat = np.arange(10.0)
    x = gr.from_offsets(flat, [0, 3, 3, 10])
    a = x.to_arrow()
    assert a.type == pa.large_list(pa.field("item", pa.float64()))
    assert a.values.buffers()[1].address == addr(flat)
    assert a.offsets.buffers()[1].address == addr(x.offsets(0))
    s = gr.array(["ab", None, "c"]).to_arrow()
    assert s.type == pa.large_string() and s.to_pylist() == ["ab", None, "c"]
    u = gr.array([1.0, [2.0, 3.0], None]).to_arrow()
    assert u.type.mode == "dense" and u.to_pylist() == [1.0, [2.0, 3.0], None]
    # pyarrow -> grumpy shares the values buffer
    p = pa.array([[1.5, 2.5], [], [3.5]], type=pa.large_list(pa.float64()))
    g = gr.from_arrow(p)
    assert addr(g.values) == p.values.buffers()[1].address
    assert addr(g.offsets(0)) == p.offsets.buffers()[1].address
    del p  # grumpy keeps the Arrow memory alive
    assert g.to_list() == [[1.5, 2.5], [], [3.5]]


def test_from_arrow_variants():
    assert gr.from_arrow(pa.array([[1, 2], None, [3]])).to_list() == [[1, 2], None, [3]]
    fsl = pa.array([[1, 2], [3, 4]], type=pa.list_(pa.int32(), 2))
    g = gr.from_arrow(fsl)
    assert g.to_list() == [[1, 2], [3, 4]] and g.dtype == gr.int32
    assert gr.from_arrow(fsl[1:]).to_list() == [[3, 4]]
    sl = pa.array([[1.0], [2.0, 3.0], [4.0], None, [5.0]])[1:4]
    assert gr.from_arrow(sl).to_list() == [[2.0, 3.0], [4.0], None]
    assert gr.from_arrow(pa.array(["a", None, "bcd"])).to_list() == ["a", None, "bcd"]
    b = pa.array([True, None, False, True, True, False, False, True, False])[3:]
    assert gr.from_arrow(b).to_list() == b.to_pylist()
    ch = pa.chunked_array([[[1.0]], [[2.0, 3.0], []]])
    assert gr.from_arrow(ch).to_list() == [[1.0], [2.0, 3.0], []]
    empty = pa.chunked_array([], type=pa.list_(pa.float64()))
    assert gr.from_arrow(empty).to_list() == []
    assert gr.from_arrow(pa.array([[], []])).to_list() == [[], []]
    sparse = pa.UnionArray.from_sparse(
        pa.array([0, 1, 0], type=pa.int8()),
        [pa.array([1.0, 0.0, 3.0]), pa.array([[9.0], [2.0, 2.5], [9.0]])],
    )
    assert gr.from_arrow(sparse).to_list() == [1.0, [2.0, 2.5], 3.0]
    dense = pa.UnionArray.from_dense(
        pa.array([5, 7, 7], type=pa.int8()),
        pa.array([0, 1, 0], type=pa.int32()),
        [pa.array([[1, 2]]), pa.array([3, 4])],
        type_codes=[5, 7],
    )
    g = gr.from_arrow(dense)
    assert g.layout == "union" and g.to_list() == [[1, 2], 4, 3]


def test_from_arrow_null_rows_spanning_values():
    # Arrow lets a null list row cover values; grumpy keeps null rows empty.
    a = pa.ListArray.from_arrays(
        pa.array([0, 2, 3, 5], type=pa.int32()),
        pa.array([1, 2, 3, 4, 5]),
        mask=pa.array([False, True, False]),
    )
    g = gr.from_arrow(a)
    assert g.to_list() == a.to_pylist() == [[1, 2], None, [4, 5]]
    assert g.values.tolist() == [1, 2, 4, 5] and g.sum() == 12


def test_from_arrow_errors():
    with pytest.raises(gr.Unsupported, match="dataframe"):
        gr.from_arrow(pa.array([{"a": 1}]))
    with pytest.raises(gr.Unsupported, match="dictionary"):
        gr.from_arrow(pa.array(["a", "b", "a"]).dictionary_encode())
    with pytest.raises(gr.Unsupported):
        gr.from_arrow(pa.array([1, 2], type=pa.timestamp("s")))
    with pytest.raises(gr.DTypeError):
        gr.from_arrow(pa.array([None, None]))
    with pytest.raises(gr.ArgumentError):
        gr.from_arrow([1, 2, 3])
    with pytest.raises(gr.Unsupported, match="union"):
        gr.from_arrow(
            pa.UnionArray.from_sparse(
                pa.array([0, 1], type=pa.int8()), [pa.array([1, 2]), pa.array([3.0, 4.0])]
            )
        )


# ---------------------------------------------------------------- Awkward

ak = pytest.importorskip("awkward")


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_awkward_round_trip(data):
    depth = data.draw(st.integers(1, 4))
    kind = data.draw(st.sampled_from(["f8", "i8", "bool", "str", "union"]))
    leaf = {
        "f8": FLOATS,
        "i8": INTS,
        "bool": st.booleans(),
        "str": st.text(max_size=4),
        "union": INTS,
    }[kind]
    if kind == "union":
        depth = max(depth, 2)
    rows = data.draw(nested(depth, leaf, nulls=data.draw(st.booleans()), unions=kind == "union"))
    dtype = {
        "f8": gr.float64,
        "i8": gr.int64,
        "bool": gr.bool_,
        "str": gr.string,
        "union": gr.int64,
    }
    x = gr.array(rows, dtype=dtype[kind])
    a = x.to_awkward()
    assert a.tolist() == x.to_list()
    back = gr.from_awkward(a)
    assert back.to_list() == x.to_list() and back.dtype == x.dtype
    # Awkward's own construction of the same data converts too
    if rows:
        assert gr.from_awkward(ak.Array(rows)).to_list() == ak.Array(rows).tolist()
    if len(x) > 1:
        assert x[1:].to_awkward().tolist() == x.to_list()[1:]


def test_awkward_zero_copy():
    flat = np.arange(6.0)
    x = gr.from_offsets(flat, [0, 2, 6])
    a = x.to_awkward()
    assert np.shares_memory(np.asarray(a.layout.content.data), flat)
    y = gr.from_awkward(ak.Array([[1.0, 2.0], [], [3.0]]))
    lay = ak.Array([[1.0, 2.0], [], [3.0]])
    y = gr.from_awkward(lay)
    assert np.shares_memory(y.values, np.asarray(lay.layout.content.data))
    assert np.shares_memory(y.offsets(0), np.asarray(lay.layout.offsets))


def test_from_awkward_layouts():
    C, I = ak.contents, ak.index
    num = C.NumpyArray(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    cases = [
        C.ListArray(I.Index64(np.array([3, 0, 1])), I.Index64(np.array([5, 1, 3])), num),
        C.ListArray(I.Index32(np.array([0, 2])), I.Index32(np.array([2, 5])), num),
        C.ListOffsetArray(I.Index32(np.array([0, 2, 2, 5], np.int32)), num),
        C.ListOffsetArray(I.IndexU32(np.array([1, 2, 5], np.uint32)), num),
        C.RegularArray(num, 2),
        C.NumpyArray(np.arange(12.0).reshape(2, 3, 2)),
        C.IndexedOptionArray(I.Index64(np.array([2, -1, 0])), num),
        C.IndexedArray(I.Index64(np.array([4, 4, 0])), num),
        C.ByteMaskedArray(I.Index8(np.array([1, 0, 1], np.int8)), num, valid_when=True),
        C.ByteMaskedArray(I.Index8(np.array([1, 0, 1], np.int8)), num, valid_when=False),
        C.BitMaskedArray(I.IndexU8(np.array([0b101], np.uint8)), num, True, 3, True),
        C.BitMaskedArray(I.IndexU8(np.array([0b10100000], np.uint8)), num, False, 3, False),
        C.UnmaskedArray(num),
        C.IndexedOptionArray(
            I.Index64(np.array([1, -1, 0])),
            C.ListOffsetArray(I.Index64(np.array([0, 2, 5])), num),
        ),
        C.ByteMaskedArray(
            I.Index8(np.array([0, 1], np.int8)),
            C.ListOffsetArray(I.Index64(np.array([0, 2, 5])), num),
            valid_when=True,
        ),
        C.UnionArray(
            I.Index8(np.array([1, 0, 1], np.int8)),
            I.Index64(np.array([0, 0, 1])),
            [C.ListOffsetArray(I.Index64(np.array([0, 2])), num), num],
        ),
        C.EmptyArray(),
    ]
    for layout in cases:
        a = ak.Array(layout)
        assert gr.from_awkward(a).to_list() == a.tolist(), layout
    strs = ak.Array(["ab", None, "", "cde"])
    assert gr.from_awkward(strs).to_list() == strs.tolist()
    assert gr.from_awkward(ak.to_regular(ak.Array([[1, 2], [3, 4]]), axis=1)).to_list() == [
        [1, 2],
        [3, 4],
    ]


def test_from_awkward_errors():
    with pytest.raises(gr.Unsupported, match="dataframe"):
        gr.from_awkward(ak.Array([{"x": 1}]))
    # nested unions (scalar | list of (scalar | list)) are grumpy layouts now
    assert gr.from_awkward(ak.Array([1, [2], [[3]]])).to_list() == [1, [2], [[3]]]
    with pytest.raises(gr.Unsupported):
        gr.from_awkward(ak.Array(np.array(["2020-01-01"], dtype="datetime64[D]")))
    with pytest.raises(gr.Unsupported):
        gr.from_awkward(ak.Array([1, "a"]))
    with pytest.raises(gr.ArgumentError):
        gr.from_awkward([1, 2])
    with pytest.raises(gr.Unsupported):
        gr.from_awkward(ak.Array([{"x": 1}])[0])
