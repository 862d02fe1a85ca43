//! Register values, and the ops that read or write dataframes.
//!
//! Dataframe registers point into the executor's frame table ([`FrameRef`]): dot assignment
//! updates the table entry, so every register viewing that frame (and the caller's input
//! object) sees the new column, exactly as attribute assignment does in Python.

use crate::array::Array;
use crate::dtype::Scalar;
use crate::error::{Code, Error, Result};
use crate::frame::Frame;

/// A dataframe register: frame `root` of the executor's table, seen from level `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRef {
    /// Index into the frame table (0 = the input batch).
    pub root: usize,
    /// Schema level the view starts at (0 = the whole frame).
    pub level: usize,
}

/// What a register holds.
#[derive(Clone, Debug)]
pub enum Value {
    /// An array.
    Array(Array),
    /// A scalar (a `dim=None` reduction).
    Scalar(Scalar),
    /// A dataframe view.
    Frame(FrameRef),
    /// Nothing (a function without `return`).
    None,
}

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

fn unsupported(what: String, why: String) -> Error {
    Error::new(Code::Unsupported, what, why, "the Python body runs instead")
}

/// `src.a.b.c`: level names move the view inward; a final column name reads the column.
pub(crate) fn column(frames: &[Frame], v: &Value, path: &[String]) -> Result<Value> {
    let Value::Frame(fr) = v else {
        return Err(unsupported(
            format!("attribute access .{} needs a dataframe", path.join(".")),
            format!("got {}", v.kind()),
        ));
    };
    let frame = &frames[fr.root];
    let mut level = fr.level;
    for (i, name) in path.iter().enumerate() {
        if let Some(l) = frame.level_index(name).filter(|&l| l >= level) {
            level = l;
            continue;
        }
        if i + 1 == path.len() {
            return Ok(Value::Array(frame.column_at(level, name)?));
        }
        return Err(unsupported(
            format!(
                "no level or column {name:?} at this point of .{}",
                path.join(".")
            ),
            "the path does not match the dataframe's schema".into(),
        ));
    }
    Ok(Value::Frame(FrameRef {
        root: fr.root,
        level,
    }))
}

/// `frame.<path>.<name> = value`.
pub(crate) fn set_column(
    frames: &mut [Frame],
    target: &Value,
    path: &[String],
    name: &str,
    value: &Value,
) -> Result<Value> {
    let Value::Frame(fr) = target else {
        return Err(unsupported(
            format!("assignment .{name} = ... needs a dataframe"),
            format!("got {}", target.kind()),
        ));
    };
    // An array is re-nested like eager dot assignment; a scalar (a `dim=None` reduction, or a
    // reduction of a flat column) is broadcast to every entity of the level, as in Python.
    let (array, scalar) = match value {
        Value::Array(a) => (Some(a), None),
        Value::Scalar(s) => (None, Some(s)),
        _ => {
            return Err(unsupported(
                format!("dataframe column {name:?} needs an array or scalar value"),
                format!("got {}", value.kind()),
            ))
        }
    };
    let frame = &mut frames[fr.root];
    let mut level = fr.level;
    for p in path {
        match frame.level_index(p).filter(|&l| l >= level) {
            Some(l) => level = l,
            None => {
                return Err(unsupported(
                    format!("{p:?} is not a level inside this view"),
                    "dot assignment targets df.<level>.<name>".into(),
                ))
            }
        }
    }
    if frame.level_index(name).is_some() {
        return Err(Error::new(
            Code::Schema,
            format!("cannot assign to the level {name:?}"),
            format!("{name:?} names a level of the schema, not a column"),
            format!("assign a column inside the level: df.{name}.<column> = value"),
        ));
    }
    match (array, scalar) {
        (Some(a), _) => frame.assign(level, name, a.clone())?,
        (None, Some(s)) => frame.fill(level, name, s, None)?,
        (None, None) => unreachable!("matched above"),
    }
    Ok(Value::Frame(FrameRef {
        root: fr.root,
        level: fr.level,
    }))
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
    use crate::neighbors::{neighbor_graph, Graph, GraphOutput, NeighborOpts};
    let opts = NeighborOpts {
        k,
        radius,
        dim: dim as i64,
        self_loops: keep_loops,
        same,
    };
    // The search writes the pairs straight into their final buffer (as `gr.neighbors` does),
    // instead of index lists reformatted into pairs: one edge buffer per batch, not two.
    match neighbor_graph(q, d, &opts, GraphOutput::Pairs, false)? {
        Graph::Pairs { pairs, .. } => Ok(pairs),
        Graph::EdgeIndex { .. } => unreachable!("asked for pairs"),
    }
}
