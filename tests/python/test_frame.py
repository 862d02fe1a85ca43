"""Dataframes: construction rules, shared offsets, dot paths, dot assignment, row selection.

The reference is a small pure-Python model: a column is nested lists, a view at level k
flattens the k outer axes (`peel`), a row selection picks outer rows of every column.
"""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SCHEMA = ["scene", "molecule", "chain", "residue", "atom"]


# ---------------------------------------------------------------- reference model


def peel(rows, k):
    """Flatten the k outer axes of nested lists (the reference of a view at level k)."""
    for _ in range(k):
        rows = [x for row in rows for x in row]
    return rows


def renest(flat, lengths_per_level):
    """Re-nest a flat per-entity list with the reference lengths (outermost first)."""
    out = flat
    for lengths in reversed(lengths_per_level):
        it = iter(out)
        out = [[next(it) for _ in range(n)] for n in lengths]
    return out


def ptr(a):
    return a.__array_interface__["data"][0]


# ---------------------------------------------------------------- a protein-like scene


def scene_data():
    """scene → molecule → chain → residue → atom, with strings, ints and xyz floats."""
    rng = np.random.default_rng(7)
    cols = {
        "scene_id": [],
        "molecule_name": [],
        "chain_id": [],
        "residue_name": [],
        "seq": [],
        "element": [],
        "coords": [],
    }
    atom = 0
    for s in range(3):
        cols["scene_id"].append(s)
        mn, ci, rn, sq, el, xyz = [], [], [], [], [], []
        for m in range(int(rng.integers(1, 3))):
            mn.append(f"mol{s}.{m}")
            c_ci, c_rn, c_sq, c_el, c_xyz = [], [], [], [], []
            for c in range(int(rng.integers(0, 3))):
                c_ci.append("ABC"[c])
                r_rn, r_sq, r_el, r_xyz = [], [], [], []
                for r in range(int(rng.integers(0, 4))):
                    r_rn.append(["ALA", "GLY", "SER"][r % 3])
                    r_sq.append(r)
                    n_atoms = int(rng.integers(0, 4))
                    r_el.append(["C", "N", "O"][:n_atoms])
                    r_xyz.append([[float(atom + i), 0.5, -1.0] for i in range(n_atoms)])
                    atom += n_atoms
                c_rn.append(r_rn)
                c_sq.append(r_sq)
                c_el.append(r_el)
                c_xyz.append(r_xyz)
            ci.append(c_ci)
            rn.append(c_rn)
            sq.append(c_sq)
            el.append(c_el)
            xyz.append(c_xyz)
        cols["molecule_name"].append(mn)
        cols["chain_id"].append(ci)
        cols["residue_name"].append(rn)
        cols["seq"].append(sq)
        cols["element"].append(el)
        cols["coords"].append(xyz)
    return cols


EXPECTED_LEVELS = {
    "scene_id": "scene",  # prefix
    "molecule_name": "molecule",  # prefix
    "chain_id": "chain",  # prefix
    "residue_name": "residue",  # prefix
    "seq": "residue",  # explicit
    "element": "atom",  # depth 5
    "coords": "atom",  # depth 6, capped at the schema
}


@pytest.fixture
def scene():
    data = scene_data()
    df = gr.dataframe(data, schema=SCHEMA, levels={"seq": "residue"})
    return df, data


def test_scene_levels_and_access(scene):
    df, data = scene
    assert df.levels == EXPECTED_LEVELS
    assert df.schema == SCHEMA
    assert df.columns == list(data)
    assert len(df) == 3
    for name, ref in data.items():
        assert df[name].to_list() == ref
        assert getattr(df, name).to_list() == ref
    assert df.to_dict(as_arrays=False) == data
    assert {k: v.to_list() for k, v in df.to_dict().items()} == data
    recs = df.to_list()
    assert recs == [{k: v[i] for k, v in data.items()} for i in range(3)]
    assert "coords" in df and "nope" not in df
    sub = df[["coords", "scene_id"]]
    assert sub.columns == ["coords", "scene_id"]
    assert sub.to_dict(as_arrays=False) == {"coords": data["coords"], "scene_id": data["scene_id"]}


