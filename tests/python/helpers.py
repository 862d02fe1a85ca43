"""Helpers shared by several test modules (imported as `helpers`: pytest puts this directory on
sys.path). Plain functions, not fixtures, so module-level helpers can call them too."""

from __future__ import annotations

import os
import subprocess
import sys

import grumpy as gr
import numpy as np
import pytest


def rewrite_buffer(path, name, values):
    """Overwrite the whole buffer `name` of the store at `path` through zarr-python (valid
    chunks and checksums, hostile values): skips the test when zarr is not installed."""
    zarr = pytest.importorskip("zarr")
    g = zarr.open_group(str(path), mode="r+")
    g[name][:] = np.asarray(values)


def python_script(path, template):
    """Write `template` (a script with a `{pydir}` placeholder for `sys.path.insert(0, ...)`) to
    `path`, so the child imports the same grumpy as this process (installed wheel or source)."""
    pydir = os.path.dirname(os.path.dirname(os.path.abspath(gr.__file__)))
    path.write_text(template.format(pydir=pydir))
    return path


def run_python(*args, env=None, timeout=None, check=True):
    """Run `python *args` in a child process and return the finished process (text output)."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=check,
    )
