//! Indexing bindings: `x[key]`, `x[key] = value`, and `gr.cat`, `gr.zeros_like`,
//! `gr.ones_like`, `gr.full_like`. Keys are converted to core [`Index`]es here; the work runs
//! in `grumpy_core::kernels::{index, cat, fill}` through [`run`].
//!
//! View semantics: slicing shares memory, but assignment is copy-on-write, so `y = x[0:2];
//! x[0] = 5` leaves `y` unchanged (NumPy would write through the view).
//!
//! Keys: ints (also NumPy integers and 0-d integer arrays), slices, `...`, lists / NumPy /
//! grumpy arrays of ints or bools (flat: rows; nested like `x > 2`: Awkward's jagged selection
//! inside rows), and tuples of those.

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, scalar_to_py};
use crate::dtype::parse_dtype;
use crate::errors::{err, run};
use crate::operand::Arg;
use grumpy_core::kernels::index::{self, Got, Index, Value};
use grumpy_core::kernels::{cat as catk, fill};
use grumpy_core::layout::Layout;
use grumpy_core::{Array, Code, Scalar};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyFloat, PyInt, PyList, PySlice, PyString, PyTuple};

fn is_np_bool(obj: &Bound<'_, PyAny>) -> bool {
    obj.get_type()
        .name()
        .is_ok_and(|n| n.to_cow().is_ok_and(|s| s == "bool" || s == "bool_"))
        && obj.hasattr("dtype").unwrap_or(false)
}

/// An int-like (Python int or NumPy integer scalar) as i64; huge values clamp (always out of
/// range anyway).
fn int_like(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if let Ok(i) = obj.cast_exact::<PyInt>() {
        // the common key, without the type-name and attribute lookups below (not a bool:
        // `bool` is a subclass of `int`, never exactly one)
        return Ok(Some(clamp_int(i)?));
    }
    if obj.cast::<PySlice>().is_ok() || obj.is_none() {
        return Ok(None);
    }
    if obj.cast::<PyBool>().is_ok() || is_np_bool(obj) {
        return Ok(None);
    }
    let i = if let Ok(i) = obj.cast::<PyInt>() {
        i.clone()
    } else if obj.hasattr("__index__")? && !obj.hasattr("__len__")? {
        obj.call_method0("__index__")?.cast_into::<PyInt>()?
    } else {
        return Ok(None);
    };
    Ok(Some(clamp_int(&i)?))
}

/// A Python int as i64, clamped to its range.
fn clamp_int(i: &Bound<'_, PyInt>) -> PyResult<i64> {
    Ok(match i.extract::<i64>() {
        Ok(v) => v,
        Err(_) if i.lt(0)? => i64::MIN,
        Err(_) => i64::MAX,
    })
}

fn bad_key(obj: &Bound<'_, PyAny>, cause: &str) -> PyErr {
    let name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    err(
        Code::Argument,
        format!("cannot index a grumpy array with a {name}"),
        cause.to_owned(),
        "index with an int, a slice, a list/array of ints or bools, or a tuple of those",
    )
}

fn slice_part(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if obj.is_none() {
        return Ok(None);
    }
    int_like(obj)?
        .map(Some)
        .ok_or_else(|| bad_key(obj, "slice bounds must be integers or None"))
}

fn from_grumpy(obj: &Bound<'_, PyAny>, a: &Array) -> PyResult<Index> {
    let Layout::Leaf(leaf) = &a.layout else {
        // A nested bool/int array selects inside rows (Awkward's jagged indexing).
        return Ok(Index::Jagged(a.clone()));
    };
    let d = leaf.values.dtype();
    if d == grumpy_core::DType::Bool {
        // A null flag selects nothing (like False), so `x[x > 0]` works with nulls in x.
        let flags = leaf.values.as_slice::<bool>().unwrap_or(&[]);
        Ok(Index::Mask(
            flags
                .iter()
                .enumerate()
                .map(|(i, &b)| b && !leaf.is_null(i))
                .collect(),
        ))
    } else if d.is_integer() {
        if leaf.validity.is_some() {
            return Err(bad_key(obj, "the index array contains nulls"));
        }
        let c = leaf
            .values
            .as_slice::<i64>()
            .map(<[i64]>::to_vec)
            .map_or_else(
                || {
                    grumpy_core::kernels::cast::cast_values(&leaf.values, grumpy_core::DType::Int64)
                        .map(|v| v.as_slice::<i64>().unwrap_or(&[]).to_vec())
                },
                Ok,
            )
            .map_err(crate::errors::to_py)?;
        Ok(Index::Ints(c))
    } else {
        Err(bad_key(obj, "index arrays must hold ints or bools"))
    }
}

