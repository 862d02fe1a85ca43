//! One place that turns grumpy errors and Rust panics into Python exceptions, and runs work
//! with the GIL released.

use grumpy_core::{Code, Error};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Convert a grumpy error into the matching `grumpy.<Code>` Python exception, with `.code`,
/// `.cause` and `.fix` attributes (classes live in `grumpy/errors.py`).
pub(crate) fn to_py(e: Error) -> PyErr {
    Python::attach(|py| match make_exc(py, &e) {
        Ok(err) => err,
        Err(fallback) => fallback,
    })
}

fn class_name(code: Code) -> &'static str {
    match code {
        Code::Value => "ArgumentError",
        other => other.name(),
    }
}

fn make_exc(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("grumpy.errors")?;
    let cls = module.getattr(class_name(e.code()))?;
    let inst = cls.call1((e.to_string(),))?;
    inst.setattr("code", PyString::new(py, e.code().name()))?;
    inst.setattr("summary", e.summary())?;
    inst.setattr("cause", e.cause())?;
    inst.setattr("fix", e.fix())?;
    Ok(PyErr::from_value(inst))
}

/// Build and convert an error in one step.
pub(crate) fn err(
    code: Code,
    summary: impl Into<String>,
    cause: impl Into<String>,
    fix: impl Into<String>,
) -> PyErr {
    to_py(Error::new(code, summary, cause, fix))
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(
        Code::Unsupported,
        "internal error in grumpy's Rust core",
        msg,
        "this is a bug: please report it with the code that triggered it",
    )
}

/// Run `f` with the GIL released, catching panics and converting errors. Every binding that
/// does real work goes through here.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> grumpy_core::Result<T> + Send,
) -> PyResult<T> {
    let r = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(p) => Err(to_py(panic_error(p))),
    }
}

/// Like [`run`] but keeps the GIL (for work that touches Python objects); still catches panics.
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(to_py(panic_error(p))),
    }
}

/// Extension trait: `result.py()?` converts a core `Result` into a `PyResult`.
pub(crate) trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for grumpy_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
