"""Core kernels vs NumPy and Awkward on protein-like data (issue: core arrays).

Run: ``python benches/python/bench_core.py`` (after ``pip install .``; awkward optional).
Prints our time and the competitors' measured in the same run, and the ratios.
"""

from __future__ import annotations

import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import grumpy as gr
from _common import protein_data, report, timeit


def main() -> None:
    coords, offsets = protein_data()
    n_res = len(coords)
    lens = np.diff(offsets)
    x = gr.from_offsets(coords, offsets)
    rows = []

    def ours():
        return (x * 2.0 + 1.0).mean(dim=1)

    def numpy_ref():
        y = coords * 2.0 + 1.0
        return np.add.reduceat(y, offsets[:-1], axis=0) / lens[:, None]

    np.testing.assert_allclose(ours().to_numpy(), numpy_ref(), rtol=1e-12)
    t_ours = timeit(ours)
    t_np = timeit(numpy_ref)
    rows.append({"case": "(x*2+1).mean(dim=1) grumpy", "seconds": t_ours})
    rows.append(
        {
            "case": "(x*2+1).mean(dim=1) numpy reduceat",
            "seconds": t_np,
            "ratio_vs_grumpy": round(t_np / t_ours, 2),
        }
    )
    try:
        import awkward as ak

        ax = ak.unflatten(coords, lens, axis=0)

        def awk():
            return ak.mean(ax * 2.0 + 1.0, axis=1)

        t_ak = timeit(awk, repeat=3)
        rows.append(
            {
                "case": "(x*2+1).mean(axis=1) awkward",
                "seconds": t_ak,
                "ratio_vs_grumpy": round(t_ak / t_ours, 2),
            }
        )
    except ImportError:
        print("(awkward not installed: skipping its rows)")

    nested = [coords[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    t0 = time.perf_counter()
    gr.array(nested)
    t_build = min(
        timeit(lambda: gr.array(nested), repeat=3, min_time=0.0), time.perf_counter() - t0
    )
    rows.append(
        {
            "case": "gr.array(nested lists)",
            "seconds": t_build,
            "M_residues_per_s": round(n_res / t_build / 1e6, 2),
        }
    )
    try:
        import awkward as ak

        t_ak_build = timeit(lambda: ak.from_iter(nested), repeat=1, min_time=0.0)
        rows.append(
            {
                "case": "ak.from_iter(nested lists)",
                "seconds": t_ak_build,
                "M_residues_per_s": round(n_res / t_ak_build / 1e6, 2),
                "ratio_vs_grumpy": round(t_ak_build / t_build, 2),
            }
        )
    except ImportError:
        pass
    report("core", rows)


if __name__ == "__main__":
    main()
