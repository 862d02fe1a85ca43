"""gr.stream over dataframes (in memory and frame stores): every batch equals df[a:b] /
gr.load(path)[a:b]; batch_on packs by a pure-Python model of the greedy rule;
shuffle="<level>" checked against a model of "one permutation per parent, applied to every
column at that level, deeper levels moving whole"."""

from __future__ import annotations

import random

import grumpy as gr
import grumpy.torch as gt
import pytest

SCHEMA = ["protein", "residue", "atom"]
N = 37


def make_rows(n, seed=0):
    """Per protein: pid, name; per residue: rid (unique), resname; per atom: aid, xyz."""
    rng = random.Random(seed)
    cols = {k: [] for k in ("pid", "name", "rid", "resname", "aid", "xyz")}
    rid = aid = 0
    for p in range(n):
        cols["pid"].append(p)
        cols["name"].append(f"P{p}")
        rr, rn, aa, xx = [], [], [], []
        for _ in range(rng.choice([0, 1, 2, 3, 5])):
            k = rng.choice([0, 1, 2, 4])
            rr.append(rid)
            rn.append(f"R{rid % 7}")
            aa.append(list(range(aid, aid + k)))
            xx.append([[float(a), a + 0.5, -a] for a in range(aid, aid + k)])
            rid, aid = rid + 1, aid + k
        for c, v in zip(("rid", "resname", "aid", "xyz"), (rr, rn, aa, xx)):
            cols[c].append(v)
    return cols


ROWS = make_rows(N)
LEVELS = {
    "pid": "protein",
    "name": "protein",
    "rid": "residue",
    "resname": "residue",
    "aid": "atom",
    "xyz": "atom",
}


def make_df():
    return gr.dataframe(ROWS, schema=SCHEMA, levels=LEVELS)


def as_dict(df):
    """Schema and every column as nested lists (the comparison of two frames)."""
    assert isinstance(df, gr.DataFrame)
    return list(df.schema), {k: v.to_list() for k, v in df.to_dict().items()}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("frames") / "proteins.gr")
    gr.save(make_df(), path, chunk_size=5)
    loaded = gr.load(path)
    assert as_dict(loaded) == as_dict(make_df())
    return path, loaded


def sources(store):
    """(source passed to gr.stream, extra kwargs, reference frame)."""
    path, loaded = store
    df = make_df()
    return [(df, {}, df), (path, {}, loaded), (path, {"in_memory": True}, loaded)]


SOURCE_IDS = ["memory", "store", "store-in-memory"]


def check_slices(st, ref):
    """Each batch equals ref[a:b] for its row range; returns the ranges."""
    ranges = st.row_ranges()
    batches = list(st)
    assert len(batches) == len(ranges) == len(st)
    for (a, b), batch in zip(ranges, batches):
        assert as_dict(batch) == as_dict(ref[a:b]), f"rows [{a}, {b})"
    return ranges


def model_pack(counts, bs, drop_last):
    """Greedy packing: whole rows until the next would pass bs entities."""
    out, a, total = [], 0, 0
    for i, k in enumerate(counts):
        if i > a and total + k > bs:
            out.append((a, i))
            a, total = i, 0
        total += k
    if a < len(counts) and not (drop_last and total < bs):
        out.append((a, len(counts)))
    return out


RES_COUNTS = [len(r) for r in ROWS["rid"]]
ATOM_COUNTS = [sum(len(a) for a in r) for r in ROWS["aid"]]


# ---------------------------------------------------------------- batches equal slices


