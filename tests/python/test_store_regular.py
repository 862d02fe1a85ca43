"""Regular list levels (rows of one length: xyz triples, fixed-size embeddings): the store records
their step in grumpy.regular and readers build their offsets from it instead of reading them.
The offsets buffer is still written for zarr-python and Awkward (see docs/format.md)."""

from __future__ import annotations

import json

import grumpy as gr
import numpy as np
import pytest
from helpers import rewrite_buffer


def attrs(p):
    return json.loads((p / "zarr.json").read_text())["attributes"]


def set_regular(p, value):
    doc = json.loads((p / "zarr.json").read_text())
    doc["attributes"]["grumpy"]["regular"] = value
    (p / "zarr.json").write_text(json.dumps(doc))


def xyz(rng, rows, max_atoms=6):
    lens = rng.integers(0, max_atoms, size=rows)
    data = rng.normal(size=(int(lens.sum()), 3))
    offsets = np.concatenate([[0], np.cumsum(lens)])
    return gr.from_offsets(data, offsets), [
        data[offsets[i] : offsets[i + 1]].tolist() for i in range(rows)
    ]


def test_fixed_size_rows_are_recorded_as_regular(tmp_path):
    x, _ = xyz(np.random.default_rng(0), 20)
    p = tmp_path / "s.zarr"
    gr.save(x, p)
    # the atom level varies, the xyz level does not
    assert attrs(p)["grumpy"]["regular"] == {"node1-offsets": 3}
    ragged = tmp_path / "r.zarr"
    gr.save(gr.array([[1.0], [2.0, 3.0]]), ragged)
    assert "regular" not in attrs(ragged)["grumpy"]


@pytest.mark.parametrize("chunk_size", [1, 4, None])
def test_regular_offsets_are_not_read(tmp_path, chunk_size):
    # Overwrite the stored xyz offsets with other (valid, irregular) ones: grumpy still reads
    # the rows from the recorded step, proving it never reads that buffer.
    rng = np.random.default_rng(1)
    x, want = xyz(rng, 17)
    p = tmp_path / "s.zarr"
    gr.save(x, p, chunk_size=chunk_size)
    n = sum(len(r) for r in want)
    other = np.sort(rng.integers(0, 3 * n, size=n + 1))
    other[0], other[-1] = 0, 3 * n
    rewrite_buffer(p, "node1-offsets", other)
    assert gr.load(p).to_list() == want
    r = gr.open(p)
    for a, b in [(0, 17), (3, 9), (16, 17), (5, 5)]:
        assert r[a:b].to_list() == want[a:b]


@pytest.mark.parametrize(
    "bad",
    [
        {"node1-offsets": 4},  # does not match the data's length
        {"node1-offsets": 2},
        {"node1-offsets": -3},
        {"node1-offsets": 1.5},
        {"node1-offsets": "3"},
        {"node0-offsets": 3},  # not the regular level
        {"node2-data": 1},  # not an offsets buffer
        {"node9-offsets": 3},  # not in the store
        [3],
    ],
)
def test_a_wrong_regular_record_is_a_store_error(tmp_path, bad):
    x, _ = xyz(np.random.default_rng(2), 9)
    p = tmp_path / "s.zarr"
    gr.save(x, p)
    set_regular(p, bad)
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.StoreError):
        gr.open(p)


def test_appends_keep_or_drop_the_regular_record(tmp_path):
    rng = np.random.default_rng(3)
    p = tmp_path / "s.zarr"
    a, want_a = xyz(rng, 7)
    b, want_b = xyz(rng, 5)
    gr.save(a, p)
    gr.append(b, p)
    assert attrs(p)["grumpy"]["regular"] == {"node1-offsets": 3}
    assert gr.load(p).to_list() == want_a + want_b
    # rows of another length: the level is not regular any more, and reads use the offsets
    odd = gr.array([[[1.0, 2.0]], [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]])
    gr.append(odd, p)
    assert "regular" not in attrs(p)["grumpy"]
    want = want_a + want_b + odd.to_list()
    assert gr.load(p).to_list() == want
    assert gr.open(p)[10:14].to_list() == want[10:14]


def test_an_iterable_save_records_a_level_regular_in_every_batch(tmp_path):
    rng = np.random.default_rng(4)
    parts = [xyz(rng, n) for n in (4, 1, 6)]
    p = tmp_path / "s.zarr"
    gr.save((x for x, _ in parts), p)
    assert attrs(p)["grumpy"]["regular"] == {"node1-offsets": 3}
    assert gr.load(p).to_list() == [r for _, rows in parts for r in rows]


def test_dataframe_levels_and_columns(tmp_path):
    # A frame whose atom level holds xyz rows: the column's own offsets are regular, the
    # shared level offsets are not.
    rng = np.random.default_rng(5)
    x, want = xyz(rng, 6)
    df = gr.dataframe({"coords": x}, schema=["protein", "atom"])
    p = tmp_path / "f.zarr"
    gr.save(df, p)
    reg = attrs(p)["grumpy"]["regular"]
    assert list(reg.values()) == [3] and all(k.endswith("-offsets") for k in reg)
    assert gr.load(p)["coords"].to_list() == want
    assert gr.open(p)[2:5]["coords"].to_list() == want[2:5]


def test_stores_without_the_record_still_read(tmp_path):
    # Stores written before grumpy.regular existed have no such entry: their offsets are read.
    x, want = xyz(np.random.default_rng(6), 8)
    p = tmp_path / "s.zarr"
    gr.save(x, p)
    doc = json.loads((p / "zarr.json").read_text())
    del doc["attributes"]["grumpy"]["regular"]
    (p / "zarr.json").write_text(json.dumps(doc))
    assert gr.load(p).to_list() == want
    assert gr.open(p)[1:4].to_list() == want[1:4]


def test_awkward_and_zarr_python_still_read_the_offsets(tmp_path):
    zarr = pytest.importorskip("zarr")
    x, want = xyz(np.random.default_rng(7), 5)
    p = tmp_path / "s.zarr"
    gr.save(x, p)
    g = zarr.open_group(str(p), mode="r")
    lens = [len(r) for r in want]
    assert g["node1-offsets"][:].tolist() == list(range(0, 3 * sum(lens) + 1, 3))
    ak = pytest.importorskip("awkward")
    a = attrs(p)
    got = ak.from_buffers(a["form"], a["length"], {k: v[:] for k, v in g.arrays()})
    assert got.to_list() == want
