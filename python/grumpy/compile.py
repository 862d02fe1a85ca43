"""``@gr.compile``: turn a small batch function into a fused Rust plan.

>>> import grumpy as gr
>>> @gr.compile
... def scale(batch):
...     return batch * 2.0 + 1.0
>>> x = gr.array([[1, 2], [3]], dtype=gr.float64)
>>> scale(x).to_list()
[[3.0, 5.0], [7.0]]
>>> scale.is_compiled
True
"""

from __future__ import annotations

import functools
import json
import threading
import warnings
from typing import Any, Callable

from . import _core
from .compiler import analyze
from .errors import CompileWarning, GrumpyError, Unsupported


def build_plan(ops: list[dict[str, Any]], output: int | None) -> _core.Plan:
    """Build a Rust plan from compiler ops."""
    return _core.Plan(json.dumps({"ops": ops, "output": output}))


class CompiledTransform:
    """A batch function with a compiled Rust plan (see :func:`compile`).

    Attributes
    ----------
    is_compiled : bool
        True when analysis produced a plan.
    compile_error : str or None
        Why analysis failed (the construct and its source line), else None.
    plan : Plan or None
        The plan (``plan.explain()`` prints the ops and what was fused).
    """

    def __init__(self, fn: Callable[[Any], Any]):
        if isinstance(fn, CompiledTransform):
            fn = fn.fn
        if not callable(fn):
            raise TypeError(f"gr.compile needs a function, got {type(fn).__name__}")
        self.fn = fn
        functools.update_wrapper(self, fn)
        ops, out, error = analyze(fn)
        self.ops, self.output = ops, out
        self.compile_error: str | None = error
        self.plan = None
        if error is None:
            try:
                self.plan = build_plan(ops, out)
            except GrumpyError as e:
                self.compile_error = f"plan rejected: {e.summary or e}"
        self._warned = False
        self._lock = threading.Lock()

    @property
    def is_compiled(self) -> bool:
        return self.plan is not None

    def _warn_once(self, reason: str) -> None:
        with self._lock:
            if self._warned:
                return
            self._warned = True
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        warnings.warn(
            f"gr.compile: {name} runs as plain Python: {reason}",
            CompileWarning,
            stacklevel=3,
        )

    def run_compiled(self, batch: Any) -> tuple[bool, Any, str]:
        """Try the plan; returns ``(ok, result, reason)`` without falling back."""
        if self.plan is None:
            return False, None, self.compile_error or "not compiled"
        try:
            return True, self.plan.run(batch), ""
        except Unsupported as e:
            return False, None, e.summary or str(e)

    def __call__(self, batch: Any) -> Any:
        ok, result, reason = self.run_compiled(batch)
        if ok:
            return result
        self._warn_once(reason)
        return self.fn(batch)

    def __repr__(self) -> str:
        state = "compiled" if self.is_compiled else f"python ({self.compile_error})"
        return f"<CompiledTransform {getattr(self.fn, '__qualname__', self.fn)}: {state}>"


def compile(fn: Callable[[Any], Any]) -> CompiledTransform:
    """Compile a batch function into a fused Rust plan (``@gr.compile``).

    Analysis happens once, here, silently. Calling the result runs the plan in Rust with the
    GIL released; when analysis failed, or the plan does not apply to the input's layout, the
    Python body runs instead and a one-time :class:`grumpy.CompileWarning` is emitted.

    Rules: straight-line code, one parameter (the batch), and the supported constructs:
    ``batch <op> scalar`` for ``+ - * / // % **`` (both orders), unary minus, comparisons,
    ``.sum/.mean/.min/.max/.ptp/.prod/.count/.any/.all(dim=)``, ``gr.sqrt/exp/log/...``,
    ``gr.where``, ``gr.clip``, ``gr.neighbors(batch, batch, k=, dim=, loop=)``, dataframe
    column reads ``batch.level.column`` and dot assignments ``batch.level.name = value``.
    """
    return CompiledTransform(fn)
