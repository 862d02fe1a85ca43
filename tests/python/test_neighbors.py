"""gr.neighbors: kNN and radius graphs over ragged point groups (API.md "Neighbors").

References: a small pure-Python model (sorted by (distance, index)), scipy cKDTree and
scikit-learn NearestNeighbors where installed.
"""

from __future__ import annotations

import math

import grumpy as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def ref_knn(query, data, k, skip_self=False):
    """Per query point: [(index, distance)] sorted by (distance, index)."""
    out = []
    for i, q in enumerate(query):
        cand = [(math.dist(q, p), j) for j, p in enumerate(data) if not (skip_self and i == j)]
        cand.sort()
        out.append([(j, d) for d, j in cand[:k]])
    return out


def ref_radius(query, data, r, skip_self=False):
    out = []
    for i, q in enumerate(query):
        cand = [
            (math.dist(q, p), j)
            for j, p in enumerate(data)
            if not (skip_self and i == j) and math.dist(q, p) <= r
        ]
        cand.sort()
        out.append([(j, d) for d, j in cand])
    return out


def as_pairs(ref):
    return [[[i, j] for j, _ in row] for i, row in enumerate(ref)]


def as_dists(ref):
    return [[d for _, d in row] for row in ref]


def assert_close_nested(got, want):
    assert [len(r) for r in got] == [len(r) for r in want]
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-12)


def chains(rng, n_groups, lo, hi, step=3.8):
    lens = rng.integers(lo, hi + 1, size=n_groups)
    out = []
    for n in lens:
        s = rng.normal(size=(n, 3))
        s *= step / np.linalg.norm(s, axis=1, keepdims=True)
        out.append(np.cumsum(s, axis=0))
    return out


# ----------------------------------------------------------------------------- semantics


def test_dim0_pairs_and_distances():
    pts = [[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [0.0, 2.0]]
    x = gr.array(pts)
    pairs, dist = gr.neighbors(x, x, k=2, return_distances=True)
    ref = ref_knn(pts, pts, 2)
    assert pairs.to_list() == as_pairs(ref)
    assert_close_nested(dist.to_list(), as_dists(ref))
    assert pairs.dtype == gr.int64 and dist.dtype == gr.float64


def test_ties_broken_by_index_and_sorted():
    pts = [[0.0], [1.0], [-1.0], [2.0], [-2.0]]
    x = gr.array(pts)
    got = gr.neighbors(x, x, k=5).to_list()
    assert got[0] == [[0, 0], [0, 1], [0, 2], [0, 3], [0, 4]]
    assert got[1] == [[1, 1], [1, 0], [1, 3], [1, 2], [1, 4]]


def test_loop_false_removes_self_but_keeps_duplicates():
    pts = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [4.0, 5.0]]
    x = gr.array(pts)
    got = gr.neighbors(x, x, k=2, loop=False).to_list()
    assert got == as_pairs(ref_knn(pts, pts, 2, skip_self=True))
    assert got[0] == [[0, 1], [0, 2]]
    # loop=True keeps self pairs; equal distances go to the lower index
    assert gr.neighbors(x, x, k=1).to_list() == [[[0, 0]], [[1, 0]], [[2, 0]], [[3, 3]]]


