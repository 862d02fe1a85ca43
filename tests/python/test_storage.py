"""gr.save / gr.append / gr.load / gr.open against independent references (zarr-python,
Awkward, plain Python lists) and every StoreError path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import grumpy as gr
import numpy as np
import pytest
from helpers import python_script, rewrite_buffer
from hypothesis import given, settings
from hypothesis import strategies as st

# ---------------------------------------------------------------- strategies
leaf_f = st.one_of(st.none(), st.floats(allow_nan=False, width=32))
leaf_i = st.one_of(st.none(), st.integers(-(2**40), 2**40))


def ragged(leaf, depth):
    s = leaf
    for _ in range(depth):
        s = st.one_of(st.none(), st.lists(s, max_size=5))
    return st.lists(s, max_size=12)


def union_rows(leaf):
    return st.lists(st.one_of(leaf, st.lists(leaf, max_size=4)), max_size=12)


def has_leaf(rows):
    if isinstance(rows, list):
        return any(has_leaf(r) for r in rows)
    return rows is not None


def mk(rows, dtype):
    return gr.array(rows, dtype=dtype)


def check_roundtrip(tmp_path, rows, dtype, **kw):
    x = mk(rows, dtype)
    p = tmp_path / "s.zarr"
    gr.save(x, p, **kw)
    y = gr.load(p)
    assert y.to_list() == x.to_list()
    assert y.dtype == x.dtype
    s = gr.open(p)
    assert len(s) == len(x)
    n = len(x)
    for a in range(n + 1):
        for b in (a, min(n, a + 1), min(n, a + 3), n):
            assert s[a:b].to_list() == x.to_list()[a:b]
    return x, p


@settings(max_examples=60, deadline=None)
@given(rows=ragged(leaf_f, 2), cs=st.one_of(st.none(), st.integers(1, 5)))
def test_property_roundtrip_lists(tmp_path_factory, rows, cs):
    tmp = tmp_path_factory.mktemp("p")
    check_roundtrip(tmp, rows, gr.float64, chunk_size=cs)


@settings(max_examples=60, deadline=None)
@given(rows=union_rows(leaf_i), cs=st.one_of(st.none(), st.integers(1, 4)))
def test_property_roundtrip_unions(tmp_path_factory, rows, cs):
    tmp = tmp_path_factory.mktemp("u")
    check_roundtrip(tmp, rows, gr.int64, chunk_size=cs)


@pytest.mark.parametrize(
    "dtype",
    [
        gr.bool_,
        gr.int8,
        gr.int16,
        gr.int32,
        gr.int64,
        gr.uint8,
        gr.uint16,
        gr.uint32,
        gr.uint64,
        gr.float32,
        gr.float64,
    ],
)
def test_every_dtype(tmp_path, dtype):
    rows = [[1, 0, None], [], [1]]
    _x, p = check_roundtrip(tmp_path, rows, dtype, chunk_size=1)
    assert gr.load(p).dtype == dtype


def test_strings_and_nulls(tmp_path):
    rows = [["ab", None, ""], None, ["héllo"], []]
    check_roundtrip(tmp_path, rows, None, chunk_size=2)


@pytest.mark.parametrize("cs", [1, 2, 3, 4, 100])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_chunk_boundaries(tmp_path, cs, dim):
    rows = [[[1.0, 2.0], [3.0]], [], [[4.0, 5.0, 6.0]], [[7.0]]]
    check_roundtrip(tmp_path, rows, gr.float64, chunk_size=cs, chunk_dim=dim)


def test_codecs(tmp_path):
    x = gr.array(np.arange(10000, dtype=np.float64))
    codecs = ["zstd", "zstd+shuffle", "none", "zstd:9", "zstd:-3", "gzip", "gzip:1", "blosc"]
    for codec in codecs + ["blosc:zstd", "blosc:blosclz:9", "blosc:lz4:1"]:
        p = tmp_path / codec.replace(":", "_")
        gr.save(x, p, codec=codec)
        assert gr.load(p).to_list() == x.to_list()
        assert gr.open(p).info()["codec"] == codec
    bad_blosc = ["blosc:", "blosc:snappy", "blosc:lz4:0", "blosc:lz4:10", "blosc:lz4:5:1"]
    for bad in ["lz4", "zstd:99", "gzip:10", "gzip:x", "shuffle", "zstd+shuffle:3", *bad_blosc]:
        with pytest.raises(gr.ArgumentError):
            gr.save(x, tmp_path / "bad", codec=bad)


def test_a_chunk_size_making_gigabyte_chunks_is_an_argument_error(tmp_path):
    """Zarr writes every chunk whole, the last one padded: chunk_size=10**9 rows of a small
    array used to allocate 25 GB and abort the process. It is an ArgumentError naming the
    buffer and the size, and nothing is written (also for a store saved batch by batch)."""
    x = gr.array([[float(i)] * 5 for i in range(40)])
    for data in (x, (x[i : i + 10] for i in range(0, 40, 10))):
        p = tmp_path / "huge.gr"
        with pytest.raises(gr.ArgumentError, match="chunk_size=1000000000 is too large") as e:
            gr.save(data, p, chunk_size=10**9)
        assert "GB" in str(e.value) and "smaller chunk_size" in str(e.value)
        assert not p.exists()
    # a large chunk that still fits is fine: one chunk per buffer
    gr.save(x, tmp_path / "one.gr", chunk_size=1000)
    assert gr.load(tmp_path / "one.gr").to_list() == x.to_list()


def test_open_indexing_and_info(tmp_path):
    rows = [[float(i)] * (i % 4) for i in range(50)]
    x = gr.array(rows)
    p = tmp_path / "s.zarr"
    gr.save(x, p, chunk_size=7)
    s = gr.open(p)
    assert s[3].to_list() == rows[3]
    assert s[-1].to_list() == rows[-1]
    assert s[10:2:-3].to_list() == rows[10:2:-3]
    assert s[[5, 1, 5, 49]].to_list() == [rows[i] for i in [5, 1, 5, 49]]
    mask = np.arange(50) % 3 == 0
    assert s[mask].to_list() == [r for r, m in zip(rows, mask) if m]
    info = s.info()
    assert info["rows"] == 50 and info["dtype"] == "float64" and info["layout"] == "list"
    assert info["chunks"]["node0-offsets"]["chunk"] == 7
    assert info["bytes"] > 0 and info["stored_bytes"] > 0
    with pytest.raises(IndexError):
        s[50]
    with pytest.raises(IndexError):
        s[[0, 99]]


def test_append_equals_one_shot(tmp_path):
    parts = [[[1.0, None], []], [[2.0]], [None, [3.0, 4.0, 5.0]], []]
    p = tmp_path / "a.zarr"
    gr.save(gr.array(parts[0]), p, chunk_size=2)
    for part in parts[1:]:
        if part:
            gr.append(gr.array(part, dtype=gr.float64), p)
    one = [r for part in parts for r in part]
    assert gr.load(p).to_list() == one
    q = tmp_path / "b.zarr"
    gr.save((gr.array(part, dtype=gr.float64) for part in parts if part), q)
    assert gr.load(q).to_list() == one


def test_append_mismatch_is_store_error(tmp_path):
    p = tmp_path / "a.zarr"
    gr.save(gr.array([[1.0]]), p)
    with pytest.raises(gr.StoreError) as e:
        gr.append(gr.array([1, 2]), p)
    assert "astype" in e.value.fix


def test_error_paths(tmp_path):
    with pytest.raises(gr.StoreError):
        gr.load(tmp_path / "missing")
    with pytest.raises(gr.StoreError):
        gr.open(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(gr.StoreError):
        gr.load(tmp_path / "plain")
    p = tmp_path / "s.zarr"
    gr.save(gr.array([[1.0, 2.0], [3.0]]), p, chunk_size=1)
    with pytest.raises(gr.StoreError):
        gr.save(gr.array([1.0]), p, overwrite=False)
    (tmp_path / "userdir").mkdir()
    (tmp_path / "userdir" / "keep.txt").write_text("x")
    with pytest.raises(gr.StoreError):
        gr.save(gr.array([1.0]), tmp_path / "userdir")
    assert (tmp_path / "userdir" / "keep.txt").exists()
    meta = p / "zarr.json"
    text = meta.read_text()
    doc = json.loads(text)

    def broken(mutate):
        d = json.loads(text)
        mutate(d["attributes"])
        meta.write_text(json.dumps(d))
        with pytest.raises(gr.StoreError) as e:
            gr.load(p)
        meta.write_text(text)
        return e.value

    e = broken(lambda a: a["grumpy"].__setitem__("format", 7))
    assert "7" in str(e)
    broken(lambda a: a.pop("grumpy"))  # a plain Zarr group
    broken(lambda a: a.__setitem__("form", {"class": "RecordArray", "form_key": "node0"}))
    broken(lambda a: a["grumpy"]["buffers"].__setitem__("node1-data", 999))  # truncated
    broken(lambda a: a["form"]["content"].__setitem__("primitive", "int32"))  # wrong dtype
    assert doc["attributes"]["length"] == 2
    assert gr.load(p).to_list() == [[1.0, 2.0], [3.0]]
    # non-monotonic / out-of-range offsets (rewrite the offsets buffer with zarr-python)
    zarr = pytest.importorskip("zarr")
    g = zarr.open_group(str(p), mode="r+")
    g["node0-offsets"][:] = np.array([0, 2, 1])
    with pytest.raises(gr.StoreError):
        gr.load(p)
    g["node0-offsets"][:] = np.array([0, 2, 9])
    with pytest.raises(gr.StoreError):
        gr.load(p)
    # a missing chunk is corruption, never the fill value
    gr.save(gr.array([[1.0, 2.0], [3.0]]), p, chunk_size=1)
    os.remove(p / "node1-data" / "c" / "1")
    with pytest.raises(gr.StoreError):
        gr.load(p)
    # a truncated chunk fails its checksum
    gr.save(gr.array([[1.0, 2.0], [3.0]]), p, chunk_size=1)
    f = p / "node1-data" / "c" / "1"
    f.write_bytes(f.read_bytes()[:-3])
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.Unsupported):
        gr.load("ftp://example.invalid/x.zarr")
    with pytest.raises(gr.Unsupported):
        gr.save(gr.array([1.0]), "s3://bucket/x.zarr")


def test_zarr_python_reads_every_buffer(tmp_path):
    zarr = pytest.importorskip("zarr")
    x = gr.array([[1.5, None], [], [2.5, 3.5, 4.5]])
    p = tmp_path / "s.zarr"
    gr.save(x, p, chunk_size=2)
    g = zarr.open_group(str(p), mode="r")
    names = sorted(name for name, _ in g.arrays())
    assert names == ["node0-offsets", "node1-data", "node1-mask"]
    np.testing.assert_array_equal(g["node0-offsets"][:], [0, 2, 2, 5])
    np.testing.assert_array_equal(g["node1-data"][:][[0, 2, 3, 4]], [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(g["node1-mask"][:], [0b11101])
    assert g.attrs["length"] == 3 and g.attrs["grumpy"]["format"] == 1


@pytest.mark.parametrize(
    "rows",
    [
        [[1.0, 2.0], [], [3.0]],
        [[1, None], None, [5]],
        ["ab", None, "c"],
        [[["x"]], [["y", "zz"], []]],
        [1.0, [2.0, 3.0], 4.0],
        [1.0, [2.0, None], None, 4.0],
        [None, [2, 3], [None]],
        [[1, 2], 3, None],
    ],
)
def test_awkward_rebuilds_from_buffers(tmp_path, rows):
    ak = pytest.importorskip("awkward")
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "s.zarr"
    gr.save(gr.array(rows), p, chunk_size=2)
    g = zarr.open_group(str(p), mode="r")
    bufs = {name: arr[:] for name, arr in g.arrays()}
    a = ak.from_buffers(g.attrs["form"], g.attrs["length"], bufs)
    assert a.to_list() == rows


CRASH = textwrap.dedent(
    """
    import sys, os, threading, time
    sys.path.insert(0, {pydir!r})
    import numpy as np, grumpy as gr
    path, mode = sys.argv[1], sys.argv[2]
    big = gr.from_offsets(np.random.rand(6_000_000), np.arange(0, 6_000_001, 6))
    print("ready", flush=True)
    if mode == "save":
        gr.save(big, path, codec="zstd:3")
    else:
        gr.append(big, path)
    print("done", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["save", "append"])
