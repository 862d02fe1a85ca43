"""Corrupt and hostile stores: every damaged or malicious store is a StoreError, never wrong data,
another exception type, a crash or a giant allocation (see docs/reliability.md)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import grumpy as gr
import numpy as np
import pytest
from helpers import python_script, rewrite_buffer, run_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROWS = [[1.0, 2.0], [3.0], [], [4.0, 5.0, 6.0]]


def make(tmp_path, rows=ROWS, name="s.zarr", **kw):
    p = tmp_path / name
    gr.save(gr.array(rows), p, **kw)
    return p


def chunk_files(p):
    out = []
    for root, _dirs, files in os.walk(p):
        for f in files:
            if f != "zarr.json":
                out.append(Path(root) / f)
    return sorted(out)


def load_or_store_error(p):
    """Load the store; return the rows or None for a StoreError (anything else propagates)."""
    try:
        return gr.load(p).to_list()
    except gr.StoreError:
        return None


def edit_json(path, mutate):
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))


# --- codecs and checksums ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["zstd", "gzip", "none"])
def test_every_buffer_is_checksummed(tmp_path, codec):
    p = make(tmp_path, codec=codec)
    for arr in ("node0-offsets", "node1-data"):
        codecs = json.loads((p / arr / "zarr.json").read_text())["codecs"]
        names = [c["name"] for c in codecs]
        assert names[0] == "bytes" and names[-1] == "crc32c", names


@pytest.mark.parametrize("codec", ["zstd", "none", "blosc"])
def test_every_flipped_byte_is_detected(tmp_path, codec):
    p = make(tmp_path, codec=codec, chunk_size=2)
    for f in chunk_files(p):
        good = f.read_bytes()
        for i in range(len(good)):
            bad = bytearray(good)
            bad[i] ^= 0x5A
            f.write_bytes(bytes(bad))
            with pytest.raises(gr.StoreError):
                gr.load(p)
        f.write_bytes(good)
    assert gr.load(p).to_list() == ROWS


def test_truncated_and_emptied_chunks(tmp_path):
    p = make(tmp_path, chunk_size=2)
    for f in chunk_files(p):
        good = f.read_bytes()
        for cut in (0, 1, 4, len(good) // 2, len(good) - 1):
            f.write_bytes(good[:cut])
            with pytest.raises(gr.StoreError):
                gr.load(p)
            with pytest.raises(gr.StoreError):
                r = gr.open(p)
                r[0 : len(r)]
        f.write_bytes(good)
    assert gr.load(p).to_list() == ROWS


def test_chunk_replaced_by_another_valid_chunk(tmp_path):
    # a checksummed chunk from elsewhere passes the checksum: it must still never be read as
    # data of the wrong shape; a same-shape chunk is indistinguishable (documented)
    p = make(tmp_path, chunk_size=2)
    q = make(tmp_path, rows=[[1.0] * 50], name="q.zarr", chunk_size=1)
    os.replace(q / "node1-data" / "c" / "0", p / "node1-data" / "c" / "0")
    with pytest.raises(gr.StoreError):
        gr.load(p)


# --- offsets, tags and index -------------------------------------------------------------------


@pytest.mark.parametrize(
    "offsets",
    [
        [0, 2, 1, 3, 6],  # decreasing
        [0, 2, 3, 3, 7],  # past the data
        [0, -1, 3, 3, 6],  # negative
        [0, 2, 3, 3, 5],  # short of the data
        [1, 2, 3, 3, 6],  # does not start at 0
        [0, 2**62, 3, 3, 6],  # huge
        [0, 2, 3, 3, -(2**63)],  # most negative
    ],
)
def test_bad_offsets(tmp_path, offsets):
    p = make(tmp_path)
    rewrite_buffer(p, "node0-offsets", offsets)
    with pytest.raises(gr.StoreError):
        gr.load(p)
    r = gr.open(p)
    for a in range(len(ROWS)):
        for b in range(a, len(ROWS) + 1):
            try:
                got = r[a:b].to_list()
            except gr.StoreError:
                continue
            # a lazy read checks only the offsets it touches (monotonic, inside the data): a
            # range that does not see the damage reads a well-formed array of its rows
            assert len(got) == b - a
            assert all(isinstance(row, list) for row in got)


def test_regular_offsets_going_down_are_refused(tmp_path):
    # Offsets of fixed-size rows take a fast path (their step is known once per chunk): a buffer
    # that is regular but descending must still be refused wherever a read starts. (Without
    # the grumpy.regular record, as in a store whose level stopped being regular.)
    x = gr.array([[[1.0, 2.0, 3.0]] * 2, [[4.0, 5.0, 6.0]] * 3])
    p = tmp_path / "reg.zarr"
    gr.save(x, p)
    edit_json(p / "zarr.json", lambda d: d["attributes"]["grumpy"].pop("regular"))
    rewrite_buffer(p, "node1-offsets", [15, 12, 9, 6, 3, 0])
    with pytest.raises(gr.StoreError):
        gr.load(p)
    r = gr.open(p)
    for a in range(2):
        with pytest.raises(gr.StoreError):
            r[a : a + 1].to_list()


@pytest.mark.parametrize("chunk_size", [1, 3, 7, None])
def test_fixed_size_rows_read_in_any_window(tmp_path, chunk_size):
    # xyz-like rows: the regular offsets of every window are rebuilt without reading them twice;
    # every window of every batch size equals the NumPy slices of the same data
    rng = np.random.default_rng(1)
    lens = rng.integers(0, 6, size=23)
    data = rng.normal(size=(int(lens.sum()), 3))
    offsets = np.concatenate([[0], np.cumsum(lens)])
    p = tmp_path / "xyz.zarr"
    gr.save(gr.from_offsets(data, offsets), p, chunk_size=chunk_size)
    want = [data[offsets[i] : offsets[i + 1]].tolist() for i in range(len(lens))]
    r = gr.open(p)
    for bs in (1, 4, 9):
        for a in range(0, len(lens), bs):
            assert r[a : a + bs].to_list() == want[a : a + bs]
    for bs in (2, 5):
        got = [row for b in gr.stream(p, batch_size=bs) for row in b.to_list()]
        assert got == want


def _nested_rows(rng, n):
    """n rows of lists of float lists (a depth-2 store: outer and inner offsets)."""
    return [
        [
            [float(rng.randrange(100)) for _ in range(rng.randrange(4))]
            for _ in range(rng.randrange(4))
        ]
        for _ in range(n)
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 2**32 - 1),
    level=st.sampled_from(["node0-offsets", "node1-offsets"]),
    bad=st.lists(st.tuples(st.floats(0, 1), st.sampled_from([-1, 2**62])), min_size=1, max_size=4),
    windows=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12)), min_size=4, max_size=12),
)
def test_lazy_reads_validate_the_offsets_window_they_use(
    tmp_path_factory, seed, level, bad, windows
):
    # Corrupt offsets somewhere; every lazy read r[a:b] / r[i] that touches a corrupt offset is
    # a StoreError and every read that does not gives exactly its rows (pure-Python model).
    import random

    rng = random.Random(seed)
    rows = _nested_rows(rng, 60)
    p = tmp_path_factory.mktemp("window") / "s.zarr"
    gr.save(gr.array(rows), p, chunk_size=8)  # offsets span several chunks
    outer = [0]
    for r in rows:
        outer.append(outer[-1] + len(r))
    inner = [0]
    for r in rows:
        for lst in r:
            inner.append(inner[-1] + len(lst))
    good = outer if level == "node0-offsets" else inner
    offsets = list(good)
    corrupt = set()
    for pos, value in bad:
        k = min(int(pos * len(offsets)), len(offsets) - 1)
        offsets[k] = value
        corrupt.add(k)
    rewrite_buffer(p, level, offsets)
    r = gr.open(p)

    def touched(a, b):
        # the offsets positions a read of rows [a, b) uses at the corrupted level
        lo, hi = (a, b) if level == "node0-offsets" else (outer[a], outer[b])
        return any(lo <= k <= hi for k in corrupt)

    reads = [(a, min(a + w, len(rows))) for a, w in ((int(x * len(rows)), w) for x, w in windows)]
    reads += [(k, k + 1) for k in range(len(rows))]
    for a, b in reads:
        if touched(a, b):
            with pytest.raises(gr.StoreError):
                r[a:b] if b - a != 1 else r[a]
        else:
            got = r[a:b].to_list() if b - a != 1 else [r[a].to_list()]
            assert got == rows[a:b], (a, b)


@pytest.mark.parametrize("which", ["tags", "index"])
def test_bad_union_entries(tmp_path, which):
    rows = [1, [2, 3], 4, [5]]
    p = make(tmp_path, rows=rows)
    bad = {"tags": [0, 7, 0, 1], "index": [0, 0, 99, 1]}[which]
    rewrite_buffer(p, f"node0-{which}", bad)
    with pytest.raises(gr.StoreError):
        gr.load(p)
    rewrite_buffer(p, "node0-index", [0, -5, 1, 1])
    with pytest.raises(gr.StoreError):
        gr.load(p)


# --- huge declared lengths ---------------------------------------------------------------------

HUGE = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, {pydir!r})
    import grumpy as gr
    t = time.perf_counter()
    try:
        gr.load(sys.argv[1])
        out = "loaded"
    except gr.StoreError as e:
        out = "StoreError"
    except BaseException as e:
        out = type(e).__name__ + ": " + str(e)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({{"out": out, "secs": time.perf_counter() - t, "rss_mb": rss}}))
    """
)


