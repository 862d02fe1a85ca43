//! Elementwise operators on `GrumpyArray` and the `gr.add`/`gr.sqrt`/`gr.where`/... functions.
//!
//! Operand conversion: Python `bool`/`int`/`float`/`str` (and NumPy scalars, via `.item()`)
//! are *weak* scalars (NumPy 2 / NEP 50: `float32_array * np.float64(2)` stays float32 here,
//! a documented simplification); `GrumpyArray`s are used as they are; lists, tuples and NumPy
//! arrays are converted with `gr.array`. Anything else makes an operator return
//! `NotImplemented` (so Python raises `TypeError`).

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, row_to_py_obj};
use crate::errors::run;
use grumpy_core::kernels::elementwise::{binary, BinaryOp, Operand};
use grumpy_core::kernels::unary::{clip as clip_kernel, unary, where_, UnaryOp};
use grumpy_core::{Array, Scalar};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

/// An owned operand (converted with the GIL held, used after releasing it).
enum Arg {
    Arr(Array),
    Sc(Scalar),
}

impl Arg {
    fn operand(&self) -> Operand<'_> {
        match self {
            Arg::Arr(a) => Operand::Array(a),
            Arg::Sc(s) => Operand::Scalar(s),
        }
    }
}

fn py_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Some(Scalar::Bool(b.is_true())));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return Ok(match i.extract::<i64>() {
            Ok(v) => Some(Scalar::Int(v)),
            Err(_) => match i.extract::<u64>() {
                Ok(u) => Some(Scalar::UInt(u)),
                Err(_) => Some(Scalar::Float(i.extract::<f64>()?)),
            },
        });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Some(Scalar::Float(f.value())));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Scalar::Str(s.to_cow()?.into_owned())));
    }
    Ok(None)
}

fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("dtype")? && obj.hasattr("item")? && !obj.hasattr("__len__")?)
}

/// Convert an operand; `None` means "not a supported operand type" (→ `NotImplemented`).
fn to_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        return Ok(Some(Arg::Arr(g.borrow().inner.clone())));
    }
    if let Some(s) = py_scalar(obj)? {
        return Ok(Some(Arg::Sc(s)));
    }
    if is_numpy_scalar(obj)? {
        let item = obj.call_method0("item")?;
        return Ok(py_scalar(&item)?.map(Arg::Sc));
    }
    if obj.cast::<PyList>().is_ok()
        || obj.cast::<PyTuple>().is_ok()
        || obj.cast::<numpy::PyUntypedArray>().is_ok()
    {
        return Ok(Some(Arg::Arr(from_py(obj, None)?)));
    }
    Ok(None)
}

/// Like [`to_arg`] for the module functions: unsupported types are a `DTypeError`.
fn require_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg> {
    match to_arg(obj)? {
        Some(a) => Ok(a),
        None if obj.is_none() => Ok(Arg::Sc(Scalar::Null)),
        None => Ok(Arg::Arr(from_py(obj, None)?)),
    }
}

fn wrap(py: Python<'_>, a: Array) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any())
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
    let me = Arg::Arr(this.inner.clone());
    let (a, b) = if reflected { (&o, &me) } else { (&me, &o) };
    let r = run(py, || binary(op, a.operand(), b.operand()))?;
    wrap(py, r)
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
    let scalars = matches!((&x, &y), (Arg::Sc(_), Arg::Sc(_)));
    let r = run(py, || binary(op, x.operand(), y.operand()))?;
    if scalars {
        row_to_py_obj(py, &r.layout, 0)
    } else {
        wrap(py, r)
    }
}

fn fn1(py: Python<'_>, op: UnaryOp, a: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::unary_fn(py, op, a)? {
        return Ok(r);
    }
    match require_arg(a)? {
        Arg::Arr(x) => {
            let r = run(py, || unary(op, &x))?;
            wrap(py, r)
        }
        Arg::Sc(s) => {
            let r = run(py, || {
                unary(op, &grumpy_core::kernels::elementwise::scalar_array(&s)?)
            })?;
            row_to_py_obj(py, &r.layout, 0)
        }
    }
}

