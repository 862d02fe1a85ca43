"""PyTorch adapters for grumpy streams and batches (imported only when used).

- :class:`StreamDataset`: a torch ``IterableDataset`` over a :class:`grumpy.Stream` that splits
  batches over DataLoader workers (ranks are split by the stream's ``world_size``/``rank``) with
  no duplicates; ``set_epoch``, ``state_dict()``/``load_state_dict()`` resume mid-epoch. Use it
  with ``DataLoader(ds, batch_size=None)``: the stream already batches.
- :func:`to_padded` → ``(tensor, mask)``; :func:`to_nested` → a jagged nested tensor;
  :func:`collate_padded`, :func:`collate_nested` for ``DataLoader(collate_fn=...)``. They take
  one array: for a DataFrame batch (a frame stream) pick a column, ``to_padded(b["coords"])``;
  a DataFrame raises ``ArgumentError`` saying so.

Padding is Rust's ``GrumpyArray.to_padded`` (every ragged axis padded, trailing regular axes
such as xyz kept dense; see its docstring); ``padded_numpy`` and ``jagged_numpy`` return NumPy
arrays, so they work, and are tested, without torch; only the tensor wrappers need torch, which
is imported when first needed.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _core
from .errors import ArgumentError, ShapeError, Unsupported, _make

try:  # torch is optional: StreamDataset is a real IterableDataset only when it is installed
    import torch as _torch
    from torch.utils.data import IterableDataset as _Base
except ImportError:  # pragma: no cover - exercised where torch is missing
    _torch = None
    _Base = object


def _require_torch():
    """The torch module, imported now if it was not importable when grumpy.torch loaded."""
    if _torch is not None:
        return _torch
    try:
        import torch
    except ImportError as e:
        raise _make(
            Unsupported,
            "torch is not installed",
            f"this function returns torch tensors ({e})",
            "pip install torch",
        ) from None
    return torch


def _tensor(torch, a):
    """``torch.from_numpy`` sharing memory with a (possibly read-only) NumPy array."""
    with warnings.catch_warnings():  # read-only buffers are shared, not copied
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(a)


def _array_to_torch(x, pad=None, max_len=None):
    """``GrumpyArray.to_torch``: a plain tensor sharing memory for rectangular arrays without
    nulls (when ``max_len`` is None), else ``(tensor, mask)`` from ``x.to_padded``."""
    torch = _require_torch()
    if max_len is None and x._rectangular:
        return _tensor(torch, x.to_numpy())
    v, m = x.to_padded(pad, max_len)
    return _tensor(torch, v), _tensor(torch, m)


def _worker_info():
    """``(worker_id, num_workers)`` of the current DataLoader worker, ``(0, 1)`` outside one."""
    if _torch is None:
        return 0, 1
    info = _torch.utils.data.get_worker_info()
    return (0, 1) if info is None else (info.id, info.num_workers)


class StreamDataset(_Base):
    """Iterable dataset over a stream's batches (see the module docs).

    Worker ``w`` of ``n`` yields positions ``w, w + n, ...`` of the remaining batches, which is
    the order DataLoader interleaves them in, so the loader's output is the stream's order.
    ``state_dict()`` counts batches yielded in this process (with ``num_workers=0``); with
    worker processes, pass the count you consumed: ``state_dict(batches_done=k)``.

    Parameters
    ----------
    stream : grumpy.Stream
        The batches (``gr.stream(...)``); use the loader with ``batch_size=None``.

    Examples
    --------
    >>> import grumpy as gr
    >>> ds = StreamDataset(gr.stream(gr.array([[1.0], [2.0], [3.0]]), batch_size=2))
    >>> len(ds), [b.to_list() for b in ds.shard(0, 1)]
    (2, [[[1.0], [2.0]], [[3.0]]])
    """

    def __init__(self, stream):
        if not isinstance(stream, _core.Stream):
            raise _make(
                ArgumentError,
                "StreamDataset needs a grumpy Stream",
                f"got {type(stream).__name__}",
                "pass gr.stream(...)",
            )
        self.stream = stream
        self._start = 0
        self._done = 0

    def __len__(self):
        return len(self.stream) - self._start

    def set_epoch(self, epoch):
        """Change the epoch (and start it from its first batch)."""
        self.stream.set_epoch(epoch)
        self._start = self._done = 0

    def shard(self, worker_id, num_workers):
        """The batches worker ``worker_id`` of ``num_workers`` yields (a Stream view)."""
        if not (0 <= worker_id < num_workers):
            raise _make(
                ArgumentError,
                "worker_id must be below num_workers",
                f"worker_id={worker_id}, num_workers={num_workers}",
                "pass 0 <= worker_id < num_workers",
            )
        return self.stream[self._start :][worker_id::num_workers]

    def __iter__(self):
        wid, nw = _worker_info()
        for batch in self.shard(wid, nw):
            self._done += 1
            yield batch
        if nw == 1:  # the epoch ran to its end in this process: a new one starts from 0
            self._start = self._done = 0

    def state_dict(self, batches_done=None):
        """``{"epoch", "batches_done", "seed"}`` to resume this epoch later."""
        done = self._start + self._done if batches_done is None else int(batches_done)
        return {"epoch": self.stream.epoch, "batches_done": done, "seed": self.stream.seed}

    def load_state_dict(self, state):
        """Resume: the next iteration continues the saved epoch after its ``batches_done``."""
        try:
            epoch, done = int(state["epoch"]), int(state["batches_done"])
        except (KeyError, TypeError, ValueError) as e:
            raise _make(
                ArgumentError,
                "bad state_dict",
                f"{e!r}",
                "pass a dict from StreamDataset.state_dict()",
            ) from None
        if "seed" in state and state["seed"] != self.stream.seed:
            raise _make(
                ArgumentError,
                "state_dict comes from a stream with another seed",
                f"saved seed {state['seed']}, this stream's seed {self.stream.seed}",
                "build the stream with the same seed= to resume",
            )
        if not 0 <= done <= len(self.stream):
            raise _make(
                ArgumentError,
                "batches_done is out of range",
                f"batches_done={done}, the stream has {len(self.stream)} batches",
                "pass a state_dict from this stream",
            )
        self.stream.set_epoch(epoch)
        self._start, self._done = done, 0


def _one_array(batch, fn):
    """The batch as a GrumpyArray; a DataFrame batch (a frame stream) is an ArgumentError that
    says to pick a column: tensors hold one column's values (and its own mask/offsets)."""
    if isinstance(batch, _core.DataFrame):
        cols = list(batch.columns)
        example = cols[0] if cols else "<column>"
        raise _make(
            ArgumentError,
            f"{fn} needs one array, not a DataFrame",
            f"the batch is a dataframe with columns {cols}; each column pads or nests differently",
            f'pick a column: {fn}(batch["{example}"]), or one call per column',
        )
    return batch


