"""Resources: RSS stays flat over 20 epochs of streaming a store through a compiled apply; eager
math on streamed batches reuses mapped memory instead of faulting in fresh pages; loads,
opens and streams leak no file descriptors; `break`, an exception and KeyboardInterrupt (also a
real SIGINT) stop the reader threads promptly. Threads are counted in /proc/self/task (Rust
threads included)."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time

import grumpy as gr
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)"
)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def n_fds():
    return len(os.listdir("/proc/self/fd"))


def n_threads():
    return len(os.listdir("/proc/self/task"))


def settle(target, timeout=3.0):
    """Wait until the thread count is back to `target` (or below); return the time it took."""
    t = time.perf_counter()
    while n_threads() > target and time.perf_counter() - t < timeout:
        time.sleep(0.01)
    return time.perf_counter() - t


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    p = tmp_path_factory.mktemp("res") / "s.zarr"
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 20, 4_000)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    gr.save(gr.from_offsets(rng.standard_normal(int(offsets[-1])), offsets), p, chunk_size=256)
    return p


@gr.compile
def affine(batch):
    return batch * 2.0 + 1.0


def test_rss_flat_over_20_epochs_of_compiled_apply(store):
    assert affine.is_compiled, affine.compile_error
    st = gr.stream(store, batch_size=64, shuffle=True, seed=1)
    app = st.apply(affine, cpu=2)
    n_rows = len(gr.open(store))
    rss = []
    for epoch in range(20):
        st.set_epoch(epoch)
        rows = 0
        for out in app:
            rows += len(out)
        assert rows == n_rows
        gc.collect()
        rss.append(rss_mb())
    warm = rss[3]
    growth = max(rss[4:]) - warm
    assert growth < 24, f"RSS grew {growth:.1f} MB after warm-up: {[round(r) for r in rss]}"


_FAULTS = """
import resource, sys
import grumpy as gr
st = gr.stream(sys.argv[1], batch_size=64)
def epoch():
    for b in st:
        ((b * 0.01) + 1.0).mean(dim=1)
epoch()  # warm-up: the reader threads and the allocator settle
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    epoch()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / (3 * len(st)))
"""


def test_eager_batch_temporaries_reuse_mapped_memory(tmp_path):
    # Batches of ~400 KB, in a process that only streams (as a training script does): the
    # case where glibc alone trimmed its heap and mapped fresh pages for every batch's
    # temporaries (about 75 page faults per batch, 3x slower). Correctness of these batches
    # is covered by test_stream; this counts the faults.
    rng = np.random.default_rng(3)
    counts = rng.integers(128, 385, 1_024)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    p = tmp_path / "prot.zarr"
    gr.save(gr.from_offsets(rng.standard_normal((int(offsets[-1]), 3)), offsets), p)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS, str(p)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    per_batch = float(out.stdout.strip())
    assert per_batch < 20, f"{per_batch:.0f} page faults per batch"


def test_no_fd_leaks(store):
    def once():
        gr.load(store)
        r = gr.open(store)
        r[0:10]
        r[len(r) - 1]
        for _ in gr.stream(store, batch_size=500):
            pass
        for _ in gr.stream(store, batch_size=100, workers=3):
            break
        try:
            gr.load(store.parent / "missing.zarr")
        except gr.StoreError:
            pass

    once()
    gc.collect()
    time.sleep(0.1)
    before = n_fds()
    for _ in range(25):
        once()
    gc.collect()
    time.sleep(0.2)
    assert n_fds() <= before, (before, n_fds())


def _warm(store):
    for _ in gr.stream(store, batch_size=256, workers=4, prefetch=8):
        pass
    gc.collect()
    # reader threads linger 0.2 s after their last batch, for the next epoch; then exit
    settle(0, timeout=0.8)
    return n_threads()


def test_break_stops_reader_threads(store):
    base = _warm(store)
    for _ in range(5):
        it = iter(gr.stream(store, batch_size=8, workers=4, prefetch=8))
        next(it)
        assert n_threads() > base  # readers are running
        del it
        gc.collect()
        assert settle(base) < 2.0, (base, n_threads())
    for _ in range(5):
        for _b in gr.stream(store, batch_size=8, workers=4, prefetch=8):
            break
        gc.collect()
        assert settle(base) < 2.0, (base, n_threads())


def test_exceptions_in_the_loop_stop_reader_threads(store):
    base = _warm(store)
    for exc in (KeyboardInterrupt, RuntimeError):
        with pytest.raises(exc):
            for i, _b in enumerate(gr.stream(store, batch_size=8, workers=4)):
                if i == 2:
                    raise exc()
        gc.collect()
        assert settle(base) < 2.0, (exc, base, n_threads())
    with pytest.raises(KeyboardInterrupt):
        for i, _b in enumerate(gr.stream(store, batch_size=8).apply(affine, cpu=2)):
            if i == 2:
                raise KeyboardInterrupt
    gc.collect()
    assert settle(base) < 2.0, (base, n_threads())


def test_sigint_interrupts_iteration_promptly(store):
    base = _warm(store)
    old = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            for _epoch in range(1000):
                for _b in gr.stream(store, batch_size=4, workers=2):
                    pass
        assert time.perf_counter() - t0 < 2.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGINT, old)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    gc.collect()
    assert settle(base) < 2.0, (base, n_threads())
