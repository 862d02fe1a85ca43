"""One epoch of gr.stream over a 4096-protein source (protein → residue → xyz), batch 32.

Prints delivered GB/s (bytes of the batches handed to Python per second of wall time) and the
Python-side cost per batch, for an in-memory source and, when storage is available, a store.

    ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_stream.py
"""

from __future__ import annotations

import os
import tempfile
import time

import grumpy as gr
import numpy as np
from grumpy import _core

N_PROTEINS, BATCH = 4096, 32


def proteins(seed=0):
    rng = np.random.default_rng(seed)
    residues = rng.integers(50, 600, N_PROTEINS)
    off0 = np.concatenate([[0], np.cumsum(residues)]).astype(np.int64)
    off1 = np.arange(0, 3 * int(off0[-1]) + 1, 3, dtype=np.int64)
    xyz = rng.standard_normal(3 * int(off0[-1]))
    return gr.from_offsets(xyz, off0, off1)


def epoch(st, repeat=5):
    best, nbytes, n = float("inf"), 0, 0
    for _ in range(repeat):
        t = time.perf_counter()
        nb = n = 0
        for b in st:
            nb += b.nbytes
            n += 1
        best = min(best, time.perf_counter() - t)
        nbytes = nb
    return best, nbytes, n


def overhead(st, repeat=5):
    """Per-batch cost of next() when the next batch is already decoded (window full)."""
    best = float("inf")
    for _ in range(repeat):
        it = iter(st)
        next(it)
        time.sleep(0.05)  # let the readers fill the window
        k = st.prefetch - 1
        t = time.perf_counter()
        for _ in range(k):
            next(it)
        best = min(best, (time.perf_counter() - t) / k)
        del it
    return best


def report(name, st):
    secs, nbytes, n = epoch(st)
    print(
        f"{name:<28} {n} batches  {nbytes / 1e6:8.1f} MB  {secs * 1e3:8.2f} ms  "
        f"{nbytes / secs / 1e9:7.2f} GB/s  {secs / n * 1e6:6.2f} us/batch (epoch)  "
        f"{overhead(st) * 1e6:6.2f} us/batch (ready next())"
    )


def main():
    x = proteins()
    print(f"source: {N_PROTEINS} proteins, {x.size // 3} residues, {x.nbytes / 1e6:.1f} MB")
    report("memory", gr.stream(x, batch_size=BATCH, prefetch=16))
    report("memory shuffle", gr.stream(x, batch_size=BATCH, shuffle=True, seed=0, prefetch=16))
    report("memory batch_on=residue", gr.stream(x, batch_size=BATCH * 300, batch_on=1, prefetch=16))
    report(
        "memory shuffle residues",
        gr.stream(x, batch_size=BATCH, shuffle=1, seed=0, prefetch=16, workers=2),
    )
    if hasattr(_core, "open_store") and hasattr(gr, "save"):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "proteins.gr")
            gr.save(x, path)
            report("store", gr.stream(path, batch_size=BATCH, prefetch=16))
    else:
        print("store: skipped (this build has no storage)")


if __name__ == "__main__":
    main()
