"""Stream.apply(fns, cpu=, compile=, scheduler=, prefetch=): output equals the eager loop for
every combination, batches the fused plan does not apply to run their Python bodies (also on
the Rust scheduler), warnings follow API.md's counting rule, and memory stays bounded. The
Python scheduler's pool only takes batches that take 1 ms or more: this module lowers that to 0
so that its tiny batches go through the pool, except where a test checks the threshold."""

from __future__ import annotations

import importlib
import os
import threading
import time
import warnings

import grumpy as gr
import pytest

# the module (the package's `stream` attribute is the function gr.stream)
STREAM = importlib.import_module("grumpy.stream")


@pytest.fixture(autouse=True)
def _pool_for_every_batch(monkeypatch):
    monkeypatch.setattr(STREAM, "THREAD_MIN_SECONDS", 0.0)


def stage_a(batch):
    return batch * 2.0


def stage_b(batch):
    return batch + 1.0


def not_compilable(batch):
    if batch is None:
        return batch
    return batch - 1.0


def total(batch):
    return batch.sum()


def affine(batch):
    return batch * 2.0 + 1.0


def bool_scalar_math(batch):
    s = batch.any()
    return batch * (s + s)  # Python: True + True == 2; the plan defers to Python


def big_int_scalar(batch):
    s = batch.max()
    t = s * 4611686018427387904  # overflows int64 when max >= 2: Python's big ints decide
    return batch + (t - t)


def mutate_only(batch):
    batch = batch * 3.0  # rebinding a local: returns None, so apply passes the input on


def eager(st_, fns):
    out = []
    for b in st_:
        for f in fns:
            r = f(b)
            if r is not None:
                b = r
        out.append(b.to_list() if hasattr(b, "to_list") else b)
    return out


def collect(app):
    return [o.to_list() if hasattr(o, "to_list") else o for o in app]


ROWS = [[float(i), float(i) / 2] * (i % 3 + 1) for i in range(23)]
INT_ROWS = [[i % 5 - 1, (i * 7) % 3] * (i % 2 + 1) for i in range(19)]


