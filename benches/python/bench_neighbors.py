"""kNN benchmark: grumpy vs pykdtree, scipy cKDTree and scikit-learn in one run, same data.

Workload A: 4096 chain-like proteins (128..384 residues, 3.8 Å random-walk steps, seed 0),
k=16, loop=False, within each protein (dim=1). Workload B: one cloud of 200,000 points, k=16.
Prints medians of repeats and ratios (competitor time / grumpy time). Run with a release build:
``./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_neighbors.py``.
"""

from __future__ import annotations

import os
import statistics
import time

import grumpy as gr
import numpy as np

K = 16
THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def proteins(n=4096, seed=0):
    rng = np.random.default_rng(seed)
    lens = rng.integers(128, 385, size=n)
    steps = rng.normal(size=(int(lens.sum()), 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    coords = np.cumsum(steps, axis=0)
    # restart each walk at its own origin
    starts = np.repeat(coords[offsets[:-1]] - steps[offsets[:-1]], lens, axis=0)
    return (coords - starts), offsets


def median_time(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def row(name, t, n, ours):
    ratio = "" if ours is None else f"  grumpy is {t / ours:5.2f}x faster"
    print(f"  {name:34s} {t * 1e3:9.1f} ms  {n / t / 1e6:6.2f} M queries/s{ratio}")


def per_group(coords, offsets, query_one):
    def go():
        for a, b in zip(offsets[:-1], offsets[1:]):
            query_one(coords[a:b])

    return go


def main():
    coords, offsets = proteins()
    nq = len(coords)
    batch = gr.from_offsets(coords.ravel(), offsets, np.arange(0, 3 * nq + 1, 3))
    print(f"A: {len(offsets) - 1} proteins, {nq} residues, k={K}, loop=False, {THREADS} threads")
    ours = median_time(lambda: gr.neighbors(batch, batch, k=K, dim=1, loop=False), 5)
    row("grumpy gr.neighbors", ours, nq, None)
    try:
        from pykdtree.kdtree import KDTree as PyKD

        os.environ["OMP_NUM_THREADS"] = str(THREADS)
        t = median_time(per_group(coords, offsets, lambda c: PyKD(c).query(c, k=K + 1)), 3)
        row("pykdtree (per protein)", t, nq, ours)
    except ImportError:
        print("  pykdtree not installed")
    try:
        from scipy.spatial import cKDTree

        t = median_time(
            per_group(
                coords,
                offsets,
                lambda c: cKDTree(c).query(c, k=K + 1, workers=THREADS),
            ),
            3,
        )
        row("scipy cKDTree (per protein)", t, nq, ours)
    except ImportError:
        print("  scipy not installed")
    try:
        from sklearn.neighbors import NearestNeighbors

        t = median_time(
            per_group(
                coords,
                offsets,
                lambda c: NearestNeighbors(n_neighbors=K, n_jobs=THREADS).fit(c).kneighbors(),
            ),
            1,
        )
        row("scikit-learn (per protein)", t, nq, ours)
    except ImportError:
        print("  scikit-learn not installed")

    rng = np.random.default_rng(0)
    cloud = rng.uniform(0, 100, size=(200_000, 3))
    g = gr.array(cloud)
    print(f"B: one cloud of {len(cloud)} points, k={K}")
    ours = median_time(lambda: gr.neighbors(g, g, k=K), 3)
    row("grumpy gr.neighbors", ours, len(cloud), None)
    try:
        from scipy.spatial import cKDTree

        for w in (1, THREADS):
            t = median_time(lambda w=w: cKDTree(cloud).query(cloud, k=K, workers=w), 3)
            row(f"scipy cKDTree (workers={w})", t, len(cloud), ours)
    except ImportError:
        pass
    try:
        from pykdtree.kdtree import KDTree as PyKD

        t = median_time(lambda: PyKD(cloud).query(cloud, k=K), 3)
        row("pykdtree", t, len(cloud), ours)
    except ImportError:
        pass


if __name__ == "__main__":
    main()
