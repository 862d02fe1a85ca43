//! Reductions: `x.sum/mean/min/max/ptp/prod/count/any/all(dim=None)` and the module functions
//! `gr.sum(x, dim=None)` etc. The work happens in `grumpy_core::kernels::reduce`.

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, scalar_to_py};
use crate::errors::{err, run};
use grumpy_core::kernels::reduce::{reduce, ReduceOp, Reduced};
use grumpy_core::Array;
use grumpy_core::Code;
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

/// The reduction axis from `dim=` (or NumPy's `axis=`): an int or `None`; anything else is an
/// `ArgumentError` with a fix.
pub(crate) fn dim_arg<'py>(
    dim: Option<&Bound<'py, PyAny>>,
    axis: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<isize>> {
    fn given<'py>(o: Option<&Bound<'py, PyAny>>) -> Option<Bound<'py, PyAny>> {
        o.filter(|v| !v.is_none()).cloned()
    }
    let v = match (given(dim), given(axis)) {
        (Some(_), Some(_)) => {
            return Err(err(
                Code::Argument,
                "both dim= and axis= were given",
                "axis= is NumPy's name for dim=",
                "pass only dim=",
            ))
        }
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => return Ok(None),
    };
    let bad = || {
        err(
            Code::Argument,
            format!(
                "dim must be an int or None, not {}",
                v.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
            format!(
                "got {}",
                v.repr().map(|r| r.to_string()).unwrap_or_default()
            ),
            "pass an axis number, e.g. dim=1 or dim=-1 (dim=None reduces everything)",
        )
    };
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(bad());
    }
    match v.extract::<isize>() {
        Ok(d) if v.is_instance_of::<pyo3::types::PyInt>() || v.hasattr("__index__")? => Ok(Some(d)),
        _ => Err(bad()),
    }
}

#[pymethods]
impl PyGrumpyArray {
    /// Sum over all values (`dim=None`, a Python scalar) or along axis `dim`.
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Sum, dim_arg(dim, axis)?)
    }
    /// Mean of the non-null values (null for an empty group).
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Mean, dim_arg(dim, axis)?)
    }
    /// Minimum (null for an empty group).
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn min(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Min, dim_arg(dim, axis)?)
    }
    /// Maximum (null for an empty group).
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn max(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Max, dim_arg(dim, axis)?)
    }
    /// Peak to peak, `max - min` (null for an empty group).
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn ptp(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Ptp, dim_arg(dim, axis)?)
    }
    /// Product (1 for an empty group).
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn prod(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Prod, dim_arg(dim, axis)?)
    }
    /// Number of non-null values.
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn count(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Count, dim_arg(dim, axis)?)
    }
    /// True where some value is non-zero.
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn any(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::Any, dim_arg(dim, axis)?)
    }
    /// True where every value is non-zero.
    #[pyo3(signature = (dim = None, *, axis = None))]
    fn all(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        axis: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        reduce_py(py, &self.inner, ReduceOp::All, dim_arg(dim, axis)?)
    }
}

macro_rules! module_fn {
    ($name:ident, $op:expr, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (x, dim = None, *, axis = None))]
        fn $name(
            py: Python<'_>,
            x: &Bound<'_, PyAny>,
            dim: Option<&Bound<'_, PyAny>>,
            axis: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            reduce_obj(py, x, $op, dim_arg(dim, axis)?)
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