def test_sigkill_leaves_old_store(tmp_path, mode):
    p = tmp_path / "s.zarr"
    old = [[1.0, 2.0], [3.0]]
    gr.save(gr.array(old), p, chunk_size=1)
    script = python_script(tmp_path / "crash.py", CRASH)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(p), mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    import time

    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    got = gr.load(p).to_list()
    if got == old:  # killed before the new content became visible
        assert gr.open(p)[0:2].to_list() == old
    elif mode == "save":  # the save completed before the kill: all of the new content
        assert len(got) == 1_000_000 and all(len(r) == 6 for r in got)
    else:  # the append completed: old rows first, then the new ones
        assert len(got) == 1_000_002 and got[:2] == old


def test_zarr_python_reads_appended_store(tmp_path):
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "a.zarr"
    rows = [[1.0, None], [], [2.0, 3.0, 4.0]]
    gr.save(gr.array(rows[:1]), p, chunk_size=2)
    gr.append(gr.array(rows[1:], dtype=gr.float64), p)
    q = tmp_path / "b.zarr"
    gr.save((gr.array([r], dtype=gr.float64) for r in rows), q)
    for path in (p, q):
        g = zarr.open_group(str(path), mode="r")
        np.testing.assert_array_equal(g["node0-offsets"][:], [0, 2, 2, 5])
        np.testing.assert_array_equal(g["node1-data"][:][[0, 2, 3, 4]], [1.0, 2.0, 3.0, 4.0])
        np.testing.assert_array_equal(
            np.unpackbits(g["node1-mask"][:], bitorder="little")[:5], [1, 0, 1, 1, 1]
        )
        assert g.attrs["length"] == 3


