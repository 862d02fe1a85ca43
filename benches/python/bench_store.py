"""Store throughput: gr.save, gr.load, and batches of 32 proteins through gr.open(path)[a:b],
compared with zarr-python reading the same buffers batch by batch.

Run: ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_store.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import grumpy as gr
import numpy as np

N_PROTEINS = 4096
BATCH = 32


def proteins(seed=0):
    rng = np.random.default_rng(seed)
    residues = rng.integers(40, 130, N_PROTEINS)  # ~85 residues * 3 atoms * 3 coords * 8 B
    atoms = rng.integers(2, 5, residues.sum())
    prot_off = np.concatenate([[0], np.cumsum(residues)])
    res_off = np.concatenate([[0], np.cumsum(atoms)])
    coords = rng.standard_normal((atoms.sum(), 3))
    return gr.from_offsets(coords, prot_off, res_off), coords.nbytes + 8 * (
        len(prot_off) + len(res_off)
    )


def best(fn, repeat=3):
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def main():
    x, nbytes = proteins()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "p.zarr"
    mb = nbytes / 1e6
    print(f"{N_PROTEINS} proteins, {mb:.1f} MB")
    codec = sys.argv[1] if len(sys.argv) > 1 else "zstd"
    print(f"codec {codec}")
    t_save = best(lambda: gr.save(x, path, codec=codec))
    t_load = best(lambda: gr.load(path))

    def batches():
        s = gr.open(path)
        for a in range(0, len(s), BATCH):
            s[a : a + BATCH]

    t_batch = best(batches)
    print(f"gr.save            {nbytes / t_save / 1e9:6.2f} GB/s")
    print(f"gr.load            {nbytes / t_load / 1e9:6.2f} GB/s")
    print(f"gr.open[a:b] x32   {nbytes / t_batch / 1e9:6.2f} GB/s")
    try:
        import zarr
    except ImportError:
        print("zarr not installed: no comparison")
    else:
        g = zarr.open_group(str(path), mode="r")
        names = sorted(n for n, _ in g.arrays())
        offs = [g[n] for n in names if n.endswith("-offsets")]
        data = next(g[n] for n in names if n.endswith("-data"))

        def zbatches():
            for a in range(0, N_PROTEINS, BATCH):
                lo, hi = a, min(a + BATCH, N_PROTEINS)
                for o in offs:
                    r = o[lo : hi + 1]
                    lo, hi = int(r[0]), int(r[-1])
                data[lo:hi]

        def zload():
            for arr in [*offs, data]:
                arr[:]

        t_zb = best(zbatches)
        t_zl = best(zload)
        print(
            f"zarr-python batches {nbytes / t_zb / 1e9:6.2f} GB/s  (grumpy x{t_zb / t_batch:.1f})"
        )
        print(f"zarr-python load    {nbytes / t_zl / 1e9:6.2f} GB/s  (grumpy x{t_zl / t_load:.1f})")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