def test_scene_views_against_reference(scene):
    df, data = scene
    for k, level in enumerate(SCHEMA):
        view = getattr(df, level)
        assert view.schema == SCHEMA[k:]
        visible = [n for n in data if SCHEMA.index(EXPECTED_LEVELS[n]) >= k]
        assert view.columns == visible
        assert len(view) == len(peel(data["coords"], k))
        for n in visible:
            assert getattr(view, n).to_list() == peel(data[n], k), (level, n)
            assert view[n].to_list() == peel(data[n], k)
    # Views compose: df.residue.atom is df.atom.
    assert df.residue.atom.element.to_list() == peel(data["element"], 4)
    assert df.residue.residue.to_dict(as_arrays=False) == df.residue.to_dict(as_arrays=False)


def test_peel_is_zero_copy(scene):
    df, _ = scene
    whole = df.coords.values
    view = df.residue.coords.values
    assert ptr(view) == ptr(whole)
    assert ptr(df.atom.coords.values) == ptr(whole)


def test_shared_offsets_stored_once(scene):
    df, _ = scene
    o = df["coords"].offsets(0)
    for n in ["molecule_name", "chain_id", "residue_name", "seq", "element"]:
        assert ptr(df[n].offsets(0)) == ptr(o), n
    assert ptr(df["seq"].offsets(2)) == ptr(df["coords"].offsets(2))
    assert ptr(df["element"].offsets(3)) == ptr(df["coords"].offsets(3))
    # Two independently built columns get one buffer too.
    a = gr.dataframe(
        {"a": [[1, 2], [3]], "b": np.array([[1.0, 2.0], [3.0, 4.0]])[:, :1]},
        schema=["m", "r"],
        levels={"b": "m"},
    )
    assert a.levels == {"a": "r", "b": "m"}


def test_nested_subset_one_level_at_a_time(scene):
    df, data = scene
    for i in range(len(df)):
        mols = df.scene[i].molecule
        ref_m = data["molecule_name"][i]
        assert mols.molecule_name.to_list() == ref_m
        for j in range(len(ref_m)):
            ch = df.scene[i].molecule[j].chain
            assert ch.chain_id.to_list() == data["chain_id"][i][j]
            assert ch.coords.to_list() == data["coords"][i][j]
            res = df.scene[i].molecule[j].residue
            assert res.residue_name.to_list() == peel(data["residue_name"][i][j], 1)
        if ref_m:
            last = df[i].molecule[-1]
            assert last.molecule_name.to_list() == ref_m[-1:]


def test_view_row_selection_keeps_columns_aligned(scene):
    df, data = scene
    res = df.residue
    names = peel(data["residue_name"], 3)
    coords = peel(data["coords"], 3)
    mask = [n == "GLY" for n in names]
    sel = res[mask]
    assert sel.residue_name.to_list() == [n for n, m in zip(names, mask) if m]
    assert sel.coords.to_list() == [c for c, m in zip(coords, mask) if m]
    assert sel.schema == ["residue", "atom"]
    idx = [len(names) - 1, 0, 0]
    assert res[idx].coords.to_list() == [coords[i] for i in idx]
    assert res[np.array(idx)].seq.to_list() == [peel(data["seq"], 3)[i] for i in idx]
    assert res[1:4].residue_name.to_list() == names[1:4]
    assert res[::-2].coords.to_list() == coords[::-2]
    assert res[-1].residue_name.to_list() == names[-1:]


