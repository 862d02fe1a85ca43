"""Progress bars for long loops over batches: tqdm when installed, silent otherwise.

The rule, everywhere in grumpy: a bar appears only when tqdm is installed **and** the loop is
long (it has run for :data:`DELAY` seconds), or when asked with ``progress=True``;
``progress=False`` never shows one. A bar advances once per batch, never per element, so it
costs nothing measurable.

>>> from grumpy.progress import bar
>>> list(bar(range(3), progress=False))
[0, 1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

#: Seconds a loop runs before its bar appears (``progress=None``).
DELAY = 2.0


_NO_TQDM = []  # non-empty once an import of tqdm has failed


def _tqdm():
    """The ``tqdm.auto.tqdm`` class, or None when tqdm is not installed.

    A failed import is remembered for the rest of the process: searching the import path again
    cost about 0.1 ms per loop, as much as a whole epoch's per-batch work on a small stream.
    """
    if _NO_TQDM:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        _NO_TQDM.append(True)
        return None
    return tqdm


def bar(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str | None = None,
    progress: bool | None = None,
) -> Iterator[T]:
    """Iterate over ``iterable``, showing a progress bar when that is useful.

    Parameters
    ----------
    iterable : iterable
        The batches (any iterable: a generator of arrays for ``gr.save``, a ``Stream``,
        ``st.apply(...)``). Items are passed through unchanged and lazily.
    total : int, optional
        The number of items, when ``len(iterable)`` is not available.
    desc : str, optional
        The bar's label.
    progress : bool or None, default None
        ``None``: a bar only when tqdm is installed and the loop has run for :data:`DELAY`
        seconds; ``True``: a bar at once when tqdm is installed; ``False``: never.

    Yields
    ------
    object
        The items of ``iterable``.

    Examples
    --------
    >>> import grumpy as gr
    >>> from grumpy.progress import bar
    >>> st = gr.stream(gr.array([[1.0], [2.0, 3.0]]), batch_size=1)
    >>> [b.to_list() for b in bar(st, desc="epoch", progress=False)]
    [[[1.0]], [[2.0, 3.0]]]
    """
    check(progress)
    tqdm = None if progress is False else _tqdm()
    if tqdm is None:
        return iter(iterable)
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    delay = 0.0 if progress else DELAY
    return iter(tqdm(iterable, total=total, desc=desc, delay=delay, leave=False, file=sys.stderr))


class _Counter:
    """A tqdm bar over a byte count (``update(n)``, ``close()``)."""

    def __init__(self, tqdm, total, desc, delay):
        self._bar = tqdm(
            total=total,
            desc=desc,
            delay=delay,
            unit="B",
            unit_scale=True,
            leave=False,
            file=sys.stderr,
        )

    def update(self, n):
        self._bar.update(n)

    def close(self):
        self._bar.close()


def counter(total: int, desc: str | None = None, progress: bool | None = None):
    """A byte-count bar for one long call (``gr.load``): ``update(n)`` as bytes arrive, then
    ``close()``; None when no bar may be shown (see :func:`bar` for ``progress``).

    Parameters
    ----------
    total : int
        Bytes expected.
    desc : str, optional
        The bar's label.
    progress : bool or None, default None

    Returns
    -------
    object or None

    Examples
    --------
    >>> counter(100, progress=False) is None
    True
    """
    check(progress)
    tqdm = None if progress is False else _tqdm()
    if tqdm is None:
        return None
    return _Counter(tqdm, total, desc, 0.0 if progress else DELAY)


def check(progress: object) -> None:
    """Raise ``ArgumentError`` unless ``progress`` is None, True or False.

    Parameters
    ----------
    progress : object
        The value passed as ``progress=``.

    Examples
    --------
    >>> check(None), check(False)
    (None, None)
    """
    if progress is not None and not isinstance(progress, bool):
        from .errors import ArgumentError, _make

        raise _make(
            ArgumentError,
            "progress must be None, True or False",
            f"got {progress!r}",
            "pass progress=False to turn bars off, True to always show one",
        )


def enabled(progress: bool | None) -> bool:
    """Whether a bar may be shown under this ``progress`` setting.

    Parameters
    ----------
    progress : bool or None
        As for :func:`bar`.

    Returns
    -------
    bool
        True when tqdm is installed and ``progress`` is not False.
    """
    return progress is not False and _tqdm() is not None


__all__ = ["DELAY", "bar", "check", "counter", "enabled"]
