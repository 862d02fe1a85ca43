"""gr.save(iterable) gathers consecutive batches of one form in memory (up to 32 MiB) and
writes them as one append, so a stream of small batches produces the same store as saving the
concatenation at once (same chunking, same sharding), instead of rewriting the store's last
chunk once per batch. Batches of another form (nulls appear, dtype changes) start a new group."""

import json

import grumpy as gr
import pytest


def array_codecs(path):
    out = {}
    for meta in path.rglob("zarr.json"):
        doc = json.loads(meta.read_text())
        if doc.get("node_type") == "array":
            name = meta.parent.relative_to(path).as_posix()
            out[name] = ([c["name"] for c in doc["codecs"]], doc["chunk_grid"])
    return out


def test_small_batches_make_the_one_shot_store(tmp_path):
    rows = [[float(i), float(i) / 2] * (i % 3) for i in range(300)]
    gr.save((gr.array([r]) for r in rows), tmp_path / "it", chunk_size=2)
    gr.save(gr.array(rows), tmp_path / "once", chunk_size=2)
    assert gr.load(tmp_path / "it").to_list() == rows
    it, once = array_codecs(tmp_path / "it"), array_codecs(tmp_path / "once")
    assert it == once
    # 150 chunks > 64: written as shards, as the one-shot save does
    assert any("sharding_indexed" in c for c, _ in it.values())


def test_forms_changing_midway(tmp_path):
    batches = [
        gr.array([[1.0, 2.0], [3.0]]),
        gr.array([[4.0]]),
        gr.array([None, [5.0]]),  # nulls: a masked form
        gr.array([[6.0, 7.0]]),
        gr.array([[8.0], None]),
    ]
    want = [r for b in batches for r in b.to_list()]
    gr.save(iter(batches), tmp_path / "s")
    assert gr.load(tmp_path / "s").to_list() == want


def test_frames_are_gathered_too(tmp_path):
    def frames():
        for i in range(50):
            yield gr.dataframe(
                {"name": [f"m{i}"], "x": [[float(i)] * (i % 4 + 1)]}, schema=["mol", "res"]
            )

    gr.save(frames(), tmp_path / "f")
    got = gr.load(tmp_path / "f")
    assert got["x"].to_list() == [[float(i)] * (i % 4 + 1) for i in range(50)]
    assert got["name"].to_list() == [f"m{i}" for i in range(50)]


def test_a_mismatching_batch_is_still_refused(tmp_path):
    def bad():
        yield gr.array([[1.0, 2.0]])
        yield gr.array([["a", "b"]])

    with pytest.raises(gr.GrumpyError):
        gr.save(bad(), tmp_path / "s")
    assert not (tmp_path / "s").exists()