#[pymethods]
impl PyGrumpyArray {
    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Add, self, o, false)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Add, self, o, true)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Sub, self, o, false)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Sub, self, o, true)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Mul, self, o, false)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Mul, self, o, true)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Div, self, o, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Div, self, o, true)
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::FloorDiv, self, o, false)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::FloorDiv, self, o, true)
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Rem, self, o, false)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Rem, self, o, true)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Pow, self, o, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Pow, self, o, true)
    }
    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::And, self, o, false)
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::And, self, o, true)
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Or, self, o, false)
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Or, self, o, true)
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Xor, self, o, false)
    }
    fn __rxor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Xor, self, o, true)
    }
    fn __eq__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Eq, self, o, false)
    }
    fn __ne__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Ne, self, o, false)
    }
    fn __lt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Lt, self, o, false)
    }
    fn __le__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Le, self, o, false)
    }
    fn __gt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Gt, self, o, false)
    }
    fn __ge__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Ge, self, o, false)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyGrumpyArray> {
        Ok(PyGrumpyArray::new(run(py, || {
            unary(UnaryOp::Neg, &self.inner)
        })?))
    }
    fn __pos__(&self) -> PyGrumpyArray {
        PyGrumpyArray::new(self.inner.clone())
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
    exp => Exp, "`gr.exp(x)`.";
    log => Log, "`gr.log(x)`: natural logarithm (negative → nan, 0 → -inf).";
    log1p => Log1p, "`gr.log1p(x)`: `log(1 + x)`.";
    sin => Sin, "`gr.sin(x)`.";
    cos => Cos, "`gr.cos(x)`.";
    abs => Abs, "`gr.abs(x)`.";
    sign => Sign, "`gr.sign(x)`: -1, 0 or 1 (nan stays nan).";
    floor => Floor, "`gr.floor(x)` (integers unchanged).";
    ceil => Ceil, "`gr.ceil(x)` (integers unchanged).";
    round => Round, "`gr.round(x)`: round half to even.";
    isnan => IsNan, "`gr.isnan(x)` → bool.";
    isfinite => IsFinite, "`gr.isfinite(x)` → bool.";
}

fn bound(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Scalar>> {
    let Some(o) = obj else { return Ok(None) };
    if o.is_none() {
        return Ok(None);
    }
    let s = if is_numpy_scalar(o)? {
        py_scalar(&o.call_method0("item")?)?
    } else {
        py_scalar(o)?
    };
    s.map(Some).ok_or_else(|| {
        crate::errors::err(
            grumpy_core::Code::Argument,
            "gr.clip bounds must be scalars",
            format!(
                "got a {}",
                o.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
            "pass numbers (or None) for lo and hi",
        )
    })
}

/// `gr.clip(x, lo=None, hi=None)`.
#[pyfunction]
#[pyo3(signature = (x, lo = None, hi = None))]
fn clip(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    lo: Option<&Bound<'_, PyAny>>,
    hi: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (lo, hi) = (bound(lo)?, bound(hi)?);
    if let Some(r) = crate::frame::clip_fn(py, x, lo.as_ref(), hi.as_ref())? {
        return Ok(r);
    }
    match require_arg(x)? {
        Arg::Arr(a) => {
            let r = run(py, || clip_kernel(&a, lo.as_ref(), hi.as_ref()))?;
            wrap(py, r)
        }
        Arg::Sc(s) => {
            let r = run(py, || {
                let a = grumpy_core::kernels::elementwise::scalar_array(&s)?;
                clip_kernel(&a, lo.as_ref(), hi.as_ref())
            })?;
            row_to_py_obj(py, &r.layout, 0)
        }
    }
}

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
    let (c, x, y) = (require_arg(cond)?, require_arg(a)?, require_arg(b)?);
    let scalars = [&c, &x, &y].iter().all(|v| matches!(v, Arg::Sc(_)));
    let r = run(py, || where_(c.operand(), x.operand(), y.operand()))?;
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
