"""grumpy: ragged and nested numerical arrays with a Rust core.

>>> import grumpy as gr
>>> x = gr.array([[1, 2], [3]], dtype=gr.float64)
>>> x.to_list()
[[1.0, 2.0], [3.0]]
"""

from __future__ import annotations

from . import errors
from ._core import (
    DataFrame,
    DType,
    GrumpyArray,
    __version__,
    array,
    bool_,
    cat,
    dataframe,
    dtype,
    float32,
    float64,
    from_offsets,
    full_like,
    int8,
    int16,
    int32,
    int64,
    ones_like,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
    zeros_like,
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
from .stream import Stream, StreamApply, stream

__all__ = [
    "DataFrame",
    "DType",
    "GrumpyArray",
    "__version__",
    "array",
    "bool_",
    "cat",
    "dataframe",
    "dtype",
    "errors",
    "float32",
    "float64",
    "from_offsets",
    "full_like",
    "int8",
    "int16",
    "int32",
    "int64",
    "ones_like",
    "stream",
    "Stream",
    "StreamApply",
    "string",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "zeros_like",
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
