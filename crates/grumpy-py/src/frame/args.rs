//! Python → core conversion for dataframes: operands of frame arithmetic, assigned column
//! values, row keys and the `gr.dataframe` arguments.

use super::PyDataFrame;
use crate::array::PyGrumpyArray;
use crate::convert::from_py;
use crate::errors::err;
use crate::operand::Arg as OpArg;
use grumpy_core::frame::Frame;
use grumpy_core::{Array, Code, DType, Scalar};
use pyo3::prelude::*;
use pyo3::types::{
    PyByteArray, PyBytes, PyDict, PyFrozenSet, PyList, PyMemoryView, PySet, PyString, PyTuple,
};

/// An owned operand of a frame operation: a frame, or an array or scalar operand.
pub(crate) enum Arg {
    Frame(Frame),
    Other(crate::operand::Arg),
}

impl Arg {
    pub(crate) fn operand(&self) -> grumpy_core::frame::FrameOperand<'_> {
        use grumpy_core::frame::FrameOperand as O;
        match self {
            Arg::Frame(f) => O::Frame(f),
            Arg::Other(a) => O::Arg(a),
        }
    }
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// Convert an operand of `frame ⊕ x` like an array operator's (NumPy scalars strong, NEP 50);
/// `None` means "not an operand type" (→ `NotImplemented`).
pub(crate) fn to_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arg>> {
    if let Ok(df) = obj.cast::<PyDataFrame>() {
        return Ok(Some(Arg::Frame(df.borrow().frame()?)));
    }
    Ok(crate::operand::to_arg(obj)?.map(Arg::Other))
}

/// Like [`to_arg`] for the module functions (`gr.add(df, x)`): anything else is an error.
pub(crate) fn require_arg(obj: &Bound<'_, PyAny>) -> PyResult<Arg> {
    if obj.is_none() {
        return Ok(Arg::Other(crate::operand::Arg::Weak(Scalar::Null)));
    }
    to_arg(obj)?.ok_or_else(|| {
        err(
            Code::DType,
            format!("a {} cannot be combined with a DataFrame", type_name(obj)),
            "frame operands are frames, GrumpyArrays, NumPy arrays, lists or scalars",
            "convert the operand first, e.g. gr.array(x)",
        )
    })
}

/// A value assigned to a column: an array, or a scalar broadcast over the level.
pub(crate) enum Assigned {
    Array(Array),
    Scalar(Scalar, Option<DType>),
}

fn bad_value(name: &str, what: String, fix: &str) -> PyErr {
    err(
        Code::Argument,
        format!("cannot assign {what} to column {name:?}"),
        "a column value is an array-like (one row per entity of the level, or the full nested \
         shape) or a scalar broadcast to every entity",
        fix,
    )
}

/// Convert the value of `df.<level>.<name> = value`.
pub(crate) fn assigned(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Assigned> {
    if let Ok(g) = value.cast::<PyGrumpyArray>() {
        return Ok(Assigned::Array(g.borrow().inner.clone()));
    }
    if value.is_none() {
        return Ok(Assigned::Scalar(Scalar::Null, None));
    }
    match crate::operand::scalar_arg(value)? {
        Some(OpArg::Weak(s)) => return Ok(Assigned::Scalar(s, None)),
        Some(OpArg::Strong(s, d)) => return Ok(Assigned::Scalar(s, Some(d))),
        Some(OpArg::BigInt(_, f)) => return Ok(Assigned::Scalar(Scalar::Float(f), None)),
        Some(OpArg::Array(_)) | None => {}
    }
    if value.cast::<PyDataFrame>().is_ok() {
        return Err(bad_value(
            name,
            "a DataFrame".into(),
            "assign one of its columns: df.<level>.name = other.<level>.name",
        ));
    }
    if value.cast::<PyBytes>().is_ok()
        || value.cast::<PyByteArray>().is_ok()
        || value.cast::<PyMemoryView>().is_ok()
    {
        return Err(bad_value(
            name,
            format!("{} data", type_name(value)),
            "decode text to str, or wrap numbers with np.frombuffer(...) first",
        ));
    }
    if value.cast::<PyDict>().is_ok()
        || value.cast::<PySet>().is_ok()
        || value.cast::<PyFrozenSet>().is_ok()
    {
        return Err(bad_value(
            name,
            format!("a {}", type_name(value)),
            "pass a list, a NumPy array or a GrumpyArray (a dict or set has no row order)",
        ));
    }
    if value.cast::<PyList>().is_ok()
        || value.cast::<PyTuple>().is_ok()
        || value.cast::<numpy::PyUntypedArray>().is_ok()
        || value.hasattr("__len__")?
    {
        return Ok(Assigned::Array(from_py(value, None)?));
    }
    Err(bad_value(
        name,
        format!("a {}", type_name(value)),
        "pass a list, a NumPy array, a GrumpyArray or a scalar",
    ))
}

/// Level names of `gr.dataframe(schema=...)`.
pub(crate) fn schema_arg(schema: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(s) = schema.filter(|s| !s.is_none()) else {
        return Ok(vec!["row".to_owned()]);
    };
    let bad = |why: String| {
        err(
            Code::Argument,
            "schema must be a list of level names",
            why,
            "pass level names outermost first, e.g. schema=[\"molecule\", \"residue\", \"atom\"]",
        )
    };
    if s.cast::<PyString>().is_ok() {
        return Err(bad(format!(
            "got the string {}; a one-level schema is a list of one name",
            s.repr()?
        )));
    }
    if s.cast::<PyList>().is_err() && s.cast::<PyTuple>().is_err() {
        return Err(bad(format!("got a {}", type_name(s))));
    }
    let mut out = Vec::new();
    for item in s.try_iter()? {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(n) => out.push(n.to_cow()?.into_owned()),
            Err(_) => return Err(bad(format!("the entry {} is not a str", item.repr()?))),
        }
    }
    Ok(out)
}

