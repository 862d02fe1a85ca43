"""gr.show_config() reports what is really installed, and grumpy.progress follows its rule
(a bar only with tqdm and a long loop, or when asked; never with progress=False)."""

from __future__ import annotations

import importlib.metadata
import io
import os
import sys
import time
import warnings
from typing import ClassVar

import grumpy as gr
import numpy as np
import pytest
from grumpy import _config, progress
from helpers import run_python


def installed(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def test_show_config_prints_versions_threads_and_peers():
    buf = io.StringIO()
    info = gr.show_config(file=buf)
    text = buf.getvalue()
    assert info["grumpy"] == gr.__version__
    assert info["core"] == gr._core.__version__
    assert info["numpy"] == np.__version__
    assert info["python"] == ".".join(map(str, sys.version_info[:3]))
    assert f"grumpy          {gr.__version__}" in text
    assert f"numpy           {np.__version__}" in text
    assert info["cpu_count"] == len(os.sched_getaffinity(0))
    assert isinstance(info["rayon_threads"], int) and info["rayon_threads"] >= 1
    # every peer line agrees with the package metadata, installed or not
    for name, dist in [("awkward", "awkward"), ("scipy", "scipy"), ("sklearn", "scikit-learn")]:
        assert info["peers"][name] == installed(dist)
        shown = text.split(f"\n{name}", 1)[1].splitlines()[0].strip()
        assert shown == (installed(dist) or "not installed")
    assert "cargo features" in text
    assert "rayon threads" in text


def test_show_config_does_not_import_the_peers():
    code = (
        "import sys, grumpy as gr; gr.show_config(file=None); "
        "print(sorted(m for m in ('torch', 'awkward', 'scipy', 'zarr', 'sklearn') "
        "if m in sys.modules))"
    )
    out = run_python("-c", code).stdout
    assert out.strip() == "[]"


def test_show_config_file_none_prints_nothing(capsys):
    info = gr.show_config(file=None)
    assert capsys.readouterr().out == ""
    assert set(info) >= {"grumpy", "core", "numpy", "peers", "cargo_features", "rayon_threads"}


def test_rayon_threads_follow_the_environment():
    code = "import grumpy as gr; print(gr.show_config(file=None)['rayon_threads'])"
    env = dict(os.environ, RAYON_NUM_THREADS="3")
    out = run_python("-c", code, env=env).stdout
    assert out.strip() == "3"


def test_cargo_features_fall_back_when_the_extension_does_not_report_them(monkeypatch):
    monkeypatch.setattr(_config._core, "features", lambda: ["http", "arrow"], raising=False)
    assert gr.show_config(file=None)["cargo_features"] == ["arrow", "http"]
    monkeypatch.delattr(_config._core, "features", raising=False)
    buf = io.StringIO()
    assert gr.show_config(file=buf)["cargo_features"] is None
    assert "(not reported by this build)" in buf.getvalue()


# ---------------------------------------------------------------- progress bars


class FakeTqdm:
    """Records what a bar was asked to show; iterates like tqdm."""

    made: ClassVar[list[dict]] = []

    def __init__(self, iterable=None, **kw):
        self.iterable, self.kw = iterable, kw
        FakeTqdm.made.append(kw)

    def __iter__(self):
        yield from self.iterable

    def update(self, n):
        self.kw.setdefault("updates", []).append(n)

    def close(self):
        self.kw["closed"] = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    FakeTqdm.made = []
    monkeypatch.setattr(progress, "_tqdm", lambda: FakeTqdm)
    return FakeTqdm


def test_no_bar_when_turned_off_or_without_tqdm(fake_tqdm, monkeypatch):
    assert list(progress.bar(range(5), progress=False)) == [0, 1, 2, 3, 4]
    assert fake_tqdm.made == []
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    for p in (None, True):
        assert list(progress.bar(range(3), progress=p)) == [0, 1, 2]
    assert fake_tqdm.made == []


def test_bar_waits_for_a_long_loop_unless_asked(fake_tqdm):
    list(progress.bar(range(4), desc="x"))
    list(progress.bar(range(4), progress=True))
    assert [m["delay"] for m in fake_tqdm.made] == [progress.DELAY, 0.0]
    assert fake_tqdm.made[0]["total"] == 4 and fake_tqdm.made[0]["desc"] == "x"


def test_bar_is_lazy_and_per_batch_over_real_streams(fake_tqdm):
    x = gr.array([[float(i)] * (i % 3) for i in range(10)])
    st = gr.stream(x, batch_size=3)
    app = st.apply(lambda b: b * 2.0)
    got = [b.to_list() for b in progress.bar(app, desc="epoch", progress=True)]
    assert got == [[[v * 2.0 for v in row] for row in x[i : i + 3].to_list()] for i in (0, 3, 6, 9)]
    assert fake_tqdm.made[-1]["total"] == len(st) == 4

    def gen():
        yield from (x[a : a + 4] for a in (0, 4, 8))

    it = progress.bar(gen(), total=3, progress=True)
    assert fake_tqdm.made[-1]["total"] == 3
    assert next(it).to_list() == x[:4].to_list()  # lazy: one batch at a time


def test_save_of_an_iterable_through_a_bar(tmp_path, fake_tqdm):
    x = gr.array([[1.0, 2.0], [], [3.0], [4.0, 5.0, 6.0]])
    gen = (x[a : a + 2] for a in (0, 2))
    gr.save(progress.bar(gen, total=2, desc="saving", progress=True), tmp_path / "s.gr")
    assert gr.load(tmp_path / "s.gr").to_list() == x.to_list()


def test_real_tqdm_bar_appears_only_when_asked_or_long():
    pytest.importorskip("tqdm")
    code = (
        "import time, grumpy.progress as p\n"
        "p.DELAY = 0.2\n"
        "list(p.bar(range(3), desc='short'))\n"
        "list(p.bar(range(3), desc='asked', progress=True))\n"
        "def slow():\n"
        "    for i in range(3):\n"
        "        time.sleep(0.15)\n"
        "        yield i\n"
        "list(p.bar(slow(), total=3, desc='long'))\n"
        "list(p.bar(slow(), total=3, desc='off', progress=False))\n"
    )
    err = run_python("-c", code).stderr
    assert "asked" in err and "long" in err
    assert "short" not in err and "off" not in err


def test_bad_progress_value_is_an_argument_error():
    with pytest.raises(gr.ArgumentError):
        progress.bar([1], progress="yes")


def test_demo_runs_small_and_cleans_up(tmp_path, capsys):
    from grumpy import demo

    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # every step compiles and runs on the Rust scheduler: no fallback warning
        warnings.simplefilter("error", gr.CompileWarning)
        assert demo.main(["--proteins", "24", "--batch-size", "8", "--no-progress"]) == 0
    assert time.perf_counter() - t0 < 120
    out = capsys.readouterr().out
    assert "results identical: True" in out
    assert "epoch, compiled (cpu=2)" in out
    after = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    assert not [d for d in after - before if d.startswith("grumpy-demo-")]
    keep = tmp_path / "kept"
    assert demo.main(["--proteins", "10", "--out", str(keep), "--no-progress"]) == 0
    kept = gr.load(keep / "proteins.gr")
    assert isinstance(kept, gr.DataFrame) and len(kept) == 10
    assert kept.columns == ["coords"]
    for fn in (demo.normalize, demo.contact_graph, demo.pool, demo.residue_centers):
        assert fn.is_compiled, fn.compile_error


def test_apply_and_save_take_progress(tmp_path, fake_tqdm):
    x = gr.array([[float(i)] * (i % 3) for i in range(10)])
    st = gr.stream(x, batch_size=3)

    def total(b):
        return b.sum(dim=1)

    for cpu, scheduler in [(1, "python"), (2, "rust"), (2, "python")]:
        fake_tqdm.made = []
        app = st.apply(total, cpu=cpu, scheduler=scheduler, progress=True)
        got = [b.to_list() for b in app]
        assert got == [x[i : i + 3].sum(dim=1).to_list() for i in (0, 3, 6, 9)]
        assert [(m["total"], m["desc"], m["delay"]) for m in fake_tqdm.made] == [(4, "apply", 0.0)]
    fake_tqdm.made = []
    assert len(list(st.apply(lambda b: b * 2.0))) == 4  # default: a delayed bar
    assert fake_tqdm.made[0]["delay"] == progress.DELAY
    fake_tqdm.made = []
    assert len(list(st.apply(lambda b: b * 2.0, progress=False))) == 4
    assert fake_tqdm.made == []
    with pytest.raises(gr.ArgumentError):
        st.apply(lambda b: b, progress="always")

    gr.save((x[a : a + 5] for a in (0, 5)), tmp_path / "a.gr", progress=True)
    assert [m["desc"] for m in fake_tqdm.made] == ["save"]
    assert gr.load(tmp_path / "a.gr").to_list() == x.to_list()
    fake_tqdm.made = []
    gr.save((x[a : a + 5] for a in (0, 5)), tmp_path / "b.gr", progress=False)
    gr.save(x, tmp_path / "c.gr", progress=True)  # one object: one call, no bar
    assert fake_tqdm.made == []
    with pytest.raises(gr.ArgumentError):
        gr.save((x[a : a + 5] for a in (0, 5)), tmp_path / "d.gr", progress=2)


def test_load_counts_bytes_into_a_bar(tmp_path, fake_tqdm):
    rows = [[float(i)] * (i % 50) for i in range(3000)]
    x = gr.array(rows)
    gr.save(x, tmp_path / "s.gr", chunk_size=100)
    assert gr.load(tmp_path / "s.gr", progress=False).to_list() == rows
    assert fake_tqdm.made == []
    got = gr.load(tmp_path / "s.gr", progress=True)
    assert got.to_list() == rows
    (kw,) = fake_tqdm.made
    assert kw["desc"] == "load" and kw["unit"] == "B" and kw["delay"] == 0.0 and kw["closed"]
    # every byte of every buffer (offsets + values) counted exactly once
    assert sum(kw["updates"]) == kw["total"] == 8 * (len(rows) + 1) + 8 * x.size
    df = gr.dataframe({"x": rows[:10], "n": [float(i) for i in range(10)]}, schema=["a", "b"])
    gr.save(df, tmp_path / "f.gr")
    assert gr.load(tmp_path / "f.gr", progress=True)["n"].to_list() == df["n"].to_list()
    with pytest.raises(gr.ArgumentError):
        gr.load(tmp_path / "s.gr", progress="yes")
    with pytest.raises(gr.StoreError):
        gr.load(tmp_path / "missing.gr", progress=True)


def test_real_tqdm_load_bar(tmp_path):
    pytest.importorskip("tqdm")
    gr.save(gr.array([[1.0] * 100] * 1000), tmp_path / "s.gr")
    code = (
        "import sys, grumpy as gr\n"
        "x = gr.load(sys.argv[1], progress=True)\n"
        "gr.load(sys.argv[1], progress=False)\n"
        "print(len(x))\n"
    )
    out = run_python("-c", code, tmp_path / "s.gr")
    assert out.stdout.strip() == "1000"
    assert out.stderr.count("load") == 1 and "B/s" in out.stderr


def test_a_missing_tqdm_is_looked_up_once(monkeypatch):
    """Every loop asks for a bar; without tqdm, the import path is searched only the first time
    (a failed import cost ~0.1 ms per epoch)."""
    monkeypatch.setattr(progress, "_NO_TQDM", [], raising=False)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert progress._tqdm() is None
    monkeypatch.delitem(sys.modules, "tqdm")
    monkeypatch.delitem(sys.modules, "tqdm.auto")
    looked = []

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name.startswith("tqdm"):
                looked.append(name)

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    assert progress._tqdm() is None
    st = gr.stream(gr.array([[1.0], [2.0]]), batch_size=1)
    assert [b.to_list() for b in progress.bar(st)] == [[[1.0]], [[2.0]]]
    assert looked == []
