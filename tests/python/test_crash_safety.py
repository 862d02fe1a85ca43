"""Crash safety: a writer SIGKILLed at random points during gr.save / gr.append leaves a store
that loads as exactly the old or exactly the new content; a full disk (RLIMIT_FSIZE) during a
save or an append is a StoreError and the old store is intact. Writers run in forked children
(grumpy is fork-safe, see test_fork.py), so each iteration costs no interpreter start-up."""

from __future__ import annotations

import os
import random
import resource
import signal
import time

import grumpy as gr
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def ragged(n_rows, seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 12, n_rows)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values = rng.standard_normal(int(offsets[-1]))
    return gr.from_offsets(values, offsets), values, offsets


def snapshot(a):
    return np.asarray(a.values).copy(), np.asarray(a.offsets(0)).copy()


def same(a, ref):
    v, o = snapshot(a)
    return len(v) == len(ref[0]) and np.array_equal(v, ref[0]) and np.array_equal(o, ref[1])


def in_child(fn):
    """Fork; the child runs fn() and exits (0 = returned, 3 = raised). Returns the pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            fn()
        except BaseException:  # noqa: BLE001 - a forked child/thread must report, not raise
            code = 3
        os._exit(code)
    return pid


def timed_child(fn):
    t = time.perf_counter()
    _, status = os.waitpid(in_child(fn), 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return time.perf_counter() - t


def kill_at(fn, delay):
    pid = in_child(fn)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.mark.parametrize("mode", ["save", "append"])
def test_sigkill_at_random_points(tmp_path, mode):
    rng = random.Random(1234 if mode == "save" else 4321)
    p = tmp_path / "s.zarr"
    old_arr, *_ = ragged(2_000, 0)
    new_arr, *_ = ragged(60_000, 1)
    old = snapshot(old_arr)
    if mode == "save":
        new = snapshot(new_arr)

        def write():
            gr.save(new_arr, p, chunk_size=2_000)
    else:
        both = gr.cat([old_arr, new_arr])
        new = snapshot(both)

        def write():
            gr.append(new_arr, p)

    gr.save(old_arr, p, chunk_size=500)
    full = timed_child(write)  # one uninterrupted run: how long the write takes
    assert same(gr.load(p), new)
    outcomes = {"old": 0, "new": 0}
    deadline = time.monotonic() + 12
    for _ in range(30):
        if time.monotonic() > deadline:
            break
        gr.save(old_arr, p, chunk_size=500)
        kill_at(write, rng.uniform(0, full * 1.2))
        got = gr.load(p)
        if same(got, old):
            outcomes["old"] += 1
            r = gr.open(p)
            assert len(r) == len(old_arr)
        else:
            assert same(got, new), "the store holds neither the old nor the new content"
            outcomes["new"] += 1
        # the store stays writable after the crash
        gr.append(old_arr[0:1], p)
        assert len(gr.load(p)) == len(got) + 1
    assert sum(outcomes.values()) >= 8
    assert outcomes["old"] > 0, outcomes  # some kills landed before the commit


def fill_disk_child(p, action, limit):
    def run():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            action()
        except gr.StoreError:
            os._exit(0)
        except BaseException:  # noqa: BLE001 - a forked child/thread must report, not raise
            os._exit(4)
        os._exit(5)  # succeeded: the limit was not hit

    _, status = os.waitpid(in_child(run), 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("mode", ["save", "append", "save-iterable"])
def test_full_disk_is_a_store_error_and_keeps_the_old_store(tmp_path, mode):
    p = tmp_path / "s.zarr"
    old_arr, *_ = ragged(1_000, 2)
    gr.save(old_arr, p)
    old = snapshot(old_arr)
    # incompressible values: 8 MB in chunks of 64 KiB or more, above the 32 KiB file limit
    big, *_ = ragged(200_000, 3)
    action = {
        "save": lambda: gr.save(big, p, codec="none"),
        "append": lambda: gr.append(big, p),
        "save-iterable": lambda: gr.save(
            (big[i : i + 50_000] for i in range(0, 200_000, 50_000)), p
        ),
    }[mode]
    assert fill_disk_child(p, action, 32 * 1024) == 0
    assert same(gr.load(p), old)
    assert same(gr.open(p)[0 : len(old_arr)], old)
    # nothing half-written is left behind that a later save trips over
    gr.save(old_arr, p)
    assert same(gr.load(p), old)
    gr.append(old_arr, p)
    assert len(gr.load(p)) == 2 * len(old_arr)