@pytest.mark.parametrize("k", range(3), ids=SOURCE_IDS)
@pytest.mark.parametrize("bs,drop_last", [(1, False), (4, False), (5, True), (64, False)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_equal_slices(store, k, bs, drop_last, shuffle):
    src, kw, ref = sources(store)[k]
    st = gr.stream(src, batch_size=bs, drop_last=drop_last, shuffle=shuffle, seed=3, **kw)
    ranges = check_slices(st, ref)
    want = [(a, min(a + bs, N)) for a in range(0, N, bs)]
    if drop_last:
        want = [r for r in want if r[1] - r[0] == bs]
    assert sorted(ranges) == want
    assert (ranges != want) == (shuffle and len(want) > 2)


@pytest.mark.parametrize("k", range(3), ids=SOURCE_IDS)
@pytest.mark.parametrize("level,counts", [("residue", RES_COUNTS), ("atom", ATOM_COUNTS)])
@pytest.mark.parametrize("bs,drop_last", [(1, False), (6, False), (6, True), (20, False)])
def test_batch_on_level_packs_like_model(store, k, level, counts, bs, drop_last):
    src, kw, ref = sources(store)[k]
    st = gr.stream(src, batch_size=bs, drop_last=drop_last, batch_on=level, **kw)
    assert check_slices(st, ref) == model_pack(counts, bs, drop_last)
    depth = SCHEMA.index(level)
    by_int = gr.stream(src, batch_size=bs, drop_last=drop_last, batch_on=depth, **kw)
    assert by_int.row_ranges() == st.row_ranges()


# ---------------------------------------------------------------- shuffle by level


def residue_records(batch_dict, p):
    """Protein p's residues as (rid, resname, aid list, xyz list) records, in order."""
    c = batch_dict
    return list(zip(c["rid"][p], c["resname"][p], c["aid"][p], c["xyz"][p]))


def check_residue_shuffle(batch, ref):
    """Model: protein columns unchanged; per protein the residue records are a permutation
    of the reference's, each record intact (all residue and atom columns moved alike)."""
    _, got = as_dict(batch)
    _, want = as_dict(ref)
    assert got["pid"] == want["pid"] and got["name"] == want["name"]
    moved = False
    for p in range(len(want["pid"])):
        g, w = residue_records(got, p), residue_records(want, p)
        assert sorted(g) == sorted(w)
        moved |= g != w
    return moved


def check_atom_shuffle(batch, ref):
    """Model: protein and residue columns unchanged; inside each residue the atoms (aid with
    its xyz) are a permutation of the reference's."""
    _, got = as_dict(batch)
    _, want = as_dict(ref)
    for c in ("pid", "name", "rid", "resname"):
        assert got[c] == want[c]
    moved = False
    for p in range(len(want["pid"])):
        for ga, gx, wa, wx in zip(got["aid"][p], got["xyz"][p], want["aid"][p], want["xyz"][p]):
            g, w = list(zip(ga, gx)), list(zip(wa, wx))
            assert sorted(g) == sorted(w)
            moved |= g != w
    return moved


@pytest.mark.parametrize("k", range(3), ids=SOURCE_IDS)
@pytest.mark.parametrize("level", ["residue", "atom", 1, 2])
@pytest.mark.parametrize("batch_on", [None, "residue"])
def test_shuffle_by_level_model(store, k, level, batch_on):
    src, kw, ref = sources(store)[k]
    check = check_residue_shuffle if level in ("residue", 1) else check_atom_shuffle
    st = gr.stream(src, batch_size=8, shuffle=level, seed=11, batch_on=batch_on, **kw)
    ranges = st.row_ranges()
    assert sorted(i for a, b in ranges for i in range(a, b)) == list(range(N))
    first = [as_dict(b) for b in st]
    moved = [check(b, ref[a:b_]) for b, (a, b_) in zip(st, ranges)]
    assert any(moved), "a seeded shuffle moves some entities"
    assert [as_dict(b) for b in st] == first, "same (seed, epoch): same batches"
    assert [as_dict(st[i]) for i in range(len(st))] == first, "st[i] agrees with iteration"
    st.set_epoch(1)
    assert [as_dict(b) for b in st] != first
    for b, (a, b_) in zip(st, st.row_ranges()):
        check(b, ref[a:b_])
    named = {"residue": "residue", 1: "residue", "atom": "atom", 2: "atom"}[level]
    again = gr.stream(src, batch_size=8, shuffle=named, seed=11, batch_on=batch_on, **kw)
    assert [as_dict(b) for b in again] == first, "int levels mean the schema level"


def test_shuffle_outer_level_permutes_rows_in_batch():
    df = make_df()
    st = gr.stream(df, batch_size=9, shuffle="protein", seed=2)
    for b, (a, b_) in zip(st, st.row_ranges()):
        _, got = as_dict(b)
        assert sorted(got["pid"]) == list(range(a, b_))
        for j, p in enumerate(got["pid"]):
            assert got["aid"][j] == ROWS["aid"][p] and got["name"][j] == ROWS["name"][p]


# ---------------------------------------------------------------- ranks, selection, epochs


@pytest.mark.parametrize("k", range(3), ids=SOURCE_IDS)
@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("batch_on", [None, "atom"])
def test_ranks_disjoint_equal_complete(store, k, world, batch_on):
    src, kw, ref = sources(store)[k]
    shares = [
        gr.stream(
            src,
            batch_size=5,
            shuffle=True,
            seed=7,
            world_size=world,
            rank=r,
            batch_on=batch_on,
            **kw,
        )
        for r in range(world)
    ]
    assert len({len(s) for s in shares}) == 1
    rows = []
    for s in shares:
        rows += [i for a, b in check_slices(s, ref) for i in range(a, b)]
    assert sorted(rows) == list(range(N))


@pytest.mark.parametrize("k", range(3), ids=SOURCE_IDS)
def test_selection_composes(store, k):
    src, kw, _ = sources(store)[k]
    st = gr.stream(src, batch_size=3, shuffle="residue", seed=5, **kw)
    st.set_epoch(2)
    assert as_dict(st[2:5][0]) == as_dict(st[2])
    assert as_dict(st[[4, 1]][1]) == as_dict(st[1])
    assert as_dict(st[::3][2]) == as_dict(st[6])
    assert as_dict(st[-1]) == as_dict(st[len(st) - 1])
    sub = st[1:7][::2]
    assert [as_dict(b) for b in sub] == [as_dict(st[i]) for i in (1, 3, 5)]
    assert len(st[[]]) == 0


def test_view_source_streams_the_view():
    df = make_df()
    st = gr.stream(df.residue, batch_size=4)
    ref = df.residue
    check_slices(st, ref)
    assert sum(len(b) for b in st) == sum(RES_COUNTS)


# ---------------------------------------------------------------- apply on frame batches


def centers(batch):
    batch.residue.center = batch.residue.xyz.mean(dim=-1)
    return batch


@pytest.mark.parametrize("cpu,scheduler", [(1, "python"), (2, "python"), (2, "rust")])
@pytest.mark.parametrize("compile_", ["never", "auto"])
def test_apply_receives_dataframes(store, cpu, scheduler, compile_):
    path, loaded = store
    st = gr.stream(path, batch_size=6)
    seen = []

    def record(batch):
        seen.append(type(batch))
        return batch["pid"].sum()

    if compile_ == "never":
        out = list(st.apply(record, cpu=cpu, scheduler=scheduler, compile="never"))
        assert set(seen) == {gr.DataFrame}
        want = [sum(ROWS["pid"][a:b]) for a, b in st.row_ranges()]
        assert [int(x) for x in out] == want
    ap = st.apply([gr.compile(centers)], cpu=cpu, scheduler=scheduler, compile=compile_)
    assert ap.is_compiled == (compile_ == "auto")
    got = list(ap)
    for b, (a, b_) in zip(got, st.row_ranges()):
        assert isinstance(b, gr.DataFrame)
        eager = centers(loaded[a:b_])
        assert as_dict(b) == as_dict(eager)


# ---------------------------------------------------------------- errors


def test_unknown_level_names_the_schema():
    df = make_df()
    for kw in ({"batch_on": "chain"}, {"shuffle": "chain"}):
        with pytest.raises(gr.ArgumentError) as e:
            gr.stream(df, **kw)
        assert "residue" in e.value.cause and e.value.fix
    with pytest.raises(gr.ArgumentError) as e:
        gr.stream(df, batch_on=3)
    assert "3" in str(e.value) and e.value.fix
    with pytest.raises(gr.ArgumentError) as e:
        gr.stream(gr.array([[1.0], [2.0]]), batch_on="residue")
    assert "int depth" in e.value.fix


def test_level_no_column_reaches():
    df = gr.dataframe({"x": [[1.0, 2.0], [3.0]]}, schema=["protein", "residue", "atom"])
    with pytest.raises(gr.ArgumentError) as e:
        gr.stream(df, batch_on="atom")
    assert "atom" in str(e.value) and e.value.fix
    # nothing to permute at a level without entities: batches are the slices
    check_slices(gr.stream(df, batch_size=1, shuffle="atom", seed=1), df)


def test_torch_helpers_ask_for_a_column():
    b = gr.stream(make_df(), batch_size=4)[0]
    for fn in (gt.padded_numpy, gt.jagged_numpy, gt.to_padded, gt.to_nested, gt.collate_padded):
        with pytest.raises(gr.ArgumentError) as e:
            fn(b)
        assert 'batch["pid"]' in e.value.fix
    v, m = gt.padded_numpy(b["rid"])
    assert v.shape[0] == m.shape[0] == 4


def test_audit_g1_example(tmp_path):
    df = gr.dataframe({"x": [[1.0, 2.0], [3.0]]}, schema=["protein", "residue"])
    gr.save(df, str(tmp_path / "df2.zarr"))
    for src in (df, str(tmp_path / "df2.zarr")):
        got = [as_dict(b) for b in gr.stream(src, batch_size=1)]
        assert got == [as_dict(df[0:1]), as_dict(df[1:2])]