@pytest.mark.parametrize("compile", ["auto", True, "force", False, "never"])
@pytest.mark.parametrize("scheduler", ["auto", "python", "rust"])
@pytest.mark.parametrize("cpu", [1, 2, 4])
@pytest.mark.parametrize(
    "fns, rows",
    [
        ([stage_a, stage_b], ROWS),
        ([stage_a, not_compilable], ROWS),
        ([total, affine], ROWS),
        ([stage_a, bool_scalar_math], ROWS),
        ([big_int_scalar, stage_b], INT_ROWS),
        ([mutate_only, stage_b], ROWS),
    ],
)
def test_apply_every_combination_equals_eager_loop(compile, scheduler, cpu, fns, rows):
    st_ = gr.stream(gr.array(rows), batch_size=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = collect(st_.apply(fns, compile=compile, scheduler=scheduler, cpu=cpu))
    assert out == eager(st_, fns)


def _threads_used(fn, n_rows, cpu=2):
    """Run `fn` over a stream with the Python scheduler; return (outputs, thread ids used)."""
    seen = []

    def traced(batch):
        seen.append(threading.get_ident())
        return fn(batch)

    st_ = gr.stream(gr.array([[float(i)] * 3 for i in range(n_rows)]), batch_size=1)
    out = collect(st_.apply(traced, compile="never", scheduler="python", cpu=cpu))
    return out, set(seen)


def test_python_scheduler_runs_quick_batches_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(STREAM, "THREAD_MIN_SECONDS", 1e-3)
    out, used = _threads_used(stage_a, 40)
    assert out == [[[2.0 * i] * 3] for i in range(40)]
    assert used == {threading.get_ident()}


def test_python_scheduler_hands_slow_batches_to_its_threads(monkeypatch):
    monkeypatch.setattr(STREAM, "THREAD_MIN_SECONDS", 1e-3)

    def slow(batch):
        time.sleep(0.003)  # releases the GIL, as Rust and NumPy calls do
        return batch * 2.0

    out, used = _threads_used(slow, 30)
    assert out == [[[2.0 * i] * 3] for i in range(30)], "in order"
    # the first batch shows the average is over the threshold; the pool runs the rest
    assert threading.get_ident() in used and len(used) == 3, used


def test_python_scheduler_switches_to_the_pool_when_batches_slow_down(monkeypatch):
    monkeypatch.setattr(STREAM, "THREAD_MIN_SECONDS", 1e-3)
    calls = []

    def later_slow(batch):
        calls.append(threading.get_ident())
        if len(calls) > 10:
            time.sleep(0.003)
        return batch + 1.0

    st_ = gr.stream(gr.array([[float(i)] for i in range(40)]), batch_size=1)
    out = collect(st_.apply(later_slow, compile="never", scheduler="python", cpu=2))
    assert out == [[[i + 1.0]] for i in range(40)]
    main = threading.get_ident()
    assert calls[:10] == [main] * 10
    assert set(calls[20:]) - {main}, "the pool took over"


def test_apply_fuses_only_when_everything_compiles():
    st_ = gr.stream(gr.array([[1.0], [2.0]]), batch_size=1)
    assert st_.apply([stage_a, stage_b]).is_compiled
    assert st_.apply([total, affine]).is_compiled
    assert not st_.apply([stage_a, not_compilable]).is_compiled
    assert not st_.apply([stage_a, stage_b], compile="never").is_compiled


def record(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(c.message) for c in w if issubclass(c.category, gr.CompileWarning)]


def test_warning_counts_follow_the_api_rule():
    st_ = gr.stream(gr.array(ROWS), batch_size=4)
    # a plain function: once per function per apply call, however often it is listed
    app = st_.apply([not_compilable, not_compilable], compile=True)
    _, w = record(lambda: collect(app))
    assert len(w) == 1 and "not_compilable" in w[0]
    _, w = record(lambda: collect(app))  # iterating the same StreamApply again
    assert w == []
    _, w = record(lambda: collect(st_.apply([not_compilable], compile=True)))
    assert len(w) == 1  # a new apply call
    # a CompiledTransform: once, ever
    ct = gr.compile(not_compilable)
    _, w = record(lambda: ct(gr.array([[1.0]])))
    assert len(w) == 1
    _, w = record(lambda: collect(st_.apply([ct, stage_a], compile=True)))
    assert w == []
    # compile="auto" on a partly compilable pipeline runs Python silently
    _, w = record(lambda: collect(st_.apply([stage_a, not_compilable])))
    assert w == []


def test_rust_scheduler_fallback_warns_once_per_apply_call():
    st_ = gr.stream(gr.array(ROWS), batch_size=4)
    app = st_.apply([stage_a, not_compilable], scheduler="rust", cpu=2)
    _, w = record(lambda: collect(app))
    assert len(w) == 1 and "scheduler='rust'" in w[0] and "not_compilable" in w[0]
    _, w = record(lambda: collect(app))
    assert w == []


def test_rust_scheduler_falls_back_per_batch():
    # batch 0 has max 1 (fits the plan), batch 1 max 3 (3 * 2**62 needs Python's big ints)
    st_ = gr.stream(gr.array([[0, 1], [1], [0], [3, 1], [0], [1, 2]]), batch_size=3)
    app = st_.apply([big_int_scalar, stage_b], scheduler="rust", cpu=2)
    assert app.is_compiled
    out, w = record(lambda: collect(app))
    assert out == eager(st_, [big_int_scalar, stage_b])
    assert len(w) == 1 and "big_int_scalar" in w[0]
    # the batches where max <= 1 ran in the plan
    plan = app.plan
    ran = 0
    for b in st_:
        try:
            plan.run(b)
            ran += 1
        except gr.Unsupported:
            pass
    assert 0 < ran < len(st_)


def test_apply_on_stores_with_shuffle_ranks_and_slices(tmp_path):
    rows = [[float(i)] * (i % 4 + 1) for i in range(40)]
    gr.save(gr.array(rows), tmp_path / "d.gr", chunk_size=7)
    for rank in (0, 1):
        st_ = gr.stream(
            str(tmp_path / "d.gr"), batch_size=3, shuffle=True, seed=5, world_size=2, rank=rank
        )
        for epoch in (0, 1):
            st_.set_epoch(epoch)
            want = eager(st_, [stage_a, stage_b])
            for sched in ("rust", "python", "auto"):
                got = collect(st_.apply([stage_a, stage_b], cpu=2, scheduler=sched))
                assert got == want
        sub = st_[1:3]
        assert collect(sub.apply(stage_a, scheduler="rust")) == eager(sub, [stage_a])
        picked = st_[[2, 0, 2]]
        assert collect(picked.apply(affine, scheduler="rust", cpu=2)) == eager(picked, [affine])


def test_apply_on_a_union_store(tmp_path):
    u = gr.array([1.0, [2.0, 3.0], 4.0, [], [5.0]] * 5, dtype=gr.float64)
    gr.save(u, tmp_path / "u.gr", chunk_size=3)
    st_ = gr.stream(str(tmp_path / "u.gr"), batch_size=4, shuffle=True, seed=1)
    for sched in ("rust", "python"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = collect(st_.apply([stage_a, affine], compile=True, scheduler=sched, cpu=2))
        assert got == eager(st_, [stage_a, affine])


def test_rust_scheduler_stops_cleanly_on_break():
    st_ = gr.stream(gr.array([[float(i)] for i in range(1000)]), batch_size=1, prefetch=2)
    for i, _ in enumerate(st_.apply(stage_a, cpu=2, scheduler="rust")):
        if i == 3:
            break
    assert len(list(st_.apply(stage_a, cpu=2, scheduler="rust"))) == 1000


def test_rust_scheduler_window_defaults():
    # the Rust scheduler keeps at least RUST_WINDOW batches in flight, bounded by the bytes of
    # their results, unless told otherwise (then by count only)
    from grumpy.stream import RUST_WINDOW, RUST_WINDOW_BYTES

    st_ = gr.stream(gr.array([[float(i)] for i in range(100)]), batch_size=1)
    app = st_.apply(stage_a, cpu=2, scheduler="rust")
    assert (app.window, app.rust_window) == (4, max(4, RUST_WINDOW))
    assert app.rust_bytes == RUST_WINDOW_BYTES
    assert st_.apply(stage_a, cpu=400, scheduler="rust").rust_window == max(800, RUST_WINDOW)
    app = st_.apply(stage_a, cpu=2, scheduler="rust", prefetch=3)
    assert (app.window, app.rust_window, app.rust_bytes) == (3, 3, None)
    assert len(list(app)) == 100


BYTE_BUDGET = """
import importlib, os, sys, time
import numpy as np
import grumpy as gr


def rss_mb():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# (the module: `grumpy.stream` as an attribute is the function gr.stream)
importlib.import_module("grumpy.stream").RUST_WINDOW_BYTES = int(sys.argv[1]) << 20
rows, width = 200, 50_000  # 400 KB per row: 80 MB in, 80 MB of results if all ran ahead
x = gr.from_offsets(np.ones(rows * width), np.arange(0, rows * width + 1, width))


def double(batch):
    return batch * 2.0


app = gr.stream(x, batch_size=1).apply(double, compile=True, scheduler="rust", cpu=2)
assert app.plan is not None  # the Rust scheduler runs it
it = iter(app)
before = rss_mb()
next(it)
time.sleep(0.5)  # the workers run ahead as far as they may
print(rss_mb() - before, sum(1 for _ in it) + 1)
"""


def test_rust_scheduler_bounds_waiting_results_by_bytes(tmp_path):
    # the default window (256 batches) would let every 400 KB result of this epoch wait, 80 MB;
    # the byte budget holds them to a few MB (4 MB here), the epoch still complete. A script
    # file, not -c: the compiler reads the function's source.
    from helpers import run_python

    script = tmp_path / "budget.py"
    script.write_text(BYTE_BUDGET)

    def growth(budget_mb):
        out = run_python(script, str(budget_mb), timeout=300).stdout.split()
        assert int(out[1]) == 200
        return float(out[0])

    small, large = growth(4), growth(1024)
    assert small < 25, small
    assert large > 50, large


def test_errors_arrive_at_their_batch():
    st_ = gr.stream(gr.array([[1, 2], [3], [4, 5]]), batch_size=1)

    def div0(batch):
        return batch // 0

    it = iter(st_.apply(div0, scheduler="rust", cpu=2))
    with pytest.raises(gr.GrumpyError) as e:
        next(it)
    with pytest.raises(type(e.value)):
        div0(next(iter(st_)))


def rss_mb():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


LONG_STREAM = """
import os, sys
import numpy as np
import grumpy as gr


def affine(batch):
    return batch * 2.0 + 1.0


def rss_mb():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


n_rows, width = 600, 20_000
flat = np.arange(n_rows * width, dtype=np.float64)
arr = gr.from_offsets(flat, np.arange(0, n_rows * width + 1, width))
path = os.path.join(sys.argv[1], "long.gr")
gr.save(arr, path, chunk_size=16)
st_ = gr.stream(path, batch_size=1, prefetch=2)
for sched, cpu in (("rust", 2), ("python", 2), ("python", 1)):
    app = st_.apply(affine, scheduler=sched, cpu=cpu, prefetch=3)

    def epoch(app=app):
        peak = 0.0
        for k, out in enumerate(app):
            assert out.size == width
            if k % 25 == 0:
                peak = max(peak, rss_mb())
        return peak

    warm = max(epoch(), epoch())
    later = max(epoch() for _ in range(3))
    print(sched, cpu, warm, later)
"""


def test_memory_stays_bounded_on_a_long_stream(tmp_path):
    # 600 batches of 160 KB in, 160 KB out per epoch (~96 MB of results per epoch). Once the
    # reader's bounded chunk cache (64 MB) and the allocator's pools are warm, further epochs
    # must not grow the process: nothing piles up per batch or per epoch. Measured in a fresh
    # process: RSS of the test runner also moves with whatever earlier tests left behind.
    from helpers import run_python

    out = run_python("-c", LONG_STREAM, tmp_path, timeout=600).stdout.split("\n")
    rows = [line.split() for line in out if line.strip()]
    assert len(rows) == 3, out
    for sched, cpu, warm, later in rows:
        assert float(later) - float(warm) < 40, (sched, cpu, warm, later)


def residue_centers(batch):
    batch.residue.center = batch.residue.coords.mean(dim=-1)
    return batch


def spread(batch):
    batch.protein.spread = batch.protein.center.ptp(dim=-1)


def test_fused_pipelines_on_dataframe_batches(tmp_path):
    """A frame stream (in memory and from a frame store) through a fused pipeline, on both
    schedulers, equals the eager loop over df[a:b]."""

    def frame(seed):
        rows = [[[float(seed + i + j), 1.0, -2.0] for j in range(i % 3)] for i in range(11)]
        return gr.dataframe(
            {"coords": rows}, schema=["protein", "residue"], levels={"coords": "residue"}
        )

    def as_dict(df):
        return {k: v.to_list() for k, v in df.to_dict().items()}

    ts = [gr.compile(residue_centers), gr.compile(spread)]
    assert all(t.is_compiled for t in ts)
    for seed in range(2):
        df = frame(seed)
        path = str(tmp_path / f"f{seed}.gr")
        gr.save(df, path, chunk_size=3)
        for src in (df, path):
            st = gr.stream(src, batch_size=4)
            for cpu, scheduler in ((1, "python"), (2, "python"), (2, "rust")):
                ap = st.apply(ts, cpu=cpu, scheduler=scheduler)
                assert ap.is_compiled
                got = list(ap)
                assert len(got) == len(st)
                for out, (a, b) in zip(got, st.row_ranges()):
                    assert isinstance(out, gr.DataFrame)
                    want = frame(seed)[a:b]
                    for f in (residue_centers, spread):
                        r = f(want)
                        want = want if r is None else r
                    assert as_dict(out) == as_dict(want)


def pool_affine(batch):
    return (batch * 0.01 + 1.0).mean(dim=1)


def whole_sum(batch):
    return (batch * 2.0 - 1.0).sum()


def knn_edges(batch):
    return gr.neighbors(batch, batch, k=8, dim=1, loop=False)


def test_rust_scheduler_batches_past_the_parallel_size_equal_eager(tmp_path):
    """Batches of 80,000+ values, past the size where kernels split their work over threads:
    on the Rust scheduler each batch runs on one of `cpu` threads (its kernels serial), and
    every result is bit for bit what the eager loop gives (the whole-batch sum merges the same
    chunks in the same order)."""
    import numpy as np

    rng = np.random.default_rng(5)
    lens = rng.integers(500, 900, size=160)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    coords = rng.normal(size=(int(offsets[-1]), 3)) * np.array([1e-3, 1.0, 1e5])
    path = str(tmp_path / "big.gr")
    gr.save(gr.from_offsets(coords, offsets), path)
    st = gr.stream(path, batch_size=40)
    assert min(b.size for b in st) > 65_536
    for fn in (pool_affine, whole_sum, knn_edges):
        want = eager(st, [fn])
        for cpu in (1, 2):
            got = collect(st.apply(fn, compile=True, scheduler="rust", cpu=cpu))
            assert got == want, (fn.__name__, cpu)


def pool_rows(batch):
    batch = batch * 0.01
    batch = batch + 1.0
    return batch.mean(dim=1)


def mean_over_batch(batch):
    return batch.mean(dim=0)


def row_max(batch):
    return batch.max(dim=1)


def detail(x):
    """What a result looks like: values, the offsets of every level, and its NumPy export."""
    try:
        np_ = x.to_numpy()
        export = (type(np_).__name__, np_.tolist())
    except gr.GrumpyError as e:
        export = type(e).__name__
    return x.to_list(), [x.offsets(k).tolist() for k in range(x.ndim - 1)], export


def test_rust_scheduler_many_small_batches_equal_eager(tmp_path):
    """Many small batches: the Rust scheduler reads and runs several consecutive ones per job
    when the plan keeps rows apart, and slices the output back into batches. Every result
    equals the eager loop's, on the whole stream, a slice, a shuffled and a DDP stream, and a
    batch whose search raises raises at its place, after the batches before it."""
    import numpy as np

    rng = np.random.default_rng(11)
    lens = rng.integers(0, 9, size=300)
    offsets = np.concatenate([[0], np.cumsum(lens)])
    coords = rng.normal(size=(int(offsets[-1]), 3))
    path = str(tmp_path / "small.gr")
    gr.save(gr.from_offsets(coords, offsets), path)
    streams = [
        gr.stream(path, batch_size=2),
        gr.stream(path, batch_size=3)[7:90],
        gr.stream(path, batch_size=2, shuffle=True, seed=3),
        gr.stream(path, batch_size=2, world_size=2, rank=1),
        gr.stream(path, batch_size=9, batch_on=1),
    ]
    for st in streams:
        for fn in (pool_rows, affine, knn_edges, mean_over_batch, whole_sum):
            want = eager(st, [fn])
            for cpu in (1, 2):
                got = collect(st.apply(fn, compile=True, scheduler="rust", cpu=cpu))
                assert got == want, (fn.__name__, cpu)
    # beyond the values: offsets from 0 at every level, NumPy export (a masked array only
    # where the batch has nulls), also for a store with nulls and empty rows
    rows = [[float(i)] * (i % 4) + ([None] if i == 33 else []) for i in range(240)]
    nulls = str(tmp_path / "nulls.gr")
    gr.save(gr.array(rows), nulls)
    for path_, fns in ((path, (pool_rows, affine)), (nulls, (row_max, affine))):
        st = gr.stream(path_, batch_size=2)
        for fn in fns:
            want = [detail(fn(b)) for b in st]
            got = [detail(r) for r in st.apply(fn, compile=True, scheduler="rust", cpu=2)]
            assert got == want, fn.__name__

    coords[offsets[41] + 0, 1] = np.nan  # protein 41 (batch 20) when it has residues
    assert lens[41] > 0
    bad = str(tmp_path / "nan.gr")
    gr.save(gr.from_offsets(coords, offsets), bad)
    st = gr.stream(bad, batch_size=2)
    want = eager(st[:20], [knn_edges])
    got = []
    with pytest.raises(gr.ArgumentError):
        for out in st.apply(knn_edges, compile=True, scheduler="rust", cpu=2):
            got.append(out.to_list())
    assert got == want
