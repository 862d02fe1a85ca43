"""Shared helpers for the comparison benchmarks: seeded protein-like data and timing."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Callable

import numpy as np

#: Quick mode (``--quick`` on the command line or ``GRUMPY_BENCH_QUICK=1``, as
#: ``run_all.py --quick`` sets it): a quarter of the data and fewer repeats, for smoke runs.
QUICK = "--quick" in sys.argv or os.environ.get("GRUMPY_BENCH_QUICK", "") not in ("", "0")
N_PROTEINS = 1024 if QUICK else 4096


def protein_data(n_proteins: int = N_PROTEINS, lo: int = 128, hi: int = 384, seed: int = 0):
    """Chain-like proteins: per protein 128..384 residues of xyz, 3.8 Å random-walk steps.

    Returns ``(coords (N, 3) float64, offsets (n_proteins + 1,) int64)``.
    """
    rng = np.random.default_rng(seed)
    lens = rng.integers(lo, hi + 1, size=n_proteins)
    offsets = np.zeros(n_proteins + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    steps = rng.normal(size=(int(offsets[-1]), 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
    coords = np.empty_like(steps)
    for a, b in zip(offsets[:-1], offsets[1:]):
        coords[a:b] = np.cumsum(steps[a:b], axis=0)
    return coords, offsets


def timeit(fn: Callable[[], object], repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call over ``repeat`` rounds (each round loops until ``min_time``;
    at most 3 rounds in quick mode)."""
    if QUICK:
        repeat = min(repeat, 3)
    fn()
    return statistics.median(per_call(fn, min_time) for _ in range(repeat))


def per_call(fn: Callable[[], object], min_time: float) -> float:
    """Seconds per call of ``fn``, called back to back until ``min_time`` has passed (at least
    once): one sample."""
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= min_time:
            return el / n


def report(name: str, rows: list[dict], out_dir: str | None = None) -> None:
    """Print a table and optionally write ``<out_dir>/<name>.json``."""
    print(f"\n== {name}")
    for r in rows:
        extra = "  ".join(f"{k}={v}" for k, v in r.items() if k not in ("case", "seconds"))
        print(f"  {r['case']:<48} {r['seconds'] * 1e3:10.3f} ms  {extra}")
    out_dir = out_dir or os.environ.get("GRUMPY_BENCH_OUT")
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(rows, f, indent=1)
