"""Every ```python block of README.md and docs/*.md runs, and prints what it says it prints.

Conventions (documented in docs/index.md, "About the examples"):

- The blocks of one file run in order in one fresh interpreter, sharing one namespace, with a
  temporary directory as the working directory (so examples may write ``data.gr``).
- A line ``print(...)  # -> text`` must print exactly ``text`` every time it runs (in a loop,
  every iteration), and it must run at least once. Other comments are free prose.
- ``<!-- requires: torch -->`` right before a block runs it only when those modules import
  (the test reports which blocks it could not run); ``<!-- no-test: reason -->`` right before a
  block never runs it, and the reason is mandatory. Use both sparingly.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"<!--[ \t]*(no-test|requires)[ \t]*:?[ \t]*([^\n]*?)[ \t]*-->\s*\Z")
EXPECT = re.compile(r"^\s*print\(.*\)\s*# -> (.*?)\s*$")


def extract(text: str):
    """``[(line, code, marker, argument)]`` for every python block of a markdown text."""
    blocks = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip()
        mark = MARKER.search(before)
        kind, arg = (mark.group(1), mark.group(2)) if mark else (None, "")
        line = text.count("\n", 0, m.start()) + 2  # first code line, 1-based
        blocks.append((line, m.group(1), kind, arg))
    return blocks


def expectations(code: str) -> dict[int, str]:
    """Line (1-based, within the block) → the text its ``print`` must produce."""
    return {i: m.group(1) for i, ln in enumerate(code.splitlines(), 1) if (m := EXPECT.match(ln))}


# The runner executes in a fresh interpreter: ``python test_docs.py --run blocks.json``.
def _run(spec_path: str) -> int:
    import builtins
    import linecache

    spec = json.loads(Path(spec_path).read_text())
    ns: dict = {"__name__": "__main__"}
    failures = []
    real_print = builtins.print
    for block in spec["blocks"]:
        fname = f"<{spec['file']}:{block['line']}>"
        want = {int(k): v for k, v in block["expect"].items()}
        hits: set[int] = set()

        def checking_print(
            *args, sep=" ", end="\n", file=None, flush=False, _w=want, _f=fname, _h=hits
        ):
            frame = sys._getframe(1)
            if frame.f_code.co_filename == _f and frame.f_lineno in _w:
                got = sep.join(str(a) for a in args)
                _h.add(frame.f_lineno)
                if got != _w[frame.f_lineno]:
                    failures.append(
                        f"{_f} line {frame.f_lineno}: printed {got!r}, the comment says "
                        f"{_w[frame.f_lineno]!r}"
                    )
            real_print(*args, sep=sep, end=end, file=file, flush=flush)

        ns["print"] = checking_print
        # inspect.getsource (which @gr.compile reads) finds the block's text here
        lines = block["code"].splitlines(keepends=True)
        linecache.cache[fname] = (len(block["code"]), None, lines, fname)
        exec(compile(block["code"], fname, "exec"), ns)  # noqa: S102 - the docs' own examples
        for ln in sorted(set(want) - hits):
            failures.append(f"{fname} line {ln}: the print with '# ->' never ran")
    for f in failures:
        real_print("DOC-CHECK FAILED: " + f, file=sys.stderr)
    return 1 if failures else 0


def _env() -> dict:
    """The environment for the runner: it must import the grumpy this test imports (a relative
    PYTHONPATH such as ``python`` would not resolve from the temporary working directory)."""
    import os

    import grumpy

    parent = str(Path(grumpy.__file__).resolve().parents[1])
    return dict(os.environ, PYTHONPATH=os.pathsep.join([parent, os.environ.get("PYTHONPATH", "")]))


def _missing(modules: str) -> list[str]:
    return [m for m in re.split(r"[,\s]+", modules) if m and importlib.util.find_spec(m) is None]


# pages with python blocks (rust.md, performance.md have none; a page is never skipped)
PY_PAGES = [p for p in DOC_FILES if "```python" in p.read_text()]


@pytest.mark.parametrize("path", PY_PAGES, ids=[p.name for p in PY_PAGES])
def test_doc_examples_run_and_print_what_they_say(path, tmp_path):
    blocks, not_run = [], []
    for line, code, kind, arg in extract(path.read_text()):
        if kind == "no-test":
            assert arg, f"{path.name}:{line}: <!-- no-test --> needs a reason"
            continue
        if kind == "requires" and _missing(arg):
            not_run.append(f"{path.name}:{line} (needs {', '.join(_missing(arg))})")
            continue
        blocks.append({"line": line, "code": code, "expect": expectations(code)})
    assert blocks, f"{path.name}: every python block is marked no-test or needs a missing peer"
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps({"file": path.name, "blocks": blocks}))
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", __file__, "--run", str(spec)],
        cwd=work,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    if not_run:
        warnings.warn("not run, optional peers missing: " + "; ".join(not_run), stacklevel=1)


def test_extract_understands_markers_and_expectations():
    text = (
        "intro\n\n```python\nprint(1)  # -> 1\nx = 2  # just a note\n```\n\n"
        "<!-- no-test: downloads a file -->\n```python\nraise SystemExit\n```\n"
        "<!-- requires: torch -->\n\n```python\nimport torch\n```\n```bash\nls\n```\n"
    )
    blocks = extract(text)
    assert [(b[0], b[2], b[3]) for b in blocks] == [
        (4, None, ""),
        (10, "no-test", "downloads a file"),
        (15, "requires", "torch"),
    ]
    assert expectations(blocks[0][1]) == {1: "1"}


def test_runner_catches_a_wrong_comment_and_a_print_that_never_runs(tmp_path):
    spec = tmp_path / "s.json"
    code = "for i in range(2):\n    print(i)  # -> 0\nif False:\n    print('x')  # -> x\n"
    spec.write_text(
        json.dumps(
            {"file": "t.md", "blocks": [{"line": 1, "code": code, "expect": expectations(code)}]}
        )
    )
    proc = subprocess.run(
        [sys.executable, __file__, "--run", str(spec)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "printed '1', the comment says '0'" in proc.stderr
    assert "line 4: the print with '# ->' never ran" in proc.stderr


def test_every_docs_page_is_in_the_mkdocs_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    listed = set(re.findall(r":\s*([\w-]+\.md)\s*$", nav, flags=re.MULTILINE))
    assert listed <= pages, f"nav names missing pages: {sorted(listed - pages)}"
    # reliability.md is written on another branch; it joins the nav when it lands
    assert pages - {"reliability.md"} <= listed, f"pages not in nav: {sorted(pages - listed)}"


def test_rust_excerpts_are_copied_from_examples_that_run():
    """docs/rust.md shows excerpts of crates/*/examples/*.rs (which `cargo run --example`
    runs), so an excerpt that no longer matches its example fails here."""
    examples = [p.read_text() for p in ROOT.glob("crates/*/examples/*.rs")]
    text = (ROOT / "docs" / "rust.md").read_text()
    blocks = re.findall(r"^```rust\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    assert blocks
    for block in blocks:
        assert any(block in ex for ex in examples), f"not in any example:\n{block}"


# ---------------------------------------------------------------- typed, documented surface

PY_MODULES = ["grumpy", "grumpy.stream", "grumpy.torch", "grumpy.progress", "grumpy._config"]


def _public(module):
    import importlib

    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    return [(f"{module}.{n}", getattr(mod, n)) for n in names if n != "__version__"]


def test_every_public_name_has_its_own_docstring():
    import inspect

    missing = []
    for qual, obj in (pair for m in PY_MODULES for pair in _public(m)):
        if not (callable(obj) or inspect.ismodule(obj)):
            continue  # dtype instances such as gr.float64
        doc = inspect.getdoc(obj) or ""
        inherited = inspect.isclass(obj) and any(
            doc == (inspect.getdoc(base) or "") for base in obj.__mro__[1:]
        )
        if len(doc) < 20 or inherited:
            missing.append(qual)
    assert not missing, f"public names without a docstring: {missing}"


def test_python_functions_document_their_parameters_numpy_style():
    import inspect

    bad = []
    for qual, obj in (pair for m in PY_MODULES for pair in _public(m)):
        if not inspect.isfunction(obj):
            continue  # Rust functions carry their docs from the doc comments
        params = [p for p in inspect.signature(obj).parameters if p not in ("self",)]
        doc = inspect.getdoc(obj) or ""
        if params and "Parameters\n----------" not in doc:
            bad.append(qual)
    assert not bad, f"functions without a NumPy-style Parameters section: {bad}"


def test_help_of_stream_names_every_parameter():
    import inspect

    import grumpy as gr

    text = inspect.getdoc(gr.stream)
    for name in inspect.signature(gr.stream).parameters:
        assert name in text, name
    assert ">>> " in text and "Returns" in text


def test_every_core_name_is_in_the_stub():
    import ast

    import grumpy._core as core

    stub = ast.parse((ROOT / "python" / "grumpy" / "_core.pyi").read_text())
    top = {}
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top[node.target.id] = node
        elif isinstance(node, ast.Assign):
            top.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
    names = [n for n in dir(core) if not (n.startswith("__") and n != "__version__")]
    assert not [n for n in names if n not in top], "missing from _core.pyi"
    for n in names:
        obj = getattr(core, n)
        if not isinstance(obj, type):
            continue
        in_stub = {m.name for m in top[n].body if isinstance(m, ast.FunctionDef)}
        public = [
            m
            for m in vars(obj)
            if not m.startswith("__")
            and m != "_from_state"
            or (m in ("__len__", "__iter__", "__getitem__"))
        ]
        absent = [m for m in public if m not in in_stub]
        assert not absent, f"{n}: {absent} missing from _core.pyi"
    stale = [n for n in top if not n.startswith("_") and not hasattr(core, n)]
    assert not stale, f"_core.pyi names what the extension does not have: {stale}"


def test_package_is_marked_typed():
    import grumpy

    pkg = Path(grumpy.__file__).parent  # the installed wheel in CI: maturin must ship these
    assert (pkg / "py.typed").exists()
    assert (pkg / "_core.pyi").exists()


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--run":
    sys.exit(_run(sys.argv[2]))
