"""``python -m grumpy.demo``: a protein-like dataset end to end.

Generates proteins (residues × xyz, 3.8 Å random-walk chains), saves them as a grumpy Zarr
dataframe store (protein → residue, a ``coords`` column) in a temporary directory, streams them
in batches through three compiled pipelines on the Rust scheduler (normalize → kNN contact
graph, normalize → mean pooling, normalize → a dataframe dot-assignment), checks the results
against the plain Python path, prints a results table, and cleans up.

Options: ``--proteins N`` (default 2048), ``--batch-size B`` (32), ``--cpu C`` (2),
``--out DIR`` (keep the store there instead of a temporary directory), ``--no-progress``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np

import grumpy as gr
from grumpy.progress import bar


@gr.compile
def normalize(batch):
    batch.residue.coords = batch.residue.coords * 0.1  # Å → nm
    return batch


@gr.compile
def contact_graph(batch):
    x = batch.protein.coords
    return gr.neighbors(x, x, k=16, dim=1, loop=False)


@gr.compile
def pool(batch):
    return batch.protein.coords.mean(dim=1)


@gr.compile
def residue_centers(batch):
    batch.residue.center = batch.residue.coords.mean(dim=-1)
    return batch


def make_proteins(n: int, seed: int = 0):
    """Coordinates and offsets of ``n`` chain-like proteins.

    Parameters
    ----------
    n : int
        Number of proteins (128..384 residues each).
    seed : int, default 0

    Returns
    -------
    coords : numpy.ndarray, shape (residues, 3)
        Random-walk chains with 3.8 Å steps, each starting at the origin.
    offsets : numpy.ndarray of int64, shape (n + 1,)
        Protein boundaries.
    """
    rng = np.random.default_rng(seed)
    lens = rng.integers(128, 385, size=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    steps = rng.normal(size=(int(offsets[-1]), 3))
    steps *= 3.8 / np.linalg.norm(steps, axis=1, keepdims=True)
    coords = np.cumsum(steps, axis=0)
    coords -= np.repeat(coords[offsets[:-1]], lens, axis=0)  # each chain starts at the origin
    return coords, offsets


def run_pipeline(st, compiled: bool, cpu: int, progress: bool | None):
    """One epoch: normalized coords → (graph, pooled features, frame with residue centers).

    The three pipelines (normalize → graph, normalize → pool, normalize → residue centers) run
    side by side over the stream; compiled, each is one fused plan on the Rust scheduler.

    Parameters
    ----------
    st : grumpy.Stream
        The stored proteins (a dataframe store, schema protein → residue).
    compiled : bool
        The compiled path (Rust scheduler, ``cpu`` threads) or the plain Python one.
    cpu : int
    progress : bool or None
        Progress bar policy (see :mod:`grumpy.progress`).

    Returns
    -------
    (seconds, kNN edges, pooled features, sum of residue centers)
    """
    if compiled:
        kw = {"compile": True, "scheduler": "rust", "cpu": cpu}
    else:
        kw = {"compile": "never", "scheduler": "python", "cpu": 1}
    edges = 0
    pooled = []
    centers = 0.0
    t0 = time.perf_counter()
    graphs = st.apply([normalize, contact_graph], **kw)
    pools = st.apply([normalize, pool], **kw)
    frames = st.apply([normalize, residue_centers], **kw)
    label = f"epoch, {'compiled' if compiled else 'plain Python'}"
    for g, p, df in bar(zip(graphs, pools, frames), total=len(st), desc=label, progress=progress):
        edges += g.size // 2
        pooled.append(p.to_numpy())
        centers += float(df["center"].sum())
    seconds = time.perf_counter() - t0
    return seconds, edges, np.concatenate(pooled), centers


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m grumpy.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--proteins", type=int, default=2048, help="dataset size (default 2048)")
    ap.add_argument("--batch-size", type=int, default=32, help="proteins per batch (32)")
    ap.add_argument("--cpu", type=int, default=2, help="threads of the compiled path (2)")
    ap.add_argument("--out", default=None, help="keep the store in this directory")
    ap.add_argument(
        "--no-progress", action="store_true", help="no progress bars (shown when tqdm is installed)"
    )
    args = ap.parse_args(argv)
    for name in ("proteins", "batch_size", "cpu"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    progress = not args.no_progress
    workdir = args.out or tempfile.mkdtemp(prefix="grumpy-demo-")
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "proteins.gr")
    try:
        t0 = time.perf_counter()
        coords, offsets = make_proteins(args.proteins)
        x = gr.from_offsets(coords, offsets)
        df = gr.dataframe({"coords": x}, schema=["protein", "residue"])
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        step = 256  # proteins per saved batch: the bar advances per batch
        parts = (df[a : a + step] for a in range(0, len(df), step))
        gr.save(bar(parts, total=-(-len(df) // step), desc="saving", progress=progress), path)
        t_save = time.perf_counter() - t0
        st = gr.stream(path, batch_size=args.batch_size)
        t_py, e_py, pooled_py, c_py = run_pipeline(st, False, 1, progress)
        t_c, e_c, pooled_c, c_c = run_pipeline(st, True, args.cpu, progress)
        same = e_py == e_c and np.array_equal(pooled_py, pooled_c) and c_py == c_c
        n = args.proteins
        mb = coords.nbytes / 1e6
        print(
            f"grumpy {gr.__version__} demo: {n} proteins, {len(coords)} residues ({mb:.1f} MB), "
            f"batch {args.batch_size}, {len(st)} batches"
        )
        print(f"  {'step':<34}{'seconds':>10}{'proteins/s':>14}")
        print(f"  {'generate + gr.from_offsets':<34}{t_gen:>10.3f}{n / t_gen:>14,.0f}")
        print(f"  {'gr.save (zstd)':<34}{t_save:>10.3f}{n / t_save:>14,.0f}")
        print(f"  {'epoch, plain Python path':<34}{t_py:>10.3f}{n / t_py:>14,.0f}")
        print(f"  {f'epoch, compiled (cpu={args.cpu})':<34}{t_c:>10.3f}{n / t_c:>14,.0f}")
        print(f"  kNN edges: {e_c}, speed-up {t_py / t_c:.2f}x, results identical: {same}")
        return 0 if same else 1
    finally:
        if args.out is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