def _split_outer(batch):
    """(lengths, child values shaped (total, *inner)) for a batch ragged at its outer level."""
    if batch.layout == "union":
        raise _make(
            Unsupported,
            "cannot split a union batch into jagged rows",
            "rows mix scalars and lists",
            "use padded_numpy (scalar rows count as length-1 lists), or batch.to_list()",
        )
    if batch.ndim < 2:
        raise _make(
            ShapeError,
            "jagged rows need a list batch",
            f"the batch has ndim {batch.ndim}",
            "split batches of lists (ndim >= 2)",
        )
    # The Rust padding rule decides which axes are ragged (nothing is filled); only axis 1 may be.
    shape, mask_ndim = batch._padded_shape()
    if mask_ndim > 2:
        raise _make(
            ShapeError,
            "only the outer level may be ragged",
            f"the batch is ragged (or has nulls) below axis 1: {mask_ndim - 1} axes need padding",
            "use padded_numpy (pads every ragged axis), or to_nested for one ragged level",
        )
    lens = np.diff(batch.offsets(0))
    inner = tuple(shape[2:])
    return lens, np.asarray(batch.values).reshape((-1, *inner))


def padded_numpy(batch, pad=0, max_len=None):
    """Pad a ragged batch into NumPy arrays (no torch needed).

    Parameters
    ----------
    batch : GrumpyArray
        Any batch (list, union or with nulls); a DataFrame batch raises ``ArgumentError``:
        pass one column, ``batch["coords"]``.
    pad : scalar, default 0
        Value written into the padding.
    max_len : int or sequence of int, optional
        Cap on the padded length of the ragged axes (longer rows are truncated).

    Returns
    -------
    values : numpy.ndarray
        Every ragged axis padded to its longest row; trailing regular axes (xyz) stay dense.
    mask : numpy.ndarray of bool
        True where ``values`` holds data, shaped like ``values`` without the dense axes.

    Examples
    --------
    >>> import grumpy as gr
    >>> v, m = padded_numpy(gr.array([[1.0, 2.0], [3.0]]))
    >>> v.tolist(), m.tolist()
    ([[1.0, 2.0], [3.0, 0.0]], [[True, True], [True, False]])
    """
    return _one_array(batch, "padded_numpy").to_padded(pad, max_len)