def test_loop_false_is_positional_not_identity():
    # PyG knn_graph(loop=False) semantics: drop (i, i) of a point set with itself, decided by
    # position, so copies, views and fancy-indexed selections all behave alike
    pts = [[0.0], [3.0], [4.0]]
    x = gr.array(pts)
    want = as_pairs(ref_knn(pts, pts, 1, skip_self=True))
    assert want == [[[0, 1]], [[1, 2]], [[2, 1]]]
    for q, d in [(x, x), (x[:], x[:]), (x[[0, 1, 2]], x[[0, 1, 2]]), (gr.array(pts), x)]:
        assert gr.neighbors(q, d, k=1, loop=False).to_list() == want
    n = np.array(pts)
    assert gr.neighbors(n, n.copy(), k=1, loop=False).to_list() == want
    # different points of the same shape: (i, i) is still the pair dropped
    moved = gr.array([[0.1], [2.0], [9.0]])
    got = gr.neighbors(x, moved, k=1, loop=False).to_list()
    assert got == [[[0, 1]], [[1, 0]], [[2, 1]]]
    # loop=True never drops anything
    assert gr.neighbors(x, moved, k=1).to_list() == [[[0, 0]], [[1, 1]], [[2, 1]]]
    # with different point counts there is no (i, i) pairing: an ArgumentError with a fix
    e = _err(gr.ArgumentError, x, x[:2], k=1, loop=False)
    assert "loop" in str(e)
    b1 = gr.array([[[0.0], [1.0]], [[2.0]]])
    b2 = gr.array([[[0.0]], [[1.0], [2.0]]])
    _err(gr.ArgumentError, b1, b2, k=1, dim=1, loop=False)
    assert gr.neighbors(b1, b2, k=1, dim=1).to_list() == [
        [[[0, 0]], [[1, 0]]],
        [[[0, 1]]],
    ]  # 2.0 is nearest to 2.0 (index 1)


def test_dim1_groups_ragged_k_larger_than_group_and_empty_group():
    groups = [
        [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 0.0, 0.0]],
        [],
        [[9.0, 9.0, 9.0]],
        [[1.0, 2.0, 3.0], [1.0, 2.0, 4.0]],
    ]
    b = gr.array(groups)
    pairs, dist = gr.neighbors(b, b, k=5, dim=1, loop=False, return_distances=True)
    want = [as_pairs(ref_knn(g, g, 5, skip_self=True)) for g in groups]
    assert pairs.to_list() == want
    for got_g, g in zip(dist.to_list(), groups):
        assert_close_nested(got_g, as_dists(ref_knn(g, g, 5, True)))
    # the lone point has no candidates: an empty list, never padding
    assert pairs.to_list()[2] == [[]]


def test_dim2_nests_outer_axes_and_negative_dim():
    x = gr.array([[[[0.0], [1.0], [4.0]]], [[[2.0]], [[5.0], [7.0]]]])
    got = gr.neighbors(x, x, k=1, dim=2, loop=False)
    assert got.to_list() == [
        [[[[0, 1]], [[1, 0]], [[2, 1]]]],
        [[[]], [[[0, 1]], [[1, 0]]]],
    ]
    assert gr.neighbors(x, x, k=1, dim=-2, loop=False).to_list() == got.to_list()


def test_query_and_data_differ():
    q = [[0.0, 0.0], [10.0, 10.0]]
    d = [[1.0, 1.0], [9.0, 9.0], [0.0, 0.5]]
    got = gr.neighbors(gr.array(q), gr.array(d), k=2)
    assert got.to_list() == as_pairs(ref_knn(q, d, 2))


def test_radius_inclusive_sorted_ragged():
    pts = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.5, 0.0]]
    x = gr.array(pts)
    pairs, dist = gr.neighbors(x, x, radius=1.0, loop=False, return_distances=True)
    ref = ref_radius(pts, pts, 1.0, skip_self=True)
    assert pairs.to_list() == as_pairs(ref)
    assert_close_nested(dist.to_list(), as_dists(ref))
    assert pairs.to_list()[0] == [[0, 4], [0, 1], [0, 2]]
    # radius 0 keeps exact duplicates only
    z = gr.array([[1.0], [1.0], [2.0]])
    assert gr.neighbors(z, z, radius=0.0, loop=False).to_list() == [[[0, 1]], [[1, 0]], []]


