"""String buffers must hold valid UTF-8: a damaged byte, or offsets that split a multi-byte
character, is a StoreError naming the buffer (never U+FFFD), on every read path."""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

zarr = pytest.importorskip("zarr")


def _poke(path, name, index, value):
    g = zarr.open_group(str(path), mode="r+")
    g[name][index] = value


def _assert_utf8_error(fn, buffer="node1-data"):
    with pytest.raises(gr.StoreError) as e:
        fn()
    assert buffer in str(e.value)
    assert "UTF-8" in str(e.value)
    assert e.value.fix
    return e.value


def test_invalid_byte_is_store_error(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array([["ab", "c"], ["d"]]), p)
    _poke(p, "node1-data", 0, 0xFF)
    g = zarr.open_group(str(p), mode="r")
    assert bytes(g["node1-data"][:]) == b"\xffbcd"  # the damage zarr-python sees
    e = _assert_utf8_error(lambda: gr.load(p))
    assert "element 0" in e.cause
    _assert_utf8_error(lambda: gr.open(p)[0])
    _assert_utf8_error(lambda: gr.open(p)[0:2])
    _assert_utf8_error(lambda: gr.open(p)[[1, 0]])
    _assert_utf8_error(lambda: list(gr.stream(p, batch_size=1)))
    # rows whose strings do not touch the bad byte still read
    assert gr.open(p)[1].to_list() == ["d"]


def test_flat_string_store(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array(["héllo", None, "wörld"]), p, chunk_size=1)
    names = sorted(n for n, _ in zarr.open_group(str(p), mode="r").arrays())
    data = next(n for n in names if n.endswith("-data"))
    raw = bytes(zarr.open_group(str(p), mode="r")[data][:])
    assert raw.decode() == "héllowörld"  # independent check of the stored bytes
    _poke(p, data, raw.index("ö".encode()) + 1, 0x41)  # break the continuation byte
    _assert_utf8_error(lambda: gr.load(p), data)
    assert gr.open(p)[0] == "héllo"
    _assert_utf8_error(lambda: gr.open(p)[2], data)


def test_offsets_splitting_a_character(tmp_path):
    # "é" is two bytes: a boundary between them leaves two invalid strings although the
    # buffer as a whole is valid UTF-8
    p = tmp_path / "s.zarr"
    gr.save(gr.array([["é", "x"]]), p)
    g = zarr.open_group(str(p), mode="r+")
    assert bytes(g["node1-data"][:]) == "éx".encode()
    np.testing.assert_array_equal(g["node1-offsets"][:], [0, 2, 3])
    g["node1-offsets"][:] = np.array([0, 1, 3])
    e = _assert_utf8_error(lambda: gr.load(p))
    assert "offset 1" in e.cause
    _assert_utf8_error(lambda: gr.open(p)[0])


def test_dataframe_string_column(tmp_path):
    p = tmp_path / "df.zarr"
    df = gr.dataframe({"name": [["ala", "gly"], ["ser"]]}, schema=["protein", "residue"])
    gr.save(df, p)
    g = zarr.open_group(str(p), mode="r")
    col = g["name"]
    data = next(n for n, _ in col.arrays() if n.endswith("-data"))
    assert bytes(col[data][:]) == b"alaglyser"
    zarr.open_group(str(p), mode="r+")["name"][data][3] = 0xC3  # a lead byte with no tail
    _assert_utf8_error(lambda: gr.load(p), data)
    assert gr.open(p)[1:2]["name"].to_list() == [["ser"]]


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=4)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(text, max_size=4), max_size=8), cs=st.integers(1, 5))
def test_valid_multibyte_strings_round_trip_at_any_chunking(tmp_path_factory, rows, cs):
    # chunk boundaries fall inside multi-byte characters; every slice must still decode
    p = tmp_path_factory.mktemp("u") / "s.zarr"
    gr.save(gr.array(rows, dtype="str"), p, chunk_size=cs)
    assert gr.load(p).to_list() == rows
    s = gr.open(p)
    for a in range(len(rows) + 1):
        for b in range(a, len(rows) + 1):
            assert s[a:b].to_list() == rows[a:b]
