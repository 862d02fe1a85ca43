"""Assignment speed: grumpy `x[key] = value` against NumPy on the same number of floats.

Run with a release build: ``./scripts/dev-build --release`` then
``PYTHONPATH=python python benches/python/bench_setitem.py [n_values]``.
"""

from __future__ import annotations

import sys

import grumpy as gr
import numpy as np
from _common import QUICK, report, timeit


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else (3_000_000 if QUICK else 30_000_000)
    rng = np.random.default_rng(0)
    lens = rng.integers(5, 16, size=n // 10)
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    values = rng.standard_normal(int(offsets[-1]))
    x = gr.from_offsets(values.copy(), offsets)
    a = values.copy()  # NumPy reference: the same floats, flat
    rect = a[: (len(a) // 10) * 10].reshape(-1, 10).copy()
    xr = gr.array(rect.copy())
    mask = x > 0.5
    amask = a > 0.5
    small = gr.from_offsets(values[:1000].copy(), np.arange(0, 1001, 10))
    rows = []

    def case(name, ours, ref):
        t, r = timeit(ours, repeat=7), timeit(ref, repeat=7)
        rows.append(
            {"case": name, "seconds": t, "numpy_ms": round(r * 1e3, 3), "ratio": round(t / r, 2)}
        )

    def fill_all():
        x[:] = 0.0

    def np_fill_all():
        a[:] = 0.0

    case(f"x[:] = 0 ({len(a) / 1e6:.0f}M floats)", fill_all, np_fill_all)

    def first_col():
        x[:, 0] = 1.0

    def np_first_col():
        a[offsets[:-1]] = 1.0

    case(f"x[:, 0] = 1 ({len(lens) / 1e6:.0f}M ragged rows)", first_col, np_first_col)

    def rect_col():
        xr[:, 0] = 1.0

    def np_rect_col():
        rect[:, 0] = 1.0

    case("x[:, 0] = 1 (rectangular, 10 columns)", rect_col, np_rect_col)

    def masked():
        x[mask] = 2.0

    def np_masked():
        a[amask] = 2.0

    case("x[x > 0.5] = 2 (ragged mask)", masked, np_masked)

    def tail():
        x[len(lens) // 2 :] = 3.0

    def np_tail():
        a[offsets[len(lens) // 2] :] = 3.0

    case("x[n // 2:] = 3", tail, np_tail)

    y = gr.from_offsets(values.copy(), offsets)

    def copy_same_shape():
        x[:] = y

    def np_copy_same_shape():
        a[:] = values

    case("x[:] = y (same shape)", copy_same_shape, np_copy_same_shape)

    def one_element():
        small[3, 4] = 1.5

    def np_one_element():
        a[34] = 1.5

    case("x[3, 4] = 1.5 (1000 values; per-call overhead)", one_element, np_one_element)
    report("setitem", rows)


if __name__ == "__main__":
    main()
