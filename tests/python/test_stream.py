"""gr.stream against a small pure-Python model of the batch plan and of ragged slicing."""

from __future__ import annotations

import os
import threading
import time
import warnings

import grumpy as gr
import grumpy.torch as gt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

# ---------------------------------------------------------------- reference model


def model_base(n, bs, drop_last, counts=None):
    """Contiguous batches: bs rows, or whole rows until the next would pass bs entities."""
    out, a = [], 0
    if counts is None:
        while a < n:
            b = min(a + bs, n)
            if b - a < bs and drop_last:
                break
            out.append((a, b))
            a = b
        return out
    total = 0
    for i, k in enumerate(counts):
        if i > a and total + k > bs:
            out.append((a, i))
            a, total = i, 0
        total += k
    if a < n and not (drop_last and total < bs):
        out.append((a, n))
    return out


def model_shares(n, bs, drop_last, world, counts=None):
    """Unshuffled per-rank row ranges: rank r takes batches r, r + world, ..."""
    b = model_base(n, bs, drop_last, counts)
    if not drop_last:
        end = b[-1][1] if b else 0
        while len(b) % world:
            cands = [i for i, (x, y) in enumerate(b) if y - x >= 2]
            if not cands:
                b.append((end, end))
                continue
            i = max(cands, key=lambda i: (b[i][1] - b[i][0], i))
            x, y = b[i]
            mid = x + (y - x + 1) // 2
            b[i : i + 1] = [(x, mid), (mid, y)]
    keep = len(b) // world * world
    return [b[:keep][r::world] for r in range(world)]


def ragged(rows_seed, n, depth=2):
    rng = np.random.default_rng(rows_seed)
    if depth == 1:
        return [[float(x) for x in rng.random(rng.integers(0, 5))] for _ in range(n)]
    return [
        [[float(x) for x in rng.random(3)] for _ in range(rng.integers(0, 5))] for _ in range(n)
    ]


def lists(stream):
    return [b.to_list() for b in stream]


# ---------------------------------------------------------------- batches equal slices


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("bs", [1, 3, 7, 50])
def test_batches_are_slices_list_chain(bs, drop_last):
    rows = ragged(0, 23)
    st = gr.stream(gr.array(rows), batch_size=bs, drop_last=drop_last)
    want = [rows[a:b] for a, b in model_base(23, bs, drop_last)]
    assert len(st) == len(want)
    assert lists(st) == want
    assert lists(st) == want, "iterating again gives the same batches"


def test_batches_union_and_flat():
    u = [1.0, [2.0, 3.0], 4.0, [], [5.0], 6.0, 7.0]
    assert lists(gr.stream(gr.array(u), batch_size=3)) == [u[0:3], u[3:6], u[6:7]]
    flat = list(range(10))
    st = gr.stream(gr.array(flat), batch_size=4, drop_last=True)
    assert lists(st) == [flat[0:4], flat[4:8]]
    assert lists(gr.stream(gr.array(flat[:0]), batch_size=4)) == []


def test_stream_plain_python_object_and_in_memory():
    rows = ragged(1, 9)
    st = gr.stream(rows, batch_size=4, in_memory=True, workers=3, prefetch=1)
    assert lists(st) == [rows[0:4], rows[4:8], rows[8:9]]


