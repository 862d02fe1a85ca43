"""One epoch of gr.stream, batch 32, over the protein-like data of the other benches (4096
proteins x 128..384 residues x xyz float64, seed 0; see ``_common.protein_data``).

Store: the data is saved with ``gr.save`` to a temporary directory and one epoch of
``gr.stream(path, batch_size=32)`` is timed, compared in the same run with

  * zarr-python 3 reading the same store (it is a plain Zarr v3 group) batch by batch: for rows
    ``[a, b)`` read ``offsets[a:b+1]`` at each level, then the contiguous range of the leaf data
    (the buffer names come from the form in the group's attributes, see FORMAT.md);
  * NumPy slicing of the in-memory flat buffers (zero-copy views, and slices copied out with the
    offsets rebased, which is what a store read has to produce).

Cache states, reported separately:

  * cold: the store's files are evicted from the page cache (fdatasync + POSIX_FADV_DONTNEED)
    before opening a new stream, so the epoch reads from disk;
  * first: a new stream on a page-cached store (open + read + decode every chunk);
  * warm: later epochs of the same stream. A stream's store reader keeps a 64 MiB cache of
    decoded chunks and this store (~34 MB) fits, so warm epochs do not decode: with data larger
    than the cache, every epoch costs like "first".

Throughput is the bytes of the batches handed to Python (offsets + data, as ``b.nbytes``; the
same buffers for every case) per second of wall time, and batches/s. Peak RSS of a stream epoch
(and of the zarr epoch and of ``gr.load`` for reference) is measured in a fresh child process
as growth over the RSS just before the epoch (VmHWM reset before the epoch; see ``rss_child``
for why not ``ru_maxrss``). The stream's growth is mostly its decoded-chunk cache.
The in-memory cases (``gr.stream`` over a GrumpyArray) follow, with the per-batch cost of
``next()`` when the next batch is already prefetched.

Prints tables, ratios and one chart-ready JSON line (also written to
``$GRUMPY_BENCH_OUT/bench_stream.json`` when that is set). Times are medians of a few repeats.
About 15 s on 2 cores; ``--quick`` (or ``GRUMPY_BENCH_QUICK=1``) uses 1024 proteins and fewer
repeats. The store goes to a temporary directory (``GRUMPY_BENCH_TMP`` picks its parent). A
watchdog ends a run that makes no progress (a deadlocked stream) after
``GRUMPY_BENCH_TIMEOUT`` seconds (300) with every thread's stack.

    ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_stream.py
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grumpy as gr
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import protein_data

BATCH = 32
CHILD_TIMEOUT = 120  # seconds for one peak-RSS child process
WATCHDOG = float(os.environ.get("GRUMPY_BENCH_TIMEOUT", "300"))  # whole run, seconds


# ---------------------------------------------------------------- helpers


def median(samples):
    return statistics.median(samples)


def drain(st):
    """Iterate one epoch; (bytes delivered, batches)."""
    nb = n = 0
    for b in st:
        nb += b.nbytes
        n += 1
    return nb, n


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def evict(path) -> bool:
    """Drop the store's files from the page cache (written back first). False if unsupported."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for f in Path(path).rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


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


# ---------------------------------------------------------------- zarr-python and NumPy


def zarr_buffers(path):
    """The store's offsets arrays (outer to inner) and leaf data array, via zarr-python 3."""
    import zarr

    g = zarr.open_group(str(path), mode="r")
    form = g.attrs["form"]
    offs = []
    while form["class"] == "ListOffsetArray":
        offs.append(g[f"{form['form_key']}-offsets"])
        form = form["content"]
    assert form["class"] == "NumpyArray", form["class"]
    return offs, g[f"{form['form_key']}-data"]


def zarr_epoch(path, n, batch):
    """One epoch with zarr-python: per batch, offsets[a:b+1] at each level, then the data."""
    offs, data = zarr_buffers(path)
    nb = nbatch = 0
    for a in range(0, n, batch):
        lo, hi = a, min(a + batch, n)
        for o in offs:
            r = o[lo : hi + 1]
            nb += r.nbytes
            lo, hi = int(r[0]), int(r[-1])
        nb += data[lo:hi].nbytes
        nbatch += 1
    return nb, nbatch


