"""Large regular levels (>= 65,536 rows of one length, e.g. xyz): their offsets are computed
on first access instead of being stored in memory (a loaded (n, 3) level costs no offsets until
something reads them). Every operation must see exactly the offsets it would have seen."""

from __future__ import annotations

import pickle

import grumpy as gr
import numpy as np
import pytest

ATOMS = 70_000  # above the lazy threshold (65,536 offsets)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    lens = rng.integers(1, 8, size=12_000)
    lens[-1] += ATOMS - lens.sum() if lens.sum() < ATOMS else 0
    coords = rng.standard_normal((int(lens.sum()), 3))
    offsets = np.concatenate([[0], np.cumsum(lens)])
    return coords, offsets


def arrays(data, tmp_path_factory):
    coords, offsets = data
    x = gr.from_offsets(coords, offsets)
    p = tmp_path_factory.mktemp("reg") / "s.zarr"
    gr.save(x, p)
    return {"memory": x, "loaded": gr.load(p), "opened": gr.open(p)[0 : len(offsets) - 1]}


@pytest.fixture(scope="module", params=["memory", "loaded", "opened"])
def x(request, data, tmp_path_factory):
    return arrays(data, tmp_path_factory)[request.param]


def test_offsets_export_is_exact(x, data):
    coords, offsets = data
    assert np.array_equal(x.offsets(0), offsets)
    assert np.array_equal(x.offsets(1), np.arange(0, 3 * len(coords) + 1, 3))


def test_reductions_over_every_level(x, data):
    coords, offsets = data
    per_atom = gr.sum(x, dim=2)
    assert np.array_equal(per_atom.offsets(0), offsets)
    np.testing.assert_allclose(per_atom.values, coords.sum(axis=1))
    np.testing.assert_allclose(gr.mean(x, dim=2).values, coords.mean(axis=1))
    per_protein = np.add.reduceat(coords, offsets[:-1], axis=0)
    np.testing.assert_allclose(gr.sum(x, dim=1).values.reshape(-1, 3), per_protein)


def test_elementwise_slices_and_pickle(x, data):
    coords, offsets = data
    y = x * 2.0 + 1.0
    np.testing.assert_allclose(y.values.reshape(-1, 3), coords * 2.0 + 1.0)
    a, b = 100, 5000
    s = x[a:b]
    np.testing.assert_array_equal(s.values.reshape(-1, 3), coords[offsets[a] : offsets[b]])
    assert np.array_equal(
        s.offsets(1) - s.offsets(1)[0], np.arange(0, 3 * (offsets[b] - offsets[a]) + 1, 3)
    )
    back = pickle.loads(pickle.dumps(x))
    assert np.array_equal(back.offsets(1), x.offsets(1))
    np.testing.assert_array_equal(back.values, coords.ravel())


def test_rows_match_numpy(x, data):
    coords, offsets = data
    for i in [0, 1, 5000, len(offsets) - 2]:
        assert x[i].to_list() == coords[offsets[i] : offsets[i + 1]].tolist()