@settings(max_examples=60, deadline=None)
@given(
    n=st_.integers(0, 30),
    bs=st_.integers(1, 8),
    world=st_.integers(1, 4),
    drop_last=st_.booleans(),
    on=st_.booleans(),
    seed=st_.integers(0, 2**64 - 1),
)
def test_ranks_disjoint_equal_and_complete(n, bs, world, drop_last, on, seed):
    rows = ragged(n, n, depth=1)
    on = on and n > 0  # an empty array has no nested level
    counts = [len(r) for r in rows] if on else None
    shares = model_shares(n, bs, drop_last, world, counts)
    seen, lens = [], set()
    for r in range(world):
        st = gr.stream(
            gr.array(rows, dtype=gr.float64),
            batch_size=bs,
            drop_last=drop_last,
            world_size=world,
            rank=r,
            batch_on=1 if on else None,
            workers=2,
            prefetch=2,
        )
        assert st.row_ranges() == shares[r]
        got = lists(st)
        assert got == [rows[a:b] for a, b in shares[r]]
        lens.add(len(st))
        seen += [i for a, b in st.row_ranges() for i in range(a, b)]
        # shuffled shares are a permutation-consistent split too
        sh = gr.stream(
            gr.array(rows, dtype=gr.float64),
            batch_size=bs,
            drop_last=drop_last,
            world_size=world,
            rank=r,
            shuffle=True,
            seed=seed,
            batch_on=1 if on else None,
        )
        assert len(sh) == len(st)
    assert len(lens) == 1, "equal share per rank"
    if not drop_last:
        assert sorted(seen) == list(range(n)), "every row exactly once"
    else:
        assert len(seen) == len(set(seen))


def test_batch_on_packs_whole_rows():
    rows = ragged(3, 40)
    counts = [len(r) for r in rows]
    for bs in (1, 4, 9):
        for dl in (False, True):
            st = gr.stream(gr.array(rows), batch_size=bs, batch_on=1, drop_last=dl)
            want = model_base(40, bs, dl, counts)
            assert st.row_ranges() == want
            assert lists(st) == [rows[a:b] for a, b in want]
    # level 2 counts atoms (3 per residue)
    st = gr.stream(gr.array(rows), batch_size=12, batch_on=2)
    assert st.row_ranges() == model_base(40, 12, False, [3 * c for c in counts])


# ---------------------------------------------------------------- shuffle and epochs


def test_shuffle_reproducible_and_epoch_dependent():
    rows = ragged(4, 64)
    mk = lambda: gr.stream(gr.array(rows), batch_size=4, shuffle=True, seed=7)
    a, b = mk(), mk()
    assert a.row_ranges() == b.row_ranges()
    e0 = a.row_ranges()
    assert sorted(e0) == model_base(64, 4, False)
    assert e0 != model_base(64, 4, False)
    assert lists(a) == [rows[x:y] for x, y in e0]
    assert a.row_ranges() == e0, "iterating does not advance the epoch"
    a.set_epoch(1)
    assert a.row_ranges() != e0 and sorted(a.row_ranges()) == sorted(e0)
    a.set_epoch(0)
    assert a.row_ranges() == e0
    assert a.epoch == 0 and a.seed == 7
    other = gr.stream(gr.array(rows), batch_size=4, shuffle=True, seed=8)
    assert other.row_ranges() != e0
    # no seed on one rank: a random seed, fixed for the stream's life
    c = gr.stream(gr.array(rows), batch_size=4, shuffle=True)
    assert c.row_ranges() == c.row_ranges()


def test_shuffle_level_permutes_inside_rows_consistently():
    rows = [[[float(i), float(j), 0.0] for j in range(i % 6)] for i in range(30)]
    st = gr.stream(gr.array(rows), batch_size=5, shuffle=1, seed=3)
    changed = False
    for (a, b), batch in zip(st.row_ranges(), lists(st)):
        want = rows[a:b]
        assert [len(r) for r in batch] == [len(r) for r in want]
        for got_row, want_row in zip(batch, want):
            assert sorted(got_row) == sorted(want_row), "residues move as whole entities"
        changed |= batch != want
    assert changed
    again = gr.stream(gr.array(rows), batch_size=5, shuffle=1, seed=3)
    assert lists(again) == lists(st)
    again.set_epoch(2)
    assert lists(again) != lists(st)
    with pytest.raises(gr.ArgumentError):  # 0 is ambiguous with False
        gr.stream(gr.array(rows), batch_size=5, shuffle=0, seed=3)


# ---------------------------------------------------------------- indexing