/// One key component (not a tuple, not Ellipsis).
fn to_index(obj: &Bound<'_, PyAny>) -> PyResult<Index> {
    if let Some(i) = int_like(obj)? {
        return Ok(Index::Int(i));
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        let (a, b, c) = (
            slice_part(&s.getattr("start")?)?,
            slice_part(&s.getattr("stop")?)?,
            slice_part(&s.getattr("step")?)?,
        );
        return Ok(match (a, b, c) {
            (None, None, None | Some(1)) => Index::All,
            _ => Index::slice(a, b, c),
        });
    }
    if obj.is_none() {
        return Err(err(
            Code::Unsupported,
            "None / np.newaxis is not supported in grumpy keys",
            "grumpy arrays cannot add a length-1 axis by indexing",
            "wrap the data in a list instead, e.g. gr.array([x.to_list()])",
        ));
    }
    if obj.cast::<PyBool>().is_ok() || is_np_bool(obj) {
        return Err(bad_key(obj, "a single bool is not an index"));
    }
    if obj.cast::<PyString>().is_ok() || obj.cast::<PyFloat>().is_ok() {
        return Err(bad_key(
            obj,
            "arrays have no fields and positions are integers",
        ));
    }
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        return from_grumpy(obj, &g.borrow().inner);
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        let kind: String = arr.dtype().getattr("kind")?.extract()?;
        if arr.ndim() == 0 && matches!(kind.as_str(), "i" | "u") {
            return to_index(&obj.call_method0("item")?);
        }
        if arr.ndim() > 1 && kind == "b" {
            return Ok(Index::Jagged(from_py(obj, None)?));
        }
        if arr.ndim() != 1 {
            return Err(err(
                Code::Unsupported,
                "this NumPy index array is not supported",
                format!(
                    "the NumPy index has {} dimensions (NumPy's multi-dimensional integer \
                     indexing has no ragged equivalent)",
                    arr.ndim()
                ),
                "index with a 1-d array of ints or bools, a bool mask shaped like x, or a \
                 nested list of ints per row",
            ));
        }
        let np = obj.py().import("numpy")?;
        return match kind.as_str() {
            "b" => Ok(Index::Mask(
                np.call_method1("asarray", (obj, "bool"))?
                    .call_method0("tolist")?
                    .extract()?,
            )),
            "i" | "u" => Ok(Index::Ints(
                np.call_method1("asarray", (obj, "int64"))?
                    .call_method0("tolist")?
                    .extract()?,
            )),
            _ => Err(bad_key(obj, "index arrays must hold ints or bools")),
        };
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let items: Vec<Bound<'_, PyAny>> = l.iter().collect();
        let nested = |x: &Bound<'_, PyAny>| {
            x.cast::<PyList>().is_ok()
                || x.cast::<PyTuple>().is_ok()
                || x.cast::<PyGrumpyArray>().is_ok()
                || x.cast::<PyUntypedArray>().is_ok_and(|a| a.ndim() > 0)
        };
        if items.iter().any(nested) {
            // A nested list selects inside rows (Awkward's jagged indexing).
            let a = from_py(obj, None)?;
            return match a.layout {
                Layout::Leaf(_) => Err(bad_key(obj, "a nested index must hold lists")),
                _ => Ok(Index::Jagged(a)),
            };
        }
        if !items.is_empty()
            && items
                .iter()
                .all(|x| x.cast::<PyBool>().is_ok() || is_np_bool(x))
        {
            return Ok(Index::Mask(
                items
                    .iter()
                    .map(|x| x.is_truthy())
                    .collect::<PyResult<_>>()?,
            ));
        }
        let mut out = Vec::with_capacity(items.len());
        for x in &items {
            match int_like(x)? {
                Some(i) => out.push(i),
                None => {
                    return Err(bad_key(
                        obj,
                        "a list index must hold only ints or only bools (or lists of them, one per row)",
                    ))
                }
            }
        }
        return Ok(Index::Ints(out));
    }
    Err(bad_key(obj, "unsupported key type"))
}

/// A Python key as core indices; `...` expands to enough `:` to reach `ndim` levels.
fn parse_key(key: &Bound<'_, PyAny>, ndim: usize) -> PyResult<Vec<Index>> {
    let parts: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) => vec![key.clone()],
    };
    let n_ell = parts
        .iter()
        .filter(|p| p.cast::<PyEllipsis>().is_ok())
        .count();
    if n_ell > 1 {
        return Err(bad_key(
            key,
            "an index can only have a single ellipsis ('...')",
        ));
    }
    let consumed = parts.len() - n_ell;
    let mut out = Vec::with_capacity(parts.len().max(ndim));
    for p in &parts {
        if p.cast::<PyEllipsis>().is_ok() {
            out.extend(std::iter::repeat_n(
                Index::All,
                ndim.saturating_sub(consumed),
            ));
        } else {
            out.push(to_index(p)?);
        }
    }
    Ok(out)
}

