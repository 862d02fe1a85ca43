//! `grumpy._core.Plan`: a compiled plan built from the compiler's JSON, run on a batch with
//! the GIL released.

use crate::array::PyGrumpyArray;
use crate::convert::scalar_to_py;
use crate::errors::{err, run, IntoPy};
use crate::frame::PyDataFrame;
use grumpy_core::frame::Frame;
use grumpy_core::plan::{FrameRef, Plan, Value};
use grumpy_core::Code;
use pyo3::prelude::*;

/// A compiled plan of Rust opcodes.
#[pyclass(name = "Plan", module = "grumpy", frozen)]
pub(crate) struct PyPlan {
    pub(crate) inner: Plan,
}

/// Convert a Python batch into a register value and frame table (None when the plan cannot
/// take it).
pub(crate) fn to_value(batch: &Bound<'_, PyAny>) -> Option<(Value, Vec<Frame>)> {
    if let Ok(a) = batch.cast::<PyGrumpyArray>() {
        return Some((Value::Array(a.borrow().inner.clone()), Vec::new()));
    }
    if let Ok(df) = batch.cast::<PyDataFrame>() {
        let (root, level) = df.borrow().root_and_level();
        return Some((Value::Frame(FrameRef { root: 0, level }), vec![root]));
    }
    None
}

/// Convert a result back to Python. Dot assignments are written back into the input
/// dataframe object, and a frame result at the input's level is the input object itself.
pub(crate) fn from_value(
    py: Python<'_>,
    v: Value,
    frames: Vec<Frame>,
    batch: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    if let (Ok(df), Some(root)) = (batch.cast::<PyDataFrame>(), frames.into_iter().next()) {
        df.borrow().replace_root(root);
    }
    Ok(match v {
        Value::Array(a) => Py::new(py, PyGrumpyArray::new(a))?.into_any(),
        Value::Scalar(s) => scalar_to_py(py, &s)?.unbind(),
        Value::None => py.None(),
        Value::Frame(fr) => match batch.cast::<PyDataFrame>() {
            Ok(df) if df.borrow().root_and_level().1 == fr.level => batch.clone().unbind(),
            Ok(df) => Py::new(py, df.borrow().view(fr.level))?.into_any(),
            Err(_) => py.None(),
        },
    })
}

#[pymethods]
impl PyPlan {
    /// Build from the compiler's JSON (`{"ops": [...], "output": n}`).
    #[new]
    fn new(json: &str) -> PyResult<Self> {
        Ok(PyPlan {
            inner: Plan::from_json(json).py()?,
        })
    }
    /// Run on one batch (GIL released). Raises `grumpy.Unsupported` when the plan does not
    /// apply to this input.
    fn run(&self, py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (v, frames) = to_value(batch).ok_or_else(|| {
            err(
                Code::Unsupported,
                format!(
                    "a compiled plan cannot take a {}",
                    batch
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
                "plans run on GrumpyArray and DataFrame batches",
                "pass a grumpy array or dataframe (the Python body runs otherwise)",
            )
        })?;
        let plan = &self.inner;
        let (out, frames) = run(py, move || plan.run_with_frames(v, frames))?;
        from_value(py, out, frames, batch)
    }
    /// The ops and what was fused.
    fn explain(&self) -> String {
        self.inner.explain()
    }
    /// The plan as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// Number of ops.
    fn __len__(&self) -> usize {
        self.inner.ops().len()
    }
    fn __repr__(&self) -> String {
        format!(
            "<grumpy.Plan: {} op(s), {} step(s)>",
            self.inner.ops().len(),
            self.inner.steps().len()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPlan>()
}