def test_root_row_selection(scene):
    df, data = scene
    for key, rows in [
        (1, [1]),
        (-1, [2]),
        (slice(0, 2), [0, 1]),
        (slice(None, None, -1), [2, 1, 0]),
        ([2, 0, 2], [2, 0, 2]),
        ([True, False, True], [0, 2]),
        (np.array([False, True, False]), [1]),
        ([], []),
    ]:
        sub = df[key]
        assert len(sub) == len(rows)
        want = {n: [v[r] for r in rows] for n, v in data.items()}
        assert sub.to_dict(as_arrays=False) == want, key
        assert ptr(sub["coords"].offsets(0)) == ptr(sub["seq"].offsets(0))
    # The batch of a slice still peels correctly.
    b = df[1:]
    assert b.atom.coords.to_list() == peel([data["coords"][1], data["coords"][2]], 4)


# ---------------------------------------------------------------- dot assignment


def test_dot_assignment_per_entity_and_full_shape(scene):
    df, data = scene
    n_res = len(df.residue)
    per_res = np.arange(n_res, dtype=np.float64) * 0.5
    df.residue.score = per_res
    lengths = [
        [len(x) for x in data["molecule_name"]],
        [len(x) for x in peel(data["chain_id"], 1)],
        [len(x) for x in peel(data["residue_name"], 2)],
    ]
    assert df.levels["score"] == "residue"
    assert df.score.to_list() == renest(per_res.tolist(), lengths)
    assert df.residue.score.to_list() == per_res.tolist()
    assert ptr(df.residue.score.values) == ptr(per_res)  # re-nesting is zero copy
    assert ptr(df["score"].offsets(0)) == ptr(df["coords"].offsets(0))
    # Full nested shape, taken as is.
    df.residue.seq2 = data["seq"]
    assert df.seq2.to_list() == data["seq"]
    # Replace (same position) from a view deeper down.
    df.atom.element = ["X"] * len(df.atom)
    assert df.columns.index("element") == 5
    assert df.atom.element.to_list() == ["X"] * len(df.atom)
    # Setting by item works for names that shadow frame attributes.
    df.residue["columns"] = per_res
    assert df["columns"].to_list() == df["score"].to_list()
    df.chain.n = gr.array([1] * len(df.chain))
    assert df.chain.n.to_list() == [1] * len(df.chain)


def test_dot_assignment_on_batches_and_in_functions(scene):
    df, data = scene

    def center(batch):
        batch.residue.first_x = batch.residue.coords.values[: len(batch.residue)]
        return batch

    batch = df[1:]
    out = center(batch)
    assert out is batch
    assert len(batch.residue.first_x) == len(batch.residue)
    assert "first_x" not in df  # the batch is a new frame; the parent is untouched
    assert batch.residue.coords.to_list() == peel(data["coords"][1:], 3)


def test_dot_assignment_errors(scene):
    df, _ = scene
    with pytest.raises(gr.SchemaError) as e:
        df.residue.bad = [1.0, 2.0]
    assert "residue" in str(e.value) and "bad" in str(e.value)
    assert e.value.fix
    with pytest.raises(gr.SchemaError):
        df.residue = [1.0]
    with pytest.raises(gr.SchemaError):
        df.atom.x = [[1.0]] * len(df)  # full-length rows but wrong nesting
    df2 = gr.dataframe({"a": [1, 2]}, schema=["m", "r"])
    with pytest.raises(gr.SchemaError, match="no column reaches"):
        df2.r.x = [1.0, 2.0, 3.0]
    df2.r.x = [[1.0], [2.0, 3.0]]  # the full shape establishes the level
    assert len(df2.r) == 3
    df2.r.y = [7, 8, 9]
    assert df2.y.to_list() == [[7], [8, 9]]


# ---------------------------------------------------------------- construction rules