def test_edge_index_global_pyg_convention():
    groups = [[[0.0], [1.0]], [[5.0], [7.0], [6.0]]]
    b = gr.array(groups)
    ei, d = gr.neighbors(b, b, k=1, dim=1, loop=False, output="edge_index", return_distances=True)
    assert isinstance(ei, np.ndarray) and ei.dtype == np.int64 and ei.shape == (2, 5)
    # row 0: neighbour (source), row 1: query (target); group 1 starts at point 2
    assert ei.tolist() == [[1, 0, 4, 4, 2], [0, 1, 2, 3, 4]]
    assert d.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0]
    e = gr.neighbors(b, b, k=0, dim=1, output="edge_index")
    assert e.shape == (2, 0)


def test_union_rows_at_dim0_and_int_and_float32_coordinates():
    u = gr.array([2, [0], 5])
    assert u.layout == "union"
    assert gr.neighbors(u, u, k=1, loop=False).to_list() == [[[0, 1]], [[1, 0]], [[2, 0]]]
    i = gr.array([[0, 0], [3, 4]])
    _, d = gr.neighbors(i, i, k=2, return_distances=True)
    assert d.to_list() == [[0.0, 5.0], [0.0, 5.0]]
    f = np.array([[0, 0], [3, 4]], dtype=np.float32)
    assert gr.neighbors(f, f, k=2).to_list() == [[[0, 0], [0, 1]], [[1, 1], [1, 0]]]


def test_float32_and_int_coordinates_give_float64_distances():
    rng = np.random.default_rng(4)
    f = rng.normal(size=(40, 3)).astype(np.float32)
    _, d = gr.neighbors(f, f, k=3, loop=False, return_distances=True)
    assert d.dtype == gr.float64
    f64 = f.astype(np.float64)
    want = as_dists(ref_knn(f64.tolist(), f64.tolist(), 3, skip_self=True))
    assert_close_nested(d.to_list(), want)
    # integers are converted to float64: exact below 2**53
    i = np.array([[0, 0], [2**52, 1], [2**52, 3]], dtype=np.int64)
    p, d = gr.neighbors(i, i, k=1, loop=False, return_distances=True)
    assert p.to_list() == [[[0, 1]], [[1, 2]], [[2, 1]]]
    assert d.to_list() == [[float(np.hypot(2**52, 1))], [2.0], [2.0]]


def test_from_offsets_batch_and_plan_shape():
    rng = np.random.default_rng(3)
    # integer lattice walks: exact distances, many ties
    cs = [np.cumsum(rng.integers(-2, 3, size=(n, 3)), axis=0).astype(float) for n in (1, 7, 40, 23)]
    flat = np.concatenate(cs)
    offs = np.concatenate([[0], np.cumsum([len(c) for c in cs])])
    b = gr.from_offsets(flat.ravel(), offs, np.arange(0, 3 * len(flat) + 1, 3))
    got = gr.neighbors(b, b, k=4, dim=1, loop=False).to_list()
    want = [as_pairs(ref_knn(c.tolist(), c.tolist(), 4, True)) for c in cs]
    assert got == want


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(-3, 3), st.integers(-3, 3)).map(list),
            min_size=0,
            max_size=12,
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 6),
    st.booleans(),
)
def test_property_matches_reference_model(groups, k, loop):
    # coarse integer grids make plenty of exact ties and duplicates
    groups = [[[float(a), float(b)] for a, b in g] for g in groups]
    if all(len(g) == 0 for g in groups):
        groups.append([[0.0, 0.0]])
    b = gr.array(groups)
    got = gr.neighbors(b, b, k=k, dim=1, loop=loop).to_list()
    assert got == [as_pairs(ref_knn(g, g, k, skip_self=not loop)) for g in groups]
    r = gr.neighbors(b, b, radius=1.5, dim=1, loop=loop).to_list()
    assert r == [as_pairs(ref_radius(g, g, 1.5, skip_self=not loop)) for g in groups]


# ----------------------------------------------------------------------------- peers