def test_indexing_composes():
    rows = ragged(5, 50)
    st = gr.stream(gr.array(rows), batch_size=4, shuffle=True, seed=1)
    all_b = lists(st)
    assert st[2:5][0].to_list() == all_b[2]
    assert st[-1].to_list() == all_b[-1]
    assert lists(st[::3]) == all_b[::3]
    assert lists(st[[5, 0, 5]]) == [all_b[5], all_b[0], all_b[5]]
    assert lists(st[np.array([1, 2])]) == all_b[1:3]
    assert st[3:9][[4, 0]][1].to_list() == all_b[3]
    assert len(st[10:2]) == 0
    with pytest.raises(gr.OutOfBoundsError):
        st[len(st)]
    with pytest.raises(gr.OutOfBoundsError):
        st[2:4][[2]]
    with pytest.raises(gr.ArgumentError):
        st["a"]
    with pytest.raises(gr.ArgumentError):
        st[[1.5]]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": -3},
        {"batch_size": 2.5},
        {"batch_size": True},
        {"world_size": 2, "rank": 2},
        {"rank": 1},
        {"world_size": 0},
        {"world_size": 2, "rank": 0, "shuffle": True},
        {"batch_on": "residue"},
        {"batch_on": 3},
        {"shuffle": "residue"},
        {"shuffle": 5, "seed": 1},
        {"shuffle": 1.5},
        {"seed": -1},
        {"seed": "x"},
        {"workers": 0},
        {"prefetch": 0},
        {"drop_last": "yes"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(gr.ArgumentError) as e:
        gr.stream(gr.array(ragged(6, 10)), **kwargs)
    assert e.value.fix and e.value.cause


def test_missing_store_is_store_error(tmp_path):
    with pytest.raises(gr.StoreError):
        gr.stream(str(tmp_path / "nothing.gr"))
    with pytest.raises(gr.StoreError):
        gr.stream(tmp_path / "nothing.gr")


def test_union_level_below_union_unsupported():
    u = gr.array([1.0, [2.0, 3.0], 4.0])
    with pytest.raises(gr.Unsupported):
        gr.stream(u, batch_on=1)


# ---------------------------------------------------------------- threads stop


def _threads():
    return len(os.listdir("/proc/self/task"))


def _settle(base, timeout=2.0):
    deadline = time.time() + timeout
    while _threads() > base and time.time() < deadline:
        time.sleep(0.01)
    return _threads()


def test_iterator_drop_stops_reader_threads():
    rows = ragged(7, 400)
    st = gr.stream(gr.array(rows), batch_size=1, workers=4, prefetch=8)
    # reader threads of earlier tests linger 0.2 s after their last batch, then exit
    time.sleep(0.5)
    base = _threads()
    it = iter(st)
    next(it)
    assert _threads() >= base + 1
    del it
    assert _settle(base) <= base
    # a partly consumed loop (break) releases them too
    for _ in st:
        break
    assert _settle(base) <= base


def test_reader_threads_linger_between_epochs_then_exit():
    rows = ragged(7, 400)
    st = gr.stream(gr.array(rows), batch_size=10, workers=2)
    for _ in st:
        pass
    time.sleep(0.02)
    after_first = _threads()  # with the readers, idle
    # the next epoch, started within the linger, runs on them: no new thread
    counts = [_threads() for _ in st]
    assert len(counts) == len(st)
    assert max(counts) <= after_first
    # and they do not outlive the linger
    assert _settle(after_first - 2) <= after_first - 2


def test_iteration_releases_the_gil():
    rows = ragged(8, 200)
    st = gr.stream(gr.array(rows), batch_size=1)
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.0005)

    t = threading.Thread(target=spin)
    t.start()
    n = sum(1 for _ in st)
    stop.set()
    t.join()
    assert n == 200 and ticks


# ---------------------------------------------------------------- apply


