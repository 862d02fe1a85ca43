"""AST → plan compiler for ``@gr.compile`` and ``Stream.apply(compile=...)``.

A batch function is parsed once, at decoration, into a list of Rust opcodes (a *plan*): each op
reads registers (register 0 is the batch) or literal scalars and writes one new register. The
rules (straight-line code, one parameter, a fixed set of constructs) are those of the user's
compilation page; anything else yields a ``compile_error`` naming the construct and its line,
and the transform falls back to Python.

>>> from grumpy.compiler import analyze
>>> def scale(batch):
...     return batch * 2.0 + 1.0
>>> ops, out, err = analyze(scale)
>>> [op["op"] for op in ops], out, err
(['binary', 'binary'], 2, None)
"""

from __future__ import annotations

import ast
import inspect
import textwrap
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
COMPARE = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
}
REDUCTIONS = {"sum", "mean", "min", "max", "ptp", "prod", "count", "any", "all"}
UNARY_FUNCS = {
    "sqrt",
    "exp",
    "log",
    "log1p",
    "sin",
    "cos",
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "isnan",
    "isfinite",
}
BINARY_FUNCS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "divide": "div",
    "remainder": "rem",
    "power": "pow",
    "minimum": "minimum",
    "maximum": "maximum",
}


class Unsupported(Exception):
    """Raised inside the analysis; becomes ``compile_error``."""

    def __init__(self, what: str, node: ast.AST | None, first_line: int):
        line = getattr(node, "lineno", None)
        where = f" (line {line + first_line - 1})" if line is not None else ""
        super().__init__(f"{what}{where}")


