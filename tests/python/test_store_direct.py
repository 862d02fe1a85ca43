"""Local stores are read with pread straight into the result (crates/grumpy-zarr/src/direct.rs):
the values equal the saved ones and zarr-python's reading of the same buffers for random
arrays, chunk sizes and codecs; damaged chunk files are StoreErrors on every read path; a full
load holds no intermediate copy of the data (peak memory measured in a fresh process)."""

from __future__ import annotations

import json
import os
import textwrap

import grumpy as gr
import numpy as np
import pytest
from helpers import run_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROWS_ST = st.lists(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=12),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=ROWS_ST,
    chunk=st.sampled_from([1, 2, 3, 8, 50, 1000]),
    codec=st.sampled_from(["none", "zstd", "zstd:3", "gzip"]),
    data=st.data(),
)
def test_reads_equal_the_saved_rows_and_zarr_python(tmp_path, rows, chunk, codec, data):
    p = tmp_path / "s.zarr"
    gr.save(gr.array(rows, dtype="float64"), p, chunk_size=chunk, codec=codec)
    assert gr.load(p).to_list() == rows
    s = gr.open(p)
    a = data.draw(st.integers(0, len(rows)))
    b = data.draw(st.integers(a, len(rows)))
    assert s[a:b].to_list() == rows[a:b]
    assert [r for batch in gr.stream(p, batch_size=7) for r in batch.to_list()] == rows
    zarr = pytest.importorskip("zarr")
    g = zarr.open_group(str(p), mode="r")
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    np.testing.assert_array_equal(g["node0-offsets"][:], offsets)
    flat = np.array([v for r in rows for v in r], dtype=np.float64)
    np.testing.assert_array_equal(g["node1-data"][:], flat)


def store(tmp_path, codec):
    rows = [[float(10 * i + j) for j in range(i % 5 + 1)] for i in range(40)]
    p = tmp_path / f"s-{codec}.zarr"
    gr.save(gr.array(rows), p, chunk_size=8, codec=codec)
    return p, rows


def every_read_fails(p):
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.StoreError):
        s = gr.open(p)
        s[0 : len(s)]
    with pytest.raises(gr.StoreError):
        for _ in gr.stream(p, batch_size=4):
            pass


@pytest.mark.parametrize("codec", ["none", "zstd:3"])
def test_damaged_chunk_files_are_store_errors(tmp_path, codec):
    p, rows = store(tmp_path, codec)
    f = p / "node1-data" / "c" / "1"
    good = f.read_bytes()
    damaged = [
        good[:0],
        good[:3],
        good[: len(good) // 2],
        good[:-1],
        good + b"\x00\x00\x00\x00\x01",  # oversized
        bytes([good[0] ^ 0x40]) + good[1:],  # flipped payload byte
        good[:-1] + bytes([good[-1] ^ 0x01]),  # flipped checksum byte
    ]
    for bad in damaged:
        f.write_bytes(bad)
        every_read_fails(p)
    f.unlink()
    every_read_fails(p)
    f.mkdir()
    every_read_fails(p)
    f.rmdir()
    f.write_bytes(good)
    assert gr.load(p).to_list() == rows


def test_a_chunk_from_another_buffer_is_refused(tmp_path):
    # a valid, checksummed chunk of the offsets (same byte size as a data chunk) put in place
    # of a data chunk still passes its checksum: the form's dtype and lengths make it data of
    # the right shape, so it must at least never crash; a differently sized one is an error
    p, _rows = store(tmp_path, "none")
    offsets_chunk = (p / "node0-offsets" / "c" / "0").read_bytes()
    (p / "node1-data" / "c" / "2").write_bytes(offsets_chunk)
    try:
        gr.load(p)
    except gr.StoreError:
        pass
    (p / "node1-data" / "c" / "2").write_bytes(offsets_chunk + b"\x00" * 8)
    every_read_fails(p)


PEAK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {pydir!r})
    import grumpy as gr

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024

    s = gr.open(sys.argv[1])
    s[0:1]  # import and start the worker threads first
    base = status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        print(json.dumps(None))
        raise SystemExit
    x = gr.load(sys.argv[1])
    peak = status("VmHWM")
    print(json.dumps({{"growth": peak - base, "bytes": s.info()["bytes"], "sum": float(x.values.sum())}}))
    """
)


def test_peak_memory_of_a_load_is_the_data(tmp_path):
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 200, 64_000)
    flat = rng.standard_normal(int(lengths.sum()))
    p = tmp_path / "big.zarr"
    gr.save(gr.from_offsets(flat, np.concatenate([[0], np.cumsum(lengths)])), p)
    pydir = os.path.join(os.path.dirname(gr.__file__), os.pardir)
    out = run_python("-c", PEAK.format(pydir=os.path.abspath(pydir)), p, timeout=300)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r is None:
        pytest.skip("the kernel does not allow resetting the peak RSS (/proc/self/clear_refs)")
    assert r["bytes"] >= 50e6
    assert r["sum"] == pytest.approx(float(flat.sum()), rel=1e-9)
    assert r["growth"] <= 1.3 * r["bytes"], f"peak {r['growth'] / r['bytes']:.2f}x the data"