def test_default_schema_prefix_depth_unions():
    df = gr.dataframe({"x": [1, 2, 3], "y": [[1.0], [], [2.0, 3.0]]})
    assert df.schema == ["row"]
    assert df.levels == {"x": "row", "y": "row"}
    assert df.row.y.to_list() == [[1.0], [], [2.0, 3.0]]
    u = gr.dataframe({"u": [1.0, [2.0, 3.0]], "v": [[1], [2]]}, schema=["m", "r"])
    assert u.levels == {"u": "m", "v": "r"}
    assert u.to_dict(as_arrays=False) == {"u": [1.0, [2.0, 3.0]], "v": [[1], [2]]}
    nested = gr.dataframe(
        {"u": [[1.0, [2.0, 3.0]], [4.0]], "r_id": [[0, 1], [2]]}, schema=["m", "r", "a"]
    )
    assert nested.levels == {"u": "r", "r_id": "r"}
    assert nested.r.u.to_list() == [1.0, [2.0, 3.0], 4.0]
    with pytest.raises(gr.SchemaError, match="mixes scalars and lists"):
        gr.dataframe({"u": [1.0, [2.0, 3.0]]}, schema=["m", "r"], levels={"u": "r"})
    # Longest prefix wins; a bare prefix is not a level.
    p = gr.dataframe(
        {"res_a": [[1]], "residue_b": [[2]], "residue_": [3]}, schema=["res", "residue"]
    )
    assert p.levels == {"res_a": "res", "residue_b": "residue", "residue_": "res"}
    # NumPy and GrumpyArray columns.
    arr = np.arange(6.0).reshape(2, 3)
    g = gr.dataframe({"a": arr, "b": gr.array([[1, 2, 3], [4, 5, 6]])}, schema=["m", "r"])
    assert g.to_dict(as_arrays=False) == {"a": arr.tolist(), "b": [[1, 2, 3], [4, 5, 6]]}
    assert gr.DataFrame({"a": [1]}).to_list() == [{"a": 1}]
    empty = gr.dataframe({})
    assert len(empty) == 0 and empty.columns == []
    empty.a = [1, 2]
    assert len(empty) == 2


