"""Concurrency: readers (load / open / stream) running while another process appends see a
length the writer committed and exactly the rows up to it (never torn); two streams over one
store in one process; apply(cpu=2) in a thread while the main thread mutates an unrelated array;
no deadlock between the worker pools and zarrs' decoding with cpu=1, 2, 8 (timeouts)."""

from __future__ import annotations

import os
import threading
import time

import grumpy as gr
import numpy as np
import pytest

BATCH = 97  # rows per append


def rows_model(start, stop):
    """Row i holds i % 7 copies of float(i): values and offsets of rows [start, stop)."""
    counts = np.arange(start, stop) % 7
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = np.repeat(np.arange(start, stop, dtype=np.float64), counts)
    return values, offsets


def rows(start, stop):
    v, o = rows_model(start, stop)
    return gr.from_offsets(v, o)


def check_prefix(a, what):
    n = len(a)
    assert n % BATCH == 0, f"{what}: torn length {n}"
    v, o = rows_model(0, n)
    assert np.array_equal(np.asarray(a.offsets(0)), o), f"{what}: offsets differ at length {n}"
    assert np.array_equal(np.asarray(a.values), v), f"{what}: values differ at length {n}"
    return n


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_readers_during_appends_see_whole_appends(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(rows(0, BATCH), p, chunk_size=40)
    n_appends = 40
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child: the writer
        code = 0
        try:
            for k in range(1, n_appends + 1):
                gr.append(rows(k * BATCH, (k + 1) * BATCH), p)
        except BaseException:  # noqa: BLE001 - a forked child/thread must report, not raise
            code = 3
        os._exit(code)
    seen = set()
    reads = 0
    try:
        while True:
            done = os.waitpid(pid, os.WNOHANG)[0] != 0
            seen.add(check_prefix(gr.load(p), "load"))
            r = gr.open(p)
            n = len(r)
            seen.add(check_prefix(r[0:n], "open"))
            if n > BATCH:  # a slice in the middle of the store
                v, _ = rows_model(BATCH, n)
                got = r[BATCH:n]
                assert np.array_equal(np.asarray(got.values), v)
            st = gr.stream(p, batch_size=128)
            parts = list(st)
            total = gr.cat(parts) if parts else rows(0, 0)
            seen.add(check_prefix(total, "stream"))
            reads += 1
            if done:
                break
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    final = check_prefix(gr.load(p), "final")
    assert final == (n_appends + 1) * BATCH
    assert reads >= 3
    assert len(seen) >= 2, seen  # the readers really ran during the appends


def test_two_streams_over_one_store(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(rows(0, 3 * BATCH), p, chunk_size=16)
    ref = gr.load(p).to_list()
    s1 = gr.stream(p, batch_size=10, workers=2)
    s2 = gr.stream(p, batch_size=7, shuffle=True, seed=3, workers=3)
    got1, got2 = [], []
    it1, it2 = iter(s1), iter(s2)
    while True:
        a = next(it1, None)
        b = next(it2, None)
        if a is None and b is None:
            break
        if a is not None:
            got1.extend(a.to_list())
        if b is not None:
            got2.extend(b.to_list())
    assert got1 == ref
    assert sorted(got2, key=lambda r: (len(r), r)) == sorted(ref, key=lambda r: (len(r), r))
    # two threads, one stream each
    out = {}

    def consume(k, st_):
        out[k] = [r for b in st_ for r in b.to_list()]

    ts = [
        threading.Thread(target=consume, args=(k, gr.stream(p, batch_size=5 + k))) for k in range(3)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
        assert not t.is_alive()
    assert all(v == ref for v in out.values())


@gr.compile
def scale(batch):
    return batch * 3.0 - 1.0


def test_apply_in_a_thread_while_main_mutates_another_array(tmp_path):
    p = tmp_path / "s.zarr"
    gr.save(rows(0, 2 * BATCH), p, chunk_size=8)
    ref = [[x * 3.0 - 1.0 for x in r] for r in gr.load(p).to_list()]
    got = []
    err = []

    def run():
        try:
            for out in gr.stream(p, batch_size=6).apply(scale, cpu=2):
                got.extend(out.to_list())
        except BaseException as e:  # noqa: BLE001 - a forked child/thread must report, not raise
            err.append(e)

    other = gr.array(np.zeros((50, 4)))
    model = np.zeros((50, 4))
    t = threading.Thread(target=run)
    t.start()
    k = 0
    while t.is_alive() or k < 200:
        i = k % 50
        other[i] = float(k)
        model[i] = float(k)
        k += 1
        if k > 100_000:
            break
    t.join(60)
    assert not t.is_alive() and not err, err
    assert got == ref
    assert np.array_equal(other.to_numpy(), model)


@pytest.mark.parametrize("cpu", [1, 2, 8])
def test_no_deadlock_between_pools(tmp_path, cpu):
    p = tmp_path / "s.zarr"
    # many small chunks: zarrs decodes them on Rayon while our pools run batches
    gr.save(rows(0, 4 * BATCH), p, chunk_size=3)
    ref = [[x * 3.0 - 1.0 for x in r] for r in gr.load(p).to_list()]
    results = {}

    def run(name, fn):
        results[name] = fn()

    jobs = {
        "rust": lambda: [
            r for b in gr.stream(p, batch_size=5).apply(scale, cpu=cpu) for r in b.to_list()
        ],
        "python": lambda: [
            r
            for b in gr.stream(p, batch_size=5, workers=cpu).apply(
                lambda b: b * 3.0 - 1.0, cpu=cpu, compile=False
            )
            for r in b.to_list()
        ],
        "load": lambda: [[x * 3.0 - 1.0 for x in r] for r in gr.load(p).to_list()],
    }
    threads = [threading.Thread(target=run, args=kv, daemon=True) for kv in jobs.items()]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, 60 - (time.perf_counter() - t0)))
        assert not t.is_alive(), f"deadlock with cpu={cpu}"
    for name in jobs:
        assert results[name] == ref, name


def test_threads_sharing_one_reader(tmp_path):
    # One opened store read by several threads at once: scans in order (read-ahead), scans
    # backwards, random rows and ranges over 4 MB (read in parallel on the pool, which must
    # never wait for a chunk another thread is loading). Every read equals the model, nothing
    # hangs.
    n = 200_000  # about 600,000 float64 values: 4.8 MB
    p = tmp_path / "s.zarr"
    gr.save(rows(0, n), p, chunk_size=2000)
    r = gr.open(p)
    v, o = rows_model(0, n)
    errors, done = [], []

    def check(a, b):
        got = r[a:b]
        assert np.array_equal(np.asarray(got.offsets(0)), o[a : b + 1] - o[a])
        assert np.array_equal(np.asarray(got.values), v[o[a] : o[b]])

    def worker(k):
        try:
            rng = np.random.default_rng(k)
            if k % 4 == 0:
                spans = [(a, min(a + 500, n)) for a in range(0, n, 500)]
            elif k % 4 == 1:
                spans = [(max(b - 500, 0), b) for b in range(n, 0, -500)]
            elif k % 4 == 2:
                spans = [tuple(sorted(rng.integers(0, n + 1, 2))) for _ in range(100)]
            else:
                spans = [(0, n), (n // 3, n), (0, n // 2)] * 3
            for a, b in spans:
                check(int(a), int(b))
            done.append(k)
        except (AssertionError, gr.GrumpyError) as e:  # reported from the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(8)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, 120 - (time.perf_counter() - t0)))
        assert not t.is_alive(), "a reader thread hangs"
    assert not errors, errors[0]
    assert sorted(done) == list(range(8))
