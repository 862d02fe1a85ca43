"""Operations on row slices touch only the slice (DESIGN.md "zero copy", API.md "Elementwise",
"Reductions", "Streaming").

A slice `x[a:b]` shares its parent's buffers. Elementwise ops, unary functions, where/clip,
reductions and compiled plans on it must compute (and allocate) only the slice's values: the
result's offsets start at 0 and its leaf buffer holds exactly the slice's values, and the
cost does not grow with the parent (checked against the same op on the whole parent, which
is at least 30× bigger than any slice here; the slice must be 10× faster).
"""

from __future__ import annotations

import time

import grumpy as gr
import numpy as np
import pytest

ROWS, WIDTH = 60, 20_000  # parent: 1.2 M float64 values; a one-row slice: 20 k


@pytest.fixture(scope="module")
def big():
    flat = np.arange(ROWS * WIDTH, dtype=np.float64) / 1000.0
    return flat, gr.from_offsets(flat, np.arange(0, ROWS * WIDTH + 1, WIDTH))


@pytest.fixture(scope="module")
def big_union():
    # 200 rows: every third a scalar row, the others 5000-value list rows
    return gr.array([float(i) if i % 3 == 0 else [float(i)] * 5000 for i in range(200)])


def best(fn, repeat=5):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def own_rows(r, n_values):
    """`r` holds exactly its own rows: offsets start at 0 and end at its value count."""
    off = r.offsets(0)
    assert off[0] == 0 and off[-1] == n_values
    assert r.values.size == n_values == r.size


CASES = {
    "mul": lambda v: v * 2.0,
    "radd": lambda v: 1.0 + v,
    "neg": lambda v: -v,
    "abs": abs,
    "sqrt": gr.sqrt,
    "exp": gr.exp,
    "cmp": lambda v: v > 10.0,
    "self": lambda v: v + v,
    "where": lambda v: gr.where(v > 10.0, v, 0.0),
    "clip": lambda v: gr.clip(v, 1.0, 20.0),
    "maximum": lambda v: gr.maximum(v, 3.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_elementwise_on_a_slice_maps_only_the_slice(big, name):
    flat, x = big
    op = CASES[name]
    s = x[7:8]
    r = op(s)
    own_rows(r, WIDTH)
    want = op(gr.array(flat[7 * WIDTH : 8 * WIDTH].reshape(1, WIDTH)))
    np.testing.assert_array_equal(np.asarray(r.values), np.asarray(want.values))
    assert best(lambda: op(s)) * 10 < best(lambda: op(x), repeat=2)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "count"])
def test_reductions_on_a_slice_read_only_the_slice(big, big_union, op):
    flat, x = big
    s = x[7:9]
    got = getattr(s, op)(dim=1).to_list()
    want = getattr(np, {"count": "size"}.get(op, op))
    rows = flat[7 * WIDTH : 9 * WIDTH].reshape(2, WIDTH)
    ref = [rows[0].size, rows[1].size] if op == "count" else list(want(rows, axis=1))
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    u = big_union[3:5]  # a scalar row and a 5000-value list row
    assert getattr(u, op)(dim=1).to_list() == getattr(gr.array(u.to_list()), op)(dim=1).to_list()
    assert best(lambda: getattr(u, op)(dim=1)) * 10 < best(
        lambda: getattr(big_union, op)(dim=1), repeat=2
    )


def test_union_slice_elementwise_holds_only_its_values(big_union):
    u = big_union[3:5]
    r = u * 2.0
    assert r.to_list() == [6.0, [8.0] * 5000]
    assert r.values.size == 5001
    assert (u + u).values.size == 5001
    # `.values` computes the results (a large float result is otherwise left pending)
    assert best(lambda: (u * 2.0).values) * 10 < best(lambda: (big_union * 2.0).values, repeat=2)


def test_compiled_plan_on_a_slice(big):
    flat, x = big

    @gr.compile
    def f(batch):
        return batch * 2.0 + 1.0

    @gr.compile
    def g(batch):
        return (batch * 2.0 + 1.0).mean(dim=1)

    @gr.compile
    def h(batch):
        return gr.sqrt(batch * 0.5) - 1.0

    assert f.is_compiled and g.is_compiled and h.is_compiled
    s = x[11:12]
    r = f.plan.run(s)
    own_rows(r, WIDTH)
    np.testing.assert_array_equal(np.asarray(r.values), flat[11 * WIDTH : 12 * WIDTH] * 2.0 + 1.0)
    r = h.plan.run(s)
    own_rows(r, WIDTH)
    assert r.to_list() == h.fn(s).to_list()
    assert g.plan.run(s).to_list() == g.fn(s).to_list()
    for fn in (f, g, h):
        assert best(lambda fn=fn: fn.plan.run(s)) * 10 < best(
            lambda fn=fn: fn.plan.run(x), repeat=2
        )


def test_stream_batches_of_a_big_array_cost_their_own_size(big):
    flat, x = big

    @gr.compile
    def f(batch):
        return batch * 2.0 + 1.0

    out = list(gr.stream(x[:6], batch_size=1).apply(f))
    assert len(out) == 6
    for i, r in enumerate(out):
        own_rows(r, WIDTH)
        np.testing.assert_array_equal(
            np.asarray(r.values), flat[i * WIDTH : (i + 1) * WIDTH] * 2.0 + 1.0
        )