def numpy_epoch(flat, offs, n, batch, copy):
    """One epoch of NumPy slicing of flat in-memory buffers (views, or copies rebased)."""
    nb = nbatch = 0
    for a in range(0, n, batch):
        lo, hi = a, min(a + batch, n)
        for o in offs:
            r = o[lo : hi + 1]
            if copy:
                r = r - r[0]
            nb += r.nbytes
            lo, hi = int(o[lo]), int(o[hi])
        d = flat[lo:hi].copy() if copy else flat[lo:hi]
        nb += d.nbytes
        nbatch += 1
    return nb, nbatch


# ---------------------------------------------------------------- peak RSS (child process)


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def rss_child(mode, path, n):
    """Run in a fresh process: RSS just before the epoch, peak RSS after one epoch (and three).

    The peak is VmHWM, reset to the current RSS (``/proc/self/clear_refs``) right before the
    epoch when the kernel allows it. ``ru_maxrss`` (getrusage) is recorded too but is not used
    for the growth: Linux carries the pre-exec maximum into it, i.e. the parent's RSS at fork.
    """
    if mode == "stream":
        st = gr.stream(path, batch_size=BATCH)
        epoch = lambda: drain(st)
    elif mode == "zarr":
        zarr_buffers(path)  # import zarr and read the metadata first
        epoch = lambda: zarr_epoch(path, n, BATCH)
    elif mode == "load":
        gr.open(path)
        epoch = lambda: gr.load(path)
    else:
        raise SystemExit(f"unknown mode {mode}")
    base = _status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    before = _status("VmHWM")
    epoch()
    first = _status("VmHWM")
    if mode == "stream":
        epoch()
        epoch()
    r = {
        "base": base,
        "hwm_reset": reset,
        "peak_before": before,
        "peak": first,
        "peak_3": _status("VmHWM"),
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print(json.dumps(r))


_CHILDREN: list[subprocess.Popen] = []  # killed by the watchdog


def peak_rss(mode, path, n):
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", mode, str(path), str(n)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        _CHILDREN.append(p)
        try:
            stdout, stderr = p.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            raise
    if p.returncode:
        raise RuntimeError(f"peak-RSS child {mode} failed:\n{stderr}")
    r = json.loads(stdout.strip().splitlines()[-1])
    r["growth"] = max(0, r["peak"] - r["base"])
    r["growth_3"] = max(0, r["peak_3"] - r["base"])
    if r["peak_before"] > r["base"] and r["peak_before"] >= r["peak"]:
        r["note"] = f"{mode}: peak reached before the epoch; its growth is a lower bound"
    return r


# ---------------------------------------------------------------- benches


def bench_store(path, x, coords, offsets, repeat, rows):
    n = len(offsets) - 1
    # sanity: the stream and the zarr reader deliver the data that was saved
    first = next(iter(gr.stream(path, batch_size=BATCH)))
    assert first.to_list() == x[:BATCH].to_list()
    zo, zd = zarr_buffers(path)
    lo, hi = int(zo[1][int(offsets[0])]), int(zo[1][int(offsets[BATCH])])
    assert np.array_equal(zd[lo:hi], coords.ravel()[lo:hi])

    can_evict = evict(path)
    cold = "cold: page cache evicted" if can_evict else "cold? (could not evict page cache)"
    ev = lambda: evict(path)
    flat = np.ascontiguousarray(coords).ravel()
    levels = [offsets, np.arange(0, flat.size + 1, 3, dtype=np.int64)]
    st = gr.stream(path, batch_size=BATCH)
    drain(st)  # fills the stream's decoded-chunk cache

    def new_stream_epoch(**kw):
        return drain(gr.stream(path, batch_size=BATCH, **kw))

    zrep = max(2, repeat - 2)  # zarr epochs are slow
    cases = [
        # key, case, epoch function, run before each repeat, repeats, zarr reference key
        ("stream_cold", f"grumpy stream, {cold}", new_stream_epoch, ev, repeat, "zarr_cold"),
        (
            "stream_first",
            "grumpy stream, first epoch (new stream)",
            new_stream_epoch,
            None,
            repeat,
            "zarr_warm",
        ),
        (
            "stream_warm",
            "grumpy stream, warm epoch (chunk cache)",
            lambda: drain(st),
            None,
            repeat,
            "zarr_warm",
        ),
        (
            "stream_shuffle_first",
            "grumpy stream shuffle=True, first epoch",
            lambda: new_stream_epoch(shuffle=True, seed=0),
            None,
            repeat,
            "zarr_warm",
        ),
        (
            "zarr_cold",
            f"zarr-python per batch, {cold}",
            lambda: zarr_epoch(path, n, BATCH),
            ev,
            zrep,
            "zarr_cold",
        ),
        (
            "zarr_warm",
            "zarr-python per batch, page cache warm",
            lambda: zarr_epoch(path, n, BATCH),
            None,
            zrep,
            "zarr_warm",
        ),
        (
            "numpy_views",
            "numpy slice views (RAM)",
            lambda: numpy_epoch(flat, levels, n, BATCH, False),
            None,
            repeat,
            "zarr_warm",
        ),
        (
            "numpy_copy",
            "numpy slice + copy (RAM)",
            lambda: numpy_epoch(flat, levels, n, BATCH, True),
            None,
            repeat,
            "zarr_warm",
        ),
    ]
    measured = {}
    for key, case, fn, before, reps, ref in cases:
        ts = []
        for _ in range(reps):
            if before:
                before()
            t, (nb, nbatch) = timed(fn)
            ts.append(t)
        measured[key] = (case, median(ts), ts, nb, nbatch, ref)

    rss = {
        "stream_first": peak_rss("stream", path, n),
        "zarr_warm": peak_rss("zarr", path, n),
    }
    load_rss = peak_rss("load", path, n)
    for key, (case, secs, ts, nb, nbatch, ref) in measured.items():
        row = {
            "bench": "store epoch",
            "key": key,
            "case": case,
            "seconds": secs,
            "samples": ts,
            "MB": nb / 1e6,
            "MB_per_s": nb / secs / 1e6,
            "batches": nbatch,
            "batches_per_s": nbatch / secs,
            "x_zarr": measured[ref][1] / secs,
        }
        if key in rss:
            r = rss[key]
            row["peak_rss_MB"] = r["peak"] / 1e6
            row["rss_growth_MB"] = r["growth"] / 1e6
            if key.startswith("stream"):
                row["rss_growth_after_3_epochs_MB"] = r["growth_3"] / 1e6
            if "note" in r:
                row["rss_note"] = r["note"]
        rows.append(row)
    rows.append(
        {
            "bench": "store peak RSS",
            "key": "load",
            "case": "gr.load (whole array, reference)",
            "seconds": None,
            "peak_rss_MB": load_rss["peak"] / 1e6,
            "rss_growth_MB": load_rss["growth"] / 1e6,
        }
    )


def bench_memory(x, repeat, rows):
    cases = {
        "memory": ("memory", {"prefetch": 16}),
        "memory_shuffle": ("memory shuffle", {"shuffle": True, "seed": 0, "prefetch": 16}),
        "memory_batch_on": ("memory batch_on=residue", {"batch_on": 1, "prefetch": 16}),
        "memory_shuffle_residues": (
            "memory shuffle residues",
            {"shuffle": 1, "seed": 0, "prefetch": 16, "workers": 2},
        ),
    }
    for key, (case, kw) in cases.items():
        bs = BATCH * 256 if "batch_on" in kw else BATCH  # ~32 proteins of 256 residues
        st = gr.stream(x, batch_size=bs, **kw)
        drain(st)
        ts = []
        for _ in range(repeat):
            t, (nb, nbatch) = timed(lambda st=st: drain(st))
            ts.append(t)
        secs = median(ts)
        rows.append(
            {
                "bench": "memory epoch",
                "key": key,
                "case": case,
                "seconds": secs,
                "samples": ts,
                "MB": nb / 1e6,
                "MB_per_s": nb / secs / 1e6,
                "batches": nbatch,
                "batches_per_s": nbatch / secs,
                "us_per_ready_next": overhead(st, repeat) * 1e6,
            }
        )


# ---------------------------------------------------------------- main


def watchdog(seconds, tmp_dir):
    """A stream that deadlocks blocks in Rust with the GIL released, where no signal handler
    runs: after ``seconds`` print every thread's stack, remove the store and exit."""

    def fire():
        sys.stderr.write(f"\nbench_stream: no result after {seconds:g} s (deadlock?)\n")
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        for p in _CHILDREN:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(tmp_dir, ignore_errors=True)
        os._exit(70)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def print_tables(rows):
    print(
        f"\n{'store epoch (batch 32)':<46} {'ms':>9} {'MB/s':>9} {'batch/s':>9} "
        f"{'x zarr':>7} {'peak RSS MB':>11} {'RSS +MB':>8}"
    )
    for r in rows:
        if r["bench"] != "store epoch":
            continue
        rss = (
            f" {r['peak_rss_MB']:>11.1f} {r['rss_growth_MB']:>8.1f}"
            if "peak_rss_MB" in r
            else f" {'':>11} {'':>8}"
        )
        print(
            f"{r['case']:<46} {r['seconds'] * 1e3:>9.2f} {r['MB_per_s']:>9.0f} "
            f"{r['batches_per_s']:>9.0f} {r['x_zarr']:>7.2f}" + rss
        )
    for r in rows:
        if r["bench"] == "store peak RSS":
            print(
                f"{r['case']:<46} {'':>9} {'':>9} {'':>9} {'':>7} "
                f"{r['peak_rss_MB']:>11.1f} {r['rss_growth_MB']:>8.1f}"
            )
    print(
        f"\n{'in-memory epoch (gr.stream over an array)':<46} {'ms':>9} {'MB/s':>9} "
        f"{'batch/s':>9} {'us/next (ready)':>16}"
    )
    for r in rows:
        if r["bench"] == "memory epoch":
            print(
                f"{r['case']:<46} {r['seconds'] * 1e3:>9.2f} {r['MB_per_s']:>9.0f} "
                f"{r['batches_per_s']:>9.0f} {r['us_per_ready_next']:>16.2f}"
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1024 proteins, 3 repeats")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats per case")
    ap.add_argument("--rss-child", nargs=3, metavar=("MODE", "PATH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        mode, path, n = args.rss_child
        rss_child(mode, path, int(n))
        return
    quick = args.quick or os.environ.get("GRUMPY_BENCH_QUICK", "") not in ("", "0")
    n_proteins = 1024 if quick else 4096
    repeat = args.repeat or (3 if quick else 5)

    coords, offsets = protein_data(n_proteins)
    x = gr.from_offsets(coords, offsets)
    print(
        f"source: {n_proteins} proteins, {coords.shape[0]} residues, xyz float64, "
        f"{x.nbytes / 1e6:.1f} MB (offsets + data), batch {BATCH}, median of {repeat}, "
        f"{os.cpu_count()} cores"
    )
    rows: list[dict] = []
    d = tempfile.mkdtemp(dir=os.environ.get("GRUMPY_BENCH_TMP"))
    dog = watchdog(WATCHDOG, d)
    try:
        path = os.path.join(d, "proteins.gr")
        t_save, _ = timed(lambda: gr.save(x, path))
        print(f"gr.save: {t_save * 1e3:.0f} ms, store in {d}")
        bench_store(path, x, coords, offsets, repeat, rows)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    bench_memory(x, repeat, rows)
    dog.cancel()
    print_tables(rows)

    def get(key, field="seconds"):
        return next(r[field] for r in rows if r["key"] == key)

    data_mb = x.nbytes / 1e6
    ratios = {
        "stream cold vs zarr cold (epoch time)": get("zarr_cold") / get("stream_cold"),
        "stream first epoch vs zarr page-cache warm": get("zarr_warm") / get("stream_first"),
        "stream warm epoch vs zarr page-cache warm": get("zarr_warm") / get("stream_warm"),
        "stream first epoch vs numpy slice+copy (RAM)": get("numpy_copy") / get("stream_first"),
        "stream warm epoch vs numpy slice+copy (RAM)": get("numpy_copy") / get("stream_warm"),
        "stream cold / first epoch time": get("stream_cold") / get("stream_first"),
        "stream first / warm epoch time": get("stream_first") / get("stream_warm"),
        "in-memory stream vs numpy slice views": get("numpy_views") / get("memory"),
        "in-memory stream vs numpy slice+copy": get("numpy_copy") / get("memory"),
        "stream epoch RSS growth / data size": get("stream_first", "rss_growth_MB") / data_mb,
        "zarr epoch RSS growth / data size": get("zarr_warm", "rss_growth_MB") / data_mb,
        "gr.load RSS growth / data size": get("load", "rss_growth_MB") / data_mb,
    }
    print("\nratios (> 1: grumpy stream faster / larger):")
    for k, v in ratios.items():
        print(f"  {k:<48} {v:8.2f}")
    notes = [r["rss_note"] for r in rows if "rss_note" in r]
    for note in notes:
        print(f"  note: {note}")
    result = {
        "bench": "bench_stream",
        "n_proteins": n_proteins,
        "batch": BATCH,
        "repeat": repeat,
        "data_MB": x.nbytes / 1e6,
        "rows": rows,
        "ratios": ratios,
    }
    print("\nJSON " + json.dumps(result))
    out = os.environ.get("GRUMPY_BENCH_OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "bench_stream.json"), "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
