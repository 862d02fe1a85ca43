"""Nested (ragged) indices: Awkward's jagged selection inside rows (API.md "Indexing").

``x[mask]`` with a bool array shaped like ``x`` (``x[x > 2]``) filters inside rows and keeps
the structure; a nested int array picks positions inside rows. A null flag selects nothing; a
null row stays null. Checked against a pure-Python model and against Awkward Array.
"""

from __future__ import annotations

import copy

import awkward as ak
import grumpy as gr
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st


class RefShape(ValueError):
    pass


def _resolve(i, n):
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(f"{i} out of range for {n}")
    return j


def ref_jagged(x, m, k, bools):
    """x[m] on nested lists, for an index `m` with `k` list levels (k >= 2) of bools (flags,
    None = not selected) or ints (positions)."""
    if len(x) != len(m):
        raise RefShape("outer length")
    out = []
    for xr, mr in zip(x, m):
        if xr is None or mr is None:
            out.append(None)
        elif k > 2:
            if len(xr) != len(mr):
                raise RefShape("structure")
            out.append(ref_jagged(xr, mr, k - 1, bools))
        elif bools:
            if len(mr) != len(xr):
                raise RefShape("mask length")
            out.append([e for e, f in zip(xr, mr) if f])
        else:
            out.append([xr[_resolve(i, len(xr))] for i in mr])
    return out


def ref_set_jagged(x, m, k, value, depth):
    """x[m] = scalar on nested lists with `depth` list levels (bool masks).

    An element at level L (rows are level 1) is a leaf when L == depth; a None above that is
    a null list, which holds nothing to assign."""

    def fill(e, level):  # e is a list whose elements are at `level`
        for j in range(len(e)):
            if isinstance(e[j], list):
                fill(e[j], level + 1)
            elif e[j] is None and level < depth:
                continue
            else:
                e[j] = value

    def walk(xs, ms, kk, level):  # xs's elements are at `level`
        for xr, mr in zip(xs, ms):
            if xr is None or mr is None:
                continue
            if kk > 2:
                walk(xr, mr, kk - 1, level + 1)
                continue
            for p, f in enumerate(mr):
                if not f:
                    continue
                if isinstance(xr[p], list):
                    fill(xr[p], level + 2)
                elif xr[p] is None and level + 1 < depth:
                    continue
                else:
                    xr[p] = value

    walk(x, m, k, 1)


ints = st.integers(-9, 9)


def nested(depth, null=True):
    leaf = st.one_of(ints, ints, st.none()) if null else ints
    if depth == 1:
        return st.lists(leaf, max_size=4)
    sub = nested(depth - 1, null)
    return st.lists(st.one_of(sub, sub, st.none()) if null else sub, max_size=3)


def mirror(x, k, flag):
    """An index for `x`: x's first k-1 list levels, then one flag (or index list) per row."""
    if x is None:
        return None
    if k == 2:
        return [flag(len(r)) if r is not None else None for r in x]
    return [mirror(r, k - 1, flag) for r in x]


@st.composite
def jagged_case(draw, null=True):
    depth = draw(st.integers(2, 4))
    data = draw(nested(depth, null))
    x = gr.array(data, dtype=gr.int64)
    assume(x.ndim == depth)
    k = draw(st.integers(2, depth))
    kind = draw(st.sampled_from(["bool", "bool", "int", "short"]))

    def flag(n):
        if kind == "int":
            return draw(st.lists(st.integers(-4, 4), max_size=3))
        flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if kind == "short" and flags:
            flags = flags[:-1]
        return flags

    m = mirror(data, k, flag)
    mx = gr.array(m, dtype=gr.int64 if kind == "int" else gr.bool_)
    assume(mx.ndim == k)
    return data, x, depth, m, mx, k, kind != "int"


def outcome(fn):
    try:
        return "ok", fn()
    except IndexError:
        return "IndexError", None
    except ValueError:
        return "ValueError", None


