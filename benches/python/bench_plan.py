"""Fused plan executor vs plain reductions, eager chains and NumPy (issue 7: fused executor).

Run (release build): ``./scripts/dev-build --release`` then
``RAYON_NUM_THREADS=1 PYTHONPATH=python python benches/python/bench_plan.py`` and again with
``RAYON_NUM_THREADS=2``. Effective GB/s = bytes of the input leaf buffer / median time.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import grumpy as gr
from _common import protein_data, report, timeit


@gr.compile
def affine_mean(batch):
    return (batch * 2.0 + 1.0).mean(dim=1)


@gr.compile
def general_mean(batch):
    return (gr.sqrt(abs(batch)) * 0.5 - 1.0).mean(dim=1)


@gr.compile
def affine_map(batch):
    return batch * 2.0 + 1.0


@gr.compile
def mul_map(batch):
    return batch * 2.0


def main() -> None:
    coords, offsets = protein_data()
    lens = np.diff(offsets)
    x = gr.from_offsets(coords, offsets)
    nbytes = coords.nbytes
    assert affine_mean.is_compiled and general_mean.is_compiled

    def numpy_affine_mean():
        return np.add.reduceat(coords * 2.0 + 1.0, offsets[:-1], axis=0) / lens[:, None]

    def numpy_mean():
        return np.add.reduceat(coords, offsets[:-1], axis=0) / lens[:, None]

    np.testing.assert_allclose(affine_mean.plan.run(x).to_numpy(), numpy_affine_mean(), rtol=1e-12)
    assert affine_mean.plan.run(x).to_list() == affine_mean.fn(x).to_list()
    assert general_mean.plan.run(x).to_list() == general_mean.fn(x).to_list()

    cases = {
        "x.mean(dim=1) (plain)": lambda: x.mean(dim=1),
        "plan (x*2+1).mean(dim=1)": lambda: affine_mean.plan.run(x),
        "eager (x*2+1).mean(dim=1)": lambda: affine_mean.fn(x),
        "plan (sqrt(|x|)*0.5-1).mean(dim=1)": lambda: general_mean.plan.run(x),
        "eager (sqrt(|x|)*0.5-1).mean(dim=1)": lambda: general_mean.fn(x),
        "plan x*2+1": lambda: affine_map.plan.run(x),
        "numpy reduceat (x*2+1) mean": numpy_affine_mean,
        "numpy reduceat mean": numpy_mean,
    }
    rows = []
    for name, fn in cases.items():
        t = timeit(fn, repeat=9)
        rows.append({"case": name, "seconds": t, "GB_per_s": round(nbytes / t / 1e9, 2)})

    # A 32-protein batch (a slice of the big array): plain mul plan vs eager.
    b = x[100:132]
    bbytes = int(lens[100:132].sum()) * 3 * 8
    assert mul_map.plan.run(b).to_list() == (b * 2.0).to_list()
    for name, fn in {
        "32-protein batch: plan x*2": lambda: mul_map.plan.run(b),
        "32-protein batch: eager x*2": lambda: b * 2.0,
        "32-protein batch: plan (x*2+1).mean(dim=1)": lambda: affine_mean.plan.run(b),
    }.items():
        t = timeit(fn, repeat=9)
        rows.append({"case": name, "seconds": t, "GB_per_s": round(bbytes / t / 1e9, 2)})
    threads = os.environ.get("RAYON_NUM_THREADS", "default")
    print(f"input leaf buffer {nbytes / 1e6:.1f} MB, RAYON_NUM_THREADS={threads}")
    report(f"plan_threads_{threads}", rows)


if __name__ == "__main__":
    main()