def test_apply_order_and_none_passthrough():
    rows = ragged(9, 37)
    st = gr.stream(gr.array(rows), batch_size=3)
    seen = []

    def slow_first(b):
        time.sleep(0.01 if len(seen) % 2 else 0.0)
        seen.append(len(b))

    def to_len(b):
        return len(b)

    for cpu in (1, 3):
        seen.clear()
        out = list(st.apply([slow_first, to_len], cpu=cpu, prefetch=4 if cpu > 1 else None))
        assert out == [b - a for a, b in st.row_ranges()]
        assert sorted(seen) == sorted(out)
    ints = [[k * 10 + j for j in range(k % 4)] for k in range(37)]
    st = gr.stream(gr.array(ints, dtype=gr.float64), batch_size=3)
    out = list(st.apply(lambda b: b.astype(gr.int64), cpu=2))
    assert [o.to_list() for o in out] == [ints[a:b] for a, b in model_base(37, 3, False)]
    assert len(st.apply(to_len)) == len(st)


def test_apply_early_break_shuts_pool():
    st = gr.stream(gr.array(ragged(10, 100)), batch_size=1)
    gen = iter(st.apply(len, cpu=4))
    assert next(gen) == 1
    gen.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("grumpy-apply")]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cpu": 0},
        {"cpu": 1.5},
        {"cpu": True},
        {"cpu": "2"},
        {"compile": "maybe"},
        {"compile": 1},
        {"scheduler": "gpu"},
        {"scheduler": None},
        {"prefetch": 0},
    ],
)
def test_apply_bad_arguments(kwargs):
    st = gr.stream(gr.array([1, 2, 3]), batch_size=1)
    with pytest.raises(gr.ArgumentError):
        st.apply(len, **kwargs)


def test_apply_bad_fns():
    st = gr.stream(gr.array([1, 2, 3]), batch_size=1)
    for fns in ([], [len, 3], "len", None):
        with pytest.raises(gr.ArgumentError):
            st.apply(fns)


def test_apply_compile_force_and_rust_scheduler_warn_once():
    st = gr.stream(gr.array([1.0, 2.0, 3.0]), batch_size=1)

    def f(b):  # control flow: cannot compile
        if b is None:
            return None
        return b

    def g(b):  # a call outside the supported set: cannot compile
        return b.astype(b.dtype)

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = list(st.apply([f, g], compile=True))
    assert len([x for x in w if issubclass(x.category, gr.CompileWarning)]) == 2
    assert [o.to_list() for o in out] == [[1.0], [2.0], [3.0]]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        list(st.apply(f, scheduler="rust", compile="never"))
    assert len(w) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(st.apply(f, compile="auto", scheduler="python", cpu=2))


# ---------------------------------------------------------------- torch adapters


