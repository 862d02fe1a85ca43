//! Elementwise operators on `GrumpyArray` and the `gr.add`/`gr.sqrt`/`gr.where`/... functions.
//!
//! Operands are converted by [`crate::operand`]: Python scalars are weak, NumPy scalars strong
//! (NumPy 2 / NEP 50), lists/tuples/NumPy arrays go through `gr.array`. An unsupported operand
//! makes an arithmetic operator return `NotImplemented` (so the other operand's reflected
//! method, e.g. a DataFrame's, gets its turn); comparisons raise a `DTypeError` instead of
//! falling back to Python's identity comparison.
//!
//! `x == None` is the elementwise null test (true where a value is null, never null itself) and
//! `x != None` its complement; ordering against `None` is a `DTypeError`.

use crate::array::PyGrumpyArray;
use crate::convert::row_to_py_obj;
use crate::errors::{err, run};
use crate::frame::PyDataFrame;
use crate::operand::{require_arg, to_arg, Arg};
use grumpy_core::kernels::elementwise::{BinaryOp, Operand};
use grumpy_core::kernels::operand::apply;
use grumpy_core::kernels::unary::{
    clip_bound_is_noop, null_mask, round_to, unary, where_, UnaryOp,
};
use grumpy_core::{Array, Code, Scalar};
use pyo3::prelude::*;

pub(crate) fn wrap(py: Python<'_>, a: Array) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any())
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// Operator form: `NotImplemented` for unsupported operands; otherwise a GrumpyArray.
fn op2(
    py: Python<'_>,
    op: BinaryOp,
    this: &PyGrumpyArray,
    other: &Bound<'_, PyAny>,
    reflected: bool,
) -> PyResult<Py<PyAny>> {
    let Some(o) = to_arg(other)? else {
        return Ok(py.NotImplemented());
    };
    let me = Arg::Array(this.inner.clone());
    let r = run(py, || {
        if reflected {
            apply(op, &o, &me)
        } else {
            apply(op, &me, &o)
        }
    })?;
    wrap(py, r)
}

/// Comparison operators: `None` is a null test for `==`/`!=`; other unsupported operands raise
/// (a DataFrame gets its reflected method).
fn cmp(
    py: Python<'_>,
    op: BinaryOp,
    this: &PyGrumpyArray,
    other: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if other.is_none() {
        return match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                let a = this.inner.clone();
                wrap(py, run(py, move || Ok(null_mask(&a, op == BinaryOp::Eq)))?)
            }
            _ => Err(err(
                Code::DType,
                format!(
                    "cannot compare a grumpy array with None using {}",
                    op.symbol()
                ),
                "None is not ordered; `x == None` / `x != None` test for nulls",
                "compare with numbers, or use x == None to find nulls",
            )),
        };
    }
    if other.cast::<PyDataFrame>().is_ok() {
        return Ok(py.NotImplemented());
    }
    match to_arg(other)? {
        Some(_) => op2(py, op, this, other, false),
        None => Err(err(
            Code::DType,
            format!(
                "cannot compare a grumpy array with a {} using {}",
                type_name(other),
                op.symbol()
            ),
            "comparisons are elementwise and need numbers, strings, None, lists or arrays",
            "convert the other operand first (e.g. gr.array(...) or float(...))",
        )),
    }
}

/// Function form: any operands; two scalars give a Python scalar.
fn fn2(
    py: Python<'_>,
    op: BinaryOp,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::binary_fn(py, op, a, b)? {
        return Ok(r);
    }
    let (x, y) = (require_arg(a)?, require_arg(b)?);
    let scalars = x.is_scalar() && y.is_scalar();
    let r = run(py, || apply(op, &x, &y))?;
    if scalars {
        row_to_py_obj(py, &r.layout, 0)
    } else {
        wrap(py, r)
    }
}

/// Run `f` on the array form of `a`; a scalar input gives a Python scalar back.
fn map1(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    f: impl FnOnce(&Array) -> grumpy_core::Result<Array> + Send,
) -> PyResult<Py<PyAny>> {
    let x = require_arg(a)?;
    let scalar = x.is_scalar();
    let r = run(py, || f(&x.to_array()?))?;
    if scalar {
        row_to_py_obj(py, &r.layout, 0)
    } else {
        wrap(py, r)
    }
}

