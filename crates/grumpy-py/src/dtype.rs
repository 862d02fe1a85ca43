//! The `grumpy.DType` Python class (`gr.float64`, `gr.dtype("int32")`).

use crate::errors::{guard, IntoPy};
use grumpy_core::DType;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// A grumpy element type; prints its name and compares equal to it.
#[pyclass(name = "DType", module = "grumpy", frozen)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PyDType {
    pub(crate) inner: DType,
}

#[pymethods]
impl PyDType {
    /// The dtype's name (`"float64"`).
    #[getter]
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    /// Bytes per element.
    #[getter]
    fn itemsize(&self) -> usize {
        self.inner.itemsize()
    }
    fn __repr__(&self) -> String {
        format!(
            "gr.{}",
            if self.inner == DType::Bool {
                "bool_"
            } else {
                self.inner.name()
            }
        )
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        guard(|| Ok(parse_dtype(other).is_ok_and(|d| d == self.inner)))
    }
    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(!self.__eq__(other)?)
    }
    fn __hash__(&self) -> u64 {
        self.inner as u64
    }
    fn __str__(&self) -> &'static str {
        self.inner.name()
    }
    fn __reduce__(&self, py: Python<'_>) -> PyResult<(Py<PyAny>, (String,))> {
        guard(|| {
            let f = py.import("grumpy")?.getattr("dtype")?.unbind();
            Ok((f, (self.inner.name().to_owned(),)))
        })
    }
}

/// Accept a `DType`, a name, a NumPy dtype or a Python type (`float`, `int`, `bool`, `str`).
pub(crate) fn parse_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(d.get().inner);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return DType::parse(&s.to_cow()?).py();
    }
    let py = obj.py();
    let builtins = py.import("builtins")?;
    for (name, d) in [
        ("float", DType::Float64),
        ("int", DType::Int64),
        ("bool", DType::Bool),
        ("str", DType::String),
    ] {
        if obj.is(&builtins.getattr(name)?) {
            return Ok(d);
        }
    }
    // NumPy dtypes and scalar types: np.dtype(obj).name
    if let Ok(np) = py.import("numpy") {
        if let Ok(dt) = np.call_method1("dtype", (obj,)) {
            let name: String = dt.getattr("name")?.extract()?;
            if name.starts_with("str") {
                return Ok(DType::String);
            }
            return DType::parse(&name).py();
        }
    }
    Err(crate::errors::err(
        grumpy_core::Code::DType,
        format!("not a dtype: {}", obj.repr()?),
        "dtype= takes a grumpy dtype, its name, a NumPy dtype or float/int/bool/str",
        "pass e.g. dtype=gr.float64 or dtype=\"int32\"",
    ))
}

/// `gr.dtype(name)`: the grumpy dtype named `name` (`"float64"`, a NumPy dtype, `float`, ...).
#[pyfunction]
#[pyo3(name = "dtype")]
pub(crate) fn py_dtype(obj: &Bound<'_, PyAny>) -> PyResult<PyDType> {
    guard(|| {
        Ok(PyDType {
            inner: parse_dtype(obj)?,
        })
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDType>()?;
    m.add_function(wrap_pyfunction!(py_dtype, m)?)?;
    for d in grumpy_core::dtype::ALL_DTYPES {
        let name = if d == DType::Bool { "bool_" } else { d.name() };
        m.add(name, PyDType { inner: d })?;
    }
    Ok(())
}
