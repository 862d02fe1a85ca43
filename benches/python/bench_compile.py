"""Compiled transforms vs the eager Python loop, on 4096 protein-like proteins (128..384
residues × xyz, float64) stored with grumpy, batch 32, 2 cores.

1. ``normalize_and_pool`` (the seed's function) over one epoch of the store:
   ``st.apply(fn, compile=True, scheduler="rust", cpu=2)`` vs the eager Python loop
   ``for b in st: fn(b)`` (and ``st.apply(fn, compile=False)``).
2. In memory, the fused ``x * 2.0 + 1.0 -> mean(dim=1)`` plan: GB/s of the input leaf buffer,
   vs NumPy (``np.add.reduceat`` on the same data).
3. One epoch of normalize + ``gr.neighbors(k=16, dim=1)`` + mean-pool from the store:
   proteins/s, vs NumPy + pykdtree in RAM (and scipy cKDTree).

Prints a table, chart-ready JSON, and ratios. Medians of repeats, the cases of each part taking
turns round by round (the machine is noisy: drift then falls on every case alike).

    ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_compile.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import warnings

import grumpy as gr
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import N_PROTEINS, per_call, protein_data

BATCH, CPU = 32, 2


def normalize_and_pool(batch):
    batch = batch * 0.01
    batch = batch + 1.0
    return batch.mean(dim=1)


def graph_and_pool(batch):
    batch = batch * 0.01 + 1.0
    edges = gr.neighbors(batch, batch, k=16, dim=1, loop=False)
    return batch.mean(dim=1) + edges.count() * 0.0  # the edges are used: the search runs


def median_time(fn, repeat=7):
    return interleaved({"": fn}, repeat)[""]


def interleaved(cases, repeat=7, min_time=0.0):
    """Median seconds per call of every case, the cases taking turns round by round, so that
    the host's drift (this machine swings by 2x between minutes) falls on all of them alike
    and their ratios are fair. One sample calls ``fn`` until ``min_time`` has passed (at least
    once); every case runs once first to warm up (page cache, thread pools)."""
    for fn in cases.values():
        fn()
    samples = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            samples[name].append(per_call(fn, min_time))
    return {name: statistics.median(v) for name, v in samples.items()}


def eager_loop(st, fn):
    def run():
        for b in st:
            fn(b)

    return run


def consume(app):
    def run():
        for _ in app:
            pass

    return run


def bench_pool(path, rows):
    st = gr.stream(path, batch_size=BATCH)
    compiled = gr.compile(normalize_and_pool)
    assert compiled.is_compiled
    cases = {
        "eager loop (python)": eager_loop(st, normalize_and_pool),
        "apply compile=False cpu=1": consume(st.apply(normalize_and_pool, compile=False)),
        "apply compile=False cpu=2": consume(
            st.apply(normalize_and_pool, compile=False, cpu=CPU, scheduler="python")
        ),
        "apply compile=True rust cpu=1": consume(
            st.apply(normalize_and_pool, compile=True, scheduler="rust", cpu=1)
        ),
        "apply compile=True rust cpu=2": consume(
            st.apply(normalize_and_pool, compile=True, scheduler="rust", cpu=CPU)
        ),
        "read only (for b in st)": eager_loop(st, lambda b: None),
    }
    # Each sample is >= 20 ms of back-to-back epochs, as for the fused plan below (a compiled
    # epoch takes about 0.5 ms). The same two cases are also timed one epoch per sample, right
    # after the other cases: that epoch also pays for waking the scheduler's parked threads
    # and for data the other cases pushed out of the L3 cache (reported as its own ratio).
    for name, secs in interleaved(cases, repeat=15, min_time=0.02).items():
        rows.append(
            {
                "bench": "normalize_and_pool epoch",
                "case": name,
                "seconds": secs,
                "proteins_per_s": N_PROTEINS / secs,
                "us_per_batch": secs / len(st) * 1e6,
            }
        )
    single = {k: cases[k] for k in ("eager loop (python)", "apply compile=True rust cpu=2")}
    single["read only (for b in st)"] = cases["read only (for b in st)"]
    for name, secs in interleaved(single, repeat=21).items():
        rows.append(
            {
                "bench": "normalize_and_pool, one epoch per sample",
                "case": name,
                "seconds": secs,
                "proteins_per_s": N_PROTEINS / secs,
                "us_per_batch": secs / len(st) * 1e6,
            }
        )


def bench_fused_memory(x, coords, offsets, rows):
    @gr.compile
    def fused(batch):
        return (batch * 2.0 + 1.0).mean(dim=1)

    nbytes = coords.nbytes
    plan = fused.plan
    counts = np.diff(offsets)[:, None]

    def numpy_ref():
        y = coords * 2.0 + 1.0
        return np.add.reduceat(y, offsets[:-1], axis=0) / counts

    cases = {
        "grumpy plan": lambda: plan.run(x),
        "grumpy eager": lambda: (x * 2.0 + 1.0).mean(dim=1),
        "numpy reduceat": numpy_ref,
    }
    # each sample is >= 20 ms of back-to-back calls (one call is well under a millisecond)
    for name, secs in interleaved(cases, repeat=15, min_time=0.02).items():
        rows.append(
            {
                "bench": "fused x*2+1 -> mean(dim=1), in memory",
                "case": name,
                "seconds": secs,
                "GB_per_s": nbytes / secs / 1e9,
            }
        )
    got = np.asarray(plan.run(x).to_list())
    assert np.allclose(got, numpy_ref())


def bench_graph(path, coords, offsets, rows):
    st = gr.stream(path, batch_size=BATCH)
    compiled = gr.compile(graph_and_pool)
    assert compiled.is_compiled, compiled.compile_error
    cases = {
        "compiled rust cpu=2": consume(
            st.apply(graph_and_pool, compile=True, scheduler="rust", cpu=CPU)
        ),
        "eager loop (python)": eager_loop(st, graph_and_pool),
    }
    try:
        from pykdtree.kdtree import KDTree

        def pykdtree_ref():
            for a, b in zip(offsets[:-1], offsets[1:]):
                p = coords[a:b] * 0.01 + 1.0
                KDTree(p).query(p, k=17)
                p.mean(axis=0)

        cases["numpy + pykdtree (RAM)"] = pykdtree_ref
    except ImportError:
        pass
    from scipy.spatial import cKDTree

    def scipy_ref():
        for a, b in zip(offsets[:-1], offsets[1:]):
            p = coords[a:b] * 0.01 + 1.0
            cKDTree(p).query(p, k=17)
            p.mean(axis=0)

    cases["numpy + scipy cKDTree (RAM)"] = scipy_ref
    for name, secs in interleaved(cases, repeat=5).items():
        rows.append(
            {
                "bench": "normalize + neighbors(k=16) + mean-pool epoch",
                "case": name,
                "seconds": secs,
                "proteins_per_s": N_PROTEINS / secs,
            }
        )


def main():
    warnings.simplefilter("error", gr.CompileWarning)
    coords, offsets = protein_data(N_PROTEINS)
    x = gr.from_offsets(coords, offsets)
    print(
        f"{N_PROTEINS} proteins, {coords.shape[0]} residues, {coords.nbytes / 1e6:.1f} MB, "
        f"batch {BATCH}, cpu {CPU}, {os.cpu_count()} cores"
    )
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "proteins.gr")
        gr.save(x, path)
        bench_pool(path, rows)
        bench_fused_memory(x, coords, offsets, rows)
        bench_graph(path, coords, offsets, rows)
    for r in rows:
        extra = "  ".join(
            f"{k}={v:,.1f}" for k, v in r.items() if k not in ("bench", "case", "seconds")
        )
        print(f"{r['bench'][:44]:<44} {r['case']:<32} {r['seconds'] * 1e3:9.2f} ms  {extra}")

    def t(bench, case):
        return next(
            r["seconds"] for r in rows if r["bench"].startswith(bench) and r["case"] == case
        )

    ratios = {
        "pool: compiled rust cpu=2 vs eager loop": t(
            "normalize_and_pool epoch", "eager loop (python)"
        )
        / t("normalize_and_pool epoch", "apply compile=True rust cpu=2"),
        "pool, one epoch per sample": t("normalize_and_pool, one", "eager loop (python)")
        / t("normalize_and_pool, one", "apply compile=True rust cpu=2"),
        "fused in-memory GB/s": next(r["GB_per_s"] for r in rows if r["case"] == "grumpy plan"),
        "fused plan vs numpy reduceat": t("fused", "numpy reduceat") / t("fused", "grumpy plan"),
        "graph epoch proteins/s (compiled)": N_PROTEINS
        / t("normalize + neighbors", "compiled rust cpu=2"),
    }
    if any(r["case"] == "numpy + pykdtree (RAM)" for r in rows):
        ratios["graph: compiled vs numpy+pykdtree"] = t(
            "normalize + neighbors", "numpy + pykdtree (RAM)"
        ) / t("normalize + neighbors", "compiled rust cpu=2")
    print("\nratios:")
    for k, v in ratios.items():
        print(f"  {k:<44} {v:8.2f}")
    print("\nJSON:")
    print(json.dumps({"rows": rows, "ratios": ratios}, indent=1))
    out = os.environ.get("GRUMPY_BENCH_OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "bench_compile.json"), "w") as f:
            json.dump({"rows": rows, "ratios": ratios}, f, indent=1)


if __name__ == "__main__":
    main()