fn fn1(py: Python<'_>, op: UnaryOp, a: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::unary_fn(py, op, a)? {
        return Ok(r);
    }
    map1(py, a, |x| unary(op, x))
}

crate::operators::binary_operators!(PyGrumpyArray, op2);

#[pymethods]
impl PyGrumpyArray {
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        no_modulo(modulo)?;
        op2(py, BinaryOp::Pow, self, o, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        no_modulo(modulo)?;
        op2(py, BinaryOp::Pow, self, o, true)
    }
    /// `x == other` elementwise; `x == None` is the null test (true where a value is null).
    fn __eq__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Eq, self, o)
    }
    /// `x != other` elementwise; `x != None` is true where a value is not null.
    fn __ne__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Ne, self, o)
    }
    fn __lt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Lt, self, o)
    }
    fn __le__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Le, self, o)
    }
    fn __gt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Gt, self, o)
    }
    fn __ge__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        cmp(py, BinaryOp::Ge, self, o)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyGrumpyArray> {
        Ok(PyGrumpyArray::new(run(py, || {
            unary(UnaryOp::Neg, &self.inner)
        })?))
    }
    fn __pos__(&self) -> PyResult<PyGrumpyArray> {
        Ok(PyGrumpyArray::new(
            positive(&self.inner).map_err(crate::errors::to_py)?,
        ))
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyGrumpyArray> {
        Ok(PyGrumpyArray::new(run(py, || {
            unary(UnaryOp::Abs, &self.inner)
        })?))
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<PyGrumpyArray> {
        Ok(PyGrumpyArray::new(run(py, || {
            unary(UnaryOp::Not, &self.inner)
        })?))
    }
    /// `round(x, ndigits)`: like `gr.round(x, decimals=ndigits or 0)`.
    #[pyo3(signature = (ndigits = None))]
    fn __round__(&self, py: Python<'_>, ndigits: Option<i64>) -> PyResult<PyGrumpyArray> {
        let a = self.inner.clone();
        Ok(PyGrumpyArray::new(run(py, move || {
            round_to(&a, ndigits.unwrap_or(0))
        })?))
    }
    /// `x.round(decimals=0)` (what `np.round(x, decimals)` calls).
    #[pyo3(signature = (decimals = 0, out = None))]
    fn round(
        &self,
        py: Python<'_>,
        decimals: i64,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyGrumpyArray> {
        no_out(out, "round")?;
        self.__round__(py, Some(decimals))
    }
    /// `x.clip(min=None, max=None)` (what `np.clip(x, lo, hi)` calls).
    #[pyo3(signature = (min = None, max = None, out = None))]
    fn clip(
        slf: &Bound<'_, Self>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        no_out(out, "clip")?;
        clip_impl(slf.py(), slf.as_any(), min, max)
    }
}

/// `+x` (and `np.positive`): the same array (buffers shared); bools and strings have no
/// unary plus, as in NumPy.
pub(crate) fn positive(a: &Array) -> grumpy_core::Result<Array> {
    let d = a.dtype();
    if d == grumpy_core::DType::Bool || d == grumpy_core::DType::String {
        return Err(grumpy_core::Error::new(
            Code::DType,
            format!("unary + is not supported for {d}"),
            "NumPy has no positive for booleans or strings either",
            "cast first with .astype(...)",
        ));
    }
    Ok(a.clone())
}

/// Three-argument `pow(x, y, m)` is not supported (rather than silently ignoring `m`).
fn no_modulo(modulo: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match modulo {
        Some(m) if !m.is_none() => Err(err(
            Code::Unsupported,
            "pow(x, y, modulo) is not supported for grumpy arrays",
            "grumpy has no modular power",
            "compute (x ** y) % modulo instead",
        )),
        _ => Ok(()),
    }
}

/// `out=` is not supported (grumpy results are new arrays).
pub(crate) fn no_out(out: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<()> {
    match out {
        Some(o) if !o.is_none() => Err(err(
            Code::Unsupported,
            format!("{what}(..., out=...) is not supported for grumpy arrays"),
            "grumpy operations return new arrays (buffers are shared copy-on-write)",
            "assign the result instead: y = np.add(x, 1), or write in place with x[...] = value",
        )),
        _ => Ok(()),
    }
}

macro_rules! binary_fns {
    ($($name:ident => $op:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        fn $name(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            fn2(py, BinaryOp::$op, a, b)
        }
    )*};
}

binary_fns! {
    add => Add, "`gr.add(a, b)`: `a + b` with broadcasting.";
    subtract => Sub, "`gr.subtract(a, b)`: `a - b`.";
    multiply => Mul, "`gr.multiply(a, b)`: `a * b`.";
    divide => Div, "`gr.divide(a, b)`: true division `a / b`.";
    floor_divide => FloorDiv, "`gr.floor_divide(a, b)`: `a // b`.";
    remainder => Rem, "`gr.remainder(a, b)`: `a % b` (sign of the divisor).";
    power => Pow, "`gr.power(a, b)`: `a ** b`.";
    minimum => Minimum, "`gr.minimum(a, b)`: elementwise minimum (NaN propagates).";
    maximum => Maximum, "`gr.maximum(a, b)`: elementwise maximum (NaN propagates).";
}

macro_rules! unary_fns {
    ($($name:ident => $op:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            fn1(py, UnaryOp::$op, x)
        }
    )*};
}

unary_fns! {
    sqrt => Sqrt, "`gr.sqrt(x)` (negative → nan; small ints → float32, other ints → float64).";
    exp => Exp, "`gr.exp(x)`: e to the power x, elementwise (ints → float, as in `gr.sqrt`).";
    log => Log, "`gr.log(x)`: natural logarithm (negative → nan, 0 → -inf).";
    log1p => Log1p, "`gr.log1p(x)`: `log(1 + x)`.";
    sin => Sin, "`gr.sin(x)`: sine of x in radians, elementwise (ints → float, as in `gr.sqrt`).";
    cos => Cos, "`gr.cos(x)`: cosine of x in radians, elementwise (ints → float, as in `gr.sqrt`).";
    abs => Abs, "`gr.abs(x)`: absolute value, elementwise (the dtype is kept).";
    sign => Sign, "`gr.sign(x)`: -1, 0 or 1 (nan stays nan).";
    floor => Floor, "`gr.floor(x)` (integers unchanged).";
    ceil => Ceil, "`gr.ceil(x)` (integers unchanged).";
    isnan => IsNan, "`gr.isnan(x)` → bool.";
    isfinite => IsFinite, "`gr.isfinite(x)` → bool.";
}

/// `gr.round(x, decimals=0)`: like `np.round` (half to even; see `round_to` in grumpy-core).
#[pyfunction]
#[pyo3(signature = (x, decimals = 0))]
fn round(py: Python<'_>, x: &Bound<'_, PyAny>, decimals: i64) -> PyResult<Py<PyAny>> {
    map1(py, x, move |a| round_to(a, decimals))
}

/// One clip bound given under any of its names (`lo`, NumPy's `a_min` / `min`).
fn one_bound<'a, 'py>(
    which: &str,
    names: [(&str, Option<&'a Bound<'py, PyAny>>); 3],
) -> PyResult<Option<&'a Bound<'py, PyAny>>> {
    let given: Vec<_> = names
        .iter()
        .filter(|(_, v)| v.is_some_and(|b| !b.is_none()))
        .collect();
    if given.len() > 1 {
        let n: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
        return Err(err(
            Code::Argument,
            format!("gr.clip got the {which} bound twice ({})", n.join(", ")),
            "lo, a_min and min name the same bound (hi, a_max and max the upper one)",
            "pass each bound once",
        ));
    }
    Ok(given.first().and_then(|(_, v)| *v))
}

/// `minimum(maximum(x, lo), hi)` with any bound kinds (see `gr.clip`).
fn clip_impl(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    lo: Option<&Bound<'_, PyAny>>,
    hi: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::clip_fn(py, x, lo, hi)? {
        return Ok(r);
    }
    let lo = lo.map(require_arg).transpose()?;
    let hi = hi.map(require_arg).transpose()?;
    map1(py, x, move |a| {
        let mut out = a.clone();
        for (bound, op, lower) in [
            (&lo, BinaryOp::Maximum, true),
            (&hi, BinaryOp::Minimum, false),
        ] {
            let skip = match bound {
                None | Some(Arg::Weak(Scalar::Null)) => true,
                Some(Arg::Weak(s)) => clip_bound_is_noop(out.dtype(), s, lower),
                Some(Arg::BigInt(_, f)) => out.dtype().is_integer() && ((*f < 0.0) == lower),
                _ => false,
            };
            if let (false, Some(b)) = (skip, bound) {
                out = apply(op, &Arg::Array(out), b).map_err(|e| e.context("gr.clip"))?;
            }
        }
        Ok(out)
    })
}

/// `gr.clip(x, lo=None, hi=None)`: `minimum(maximum(x, lo), hi)`. Bounds are scalars or
/// arrays (broadcast like any operand); NumPy's names work too (`a_min=`/`a_max=`,
/// `min=`/`max=`). `None` means no bound. An integer bound beyond an integer array's range on
/// the harmless side is ignored, as in NumPy.
#[pyfunction]
#[pyo3(signature = (x, lo = None, hi = None, *, a_min = None, a_max = None, min = None, max = None))]
#[allow(clippy::too_many_arguments)]
fn clip(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    lo: Option<&Bound<'_, PyAny>>,
    hi: Option<&Bound<'_, PyAny>>,
    a_min: Option<&Bound<'_, PyAny>>,
    a_max: Option<&Bound<'_, PyAny>>,
    min: Option<&Bound<'_, PyAny>>,
    max: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let lo = one_bound("lower", [("lo", lo), ("a_min", a_min), ("min", min)])?;
    let hi = one_bound("upper", [("hi", hi), ("a_max", a_max), ("max", max)])?;
    clip_impl(py, x, lo, hi)
}

static NULL: Scalar = Scalar::Null;

/// `gr.where(cond, a, b)`: `a` where `cond`, else `b` (all three broadcast).
#[pyfunction(name = "where")]
fn where_py(
    py: Python<'_>,
    cond: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::where_fn(py, cond, a, b)? {
        return Ok(r);
    }
    let args = [require_arg(cond)?, require_arg(a)?, require_arg(b)?];
    let scalars = args.iter().all(Arg::is_scalar);
    let r = run(py, || {
        // Strong (NumPy) scalars take part as one-element arrays of their dtype.
        let arrays: Vec<Option<Array>> = args
            .iter()
            .map(|x| match x {
                Arg::Strong(..) | Arg::BigInt(..) => x.to_array().map(Some),
                _ => Ok(None),
            })
            .collect::<grumpy_core::Result<_>>()?;
        let ops: Vec<Operand<'_>> = args
            .iter()
            .zip(&arrays)
            .map(|(x, owned)| match (x, owned) {
                (_, Some(o)) => Operand::Array(o),
                (Arg::Array(a), None) => Operand::Array(a),
                (Arg::Weak(s), None) => Operand::Scalar(s),
                (_, None) => Operand::Scalar(&NULL),
            })
            .collect();
        where_(ops[0], ops[1], ops[2])
    })?;
    if scalars {
        row_to_py_obj(py, &r.layout, 0)
    } else {
        wrap(py, r)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_function(wrap_pyfunction!(subtract, m)?)?;
    m.add_function(wrap_pyfunction!(multiply, m)?)?;
    m.add_function(wrap_pyfunction!(divide, m)?)?;
    m.add_function(wrap_pyfunction!(floor_divide, m)?)?;
    m.add_function(wrap_pyfunction!(remainder, m)?)?;
    m.add_function(wrap_pyfunction!(power, m)?)?;
    m.add_function(wrap_pyfunction!(minimum, m)?)?;
    m.add_function(wrap_pyfunction!(maximum, m)?)?;
    m.add_function(wrap_pyfunction!(sqrt, m)?)?;
    m.add_function(wrap_pyfunction!(exp, m)?)?;
    m.add_function(wrap_pyfunction!(log, m)?)?;
    m.add_function(wrap_pyfunction!(log1p, m)?)?;
    m.add_function(wrap_pyfunction!(sin, m)?)?;
    m.add_function(wrap_pyfunction!(cos, m)?)?;
    m.add_function(wrap_pyfunction!(abs, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(floor, m)?)?;
    m.add_function(wrap_pyfunction!(ceil, m)?)?;
    m.add_function(wrap_pyfunction!(round, m)?)?;
    m.add_function(wrap_pyfunction!(isnan, m)?)?;
    m.add_function(wrap_pyfunction!(isfinite, m)?)?;
    m.add_function(wrap_pyfunction!(clip, m)?)?;
    m.add_function(wrap_pyfunction!(where_py, m)?)?;
    Ok(())
}
