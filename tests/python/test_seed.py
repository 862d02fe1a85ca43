"""The user's compilation page (shared/seed/000_84df58a5deba816b.txt): every example runs
exactly as written and prints what the page says. The page's code blocks are pasted verbatim
into one script (with a `train_step` the user would define) and run in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PAGE = """
import grumpy as gr

@gr.compile
def scale(batch):
    return batch * 2.0 + 1.0

x = gr.array([[1, 2], [3]], dtype=gr.float64)
print(scale(x).to_list())   # [[3.0, 5.0], [7.0]]
print(scale.is_compiled)    # True

seen = []
def train_step(out):
    seen.append(out.to_list())

gr.save(x, "data.gr")

st = gr.stream("data.gr", batch_size=1)
for out in st.apply(scale, compile="auto"):
    train_step(out)
print("stream", seen)

u = gr.array([1.0, [2.0, 3.0], 4.0], dtype=gr.float64)
gr.save(u, "u.gr", chunk_size=2)

@gr.compile
def double(batch):
    return batch * 2.0

st = gr.stream("u.gr", batch_size=1)
out = list(st.apply(double, compile=True, scheduler="rust"))
print("union", [o.to_list() for o in out])

@gr.compile
def normalize_and_pool(batch):
    batch = batch * 0.01
    batch = batch + 1.0
    return batch.mean(dim=1)

print("pool", normalize_and_pool.is_compiled, normalize_and_pool(x).to_list())

def stage_a(batch):
    return batch * 2.0

def stage_b(batch):
    return batch + 1.0

seen.clear()
st = gr.stream("data.gr", batch_size=1)
for out in st.apply([stage_a, stage_b], compile="auto", cpu=4, scheduler="auto"):
    train_step(out)
print("pipeline", seen)

@gr.compile
def maybe(batch):
    return batch * 2.0

print(maybe.is_compiled, maybe.compile_error)
"""


def run_page(tmp_path):
    script = tmp_path / "page.py"
    script.write_text(textwrap.dedent(PAGE))
    proc = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", str(script)],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_every_seed_example_prints_what_the_page_says(tmp_path):
    lines = run_page(tmp_path)
    assert lines[0] == "[[3.0, 5.0], [7.0]]"
    assert lines[1] == "True"
    assert lines[2] == "stream [[[3.0, 5.0]], [[7.0]]]"
    assert lines[3] == "union [[2.0], [[4.0, 6.0]], [8.0]]"
    assert lines[4] == "pool True [1.0150000000000001, 1.03]"
    assert lines[5] == "pipeline [[[3.0, 5.0]], [[7.0]]]"
    assert lines[6] == "True None"
    assert (tmp_path / "data.gr").is_dir()
    assert (tmp_path / "u.gr").is_dir()