/// `{column: level name}` of `gr.dataframe(levels=...)`.
pub(crate) fn levels_arg(
    levels: Option<&Bound<'_, PyAny>>,
    schema: &[String],
) -> PyResult<Vec<(String, String)>> {
    let Some(l) = levels.filter(|l| !l.is_none()) else {
        return Ok(Vec::new());
    };
    let d = l.cast::<PyDict>().map_err(|_| {
        err(
            Code::Argument,
            "levels must be a dict {column: level name}",
            format!("got a {}", type_name(l)),
            "pass e.g. levels={\"center\": \"residue\"}",
        )
    })?;
    let mut out = Vec::new();
    for (k, v) in d.iter() {
        let col = k.cast::<PyString>().map_err(|_| {
            err(
                Code::Argument,
                "levels keys must be column names (str)",
                format!(
                    "got the key {}",
                    k.repr().map_or("?".into(), |r| r.to_string())
                ),
                "pass levels={\"column\": \"level\"}",
            )
        })?;
        let col = col.to_cow()?.into_owned();
        let Ok(lev) = v.cast::<PyString>() else {
            let hint = v
                .extract::<usize>()
                .ok()
                .and_then(|i| schema.get(i))
                .map_or_else(
                    || format!("use one of the schema's names {schema:?}"),
                    |n| format!("name the level: levels={{{col:?}: {n:?}}}"),
                );
            return Err(err(
                Code::Argument,
                format!("levels[{col:?}] must be a level name (str)"),
                format!(
                    "got {}; levels are named by the schema {schema:?}",
                    v.repr().map_or("?".into(), |r| r.to_string())
                ),
                hint,
            ));
        };
        out.push((col, lev.to_cow()?.into_owned()));
    }
    Ok(out)
}

/// The columns dict of `gr.dataframe`.
pub(crate) fn columns_arg(
    py: Python<'_>,
    columns: &Bound<'_, PyAny>,
) -> PyResult<Vec<(String, Array)>> {
    let dict = columns.cast::<PyDict>().map_err(|_| {
        err(
            Code::Argument,
            "gr.dataframe needs a dict of columns",
            format!("got {}", type_name(columns)),
            "pass {\"name\": array_like, ...}",
        )
    })?;
    let mut cols = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        let name: String = k
            .cast::<PyString>()
            .map_err(|_| {
                err(
                    Code::Argument,
                    "column names must be strings",
                    format!(
                        "got the key {}",
                        k.repr().map_or("?".into(), |r| r.to_string())
                    ),
                    "use str keys",
                )
            })?
            .to_cow()?
            .into_owned();
        let a = match assigned(&name, &v) {
            Ok(Assigned::Array(a)) => Ok(a),
            Ok(Assigned::Scalar(..)) => Err(err(
                Code::Argument,
                format!("column {name:?} is a scalar"),
                "gr.dataframe needs one row per row of the frame in every column",
                "pass a list or array (a scalar can be broadcast afterwards: df.<level>.name = x)",
            )),
            Err(e) => {
                let v = e.value(py);
                let msg = match (v.getattr("summary"), v.getattr("cause")) {
                    (Ok(s), Ok(c)) => format!("{s}; {c}"),
                    _ => v.to_string(),
                };
                Err(err(
                    Code::Argument,
                    format!("column {name:?} cannot be converted to an array"),
                    msg,
                    "pass nested lists, a NumPy array or a GrumpyArray",
                ))
            }
        }?;
        cols.push((name, a));
    }
    Ok(cols)
}
