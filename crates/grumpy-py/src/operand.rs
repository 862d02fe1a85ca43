//! Python operands of elementwise operations, and NumPy 2 promotion (NEP 50) across them.
//!
//! * Python `bool`/`int`/`float`/`str` are **weak** scalars: `float32_array * 2.5` stays
//!   float32, `int8_array + 1` stays int8 (an int that does not fit is an error).
//! * NumPy scalars (`np.float32(2)`, `np.int8(1)`, `np.bool_(True)`) and 0-d arrays are
//!   **strong**: their dtype promotes with the array's (`float32_array * np.float64(2)` →
//!   float64, `int8_array + np.int64(1)` → int64, `int8_array * np.float32(2)` → float32).
//! * Python ints beyond 64 bits only combine with float arrays; with integer arrays
//!   arithmetic raises (NumPy 2: `OverflowError`) and comparisons have their exact answer
//!   (bool arrays raise, as in NumPy).
//! * GrumpyArrays are used as they are; lists, tuples and NumPy arrays go through `gr.array`.

use crate::array::PyGrumpyArray;
use crate::convert::from_py;
use grumpy_core::dtype::promote;
use grumpy_core::kernels::elementwise::{binary, scalar_array, BinaryOp, Operand};
use grumpy_core::layout::Item;
use grumpy_core::{Array, Code, DType, Error, Result, Scalar};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

/// One converted operand (built with the GIL held, used after releasing it).
pub(crate) enum Arg {
    /// An array.
    Arr(Array),
    /// A weak Python scalar (`Scalar::Null` for `None` in the module functions).
    Weak(Scalar),
    /// A strong NumPy scalar and its dtype.
    Strong(Scalar, DType),
    /// A Python int beyond 64 bits: its repr and its value as a float.
    Big(String, f64),
}

impl Arg {
    /// True for the scalar kinds.
    pub(crate) fn is_scalar(&self) -> bool {
        !matches!(self, Arg::Arr(_))
    }
}

/// A Python int as a weak scalar (or `Big` beyond 64 bits).
fn int_arg(i: &Bound<'_, PyInt>) -> PyResult<Arg> {
    if let Ok(v) = i.extract::<i64>() {
        return Ok(Arg::Weak(Scalar::Int(v)));
    }
    if let Ok(u) = i.extract::<u64>() {
        return Ok(Arg::Weak(Scalar::UInt(u)));
    }
    let f = i.extract::<f64>().unwrap_or(if i.lt(0)? {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    });
    Ok(Arg::Big(i.repr()?.to_string(), f))
}

/// Python `bool`/`int`/`float`/`str` (or subclasses) as weak operands.
fn weak(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Some(Arg::Weak(Scalar::Bool(b.is_true()))));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return int_arg(i).map(Some);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Some(Arg::Weak(Scalar::Float(f.value()))));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(Arg::Weak(Scalar::Str(s.to_cow()?.into_owned()))));
    }
    Ok(None)
}

/// A NumPy scalar or 0-d array: strong with its dtype (dtypes grumpy lacks, like float16 or
/// `str_`, fall back to the weak Python value).
fn numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    let zero_d = obj.cast::<PyUntypedArray>().is_ok_and(|a| a.ndim() == 0);
    let generic = obj.hasattr("dtype")? && obj.hasattr("item")? && !obj.hasattr("__len__")?;
    if !(zero_d || generic) {
        return Ok(None);
    }
    let item = obj.call_method0("item")?;
    let Some(value) = weak(&item)? else {
        return Ok(None);
    };
    let name: String = obj.getattr("dtype")?.getattr("name")?.extract()?;
    Ok(Some(match (DType::parse(&name), value) {
        (Ok(d), Arg::Weak(s)) if d != DType::String => Arg::Strong(s, d),
        (_, v) => v,
    }))
}

/// Convert an operator operand; `None` means "not a supported operand type" (the operator
/// returns `NotImplemented`).
pub(crate) fn to_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        return Ok(Some(Arg::Arr(g.borrow().inner.clone())));
    }
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(Some(Arg::Weak(Scalar::Float(f.value()))));
    }
    if let Ok(i) = obj.cast_exact::<PyInt>() {
        return int_arg(i).map(Some);
    }
    // NumPy scalars before Python subclasses: np.float64 is a subclass of float.
    if let Some(a) = numpy_scalar(obj)? {
        return Ok(Some(a));
    }
    if let Some(a) = weak(obj)? {
        return Ok(Some(a));
    }
    if obj.cast::<PyList>().is_ok()
        || obj.cast::<PyTuple>().is_ok()
        || obj.cast::<PyUntypedArray>().is_ok()
    {
        return Ok(Some(Arg::Arr(from_py(obj, None)?)));
    }
    Ok(None)
}

