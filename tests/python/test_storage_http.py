"""Stores read over HTTP: a saved store served by a local `http.server` in a thread reads the
same through its URL as from disk (gr.load, gr.open slices, fancy rows, dataframes, sharded
buffers), with servers that ignore `Range` and servers that honour it; reads through
gr.open(url) fetch only the chunks a selection needs."""

from __future__ import annotations

import functools
import http.server
import os
import re
import socket
import threading
import time
from typing import ClassVar

import grumpy as gr
import pytest
from grumpy import _core

HAS_HTTP = "http" in _core.features()
needs_http = pytest.mark.skipif(not HAS_HTTP, reason="this build has no `http` feature")


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single `Range: bytes=` requests answered 206 (like nginx/S3)."""

    log: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).log.append((self.path, self.headers.get("Range") or ""))
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().do_GET()
        with open(path, "rb") as f:
            data = f.read()
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng)
        if m is None or m.group(1) == m.group(2) == "":
            self.send_error(416)
            return
        if m.group(1) == "":
            a, b = max(0, len(data) - int(m.group(2))), len(data)
        else:
            a = int(m.group(1))
            b = len(data) if m.group(2) == "" else min(len(data), int(m.group(2)) + 1)
        self.send_response(206)
        self.send_header("Content-Length", str(b - a))
        self.send_header("Content-Range", f"bytes {a}-{b - 1}/{len(data)}")
        self.end_headers()
        self.wfile.write(data[a:b])

    def do_HEAD(self):
        type(self).log.append((self.path, "HEAD"))
        return super().do_HEAD()


class PlainHandler(RangeHandler):
    """Ignores `Range` (python -m http.server): always 200 with the whole file."""

    log: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self):
        type(self).log.append((self.path, self.headers.get("Range") or ""))
        return http.server.SimpleHTTPRequestHandler.do_GET(self)


@pytest.fixture(params=[PlainHandler, RangeHandler], ids=["no-range", "range"])
def served(tmp_path, request):
    handler = request.param
    handler.log = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path))
    )
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _rows(n):
    # ragged float rows with nulls and empty rows; independent of grumpy
    return [None if i % 11 == 5 else [float(i * 3 + k) for k in range(i % 4)] for i in range(n)]


@needs_http
def test_load_and_open_over_http(served):
    root, base, _ = served
    rows = _rows(300)
    gr.save(gr.array(rows), root / "s.zarr", chunk_size=7)
    url = f"{base}/s.zarr"
    assert gr.load(url).to_list() == rows
    assert gr.load(url).to_list() == gr.load(root / "s.zarr").to_list()
    s = gr.open(url)
    assert len(s) == 300
    for a, b in [(0, 1), (5, 40), (290, 300), (100, 100), (0, 300)]:
        assert s[a:b].to_list() == rows[a:b]
    assert s[7].to_list() == rows[7]
    assert s[[299, 3, 3, 150]].to_list() == [rows[i] for i in (299, 3, 3, 150)]
    assert s.info()["rows"] == 300


@needs_http
def test_strings_and_dataframes_over_http(served):
    root, base, _ = served
    words = [["ala", "gly"], [], ["sér", None, "lys"]]
    gr.save(gr.array(words), root / "w.zarr")
    assert gr.load(f"{base}/w.zarr").to_list() == words
    df = gr.dataframe({"x": [[1.0, 2.0], [3.0]], "name": ["a", "b"]}, schema=["protein", "residue"])
    gr.save(df, root / "df.zarr")
    back = gr.load(f"{base}/df.zarr")
    assert back["x"].to_list() == [[1.0, 2.0], [3.0]]
    assert back["name"].to_list() == ["a", "b"]
    assert gr.open(f"{base}/df.zarr")[1:2]["x"].to_list() == [[3.0]]


@needs_http
def test_sharded_store_over_http(served):
    root, base, _ = served
    rows = _rows(2000)
    gr.save(gr.array(rows), root / "sh.zarr", chunk_size=1)  # 2000 chunks → shards
    assert "sharding_indexed" in (root / "sh.zarr" / "node0-offsets" / "zarr.json").read_text()
    s = gr.open(f"{base}/sh.zarr")
    for a, b in [(0, 3), (60, 70), (1990, 2000)]:
        assert s[a:b].to_list() == rows[a:b]
    assert gr.load(f"{base}/sh.zarr").to_list() == rows


@needs_http
def test_open_reads_only_the_chunks_it_needs(served):
    root, base, handler = served
    rows = _rows(400)
    gr.save(gr.array(rows), root / "lazy.zarr", chunk_size=10)
    s = gr.open(f"{base}/lazy.zarr")
    handler.log.clear()
    assert s[0:5].to_list() == rows[:5]
    chunk_gets = [p for p, _ in handler.log if "/c/" in p]
    assert chunk_gets, "the slice read no chunk"
    # one chunk of offsets (rows 0..5 fit in chunk 0) and the leaf chunks they cover
    assert all(p.endswith(("/c/0", "/c/1")) for p in chunk_gets), chunk_gets
    assert len(chunk_gets) < 10


@needs_http
def test_http_errors(served):
    root, base, _ = served
    with pytest.raises(gr.StoreError):
        gr.load(f"{base}/missing.zarr")
    with pytest.raises(gr.StoreError):
        gr.open(f"{base}/missing.zarr")
    gr.save(gr.array([[1.0], [2.0, 3.0]]), root / "s.zarr", chunk_size=1)
    os.remove(root / "s.zarr" / "node1-data" / "c" / "1")
    with pytest.raises(gr.StoreError):
        gr.load(f"{base}/s.zarr")
    with pytest.raises(gr.Unsupported):
        gr.save(gr.array([1.0]), f"{base}/new.zarr")
    with pytest.raises(gr.StoreError):
        gr.load("http://127.0.0.1:9/nothing-listens-here.zarr")


class FailingHandler(RangeHandler):
    """Answers `status` to every GET and HEAD of a path containing `match` (else serves files)."""

    status = 500
    match = ""

    def _fail(self):
        if self.match in self.path:
            self.send_error(self.status)
            return True
        return False

    def do_GET(self):
        if not self._fail():
            super().do_GET()

    def do_HEAD(self):
        if not self._fail():
            super().do_HEAD()


def serve(root, handler):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@needs_http
@pytest.mark.parametrize("status", [500, 403, 503])
@pytest.mark.parametrize("where", ["", "/c/"], ids=["everything", "chunks"])
def test_http_error_statuses_are_store_errors(tmp_path, status, where):
    rows = _rows(50)
    gr.save(gr.array(rows), tmp_path / "s.zarr", chunk_size=10)
    handler = type("H", (FailingHandler,), {"status": status, "match": where})
    server, base = serve(tmp_path, handler)
    try:
        url = f"{base}/s.zarr"
        with pytest.raises(gr.StoreError) as e:
            gr.load(url)
        assert str(status) in str(e.value)
        if where:  # metadata reads fine, chunks fail (open already checks each last chunk)
            with pytest.raises(gr.StoreError):
                gr.open(url)[0:5]
            with pytest.raises(gr.StoreError):
                list(gr.stream(url, batch_size=10))
        else:
            with pytest.raises(gr.StoreError):
                gr.open(url)
    finally:
        server.shutdown()
        server.server_close()


@needs_http
def test_a_silent_server_is_a_store_error_not_a_hang(monkeypatch):
    """A server that accepts connections and never answers: the read fails after
    GRUMPY_HTTP_TIMEOUT seconds of silence."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        lsock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])  # keep it open, say nothing
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    monkeypatch.setenv("GRUMPY_HTTP_TIMEOUT", "0.5")
    url = f"http://127.0.0.1:{lsock.getsockname()[1]}/s.zarr"
    try:
        for fn in (gr.load, gr.open):
            t0 = time.monotonic()
            with pytest.raises(gr.StoreError) as e:
                fn(url)
            assert time.monotonic() - t0 < 10
            assert "timeout" in str(e.value).lower() or "timed out" in str(e.value).lower()
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        lsock.close()


