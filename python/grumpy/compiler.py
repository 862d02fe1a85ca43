"""AST → plan compiler for ``@gr.compile`` and ``Stream.apply(compile=...)``.

A batch function is parsed once, at decoration, into a list of Rust opcodes (a *plan*): each op
reads registers (register 0 is the batch) or literal scalars and writes one new register, in the
order the Python body evaluates them. The rules (straight-line code, one parameter, a fixed set
of constructs) are those of the user's compilation page; anything else yields a
``compile_error`` naming the construct and its line, and the transform falls back to Python.

Only literals are bound at decoration time (``k = 2.0`` and ``2 ** 10`` fold into constants).
Module globals are not: Python reads a global each time the function runs, so a compiled copy
of ``SCALE`` would silently go stale when the module rebinds it; such functions run as Python.

>>> from grumpy.compiler import analyze
>>> def scale(batch):
...     return batch * 2.0 + 1.0
>>> prog = analyze(scale)
>>> [op["op"] for op in prog.ops], prog.output, prog.error
(['binary', 'binary'], 2, None)
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import math
import operator
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any, Callable

BINARY = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.FloorDiv: "floor_div",
    ast.Mod: "rem",
    ast.Pow: "pow",
    ast.BitAnd: "and",
    ast.BitOr: "or",
    ast.BitXor: "xor",
}
FOLD = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
COMPARE = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
}
REDUCTIONS = ("sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all")
# gr.<name> -> the plan's unary op name (the Rust enum's serde names)
UNARY_FUNCS = {
    "sqrt": "sqrt",
    "exp": "exp",
    "log": "log",
    "log1p": "log1p",
    "sin": "sin",
    "cos": "cos",
    "abs": "abs",
    "sign": "sign",
    "floor": "floor",
    "ceil": "ceil",
    "round": "round",
    "isnan": "is_nan",
    "isfinite": "is_finite",
}
BINARY_FUNCS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "divide": "div",
    "floor_divide": "floor_div",
    "remainder": "rem",
    "power": "pow",
    "minimum": "minimum",
    "maximum": "maximum",
}
# gr.clip's bound aliases, as eager gr.clip accepts them (whichever its signature lists)
CLIP_LOWER = ("lo", "a_min", "min")
CLIP_UPPER = ("hi", "a_max", "max")
I64 = (-(2**63), 2**64 - 1)  # ints that travel exactly (int64 or uint64 literals)


class Unsupported(Exception):
    """Raised inside the analysis; becomes ``compile_error``."""


@dataclass
class Program:
    """A compiled function: ops (JSON-ready dicts), output register, ops whose literal is a
    Python int beyond 64 bits (stored as the nearest float), the source line of every op, and
    the error when analysis failed."""

    ops: list[dict[str, Any]] = field(default_factory=list)
    output: int | None = None
    float_literals: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> str:
        """The plan JSON read by ``grumpy._core.Plan`` (non-finite floats as strings)."""
        doc = {"ops": [_jsonable(op) for op in self.ops], "output": self.output}
        if self.float_literals:
            doc["float_literals"] = self.float_literals
        return json.dumps(doc, allow_nan=False)


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


class _Const:
    """A literal known at decoration time."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Outside:
    """A name the body may not read (a bound method's ``self``)."""

    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why


def _frame_and_array_attributes() -> set[str]:
    from . import _core

    names: set[str] = set()
    for cls in (_core.GrumpyArray, _core.DataFrame):
        names.update(n for n in dir(cls))
    return names


