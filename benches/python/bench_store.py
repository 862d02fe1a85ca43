"""Store throughput and memory: gr.save, gr.load, batches of 32 proteins through
gr.open(path)[a:b], and the peak memory of a full load, compared in the same run with
zarr-python reading the same buffers (whole and batch by batch) and writing them (same chunks
and codecs), and raw reads of the chunk files (one thread, and two threads with ``pread``:
the ceiling of any reader on this host). Save times are given with the process's CPU
time too (steadier than wall time on a shared machine).

Run: ./scripts/dev-build --release && PYTHONPATH=python python benches/python/bench_store.py [codec]
Numbers are medians of REPEAT runs (page cache warm: every file is read once before timing).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import grumpy as gr
import numpy as np

QUICK = os.environ.get("GRUMPY_BENCH_QUICK", "") not in ("", "0")  # run_all.py --quick
N_PROTEINS = 1024 if QUICK else 4096
BATCH = 32
REPEAT = 3 if QUICK else 7


def proteins(seed=0):
    """Proteins → residues → atoms → xyz (about 25 MB of float64 coordinates + offsets)."""
    rng = np.random.default_rng(seed)
    residues = rng.integers(40, 130, N_PROTEINS)
    atoms = rng.integers(2, 5, residues.sum())
    prot_off = np.concatenate([[0], np.cumsum(residues)])
    res_off = np.concatenate([[0], np.cumsum(atoms)])
    coords = rng.standard_normal((atoms.sum(), 3))
    return gr.from_offsets(coords, prot_off, res_off), coords.nbytes + 8 * (
        len(prot_off) + len(res_off)
    )


def median_time(fn, repeat=REPEAT):
    return median_times(fn, repeat)[0]


def median_times(fn, repeat=REPEAT):
    """(median wall time, median CPU time of this process) of `repeat` calls."""
    ts, cs = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ts), statistics.median(cs)


def zarr_save_fn(zarr, src, dst):
    """zarr-python writing the buffers of the grumpy store `src` (same shapes, chunks and
    codecs: zstd level 1 or blosc as grumpy compressed, crc32c everywhere) as a group at
    `dst`."""
    import json

    g = zarr.open_group(str(src), mode="r")
    bufs = {}
    for name, arr in g.arrays():
        meta = json.loads((Path(src) / name / "zarr.json").read_text())
        chunk = meta["chunk_grid"]["configuration"]["chunk_shape"]
        names = [c["name"] for c in meta["codecs"]]
        comp = [zarr.codecs.ZstdCodec(level=1)] if "zstd" in names else []
        if "blosc" in names:
            conf = next(c for c in meta["codecs"] if c["name"] == "blosc")["configuration"]
            comp = [zarr.codecs.BloscCodec(**conf)]
        bufs[name] = (arr[:], chunk, [*comp, zarr.codecs.Crc32cCodec()])

    def go():
        out = zarr.open_group(str(dst), mode="w")
        for name, (values, chunk, compressors) in bufs.items():
            a = out.create_array(
                name, shape=values.shape, chunks=chunk, dtype=values.dtype, compressors=compressors
            )
            a[:] = values

    return go


PEAK = textwrap.dedent(
    """
    import sys
    sys.path[:0] = {paths!r}
    import grumpy as gr

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024

    # Warm what every process pays once (lazy imports such as the progress bar, the code
    # pages of the read path) with a load of a tiny store of the same layout, so the figure is
    # the memory the data costs.
    gr.load(sys.argv[2])
    gr.open(sys.argv[1])
    base = rss()
    before = hwm()
    x = gr.load(sys.argv[1])
    print(hwm() - base, max(before, base))
    """
)


def peak_load_bytes(path, warm):
    """Peak resident growth of a fresh process during gr.load (VmHWM - VmRSS before), after
    loading the tiny store `warm` once."""
    script = PEAK.format(paths=[p for p in sys.path if p])
    out = subprocess.run(
        [sys.executable, "-c", script, str(path), str(warm)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[0])


def raw_read(path):
    """Read every chunk file of the store (the I/O floor: no decode)."""
    files = [f for f in Path(path).rglob("c/*") if f.is_file()]

    def go():
        for f in files:
            with open(f, "rb") as fh:
                fh.read()

    return go


def raw_read_threads(path, threads=2):
    """Every chunk file read with ``pread`` into a kept buffer per thread, the files split over
    ``threads`` threads (the GIL is released while the kernel copies): the fastest this host
    hands these bytes to a process, with no checksum and no decode. Returns the reader and a
    function that shuts its threads down."""
    from concurrent.futures import ThreadPoolExecutor

    files = sorted(f for f in Path(path).rglob("c/*") if f.is_file())
    biggest = max(f.stat().st_size for f in files)
    shares = [files[k::threads] for k in range(threads)]
    bufs = [bytearray(biggest) for _ in range(threads)]
    pool = ThreadPoolExecutor(threads)

    def one(k):
        view = memoryview(bufs[k])
        for f in shares[k]:
            fd = os.open(f, os.O_RDONLY)
            try:
                os.preadv(fd, [view[: os.fstat(fd).st_size]], 0)
            finally:
                os.close(fd)

    def go():
        list(pool.map(one, range(threads)))

    return go, pool.shutdown


def main():
    x, nbytes = proteins()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "p.zarr"
    codec = sys.argv[1] if len(sys.argv) > 1 else "zstd"
    print(f"{N_PROTEINS} proteins, {nbytes / 1e6:.1f} MB, codec {codec}, median of {REPEAT}")
    t_save, cpu_save = median_times(lambda: gr.save(x, path, codec=codec))
    raw_read(path)()  # warm the page cache
    t_load = median_time(lambda: gr.load(path))
    t_raw = median_time(raw_read(path))
    raw2, stop_raw2 = raw_read_threads(path)
    t_raw2 = median_time(raw2)
    stop_raw2()
    assert gr.load(path).to_list()[:3] == x.to_list()[:3]

    def batches():
        s = gr.open(path)
        for a in range(0, len(s), BATCH):
            s[a : a + BATCH]

    t_batch = median_time(batches)
    shuffled = None
    if codec == "zstd":  # the opt-in codec on the same data: offsets shuffled before zstd
        sp = tmp / "shuffled.zarr"
        gr.save(x, sp, codec="zstd+shuffle")
        raw_read(sp)()

        def batches_shuffled():
            s = gr.open(sp)
            for a in range(0, len(s), BATCH):
                s[a : a + BATCH]

        shuffled = (median_time(lambda: gr.load(sp)), median_time(batches_shuffled))
    warm = tmp / "warm.zarr"
    gr.save(x[:2], warm, codec=codec)
    peak = statistics.median(peak_load_bytes(path, warm) for _ in range(3))
    gbs = lambda t: nbytes / t / 1e9
    print(
        f"gr.save              {gbs(t_save):6.2f} GB/s   (target >= 1; "
        f"{t_save * 1e3:.1f} ms, CPU {cpu_save * 1e3:.1f} ms)"
    )
    print(f"gr.load              {gbs(t_load):6.2f} GB/s   (target >= 3)")
    print(f"gr.open[a:b] x{BATCH}     {gbs(t_batch):6.2f} GB/s   (target >= 5)")
    if shuffled:
        print(
            f"  codec zstd+shuffle: gr.load {gbs(shuffled[0]):.2f} GB/s, "
            f"gr.open[a:b] x{BATCH} {gbs(shuffled[1]):.2f} GB/s"
        )
    print(f"raw chunk-file reads {gbs(t_raw):6.2f} GB/s   (no decode)")
    print(
        f"  two threads, pread {gbs(t_raw2):6.2f} GB/s   (no checksum, no decode: this host's "
        f"ceiling; gr.open[a:b] reaches {t_raw2 / t_batch:.0%} of it)"
    )
    print(f"peak memory of gr.load: {peak / nbytes:.2f} x the data   (target <= 1.1)")
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

        t_zb = median_time(zbatches, 3)
        t_zl = median_time(zload)
        t_zs, cpu_zs = median_times(zarr_save_fn(zarr, path, tmp / "z.zarr"))
        print(f"zarr-python batches  {gbs(t_zb):6.2f} GB/s   (grumpy x{t_zb / t_batch:.1f})")
        print(f"zarr-python load     {gbs(t_zl):6.2f} GB/s   (grumpy x{t_zl / t_load:.1f})")
        print(
            f"zarr-python save     {gbs(t_zs):6.2f} GB/s   (grumpy x{t_zs / t_save:.1f}; "
            f"{t_zs * 1e3:.1f} ms, CPU {cpu_zs * 1e3:.1f} ms, same buffers and codecs)"
        )
    shutil.rmtree(tmp)
    os.sync()


if __name__ == "__main__":
    main()
