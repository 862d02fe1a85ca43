"""Reads inside one stored chunk are views of the reader's decoded-chunk cache: writing to a
returned batch copies first (copy-on-write), NumPy exports of it are read-only, and later reads
(and other batches of a stream) still see the stored values."""

import grumpy as gr
import numpy as np
import pytest


@pytest.fixture
def store(tmp_path):
    rows = [[float(10 * i + j) for j in range(i % 4)] for i in range(200)]
    path = tmp_path / "s.zarr"
    gr.save(gr.array(rows), path, chunk_size=64)
    return path, rows


def test_writes_to_a_batch_never_reach_the_cache(store):
    path, rows = store
    s = gr.open(path)
    a = s[3:9]  # inside the first chunk
    assert a.to_list() == rows[3:9]
    a[2, 0] = -1.0
    a[a > 50.0] = 0.0
    assert a.to_list()[2][0] == -1.0
    assert s[3:9].to_list() == rows[3:9]
    assert s[:].to_list() == rows


def test_numpy_exports_of_cached_chunks_are_read_only(store):
    path, rows = store
    s = gr.open(path)
    v = s[5:7].values
    assert not v.flags.writeable
    with pytest.raises(ValueError):
        v[0] = 1.0
    assert s[5:7].to_list() == rows[5:7]


def test_stream_batches_sharing_a_chunk_stay_independent(store):
    path, rows = store
    st = gr.stream(path, batch_size=10)
    seen = []
    for b in st:
        seen.extend(b.to_list())
        if len(b) and len(b[0]):
            b[0, 0] = 12345.0  # mutate each batch after reading it
    assert seen == rows
    assert [r for b in st for r in b.to_list()] == rows
    # in-place arithmetic on a batch copies too
    b = st[0]
    b += 1.0
    assert st[0].to_list() == rows[:10]
    np.testing.assert_equal(gr.load(path).to_list(), rows)
