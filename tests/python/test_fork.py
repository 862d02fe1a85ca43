"""A process forked after grumpy ran parallel work (PyTorch's DataLoader forks its workers on
Linux) must still run parallel kernels, saves, loads and streams: the worker pool is rebuilt per
process (grumpy_core::pool)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import grumpy as gr
import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import grumpy as gr

    d = sys.argv[1]
    n = 200_000
    x = gr.from_offsets(np.arange(3 * n, dtype=np.float64), np.arange(0, 3 * n + 1, 3))
    gr.save(x, d + "/a.gr", chunk_size=1000)           # parallel encode in the parent
    assert gr.load(d + "/a.gr").size == 3 * n            # parallel decode in the parent
    total = (x * 2.0).sum(dim=1).sum()
    # an epoch just before the fork: its reader threads are idle, waiting for the next one
    # (they do not exist in the child, which must not hand them work)
    assert sum(b.size for b in gr.stream(d + "/a.gr", batch_size=5000, workers=2)) == 3 * n

    pid = os.fork()
    if pid == 0:
        signal.alarm(60)  # a hang in the child fails the test instead of leaking a process
        try:
            assert (x * 2.0).sum(dim=1).sum() == total   # kernels
            assert gr.load(d + "/a.gr").size == 3 * n    # store decode
            got = sum(b.size for b in gr.stream(d + "/a.gr", batch_size=5000))
            assert got == 3 * n                          # stream reader threads
            gr.save(x, d + "/b.gr", chunk_size=1000)     # store encode
            pairs = gr.neighbors(x[:2000], x[:2000], k=3)
            assert len(pairs) == 2000
            os._exit(0)
        except BaseException as e:  # noqa: BLE001
            print("child failed:", repr(e), flush=True)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    print("child status", os.waitstatus_to_exitcode(status))
    """
)


def test_forked_child_runs_parallel_work(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(gr.__file__)))
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "child status 0" in r.stdout, r.stdout + r.stderr
