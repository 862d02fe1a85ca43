"""Errors are answers: what gr.array refuses, the error classes and their codes, and that no
Rust panic (or crash) ever reaches the interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import grumpy as gr
import numpy as np
import pytest

# Subprocesses import the same grumpy as this process (the installed wheel, or a develop build).
PYTHONPATH = os.pathsep.join([os.path.dirname(os.path.dirname(gr.__file__))] + sys.path)


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter importing the grumpy under test."""
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


# ---------------------------------------------------------------- strings and numbers
@pytest.mark.parametrize(
    "data",
    [
        ["a", 1.5],
        [1.5, "a"],
        ["a", 1],
        ["a", True],
        [["a", 1.5], ["b", "c"]],
        [["b", "c"], ["a", 1.5]],
        ["a", [1]],
        [[1], "a"],
        [[["a"]], [[None, 2.0]]],
        ["a", None, 3],
    ],
)
def test_strings_and_numbers_never_mix(data):
    with pytest.raises(gr.DTypeError, match="strings and numbers"):
        gr.array(data)


def test_cat_of_strings_and_numbers_is_a_dtype_error():
    s = gr.array(["a", "b"])
    i = gr.array([1, 2])
    for parts in ([s, i], [i, s]):
        with pytest.raises(gr.DTypeError):
            gr.cat(parts)
    with pytest.raises(gr.DTypeError):
        gr.cat([gr.array([["a"]]), gr.array([[1]])], dim=1)
    assert gr.cat([s, gr.array(["c"])]).to_list() == ["a", "b", "c"]
    assert gr.cat([i, gr.array([0.5])]).to_list() == [1.0, 2.0, 0.5]


# ---------------------------------------------------------------- refused inputs
@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ({"a": 1}, gr.DTypeError, "dict"),
        ({1, 2}, gr.DTypeError, "set"),
        (frozenset([1]), gr.DTypeError, "set"),
        ([{"a": 1}], gr.DTypeError, "dict"),
        ([[1], {2}], gr.DTypeError, "set"),
        (b"abc", gr.DTypeError, "bytes"),
        ([b"abc"], gr.DTypeError, "bytes"),
        ([bytearray(b"a")], gr.DTypeError, "bytes"),
        ("abc", gr.ArgumentError, "str"),
        (5, gr.ArgumentError, "int"),
        (None, gr.ArgumentError, "NoneType"),
        ([1 + 2j], gr.DTypeError, "complex"),
        ([object()], gr.DTypeError, "object"),
        ([np.datetime64("2020-01-01")], gr.DTypeError, "date"),
    ],
)
def test_refused_inputs_name_the_problem(data, error, words):
    with pytest.raises(error, match=words) as e:
        gr.array(data)
    assert e.value.fix


def test_integers_beyond_uint64_need_a_float_dtype():
    with pytest.raises(gr.ArgumentError, match="too large") as e:
        gr.array([2**64])
    assert "float64" in e.value.fix
    with pytest.raises(gr.ArgumentError):
        gr.array([-1, 2**64 - 1])
    with pytest.raises(gr.ArgumentError):
        gr.array([[-(2**63) - 1]])
    assert gr.array([2**64], dtype=gr.float64).to_list() == [float(2**64)]
    assert gr.array([-1, 2**64 - 1], dtype=gr.float64).to_list() == [-1.0, float(2**64 - 1)]
    # a float in the data makes float64 the answer, as in NumPy
    assert gr.array([-1, 2**64 - 1, 0.5]).dtype == gr.float64
    assert gr.array([10**40, 1.5]).to_list() == [1e40, 1.5]


def test_uint64_inference():
    x = gr.array([2**64 - 1, 1])
    assert x.dtype == gr.uint64
    assert x.to_list() == [2**64 - 1, 1]
    assert gr.array([[2**63], [True, 0]]).dtype == gr.uint64
    assert gr.array([1, [2**64 - 1]]).dtype == gr.uint64


def test_out_of_bounds_for_the_requested_dtype():
    with pytest.raises(gr.ArgumentError, match="300 out of bounds for int8"):
        gr.array([300], dtype="int8")
    with pytest.raises(gr.ArgumentError, match="-1 out of bounds for uint8"):
        gr.array([[1, -1]], dtype=gr.uint8)
    with pytest.raises(gr.ArgumentError):
        gr.array([1.5, 300], dtype=gr.int8)  # every Python int is checked, as in NumPy
    assert gr.array([True, 127], dtype=gr.int8).to_list() == [1, 127]
    assert gr.array([1.9], dtype=gr.int8).to_list() == [1]


# ---------------------------------------------------------------- deep nesting
def test_deep_nesting_is_an_error_not_a_crash():
    r = run_python(
        """
        import grumpy as gr
        x = [1.0]
        for _ in range(10_000):
            x = [x]
        try:
            gr.array(x)
        except gr.ArgumentError as e:
            print("refused:", e.code, "|", e.fix)
        y = [1.0]
        for _ in range(200):
            y = [y]
        a = gr.array(y)
        print("ok", a.ndim, a.to_list() == y, len(repr(a)) < 200, a.size)
        print("deepcopy", __import__("copy").deepcopy(a).ndim)
        loop = []
        loop.append(loop)
        try:
            gr.array(loop)
        except gr.ArgumentError:
            print("self-reference refused")
        """
    )
    assert r.returncode == 0, r.stderr
    assert "refused: ArgumentError" in r.stdout
    assert "ok 201 True True 1" in r.stdout
    assert "deepcopy 201" in r.stdout
    assert "self-reference refused" in r.stdout