def test_construction_errors():
    with pytest.raises(gr.SchemaError) as e:
        gr.dataframe({"a": [[1, 2], [3]], "b": [[1], [2, 3]]}, schema=["m", "r"])
    msg = str(e.value)
    assert '"a"' in msg and '"b"' in msg and '"r"' in msg and "levels=" in e.value.fix
    with pytest.raises(gr.SchemaError, match="3 rows"):
        gr.dataframe({"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(gr.SchemaError, match="not nested deeply enough"):
        gr.dataframe({"a": [1, 2]}, schema=["m", "r"], levels={"a": "r"})
    with pytest.raises(gr.SchemaError, match="unknown level"):
        gr.dataframe({"a": [1, 2]}, schema=["m"], levels={"a": "q"})
    with pytest.raises(gr.SchemaError, match="not in the frame"):
        gr.dataframe({"a": [1, 2]}, schema=["m"], levels={"z": "m"})
    with pytest.raises(gr.SchemaError, match="empty"):
        gr.dataframe({"a": [1]}, schema=[])
    with pytest.raises(gr.SchemaError, match="bad level name"):
        gr.dataframe({"a": [1]}, schema=["m", "m"])
    with pytest.raises(gr.ArgumentError, match="dict"):
        gr.dataframe([[1, 2]])
    with pytest.raises(gr.ArgumentError, match="strings"):
        gr.dataframe({1: [1]})
    with pytest.raises(gr.ArgumentError, match='column "a"'):
        gr.dataframe({"a": 5})


def test_access_errors(scene):
    df, _ = scene
    with pytest.raises(gr.SchemaError, match="no column"):
        df["nope"]
    with pytest.raises(gr.SchemaError, match="no column"):
        df[["coords", "nope"]]
    with pytest.raises(gr.SchemaError, match="twice"):
        df[["coords", "coords"]]
    with pytest.raises(AttributeError):
        _ = df.nope
    assert not hasattr(df, "nope")
    with pytest.raises(AttributeError, match="above this view"):
        _ = df.residue.scene_id
    with pytest.raises(AttributeError, match="above this view"):
        _ = df.residue.molecule
    with pytest.raises(gr.SchemaError, match="above the view level"):
        df.residue["scene_id"]
    with pytest.raises(gr.OutOfBoundsError):
        df[3]
    with pytest.raises(gr.OutOfBoundsError):
        df[[0, -4]]
    with pytest.raises(IndexError):
        df.residue[len(df.residue)]
    with pytest.raises(gr.ShapeError, match="mask"):
        df[[True, False]]
    with pytest.raises(gr.ArgumentError, match="cannot index"):
        df[[0.5, 1.5]]
    with pytest.raises(gr.ArgumentError, match="cannot index"):
        df[[[0], [1]]]


def test_repr_is_a_small_table(scene):
    df, _ = scene
    text = repr(df)
    lines = text.splitlines()
    assert lines[0].startswith("gr.DataFrame: 3 scene × 7 columns")
    assert "coords" in lines[1] and "atom" in lines[2] and "float64" in lines[3]
    assert lines[4].startswith("0")
    big = gr.dataframe({"x": list(range(50))})
    assert "..." in repr(big) and len(repr(big).splitlines()) == 4 + 11


# ---------------------------------------------------------------- ops on every numeric column
# (the full rule is tested in test_frame_ops.py)


def _map(x, f):
    return [_map(v, f) for v in x] if isinstance(x, list) else f(x)


def test_ops_and_reductions_on_the_scene(scene):
    df, data = scene
    out = df * 2.0 + 1.0
    assert out.coords.to_list() == _map(data["coords"], lambda v: 2 * v + 1)
    assert out.seq.to_list() == _map(data["seq"], lambda v: 2.0 * v + 1)
    assert out.element.to_list() == data["element"]  # strings are carried
    assert ptr(out["element"].offsets(0)) == ptr(out["coords"].offsets(0))
    res = df.residue * 2
    assert res.schema == ["residue", "atom"]
    assert res.seq.to_list() == [2 * v for v in peel(data["seq"], 3)]
    sums = df.residue.sum()
    assert sums["seq"] == sum(peel(data["seq"], 3))
    assert "residue_name" not in sums


# ---------------------------------------------------------------- property: views vs reference


@st.composite
def nested_frames(draw):
    n_mol = draw(st.integers(0, 4))
    res = [draw(st.integers(0, 3)) for _ in range(n_mol)]
    atoms = [[draw(st.integers(0, 3)) for _ in range(r)] for r in res]
    counter = iter(range(10_000))
    x = [[[float(next(counter)) for _ in range(a)] for a in mol] for mol in atoms]
    rid = [[next(counter) for _ in mol] for mol in atoms]
    name = [f"m{i}" for i in range(n_mol)]
    return {"name": name, "rid": rid, "x": x}


@settings(max_examples=60, deadline=None)
@given(nested_frames(), st.data())
def test_property_views_and_selection(data, draw):
    schema = ["molecule", "residue", "atom"]
    df = gr.dataframe(data, schema=schema, levels={"x": "atom", "rid": "residue"})
    for k, level in enumerate(schema):
        view = getattr(df, level)
        for n in view.columns:
            assert getattr(view, n).to_list() == peel(data[n], k)
    n_res = len(df.residue)
    assert n_res == len(peel(data["rid"], 1))
    if n_res:
        rows = draw.draw(st.lists(st.integers(-n_res, n_res - 1), max_size=5))
        sel = df.residue[rows]
        assert sel.x.to_list() == [peel(data["x"], 1)[r] for r in rows]
        assert sel.rid.to_list() == [peel(data["rid"], 1)[r] for r in rows]
    vals = [float(i) for i in range(n_res)]
    df.residue.v = vals
    lengths = [[len(m) for m in data["rid"]]]
    assert df.v.to_list() == renest(vals, lengths)
    if len(df):
        a = draw.draw(st.integers(0, len(df)))
        b = df[a:]
        b.residue.w = [1.0] * len(b.residue)
        assert b.w.to_list() == [[1.0] * len(m) for m in data["rid"][a:]]
        assert b.atom.x.to_list() == peel(data["x"][a:], 2)
