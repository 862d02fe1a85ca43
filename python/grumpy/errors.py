"""grumpy's exception hierarchy.

Every error raised by grumpy is a :class:`GrumpyError` carrying ``.code`` (the class name),
``.cause`` and ``.fix``; the message reads ``grumpy.<Code>: summary`` then ``cause:`` and ``fix:``.

>>> import grumpy as gr
>>> try:
...     gr.array([None, None])
... except gr.DTypeError as e:
...     print(e.code)
DTypeError
"""

from __future__ import annotations


class GrumpyError(Exception):
    """Base class of every grumpy error (attributes: ``code``, ``summary``, ``cause``, ``fix``)."""

    code: str = "GrumpyError"
    summary: str = ""
    cause: str = ""
    fix: str = ""


class ArgumentError(GrumpyError, ValueError):
    """A bad argument value."""


class BroadcastError(GrumpyError, ValueError):
    """Array shapes that cannot broadcast together."""


class ShapeError(GrumpyError, ValueError):
    """A value whose (ragged) shape does not fit."""


class DTypeError(GrumpyError, TypeError):
    """Unsupported or mismatched dtypes."""


class SchemaError(GrumpyError, ValueError):
    """Dataframe columns that do not fit the schema."""


class OutOfBoundsError(GrumpyError, IndexError):
    """An index out of range."""


class StoreError(GrumpyError, OSError):
    """A missing, corrupt or incompatible store."""


class CompileError(GrumpyError):
    """A function that cannot be compiled (raised only by explicit strict compilation)."""


class Unsupported(GrumpyError, NotImplementedError):
    """An operation not implemented for this input."""


class CompileWarning(UserWarning):
    """Emitted once when a compiled transform falls back to its Python body."""


def _make(cls: type, summary: str, cause: str, fix: str) -> GrumpyError:
    err = cls(f"grumpy.{cls.__name__}: {summary}\ncause: {cause}\nfix: {fix}")
    err.code, err.summary, err.cause, err.fix = cls.__name__, summary, cause, fix
    return err


__all__ = [
    "ArgumentError",
    "BroadcastError",
    "CompileError",
    "CompileWarning",
    "DTypeError",
    "GrumpyError",
    "OutOfBoundsError",
    "SchemaError",
    "ShapeError",
    "StoreError",
    "Unsupported",
]
