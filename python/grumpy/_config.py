"""``gr.show_config()``: versions, threads, compiled features and optional peers.

>>> import grumpy as gr
>>> info = gr.show_config(file=None)
>>> sorted(info)[:3]
['cargo_features', 'cpu_count', 'grumpy']
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any, TextIO

import numpy as np

from . import _core

#: Optional libraries grumpy works with; reported with their versions when importable.
PEERS = ("torch", "awkward", "zarr", "scipy", "sklearn", "pyarrow", "tqdm", "matplotlib")


def _peer_version(name: str) -> str | None:
    """The installed version of ``name`` without importing it (None when not installed)."""
    dist = {"sklearn": "scikit-learn"}.get(name, name)
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_count() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def config() -> dict[str, Any]:
    """The configuration :func:`show_config` prints, as a dict.

    Returns
    -------
    dict
        Keys ``grumpy``, ``core`` (the Rust extension's version), ``python``, ``platform``,
        ``numpy``, ``cpu_count``, ``rayon_threads``, ``cargo_features`` (a list, or None when
        the extension does not report them) and ``peers`` (name → version or None).
    """
    from . import __version__

    features = getattr(_core, "features", None)
    rayon = getattr(_core, "rayon_threads", None)
    env_threads = os.environ.get("RAYON_NUM_THREADS")
    if callable(rayon):
        threads: Any = rayon()
    elif env_threads and env_threads.isdigit() and int(env_threads) > 0:
        threads = int(env_threads)
    else:
        threads = _cpu_count()
    return {
        "grumpy": __version__,
        "core": getattr(_core, "__version__", None),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "cpu_count": _cpu_count(),
        "rayon_threads": threads,
        "cargo_features": sorted(features()) if callable(features) else None,
        "peers": {name: _peer_version(name) for name in PEERS},
    }


def show_config(file: TextIO | None = sys.stdout) -> dict[str, Any]:
    """Print grumpy's version, Python, NumPy, the Rust core, threads, features and peers.

    Paste its output into bug reports.

    Parameters
    ----------
    file : text stream or None, default sys.stdout
        Where to print; ``None`` prints nothing (the dict is still returned).

    Returns
    -------
    dict
        The values printed (see :func:`grumpy._config.config`).

    Examples
    --------
    >>> import grumpy as gr
    >>> gr.show_config()  # doctest: +SKIP
    grumpy          0.1.0
    rust core       0.1.0
    ...
    """
    info = config()
    if file is None:
        return info
    feats = info["cargo_features"]
    lines = [
        ("grumpy", info["grumpy"]),
        ("rust core", info["core"]),
        ("python", f"{info['python']} ({info['platform']})"),
        ("numpy", info["numpy"]),
        ("cpu cores", info["cpu_count"]),
        ("rayon threads", info["rayon_threads"]),
        (
            "cargo features",
            "(not reported by this build)" if feats is None else (", ".join(feats) or "(none)"),
        ),
    ]
    for name, version in info["peers"].items():
        lines.append((name, version or "not installed"))
    for key, value in lines:
        print(f"{key:<16}{value}", file=file)
    return info


__all__ = ["config", "show_config"]
