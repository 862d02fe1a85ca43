"""Streaming a store larger than the reader's chunk cache: one epoch of ``gr.stream`` (batch 32)
over a ≥ 1 GB protein-like store (``--gb`` sets the size; default 1.1), measuring throughput
and the peak RSS growth of the epoch relative to the store size (issue target: ≤ 0.3×).

The store is written from a generator of 256-protein blocks (``gr.save`` of an iterable, so
building it never holds the data in memory) into a temporary directory, removed at the end.
The epoch runs in a fresh child process (``VmHWM`` reset with ``/proc/self/clear_refs`` right
before the epoch), so the parent's allocations do not count.

    ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_stream_big.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grumpy as gr
import numpy as np

BLOCK = 256
BATCH = 32


def blocks(n_blocks, seed=0):
    """256 proteins × 128..384 residues × xyz float64 per block (random-walk coordinates)."""
    rng = np.random.default_rng(seed)
    for _ in range(n_blocks):
        lens = rng.integers(128, 385, size=BLOCK)
        offsets = np.concatenate([[0], np.cumsum(lens)])
        coords = np.cumsum(rng.normal(scale=2.2, size=(offsets[-1], 3)), axis=0)
        yield gr.from_offsets(coords, offsets)


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def child(path):
    st = gr.stream(path, batch_size=BATCH)
    base = status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    t0 = time.perf_counter()
    nbytes = 0
    for b in st:
        nbytes += b.nbytes
    secs = time.perf_counter() - t0
    print(json.dumps({"base": base, "peak": status("VmHWM"), "secs": secs, "bytes": nbytes}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=1.1, help="store size in GB (default 1.1)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    per_block = BLOCK * 256 * 24  # ~bytes of coordinates per block
    n_blocks = max(1, int(args.gb * 1e9 / per_block))
    tmp = Path(tempfile.mkdtemp(dir=os.environ.get("GRUMPY_BENCH_TMP")))
    try:
        path = tmp / "big.gr"
        t0 = time.perf_counter()
        gr.save(blocks(n_blocks), path)
        t_save = time.perf_counter() - t0
        store = gr.open(path)
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        print(
            f"store: {len(store)} proteins, {size / 1e9:.2f} GB on disk, "
            f"saved in {t_save:.1f} s ({size / t_save / 1e9:.2f} GB/s, from a generator)"
        )
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        growth = r["peak"] - r["base"]
        print(
            f"stream epoch (batch {BATCH}): {r['secs']:.2f} s, "
            f"{r['bytes'] / r['secs'] / 1e9:.2f} GB/s delivered, "
            f"peak RSS growth {growth / 1e6:.0f} MB = {growth / size:.3f} x the store "
            f"(target <= 0.3)"
        )
        print(
            "JSON "
            + json.dumps(
                {
                    "bench": "bench_stream_big",
                    "store_bytes": size,
                    "epoch_seconds": r["secs"],
                    "GB_per_s": r["bytes"] / r["secs"] / 1e9,
                    "rss_growth_bytes": growth,
                    "rss_growth_ratio": growth / size,
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
