"""grumpy: ragged and nested numerical arrays with a Rust core.

>>> import grumpy as gr
>>> x = gr.array([[1, 2], [3]], dtype=gr.float64)
>>> x.to_list()
[[1.0, 2.0], [3.0]]
"""

from __future__ import annotations

from . import errors
from ._core import (
    DType,
    GrumpyArray,
    __version__,
    array,
    bool_,
    dtype,
    float32,
    float64,
    from_offsets,
    int8,
    int16,
    int32,
    int64,
    neighbors,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .errors import (
    ArgumentError,
    BroadcastError,
    CompileError,
    CompileWarning,
    DTypeError,
    GrumpyError,
    OutOfBoundsError,
    SchemaError,
    ShapeError,
    StoreError,
    Unsupported,
)

__all__ = [
    "DType",
    "GrumpyArray",
    "__version__",
    "array",
    "bool_",
    "dtype",
    "errors",
    "float32",
    "float64",
    "from_offsets",
    "int8",
    "int16",
    "int32",
    "int64",
    "neighbors",
    "string",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
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