@pytest.mark.parametrize(
    "kw",
    [
        {"chunk_size": 1.5},
        {"chunk_size": True},
        {"chunk_size": "2"},
        {"chunk_size": 0},
        {"chunk_size": -1},
        {"chunk_dim": 1.0, "chunk_size": 1},
        {"chunk_dim": -1, "chunk_size": 1},
        {"chunk_dim": "residue", "chunk_size": 1},
        {"codec": 3},
        {"codec": b"zstd"},
        {"overwrite": "yes"},
    ],
)
def test_bad_arguments_are_argument_errors(tmp_path, kw):
    with pytest.raises(gr.ArgumentError) as e:
        gr.save(gr.array([[1.0]]), tmp_path / "s", **kw)
    assert e.value.fix
    assert not (tmp_path / "s").exists()


def test_bad_paths(tmp_path):
    for bad in (b"/tmp/x", 3, None):
        with pytest.raises(gr.ArgumentError):
            gr.save(gr.array([1.0]), bad)
        with pytest.raises(gr.ArgumentError):
            gr.load(bad)


def test_offsets_must_start_at_zero_and_end_at_the_data(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array([[1.0, 2.0], [3.0], [4.0, 5.0]]), p, chunk_size=1)
    rewrite_buffer(p, "node0-offsets", [3, 3, 4, 5])  # shifted start: would drop rows silently
    with pytest.raises(gr.StoreError) as e:
        gr.load(p)
    assert "0" in e.value.cause
    with pytest.raises(gr.StoreError):
        gr.open(p)[0:1]
    assert gr.open(p)[2].to_list() == [5.0]  # rows not touching the bad offset still read
    rewrite_buffer(p, "node0-offsets", [0, 2, 3, 4])  # last offset short of the data
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.StoreError):
        gr.open(p)[1:3]


