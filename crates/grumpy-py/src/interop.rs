//! Conversions to and from other libraries: `to_padded`, `to_torch`, Arrow (`to_arrow`,
//! `__arrow_c_array__`, `gr.from_arrow`) and Awkward (`to_awkward`, `gr.from_awkward`). The
//! work is in `grumpy_core::kernels::pad` and `grumpy_core::interop`; optional libraries are
//! imported only when a method needs them.

use crate::array::PyGrumpyArray;
use crate::convert::{from_numpy, values_to_numpy};
use crate::errors::{err, guard, run};
use grumpy_core::buffer::Values;
use grumpy_core::interop::{arrow, awkward};
use grumpy_core::kernels::pad::{is_rectangular, pad, padded_shape, MaxLen};
use grumpy_core::layout::Layout;
use grumpy_core::{with_values, Array, Code, Scalar};
use numpy::{PyArray1, PyUntypedArray};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCapsule, PyCapsuleMethods, PyDict, PyFloat, PyInt, PyList, PyTuple};
use std::collections::HashMap;

const SCHEMA: &std::ffi::CStr = c"arrow_schema";
const ARRAY: &std::ffi::CStr = c"arrow_array";

/// Import an optional library, or raise `Unsupported` naming the pip command.
fn optional<'py>(py: Python<'py>, module: &str, why: &str) -> PyResult<Bound<'py, PyModule>> {
    py.import(module).map_err(|e| {
        err(
            Code::Unsupported,
            format!("{module} is not installed"),
            format!("{why} ({e})"),
            format!("pip install {module}"),
        )
    })
}

fn parse_pad(p: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    let p = if p.hasattr("dtype")? && p.hasattr("item")? {
        p.call_method0("item")?
    } else {
        p.clone()
    };
    if let Ok(b) = p.cast::<PyBool>() {
        return Ok(Scalar::Bool(b.is_true()));
    }
    if let Ok(i) = p.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Scalar::Int(v));
        }
        if let Ok(v) = i.extract::<u64>() {
            return Ok(Scalar::UInt(v));
        }
    }
    if let Ok(f) = p.cast::<PyFloat>() {
        return Ok(Scalar::Float(f.value()));
    }
    Err(err(
        Code::Argument,
        "pad must be a number",
        format!("got {}", p.repr()?),
        "pass pad=0, pad=-1, pad=float('nan'), ...",
    ))
}

fn parse_max_len(m: Option<&Bound<'_, PyAny>>) -> PyResult<MaxLen> {
    let bad = |got: String| {
        err(
            Code::Argument,
            "max_len must be None, an int >= 0, or a tuple of them",
            got,
            "pass max_len=128 (axis 1) or max_len=(128, None) (one entry per padded axis)",
        )
    };
    let one = |x: &Bound<'_, PyAny>| -> PyResult<usize> {
        if x.cast::<PyBool>().is_ok() {
            return Err(bad(format!("got {}", x.repr()?)));
        }
        x.extract::<i64>()
            .ok()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| {
                bad(format!(
                    "got {}",
                    x.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })
    };
    let Some(m) = m.filter(|m| !m.is_none()) else {
        return Ok(MaxLen::Longest);
    };
    if m.cast::<PyTuple>().is_ok() || m.cast::<PyList>().is_ok() {
        let items: Vec<Bound<'_, PyAny>> = m.try_iter()?.collect::<PyResult<_>>()?;
        let v = items
            .iter()
            .map(|x| {
                if x.is_none() {
                    Ok(None)
                } else {
                    one(x).map(Some)
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(MaxLen::PerAxis(v));
    }
    Ok(MaxLen::Axis1(one(m)?))
}

/// Owned values as a NumPy array (moves the Vec, no copy) reshaped to `shape`.
fn owned_to_numpy<'py>(py: Python<'py>, v: Values, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let flat = with_values!(v, b, T => PyArray1::<T>::from_vec(py, b.into_vec()).into_any(),
        _s => unreachable!("to_padded rejects strings"));
    flat.call_method1("reshape", (shape.to_vec(),))
}

fn capsules<'py>(
    py: Python<'py>,
    layout: &Layout,
) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
    let l = layout.clone();
    let (schema, array) = run(py, move || arrow::export(&l))?;
    Ok((
        PyCapsule::new_with_value(py, schema, SCHEMA)?,
        PyCapsule::new_with_value(py, array, ARRAY)?,
    ))
}

