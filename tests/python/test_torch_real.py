"""grumpy.torch against real PyTorch (skipped when torch is not installed; CI installs it):
DataLoader worker processes and ranks over a store, resume mid-epoch, padded and jagged
tensors checked against a pure-Python model, memory shared with the batch buffers."""

import grumpy as gr
import grumpy.torch as gt
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def ragged_rows(n, seed=0):
    """Rows of 1..5 xyz points; the first x of row i is i (rows are distinguishable)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        pts = [[float(v) for v in rng.normal(size=3)] for _ in range(rng.integers(1, 6))]
        pts[0][0] = float(i)
        rows.append(pts)
    return rows


@pytest.fixture
def store(tmp_path):
    rows = ragged_rows(57)
    path = tmp_path / "s.gr"
    gr.save(gr.array(rows), path, chunk_size=8)
    return path, rows


def batches_of(stream):
    return [b.to_list() for b in stream]


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_dataloader_workers_yield_the_stream_order(store, workers):
    path, rows = store
    st = gr.stream(path, batch_size=4, shuffle=True, seed=3)
    want = batches_of(st)
    dl = torch.utils.data.DataLoader(gt.StreamDataset(st), batch_size=None, num_workers=workers)
    got = [b.to_list() for b in dl]
    assert got == want
    flat = sorted(map(repr, (r for b in got for r in b)))
    assert flat == sorted(map(repr, rows)), "every row exactly once"


def test_ranks_share_an_epoch_disjointly(store):
    path, rows = store
    per_rank = []
    for rank in range(2):
        st = gr.stream(path, batch_size=4, shuffle=True, seed=5, world_size=2, rank=rank)
        dl = torch.utils.data.DataLoader(gt.StreamDataset(st), batch_size=None, num_workers=2)
        per_rank.append([b.to_list() for b in dl])
    assert len(per_rank[0]) == len(per_rank[1])
    ids = [[r[0][0] for b in got for r in b] for got in per_rank]
    assert not set(ids[0]) & set(ids[1]), "no row on both ranks"
    for got in per_rank:
        assert all(r == rows[int(r[0][0])] for b in got for r in b)


def test_set_epoch_reshuffles_and_resume_continues(store):
    path, _ = store
    ds = gt.StreamDataset(gr.stream(path, batch_size=4, shuffle=True, seed=11))
    ds.set_epoch(0)
    e0 = [b.to_list() for b in torch.utils.data.DataLoader(ds, batch_size=None)]
    ds.set_epoch(1)
    e1 = [b.to_list() for b in torch.utils.data.DataLoader(ds, batch_size=None)]
    assert e0 != e1 and sorted(map(repr, e0)) == sorted(map(repr, e1))
    ds.set_epoch(1)
    it = iter(torch.utils.data.DataLoader(ds, batch_size=None))
    head = [next(it).to_list() for _ in range(5)]
    state = ds.state_dict()
    again = gt.StreamDataset(gr.stream(path, batch_size=4, shuffle=True, seed=11))
    again.load_state_dict(state)
    tail = [b.to_list() for b in torch.utils.data.DataLoader(again, batch_size=None, num_workers=2)]
    assert head + tail == e1


def test_padded_tensors_match_the_model():
    rows = [[1.0, 2.0], [], [3.0, 4.0, 5.0]]
    t, m = gt.to_padded(gr.array(rows), pad=-1)
    assert t.dtype == torch.float64 and m.dtype == torch.bool
    assert t.tolist() == [[1.0, 2.0, -1.0], [-1.0, -1.0, -1.0], [3.0, 4.0, 5.0]]
    assert m.tolist() == [[True, True, False], [False, False, False], [True, True, True]]
    out = gt.collate_padded(gr.array(rows, dtype=gr.float32))
    assert out["values"].dtype == torch.float32 and out["mask"].sum().item() == 5


def test_nested_tensor_is_jagged_and_shares_memory():
    rows = ragged_rows(9, seed=2)
    x = gr.array(rows)
    nt = gt.to_nested(x)
    assert nt.is_nested and nt.layout == torch.jagged
    parts = nt.unbind()
    assert [p.tolist() for p in parts] == rows
    values = nt.values()
    assert values.data_ptr() == np.asarray(x.values).ctypes.data, "no copy of the leaf buffer"
    assert gt.collate_nested(x).unbind()[3].tolist() == rows[3]


def test_rectangular_batch_tensor_shares_memory():
    x = gr.array(np.arange(12.0).reshape(4, 3))
    t = x.to_torch()
    assert t.shape == (4, 3) and t.tolist() == np.arange(12.0).reshape(4, 3).tolist()
    assert t.data_ptr() == np.asarray(x.values).ctypes.data


def test_frame_batches_need_a_column(tmp_path):
    df = gr.dataframe({"x": [[1.0], [2.0, 3.0]]}, schema=["mol", "res"])
    with pytest.raises(gr.ArgumentError):
        gt.to_padded(df)
    assert gt.to_padded(df["x"])[0].tolist() == [[1.0, 0.0], [2.0, 3.0]]
