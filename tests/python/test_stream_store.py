"""gr.stream over a real store on disk: every batch equals the rows of gr.load(path), an epoch
covers the array, and a store deleted mid-epoch raises StoreError instead of hanging."""

from __future__ import annotations

import faulthandler
import json
import os
import subprocess
import sys
import textwrap
import threading

import grumpy as gr
import numpy as np
import pytest

N = 24  # rows; batch sizes 1, 4, 24 divide it, 5, 7 and 30 do not
CHUNK_SIZES = [1, 3, 10_000]  # rows per chunk: one row, a few rows, more than the data


def protein_rows(n, seed=0):
    """Proteins -> residues -> xyz, with empty proteins; values encode (protein, residue)."""
    rng = np.random.default_rng(seed)
    return [
        [[float(i), float(j), float(rng.random())] for j in range(rng.integers(0, 6))]
        for i in range(n)
    ]


ROWS = protein_rows(N)
HANG_SECONDS = float(os.environ.get("GRUMPY_TEST_HANG_SECONDS", "120"))  # tests take < 1 s


@pytest.fixture(autouse=True)
def hang_guard(request):
    """A deadlocked stream ends the run with the test's name and every thread's stack instead
    of hanging it (the main thread is blocked in Rust with the GIL released)."""
    capman = request.config.pluginmanager.getplugin("capturemanager")

    def fire():
        with capman.global_and_fixture_disabled():
            sys.stderr.write(
                f"\n{request.node.nodeid}: no progress in {HANG_SECONDS:g} s (deadlock?)\n"
            )
            faulthandler.dump_traceback(all_threads=True)
            sys.stderr.flush()
        os._exit(70)

    timer = threading.Timer(HANG_SECONDS, fire)
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One saved store per chunk size, with its gr.load result (checked against the source)."""
    out = {}
    for cs in CHUNK_SIZES:
        path = str(tmp_path_factory.mktemp(f"cs{cs}") / "proteins.gr")
        gr.save(gr.array(ROWS), path, chunk_size=cs)
        loaded = gr.load(path)
        assert loaded.to_list() == ROWS
        out[cs] = (path, loaded)
    return out


def check_epoch(st, loaded):
    """Each batch equals loaded[a:b] for its row range; returns the row ranges in order."""
    ranges = st.row_ranges()
    batches = list(st)
    assert len(batches) == len(ranges) == len(st)
    for (a, b), batch in zip(ranges, batches):
        assert isinstance(batch, gr.GrumpyArray)
        assert batch.to_list() == loaded[a:b].to_list(), f"rows [{a}, {b})"
    return ranges, [b.to_list() for b in batches]


def covered_rows(ranges):
    return sorted(i for a, b in ranges for i in range(a, b))


def concat_sorted(ranges, lists):
    out = []
    for _, rows in sorted(zip(ranges, lists), key=lambda t: t[0]):
        out.extend(rows)
    return out


# ---------------------------------------------------------------- batches equal load rows


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("bs", [1, 4, 5, 7, 24, 30])
@pytest.mark.parametrize("cs", CHUNK_SIZES)
def test_batches_equal_loaded_rows(stores, cs, bs, drop_last):
    path, loaded = stores[cs]
    st = gr.stream(path, batch_size=bs, drop_last=drop_last)
    ranges, lists = check_epoch(st, loaded)
    full = N // bs * bs if drop_last else N
    assert ranges == [(a, min(a + bs, N)) for a in range(0, full, bs)]
    concat = [row for rows in lists for row in rows]
    assert concat == loaded[:full].to_list()
    if not drop_last:
        assert concat == loaded.to_list() == ROWS
    # a second epoch of the same stream gives the same batches
    assert [b.to_list() for b in st] == lists


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("cs", CHUNK_SIZES)
def test_shuffled_batches_equal_loaded_rows(stores, cs, seed, drop_last):
    path, loaded = stores[cs]
    bs = 5
    st = gr.stream(path, batch_size=bs, shuffle=True, seed=seed, drop_last=drop_last)
    ranges, lists = check_epoch(st, loaded)
    full = N // bs * bs if drop_last else N
    assert sorted(ranges) == [(a, min(a + bs, N)) for a in range(0, full, bs)]
    assert concat_sorted(ranges, lists) == loaded[:full].to_list()
    # the same seed gives the same order on a new stream; another epoch is a permutation too
    again = gr.stream(path, batch_size=bs, shuffle=True, seed=seed, drop_last=drop_last)
    assert again.row_ranges() == ranges
    again.set_epoch(1)
    ranges1, lists1 = check_epoch(again, loaded)
    assert sorted(ranges1) == sorted(ranges)
    assert concat_sorted(ranges1, lists1) == loaded[:full].to_list()


def test_shuffle_permutes_store_batches(stores):
    path, _ = stores[1]
    orders = [gr.stream(path, batch_size=4, shuffle=True, seed=s).row_ranges() for s in range(4)]
    plain = gr.stream(path, batch_size=4).row_ranges()
    assert any(o != plain for o in orders)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("bs", [4, 5])
@pytest.mark.parametrize("cs", [1, 10_000])
def test_two_ranks_disjoint_and_complete(stores, cs, bs, drop_last, shuffle):
    path, loaded = stores[cs]
    kw = {"batch_size": bs, "drop_last": drop_last, "world_size": 2}
    if shuffle:
        kw.update(shuffle=True, seed=3)
    ranks = [gr.stream(path, rank=r, **kw) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1]) > 0
    all_ranges, all_lists = [], []
    for st in ranks:
        ranges, lists = check_epoch(st, loaded)
        all_ranges += ranges
        all_lists += lists
        if drop_last:
            assert all(b - a == bs for a, b in ranges)
    rows = covered_rows(all_ranges)
    assert len(rows) == len(set(rows)), "ranks overlap"
    if drop_last:
        assert set(rows) <= set(range(N))
    else:
        assert rows == list(range(N))
        assert concat_sorted(all_ranges, all_lists) == loaded.to_list()


@pytest.mark.parametrize("cs", CHUNK_SIZES)
def test_batch_on_residues_and_in_memory(stores, cs):
    path, loaded = stores[cs]
    st = gr.stream(path, batch_size=6, batch_on=1)
    ranges, lists = check_epoch(st, loaded)
    assert [row for rows in lists for row in rows] == loaded.to_list()
    assert all(a < b for a, b in ranges)
    mem = gr.stream(path, batch_size=5, in_memory=True)
    assert [b.to_list() for b in mem] == [b.to_list() for b in gr.stream(path, batch_size=5)]


# ---------------------------------------------------------------- store deleted mid-epoch

# Runs in a child process so that a hang is a timeout, not a stuck test run.
DELETE = textwrap.dedent(
    """
    import json, shutil, sys
    sys.path.insert(0, {pydir!r})
    import grumpy as gr

    path = sys.argv[1]
    workers, prefetch, consumed, shuffle = (int(v) for v in sys.argv[2:6])
    st = gr.stream(path, batch_size=1, workers=workers, prefetch=prefetch,
                   shuffle=bool(shuffle), seed=0 if shuffle else None)
    it = iter(st)
    for _ in range(consumed):
        next(it)
    shutil.rmtree(path)

    def outcome(fn):
        n = 0
        try:
            for _ in fn():
                n += 1
        except gr.StoreError as e:
            explained = bool(e.cause and e.fix)
            return {{"outcome": "StoreError", "after": n, "message": str(e), "explained": explained}}
        except BaseException as e:
            return {{"outcome": type(e).__name__, "after": n, "message": str(e)}}
        return {{"outcome": "completed", "after": n}}

    first = outcome(lambda: it)
    print(json.dumps({{"first": first, "second": outcome(lambda: st)}}), flush=True)
    """
)


@pytest.mark.parametrize(
    "workers,prefetch,consumed,shuffle",
    [(1, 1, 0, 0), (1, 1, 3, 0), (2, 4, 1, 0), (2, 8, 5, 0), (2, 4, 2, 1)],
)
def test_deleted_store_mid_epoch_raises(tmp_path, workers, prefetch, consumed, shuffle):
    n = 48  # small: the chunk-per-row store has 3 files per row
    path = tmp_path / "proteins.gr"
    # one row per chunk: every batch reads chunks no earlier batch decoded, except those read
    # ahead
    gr.save(gr.array(protein_rows(n, seed=1)), path, chunk_size=1)
    script = tmp_path / "delete.py"
    pydir = os.path.dirname(os.path.dirname(os.path.abspath(gr.__file__)))
    script.write_text(DELETE.format(pydir=pydir))
    args = [str(path), str(workers), str(prefetch), str(consumed), str(shuffle)]
    try:
        proc = subprocess.run(
            [sys.executable, str(script), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("iterating a deleted store hung (no StoreError within 60 s)")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    first, second = res["first"], res["second"]
    # batches already in the prefetch window (or being read) may still arrive, and so may
    # those whose chunks were read ahead (up to 8 chunks with the one needed, and the next 8
    # in the background: READ_AHEAD in crates/grumpy-zarr/src/chunk_cache.rs)
    slack = prefetch + workers + 2 + 16
    assert first["outcome"] == "StoreError", first
    assert first["after"] <= slack, first
    assert first["explained"], first  # cause and fix filled in, like every grumpy error
    assert not path.exists()
    # a new epoch over the deleted store fails the same way
    assert second["outcome"] == "StoreError", second
    assert second["after"] < n - consumed, second