def run_huge(tmp_path, p):
    script = python_script(tmp_path / "huge.py", HUGE)
    proc = run_python(script, p, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def baseline_rss(tmp_path):
    return run_huge(tmp_path, make(tmp_path, name="base.zarr"))["rss_mb"]


@pytest.mark.parametrize("target", ["data-shape", "offsets", "chunk-shape", "length-only"])
def test_huge_declared_lengths_fail_fast(tmp_path, target):
    n = 10**15
    p = make(tmp_path)
    root = p / "zarr.json"
    if target in ("data-shape", "chunk-shape"):

        def grow(d):
            d["shape"] = [n]
            if target == "chunk-shape":
                d["chunk_grid"]["configuration"]["chunk_shape"] = [n]

        edit_json(p / "node1-data" / "zarr.json", grow)
        edit_json(
            root,
            lambda d: d["attributes"]["grumpy"]["buffers"].__setitem__("node1-data", n),
        )
        # keep the offsets consistent with the declared data length
        edit_json(p / "node0-offsets" / "zarr.json", lambda d: None)
    elif target == "offsets":
        edit_json(p / "node0-offsets" / "zarr.json", lambda d: d.__setitem__("shape", [n + 1]))

        def rows(d):
            a = d["attributes"]
            a["length"] = a["grumpy"]["length"] = n
            a["grumpy"]["buffers"]["node0-offsets"] = n + 1

        edit_json(root, rows)
    else:

        def rows(d):
            a = d["attributes"]
            a["length"] = a["grumpy"]["length"] = n

        edit_json(root, rows)
    got = run_huge(tmp_path, p)
    assert got["out"] == "StoreError", got
    assert got["secs"] < 5, got
    assert got["rss_mb"] < baseline_rss(tmp_path) + 100, got


# --- paths escaping the store ------------------------------------------------------------------


def frame_store(tmp_path):
    df = gr.dataframe({"x": gr.array([[1, 2], [3]])}, schema=["mol", "atom"])
    p = tmp_path / "f.zarr"
    gr.save(df, p)
    return p


@pytest.mark.parametrize("name", ["..", "../outside", "x/../../y", "/abs", "", "."])
def test_column_names_escaping_the_store(tmp_path, name):
    p = frame_store(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    root = p / "zarr.json"
    text = root.read_text()

    def rename(d):
        g = d["attributes"]["grumpy"]
        old = g["columns"][0]["name"]
        g["columns"][0]["name"] = name
        g["buffers"] = {
            (k.replace(old + "/", name + "/", 1) if k.startswith(old + "/") else k): v
            for k, v in g["buffers"].items()
        }

    edit_json(root, rename)
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.StoreError):
        gr.open(p)
    assert os.listdir(outside) == []
    root.write_text(text)
    assert load_or_store_error(p) is not None


@pytest.mark.parametrize(
    "key", ["../node1-data", "node1-data/../../x", "/node1-data", "node1-data/", "a//b"]
)
def test_buffer_names_escaping_the_store(tmp_path, key):
    p = make(tmp_path)

    def add(d):
        g = d["attributes"]["grumpy"]
        g["buffers"][key] = g["buffers"].pop("node1-data")

    edit_json(p / "zarr.json", add)
    with pytest.raises(gr.StoreError):
        gr.load(p)


@pytest.mark.parametrize(
    "form_key", ["../node1", "node1/../..", "node1/x", "node-1", "node99999999999999999999"]
)
def test_form_keys_escaping_the_store(tmp_path, form_key):
    p = make(tmp_path)
    edit_json(
        p / "zarr.json",
        lambda d: d["attributes"]["form"]["content"].__setitem__("form_key", form_key),
    )
    with pytest.raises(gr.StoreError):
        gr.load(p)


# --- symlinks ----------------------------------------------------------------------------------


def test_symlinked_chunk_pointing_outside_is_refused(tmp_path):
    p = make(tmp_path, chunk_size=2, codec="none")
    secret = tmp_path / "secret.bin"
    chunk = p / "node1-data" / "c" / "0"
    secret.write_bytes(chunk.read_bytes())  # a valid chunk: only the link gives it away
    chunk.unlink()
    os.symlink(secret, chunk)
    with pytest.raises(gr.StoreError) as e:
        gr.load(p)
    assert "symbolic link" in str(e.value)
    with pytest.raises(gr.StoreError):
        gr.open(p)[0:1]


def _outside_copy(tmp_path, sub):
    """A copy of `sub` of a store with the same layout and other values, outside `tmp_path/s.zarr`."""
    import shutil

    q = make(
        tmp_path, rows=[[10.0, 20.0], [30.0], [], [40.0, 50.0, 60.0]], name="q.zarr", chunk_size=2
    )
    out = tmp_path / "outside"
    shutil.copytree(q / sub, out)
    return out


def test_chunk_swapped_for_a_symlink_while_open_is_refused(tmp_path):
    # the reader is already open (metadata read, directories read through) when the chunk
    # becomes a link to a valid chunk outside the store
    p = make(tmp_path, chunk_size=2, codec="none")
    outside = _outside_copy(tmp_path, "node1-data/c")
    r = gr.open(p)
    assert r[0:1].to_list() == [[1.0, 2.0]]
    chunk = p / "node1-data" / "c" / "1"
    chunk.unlink()
    os.symlink(outside / "1", chunk)
    with pytest.raises(gr.StoreError) as e:
        r[1:4]
    assert "symbolic link" in str(e.value)


def test_directory_swapped_for_a_symlink_after_a_read_is_refused(tmp_path):
    # a directory the reader has already read through is replaced by a link to a directory
    # outside (with valid chunks of other values): the next chunk read is refused, or (the
    # direct reader of local chunks holds the directory it opened) the store's own chunks from
    # the moved directory; never data from outside
    p = make(tmp_path, chunk_size=2, codec="none")
    outside = _outside_copy(tmp_path, "node1-data/c")
    r = gr.open(p)
    assert r[0:1].to_list() == [[1.0, 2.0]]  # reads node1-data/c/0
    os.replace(p / "node1-data" / "c", tmp_path / "inside-c")
    os.symlink(outside, p / "node1-data" / "c")
    try:
        got = r[3:4].to_list()  # chunks c/1 and c/2, not cached
    except gr.StoreError as e:
        assert "symbolic link" in str(e)
    else:
        assert got == [ROWS[3]]
    # a reader opened after the swap sees the link and refuses it
    with pytest.raises(gr.StoreError) as e:
        gr.open(p)[3:4]
    assert "symbolic link" in str(e.value)


def test_symlinked_array_directory_is_refused(tmp_path):
    p = make(tmp_path)
    q = make(tmp_path, name="q.zarr")
    import shutil

    shutil.rmtree(p / "node1-data")
    os.symlink(q / "node1-data", p / "node1-data")
    with pytest.raises(gr.StoreError):
        gr.load(p)
    with pytest.raises(gr.StoreError):
        gr.append(gr.array([[9.0]]), p)
    assert gr.load(q).to_list() == ROWS  # nothing written through the link


def test_symlinked_chunk_directory_is_never_written_through(tmp_path):
    p = make(tmp_path)
    outside = tmp_path / "outside"
    os.replace(p / "node1-data" / "c", outside)
    os.symlink(outside, p / "node1-data" / "c")
    before = sorted(os.listdir(outside))
    with pytest.raises(gr.StoreError):
        gr.append(gr.array([[9.0]]), p)
    assert sorted(os.listdir(outside)) == before


def test_the_store_path_itself_may_be_a_symlink(tmp_path):
    p = make(tmp_path)
    link = tmp_path / "link.zarr"
    os.symlink(p, link)
    assert gr.load(link).to_list() == ROWS
    assert gr.open(link)[1:2].to_list() == [[3.0]]
    gr.append(gr.array([[7.0]]), link)
    assert gr.load(p).to_list() == [*ROWS, [7.0]]


# --- random metadata edits ---------------------------------------------------------------------

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


# GRUMPY_FUZZ_EXAMPLES=20000 turns this into a fuzz campaign through the Python binding
FUZZ_EXAMPLES = int(os.environ.get("GRUMPY_FUZZ_EXAMPLES", "60"))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_metadata_edits(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("meta")
    p = make(tmp, rows=[[1, None], [], [3]], chunk_size=1)
    files = [p / "zarr.json", p / "node0-offsets" / "zarr.json", p / "node1-data" / "zarr.json"]
    f = data.draw(st.sampled_from(files))
    doc = json.loads(f.read_text())
    paths = [q for q in _paths(doc) if q]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(JSON)
    node = doc
    for k in path[:-1]:
        node = node[k]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    f.write_text(json.dumps(doc))
    got = load_or_store_error(p)
    assert got in (None, [[1, None], [], [3]]), got
