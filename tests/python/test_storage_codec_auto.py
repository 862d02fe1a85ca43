"""codec="zstd" (the default) compresses each buffer only where zstd pays: a buffer zstd does
not shrink by 10% on a sample (noisy float coordinates) is stored with no compression, the
others with zstd level 1: integer buffers of two bytes or more (offsets) byte-shuffled first
inside the core `blosc` codec (cname zstd), masks and repetitive floats as plain `zstd`.
"zstd:<level>" compresses every buffer with plain zstd. "blosc[:<cname>[:<level>]]" uses the
blosc codec (byte shuffle) on every buffer it shrinks. Either way the store is plain Zarr v3 that zarr-python reads. "zstd+shuffle" is
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


def blosc_conf(path, name):
    """The configuration of buffer `name`'s blosc codec."""
    doc = json.loads((path / name / "zarr.json").read_text())
    return next(c["configuration"] for c in doc["codecs"] if c["name"] == "blosc")


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
        assert cs[n] == ["bytes", "blosc", "crc32c"], (n, cs[n])
        conf = blosc_conf(tmp_path / "s", n)
        assert (conf["cname"], conf["clevel"], conf["shuffle"], conf["typesize"]) == (
            "zstd",
            1,
            "shuffle",
            8,
        )
        assert 0 < conf["blocksize"] <= 256 << 10
    assert gr.open(tmp_path / "s").info()["codec"] == "zstd"
    assert gr.load(tmp_path / "s").to_list() == x.to_list()
    g = zarr.open_group(str(tmp_path / "s"), mode="r")
    np.testing.assert_array_equal(g[data[0]][:], np.asarray(x.values).ravel())
    np.testing.assert_array_equal(g["node0-offsets"][:], x.offsets())


def test_compressible_values_are_compressed(tmp_path):
    rows = [[float(i % 7)] * 300 for i in range(2000)]  # repetitive: zstd shrinks it a lot
    gr.save(gr.array(rows), tmp_path / "s")
    cs = codecs(tmp_path / "s")
    assert cs["node1-data"] == ["bytes", "zstd", "crc32c"], cs
    assert cs["node0-offsets"] == ["bytes", "blosc", "crc32c"], cs
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
    gr.save(x, tmp_path / "plain", codec="zstd:1")
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
    offsets = lambda p: sum(
        f.stat().st_size for f in p.rglob("*") if f.is_file() and "-offsets" in str(f)
    )
    assert offsets(tmp_path / "s") < 0.85 * offsets(tmp_path / "plain")
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


@pytest.mark.parametrize(
    "codec, cname, level",
    [("blosc", "lz4", 5), ("blosc:zstd", "zstd", 5), ("blosc:blosclz:9", "blosclz", 9)],
)
def test_blosc_codecs(tmp_path, codec, cname, level):
    x = noisy(2000)
    ints = gr.array([[i, i * 1000, -i] for i in range(3000)], dtype=gr.int32)
    rows = [[float(i % 7)] * 50 for i in range(2000)]  # repetitive floats: compressed too
    for name, a in [("x", x), ("i", ints), ("r", gr.array(rows))]:
        p = tmp_path / name
        gr.save(a, p, codec=codec)
        assert gr.open(p).info()["codec"] == codec
        assert gr.load(p).to_list() == a.to_list()
        assert gr.open(p)[10:20].to_list() == a[10:20].to_list()
        g = zarr.open_group(str(p), mode="r")
        ref = tmp_path / f"{name}-none"
        gr.save(a, ref, codec="none")
        for n, c in codecs(p).items():
            if c == ["bytes", "blosc", "crc32c"]:
                conf = blosc_conf(p, n)
                assert (conf["cname"], conf["clevel"], conf["shuffle"]) == (cname, level, "shuffle")
            elif name != "x" or not n.endswith("-data"):
                raise AssertionError((name, n, c))
            # zarr-python decodes every buffer to what an uncompressed store holds
            np.testing.assert_array_equal(g[n][:], zarr.open_group(str(ref), mode="r")[n][:])
    data = lambda cs: next(c for n, c in cs.items() if n.endswith("-data"))
    cs = codecs(tmp_path / "x")
    assert data(cs) == ["bytes", "crc32c"]  # noise: not worth compressing
    assert data(codecs(tmp_path / "i")) == ["bytes", "blosc", "crc32c"]
    # appends write the new chunks with each buffer's chain
    y = noisy(300, seed=3)
    gr.append(y, tmp_path / "x")
    assert codecs(tmp_path / "x") == cs
    assert gr.load(tmp_path / "x").to_list() == x.to_list() + y.to_list()


def test_default_offsets_are_smaller_than_plain_zstd(tmp_path):
    x = noisy(3000)
    gr.save(x, tmp_path / "d")
    gr.save(x, tmp_path / "z", codec="zstd:1")
    offsets = lambda p: sum(
        f.stat().st_size for f in p.rglob("*") if f.is_file() and "-offsets" in str(f)
    )
    assert offsets(tmp_path / "d") < 0.9 * offsets(tmp_path / "z")