class _Compiler:
    def __init__(self, fn: Callable, fdef: ast.FunctionDef, first_line: int, source: str):
        import grumpy

        self.grumpy = grumpy
        self.globals = getattr(fn, "__globals__", {})
        self.fdef = fdef
        self.first_line = first_line
        self.lines = source.splitlines()
        self.prog = Program()
        self.env: dict[str, Any] = {}
        self.gr_names = {n for n, v in self.globals.items() if v is grumpy}
        self.reserved = _frame_and_array_attributes()
        self.line = fdef.lineno

    # ------------------------------------------------------------------ errors and ops
    def fail(self, what: str, node: ast.AST | None = None):
        line = getattr(node, "lineno", None) or self.line
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        raise Unsupported(f"{what} (line {line + self.first_line - 1}: `{text}`)")

    def emit(self, op: dict[str, Any], node: ast.AST, big: bool = False) -> int:
        self.prog.ops.append(op)
        self.prog.lines.append(getattr(node, "lineno", self.line) + self.first_line - 1)
        if big:
            self.prog.float_literals.append(len(self.prog.ops) - 1)
        return len(self.prog.ops)

    # ------------------------------------------------------------------ statements
    def body(self, params: list[str], bound_self: bool) -> Program:
        args = self.fdef.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults:
            self.fail("the function must take exactly one parameter (the batch)", self.fdef)
        if bound_self:
            if len(params) != 2:
                self.fail("a method must take exactly (self, batch)", self.fdef)
            self.env[params[0]] = _Outside(
                f"closure over outside state `{params[0]}` (the method's instance)"
            )
            params = params[1:]
        if len(params) != 1:
            self.fail("the function must take exactly one parameter (the batch)", self.fdef)
        self.env[params[0]] = 0
        stmts = list(self.fdef.body)
        if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant):
            stmts = stmts[1:]  # docstring
        for stmt in stmts:
            self.line = stmt.lineno
            if isinstance(stmt, ast.Return):
                self.prog.output = None if stmt.value is None else self.reg(stmt.value, stmt)
                return self.prog  # statements after return never run
            self.statement(stmt)
        self.prog.output = None
        return self.prog

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1:
                self.fail("chained assignment (a = b = ...)", stmt)
            self.assign(stmt.targets[0], stmt.value, stmt)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, stmt.value, stmt)
        elif isinstance(stmt, ast.AugAssign):
            if type(stmt.op) not in BINARY:
                self.fail(f"operator {type(stmt.op).__name__}", stmt)
            value = ast.copy_location(
                ast.BinOp(left=_load(stmt.target), op=stmt.op, right=stmt.value), stmt
            )
            self.assign(stmt.target, value, stmt)
        elif isinstance(stmt, ast.Pass):
            pass
        elif isinstance(stmt, ast.Expr):
            self.expr(stmt.value)  # evaluated for its errors; unused results are skipped
        else:
            self.fail(_stmt_name(stmt), stmt)

    def assign(self, target: ast.AST, value: ast.AST, stmt: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = self.expr(value)  # a register, or a literal _Const
            return
        if isinstance(target, ast.Attribute):
            reg = self.reg(value, stmt)
            base, path = self.attr_path(target)
            frame = self.lookup(base)
            if not isinstance(frame, int):
                self.fail("assignment to an attribute of a constant", stmt)
            self.emit(
                {
                    "op": "set_column",
                    "frame": frame,
                    "path": path[:-1],
                    "name": path[-1],
                    "value": reg,
                },
                stmt,
            )
            return
        if isinstance(target, ast.Subscript):
            self.fail("item assignment (x[...] = v; use batch.<level>.<name> = v)", stmt)
        self.fail(f"assignment to a {type(target).__name__.lower()}", stmt)

    # ------------------------------------------------------------------ expressions
    def lookup(self, name: ast.Name):
        v = self.env.get(name.id)
        if isinstance(v, _Outside):
            self.fail(v.why, name)
        if v is not None:
            return v
        if name.id in self.gr_names:
            self.fail(f"the grumpy module `{name.id}` used as a value", name)
        self.fail(
            f"closure over outside state `{name.id}` (a global or builtin is read when the "
            "function runs; pass constants as literals)",
            name,
        )

    def attr_path(self, node: ast.AST) -> tuple[ast.Name, list[str]]:
        path: list[str] = []
        cur = node
        while isinstance(cur, ast.Attribute):
            if cur.attr in self.reserved:
                self.fail(
                    f"attribute .{cur.attr} (an attribute of arrays/dataframes, not a dataframe "
                    f'level or column; use batch["{cur.attr}"] in Python)',
                    node,
                )
            path.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Subscript):
            self.fail("indexing (x[...])", cur)
        if not isinstance(cur, ast.Name):
            self.fail(f"attribute access on {_expr_name(cur)}", node)
        return cur, path[::-1]

    def reg(self, node: ast.AST, stmt: ast.AST) -> int:
        v = self.expr(node)
        if isinstance(v, _Const):
            self.fail("the result must be an array or dataframe, not a constant", stmt)
        return v

    def operand(self, v) -> tuple[dict[str, Any], bool]:
        """Operand dict and whether it is a big-int literal (stored as a float)."""
        if isinstance(v, _Const):
            x = v.value
            if not isinstance(x, (bool, int, float)):
                self.fail(f"{type(x).__name__} operand {x!r}")
            if isinstance(x, int) and not isinstance(x, bool) and not I64[0] <= x <= I64[1]:
                try:
                    return {"scalar": float(x)}, True
                except OverflowError:
                    raise Unsupported("integer literal too large for any dtype") from None
            return {"scalar": x}, False
        return {"reg": v}, False

    def const(self, value, node):
        if value is None or isinstance(value, (bool, int, float, str)):
            return _Const(value)
        self.fail(f"constant {value!r} of type {type(value).__name__}", node)

    def expr(self, node: ast.AST):
        self.line = getattr(node, "lineno", self.line)
        if isinstance(node, ast.Constant):
            return self.const(node.value, node)
        if isinstance(node, ast.Name):
            return self.lookup(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in BINARY:
                self.fail(f"operator {type(node.op).__name__}", node)
            a, b = self.expr(node.left), self.expr(node.right)
            return self.binary(BINARY[type(node.op)], a, b, node, FOLD[type(node.op)])
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self.fail("chained comparison (a < b < c)", node)
            op = type(node.ops[0])
            if op not in COMPARE:
                self.fail(f"comparison `{ast.unparse(node)}` (is / in)", node)
            a, b = self.expr(node.left), self.expr(node.comparators[0])
            return self.binary(COMPARE[op], a, b, node, FOLD[op])
        if isinstance(node, ast.Attribute):
            base, path = self.attr_path(node)
            if base.id in self.gr_names and base.id not in self.env:
                self.fail(f"gr.{'.'.join(path)} used as a value", node)
            src = self.lookup(base)
            if isinstance(src, _Const):
                self.fail("attribute of a constant", node)
            return self.emit({"op": "column", "src": src, "path": path}, node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail(_expr_name(node), node)

    def fold(self, f, *values, node):
        try:
            out = f(*values)
        except Exception as e:  # noqa: BLE001 - Python would raise it at run time too
            self.fail(f"constant expression raises {type(e).__name__}: {e}", node)
        return self.const(out, node)

    def binary(self, op: str, a, b, node: ast.AST, fold=None):
        if isinstance(a, _Const) and isinstance(b, _Const):
            if fold is None:
                self.fail("a grumpy function of constants only", node)
            if op == "pow" and isinstance(b.value, int) and abs(b.value) > 4096:
                self.fail("constant power too large to fold", node)
            return self.fold(fold, a.value, b.value, node=node)
        if any(isinstance(v, _Const) and v.value is None for v in (a, b)):
            self.fail("None as an operand", node)
        (lhs, big_a), (rhs, big_b) = self.operand(a), self.operand(b)
        return self.emit(
            {"op": "binary", "kind": op, "lhs": lhs, "rhs": rhs}, node, big=big_a or big_b
        )

    def unary(self, node: ast.UnaryOp):
        v = self.expr(node.operand)
        if isinstance(node.op, ast.Not):
            self.fail("`not` (use ~ on bool arrays)", node)
        if isinstance(v, _Const):
            f = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
            return self.fold(f[type(node.op)], v.value, node=node)
        if isinstance(node.op, ast.UAdd):
            return v  # +x is x for arrays (GrumpyArray.__pos__)
        kind = "neg" if isinstance(node.op, ast.USub) else "not"
        return self.emit({"op": "unary", "kind": kind, "src": v}, node)

    # ------------------------------------------------------------------ calls
    def bind(self, fn, node: ast.Call, label: str, receiver: bool = False) -> dict[str, Any]:
        """Evaluate a call's arguments in source order (as Python does) and bind them to
        ``fn``'s signature, the way eager grumpy reads the call: parameter -> value."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            self.fail(f"{label}(*args / **kwargs)", node)
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            self.fail(f"{label}: its signature is not known", node)
        args = [self.expr(a) for a in node.args]
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords}
        self.line = node.lineno
        try:
            bound = sig.bind(*([None] if receiver else []), *args, **kwargs)
        except TypeError as e:
            self.fail(f"{label}: {e}", node)
        out = dict(bound.arguments)
        if receiver:
            out.pop(next(iter(sig.parameters)))
        return out

    def literal(self, v, kinds: tuple, what: str, node: ast.AST, default=None):
        """The value of an argument that must be a literal of one of ``kinds``."""
        if v is _ABSENT:
            return default
        if not (isinstance(v, _Const) and type(v.value) in kinds):
            names = "/".join("None" if k is type(None) else k.__name__ for k in kinds)
            self.fail(f"{what} must be a literal {names}", node)
        return v.value

    def call(self, node: ast.Call):
        f = node.func
        is_gr = (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id in self.gr_names
            and f.value.id not in self.env
        )
        if isinstance(f, ast.Attribute) and not is_gr:
            return self.method(node, f)
        if isinstance(f, ast.Name) and f.id not in self.env:
            if f.id == "abs" and "abs" not in self.globals:
                (v,) = self.bind(builtins.abs, node, "abs").values()
                if isinstance(v, _Const):
                    return self.fold(abs, v.value, node=node)
                return self.emit({"op": "unary", "kind": "abs", "src": v}, node)
            if f.id in self.globals:
                self.fail(
                    f"closure over outside state `{f.id}` (a global is read when the function "
                    "runs)",
                    node,
                )
            self.fail(f"call to {f.id}()", node)
        if not is_gr:
            self.fail(f"call to {_expr_name(f)}", node)
        name = f.attr
        fn = getattr(self.grumpy, name, None)
        if fn is None:
            self.fail(f"gr.{name} does not exist", node)
        label = f"gr.{name}"
        if name in REDUCTIONS:
            b = self.bind(fn, node, label)
            src = next(iter(b.values()), None)
            dim = self.literal(b.get("dim", _ABSENT), (int, type(None)), "dim", node)
            return self.reduce(name, src, dim, node)
        if name in UNARY_FUNCS:
            b = self.bind(fn, node, label)
            if len(b) != 1:
                self.fail(f"{label} with arguments besides the array", node)
            (src,) = b.values()
            if isinstance(src, _Const):
                self.fail(f"{label} of a constant", node)
            return self.emit({"op": "unary", "kind": UNARY_FUNCS[name], "src": src}, node)
        if name in BINARY_FUNCS:
            b = self.bind(fn, node, label)
            if len(b) != 2:
                self.fail(f"{label} needs two operands", node)
            a, c = b.values()
            return self.binary(BINARY_FUNCS[name], a, c, node)
        if name == "where":
            b = self.bind(fn, node, label)
            c, a, d = b.values()
            if isinstance(c, _Const):
                self.fail("gr.where with a constant condition", node)
            (lhs, big_a), (rhs, big_b) = self.operand(a), self.operand(d)
            return self.emit(
                {"op": "where", "cond": c, "lhs": lhs, "rhs": rhs}, node, big=big_a or big_b
            )
        if name == "clip":
            return self.clip(fn, node)
        if name == "neighbors":
            return self.neighbors(fn, node)
        self.fail(f"call to {label}", node)

    def reduce(self, kind: str, src, dim, node):
        if not isinstance(src, int) or isinstance(src, bool):
            self.fail(f".{kind}() of a constant", node)
        return self.emit({"op": "reduce", "kind": kind, "src": src, "dim": dim}, node)

    def method(self, node: ast.Call, f: ast.Attribute):
        if f.attr not in REDUCTIONS:
            self.fail(f"method .{f.attr}()", node)
        src = self.expr(f.value)
        if isinstance(src, _Const):
            self.fail(f"method .{f.attr}() of a constant", node)
        from . import _core

        b = self.bind(getattr(_core.GrumpyArray, f.attr), node, f".{f.attr}", receiver=True)
        dim = self.literal(b.get("dim", _ABSENT), (int, type(None)), "dim", node)
        return self.reduce(f.attr, src, dim, node)

    def clip(self, fn, node: ast.Call):
        b = self.bind(fn, node, "gr.clip")
        params = list(inspect.signature(fn).parameters)
        src = b.pop(params[0])
        bounds = []
        for aliases, positional in ((CLIP_LOWER, params[1:2]), (CLIP_UPPER, params[2:3])):
            names = [n for n in b if n in aliases or n in positional]
            if len(names) > 1:
                self.fail(f"gr.clip got one bound twice ({', '.join(names)})", node)
            bounds.append(b.pop(names[0]) if names else _ABSENT)
        if b:
            self.fail(f"gr.clip argument {next(iter(b))}=", node)
        lo, hi = (self.literal(x, (int, float, type(None)), "gr.clip bounds", node) for x in bounds)
        if isinstance(src, _Const):
            self.fail("gr.clip of a constant", node)
        big = any(isinstance(v, int) and not I64[0] <= v <= I64[1] for v in (lo, hi))
        if big:
            lo, hi = (float(v) if isinstance(v, int) else v for v in (lo, hi))
        return self.emit({"op": "clip", "src": src, "lo": lo, "hi": hi}, node, big=big)

    def neighbors(self, fn, node: ast.Call):
        b = self.bind(fn, node, "gr.neighbors")
        q, d = b["query"], b["data"]
        if isinstance(q, _Const) or isinstance(d, _Const):
            self.fail("gr.neighbors of a constant", node)
        get = lambda name: b.get(name, _ABSENT)
        k = self.literal(get("k"), (int, type(None)), "k", node)
        radius = self.literal(get("radius"), (int, float, type(None)), "radius", node)
        dim = self.literal(get("dim"), (int,), "dim", node, default=0)
        loop = self.literal(get("loop"), (bool,), "loop", node, default=True)
        if self.literal(get("return_distances"), (bool,), "return_distances", node, False):
            self.fail("gr.neighbors(..., return_distances=True) (returns a tuple)", node)
        if self.literal(get("output"), (str,), "output", node, "pairs") != "pairs":
            self.fail('gr.neighbors(..., output=) other than "pairs"', node)
        if (k is None) == (radius is None):
            self.fail("gr.neighbors needs exactly one of k= and radius=", node)
        op = {"op": "neighbors", "query": q, "data": d, "k": k, "dim": dim, "loop": loop}
        op["radius"] = None if radius is None else float(radius)
        op["same"] = q == d
        return self.emit(op, node)


_ABSENT = object()


def _load(target: ast.AST) -> ast.AST:
    node = ast.parse(ast.unparse(target), mode="eval").body
    for n in ast.walk(node):
        ast.copy_location(n, target)
    return node


_STATEMENTS = {
    ast.If: "if statement (control flow)",
    ast.For: "for loop (control flow)",
    ast.AsyncFor: "for loop (control flow)",
    ast.While: "while loop (control flow)",
    ast.Try: "try statement (exception handling)",
    ast.With: "with statement",
    ast.AsyncWith: "with statement",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.FunctionDef: "nested function definition",
    ast.AsyncFunctionDef: "nested function definition",
    ast.ClassDef: "class definition",
    ast.Raise: "raise statement",
    ast.Global: "global statement",
    ast.Nonlocal: "nonlocal statement",
    ast.Delete: "del statement",
    ast.Assert: "assert statement",
    ast.AnnAssign: "annotation without a value",
}


def _stmt_name(stmt: ast.AST) -> str:
    for cls, name in _STATEMENTS.items():
        if isinstance(stmt, cls):
            return name
    if type(stmt).__name__ in ("Match", "TryStar"):
        return f"{type(stmt).__name__.lower()} statement (control flow)"
    return f"{type(stmt).__name__} statement"


_EXPRESSIONS = {
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expression (if/else)",
    ast.BoolOp: "`and` / `or` (use & and | on bool arrays)",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Yield: "yield: generators cannot be compiled",
    ast.YieldFrom: "yield: generators cannot be compiled",
    ast.Await: "await: coroutines cannot be compiled",
    ast.JoinedStr: "f-string",
    ast.NamedExpr: "assignment expression (:=)",
    ast.Subscript: "indexing (x[...])",
    ast.Starred: "starred expression",
    ast.Tuple: "tuple",
    ast.List: "list",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.Slice: "slice",
}


def _expr_name(node: ast.AST) -> str:
    for cls, name in _EXPRESSIONS.items():
        if isinstance(node, cls):
            return name
    return f"{type(node).__name__} expression"


def _generator_line(fdef: ast.AST) -> int | None:
    for n in ast.walk(fdef):
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return n.lineno
    return None


def _resolve(fn: Callable):
    """The plain function to compile and whether it is bound (``self`` first)."""
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType):
        return fn.__func__, True
    if isinstance(fn, types.FunctionType):
        return fn, False
    kind = type(fn).__name__
    raise Unsupported(
        f"only functions defined with def compile (got a {kind} object; its __call__ or "
        "wrapped function may do more than the source it points to)"
    )


def _source(func: types.FunctionType) -> tuple[ast.FunctionDef, int, str]:
    """Parse exactly ``func``'s own source (not a ``__wrapped__`` one), checked against its code."""
    code = func.__code__
    if code.co_name == "<lambda>":
        raise Unsupported("lambda functions cannot be compiled (define the transform with def)")
    try:
        lines, start = inspect.getsourcelines(code)  # a code object is never unwrapped
    except (OSError, TypeError) as e:
        raise Unsupported(f"source code is not available ({e})") from None
    source = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise Unsupported(f"cannot parse the source: {e}") from None
    fdef = tree.body[0] if tree.body else None
    if isinstance(fdef, ast.AsyncFunctionDef):
        raise Unsupported(f"async def: coroutines cannot be compiled (line {start})")
    if not isinstance(fdef, ast.FunctionDef):
        raise Unsupported("only functions defined with def compile")
    first = min([fdef.lineno] + [d.lineno for d in fdef.decorator_list])
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
    if (
        fdef.name != code.co_name
        or start + first - 1 != code.co_firstlineno
        or params != list(code.co_varnames[: code.co_argcount])
    ):
        raise Unsupported(
            "the source found does not match the function's code (edited or redefined since "
            "it was loaded?)"
        )
    return fdef, start, source


def analyze(fn: Callable) -> Program:
    """Compile ``fn`` into a :class:`Program` (``error`` set when it cannot be compiled)."""
    try:
        func, bound = _resolve(fn)
        fdef, start, source = _source(func)
        gen = _generator_line(fdef)
        if gen is not None:
            text = source.splitlines()[gen - 1].strip()
            raise Unsupported(
                f"yield: generators cannot be compiled (line {gen + start - 1}: `{text}`)"
            )
        if func.__closure__:
            name = func.__code__.co_freevars[0]
            raise Unsupported(f"closure over outside state `{name}` (line {start})")
        comp = _Compiler(func, fdef, start, source)
        params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args]
        return comp.body(params, bound)
    except Unsupported as e:
        return Program(error=str(e))
    except RecursionError:
        return Program(error="expression nested too deeply")


def chain(programs: list[Program]) -> Program:
    """Fuse consecutive programs: the output of each feeds register 0 of the next.

    A function returning nothing (``None``) passes its (mutated) input on, the way
    ``Stream.apply`` treats such functions.
    """
    out = Program()
    current = 0
    for prog in programs:
        base = len(out.ops)

        def remap(r: int, current: int = current, base: int = base) -> int:
            return current if r == 0 else r + base

        for i, op in enumerate(prog.ops):
            out.ops.append(_remap(op, remap))
            out.lines.append(prog.lines[i] if i < len(prog.lines) else 0)
        out.float_literals.extend(i + base for i in prog.float_literals)
        current = current if prog.output is None else remap(prog.output)
    out.output = current
    return out


def _remap(op: dict[str, Any], f: Callable[[int], int]) -> dict[str, Any]:
    out = dict(op)
    for key in ("src", "frame", "query", "data", "cond", "value"):
        if key in out and isinstance(out[key], int) and not isinstance(out[key], bool):
            out[key] = f(out[key])
    for key in ("lhs", "rhs"):
        if key in out and isinstance(out[key], dict) and "reg" in out[key]:
            out[key] = {"reg": f(out[key]["reg"])}
    if "same" in out:
        out["same"] = out["query"] == out["data"]
    return out