#[pymethods]
impl PyGrumpyArray {
    /// `(values, mask)` NumPy arrays: every ragged axis padded to its longest row (or to
    /// `max_len`: an int for axis 1, or a tuple with one entry per padded axis, `None` =
    /// longest). Trailing axes with the same length everywhere and no nulls (e.g. xyz) stay
    /// dense and are not part of the mask; the mask covers rows and padded axes (`True` = a
    /// value, `False` = padding or null). Nulls become `pad`; a union's scalar rows count as
    /// length-1 lists; `pad` must fit the dtype exactly.
    #[pyo3(signature = (pad = None, max_len = None))]
    fn to_padded<'py>(
        &self,
        py: Python<'py>,
        pad: Option<&Bound<'py, PyAny>>,
        max_len: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let p = match pad {
            Some(p) if !p.is_none() => parse_pad(p)?,
            _ => Scalar::Int(0),
        };
        let m = parse_max_len(max_len)?;
        let layout = self.inner.layout.clone();
        let out = run(py, move || self::pad(&layout, &p, &m))?;
        let mask_shape = out.mask_shape().to_vec();
        let values = owned_to_numpy(py, out.values, &out.shape)?;
        let mask = PyArray1::<bool>::from_vec(py, out.mask)
            .into_any()
            .call_method1("reshape", (mask_shape,))?;
        Ok((values, mask))
    }

    /// torch tensors: a plain tensor sharing memory for rectangular arrays without nulls
    /// (when `max_len` is None), else `(tensor, mask)` from `to_padded`. Needs torch
    /// (imported on call).
    #[pyo3(signature = (pad = None, max_len = None))]
    fn to_torch<'py>(
        slf: &Bound<'py, Self>,
        pad: Option<&Bound<'py, PyAny>>,
        max_len: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let f = py.import("grumpy.torch")?.getattr("_array_to_torch")?;
        f.call1((slf, pad, max_len))
    }

    /// True when every axis has one length and nothing is null (`to_numpy` gives a plain
    /// ndarray sharing memory).
    #[getter]
    fn _rectangular(&self) -> bool {
        is_rectangular(&self.inner.layout)
    }

    /// `(shape, mask_ndim)` that `to_padded(max_len=max_len)` would return (nothing filled).
    #[pyo3(signature = (max_len = None))]
    fn _padded_shape(
        &self,
        py: Python<'_>,
        max_len: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Vec<usize>, usize)> {
        let m = parse_max_len(max_len)?;
        let layout = self.inner.layout.clone();
        run(py, move || padded_shape(&layout, &m))
    }

    /// A pyarrow array sharing this array's buffers (needs pyarrow, imported on call).
    fn to_arrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let pa = optional(py, "pyarrow", "x.to_arrow() returns a pyarrow array")?;
        let (s, a) = capsules(py, &slf.borrow().inner.layout)?;
        pa.getattr("Array")?
            .call_method1("_import_from_c_capsule", (s, a))
    }

    /// Arrow PyCapsule protocol: `(schema, array)` capsules of the C Data Interface (no
    /// pyarrow needed; buffers shared). `requested_schema` is ignored: grumpy exports its own
    /// types (`large_list`, `large_string`, `dense_union`), which consumers can cast.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        capsules(py, &self.inner.layout)
    }

    /// An `ak.Array` over this array's buffers (Awkward's buffers protocol, zero copy for leaf
    /// values; needs awkward, imported on call).
    fn to_awkward<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let ak = optional(py, "awkward", "x.to_awkward() returns an ak.Array")?;
        let layout = self.inner.layout.clone();
        let (form, len, bufs) = run(py, move || Ok(awkward::to_buffers(&layout)))?;
        let form = py
            .import("json")?
            .call_method1("loads", (form.to_string(),))?;
        let container = PyDict::new(py);
        for (name, v) in &bufs {
            container.set_item(name, values_to_numpy(py, v)?)?;
        }
        ak.call_method1("from_buffers", (form, len, container))
    }
}

