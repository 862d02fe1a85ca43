"""The save path after its speed-up: chunk files written straight from the arrays' buffers
(no per-file fsync, plain chunks encoded without zarrs' copies, chunks in parallel), the
replaced store removed, and the GRUMPY_FSYNC=1 switch. The references are
NumPy arrays and zarr-python reading the store's buffers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import grumpy as gr
import numpy as np
import pytest


def ragged(n_rows, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 9, n_rows)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = (rng.standard_normal(int(offsets[-1])) * 1000).astype(dtype)
    return gr.from_offsets(values, offsets), values, offsets


@pytest.mark.parametrize("fsync", ["0", "1"])
@pytest.mark.parametrize("codec", ["zstd", "zstd+shuffle", "none", "zstd:3", "gzip"])
@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.int64, np.int32, np.int16, np.uint8, np.bool_]
)
def test_save_and_append_round_trip_every_chain(tmp_path, monkeypatch, fsync, codec, dtype):
    monkeypatch.setenv("GRUMPY_FSYNC", fsync)
    a, values, offsets = ragged(3_000, 1, dtype)
    b, values_b, offsets_b = ragged(700, 2, dtype)
    p = tmp_path / "s.zarr"
    gr.save(a, p, codec=codec, chunk_size=37)  # 82 chunks of offsets: sharded
    gr.append(b, p)
    gr.append(b[0:1], p)
    back = gr.load(p)
    want_v = np.concatenate([values, values_b, values_b[: offsets_b[1]]])
    np.testing.assert_array_equal(np.asarray(back.values), want_v)
    want_o = np.concatenate(
        [offsets, offsets[-1] + offsets_b[1:], offsets[-1] + offsets_b[-1] + offsets_b[1:2]]
    )
    np.testing.assert_array_equal(np.asarray(back.offsets(0)), want_o)


def test_zarr_python_reads_the_chunks_written_directly(tmp_path):
    zarr = pytest.importorskip("zarr")
    a, values, offsets = ragged(20_000, 3)
    for codec in ["zstd", "none", "zstd:1"]:
        p = tmp_path / f"{codec.replace(':', '_')}.zarr"
        gr.save(a, p, codec=codec, chunk_size=3_000)  # 7 chunks, a padded last one
        g = zarr.open_group(str(p), mode="r")
        np.testing.assert_array_equal(g["node1-data"][:], values)
        np.testing.assert_array_equal(g["node0-offsets"][:], offsets)


def test_overwriting_removes_the_old_store(tmp_path):
    p = tmp_path / "s.zarr"
    for seed in range(4):
        a, values, _ = ragged(5_000, seed)
        gr.save(a, p)
        np.testing.assert_array_equal(np.asarray(gr.load(p).values), values)
        assert sorted(x.name for x in tmp_path.iterdir()) == ["s.zarr"]


def test_fsync_switch_syncs_every_file(tmp_path):
    """With GRUMPY_FSYNC=1 a save calls fsync on every file of the new store (counted with
    strace when it is installed); without it, on none."""
    strace = shutil.which("strace")
    if not strace:
        pytest.skip("strace is not installed")
    code = f"""
import numpy as np, grumpy as gr
x = gr.from_offsets(np.arange(300_000, dtype=np.float64), np.arange(0, 300_001, 30))
gr.save(x, {str(tmp_path / "s.zarr")!r}, chunk_size=2_000)
"""
    counts = {}
    for fsync in ["0", "1"]:
        env = {**os.environ, "GRUMPY_FSYNC": fsync}
        out = subprocess.run(
            [strace, "-f", "-c", "-e", "trace=fsync", sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            pytest.skip(f"strace cannot trace here: {out.stderr[-200:]}")
        line = [ln for ln in out.stderr.splitlines() if ln.rstrip().endswith("fsync")]
        counts[fsync] = int(line[0].split()[3]) if line else 0
    n_files = sum(len(f) for _, _, f in os.walk(tmp_path / "s.zarr"))
    assert counts["0"] == 0, counts
    assert counts["1"] >= n_files, (counts, n_files)
