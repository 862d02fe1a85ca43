"""Buffers with many chunks (more than 64) are written as `sharding_indexed` shards of 64
chunks: zarr-python 3 and Awkward read them, gr.open reads row ranges, and append rewrites
only the last shard."""

from __future__ import annotations

import json

import grumpy as gr
import numpy as np
import pytest

zarr = pytest.importorskip("zarr")


def _rows(n):
    return [None if i % 13 == 7 else [float(i) + k / 4 for k in range(i % 5)] for i in range(n)]


def _codec(path, name):
    return json.loads((path / name / "zarr.json").read_text())["codecs"][0]


def _model_buffers(rows):
    """Offsets / data / mask of a nullable list of floats, built without grumpy."""
    lens = [0 if r is None else len(r) for r in rows]
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    data = np.array([x for r in rows if r is not None for x in r], dtype=np.float64)
    valid = np.array([r is not None for r in rows])
    mask = np.packbits(valid, bitorder="little")
    return offsets, data, mask


def test_zarr_python_reads_sharded_buffers(tmp_path):
    rows = _rows(3000)
    p = tmp_path / "s.zarr"
    gr.save(gr.array(rows), p, chunk_size=10)  # 300 chunks of rows → 5 shards
    c = _codec(p, "node0-offsets")
    assert c["name"] == "sharding_indexed"
    assert c["configuration"]["chunk_shape"] == [10]
    assert len(list((p / "node0-offsets" / "c").iterdir())) == 5  # not 301 files
    g = zarr.open_group(str(p), mode="r")
    offsets, data, mask = _model_buffers(rows)
    np.testing.assert_array_equal(g["node0-offsets"][:], offsets)
    np.testing.assert_array_equal(g["node1-data"][:], data)
    np.testing.assert_array_equal(g["node0-mask"][:], mask)
    assert g["node1-data"].shards is not None
    # zarr-python partial reads inside a shard
    np.testing.assert_array_equal(g["node0-offsets"][1234:1250], offsets[1234:1250])
    assert gr.load(p).to_list() == rows
    s = gr.open(p)
    for a, b in [(0, 1), (639, 641), (1000, 1700), (2990, 3000)]:
        assert s[a:b].to_list() == rows[a:b]
    assert s.info()["chunks"]["node0-offsets"]["nchunks"] == 301  # inner chunks


def test_awkward_rebuilds_a_sharded_store(tmp_path):
    ak = pytest.importorskip("awkward")
    rows = [[f"w{i}", None] if i % 3 else [] for i in range(700)]
    p = tmp_path / "s.zarr"
    gr.save(gr.array(rows), p, chunk_size=1)
    assert _codec(p, "node0-offsets")["name"] == "sharding_indexed"
    g = zarr.open_group(str(p), mode="r")
    arr = ak.from_buffers(g.attrs["form"], g.attrs["length"], {n: a[:] for n, a in g.arrays()})
    assert arr.to_list() == rows


def test_small_buffers_stay_plain(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array(_rows(640)), p, chunk_size=10)  # 64 chunks of offsets + 1 → 65
    assert _codec(p, "node0-offsets")["name"] == "sharding_indexed"
    gr.save(gr.array(_rows(630)), p, chunk_size=10)  # 64 chunks: plain
    assert _codec(p, "node0-offsets")["name"] == "bytes"
    gr.save(gr.array(_rows(5000)), p)  # default ~1 MiB chunks: few, plain
    assert _codec(p, "node1-data")["name"] == "bytes"


def test_append_to_sharded_store(tmp_path):
    p = tmp_path / "s.zarr"
    first, second = _rows(1000), _rows(1300)[1000:]
    gr.save(gr.array(first), p, chunk_size=4)
    shard_dir = p / "node0-offsets" / "c"
    before = {f.name: f.read_bytes() for f in shard_dir.iterdir()}
    gr.append(gr.array(second), p)
    assert gr.load(p).to_list() == first + second
    after = {f.name: f.read_bytes() for f in shard_dir.iterdir()}
    changed = sorted(int(k) for k in after if before.get(k) != after[k])
    # 1001 offsets in shards of 256 → shards 0..3; shard 3 was partly filled
    assert changed == [3, 4, 5]
    g = zarr.open_group(str(p), mode="r")
    offsets, data, _ = _model_buffers(first + second)
    np.testing.assert_array_equal(g["node0-offsets"][: len(offsets)], offsets)
    np.testing.assert_array_equal(g["node1-data"][: len(data)], data)


def test_missing_shard_is_store_error(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(gr.array(_rows(1000)), p, chunk_size=1)
    (p / "node0-offsets" / "c" / "2").unlink()
    with pytest.raises(gr.StoreError) as e:
        gr.load(p)
    assert "node0-offsets" in str(e.value)
    assert gr.open(p)[0:5].to_list() == _rows(5)