def test_dataset_splits_workers_without_duplicates(monkeypatch):
    rows = ragged(11, 41)
    st = gr.stream(gr.array(rows), batch_size=3, shuffle=True, seed=4)
    want = lists(st)
    ds = gt.StreamDataset(st)
    for nw in (1, 2, 3):
        per = []
        for w in range(nw):
            monkeypatch.setattr(gt, "_worker_info", lambda w=w, nw=nw: (w, nw))
            per.append(lists(ds))
        # DataLoader interleaves workers round-robin: that is the stream order
        inter = [per[k % nw][k // nw] for k in range(len(want))]
        assert inter == want
        assert sum(len(p) for p in per) == len(want)
    with pytest.raises(gr.ArgumentError):
        ds.shard(2, 2)
    with pytest.raises(gr.ArgumentError):
        gt.StreamDataset([1, 2])


def test_dataset_resume_mid_epoch():
    rows = ragged(12, 30)
    st = gr.stream(gr.array(rows), batch_size=2, shuffle=True, seed=9)
    ds = gt.StreamDataset(st)
    ds.set_epoch(3)
    full = lists(ds)
    it = iter(ds)
    first = [next(it).to_list() for _ in range(4)]
    state = ds.state_dict()
    assert state["epoch"] == 3 and state["batches_done"] == 4
    fresh = gt.StreamDataset(gr.stream(gr.array(rows), batch_size=2, shuffle=True, seed=9))
    fresh.load_state_dict(state)
    assert len(fresh) == len(full) - 4
    rest = lists(fresh)
    assert first + rest == full
    assert lists(fresh) == full, "the next epoch starts from its first batch"
    for bad in ({}, {"epoch": 0, "batches_done": 999}, {"epoch": 3, "batches_done": 1, "seed": 1}):
        with pytest.raises(gr.ArgumentError):
            fresh.load_state_dict(bad)
    assert gt.StreamDataset(st).state_dict(batches_done=7)["batches_done"] == 7


def pad_model(rows, pad):
    width = max((len(r) for r in rows), default=0)
    vals = [list(r) + [pad] * (width - len(r)) for r in rows]
    mask = [[True] * len(r) + [False] * (width - len(r)) for r in rows]
    return vals, mask


def view(rows, k):
    """Rows k..2k of a stream batch: a zero-copy view whose offsets do not start at 0."""
    return gr.stream(gr.array(rows), batch_size=k)[1]


def test_padded_and_jagged_numpy():
    rows = [[1.0, 2.0], [], [3.0, 4.0, 5.0]]
    x = view([[9.0], [8.0, 7.0], [6.0], *rows], 3)
    assert x.offsets(0)[0] == 4 and x.to_list() == rows
    v, m = gt.padded_numpy(x, pad=-1)
    assert (v.tolist(), m.tolist()) == pad_model(rows, -1.0)
    xyz = [[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]
    v, m = gt.padded_numpy(gr.array(xyz))
    assert v.shape == (2, 2, 3) and m.tolist() == [[True, False], [True, True]]
    assert v[0, 1].tolist() == [0.0, 0.0, 0.0] and v[1, 1].tolist() == [7.0, 8.0, 9.0]
    vals, off = gt.jagged_numpy(view([[1.0], [2.0], [], [3.0, 4.0, 5.0]], 2))
    assert vals.tolist() == [3.0, 4.0, 5.0] and off.tolist() == [0, 0, 3]
    # padded_numpy is x.to_padded: every ragged axis is padded (test_interop checks the rule)
    v, m = gt.padded_numpy(gr.array([[[1.0], [2.0, 3.0]]]))
    assert v.tolist() == [[[1.0, 0.0], [2.0, 3.0]]] and m.tolist() == [
        [[True, False], [True, True]]
    ]
    v, m = gt.padded_numpy(gr.array([1.0, [2.0]]))
    assert v.tolist() == [[1.0], [2.0]] and m.all()
    # jagged rows need exactly one ragged level
    with pytest.raises(gr.ShapeError):
        gt.jagged_numpy(gr.array([[[1.0], [2.0, 3.0]]]))
    with pytest.raises(gr.ShapeError):
        gt.jagged_numpy(gr.array([1.0, 2.0]))
    with pytest.raises(gr.Unsupported):
        gt.jagged_numpy(gr.array([1.0, [2.0]]))


def test_tensor_wrappers_need_torch():
    if gt._torch is not None:
        pytest.skip("torch is installed: covered by test_torch_tensors")
    with pytest.raises(gr.Unsupported):
        gt.to_padded(gr.array([[1.0]]))
    with pytest.raises(gr.Unsupported):
        gt.to_nested(gr.array([[1.0]]))


def test_torch_tensors_and_dataloader():
    torch = pytest.importorskip("torch")
    rows = ragged(13, 20, depth=1)
    t, _m = gt.to_padded(gr.array(rows, dtype=gr.float64), pad=0)
    assert t.tolist() == pad_model(rows, 0.0)[0]
    st = gr.stream(gr.array(rows, dtype=gr.float64), batch_size=3)
    dl = torch.utils.data.DataLoader(gt.StreamDataset(st), batch_size=None, num_workers=2)
    assert [b.to_list() for b in dl] == lists(st)