class _Compiler:
    def __init__(self, fn: Callable, tree: ast.FunctionDef, first_line: int, source: str):
        self.fn = fn
        self.tree = tree
        self.first_line = first_line
        self.lines = source.splitlines()
        self.ops: list[dict[str, Any]] = []
        self.env: dict[str, Any] = {}
        self.grumpy_names = _grumpy_aliases(fn)

    def fail(self, what: str, node: ast.AST | None):
        if node is not None and getattr(node, "lineno", None) is not None:
            src = self.lines[node.lineno - 1].strip() if node.lineno - 1 < len(self.lines) else ""
            what = f"{what}: `{src}`"
        raise Unsupported(what, node, self.first_line)

    def emit(self, op: dict[str, Any]) -> int:
        self.ops.append(op)
        return len(self.ops)

    # ------------------------------------------------------------------ statements
    def run(self) -> int | None:
        fn = self.tree
        args = fn.args
        if (
            len(args.args) != 1
            or args.vararg
            or args.kwarg
            or args.kwonlyargs
            or args.posonlyargs
            or args.defaults
        ):
            self.fail("the function must take exactly one parameter (the batch)", fn)
        if fn.decorator_list and len(fn.decorator_list) > 1:
            pass
        self.env[args.args[0].arg] = 0
        body = list(fn.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # docstring
        out: int | None = None
        returned = False
        for stmt in body:
            if returned:
                self.fail("code after return", stmt)
            if isinstance(stmt, ast.Return):
                out = None if stmt.value is None else self.as_reg(self.expr(stmt.value), stmt)
                returned = True
            elif isinstance(stmt, ast.Assign):
                if len(stmt.targets) != 1:
                    self.fail("chained assignment", stmt)
                self.assign(stmt.targets[0], stmt.value, stmt)
            elif isinstance(stmt, ast.AugAssign):
                op = BINARY.get(type(stmt.op))
                if op is None:
                    self.fail(f"operator {type(stmt.op).__name__}", stmt)
                value = ast.BinOp(left=_load(stmt.target), op=stmt.op, right=stmt.value)
                ast.copy_location(value, stmt)
                self.assign(stmt.target, value, stmt)
            elif isinstance(stmt, ast.Pass):
                continue
            else:
                self.fail(_stmt_name(stmt), stmt)
        if not returned:
            return None
        return out

    def assign(self, target: ast.AST, value: ast.AST, stmt: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = self.expr(value)  # a register, or a literal _Const
            return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            base, path = self.attr_path(target)
            reg = self.as_reg(self.expr(value), stmt)
            frame = self.lookup(base, target)
            if not isinstance(frame, int):
                self.fail("assignment into a constant", stmt)
            self.emit(
                {
                    "op": "set_column",
                    "frame": frame,
                    "path": path[:-1],
                    "name": path[-1],
                    "value": reg,
                }
            )
            return
        self.fail(f"assignment to {type(target).__name__}", stmt)

    # ------------------------------------------------------------------ expressions
    def lookup(self, name: ast.Name, node: ast.AST):
        if name.id in self.env:
            return self.env[name.id]
        self.fail(f"closure over outside state `{name.id}`", node)

    def attr_path(self, node: ast.AST) -> tuple[ast.Name, list[str]]:
        path: list[str] = []
        cur = node
        while True:
            if isinstance(cur, ast.Attribute):
                path.append(cur.attr)
                cur = cur.value
            elif isinstance(cur, ast.Subscript):
                key = cur.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    path.append(key.value)
                    cur = cur.value
                else:
                    self.fail('indexing (only df["column"] compiles)', node)
            elif isinstance(cur, ast.Name):
                return cur, list(reversed(path))
            else:
                self.fail(f"attribute access on {type(cur).__name__}", node)

    def as_reg(self, v, node: ast.AST) -> int:
        if isinstance(v, int) and not isinstance(v, bool) and not isinstance(v, _Const):
            return v
        self.fail("the result must be an array or dataframe, not a constant", node)

    def operand(self, v) -> dict[str, Any]:
        if isinstance(v, _Const):
            return {"scalar": v.value}
        return {"reg": v}

    def expr(self, node: ast.AST):
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (bool, int, float)):
                return _Const(node.value)
            self.fail(f"constant {node.value!r}", node)
        if isinstance(node, ast.Name):
            return self.lookup(node, node)
        if isinstance(node, ast.BinOp):
            op = BINARY.get(type(node.op))
            if op is None:
                self.fail(f"operator {type(node.op).__name__}", node)
            return self.binary(op, self.expr(node.left), self.expr(node.right), node)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return v
            kind = {ast.USub: "neg", ast.Invert: "not"}.get(type(node.op))
            if kind is None:
                self.fail("`not` (use ~ on bool arrays)", node)
            if isinstance(v, _Const):
                return _Const(-v.value) if kind == "neg" else self.fail("~ on a constant", node)
            return self.emit({"op": "unary", "kind": kind, "src": v})
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self.fail("chained comparison", node)
            op = COMPARE.get(type(node.ops[0]))
            if op is None:
                self.fail(f"comparison {type(node.ops[0]).__name__}", node)
            return self.binary(op, self.expr(node.left), self.expr(node.comparators[0]), node)
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            base, path = self.attr_path(node)
            if base.id in self.grumpy_names and base.id not in self.env:
                self.fail(f"gr.{'.'.join(path)} used as a value", node)
            src = self.lookup(base, node)
            if isinstance(src, _Const) or not isinstance(src, int):
                self.fail("attribute of a constant", node)
            return self.emit({"op": "column", "src": src, "path": path})
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Lambda):
            self.fail("lambda", node)
        if isinstance(node, ast.IfExp):
            self.fail("conditional expression (if/else)", node)
        self.fail(type(node).__name__, node)

    def binary(self, op: str, a, b, node: ast.AST):
        if isinstance(a, _Const) and isinstance(b, _Const):
            self.fail("arithmetic between constants only", node)
        if any(isinstance(v, _Const) and v.value is None for v in (a, b)):
            self.fail("None as an operand", node)
        return self.emit(
            {"op": "binary", "kind": op, "lhs": self.operand(a), "rhs": self.operand(b)}
        )

    def call(self, node: ast.Call):
        f = node.func
        # method call on an array / dataframe: x.mean(dim=...)
        if isinstance(f, ast.Attribute) and not (
            isinstance(f.value, ast.Name)
            and f.value.id in self.grumpy_names
            and f.value.id not in self.env
        ):
            if f.attr not in REDUCTIONS:
                self.fail(f"method .{f.attr}()", node)
            src = self.expr(f.value)
            if isinstance(src, _Const):
                self.fail(f"method .{f.attr}() on a constant", node)
            kw = self.kwargs(node, {"dim"}, positional=["dim"])
            dim = kw.get("dim")
            if dim is not None and not isinstance(dim, int):
                self.fail("dim must be an integer literal", node)
            return self.emit({"op": "reduce", "kind": f.attr, "src": src, "dim": dim})
        if isinstance(f, ast.Attribute):
            name = f.attr
        else:
            self.fail(
                f"call to {ast.unparse(f) if hasattr(ast, 'unparse') else 'a function'}", node
            )
        if name in REDUCTIONS:
            if not node.args:
                self.fail(f"gr.{name}() without an array", node)
            src = self.expr(node.args[0])
            kw = self.kwargs(
                ast.Call(func=f, args=node.args[1:], keywords=node.keywords), {"dim"}, ["dim"]
            )
            return self.emit({"op": "reduce", "kind": name, "src": src, "dim": kw.get("dim")})
        if name in UNARY_FUNCS:
            if len(node.args) != 1 or node.keywords:
                self.fail(f"gr.{name} takes one array", node)
            src = self.expr(node.args[0])
            if isinstance(src, _Const):
                self.fail(f"gr.{name} of a constant", node)
            return self.emit({"op": "unary", "kind": name, "src": src})
        if name in BINARY_FUNCS:
            if len(node.args) != 2 or node.keywords:
                self.fail(f"gr.{name} takes two operands", node)
            return self.binary(
                BINARY_FUNCS[name], self.expr(node.args[0]), self.expr(node.args[1]), node
            )
        if name == "where":
            if len(node.args) != 3 or node.keywords:
                self.fail("gr.where takes (cond, a, b)", node)
            c, a, b = (self.expr(x) for x in node.args)
            if isinstance(c, _Const):
                self.fail("gr.where with a constant condition", node)
            return self.emit(
                {"op": "where", "cond": c, "lhs": self.operand(a), "rhs": self.operand(b)}
            )
        if name == "clip":
            if not node.args:
                self.fail("gr.clip without an array", node)
            src = self.expr(node.args[0])
            rest = ast.Call(func=f, args=node.args[1:], keywords=node.keywords)
            kw = self.kwargs(rest, {"lo", "hi", "a_min", "a_max"}, ["lo", "hi"])
            lo = kw.get("lo", kw.get("a_min"))
            hi = kw.get("hi", kw.get("a_max"))
            return self.emit({"op": "clip", "src": src, "lo": lo, "hi": hi})
        if name == "neighbors":
            if len(node.args) != 2:
                self.fail("gr.neighbors(query, data, ...) needs two positional arrays", node)
            q, d = (self.expr(x) for x in node.args)
            kw = self.kwargs(
                ast.Call(func=f, args=[], keywords=node.keywords),
                {"k", "radius", "dim", "loop"},
                [],
            )
            return self.emit(
                {
                    "op": "neighbors",
                    "query": q,
                    "data": d,
                    "k": kw.get("k"),
                    "radius": kw.get("radius"),
                    "dim": kw.get("dim", 0),
                    "loop": kw.get("loop", True),
                    "same": node.args[0].id == node.args[1].id
                    if isinstance(node.args[0], ast.Name) and isinstance(node.args[1], ast.Name)
                    else False,
                }
            )
        self.fail(f"call to gr.{name}", node)

    def kwargs(self, node: ast.Call, allowed: set[str], positional: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if len(node.args) > len(positional):
            self.fail("too many positional arguments", node)
        for name, a in zip(positional, node.args):
            out[name] = self.literal(a)
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in allowed:
                self.fail(f"keyword argument {kw.arg!r}", node)
            out[kw.arg] = self.literal(kw.value)
        return out

    def literal(self, node: ast.AST):
        v = self.expr(node)
        if not isinstance(v, _Const):
            self.fail("this argument must be a literal constant", node)
        return v.value


class _Const:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _load(target: ast.AST) -> ast.AST:
    node = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(node, target)


def _stmt_name(stmt: ast.AST) -> str:
    names = {
        ast.If: "if statement (control flow)",
        ast.For: "for loop (control flow)",
        ast.While: "while loop (control flow)",
        ast.Try: "try statement (exception handling)",
        ast.With: "with statement",
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
        ast.Expr: "expression statement (a call with side effects)",
    }
    for cls, name in names.items():
        if isinstance(stmt, cls):
            return name
    return f"{type(stmt).__name__} statement"


def _grumpy_aliases(fn: Callable) -> set[str]:
    import grumpy

    g = getattr(fn, "__globals__", {})
    return {name for name, v in g.items() if v is grumpy}


def analyze(fn: Callable) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """Return ``(ops, output_register, error)`` for ``fn``; ``error`` is None on success."""
    try:
        if getattr(fn, "__name__", "") == "<lambda>":
            raise Unsupported(
                "lambda functions cannot be compiled (define the transform with def)", None, 0
            )
        try:
            source = inspect.getsource(fn)
            first_line = inspect.getsourcelines(fn)[1]
        except (OSError, TypeError) as e:
            raise Unsupported(f"source code is not available ({e})", None, 0) from None
        source = textwrap.dedent(source)
        tree = ast.parse(source)
        fdef = next(
            (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None
        )
        if fdef is None or isinstance(fdef, ast.AsyncFunctionDef):
            raise Unsupported("only plain def functions compile", None, 0)
        if getattr(fn, "__closure__", None):
            free = fn.__code__.co_freevars
            raise Unsupported(f"closure over outside state `{free[0]}`", fdef, first_line)
        comp = _Compiler(fn, fdef, first_line, source)
        out = comp.run()
        return comp.ops, out, None
    except Unsupported as e:
        return [], None, str(e)
    except SyntaxError as e:
        return [], None, f"cannot parse the source: {e}"


def chain(
    plans: list[tuple[list[dict[str, Any]], int | None]],
) -> tuple[list[dict[str, Any]], int | None]:
    """Fuse consecutive plans: the output of each feeds register 0 of the next.

    A plan whose function returns nothing (``None``) passes its (mutated) input on, the way
    ``Stream.apply`` treats such functions.
    """
    ops: list[dict[str, Any]] = []
    current = 0
    for plan_ops, out in plans:
        base = len(ops)

        def remap(r: int, current: int = current, base: int = base) -> int:
            return current if r == 0 else r + base

        for op in plan_ops:
            ops.append(_remap(op, remap))
        current = current if out is None else remap(out)
    return ops, current


def _remap(op: dict[str, Any], f: Callable[[int], int]) -> dict[str, Any]:
    out = dict(op)
    for key in ("src", "frame", "query", "data", "cond", "value"):
        if key in out and isinstance(out[key], int) and not isinstance(out[key], bool):
            out[key] = f(out[key])
    for key in ("lhs", "rhs"):
        if key in out and isinstance(out[key], dict) and "reg" in out[key]:
            out[key] = {"reg": f(out[key]["reg"])}
    return out