def _check_against(dist_ref, idx_ref, pairs, dist):
    got_idx = [[p[1] for p in row] for row in pairs]
    np.testing.assert_allclose(np.array(dist), dist_ref, rtol=1e-12, atol=1e-12)
    for gi, ri, gd in zip(got_idx, idx_ref, dist):
        # index sets equal up to ties: compare the set of strictly-inside neighbours
        cut = gd[-1]
        assert {j for j, d in zip(gi, gd) if d < cut} == {j for j, d in zip(ri, gd) if d < cut}


@pytest.mark.parametrize("kind", ["random", "chain"])
@pytest.mark.parametrize("n", [50, 3000])
def test_matches_scipy_ckdtree(kind, n):
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(n)
    pts = rng.uniform(0, 10, size=(n, 3)) if kind == "random" else chains(rng, 1, n, n)[0]
    x = gr.array(pts)
    k = 8
    pairs, dist = gr.neighbors(x, x, k=k, loop=False, return_distances=True)
    dref, iref = spatial.cKDTree(pts).query(pts, k=k + 1)
    _check_against(dref[:, 1:], iref[:, 1:], pairs.to_list(), dist.to_list())
    # radius against query_ball_point
    r = 1.5 if kind == "random" else 6.0
    rp = gr.neighbors(x, x, radius=r).to_list()
    balls = spatial.cKDTree(pts).query_ball_point(pts, r)
    assert [sorted(p[1] for p in row) for row in rp] == [sorted(b) for b in balls]


def test_matches_sklearn_grouped_chains():
    neighbors = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(7)
    cs = chains(rng, 6, 20, 900)
    b = gr.array([c.tolist() for c in cs])
    pairs, dist = gr.neighbors(b, b, k=16, dim=1, loop=False, return_distances=True)
    for c, p, d in zip(cs, pairs.to_list(), dist.to_list()):
        nn = neighbors.NearestNeighbors(n_neighbors=16).fit(c)
        dref, iref = nn.kneighbors()
        _check_against(dref, iref, p, d)


# ----------------------------------------------------------------------------- errors


def _err(cls, *args, **kw):
    with pytest.raises(cls) as e:
        gr.neighbors(*args, **kw)
    assert e.value.fix
    return e.value


def test_errors_k_radius_arguments():
    x = gr.array([[0.0], [1.0]])
    _err(gr.ArgumentError, x, x)
    _err(gr.ArgumentError, x, x, k=1, radius=1.0)
    _err(gr.ArgumentError, x, x, k=-1)
    _err(gr.ArgumentError, x, x, k=-(10**30))
    _err(gr.ArgumentError, x, x, radius=-0.1)
    _err(gr.ArgumentError, x, x, radius=float("nan"))
    _err(gr.ArgumentError, x, x, radius=float("inf"))
    _err(gr.ArgumentError, x, x, k=1, output="coo")
    assert gr.neighbors(x, x, k=np.int64(1)).to_list() == [[[0, 0]], [[1, 1]]]
    assert gr.neighbors(x, x, radius=np.float32(0.5)).to_list() == [[[0, 0]], [[1, 1]]]
    assert gr.neighbors(x, x, radius=1).to_list() == [[[0, 0], [0, 1]], [[1, 1], [1, 0]]]


@pytest.mark.parametrize(
    "kw",
    [
        {"k": 1.5},
        {"k": "3"},
        {"k": True},
        {"k": np.float64(2.0)},
        {"radius": "x"},
        {"radius": True},
        {"radius": [1.0]},
        {"k": 1, "loop": "no"},
        {"k": 1, "loop": None},
        {"k": 1, "loop": 1},
        {"k": 1, "output": None},
        {"k": 1, "output": 3},
        {"k": 1, "dim": None},
        {"k": 1, "dim": 1.0},
        {"k": 1, "dim": "0"},
        {"k": 1, "return_distances": "yes"},
        {"k": 1, "return_distances": None},
    ],
)
def test_bad_argument_types_are_argument_errors(kw):
    x = gr.array([[0.0], [1.0]])
    e = _err(gr.ArgumentError, x, x, **kw)
    assert not isinstance(e, TypeError)
    name = next(n for n in kw if n != "k" or len(kw) == 1)
    assert name in str(e)


