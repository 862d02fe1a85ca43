"""Dataframe stores: gr.save / gr.load / gr.open / gr.append of DataFrames, against a pure-Python
model (dicts of nested lists), zarr-python (every buffer) and Awkward (ak.from_buffers per
column)."""

from __future__ import annotations

import json

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCHEMA = ["molecule", "residue", "atom"]


def make_frame(n_res, n_atoms, seed=0):
    """A molecule → residue → atom frame built from plain lists (the reference)."""
    rng = np.random.default_rng(seed)
    names, resname, charge, coords, mass = [], [], [], [], []
    k = 0
    for m, nr in enumerate(n_res):
        names.append(f"mol{m}" if m % 3 else None)
        resname.append([])
        charge.append([])
        coords.append([])
        mass.append([])
        for _ in range(nr):
            na = n_atoms[k % len(n_atoms)]
            k += 1
            resname[-1].append("ALA" if k % 2 else "GLY")
            charge[-1].append(None if k % 5 == 0 else float(k))
            coords[-1].append([[float(x) for x in rng.integers(0, 9, 3)] for _ in range(na)])
            mass[-1].append([int(x) for x in rng.integers(1, 20, na)])
    cols = {
        "name": names,
        "residue_name": resname,
        "charge": charge,
        "coords": coords,
        "atom_mass": mass,
    }
    return cols


def frame_of(cols):
    return gr.dataframe(
        {
            k: gr.array(v, dtype=gr.string if k in ("name", "residue_name") else None)
            for k, v in cols.items()
        },
        schema=SCHEMA,
        levels={"charge": "residue", "coords": "atom"},
    )


def rows_of(cols, idx):
    return {k: [v[i] for i in idx] for k, v in cols.items()}


@pytest.fixture
def cols():
    return make_frame([2, 0, 3, 1, 4, 2, 1], [2, 1, 3, 0])


def test_frame_roundtrip_and_layout(tmp_path, cols):
    df = frame_of(cols)
    p = tmp_path / "f.zarr"
    gr.save(df, p, chunk_size=2)
    back = gr.load(p)
    assert isinstance(back, gr.DataFrame)
    assert back.schema == SCHEMA
    assert back.columns == list(cols)
    assert back.levels == df.levels
    assert back.to_dict(as_arrays=False) == cols
    # shared offsets are stored once, in the frame group
    names = sorted(q.name for q in p.iterdir() if q.is_dir())
    assert names == sorted(["level1-offsets", "level2-offsets", *cols])
    assert not (p / "coords" / "node0-offsets").exists()
    assert not (p / "charge" / "node0-offsets").exists()
    # loaded columns share one offsets buffer per level again
    c1, c2 = back["charge"].offsets(0), back["coords"].offsets(0)
    assert c1.__array_interface__["data"][0] == c2.__array_interface__["data"][0]


@pytest.mark.parametrize("cs", [None, 1, 2, 3, 7, 100])
def test_frame_open_slices_and_rows(tmp_path, cols, cs):
    df = frame_of(cols)
    p = tmp_path / "f.zarr"
    gr.save(df, p, chunk_size=cs)
    s = gr.open(p)
    n = len(cols["name"])
    assert len(s) == n
    for a in range(n + 1):
        for b in (a, min(n, a + 1), min(n, a + 3), n):
            got = s[a:b]
            assert isinstance(got, gr.DataFrame)
            assert got.to_dict(as_arrays=False) == rows_of(cols, range(a, b))
    assert s[-1].to_dict(as_arrays=False) == rows_of(cols, [n - 1])
    assert s[[4, 0, 4]].to_dict(as_arrays=False) == rows_of(cols, [4, 0, 4])
    mask = np.arange(n) % 2 == 1
    assert s[mask].to_dict(as_arrays=False) == rows_of(cols, np.flatnonzero(mask))
    assert s[::-2].to_dict(as_arrays=False) == rows_of(cols, list(range(n))[::-2])
    # the dot path works on a batch read from the store
    assert s[1:4].residue.charge.to_list() == [c for r in cols["charge"][1:4] for c in r]


def test_frame_info_and_chunk_dim_by_level(tmp_path, cols):
    df = frame_of(cols)
    p = tmp_path / "f.zarr"
    gr.save(df, p, chunk_size=3, chunk_dim="residue")
    info = gr.open(p).info()
    assert info["kind"] == "dataframe" and info["rows"] == len(cols["name"])
    assert info["schema"] == SCHEMA
    assert info["columns"]["coords"]["level"] == "atom"
    assert info["columns"]["coords"]["dtype"] == "float64"
    assert info["columns"]["name"]["dtype"] == "string"
    # 3 residues per chunk: the residue-level offsets (level2) and charge data
    assert info["chunks"]["level2-offsets"]["chunk"] == 3
    assert info["chunks"]["charge/node1-data"]["chunk"] == 3
    assert gr.open(p).dtype is None
    assert gr.load(p).to_dict(as_arrays=False) == cols
    with pytest.raises(gr.ArgumentError) as e:
        gr.save(df, tmp_path / "g", chunk_size=3, chunk_dim="chain")
    assert "schema" in e.value.cause
    with pytest.raises(gr.ArgumentError):
        gr.save(gr.array([[1.0]]), tmp_path / "h", chunk_size=3, chunk_dim="residue")


