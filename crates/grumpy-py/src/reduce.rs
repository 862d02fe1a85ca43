//! Reductions: `x.sum/mean/min/max/ptp/prod/count/any/all(dim=None)` and the module functions
//! `gr.sum(x, dim=None)` etc. The work happens in `grumpy_core::kernels::reduce`.

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, scalar_to_py};
use crate::errors::run;
use grumpy_core::kernels::reduce::{reduce, ReduceOp, Reduced};
use grumpy_core::Array;
use pyo3::prelude::*;

/// Run a reduction with the GIL released; a scalar result becomes a Python scalar, an array
/// result a `GrumpyArray`.
fn reduce_py(py: Python<'_>, a: &Array, op: ReduceOp, dim: Option<isize>) -> PyResult<Py<PyAny>> {
    match run(py, || reduce(a, op, dim))? {
        Reduced::Scalar(s) => Ok(scalar_to_py(py, &s)?.unbind()),
        Reduced::Array(x) => Ok(Py::new(py, PyGrumpyArray::new(x))?.into_any()),
    }
}

fn reduce_obj(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    op: ReduceOp,
    dim: Option<isize>,
) -> PyResult<Py<PyAny>> {
    if let Some(r) = crate::frame::reduce_fn(py, x, op, dim)? {
        return Ok(r);
    }
    if let Ok(g) = x.cast::<PyGrumpyArray>() {
        let a = g.borrow().inner.clone();
        return reduce_py(py, &a, op, dim);
    }
    let a = from_py(x, None)?;
    reduce_py(py, &a, op, dim)
}

#[pymethods]
impl PyGrumpyArray {
    /// Sum over all values (`dim=None`, a Python scalar) or along axis `dim`.
    #[pyo3(signature = (dim = None))]
    fn sum(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Sum, dim)
    }
    /// Mean of the non-null values (null for an empty group).
    #[pyo3(signature = (dim = None))]
    fn mean(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Mean, dim)
    }
    /// Minimum (null for an empty group).
    #[pyo3(signature = (dim = None))]
    fn min(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Min, dim)
    }
    /// Maximum (null for an empty group).
    #[pyo3(signature = (dim = None))]
    fn max(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Max, dim)
    }
    /// Peak to peak, `max - min` (null for an empty group).
    #[pyo3(signature = (dim = None))]
    fn ptp(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Ptp, dim)
    }
    /// Product (1 for an empty group).
    #[pyo3(signature = (dim = None))]
    fn prod(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Prod, dim)
    }
    /// Number of non-null values.
    #[pyo3(signature = (dim = None))]
    fn count(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Count, dim)
    }
    /// True where some value is non-zero.
    #[pyo3(signature = (dim = None))]
    fn any(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Any, dim)
    }
    /// True where every value is non-zero.
    #[pyo3(signature = (dim = None))]
    fn all(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::All, dim)
    }
}

macro_rules! module_fn {
    ($name:ident, $op:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (x, dim = None))]
        fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
            reduce_obj(py, x, $op, dim)
        }
    };
}

module_fn!(
    sum,
    ReduceOp::Sum,
    "`gr.sum(x, dim=None)`: see `GrumpyArray.sum`."
);
module_fn!(
    mean,
    ReduceOp::Mean,
    "`gr.mean(x, dim=None)`: see `GrumpyArray.mean`."
);
module_fn!(
    min,
    ReduceOp::Min,
    "`gr.min(x, dim=None)`: see `GrumpyArray.min`."
);
module_fn!(
    max,
    ReduceOp::Max,
    "`gr.max(x, dim=None)`: see `GrumpyArray.max`."
);
module_fn!(
    ptp,
    ReduceOp::Ptp,
    "`gr.ptp(x, dim=None)`: see `GrumpyArray.ptp`."
);
module_fn!(
    prod,
    ReduceOp::Prod,
    "`gr.prod(x, dim=None)`: see `GrumpyArray.prod`."
);
module_fn!(
    count,
    ReduceOp::Count,
    "`gr.count(x, dim=None)`: see `GrumpyArray.count`."
);
module_fn!(
    any,
    ReduceOp::Any,
    "`gr.any(x, dim=None)`: see `GrumpyArray.any`."
);
module_fn!(
    all,
    ReduceOp::All,
    "`gr.all(x, dim=None)`: see `GrumpyArray.all`."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum, m)?)?;
    m.add_function(wrap_pyfunction!(mean, m)?)?;
    m.add_function(wrap_pyfunction!(min, m)?)?;
    m.add_function(wrap_pyfunction!(max, m)?)?;
    m.add_function(wrap_pyfunction!(ptp, m)?)?;
    m.add_function(wrap_pyfunction!(prod, m)?)?;
    m.add_function(wrap_pyfunction!(count, m)?)?;
    m.add_function(wrap_pyfunction!(any, m)?)?;
    m.add_function(wrap_pyfunction!(all, m)?)?;
    Ok(())
}