def test_signature_and_docstring_examples():
    import doctest
    import inspect

    sig = inspect.signature(gr.neighbors)
    assert str(sig) == (
        "(query, data, k=None, radius=None, dim=0, loop=True, return_distances=False, "
        "output='pairs')"
    )
    doc = gr.neighbors.__doc__
    assert "loop=False" in doc and "float64" in doc and ">>>" in doc
    # the examples in the docstring run and give what they show
    parser = doctest.DocTestParser()
    test = parser.get_doctest(doc, {"gr": gr, "np": np}, "neighbors", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4


def test_huge_k_is_capped_never_aborts():
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(50, 3))
    x = gr.array(pts)
    for k in (10**9, 10**30, np.int64(2**62)):
        got, d = gr.neighbors(x, x, k=k, loop=False, return_distances=True)
        assert got.to_list() == gr.neighbors(x, x, k=49, loop=False).to_list()
        assert [len(r) for r in d.to_list()] == [49] * 50
    b = gr.array([pts[:3].tolist(), pts[3:].tolist()])
    assert gr.neighbors(b, b, k=10**9, dim=1, output="edge_index").shape == (2, 9 + 47 * 47)
    # 60,000 points with k=10**9 would need ~86 GB: a clean error, not an abort
    big = gr.array(rng.normal(size=(60_000, 3)))
    e = _err(gr.ArgumentError, big, big, k=10**9)
    assert "memory" in str(e)
    e = _err(gr.ArgumentError, big, big, radius=1e9, output="edge_index")
    assert "memory" in str(e)


def test_errors_dim_out_of_range():
    x = gr.array([[0.0], [1.0]])
    e = _err(gr.ArgumentError, x, x, k=1, dim=1)
    assert "dim" in str(e)
    _err(gr.ArgumentError, x, x, k=1, dim=-3)
    _err(gr.ArgumentError, gr.array([1.0, 2.0]), gr.array([1.0, 2.0]), k=1)
    g = gr.array([[[0.0]], [[1.0]]])
    _err(gr.ShapeError, g, g, k=1, dim=0)


def test_errors_bad_coordinates():
    good = gr.array([[0.0, 1.0], [1.0, 1.0]])
    for bad in ([[0.0, float("nan")]], [[float("inf"), 0.0]], [[0.0, -float("inf")]]):
        e = _err(ValueError, gr.array(bad), good, k=1)
        assert isinstance(e, gr.GrumpyError)
    _err(gr.ArgumentError, gr.array([[0.0, 1.0], [2.0]]), good, k=1)
    _err(gr.ArgumentError, gr.array([[0.0, 1.0, 2.0]]), good, k=1)
    _err(gr.ArgumentError, gr.array([[0.0, None]]), good, k=1)
    _err(gr.ArgumentError, gr.array([[[0.0, 1.0]], None]), gr.array([[[0.0, 1.0]], []]), k=1, dim=1)
    _err(gr.DTypeError, gr.array([["a"]]), gr.array([["b"]]), k=1)


def test_errors_mismatched_groups():
    a = gr.array([[[0.0]], [[1.0]]])
    b = gr.array([[[0.0]]])
    e = _err(gr.ShapeError, a, b, k=1, dim=1)
    assert "groups" in str(e)
    c = gr.array([[[[0.0]]], [[[1.0]], [[2.0]]]])
    d = gr.array([[[[0.0]], [[3.0]]], [[[1.0]]]])
    _err(gr.ShapeError, c, d, k=1, dim=2)
    _err(gr.ShapeError, gr.array([[0.0]]), a, k=1, dim=-2)
