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
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from . import _core
from .compile import CompiledTransform, build_plan
from .compiler import chain
from .errors import ArgumentError, CompileWarning, Unsupported, _make
from .progress import bar
from .progress import check as check_progress

Stream = _core.Stream

_COMPILE = ("auto", "force", "never")
_SCHEDULERS = ("auto", "python", "rust")

#: The Python scheduler with ``cpu > 1`` runs batches on its threads once they take this long on
#: average (seconds); quicker batches run on the calling thread, in order. Handing a batch to a
#: thread (a queue, a future, GIL switches at every call that releases it) costs 50-100 µs on a
#: 2-core machine, more than a second thread gains on a batch that takes less than this. Tests
#: set it to 0 to exercise the pool on tiny batches.
THREAD_MIN_SECONDS = 1e-3

#: Default ``prefetch`` of the Rust scheduler: at least this many batches in flight, as long
#: as their results weigh less than :data:`RUST_WINDOW_BYTES`. Its threads stop when the
#: window is full and are woken once it has drained to half; each such sleep costs a context
#: switch (tens of µs on a virtual machine) and leaves the threads idle meanwhile, so a window
#: of 4 made a compiled pool epoch spend its time waking threads. With 32 the benchmark's epoch
#: took 16% less time than with 4, and with a window as long as the epoch (128 batches) 7-15%
#: less again (interleaved runs): small results (reductions) now run the epoch ahead, bounded
#: by bytes rather than by count.
RUST_WINDOW = 256

#: Default bound of the Rust scheduler on the bytes of the results waiting to be taken (what
#: they reach, buffers shared with the chunk cache included): whole transformed batches stay
#: a few, however long the window. An explicit ``prefetch`` bounds by count only.
RUST_WINDOW_BYTES = 64 << 20


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
    if isinstance(path_or_obj, (_core.GrumpyArray, _core.DataFrame, _core.Store)):
        return path_or_obj
    return _core.array(path_or_obj)