def test_form_and_buffers_must_agree(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array([[1.0, None], [3.0]]), p)
    meta = p / "zarr.json"
    doc = json.loads(meta.read_text())
    # drop the mask wrapper from the form: the nulls would silently vanish
    doc["attributes"]["form"]["content"] = doc["attributes"]["form"]["content"]["content"]
    meta.write_text(json.dumps(doc))
    with pytest.raises(gr.StoreError) as e:
        gr.load(p)
    assert "node1-mask" in e.value.cause


@pytest.mark.parametrize(
    "store_rows,batches",
    [
        ([1, [2, 3]], [[[4], []]]),  # union store + lists only
        ([1, [2, 3]], [[5, 6]]),  # union store + scalars only
        ([[1.0], [2.0]], [[]]),  # empty batch: no-op
        ([[1.0], [2.0]], [[None, None]]),  # all-null batch into a list store
        ([[[1.0]], []], [[[], []], [None]]),  # empty inner lists / null rows of a deeper store
        ([1, None, [2]], [[[3, None]], [7]]),
    ],
)
def test_append_fits_batches_to_the_form(tmp_path, store_rows, batches):
    p = tmp_path / "a.zarr"
    x = gr.array(store_rows)
    gr.save(x, p, chunk_size=2)
    expect = list(store_rows)
    for b in batches:
        gr.append(gr.array(b, dtype=x.dtype), p)
        expect += b
    assert gr.load(p).to_list() == expect
    assert gr.load(p).layout == x.layout
    q = tmp_path / "g.zarr"
    gr.save((gr.array(b, dtype=x.dtype) for b in [store_rows, *batches]), q)
    assert gr.load(q).to_list() == expect