def test_deep_from_offsets_is_refused():
    offs = [np.array([0, 1])] * 300
    with pytest.raises(gr.ArgumentError, match="nested"):
        gr.from_offsets(np.array([1.0]), *offs)


# ---------------------------------------------------------------- error classes
def _double(batch):
    return batch * 2.0


def raise_each():
    """One real way to get each error class from the Rust core."""
    x = gr.array([[1, 2], [3]])
    cases = {
        "ArgumentError": lambda: gr.array([1]) // 0,
        "BroadcastError": lambda: gr.array([1, 2]) + gr.array([1, 2, 3]),
        "ShapeError": lambda: x.to_numpy(),
        "DTypeError": lambda: gr.array([None]),
        "SchemaError": lambda: gr.dataframe({"a": [[1, 2]], "b": [[1]]}, schema=["m", "atom"]),
        "OutOfBoundsError": lambda: x[5],
        "StoreError": lambda: gr.load("/nonexistent/grumpy/store"),
        "Unsupported": lambda: gr.compile(_double).plan.run(gr.dataframe({"a": [1.0]})),
    }
    for name, fn in cases.items():
        try:
            fn()
        except gr.GrumpyError as e:
            yield name, e
        else:
            raise AssertionError(f"{name}: no error raised")


def test_code_class_and_message_agree_for_every_error():
    seen = set()
    for name, e in raise_each():
        assert type(e).__name__ == name
        assert e.code == type(e).__name__
        assert str(e).startswith(f"grumpy.{e.code}: ")
        assert "\ncause: " in str(e) and "\nfix: " in str(e)
        assert e.cause and e.fix and e.summary
        seen.add(name)
    assert seen == {c.__name__ for c in gr.GrumpyError.__subclasses__()} - {"CompileError"}


def test_division_by_zero_is_an_argument_error():
    with pytest.raises(gr.ArgumentError) as e:
        gr.array([1]) // 0
    assert isinstance(e.value, ValueError)
    assert e.value.code == "ArgumentError"
    assert str(e.value).startswith("grumpy.ArgumentError:")


# ---------------------------------------------------------------- no panic reaches Python
def test_broken_inputs_of_the_audit_raise_grumpy_errors():
    for bad in (["a", 1.5], [["a", 1.5], ["b", "c"]]):
        with pytest.raises(gr.DTypeError):
            gr.array(bad)


@pytest.mark.parametrize("where", ["guard", "run", "rayon"])
def test_a_caught_panic_is_a_quiet_grumpy_error(where):
    """A panic inside a guarded binding becomes grumpy.Unsupported ("internal error", with the
    panic message and location as the cause) and prints nothing on stderr."""
    r = run_python(
        f"""
        import grumpy as gr
        from grumpy import _core
        try:
            _core._test_panic({where!r})
        except gr.Unsupported as e:
            print("caught:", e.code, "|", e.cause)
        print("still alive", gr.array([1, 2]).to_list())
        """
    )
    assert r.returncode == 0, r.stderr
    assert "caught: Unsupported | deliberate test panic" in r.stdout
    assert "errors.rs" in r.stdout  # the location of the panic
    assert "still alive [1, 2]" in r.stdout
    assert "panicked" not in r.stderr, r.stderr
    assert r.stderr.strip() == ""


def test_an_unguarded_panic_still_prints_the_default_message():
    r = run_python(
        """
        from grumpy import _core
        try:
            _core._test_panic("unguarded")
        except BaseException as e:
            print("raised", type(e).__name__)
        """
    )
    assert "raised PanicException" in r.stdout
    assert "panicked" in r.stderr and "deliberate test panic" in r.stderr


def test_every_introspection_works_on_odd_arrays():
    """The bindings the audit found panicking, on unions, nulls, empties and slices."""
    arrays = [
        gr.array([1.0, [2.0, 3.0], None, []]),
        gr.array([[1, None], None, []]),
        gr.array([[[]]]),
        gr.array([], dtype=gr.int8),
        gr.array([["a", None], ["bc"]]),
        gr.array([[1, 2], [3]])[1:],
    ]
    import copy
    import pickle

    for x in arrays:
        repr(x), str(x), x.size, x.nbytes, x.ndim, x.layout, x.dtype, len(x)
        x.values, x.validity, x.shape(0), list(x)
        assert copy.deepcopy(x).to_list() == x.to_list()
        assert copy.copy(x).to_list() == x.to_list()
        assert pickle.loads(pickle.dumps(x)).to_list() == x.to_list()
        assert gr.GrumpyArray(x.to_list(), dtype=x.dtype).to_list() == x.to_list()
