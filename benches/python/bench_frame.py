"""Dataframe dot paths: peeling a level is O(1) in the data size, dot assignment is zero copy.

    ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_frame.py

Builds protein frames (molecule → residue → atom → xyz) of growing size from flat NumPy
buffers and times, in one run:
  * `df.residue.coords` (peel one level and read a column) — should stay in microseconds;
  * `df.residue.center = per_residue_values` (a float64 column re-nested under the
    molecules) — reported as GB/s of assigned data, against `np.copy` of the same buffer;
  * Awkward's `ak.flatten(coords, axis=1)` for the same peel, when awkward is installed;
  * `df * 2.0` (every numeric column) against NumPy on the flat buffers, `repr(df)` (bounded:
    should not grow with the data), and a pickle round trip in GB/s.
"""

from __future__ import annotations

import os
import pickle
import statistics
import time

import grumpy as gr
import numpy as np

# run_all.py --quick sets GRUMPY_BENCH_QUICK: the two smaller sizes only
QUICK = os.environ.get("GRUMPY_BENCH_QUICK", "") not in ("", "0")
SIZES = (256, 1024) if QUICK else (256, 1024, 4096)


def build(n_proteins: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    res_per = rng.integers(100, 400, n_proteins)
    res_off = np.concatenate([[0], np.cumsum(res_per)]).astype(np.int64)
    n_res = int(res_off[-1])
    atoms_per = rng.integers(4, 12, n_res)
    atom_off = np.concatenate([[0], np.cumsum(atoms_per)]).astype(np.int64)
    n_atoms = int(atom_off[-1])
    xyz = rng.standard_normal((n_atoms, 3))
    coords = gr.from_offsets(xyz, res_off, atom_off)
    resid = gr.from_offsets(np.arange(n_res, dtype=np.int64), res_off)
    df = gr.dataframe({"coords": coords, "resid": resid}, schema=["molecule", "residue", "atom"])
    return df, n_res, n_atoms, coords


def best(fn, repeat: int = 7, number: int = 1) -> float:
    """Median seconds per call over `repeat` rounds of `number` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def main() -> None:
    try:
        import awkward as ak
    except ImportError:
        ak = None
    print(
        f"{'proteins':>8} {'residues':>9} {'atoms':>9} {'data MB':>8} "
        f"{'peel+read us':>12} {'assign GB/s':>11} {'np.copy GB/s':>12}"
        + (f" {'ak.flatten us':>13}" if ak else "")
    )
    for n in SIZES:
        df, n_res, n_atoms, coords = build(n)
        mb = n_atoms * 3 * 8 / 1e6
        t_peel = best(lambda df=df: df.residue.coords, number=200)
        per_res = np.random.default_rng(1).standard_normal(n_res)

        def assign(df=df, v=per_res):
            df.residue.center = v

        t_assign = best(assign, number=20)
        t_copy = best(lambda v=per_res: np.copy(v), number=20)
        gbs = per_res.nbytes / t_assign / 1e9
        gbs_copy = per_res.nbytes / t_copy / 1e9
        assert df.residue.center.values[0] == per_res[0]
        line = (
            f"{n:>8} {n_res:>9} {n_atoms:>9} {mb:>8.1f} {t_peel * 1e6:>12.1f} "
            f"{gbs:>11.1f} {gbs_copy:>12.1f}"
        )
        if ak:
            arr = _ak_array(coords)
            t_ak = best(lambda a=arr: ak.flatten(a, axis=1), number=5)
            line += f" {t_ak * 1e6:>13.1f}"
        print(line)
    print()
    print(
        f"{'proteins':>8} {'data MB':>8} {'df*2.0 ms':>10} {'numpy ms':>9} "
        f"{'repr ms':>8} {'pickle GB/s':>11}"
    )
    for n in SIZES:
        df, n_res, n_atoms, coords = build(n)
        mb = (n_atoms * 3 * 8 + n_res * 8) / 1e6
        flat = np.asarray(coords.values)
        resid = np.asarray(df.resid.values)
        t_ops = best(lambda df=df: df * 2.0, number=3)
        t_np = best(lambda a=flat, b=resid: (a * 2.0, b * 2.0), number=3)
        t_repr = best(lambda df=df: repr(df), number=20)
        t_pickle = best(lambda df=df: pickle.loads(pickle.dumps(df, protocol=5)), number=2)
        print(
            f"{n:>8} {mb:>8.1f} {t_ops * 1e3:>10.2f} {t_np * 1e3:>9.2f} "
            f"{t_repr * 1e3:>8.2f} {mb / 1e3 / t_pickle:>11.2f}"
        )


def _ak_array(coords):
    import awkward as ak

    lay = ak.contents.ListOffsetArray(
        ak.index.Index64(np.asarray(coords.offsets(0))),
        ak.contents.ListOffsetArray(
            ak.index.Index64(np.asarray(coords.offsets(1))),
            ak.contents.RegularArray(ak.contents.NumpyArray(np.asarray(coords.values)), 3),
        ),
    )
    return ak.Array(lay)


if __name__ == "__main__":
    main()
