"""Loads of every row of a large store: the offsets of each level are read alongside the data
they point into (the data's range is known before the offsets are), so the checks of those
offsets must still catch every kind of damage. The stores are a few MB, past the size where a
load reads in parallel."""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest
from helpers import rewrite_buffer

pytest.importorskip("zarr")

ROWS = 60_000  # about 8 MB of float64 xyz: a parallel load


def proteins():
    """protein → residue → xyz with residues of 1..8 atoms (irregular residue offsets)."""
    rng = np.random.default_rng(7)
    residues = rng.integers(1, 9, size=ROWS)
    atoms = rng.integers(1, 5, size=int(residues.sum()))
    res_off = np.concatenate([[0], np.cumsum(residues)])
    atom_off = np.concatenate([[0], np.cumsum(atoms)])
    coords = rng.standard_normal((int(atom_off[-1]), 3))
    return gr.from_offsets(coords, res_off, atom_off), res_off, atom_off


def damaged(offsets, how):
    o = np.array(offsets, dtype=np.int64)
    if how == "first":
        o[0] = 1
    elif how == "last short":
        o[-1] -= 1
    elif how == "last past":
        o[-1] += 1
    elif how == "decreasing":
        k = len(o) // 2
        o[k] = o[k + 1] + 1
    elif how == "negative":
        o[len(o) // 3] = -5
    return o


HOW = ["first", "last short", "last past", "decreasing", "negative"]


def same(a, res_off, atom_off, coords):
    assert np.array_equal(a.offsets(0), res_off)
    assert np.array_equal(a.offsets(1), atom_off)
    assert np.array_equal(a.values, coords)


def test_whole_loads_equal_the_data(tmp_path):
    x, res_off, atom_off = proteins()
    coords = x.values.copy()
    gr.save(x, tmp_path / "a.zarr")
    same(gr.load(tmp_path / "a.zarr"), res_off, atom_off, coords)
    df = gr.dataframe({"xyz": x}, schema=["protein", "residue", "atom"])
    gr.save(df, tmp_path / "f.zarr")
    same(gr.load(tmp_path / "f.zarr")["xyz"], res_off, atom_off, coords)
    assert gr.open(tmp_path / "f.zarr")[5:9]["xyz"].to_list() == x[5:9].to_list()


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("level", ["node0-offsets", "node1-offsets"])
def test_damaged_offsets_of_an_array_store(tmp_path, level, how):
    x, res_off, atom_off = proteins()
    p = tmp_path / "a.zarr"
    gr.save(x, p)
    rewrite_buffer(p, level, damaged(res_off if level == "node0-offsets" else atom_off, how))
    with pytest.raises(gr.StoreError, match="offsets"):
        gr.load(p)


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("level", ["level1-offsets", "level2-offsets"])
def test_damaged_shared_offsets_of_a_frame_store(tmp_path, level, how):
    x, res_off, atom_off = proteins()
    df = gr.dataframe({"xyz": x}, schema=["protein", "residue", "atom"])
    p = tmp_path / "f.zarr"
    gr.save(df, p)
    rewrite_buffer(p, level, damaged(res_off if level == "level1-offsets" else atom_off, how))
    with pytest.raises(gr.StoreError, match="offsets"):
        gr.load(p)
