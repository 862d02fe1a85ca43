//! Register values and the ops that need dataframes or neighbors.

use crate::array::Array;
use crate::dtype::Scalar;
use crate::error::{Code, Error, Result};
use crate::kernels::reduce::ReduceOp;

/// What a register holds.
#[derive(Clone, Debug)]
pub enum Value {
    /// An array.
    Array(Array),
    /// A scalar (a `dim=None` reduction).
    Scalar(Scalar),
    /// A dataframe (batch of a dataframe store).
    Frame(FrameValue),
    /// Nothing (a function without `return`).
    None,
}

/// Placeholder for a dataframe register until frames are wired in.
#[derive(Clone, Debug)]
pub struct FrameValue;

impl Value {
    /// Short name of the kind held.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Array(_) => "an array",
            Value::Scalar(_) => "a scalar",
            Value::Frame(_) => "a dataframe",
            Value::None => "None",
        }
    }
}

fn no_frames(what: &str) -> Error {
    Error::new(
        Code::Unsupported,
        format!("{what} is not available in compiled plans yet"),
        "dataframe ops are not wired into the executor",
        "the Python body runs instead",
    )
}

pub(crate) fn column(v: &Value, path: &[String]) -> Result<Value> {
    let _ = (v, path);
    Err(no_frames("dataframe column access"))
}

pub(crate) fn set_column(frame: Value, path: &[String], name: &str, value: Value) -> Result<Value> {
    let _ = (frame, path, name, value);
    Err(no_frames("dataframe dot assignment"))
}

pub(crate) fn frame_reduce(f: &FrameValue, op: ReduceOp, dim: Option<isize>) -> Result<FrameValue> {
    let _ = (f, op, dim);
    Err(no_frames("dataframe reduction"))
}

pub(crate) fn neighbors_pairs(
    q: &Array,
    d: &Array,
    k: Option<i64>,
    radius: Option<f64>,
    dim: isize,
    keep_loops: bool,
    same: bool,
) -> Result<Array> {
    let _ = (q, d, k, radius, dim, keep_loops, same);
    Err(no_frames("gr.neighbors"))
}