/// Like [`to_arg`] for the module functions: `None` is a null scalar and anything else goes
/// through `gr.array` (which raises a grumpy error for unsupported objects).
pub(crate) fn require_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg> {
    match to_arg(obj)? {
        Some(a) => Ok(a),
        None if obj.is_none() => Ok(Arg::Weak(Scalar::Null)),
        None => Ok(Arg::Arr(from_py(obj, None)?)),
    }
}

fn big_error(repr: &str, d: DType, op: &str) -> Error {
    Error::new(
        Code::Value,
        format!("Python integer {repr} out of bounds for {d}"),
        format!(
            "{op} with a {d} array needs a 64-bit value (NumPy 2 raises OverflowError here too)"
        ),
        "use a float (e.g. 2.0**70), or cast the array to float first: x.astype(gr.float64)",
    )
}

/// A scalar operand as a one-element array (strong scalars keep their dtype).
pub(crate) fn as_array(a: &Arg) -> Result<Array> {
    match a {
        Arg::Arr(x) => Ok(x.clone()),
        Arg::Weak(s) => scalar_array(s),
        Arg::Strong(s, d) => Array::from_item(&Item::List(vec![Item::Scalar(s.clone())]), Some(*d)),
        Arg::Big(r, _) => Err(big_error(r, DType::Int64, "a computation")),
    }
}

/// `a op b` with broadcasting and NEP 50 promotion (see the module docs).
pub(crate) fn apply2(op: BinaryOp, a: &Arg, b: &Arg) -> Result<Array> {
    match (a, b) {
        (Arg::Arr(x), _) => with_array(op, x, b, false),
        (_, Arg::Arr(y)) => with_array(op, y, a, true),
        _ => with_array(op, &as_array(a)?, b, false),
    }
}

/// The comparison with its operands swapped (`a < b` is `b > a`).
fn flip(op: BinaryOp) -> BinaryOp {
    use BinaryOp::*;
    match op {
        Lt => Gt,
        Le => Ge,
        Gt => Lt,
        Ge => Le,
        other => other,
    }
}

/// True division of integers computes in float64, where NumPy accepts a Python int of any
/// size (`uint8_array / -1`, `int_array / 2**70`): such an int is a weak float there.
fn division_operand(op: BinaryOp, d: DType, other: &Arg) -> Option<Arg> {
    if op != BinaryOp::Div || d.is_float() || d == DType::String {
        return None;
    }
    match other {
        Arg::Weak(Scalar::Int(i)) => Some(Arg::Weak(Scalar::Float(*i as f64))),
        Arg::Weak(Scalar::UInt(u)) => Some(Arg::Weak(Scalar::Float(*u as f64))),
        Arg::Big(_, f) => Some(Arg::Weak(Scalar::Float(*f))),
        _ => None,
    }
}

/// `x op other`, or `other op x` when `reflected`.
fn with_array(op: BinaryOp, x: &Array, other: &Arg, reflected: bool) -> Result<Array> {
    let as_float = division_operand(op, x.dtype(), other);
    let other = as_float.as_ref().unwrap_or(other);
    let with_scalar = |x: &Array, s: &Scalar| {
        if reflected {
            binary(op, Operand::Scalar(s), Operand::Array(x))
        } else {
            binary(op, Operand::Array(x), Operand::Scalar(s))
        }
    };
    match other {
        Arg::Arr(y) if reflected => binary(op, Operand::Array(y), Operand::Array(x)),
        Arg::Arr(y) => binary(op, Operand::Array(x), Operand::Array(y)),
        Arg::Weak(s) => with_scalar(x, s),
        Arg::Strong(s, d) => {
            // Promote the array to the common dtype; the scalar then fits it exactly, so it can
            // take part as a weak scalar (one pass, no broadcast machinery).
            let p = promote(x.dtype(), *d);
            if x.dtype() != DType::String && p != x.dtype() {
                with_scalar(&x.astype(p)?, s)
            } else {
                with_scalar(x, s)
            }
        }
        Arg::Big(repr, f) => {
            let d = x.dtype();
            if d.is_float() || d == DType::String {
                return with_scalar(x, &Scalar::Float(*f));
            }
            if !op.is_comparison() || d == DType::Bool {
                // (NumPy raises for bool arrays even in comparisons.)
                return Err(big_error(repr, d, &format!("operator {}", op.symbol())));
            }
            // Every 64-bit value is below a positive (above a negative) huge int: compare
            // against the dtype-independent extreme that gives the same answer.
            let op = if reflected { flip(op) } else { op };
            use BinaryOp::*;
            let (op, s) = if *f > 0.0 {
                match op {
                    Lt | Le | Ne => (Le, Scalar::UInt(u64::MAX)),
                    _ => (Gt, Scalar::UInt(u64::MAX)),
                }
            } else {
                match op {
                    Gt | Ge | Ne => (Ge, Scalar::Int(i64::MIN)),
                    _ => (Lt, Scalar::Int(i64::MIN)),
                }
            };
            binary(op, Operand::Array(x), Operand::Scalar(&s))
        }
    }
}