/// A Python scalar (None, bool, int, float, str, NumPy scalar or 0-d array), or `None` when
/// `obj` is not a scalar.
pub(crate) fn py_scalar(obj: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if obj.is_none() {
        return Ok(Some(Scalar::Null));
    }
    Ok(match crate::operand::scalar_arg(obj)? {
        Some(Arg::Weak(s) | Arg::Strong(s, _)) => Some(s),
        // Beyond 64 bits: fine for a float target, out of bounds for an integer one (checked
        // by the assignment, as NumPy does).
        Some(Arg::BigInt(_, f)) if f.is_finite() => Some(Scalar::Float(f)),
        Some(Arg::BigInt(..)) => {
            return Err(err(
                Code::Value,
                "integer out of range",
                "the value does not even fit in a float64",
                "use a smaller number",
            ))
        }
        Some(Arg::Array(_)) | None => None,
    })
}

fn got_to_py(py: Python<'_>, g: Got) -> PyResult<Py<PyAny>> {
    match g {
        Got::Scalar(s) => Ok(scalar_to_py(py, &s)?.unbind()),
        Got::Array(a) => Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any()),
    }
}

#[pymethods]
impl PyGrumpyArray {
    /// `x[key]`: int, slice, list/array of ints or bools, GrumpyArray, `...`, or a tuple.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let idx = parse_key(key, self.inner.ndim())?;
        let a = self.inner.clone();
        let g = run(py, move || index::get(&a, &idx))?;
        got_to_py(py, g)
    }

    /// `x[key] = value` in place (copy-on-write: arrays sharing buffers with `x` keep their
    /// values; NumPy would write through views).
    fn __setitem__(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let idx = parse_key(key, self.inner.ndim())?;
        let scalar = py_scalar(value)?;
        let arr = match scalar {
            Some(_) => None,
            None => {
                let a = from_py(value, None)?;
                if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
                    // Python ints in a list must fit, as in NumPy; arrays cast unsafely.
                    index::check_literal_fits(&a, self.inner.dtype())
                        .map_err(crate::errors::to_py)?;
                }
                Some(a)
            }
        };
        let inner = &mut self.inner;
        run(py, move || {
            let v = match (&scalar, &arr) {
                (Some(s), _) => Value::Scalar(s),
                (None, Some(a)) => Value::Array(a),
                (None, None) => Value::Scalar(&Scalar::Null),
            };
            index::set(inner, &idx, v)
        })
    }
}

#[pymethods]
impl PyGrumpyArray {
    /// `del x[key]` is not supported (grumpy arrays have a fixed layout, like NumPy's).
    fn __delitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let _ = key;
        Err(err(
            Code::Unsupported,
            "cannot delete elements of a grumpy array",
            "arrays have a fixed layout; `del x[...]` would have to rebuild it",
            "select what to keep instead: x = x[mask] (a ragged mask like x != v keeps the structure)",
        ))
    }
}

fn arrays_of(arrays: &Bound<'_, PyAny>) -> PyResult<Vec<Array>> {
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = arrays.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = arrays.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(err(
            Code::Argument,
            "gr.cat needs a list of arrays",
            format!(
                "got a {}",
                arrays
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
            "pass a list or tuple: gr.cat([x, y])",
        ));
    };
    items.iter().map(|x| from_py(x, None)).collect()
}

/// `gr.cat(arrays, dim=0)`: concatenate rows (dim 0) or the rows' contents (dim ≥ 1).
#[pyfunction]
#[pyo3(signature = (arrays, dim = 0))]
fn cat(py: Python<'_>, arrays: &Bound<'_, PyAny>, dim: i64) -> PyResult<PyGrumpyArray> {
    let parts = arrays_of(arrays)?;
    let out = run(py, move || {
        let refs: Vec<&Array> = parts.iter().collect();
        catk::cat(&refs, dim)
    })?;
    Ok(PyGrumpyArray::new(out))
}

fn like(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    value: Scalar,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    let a = from_py(x, None)?;
    let d = dtype.map(parse_dtype).transpose()?;
    Ok(PyGrumpyArray::new(run(py, move || {
        fill::full_like(&a, &value, d)
    })?))
}

/// `gr.zeros_like(x, dtype=None)`: same layout, zeros.
#[pyfunction]
#[pyo3(signature = (x, dtype = None))]
fn zeros_like(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    like(py, x, Scalar::Int(0), dtype)
}

/// `gr.ones_like(x, dtype=None)`: same layout, ones.
#[pyfunction]
#[pyo3(signature = (x, dtype = None))]
fn ones_like(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    like(py, x, Scalar::Int(1), dtype)
}

/// `gr.full_like(x, value, dtype=None)`: same layout, every value `value` (None → nulls).
#[pyfunction]
#[pyo3(signature = (x, value, dtype = None))]
fn full_like(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    let v = py_scalar(value)?.ok_or_else(|| {
        err(
            Code::Argument,
            "full_like needs a scalar fill value",
            format!(
                "got a {}",
                value
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
            "pass a number, bool, string or None",
        )
    })?;
    like(py, x, v, dtype)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(zeros_like, m)?)?;
    m.add_function(wrap_pyfunction!(ones_like, m)?)?;
    m.add_function(wrap_pyfunction!(full_like, m)?)?;
    Ok(())
}