def test_frame_append_and_batches_equal_one_shot(tmp_path):
    parts = [
        make_frame([2, 1], [1, 2], seed=1),
        make_frame([], [1], seed=2),
        make_frame([0, 3], [2], seed=3),
        make_frame([1], [4, 0], seed=4),
    ]
    one = {k: [r for part in parts for r in part[k]] for k in parts[0]}
    p = tmp_path / "a.zarr"
    gr.save(frame_of(parts[0]), p, chunk_size=2)
    for part in parts[1:]:
        gr.append(frame_of(part), p)
    assert gr.load(p).to_dict(as_arrays=False) == one
    q = tmp_path / "b.zarr"
    gr.save((frame_of(part) for part in parts), q, chunk_size=2)
    assert gr.load(q).to_dict(as_arrays=False) == one
    r = tmp_path / "c.zarr"
    gr.save([frame_of(part) for part in parts], r)
    assert gr.load(r).to_dict(as_arrays=False) == one
    s = gr.open(p)
    assert s[2:5].to_dict(as_arrays=False) == {k: v[2:5] for k, v in one.items()}


def test_frame_append_mismatch(tmp_path, cols):
    p = tmp_path / "a.zarr"
    gr.save(frame_of(cols), p)
    other = gr.dataframe({"x": gr.array([[1.0]])}, schema=["molecule", "residue"])
    with pytest.raises(gr.StoreError) as e:
        gr.append(other, p)
    assert "columns" in e.value.cause
    with pytest.raises(gr.StoreError):
        gr.append(gr.array([[1.0]]), p)
    bad = dict(cols)
    bad["atom_mass"] = [[[float(x) for x in r] for r in m] for m in cols["atom_mass"]]
    with pytest.raises(gr.StoreError) as e:
        gr.append(frame_of(bad), p)
    assert "atom_mass" in str(e.value)
    assert gr.load(p).to_dict(as_arrays=False) == cols


def test_frame_zarr_python_and_awkward(tmp_path, cols):
    zarr = pytest.importorskip("zarr")
    ak = pytest.importorskip("awkward")
    df = frame_of(cols)
    p = tmp_path / "f.zarr"
    gr.save(df, p, chunk_size=2)
    gr.append(df[0:2], p)  # zarr-python must still read the store after an append
    expect = {k: v + v[:2] for k, v in cols.items()}
    g = zarr.open_group(str(p), mode="r")
    root = {name: arr[:] for name, arr in g.arrays()}
    assert sorted(root) == ["level1-offsets", "level2-offsets"]
    n_res = [len(r) for r in expect["charge"]]
    np.testing.assert_array_equal(root["level1-offsets"], np.concatenate([[0], np.cumsum(n_res)]))
    assert g.attrs["length"] == len(expect["name"])
    for name in cols:
        sub = g[name]
        bufs = {**root, **{k: a[:] for k, a in sub.arrays()}}
        col = ak.from_buffers(sub.attrs["form"], sub.attrs["length"], bufs)
        assert col.to_list() == expect[name], name


@st.composite
def frames(draw):
    n = draw(st.integers(0, 6))
    n_res = [draw(st.integers(0, 3)) for _ in range(n)]
    atoms = [[draw(st.integers(0, 3)) for _ in range(r)] for r in n_res]
    val = st.one_of(st.none(), st.floats(-1e6, 1e6, width=32))
    cols = {
        "molecule_id": [draw(st.integers(-5, 5)) for _ in range(n)],
        "residue_w": [[draw(val) for _ in range(r)] for r in n_res],
        "atom_xyz": [[[draw(st.integers(0, 9)) for _ in range(a)] for a in res] for res in atoms],
    }
    return cols


@settings(max_examples=40, deadline=None)
@given(cols=frames(), cs=st.one_of(st.none(), st.integers(1, 4)), split=st.integers(0, 6))
def test_property_frame_roundtrip_and_append(tmp_path_factory, cols, cs, split):
    tmp = tmp_path_factory.mktemp("f")

    def mk(c):
        return gr.dataframe(
            {
                "molecule_id": gr.array(c["molecule_id"], dtype=gr.int64),
                "residue_w": gr.array(c["residue_w"], dtype=gr.float64),
                "atom_xyz": gr.array(c["atom_xyz"], dtype=gr.int64),
            },
            schema=SCHEMA,
        )

    df = mk(cols)
    p = tmp / "f.zarr"
    gr.save(df, p, chunk_size=cs)
    assert gr.load(p).to_dict(as_arrays=False) == cols
    s = gr.open(p)
    n = len(cols["molecule_id"])
    for a in range(n + 1):
        assert s[a:n].to_dict(as_arrays=False) == {k: v[a:] for k, v in cols.items()}
    k = min(split, n)
    head = {c: v[:k] for c, v in cols.items()}
    tail = {c: v[k:] for c, v in cols.items()}
    q = tmp / "g.zarr"
    gr.save(mk(head), q, chunk_size=cs)
    gr.append(mk(tail), q)
    assert gr.load(q).to_dict(as_arrays=False) == cols


def test_frame_column_names_checked(tmp_path):
    df = gr.dataframe({"level1-offsets": gr.array([1.0, 2.0])}, schema=["row"])
    with pytest.raises(gr.ArgumentError):
        gr.save(df, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_frame_corrupt_column_form(tmp_path, cols):
    p = tmp_path / "f.zarr"
    gr.save(frame_of(cols), p)
    meta = p / "zarr.json"
    doc = json.loads(meta.read_text())
    doc["attributes"]["grumpy"]["columns"][3]["form"]["form_key"] = "node0"
    meta.write_text(json.dumps(doc))
    with pytest.raises(gr.StoreError):
        gr.open(p)