def _restore(source, kwargs, epoch, selection):
    """Unpickle a Stream (see ``Stream.__reduce__``): rebuild it from its source and options,
    then set its epoch and re-apply its selection of batches."""
    st = Stream(_source(source), **kwargs)
    st.set_epoch(epoch)
    return st if selection is None else st[list(selection)]


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
    """Stream batches of a store (path) or an in-memory array or dataframe.

    Reading, batching and prefetching happen in Rust reader threads; iterating the returned
    :class:`Stream` yields arrays (or dataframes) of ``batch_size`` outer rows, in order:
    batch ``k`` equals ``gr.load(path)[a:b]`` / ``df[a:b]`` for its row range ``(a, b)``
    (``st.row_ranges()``).
    Every argument is validated here: a bad value raises :class:`grumpy.ArgumentError`, a
    missing store :class:`grumpy.StoreError`, at once.

    Parameters
    ----------
    path_or_obj : str, os.PathLike, Store, GrumpyArray, DataFrame or array-like
        A store path (local directory or URL; array or dataframe stores), an open store
        (``gr.open``), an in-memory ``DataFrame`` (a view streams that view), or an in-memory
        array (converted with ``gr.array`` when it is not a grumpy array).
    batch_size : int, default 32
        Outer rows per batch, or with ``batch_on`` about this many entities of that level.
    drop_last : bool, default False
        Drop a final batch shorter than ``batch_size``.
    shuffle : bool or str, default False
        ``True`` permutes the batch order; a level name (``"residue"``) also permutes the
        entities of that level inside each batch (for a dataframe, one permutation for every
        column at that level, deeper levels moving whole with their parent). Seeded by
        ``(seed, epoch)``; the epoch changes only with ``st.set_epoch(e)``.
    seed : int, optional
        Shuffle seed (a fixed default when None, so runs repeat).
    batch_on : str or int, optional
        A level (name or axis): batches are whole outer rows holding about ``batch_size``
        entities of that level.
    world_size, rank : int, optional
        Distributed split: each rank gets a disjoint, equally long share of the batches.
        Default: from ``torch.distributed`` when it is initialized, else 1 and 0.
    workers : int, default 2
        Reader threads.
    prefetch : int, default 4
        Batches kept ready ahead of the consumer (bounds memory).
    in_memory : bool, default False
        Load the whole store first, then batch from memory.

    Returns
    -------
    Stream
        Iterable with ``len``; ``st[i]``, ``st[a:b]``, ``st[[...]]`` select batches;
        ``st.apply(fns, cpu=1, compile="auto", scheduler="auto", prefetch=None)`` transforms
        them (see :class:`StreamApply`); ``st.set_epoch(e)``; ``st.to_torch()``. A Stream
        pickles (the store path or the in-memory data, the options with the seed resolved,
        the epoch and the selection), so spawn/forkserver DataLoader workers get the same
        batches.

    See Also
    --------
    grumpy.save, grumpy.open, StreamApply, grumpy.torch.StreamDataset

    Examples
    --------
    >>> import grumpy as gr
    >>> st = gr.stream(gr.array([[1.0, 2.0], [3.0], [4.0]]), batch_size=2)
    >>> len(st), [b.to_list() for b in st]
    (2, [[[1.0, 2.0], [3.0]], [[4.0]]])
    >>> [b.sum() for b in st.apply(lambda b: b * 2.0)]
    [12.0, 8.0]
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

    A callable returning ``None`` passes the (mutated) batch on.

    ``compile``: ``"auto"`` (default) fuses the pipeline into one Rust plan when every function
    compiles (else the Python bodies run); ``True``/``"force"`` compiles what it can (runs of
    consecutive compilable functions fuse) and warns once per function that cannot, still
    giving correct results; ``False``/``"never"`` runs the Python bodies. ``scheduler``:
    ``"auto"`` uses the Rust scheduler (``cpu`` threads that read and run the plan per batch,
    GIL released) when the pipeline is fully compiled and ``cpu > 1``; ``"rust"`` requires it
    (warns once and uses the Python scheduler otherwise); ``"python"`` runs batches on a
    thread pool of ``cpu`` threads once they take 1 ms or more on average
    (:data:`THREAD_MIN_SECONDS`; quicker ones run on the calling thread, where they are faster
    than handed to threads). At most ``prefetch`` batches are in flight (default ``2 * cpu``; for
    the Rust scheduler at least :data:`RUST_WINDOW`, while their results weigh less than
    :data:`RUST_WINDOW_BYTES`).

    A batch the fused plan does not apply to runs function by function: each compiled
    function tries its own plan, and one that does not apply runs its Python body with a
    one-time ``CompileWarning`` (once per ``CompiledTransform``; for plain functions, once per
    function per ``apply`` call).

    Parameters
    ----------
    stream : Stream
        The batches.
    fns : callable or list of callables
        Applied in order to every batch.
    cpu : int, default 1
        Threads running batches at the same time.
    compile : {"auto", True, "force", False, "never"}, default "auto"
        See above.
    scheduler : {"auto", "rust", "python"}, default "auto"
        See above.
    prefetch : int, optional
        Batches in flight (default ``2 * cpu``; for the Rust scheduler at least
        :data:`RUST_WINDOW` while their results weigh less than :data:`RUST_WINDOW_BYTES`).
    progress : bool or None, default None
        A progress bar over the epoch (:func:`grumpy.progress.bar`: None shows one with tqdm
        once the epoch has run 2 s, True at once, False never).

    Examples
    --------
    >>> import grumpy as gr
    >>> st = gr.stream(gr.array([[1.0, 2.0], [3.0]]), batch_size=1)
    >>> app = st.apply(lambda b: b.mean(dim=1), cpu=2)
    >>> app.is_compiled, [o.to_list() for o in app]
    (True, [[1.5], [3.0]])
    """

    def __init__(
        self, stream, fns, cpu=1, compile="auto", scheduler="auto", prefetch=None, progress=None
    ):
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
        self.rust_window = max(self.window, RUST_WINDOW) if prefetch is None else self.window
        self.rust_bytes = RUST_WINDOW_BYTES if prefetch is None else None
        check_progress(progress)
        self.progress = progress
        self.stream, self.fns, self.compile, self.scheduler = stream, fl, compile, scheduler
        self.mode = (
            "never"
            if compile in (False, "never")
            else ("force" if compile in (True, "force") else "auto")
        )
        self.plan = None
        self._warned_scheduler = False
        if self.mode == "never":
            self.transforms = []
            self._steps = [f.fn if isinstance(f, CompiledTransform) else f for f in fl]
            return
        # one transform per distinct function for this apply call (its warning state)
        made = {}
        for f in fl:
            if not isinstance(f, CompiledTransform) and id(f) not in made:
                made[id(f)] = CompiledTransform(f)
        self.transforms = [f if isinstance(f, CompiledTransform) else made[id(f)] for f in fl]
        if all(t.is_compiled for t in self.transforms):
            self.plan, _ = build_plan(chain([t.program for t in self.transforms]))
        if self.mode == "force":
            self._steps = _segments(self.transforms)
        else:  # auto: the user's callables as given (a CompiledTransform runs its own plan)
            self._steps = [f if isinstance(f, CompiledTransform) else made[id(f)].fn for f in fl]

    @property
    def is_compiled(self):
        """True when the whole pipeline runs as one fused Rust plan."""
        return self.plan is not None

    def __len__(self):
        return len(self.stream)

    def _per_function(self, batch):
        """Run function by function: compiled ones try their own plans (warning once each
        when theirs does not apply), the others their Python bodies."""
        for t in self.transforms:
            out = t(batch)
            if out is not None:
                batch = out
        return batch

    def _run_steps(self, batch):
        for f in self._steps:
            out = f(batch)
            if out is not None:
                batch = out
        return batch

    def _run_plan(self, batch):
        try:
            return self.plan.run(batch)
        except Unsupported:
            return self._per_function(batch)

    def __iter__(self):
        return bar(self._iter(), total=len(self), desc="apply", progress=self.progress)

    def _iter(self):
        use_rust = self.plan is not None and (
            self.scheduler == "rust" or (self.scheduler == "auto" and self.cpu > 1)
        )
        if self.scheduler == "rust" and self.plan is None and not self._warned_scheduler:
            self._warned_scheduler = True
            why = (
                "compile is off"
                if self.mode == "never"
                else "not every function compiles: "
                + "; ".join(
                    f"{getattr(t.fn, '__qualname__', t.fn)}: {t.compile_error}"
                    for t in self.transforms
                    if not t.is_compiled
                )
            )
            warnings.warn(
                f"grumpy: scheduler='rust' needs a fully compiled pipeline ({why}); using the "
                "Python scheduler",
                CompileWarning,
                stacklevel=3,  # the caller's loop (iter(app) -> __iter__ -> _iter)
            )
        if use_rust:
            return self._iter_rust()
        return self._iter_python(self._run_plan if self.plan is not None else self._run_steps)

    def _iter_rust(self):
        # the Rust iterator itself, no generator around it (a batch the plan does not apply
        # to comes back through _per_function)
        return self.stream._run_plan(
            self.plan, self.cpu, self.rust_window, self._per_function, self.rust_bytes
        )

    def _iter_python(self, run):
        batches = iter(self.stream)
        if self.cpu > 1:
            # Quick batches run here; the pool takes over once their running average (weight
            # 1/4 on the newest) reaches THREAD_MIN_SECONDS.
            avg = None
            for batch in batches:
                t = time.perf_counter()
                out = run(batch)
                dt = time.perf_counter() - t
                avg = dt if avg is None else 0.75 * avg + 0.25 * dt
                yield out
                if avg >= THREAD_MIN_SECONDS:
                    break
            else:
                return
        else:
            for batch in batches:
                yield run(batch)
            return
        pool = ThreadPoolExecutor(max_workers=self.cpu, thread_name_prefix="grumpy-apply")
        pending = collections.deque()
        try:
            for batch in batches:
                pending.append(pool.submit(run, batch))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True)

    def __repr__(self):
        how = "compiled" if self.plan is not None else "python"
        return (
            f"<grumpy.StreamApply {len(self)} batches, {len(self.fns)} fn(s), {how}, "
            f"cpu={self.cpu}>"
        )


class _Fused:
    """Consecutive compiled transforms run as one plan (per function when it does not apply)."""

    def __init__(self, transforms):
        self.transforms = transforms
        self.plan, _ = build_plan(chain([t.program for t in transforms]))

    def __call__(self, batch):
        if self.plan is not None:
            try:
                return self.plan.run(batch)
            except Unsupported:
                pass
        for t in self.transforms:
            out = t(batch)
            if out is not None:
                batch = out
        return batch


def _segments(transforms):
    """compile="force" on a partly compilable pipeline: fuse each run of compiled transforms."""
    steps, run = [], []
    for t in transforms + [None]:
        if t is not None and t.is_compiled:
            run.append(t)
            continue
        if len(run) == 1:
            steps.append(run[0])
        elif run:
            steps.append(_Fused(run))
        run = []
        if t is not None:
            steps.append(t)  # runs its Python body, warning once
    return steps


__all__ = ["Stream", "StreamApply", "stream"]