@settings(max_examples=200, deadline=None)
@given(jagged_case())
def test_jagged_getitem_matches_reference(case):
    data, x, _depth, m, mx, k, bools = case
    want = outcome(lambda: ref_jagged(data, m, k, bools))
    got = outcome(lambda: x[mx].to_list())
    assert got == want, (data, m)
    if k == 2 and any(r for r in m):  # nested Python lists work as keys too
        assert outcome(lambda: x[m].to_list()) == want


@settings(max_examples=200, deadline=None)
@given(jagged_case(), st.sampled_from([7, None]))
def test_jagged_setitem_matches_reference(case, value):
    data, x, depth, m, mx, k, bools = case
    assume(bools)  # int indices: covered by getitem; assignment uses the same selection
    try:
        ref_jagged(data, m, k, bools)
    except (IndexError, ValueError):
        with pytest.raises((IndexError, ValueError)):
            x[mx] = value
        assert x.to_list() == data
        return
    want = copy.deepcopy(data)
    ref_set_jagged(want, m, k, value, depth)
    before = x[:]
    x[mx] = value
    assert x.to_list() == want, (data, m)
    assert before.to_list() == data  # copy-on-write


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(-5, 5), min_size=1, max_size=4), min_size=1, max_size=5),
    st.data(),
)
def test_jagged_masks_agree_with_awkward(rows, data):
    mask = [data.draw(st.lists(st.booleans(), min_size=len(r), max_size=len(r))) for r in rows]
    picks = [data.draw(st.lists(st.integers(-len(r), len(r) - 1), max_size=3)) for r in rows]
    assume(any(picks))
    x = gr.array(rows)
    assert x[gr.array(mask)].to_list() == ak.Array(rows)[ak.Array(mask)].to_list()
    assert x[picks].to_list() == ak.Array(rows)[ak.Array(picks)].to_list()
    deep = [[r, r[::-1]] for r in rows]
    m3 = [[f, f[::-1]] for f in mask]
    want = ak.Array(deep)[ak.Array(m3)].to_list()
    assert gr.array(deep)[gr.array(m3)].to_list() == want
    m2 = [[True, False] for _ in rows]
    assert gr.array(deep)[m2].to_list() == ak.Array(deep)[ak.Array(m2)].to_list()


def test_jagged_examples():
    x = gr.array([[1, 2, 3], [], [4, 5], None, [6, None]])
    assert x[x > 2].to_list() == [[3], [], [4, 5], None, [6]]
    assert x[x > 2].layout == "list"
    x[x > 4] = 0
    assert x.to_list() == [[1, 2, 3], [], [4, 0], None, [0, None]]
    x[x == None] = -1
    assert x.to_list() == [[1, 2, 3], [], [4, 0], None, [0, -1]]
    assert x[[[0, -1], [], [1], None, [0]]].to_list() == [[1, 3], [], [0], None, [0]]
    y = gr.array([[[1, 2], [3]], [[4, 5, 6]]])
    assert y[y % 2 == 0].to_list() == [[[2], []], [[4, 6]]]
    assert y[[[True, False], [True]]].to_list() == [[[1, 2]], [[4, 5, 6]]]
    assert y[np.array([True, False])].to_list() == [[[1, 2], [3]]]
    r = gr.array(np.arange(6.0).reshape(2, 3))
    assert r[np.array([[True, False, True], [False, True, False]])].to_list() == [
        [0.0, 2.0],
        [4.0],
    ]
    with pytest.raises(gr.ShapeError, match="row 2 has 2"):
        x[[[True, True, True], [], [True], None, [True, True]]]
    with pytest.raises(gr.OutOfBoundsError, match="for row 2 \\(length 2\\)"):
        x[[[0], [], [5], None, []]]
    with pytest.raises(gr.Unsupported, match="whole key"):
        x[x > 2, 0]
    with pytest.raises(gr.ArgumentError):
        x[[[0.5], [], [], None, []]]