/// Import one `__arrow_c_array__` pair of capsules.
fn import_capsules(py: Python<'_>, pair: &Bound<'_, PyAny>) -> PyResult<Array> {
    let (s, a): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) = pair.extract()?;
    let sp = s.pointer_checked(Some(SCHEMA))?;
    let ap = a.pointer_checked(Some(ARRAY))?;
    // SAFETY: the capsules are named per the Arrow PyCapsule protocol, so they point at a
    // valid ArrowSchema / ArrowArray; `from_raw` moves them out and marks the capsules'
    // structs released, so the producer's destructors do not release them again.
    let (schema, array) = unsafe {
        (
            arrow::FFI_ArrowSchema::from_raw(sp.as_ptr().cast()),
            arrow::FFI_ArrowArray::from_raw(ap.as_ptr().cast()),
        )
    };
    // SAFETY: a protocol producer hands over a valid array of the schema's type.
    let layout = run(py, move || unsafe { arrow::import(&schema, array) })?;
    Ok(Array::new(layout))
}

/// `gr.from_arrow(a)`: an Arrow array (anything with `__arrow_c_array__`, or a pyarrow
/// `ChunkedArray`) as a GrumpyArray, sharing its buffers where the layouts agree.
#[pyfunction]
pub(crate) fn from_arrow(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<PyGrumpyArray> {
    guard(|| {
        if obj.hasattr("__arrow_c_array__")? {
            let pair = obj.call_method0("__arrow_c_array__")?;
            return Ok(PyGrumpyArray::new(import_capsules(py, &pair)?));
        }
        if obj.hasattr("chunks")? && obj.hasattr("combine_chunks")? {
            let chunks: Vec<Bound<'_, PyAny>> = obj.getattr("chunks")?.extract()?;
            if chunks.is_empty() {
                return from_arrow(py, &obj.call_method0("combine_chunks")?);
            }
            let parts = chunks
                .iter()
                .map(|c| Ok(from_arrow(py, c)?.inner))
                .collect::<PyResult<Vec<Array>>>()?;
            let joined = run(py, move || {
                let refs: Vec<&Array> = parts.iter().collect();
                Array::cat(&refs)
            })?;
            return Ok(PyGrumpyArray::new(joined));
        }
        Err(err(
            Code::Argument,
            "gr.from_arrow needs an Arrow array",
            format!(
                "got {}, which has no __arrow_c_array__",
                obj.get_type().name()?
            ),
            "pass a pyarrow Array or ChunkedArray, or any object with __arrow_c_array__",
        ))
    })
}

/// `gr.from_awkward(a)`: an Awkward array as a GrumpyArray through `ak.to_buffers` (zero copy
/// where the layouts agree).
#[pyfunction]
pub(crate) fn from_awkward(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<PyGrumpyArray> {
    guard(|| {
        let ak = optional(py, "awkward", "gr.from_awkward reads Awkward arrays")?;
        if obj.is_instance(&ak.getattr("Record")?)? {
            return Err(err(
                Code::Unsupported,
                "a single Awkward record cannot be converted",
                "gr.from_awkward converts arrays",
                "pass an ak.Array; for records build gr.dataframe from the fields",
            ));
        }
        if !obj.is_instance(&ak.getattr("Array")?)? {
            return Err(err(
                Code::Argument,
                "gr.from_awkward needs an ak.Array",
                format!("got {}", obj.get_type().name()?),
                "pass an ak.Array (gr.array converts Python lists and NumPy arrays)",
            ));
        }
        let out = ak.call_method1("to_buffers", (obj,))?;
        let (form, length, container): (Bound<'_, PyAny>, usize, Bound<'_, PyDict>) =
            out.extract()?;
        let form: String = form.call_method0("to_json")?.extract()?;
        let form: serde_json::Value = serde_json::from_str(&form).map_err(|e| {
            err(
                Code::Argument,
                "cannot read the Awkward form",
                e.to_string(),
                "pass an ak.Array",
            )
        })?;
        let np = py.import("numpy")?;
        let mut bufs: HashMap<String, Values> = HashMap::new();
        for (k, v) in container.iter() {
            let arr = np
                .call_method1("asarray", (v,))?
                .call_method1("reshape", (-1,))?;
            // Buffers of dtypes grumpy lacks are skipped: their form node reports them.
            let Ok(a) = arr.cast::<PyUntypedArray>() else {
                continue;
            };
            if let Ok(Array {
                layout: Layout::Leaf(l),
            }) = from_numpy(a, None)
            {
                bufs.insert(k.extract()?, l.values);
            }
        }
        let layout = run(py, move || awkward::from_buffers(&form, length, &bufs))?;
        Ok(PyGrumpyArray::new(Array::new(layout)))
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(from_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(from_awkward, m)?)?;
    Ok(())
}
