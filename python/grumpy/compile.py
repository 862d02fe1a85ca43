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
>>> print(scale.plan.explain().splitlines()[4])
  1. r2 = (r0 * 2.0) + 1.0
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from typing import Any, Callable

from . import _core
from .compiler import Program, analyze
from .errors import CompileWarning, GrumpyError, Unsupported


def build_plan(prog: Program) -> tuple[_core.Plan | None, str | None]:
    """The Rust plan of an analysed program.

    Parameters
    ----------
    prog : grumpy.compiler.Program
        The result of :func:`grumpy.compiler.analyze`.

    Returns
    -------
    (Plan, None) or (None, str)
        The plan, or ``None`` and the reason Rust rejected it (naming the op's source line).
    """
    try:
        return _core.Plan(prog.to_json()), None
    except GrumpyError as e:
        m = re.match(r"op (\d+):", e.summary or "")
        where = ""
        if m and int(m.group(1)) < len(prog.lines):
            where = f" (line {prog.lines[int(m.group(1))]})"
        return None, f"plan rejected: {e.summary or e}{where}: {e.cause}"
    except ValueError as e:  # a value JSON cannot carry
        return None, f"plan rejected: {e}"


class CompiledTransform:
    """A batch function with a compiled Rust plan (see :func:`compile`).

    Attributes
    ----------
    is_compiled : bool
        True when analysis produced a plan.
    compile_error : str or None
        Why analysis failed (the construct and its source line), else None.
    plan : Plan or None
        The plan (``plan.explain()`` prints the ops, the steps and what was fused).
    """

    def __init__(self, fn: Callable[[Any], Any]):
        if isinstance(fn, CompiledTransform):
            fn = fn.fn
        if not callable(fn):
            raise TypeError(f"gr.compile needs a function, got {type(fn).__name__}")
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.program = analyze(fn)
        self.compile_error: str | None = self.program.error
        self.plan = None
        if self.compile_error is None:
            self.plan, self.compile_error = build_plan(self.program)
        self._run = None if self.plan is None else self.plan.run
        self._warned = False
        self._lock = threading.Lock()

    @property
    def is_compiled(self) -> bool:
        """True when analysis produced a plan (calls run in Rust)."""
        return self.plan is not None

    def warn_once(self, reason: str) -> None:
        """Emit the fallback :class:`grumpy.CompileWarning`, once per transform."""
        with self._lock:
            if self._warned:
                return
            self._warned = True
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        warnings.warn(
            f"gr.compile: {name} runs as plain Python: {reason}", CompileWarning, stacklevel=3
        )

    def __call__(self, batch: Any) -> Any:
        run = self._run
        if run is not None:
            try:
                return run(batch)
            except Unsupported as e:
                reason = e.summary or str(e)
                if e.cause:
                    reason = f"{reason} ({e.cause})"
        else:
            reason = self.compile_error or "not compiled"
        self.warn_once(reason)
        return self.fn(batch)

    def __repr__(self) -> str:
        state = "compiled" if self.is_compiled else f"python ({self.compile_error})"
        return f"<CompiledTransform {getattr(self.fn, '__qualname__', self.fn)}: {state}>"


def compile(fn: Callable[[Any], Any]) -> CompiledTransform:
    """Compile a batch function into a fused Rust plan (``@gr.compile``).

    Analysis happens once, here, silently. Calling the result runs the plan in Rust with the
    GIL released; when analysis failed, or the plan does not apply to the input (an op not
    implemented for its layout), the Python body runs instead and a one-time
    :class:`grumpy.CompileWarning` is emitted. The result is always the Python body's.

    Rules: straight-line code, one parameter (the batch; ``(self, batch)`` for a bound method
    that does not read ``self``), and the supported constructs: ``batch <op> scalar`` for
    ``+ - * / // % **`` (both orders) and ``batch <op> batch``, unary minus, ``abs()``,
    comparisons, ``.sum/.mean/.min/.max/.ptp/.prod/.count/.any/.all(dim=)``,
    ``gr.sqrt/exp/log/log1p/sin/cos/abs/sign/floor/ceil/round/isnan/isfinite``,
    ``gr.add/subtract/.../minimum/maximum``, ``gr.where``, ``gr.clip``,
    ``gr.neighbors(batch, batch, k=, dim=, loop=)``, dataframe column reads
    ``batch.level.column`` and dot assignments ``batch.level.name = value``. Literal
    expressions fold at decoration; module globals are not read (they may be rebound).

    Parameters
    ----------
    fn : callable
        A function of one argument, the batch (an array or a dataframe).

    Returns
    -------
    CompiledTransform
        Callable like ``fn``, with ``.is_compiled``, ``.compile_error``, ``.plan`` (its
        ``explain()`` prints the ops and what was fused) and ``.fn``.

    Examples
    --------
    >>> import grumpy as gr
    >>> @gr.compile
    ... def pool(batch):
    ...     return (batch * 0.1).mean(dim=1)
    >>> pool.is_compiled, pool(gr.array([[10.0, 20.0], [30.0]])).to_list()
    (True, [1.5, 3.0])
    """
    return CompiledTransform(fn)
