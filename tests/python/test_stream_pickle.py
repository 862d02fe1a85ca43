"""A Stream pickles (source, options, resolved seed, epoch, selection): the unpickled stream,
in this process and in a 'spawn' child (how spawn/forkserver DataLoader workers receive it),
yields exactly the parent's batches."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import grumpy as gr
import pytest

ROWS = [[[float(i), float(j)] for j in range(i % 4)] for i in range(41)]
FRAME = {
    "pid": list(range(41)),
    "x": [[float(i + j) for j in range(i % 5)] for i in range(41)],
}


def content(b):
    """A batch as plain Python (arrays and dataframes)."""
    if isinstance(b, gr.DataFrame):
        return ("df", list(b.schema), {k: v.to_list() for k, v in b.to_dict().items()})
    return ("array", b.to_list())


def epoch(st):
    return st.row_ranges(), [content(b) for b in st]


def child_epoch(st):
    """Runs in the spawned child: the stream arrives pickled."""
    return len(st), st.epoch, st.seed, epoch(st)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("pickle")
    a, f = str(d / "a.gr"), str(d / "f.gr")
    gr.save(gr.array(ROWS), a, chunk_size=4)
    gr.save(gr.dataframe(FRAME, schema=["protein", "residue"]), f, chunk_size=4)
    return a, f


def streams(paths):
    a, f = paths
    df = gr.dataframe(FRAME, schema=["protein", "residue"])
    out = [
        gr.stream(a, batch_size=3, shuffle=True),  # seed=None: the resolved seed travels
        gr.stream(a, batch_size=4, batch_on=1, drop_last=True, shuffle=1, seed=5, workers=1),
        gr.stream(
            f, batch_size=6, batch_on="residue", shuffle="residue", seed=2, rank=1, world_size=2
        ),
        gr.stream(f, batch_size=5, in_memory=True, shuffle=True, seed=9, prefetch=1),
        gr.stream(gr.array(ROWS), batch_size=7, shuffle=True, seed=1),
        gr.stream(df, batch_size=4, shuffle="residue", seed=3),
    ]
    for st in out:
        st.set_epoch(3)
    return out + [out[0][1:9][::2], out[2][[2, 0]], out[5][-3:]]


def test_round_trip_in_process(paths):
    for st in streams(paths):
        back = pickle.loads(pickle.dumps(st))
        assert type(back) is gr.Stream
        assert (len(back), back.epoch, back.seed) == (len(st), st.epoch, st.seed)
        assert (back.batch_size, back.drop_last, back.shuffle) == (
            st.batch_size,
            st.drop_last,
            st.shuffle,
        )
        assert (back.world_size, back.rank, back.workers, back.prefetch) == (
            st.world_size,
            st.rank,
            st.workers,
            st.prefetch,
        )
        assert epoch(back) == epoch(st)
        # the copy is independent: its epoch moves alone
        back.set_epoch(4)
        assert st.epoch == 3


def test_spawned_child_iterates_the_same_batches(paths):
    sts = streams(paths)
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        got = pool.map(child_epoch, sts)
    for st, (n, e, seed, ep) in zip(sts, got):
        assert (n, e, seed) == (len(st), st.epoch, st.seed)
        assert ep == epoch(st)


def test_memory_source_is_a_snapshot(paths):
    """An in-memory stream pickles the rows it streams, not later edits of the object."""
    df = gr.dataframe(FRAME, schema=["protein", "residue"])
    st = gr.stream(df, batch_size=10)
    before = epoch(st)
    df.y = df.x * 2.0
    assert epoch(pickle.loads(pickle.dumps(st))) == before
