//! Python operands of elementwise operations, converted to [`grumpy_core::kernels::operand::Arg`]
//! (whose module docs give NumPy 2's promotion rules, NEP 50): Python `bool`/`int`/`float`/`str`
//! are weak scalars, NumPy scalars and 0-d arrays strong ones, ints beyond 64 bits `BigInt`;
//! GrumpyArrays are used as they are and lists, tuples and NumPy arrays go through `gr.array`.

use crate::array::PyGrumpyArray;
use crate::convert::from_py;
pub(crate) use grumpy_core::kernels::operand::Arg;
use grumpy_core::{DType, Scalar};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

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
    Ok(Arg::BigInt(i.repr()?.to_string(), f))
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

/// A Python or NumPy scalar (not `None`) as an operand; `None` when `obj` is not a scalar.
pub(crate) fn scalar_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    // Plain Python scalars first: the NumPy check asks for attributes they lack, and each
    // failed lookup raises (and clears) an AttributeError, a microsecond per `x[i] = 1.5`.
    if obj.cast_exact::<PyFloat>().is_ok()
        || obj.cast_exact::<PyInt>().is_ok()
        || obj.cast_exact::<PyBool>().is_ok()
    {
        return weak(obj);
    }
    match numpy_scalar(obj)? {
        Some(a) => Ok(Some(a)),
        None => weak(obj),
    }
}

/// Convert an operator operand; `None` means "not a supported operand type" (the operator
/// returns `NotImplemented`).
pub(crate) fn to_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        return Ok(Some(Arg::Array(g.borrow().inner.clone())));
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
        return Ok(Some(Arg::Array(from_py(obj, None)?)));
    }
    Ok(None)
}

/// Like [`to_arg`] for the module functions: `None` is a null scalar and anything else goes
/// through `gr.array` (which raises a grumpy error for unsupported objects).
pub(crate) fn require_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg> {
    match to_arg(obj)? {
        Some(a) => Ok(a),
        None if obj.is_none() => Ok(Arg::Weak(Scalar::Null)),
        None => Ok(Arg::Array(from_py(obj, None)?)),
    }
}