def test_generator_upgrades_lists_to_union(tmp_path):
    p = tmp_path / "g.zarr"
    parts = [[[1, 2], []], [3, [4]], [[5]]]
    gr.save((gr.array(b) for b in parts), p)
    assert gr.load(p).to_list() == [r for b in parts for r in b]
    assert gr.load(p).layout == "union"


def test_append_refuses_what_the_form_cannot_hold(tmp_path):
    p = tmp_path / "a.zarr"
    gr.save(gr.array([[1, 2], [3]]), p)
    with pytest.raises(gr.StoreError) as e:
        gr.append(gr.array([1, [2]]), p)
    assert e.value.fix
    with pytest.raises(gr.StoreError):
        gr.append(gr.array([[[1]]]), p)
    assert gr.load(p).to_list() == [[1, 2], [3]]


def test_sequences_of_batches_vs_data(tmp_path):
    a, b = gr.array([[1.0], [2.0, 3.0]]), gr.array([[4.0]])
    p = tmp_path / "s.zarr"
    gr.save([a, b], p)  # a list of GrumpyArrays is a sequence of batches
    assert gr.load(p).to_list() == [[1.0], [2.0, 3.0], [4.0]]
    gr.save((a, b), p)
    assert gr.load(p).to_list() == [[1.0], [2.0, 3.0], [4.0]]
    gr.save([[1.0], [2.0, 3.0]], p)  # plain Python data is data
    assert gr.load(p).to_list() == [[1.0], [2.0, 3.0]]
    gr.save(np.arange(3.0), p)  # an ndarray is data
    assert gr.load(p).to_list() == [0.0, 1.0, 2.0]
    gr.save(iter([a, b]), p)
    assert len(gr.load(p)) == 3
    x = gr.array([[float(i)] * (i % 3) for i in range(10)])
    gr.save(gr.stream(x, batch_size=3), p)  # a stream yields batches
    assert gr.load(p).to_list() == x.to_list()


def test_zarr_v2_and_foreign_stores(tmp_path):
    zarr = pytest.importorskip("zarr")
    v2 = tmp_path / "v2.zarr"
    zarr.open_group(str(v2), mode="w", zarr_format=2).create_array("a", shape=(3,), dtype="f8")
    with pytest.raises(gr.StoreError) as e:
        gr.load(v2)
    assert "v2" in str(e.value)
    v3 = tmp_path / "v3.zarr"
    zarr.open_group(str(v3), mode="w").create_array("a", shape=(3,), dtype="f8")
    with pytest.raises(gr.StoreError) as e:
        gr.save(gr.array([1.0]), v3)  # overwrite=True still protects non-grumpy stores
    assert "not written by grumpy" in e.value.cause
    assert (v3 / "a" / "zarr.json").exists()
    with pytest.raises(gr.StoreError):
        gr.save(gr.array([1.0]), v2)
    (tmp_path / "file").write_text("x")
    with pytest.raises(gr.StoreError):
        gr.save(gr.array([1.0]), tmp_path / "file")


def test_killed_append_leftovers_are_cleaned(tmp_path):
    p = tmp_path / "a.zarr"
    gr.save(gr.array([[1.0, 2.0], [3.0]]), p, chunk_size=1)
    # what a killed append leaves: a temp key and a shape larger than the recorded length
    (p / "node1-data" / "c" / "0.grumpy-tmp-1-1").write_bytes(b"junk")
    doc = json.loads((p / "node1-data" / "zarr.json").read_text())
    doc["shape"] = [10]
    (p / "node1-data" / "zarr.json").write_text(json.dumps(doc))
    assert gr.load(p).to_list() == [[1.0, 2.0], [3.0]]
    gr.append(gr.array([[4.0]]), p)
    assert gr.load(p).to_list() == [[1.0, 2.0], [3.0], [4.0]]
    assert not list(p.rglob("*.grumpy-tmp-*"))
    zarr = pytest.importorskip("zarr")
    assert zarr.open_group(str(p), mode="r")["node1-data"].shape == (4,)


def test_store_dtype_and_array_protocol(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array(np.arange(6, dtype=np.int32).reshape(2, 3)), p)
    s = gr.open(p)
    assert s.dtype == gr.int32
    assert s.kind == "array"
    np.testing.assert_array_equal(np.asarray(s), np.arange(6).reshape(2, 3))
    gr.save(gr.array([[1.0], [2.0, 3.0]]), p)
    with pytest.raises(ValueError):
        np.asarray(gr.open(p))
