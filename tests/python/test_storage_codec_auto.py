"""codec="zstd" (the default) compresses each buffer only where zstd pays: a buffer zstd does
not shrink by 10% on a sample (noisy float coordinates) is stored with no compression, the
others (offsets, masks, repetitive values) with zstd level 1. "zstd:<level>" compresses every
buffer. Either way the store is plain Zarr v3 that zarr-python reads. "zstd+shuffle" is
"zstd" with integer buffers byte-shuffled first (numcodecs.shuffle, a Zarr v3 extension that
zarr-python reads with a warning)."""

import json
import warnings

import grumpy as gr
import numpy as np
import pytest

zarr = pytest.importorskip("zarr")


def codecs(path):
    """{buffer name: [codec names]} from each array's zarr.json."""
    out = {}
    for meta in path.rglob("zarr.json"):
        doc = json.loads(meta.read_text())
        if doc.get("node_type") == "array":
            out[meta.parent.relative_to(path).as_posix()] = [c["name"] for c in doc["codecs"]]
    return out


def noisy(n_rows=4000, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(50, 150, n_rows)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return gr.from_offsets(rng.standard_normal((offsets[-1], 3)), offsets)


def test_default_stores_noise_raw_and_offsets_compressed(tmp_path):
    x = noisy()
    gr.save(x, tmp_path / "s")
    cs = codecs(tmp_path / "s")
    data = [n for n in cs if n.endswith("-data")]
    offs = [n for n in cs if n.endswith("-offsets")]
    assert data and offs
    for n in data:
        assert cs[n] == ["bytes", "crc32c"], (n, cs[n])
    for n in offs:
        assert cs[n] == ["bytes", "zstd", "crc32c"], (n, cs[n])
    assert gr.open(tmp_path / "s").info()["codec"] == "zstd"
    assert gr.load(tmp_path / "s").to_list() == x.to_list()
    g = zarr.open_group(str(tmp_path / "s"), mode="r")
    np.testing.assert_array_equal(g[data[0]][:], np.asarray(x.values).ravel())


def test_compressible_values_are_compressed(tmp_path):
    rows = [[float(i % 7)] * 300 for i in range(2000)]  # repetitive: zstd shrinks it a lot
    gr.save(gr.array(rows), tmp_path / "s")
    cs = codecs(tmp_path / "s")
    assert all(c == ["bytes", "zstd", "crc32c"] for c in cs.values()), cs
    assert gr.load(tmp_path / "s").to_list() == rows


def test_explicit_level_compresses_every_buffer(tmp_path):
    x = noisy(500)
    gr.save(x, tmp_path / "s", codec="zstd:1")
    cs = codecs(tmp_path / "s")
    assert all(c == ["bytes", "zstd", "crc32c"] for c in cs.values()), cs
    assert gr.open(tmp_path / "s").info()["codec"] == "zstd:1"
    assert gr.load(tmp_path / "s").to_list() == x.to_list()


def test_append_keeps_each_buffers_codec_and_adds_masks(tmp_path):
    x = noisy(300)
    path = tmp_path / "s"
    gr.save(x, path)
    before = codecs(path)
    y = noisy(200, seed=1)
    gr.append(y, path)
    gr.append(gr.array([[[1.0, 2.0, 3.0]], None]), path)  # a null row: a new mask buffer
    after = codecs(path)
    for n, c in before.items():
        assert after[n] == c
    masks = [n for n in after if n.endswith("-mask")]
    assert masks and all(after[n] == ["bytes", "zstd", "crc32c"] for n in masks)
    want = x.to_list() + y.to_list() + [[[1.0, 2.0, 3.0]], None]
    assert gr.load(path).to_list() == want


def test_zstd_shuffle_shuffles_integer_buffers_only(tmp_path):
    x = noisy(3000)
    gr.save(x, tmp_path / "plain")
    gr.save(x, tmp_path / "s", codec="zstd+shuffle")
    cs = codecs(tmp_path / "s")
    for n, c in cs.items():
        if n.endswith("-offsets"):
            assert c == ["bytes", "numcodecs.shuffle", "zstd", "crc32c"], (n, c)
        else:
            assert c == ["bytes", "crc32c"], (n, c)  # noisy floats: raw, as with "zstd"
    assert gr.open(tmp_path / "s").info()["codec"] == "zstd+shuffle"
    assert gr.load(tmp_path / "s").to_list() == x.to_list()
    r = gr.open(tmp_path / "s")
    assert r[100:140].to_list() == x[100:140].to_list()
    size = lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    offsets = lambda p: sum(
        f.stat().st_size for f in p.rglob("*") if f.is_file() and "-offsets" in str(f)
    )
    assert offsets(tmp_path / "s") < 0.85 * offsets(tmp_path / "plain")
    assert size(tmp_path / "s") < size(tmp_path / "plain")
    # zarr-python reads every buffer equal to ours (numcodecs codecs warn: not core Zarr v3)
    g = zarr.open_group(str(tmp_path / "s"), mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for n in cs:
            np.testing.assert_array_equal(g[n][:], zarr.open_group(str(tmp_path / "plain"))[n][:])
    # appends keep the chain; integer values are shuffled too, int8 (one byte) is not
    y = noisy(100, seed=1)
    gr.append(y, tmp_path / "s")
    assert codecs(tmp_path / "s") == cs
    assert gr.load(tmp_path / "s").to_list() == x.to_list() + y.to_list()
    ints = gr.array([[i, i * 1000] for i in range(5000)], dtype=gr.int32)
    gr.save(ints, tmp_path / "i", codec="zstd+shuffle")
    ci = codecs(tmp_path / "i")
    assert ci["node1-data"] == ["bytes", "numcodecs.shuffle", "zstd", "crc32c"]
    assert gr.load(tmp_path / "i").to_list() == ints.to_list()
    small = gr.array([[i % 100, 1] for i in range(5000)], dtype=gr.int8)
    gr.save(small, tmp_path / "b", codec="zstd+shuffle")
    assert codecs(tmp_path / "b")["node1-data"] == ["bytes", "zstd", "crc32c"]
