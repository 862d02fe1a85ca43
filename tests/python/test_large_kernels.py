"""Large-array kernel paths against NumPy: deferred (lazily fused) elementwise results,
parallel kernels above their thresholds, the regular-offsets fast path of reductions, and the
float-row fast path of construction. Sizes straddle the thresholds (65,536 leaf values) so
both the small (immediate, serial) and the large (deferred, parallel) paths run.
"""

from __future__ import annotations

import grumpy as gr
import numpy as np
import pytest

THRESHOLD = 1 << 16


def proteins(n_res_total: int, seed: int = 0, dtype=np.float64):
    """Ragged proteins × residues × xyz with about ``n_res_total`` residues."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(20, 80, size=max(1, n_res_total // 50))
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    coords = rng.normal(size=(int(offsets[-1]), 3)).astype(dtype)
    return coords, offsets


def owned(coords, offsets):
    """The same array in grumpy-owned memory (NumPy-backed buffers are never deferred)."""
    return gr.from_offsets(coords, offsets) * 1.0


def mean_ref(values, offsets):
    lens = np.diff(offsets)
    return np.add.reduceat(values, offsets[:-1], axis=0) / lens[:, None]


SIZES = [THRESHOLD // 3 - 100, THRESHOLD // 3 + 100, 200_000]


@pytest.mark.parametrize("n_res", SIZES)
def test_chain_then_mean_matches_numpy_both_sides_of_threshold(n_res):
    coords, offsets = proteins(n_res)
    for x in (gr.from_offsets(coords, offsets), owned(coords, offsets)):
        got = (x * 2.0 + 1.0).mean(dim=1).to_numpy()
        want = mean_ref(coords * 2.0 + 1.0, offsets)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        # bit-identical to materialising first
        y = x * 2.0 + 1.0
        m1 = y.mean(dim=1).to_numpy()
        flat = y.values.copy()
        m2 = gr.from_offsets(flat.reshape(-1, 3), offsets).mean(dim=1).to_numpy()
        assert np.array_equal(m1, m2)


@pytest.mark.parametrize("n_res", SIZES)
def test_every_reduction_and_dim_on_a_deferred_result(n_res):
    coords, offsets = proteins(n_res, seed=1)
    x = owned(coords, offsets)
    y = (x - 0.5) / 4.0 * 3.0 + 2
    ref = gr.from_offsets(((coords - 0.5) / 4.0 * 3.0 + 2), offsets)
    for op in ["sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"]:
        for dim in [None, 0, 1, 2, -1]:
            a = getattr(y, op)(dim=dim)
            b = getattr(ref, op)(dim=dim)
            if dim is None:
                assert a == b or (np.isnan(a) and np.isnan(b)), (op, dim)
            else:
                assert a.to_list() == b.to_list(), (op, dim)


def test_deferred_results_never_change_their_inputs():
    coords, offsets = proteins(100_000, seed=2)
    x = owned(coords, offsets)
    before = x.values.copy()
    y = x * 2
    z = y + 1
    # y and x stay intact whatever is done with z
    z[0, 0, 0] = 1234.0
    assert z[0, 0, 0] == 1234.0
    np.testing.assert_array_equal(y.values, before * 2)
    np.testing.assert_array_equal(x.values, before)
    np.testing.assert_array_equal(z.values[1:], (before * 2 + 1)[1:])
    # writing into the input after the op leaves the deferred result as computed at op time
    w = x * 3.0
    x[0, 0, 0] = -1.0
    assert w[0, 0, 0] == before[0] * 3.0
    assert (
        w.mean(dim=1).to_list()
        == gr.from_offsets((before * 3.0).reshape(-1, 3), offsets).mean(dim=1).to_list()
    )


def test_views_and_slices_of_deferred_results():
    coords, offsets = proteins(150_000, seed=3)
    x = owned(coords, offsets)
    ref = gr.from_offsets(coords * 0.25 - 3.0, offsets)
    y = x * 0.25 - 3.0
    for sl in [slice(5, 40), slice(None, None, 3), slice(-7, None)]:
        assert y[sl].mean(dim=1).to_list() == ref[sl].mean(dim=1).to_list()
        assert y[sl].to_list() == ref[sl].to_list()
    # a slice of the input, then ops: only the view is computed, the parent untouched
    part = x[10:2000] * 2.0 + 1.0
    sub = offsets[10:2001] - offsets[10]
    want = mean_ref(coords[offsets[10] : offsets[2000]] * 2.0 + 1.0, sub)
    np.testing.assert_allclose(part.mean(dim=1).to_numpy(), want, rtol=1e-12)
    np.testing.assert_array_equal(x.values, coords.ravel())


def test_deferred_results_export_and_nulls():
    coords, offsets = proteins(120_000, seed=4)
    x = owned(coords, offsets)
    y = 10.0 - x * 2.0
    np.testing.assert_array_equal(y.values, 10.0 - coords.ravel() * 2.0)
    np.testing.assert_array_equal(y[3].to_numpy(), 10.0 - coords[offsets[3] : offsets[4]] * 2.0)
    # a validity mask survives the deferred op and the fused reduction skips the nulls
    valid = np.ones(coords.size, dtype=bool)
    valid[::7] = False
    xm = gr.from_offsets(coords, offsets, validity=valid.reshape(coords.shape)) * 1.0
    ym = xm * 2.0 + 1.0
    masked = np.where(valid.reshape(coords.shape), coords * 2.0 + 1.0, np.nan)
    want = np.array([np.nanmean(masked[a:b], axis=0) for a, b in zip(offsets[:-1], offsets[1:])])
    np.testing.assert_allclose(ym.mean(dim=1).to_numpy(), want, rtol=1e-12)
    assert ym.count() == int(valid.sum())


def test_float32_and_integer_inputs_keep_their_dtypes():
    coords, offsets = proteins(100_000, seed=5, dtype=np.float32)
    x = owned(coords, offsets)
    y = x * 2.5 + 1
    assert y.dtype == gr.float32
    np.testing.assert_array_equal(y.values, (coords * np.float32(2.5) + np.float32(1)).ravel())
    assert y.mean(dim=1).dtype == gr.float32
    ints = gr.from_offsets(np.arange(300_000, dtype=np.int64).reshape(-1, 3), offsets[:10])
    assert (ints * 2 + 1).dtype == gr.int64
    assert (ints / 2).dtype == gr.float64
    with pytest.raises(gr.GrumpyError):
        ints // 0


def test_construction_float_rows_match_the_slow_path():
    rng = np.random.default_rng(6)
    rows = [[[float(v) for v in r] for r in rng.normal(size=(n, 3))] for n in (3, 0, 5, 1)]
    a = gr.array(rows)
    assert a.to_list() == rows
    # float rows mixed with ints, None and strings give the same result as the item walk
    assert gr.array([[1.0, 2.0], [1, 2.5], [None, 1.0]]).to_list() == [
        [1.0, 2.0],
        [1.0, 2.5],
        [None, 1.0],
    ]
    assert gr.array([[1.0, 2.0], 3.0]).to_list() == [[1.0, 2.0], 3.0]
    with pytest.raises(gr.GrumpyError):
        gr.array([["a"], [1.0, 2.0]])
    assert gr.array([[1.0, 2.0]], dtype=gr.float32).dtype == gr.float32
