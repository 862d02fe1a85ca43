"""Batch streaming: ``gr.stream`` and ``Stream.apply`` (the Python scheduler).

Reading, planning and prefetching happen in Rust (``grumpy._core.Stream``); this module resolves
the source and the distributed defaults, and runs Python callables per batch in batch order.

>>> import grumpy as gr
>>> st = gr.stream(gr.array([[1.0, 2.0], [3.0], [4.0]]), batch_size=2)
>>> [b.to_list() for b in st]
[[[1.0, 2.0], [3.0]], [[4.0]]]
>>> [b.to_list() for b in st.apply(lambda b: b.astype(gr.int64), cpu=2)]
[[[1, 2], [3]], [[4]]]
"""

from __future__ import annotations

import collections
import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

from . import _core
from .errors import ArgumentError, CompileWarning, _make

Stream = _core.Stream

_COMPILE = ("auto", "force", "never")
_SCHEDULERS = ("auto", "python", "rust")


def _dist_defaults(world_size, rank):
    """world_size/rank from torch.distributed when it is initialized, else 1/0."""
    if world_size is None:
        dist = None
        if "torch" in sys.modules:
            try:
                import torch.distributed as dist
            except ImportError:  # pragma: no cover - torch without distributed
                dist = None
        if dist is not None and dist.is_available() and dist.is_initialized():
            world_size = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        else:
            world_size = 1
    if rank is None:
        rank = 0
    return world_size, rank


def _source(path_or_obj):
    if isinstance(path_or_obj, (str, os.PathLike)):
        path = os.fspath(path_or_obj)
        return _core.open(path)
    if isinstance(path_or_obj, (_core.GrumpyArray, _core.Store)):
        return path_or_obj
    return _core.array(path_or_obj)


def stream(
    path_or_obj,
    batch_size=32,
    drop_last=False,
    shuffle=False,
    seed=None,
    batch_on=None,
    world_size=None,
    rank=None,
    workers=2,
    prefetch=4,
    in_memory=False,
) -> Stream:
    """Stream batches of a store (path) or an in-memory array.

    ``batch_size`` outer rows per batch (or, with ``batch_on=<level>``, whole rows holding about
    ``batch_size`` entities of that level); ``shuffle=True`` permutes the batch order,
    ``shuffle=<level>`` also the entities of that level inside each batch, seeded by
    ``(seed, epoch)``; ``world_size``/``rank`` (default: torch.distributed when initialized)
    give each rank a disjoint, equally long share. ``workers`` reader threads keep ``prefetch``
    batches ready. Every argument is validated here (``ArgumentError``), and a missing store
    raises ``StoreError`` at once.
    """
    for name, v in (("drop_last", drop_last), ("in_memory", in_memory)):
        if not isinstance(v, bool):
            raise _make(
                ArgumentError, f"{name} must be a bool", f"got {v!r}", f"pass {name}=True or False"
            )
    world_size, rank = _dist_defaults(world_size, rank)
    return Stream(
        _source(path_or_obj),
        batch_size=batch_size,
        drop_last=drop_last,
        shuffle=shuffle,
        seed=seed,
        batch_on=batch_on,
        world_size=world_size,
        rank=rank,
        workers=workers,
        prefetch=prefetch,
        in_memory=in_memory,
    )


def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _make(
            ArgumentError, f"{name} must be an int >= 1", f"got {v!r}", f"pass {name}=1 or more"
        )
    return v


class StreamApply:
    """``st.apply(fns, ...)``: callables applied in order to every batch, results in batch order.

    A callable returning ``None`` passes the (mutated) batch on. ``cpu > 1`` runs batches on a
    thread pool with an ordered window of ``prefetch`` (default ``2 * cpu``) batches.
    Compilation and the Rust scheduler arrive with ``gr.compile``; until then the callables run
    as Python (``compile=True`` and ``scheduler="rust"`` warn once that they fall back).
    """

    def __init__(self, stream, fns, cpu=1, compile="auto", scheduler="auto", prefetch=None):
        if not isinstance(stream, Stream):
            raise _make(
                ArgumentError,
                "apply needs a Stream",
                f"got {type(stream).__name__}",
                "call st.apply(...)",
            )
        fl = list(fns) if isinstance(fns, (list, tuple)) else [fns]
        if not fl or not all(callable(f) for f in fl):
            raise _make(
                ArgumentError,
                "fns must be a callable or a non-empty list of callables",
                f"got {fns!r}",
                "pass a function or [f, g, ...]",
            )
        self.cpu = _positive_int("cpu", cpu)
        if not (
            compile is True
            or compile is False
            or (isinstance(compile, str) and compile in _COMPILE)
        ):
            raise _make(
                ArgumentError,
                "unknown compile option",
                f"compile={compile!r}",
                'pass compile="auto", True, "force", False or "never"',
            )
        if not (isinstance(scheduler, str) and scheduler in _SCHEDULERS):
            raise _make(
                ArgumentError,
                "unknown scheduler",
                f"scheduler={scheduler!r}",
                'pass scheduler="auto", "python" or "rust"',
            )
        self.window = 2 * self.cpu if prefetch is None else _positive_int("prefetch", prefetch)
        self.stream, self.fns, self.compile, self.scheduler = stream, fl, compile, scheduler

    def __len__(self):
        return len(self.stream)

    def _warn_fallbacks(self):
        if self.compile is True or self.compile == "force":
            for f in self.fns:
                if not getattr(f, "is_compiled", False):
                    name = getattr(f, "__name__", repr(f))
                    warnings.warn(
                        f"grumpy: {name} runs as Python: the compiled stream path is not available",
                        CompileWarning,
                        stacklevel=3,
                    )
        if self.scheduler == "rust":
            warnings.warn(
                "grumpy: scheduler='rust' needs a fully compiled plan; using the Python scheduler",
                CompileWarning,
                stacklevel=3,
            )

    def _run(self, batch):
        for f in self.fns:
            out = f(batch)
            if out is not None:
                batch = out
        return batch

    def __iter__(self):
        self._warn_fallbacks()
        return self._iter_serial() if self.cpu == 1 else self._iter_pool()

    def _iter_serial(self):
        for batch in self.stream:
            yield self._run(batch)

    def _iter_pool(self):
        pool = ThreadPoolExecutor(max_workers=self.cpu, thread_name_prefix="grumpy-apply")
        pending = collections.deque()
        try:
            for batch in self.stream:
                pending.append(pool.submit(self._run, batch))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True)

    def __repr__(self):
        return f"<grumpy.StreamApply {len(self)} batches, {len(self.fns)} fn(s), cpu={self.cpu}>"


__all__ = ["Stream", "StreamApply", "stream"]