class TruncatingHandler(RangeHandler):
    """Promises the whole file but closes the connection after a few bytes of a chunk."""

    def do_GET(self):
        path = self.translate_path(self.path)
        if "/c/" not in self.path or not os.path.isfile(path):
            return super().do_GET()
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:5])
        self.wfile.flush()
        self.close_connection = True


@needs_http
def test_a_connection_dropped_mid_body_is_a_store_error(tmp_path):
    rows = _rows(50)
    gr.save(gr.array(rows), tmp_path / "s.zarr", chunk_size=10, codec="none")
    server, base = serve(tmp_path, TruncatingHandler)
    try:
        with pytest.raises(gr.StoreError):
            gr.load(f"{base}/s.zarr")
        with pytest.raises(gr.StoreError):
            gr.open(f"{base}/s.zarr")[10:20]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(HAS_HTTP, reason="this build reads http URLs")
def test_without_the_feature_the_error_says_how_to_build_it():
    for fn in (gr.open, gr.load):
        with pytest.raises(gr.StoreError) as e:
            fn("http://127.0.0.1:9/p.zarr")
        assert "--features http" in e.value.fix
        assert "pip install" in e.value.fix


@pytest.mark.skipif("object-store" in _core.features(), reason="this build reads s3/gs URLs")
@pytest.mark.parametrize("url", ["s3://bucket/p.zarr", "gs://bucket/p.zarr"])
def test_object_store_urls_without_the_feature_say_how_to_build_it(url):
    for fn in (gr.open, gr.load):
        with pytest.raises(gr.StoreError) as e:
            fn(url)
        assert "--features object-store" in e.value.fix
        assert "object-store" in e.value.cause


def test_unknown_schemes_are_unsupported():
    with pytest.raises(gr.Unsupported):
        gr.load("ftp://127.0.0.1:9/p.zarr")


def test_features_lists_strings():
    f = _core.features()
    assert isinstance(f, list) and all(isinstance(x, str) for x in f)
    assert set(f) <= {"http", "object-store"}
