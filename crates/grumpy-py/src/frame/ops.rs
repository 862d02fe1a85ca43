//! Operators, NumPy ufuncs, `gr.<function>(df)` and reductions on a `DataFrame`: convert the
//! operands, call `grumpy_core::frame` (which decides which columns take part), wrap the result.

use super::args::{require_arg, to_arg, Arg};
use super::PyDataFrame;
use crate::array::PyGrumpyArray;
use crate::convert::scalar_to_py;
use crate::errors::{err, run};
use crate::operand::Arg as OpArg;
use grumpy_core::frame::{Frame, FrameOp};
use grumpy_core::kernels::elementwise::BinaryOp;
use grumpy_core::kernels::reduce::{ReduceOp, Reduced};
use grumpy_core::kernels::unary::UnaryOp;
use grumpy_core::{Code, Scalar};
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

fn wrap(py: Python<'_>, f: Frame) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, PyDataFrame::from_frame(f))?.into_any())
}

fn binary(py: Python<'_>, op: BinaryOp, a: &Arg, b: &Arg) -> PyResult<Py<PyAny>> {
    let f = run(py, || Frame::binary(op, a.operand(), b.operand()))?;
    wrap(py, f)
}

/// Operator form: `NotImplemented` when `other` is not an operand type.
fn op2(
    py: Python<'_>,
    op: BinaryOp,
    me: &PyDataFrame,
    other: &Bound<'_, PyAny>,
    reflected: bool,
) -> PyResult<Py<PyAny>> {
    let Some(o) = to_arg(other)? else {
        return Ok(py.NotImplemented());
    };
    let me = Arg::Frame(me.frame()?);
    if reflected {
        binary(py, op, &o, &me)
    } else {
        binary(py, op, &me, &o)
    }
}

fn unary(py: Python<'_>, op: UnaryOp, me: &PyDataFrame) -> PyResult<Py<PyAny>> {
    let f = me.frame()?;
    let r = run(py, || f.unary(op))?;
    wrap(py, r)
}

/// `gr.add(a, b)` etc. when an operand is a DataFrame (`None`: not a frame call).
pub(crate) fn binary_fn(
    py: Python<'_>,
    op: BinaryOp,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Option<Py<PyAny>>> {
    if a.cast::<PyDataFrame>().is_err() && b.cast::<PyDataFrame>().is_err() {
        return Ok(None);
    }
    let (x, y) = (require_arg(a)?, require_arg(b)?);
    binary(py, op, &x, &y).map(Some)
}

/// `gr.where(cond, a, b)` when an operand is a DataFrame (`None`: no frame).
pub(crate) fn where_fn(
    py: Python<'_>,
    cond: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Option<Py<PyAny>>> {
    if [cond, a, b]
        .iter()
        .all(|o| o.cast::<PyDataFrame>().is_err())
    {
        return Ok(None);
    }
    let (c, x, y) = (require_arg(cond)?, require_arg(a)?, require_arg(b)?);
    let f = run(py, || Frame::where_(c.operand(), x.operand(), y.operand()))?;
    wrap(py, f).map(Some)
}

/// `gr.sqrt(df)` etc. (`None`: not a frame).
pub(crate) fn unary_fn(
    py: Python<'_>,
    op: UnaryOp,
    x: &Bound<'_, PyAny>,
) -> PyResult<Option<Py<PyAny>>> {
    match x.cast::<PyDataFrame>() {
        Ok(df) => unary(py, op, &df.borrow()).map(Some),
        Err(_) => Ok(None),
    }
}

/// `gr.clip(df, lo, hi)` (`None`: not a frame). Frame bounds are scalars (or `None`).
pub(crate) fn clip_fn(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    lo: Option<&Bound<'_, PyAny>>,
    hi: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Py<PyAny>>> {
    let Ok(df) = x.cast::<PyDataFrame>() else {
        return Ok(None);
    };
    let scalar = |b: Option<&Bound<'_, PyAny>>| -> PyResult<Option<Scalar>> {
        match b.map(require_arg).transpose()? {
            None | Some(Arg::Other(OpArg::Weak(Scalar::Null))) => Ok(None),
            Some(Arg::Other(OpArg::Weak(s) | OpArg::Strong(s, _))) => Ok(Some(s)),
            Some(_) => Err(crate::errors::err(
                grumpy_core::Code::Value,
                "gr.clip on a DataFrame takes scalar bounds",
                "array bounds would need one value per column",
                "pass numbers (or None) as lo/hi, or clip each column",
            )),
        }
    };
    let (lo, hi) = (scalar(lo)?, scalar(hi)?);
    let f = df.borrow().frame()?;
    let r = run(py, || f.clip(lo.as_ref(), hi.as_ref()))?;
    wrap(py, r).map(Some)
}

/// `{column: result}` of a reduction over the columns it applies to.
fn reduce(
    py: Python<'_>,
    me: &PyDataFrame,
    op: ReduceOp,
    dim: Option<isize>,
) -> PyResult<Py<PyAny>> {
    let f = me.frame()?;
    let parts = run(py, || f.reduce(op, dim))?;
    let out = PyDict::new(py);
    for (name, r) in parts {
        match r {
            Reduced::Scalar(s) => out.set_item(name, scalar_to_py(py, &s)?)?,
            Reduced::Array(a) => out.set_item(name, Py::new(py, PyGrumpyArray::new(a))?)?,
        }
    }
    Ok(out.into_any().unbind())
}

/// `gr.sum(df, dim=...)` etc. (`None`: not a frame).
pub(crate) fn reduce_fn(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    op: ReduceOp,
    dim: Option<isize>,
) -> PyResult<Option<Py<PyAny>>> {
    match x.cast::<PyDataFrame>() {
        Ok(df) => reduce(py, &df.borrow(), op, dim).map(Some),
        Err(_) => Ok(None),
    }
}

fn unsupported_ufunc(what: String, fix: &str) -> PyErr {
    err(
        Code::Unsupported,
        what,
        "DataFrames support NumPy's elementwise ufuncs that grumpy implements, called plainly \
         (np.sqrt(df), np.add(df, 1))",
        fix,
    )
}

crate::operators::binary_operators!(PyDataFrame, op2);

#[pymethods]
impl PyDataFrame {
    /// `{column: sum}` over the numeric and bool columns (pandas' numeric_only).
    #[pyo3(signature = (dim = None))]
    fn sum(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Sum, dim)
    }
    /// `{column: mean}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn mean(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Mean, dim)
    }
    /// `{column: min}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn min(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Min, dim)
    }
    /// `{column: max}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn max(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Max, dim)
    }
    /// `{column: max - min}` over the numeric columns (not bool).
    #[pyo3(signature = (dim = None))]
    fn ptp(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Ptp, dim)
    }
    /// `{column: product}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn prod(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Prod, dim)
    }
    /// `{column: number of non-null values}` over every column.
    #[pyo3(signature = (dim = None))]
    fn count(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Count, dim)
    }
    /// `{column: any}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn any(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::Any, dim)
    }
    /// `{column: all}` over the numeric and bool columns.
    #[pyo3(signature = (dim = None))]
    fn all(&self, py: Python<'_>, dim: Option<isize>) -> PyResult<Py<PyAny>> {
        reduce(py, self, ReduceOp::All, dim)
    }
}

