"""Dataframe column edits (scalar and bad assigned values, deletion, level-named columns),
argument errors, pickling and copying, the bounded repr, and zero-copy `to_dict`."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import time

import grumpy as gr
import numpy as np
import pytest

SCHEMA = ["molecule", "residue", "atom"]


def ptr(a):
    return a.__array_interface__["data"][0]


@pytest.fixture
def df():
    return gr.dataframe(
        {
            "name": ["1abc", "2xyz"],
            "resname": [["ALA", "GLY"], ["SER"]],
            "coords": [[[[0.0, 0.5, 1.0]], [[1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]], [[]]],
            "core": [[True, False], [True]],
        },
        schema=SCHEMA,
        levels={"coords": "atom"},
    )


# ---------------------------------------------------------------- scalar / bad values


@pytest.mark.parametrize(
    ("value", "dtype", "item"),
    [
        (1.0, "float64", 1.0),
        (2, "int64", 2),
        (True, "bool", True),
        ("abc", "string", "abc"),
        (np.float32(1.5), "float32", 1.5),
        (np.float64(2.5), "float64", 2.5),
        (np.int16(-3), "int16", -3),
        (np.array(4.0), "float64", 4.0),
        (np.bool_(False), "bool", False),
    ],
)
def test_scalar_assignment_broadcasts_over_the_level(df, value, dtype, item):
    df.residue.c = value
    assert str(df.c.dtype) == dtype
    assert df.c.to_list() == [[item, item], [item]]  # like pandas df["c"] = 1.0
    df.molecule.m = value
    assert df.m.to_list() == [item, item]
    df.atom.a = value
    assert df.atom.a.to_list() == [item] * 3
    df["top"] = value
    assert df.top.to_list() == [item, item]


def test_scalar_assignment_on_views_and_batches(df):
    batch = df[1:]
    batch.residue.w = 0.5
    assert batch.w.to_list() == [[0.5]]
    assert "w" not in df
    sub = df.molecule[0]
    sub.residue.w = 1
    assert sub.w.to_list() == [[1, 1]]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (b"abc", "bytes"),
        (bytearray(b"ab"), "bytearray"),
        ({"a": 1}, "dict"),
        ({1, 2}, "set"),
        (object(), "object"),
        (None, "None"),
    ],
)
def test_bad_assigned_values_raise(df, value, match):
    with pytest.raises(gr.ArgumentError, match=match) as e:
        df.residue.c = value
    assert e.value.fix
    assert "c" not in df


def test_none_with_an_explicit_dtype_is_a_null_column(df):
    n = len(df.residue)
    df.residue.c = gr.array([None] * n, dtype=gr.float64)
    assert df.c.to_list() == [[None, None], [None]]
    assert df.residue.c.count() == 0


def test_dataframe_values_and_shapes(df):
    with pytest.raises(gr.ArgumentError, match="DataFrame"):
        df.residue.c = df
    with pytest.raises(gr.SchemaError):
        df.residue.c = [1.0, 2.0]
    df.residue.c = (1, 2, 3)
    assert df.c.to_list() == [[1, 2], [3]]
    df.residue.r = range(3)
    assert df.r.to_list() == [[0, 1], [2]]


# ---------------------------------------------------------------- argument errors


def test_constructor_argument_errors():
    with pytest.raises(gr.ArgumentError, match="level name") as e:
        gr.dataframe({"a": [[1]]}, schema=["m", "r"], levels={"a": 1})
    assert '"r"' in e.value.fix
    with pytest.raises(gr.ArgumentError, match="list of level names") as e:
        gr.dataframe({"a": [1]}, schema="mol")
    assert "schema=" in e.value.fix
    with pytest.raises(gr.ArgumentError, match="list of level names"):
        gr.dataframe({"a": [1]}, schema=["m", 2])
    with pytest.raises(gr.ArgumentError, match="dict"):
        gr.dataframe({"a": [1]}, levels=["a"])
    with pytest.raises(gr.ArgumentError, match="scalar"):
        gr.dataframe({"a": 1.0})
    with pytest.raises(gr.ArgumentError, match='column "a"'):
        gr.dataframe({"a": b"xy"})
    assert gr.dataframe({"a": [1]}, schema=("m",)).schema == ["m"]


@pytest.mark.parametrize("key", [1.0, True, np.float64(0.0), np.bool_(True), None, 1j])
def test_unsupported_row_keys(df, key):
    with pytest.raises(gr.ArgumentError, match="not supported for a DataFrame"):
        df.residue[key]


def test_numpy_integer_row_keys(df):
    assert df.residue[np.int64(2)].resname.to_list() == ["SER"]
    assert df.residue[np.array(1)].resname.to_list() == ["GLY"]


def test_masks_of_every_kind(df):
    want = ["ALA", "SER"]
    for mask in (
        [True, False, True],
        np.array([True, False, True]),
        gr.array([True, False, True]),
        df.residue.resname != "GLY",
    ):
        assert df.residue[mask].resname.to_list() == want


def test_level_named_columns_are_rejected(df):
    with pytest.raises(gr.SchemaError, match="name of a level") as e:
        gr.dataframe({"residue": [[1]]}, schema=["molecule", "residue"])
    assert "rename" in e.value.fix
    with pytest.raises(gr.SchemaError, match="name of a level"):
        df["residue"] = [[1, 2], [3]]
    with pytest.raises(gr.SchemaError, match="name of a level"):
        df.residue = [1.0, 2.0, 3.0]


def test_frame_attributes_are_not_assigned_by_dot(df):
    with pytest.raises(gr.ArgumentError, match="attribute"):
        df.columns = ["a"]
    with pytest.raises(gr.ArgumentError, match="attribute") as e:
        df.residue.sum = [1, 2, 3]
    assert 'df["sum"]' in e.value.fix
    df.residue["sum"] = [1, 2, 3]
    assert df["sum"].to_list() == [[1, 2], [3]]
    assert callable(df.sum)


# ---------------------------------------------------------------- deletion


def test_delete_columns(df):
    del df.core
    assert "core" not in df.columns
    del df["name"]
    assert df.columns == ["resname", "coords"]
    del df.residue.resname  # through a view: a column at the view's level
    assert df.columns == ["coords"]
    with pytest.raises(gr.SchemaError, match="no column"):
        del df.nope
    with pytest.raises(gr.SchemaError, match="level"):
        del df.residue
    with pytest.raises(gr.ArgumentError, match="attribute"):
        del df.columns
    with pytest.raises(gr.ArgumentError, match="column name"):
        del df[0]
    assert len(df.atom) == 3


def test_delete_above_the_view_level(df):
    with pytest.raises(gr.SchemaError, match="above the view level"):
        del df.residue.name
    assert "name" in df


def test_delete_last_deep_column_forgets_the_level(df):
    del df.coords
    assert len(df.residue) == 3
    with pytest.raises(gr.SchemaError, match="no column reaches"):
        len(df.atom)


# ---------------------------------------------------------------- pickling and copying


def frames_equal(a, b):
    assert a.schema == b.schema
    assert a.levels == b.levels
    assert a.to_dict(as_arrays=False) == b.to_dict(as_arrays=False)


def test_pickle_round_trip(df):
    df.residue.n = gr.array([1, None, 3], dtype=gr.int16)
    df.molecule.u = [1.0, [2.0, 3.0]]
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(df, protocol=proto))
        frames_equal(back, df)
        assert ptr(back["coords"].offsets(0)) == ptr(back["resname"].offsets(0))
        assert str(back.n.dtype) == "int16"


def test_pickle_views_and_batches(df):
    view = df.residue
    back = pickle.loads(pickle.dumps(view))
    assert back.schema == ["residue", "atom"]
    frames_equal(back, view.copy())
    batch = df[1:]
    frames_equal(pickle.loads(pickle.dumps(batch)), batch)
    small = len(pickle.dumps(df[1:]))
    assert small < len(pickle.dumps(df))


def test_corrupt_pickle_state_is_an_error(df):
    state = df.__reduce__()[1][0]
    with pytest.raises(gr.ArgumentError, match="corrupt"):
        gr.DataFrame._from_state(state[:-3])
    with pytest.raises(gr.ArgumentError, match="corrupt"):
        gr.DataFrame._from_state(b"junk")


def _center_in_worker(batch):
    """Runs in another process: a dot assignment on an unpickled view, sent back pickled."""
    batch.residue.n_atoms = gr.array([len(r) for r in batch.residue.coords.to_list()])
    return batch


def test_frames_cross_process_boundaries(df):
    # What a DataLoader worker does: receive a pickled frame, work on it, send it back.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        out = pool.apply(_center_in_worker, (df[0:2],))
    assert out.n_atoms.to_list() == [[1, 2], [0]]
    assert out.resname.to_list() == df.resname.to_list()


def test_copy_and_deepcopy(df):
    c = copy.copy(df)
    c.residue.new = 1.0
    assert "new" not in df
    d = copy.deepcopy(df)
    frames_equal(d, df)
    assert ptr(d.coords.values) != ptr(df.coords.values)
    v = copy.deepcopy(df.residue)
    assert v.schema == ["residue", "atom"]
    assert v.resname.to_list() == ["ALA", "GLY", "SER"]
    assert copy.deepcopy([df])[0].name.to_list() == ["1abc", "2xyz"]


def test_not_iterable(df):
    with pytest.raises(gr.Unsupported, match="not iterable") as e:
        iter(df)
    assert "df.columns" in e.value.fix
    with pytest.raises(gr.Unsupported):
        list(df.residue)


# ---------------------------------------------------------------- access


def test_to_dict_is_zero_copy(df):
    d = df.to_dict()
    assert list(d) == df.columns
    assert all(isinstance(v, gr.GrumpyArray) for v in d.values())
    assert ptr(d["coords"].values) == ptr(df.coords.values)
    assert ptr(df.residue.to_dict()["coords"].values) == ptr(df.coords.values)
    assert df.to_dict(as_arrays=False)["resname"] == [["ALA", "GLY"], ["SER"]]


def test_views_report_len_columns_schema(df):
    v = df.molecule[1].residue
    assert len(v) == 1
    assert v.columns == ["resname", "coords", "core"]
    assert v.schema == ["residue", "atom"]
    assert v.to_list() == [{"resname": "SER", "coords": [], "core": True}]
    assert df.molecule[0].residue[1].atom.coords.to_list() == [
        [1.0, 1.5, 2.0],
        [2.0, 2.5, 3.0],
    ]


# ---------------------------------------------------------------- repr


def test_repr_is_bounded_by_size():
    n = 2_000_000
    x = gr.from_offsets(np.arange(n, dtype=np.float64), np.array([0, n]))
    big = gr.dataframe({"x": x}, schema=["molecule", "atom"])
    t0 = time.perf_counter()
    text = repr(big)
    assert time.perf_counter() - t0 < 0.5
    assert text.splitlines()[4] == "0  [0.0, 1.0, 2.0, 3.0, 4.0, 5..."


def test_repr_trims_wide_frames():
    cols = {f"column_{i:02d}": [float(i) * 1000.25, 1.0] for i in range(30)}
    text = repr(gr.dataframe(cols))
    lines = text.splitlines()
    assert lines[0] == "gr.DataFrame: 2 row × 30 columns, schema row"
    assert max(len(line) for line in lines[1:]) <= 100
    assert "column_00" in lines[1] and "column_29" in lines[1] and "..." in lines[1]


def test_repr_of_a_view_and_of_strings():
    df = gr.dataframe({"s": [["it's", "x" * 80]]}, schema=["m", "r"])
    text = repr(df.r)
    assert text.splitlines()[0].startswith("gr.DataFrame: 2 r × 1 columns")
    assert '"it\'s"' in text
    assert max(len(line) for line in text.splitlines()) <= 100