def jagged_numpy(batch):
    """The rows of a batch ragged only at its outer level, as flat values and offsets.

    Parameters
    ----------
    batch : GrumpyArray
        A list batch whose axes below the first are regular (e.g. proteins → residues → xyz).

    Returns
    -------
    values : numpy.ndarray
        The rows' entries stacked, shaped ``(total, *inner)``; shares the batch's memory.
    offsets : numpy.ndarray of int64
        Zero-based row boundaries (``len(batch) + 1`` entries).

    Raises
    ------
    ShapeError
        The batch is ragged below its outer level (use :func:`padded_numpy`).
    Unsupported
        A union batch.

    Examples
    --------
    >>> import grumpy as gr
    >>> v, o = jagged_numpy(gr.array([[1.0, 2.0], [3.0]]))
    >>> v.tolist(), o.tolist()
    ([1.0, 2.0, 3.0], [0, 2, 3])
    """
    lens, values = _split_outer(_one_array(batch, "jagged_numpy"))
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return values, offsets


def to_padded(batch, pad=0, max_len=None):
    """Pad a ragged batch into torch tensors (see :func:`padded_numpy` for the rules).

    Parameters
    ----------
    batch : GrumpyArray
        One array (a DataFrame batch raises ``ArgumentError``: pass one column).
    pad : scalar, default 0
    max_len : int or sequence of int, optional

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Values and boolean mask, sharing memory with the padded NumPy arrays.

    Raises
    ------
    Unsupported
        torch is not installed.
    """
    _one_array(batch, "to_padded")
    torch = _require_torch()
    v, m = padded_numpy(batch, pad, max_len)
    return _tensor(torch, v), _tensor(torch, m)


def to_nested(batch):
    """A jagged nested tensor (``torch.nested``, layout ``torch.jagged``) over the batch.

    Parameters
    ----------
    batch : GrumpyArray
        Ragged only at its outer level (see :func:`jagged_numpy`).

    Returns
    -------
    torch.Tensor
        A nested tensor sharing the batch's memory where possible.
    """
    _one_array(batch, "to_nested")
    torch = _require_torch()
    v, o = jagged_numpy(batch)
    return torch.nested.nested_tensor_from_jagged(_tensor(torch, v), torch.from_numpy(o))


def collate_padded(batch, pad=0, max_len=None):
    """``collate_fn`` for ``DataLoader``: ``{"values": tensor, "mask": tensor}``.

    Parameters
    ----------
    batch : GrumpyArray
        A batch from a :class:`StreamDataset` (``batch_size=None`` in the loader).
    pad, max_len
        As for :func:`to_padded`.

    Returns
    -------
    dict
    """
    v, m = to_padded(batch, pad, max_len)
    return {"values": v, "mask": m}


def collate_nested(batch):
    """``collate_fn`` for ``DataLoader``: the batch as a nested tensor (see :func:`to_nested`).

    Parameters
    ----------
    batch : GrumpyArray

    Returns
    -------
    torch.Tensor
    """
    return to_nested(batch)


__all__ = [
    "StreamDataset",
    "collate_nested",
    "collate_padded",
    "jagged_numpy",
    "padded_numpy",
    "to_nested",
    "to_padded",
]