#[pymethods]
impl PyDataFrame {
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Pow, self, o, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        op2(py, BinaryOp::Pow, self, o, true)
    }
    /// `df == x`, `df < x`, ...: a frame of bool columns (strings carried, see the docs).
    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        cmp: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let op = match cmp {
            CompareOp::Eq => BinaryOp::Eq,
            CompareOp::Ne => BinaryOp::Ne,
            CompareOp::Lt => BinaryOp::Lt,
            CompareOp::Le => BinaryOp::Le,
            CompareOp::Gt => BinaryOp::Gt,
            CompareOp::Ge => BinaryOp::Ge,
        };
        op2(py, op, self, o, false)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        unary(py, UnaryOp::Neg, self)
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        unary(py, UnaryOp::Abs, self)
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        unary(py, UnaryOp::Not, self)
    }
    fn __pos__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        wrap(py, self.frame()?)
    }

    /// NumPy ufuncs (`np.sqrt(df)`, `np.add(df, 1)`, `arr * df`) dispatch to the frame ops.
    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__(
        &self,
        py: Python<'_>,
        ufunc: &Bound<'_, PyAny>,
        method: &str,
        inputs: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let name: String = ufunc.getattr("__name__")?.extract()?;
        if method != "__call__" {
            return Err(unsupported_ufunc(
                format!("np.{name}.{method} is not supported on a DataFrame"),
                "use the frame's reductions (df.sum(), df.max(dim=...)) instead",
            ));
        }
        if let Some(k) = kwargs.filter(|k| !k.is_empty()) {
            let keys: Vec<String> = k.keys().extract()?;
            return Err(unsupported_ufunc(
                format!("np.{name} with {keys:?} is not supported on a DataFrame"),
                "call the ufunc without out=/where=/dtype= and cast the result columns",
            ));
        }
        match (FrameOp::from_ufunc(&name), inputs.len()) {
            (Some(FrameOp::Unary(op)), 1) => {
                let df = inputs.get_item(0)?;
                let df = df.cast::<PyDataFrame>()?;
                unary(py, op, &df.borrow())
            }
            (Some(FrameOp::Binary(op)), 2) => {
                let (a, b) = (inputs.get_item(0)?, inputs.get_item(1)?);
                let (x, y) = (require_arg(&a)?, require_arg(&b)?);
                binary(py, op, &x, &y)
            }
            _ => Err(unsupported_ufunc(
                format!(
                    "np.{name} ({} inputs) has no grumpy equivalent for DataFrames",
                    inputs.len()
                ),
                "apply it to a column (np.{name}(df.col.values)) and assign the result",
            )),
        }
    }
}
