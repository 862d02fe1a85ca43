"""kNN benchmark: grumpy vs pykdtree, scipy cKDTree and scikit-learn in one run, same data.

Workload A: 4096 chain-like proteins (128..384 residues, 3.8 Å random-walk steps, seed 0),
k=16, loop=False, within each protein (dim=1). Workload B: one cloud of 200,000 points, k=16.
Prints medians of repeats: wall time, queries/s, queries per CPU-second of this process (the
fair number on a shared machine), and ratios (competitor time / grumpy time). Run with a
release build:
``./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_neighbors.py``
(``BENCH_THREADS`` sets the thread count, default 2; ``BENCH_REPEATS`` the repeats, default 7;
``GRUMPY_BENCH_QUICK=1``: 1024 proteins, 50,000 points, 3 repeats).
"""

from __future__ import annotations

import os

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
QUICK = os.environ.get("GRUMPY_BENCH_QUICK", "") not in ("", "0")  # run_all.py --quick
REPEATS = int(os.environ.get("BENCH_REPEATS", "3" if QUICK else "7"))
N_PROTEINS, N_CLOUD = (1024, 50_000) if QUICK else (4096, 200_000)
# thread pools read these when they start: set them before importing anything that has one
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("RAYON_NUM_THREADS", str(THREADS))

import statistics
import time

import grumpy as gr
import numpy as np

K = 16


def proteins(n=N_PROTEINS, seed=0):
    rng = np.random.default_rng(seed)
    lens = rng.integers(128, 385, size=n)
    steps = rng.normal(size=(int(lens.sum()), 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    coords = np.cumsum(steps, axis=0)
    # restart each walk at its own origin
    starts = np.repeat(coords[offsets[:-1]] - steps[offsets[:-1]], lens, axis=0)
    return (coords - starts), offsets


def measure(fn, repeats):
    """Median wall and CPU seconds of `repeats` calls (after one warm-up)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return statistics.median(walls), statistics.median(cpus)


def row(name, t, n, ours=None):
    wall, cpu = t
    ratio = "" if ours is None else f"  grumpy {wall / ours[0]:5.2f}x (cpu {cpu / ours[1]:5.2f}x)"
    print(
        f"  {name:36s} {wall * 1e3:8.1f} ms  {n / wall / 1e6:5.2f} M q/s"
        f"  {n / cpu / 1e6:5.2f} M q/cpu-s{ratio}",
        flush=True,
    )


def per_group(coords, offsets, query_one):
    def go():
        for a, b in zip(offsets[:-1], offsets[1:]):
            query_one(coords[a:b])

    return go


def check_parity(batch, coords, offsets):
    """grumpy's distances equal cKDTree's on a sample of proteins (sanity, not a test)."""
    from scipy.spatial import cKDTree

    _, dist = gr.neighbors(batch, batch, k=K, dim=1, loop=False, return_distances=True)
    for g in range(0, len(offsets) - 1, 512):
        c = coords[offsets[g] : offsets[g + 1]]
        want = cKDTree(c).query(c, k=K + 1)[0][:, 1:]
        got = np.array(dist[g].to_list())
        assert np.allclose(got, want, rtol=1e-12, atol=1e-9), g


def workload_a():
    coords, offsets = proteins()
    nq = len(coords)
    batch = gr.from_offsets(coords.ravel(), offsets, np.arange(0, 3 * nq + 1, 3))
    print(f"A: {len(offsets) - 1} proteins, {nq} residues, k={K}, loop=False, {THREADS} threads")
    ours = measure(lambda: gr.neighbors(batch, batch, k=K, dim=1, loop=False), REPEATS)
    row("grumpy gr.neighbors (pairs)", ours, nq)
    t = measure(
        lambda: gr.neighbors(batch, batch, k=K, dim=1, loop=False, output="edge_index"), REPEATS
    )
    row("grumpy (edge_index)", t, nq)
    t = measure(
        lambda: gr.neighbors(batch, batch, k=K, dim=1, loop=False, return_distances=True),
        REPEATS,
    )
    row("grumpy (pairs + distances)", t, nq)
    try:
        check_parity(batch, coords, offsets)
    except ImportError:
        pass
    try:
        from pykdtree.kdtree import KDTree as PyKD

        t = measure(per_group(coords, offsets, lambda c: PyKD(c).query(c, k=K + 1)), 3)
        row("pykdtree (per protein)", t, nq, ours)
    except ImportError:
        print("  pykdtree not installed")
    try:
        from scipy.spatial import cKDTree

        fn = per_group(coords, offsets, lambda c: cKDTree(c).query(c, k=K + 1, workers=THREADS))
        row("scipy cKDTree (per protein)", measure(fn, 3), nq, ours)
    except ImportError:
        print("  scipy not installed")
    try:
        from sklearn.neighbors import NearestNeighbors

        fn = per_group(
            coords,
            offsets,
            lambda c: NearestNeighbors(n_neighbors=K, n_jobs=THREADS).fit(c).kneighbors(),
        )
        row("scikit-learn (per protein)", measure(fn, 1), nq, ours)
    except ImportError:
        print("  scikit-learn not installed")


def workload_b():
    rng = np.random.default_rng(0)
    cloud = rng.uniform(0, 100, size=(N_CLOUD, 3))
    g = gr.array(cloud)
    n = len(cloud)
    print(f"B: one cloud of {n} points, k={K}")
    ours = measure(lambda: gr.neighbors(g, g, k=K), REPEATS)
    row("grumpy gr.neighbors (pairs)", ours, n)
    row("grumpy (edge_index)", measure(lambda: gr.neighbors(g, g, k=K, output="edge_index"), 3), n)
    try:
        from scipy.spatial import cKDTree

        for w in (1, THREADS):
            t = measure(lambda w=w: cKDTree(cloud).query(cloud, k=K, workers=w), 3)
            row(f"scipy cKDTree (workers={w})", t, n, ours)
    except ImportError:
        pass
    try:
        from pykdtree.kdtree import KDTree as PyKD

        row("pykdtree", measure(lambda: PyKD(cloud).query(cloud, k=K), 3), n, ours)
    except ImportError:
        pass


if __name__ == "__main__":
    workload_a()
    workload_b()
