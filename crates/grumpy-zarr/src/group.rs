//! What a store holds ([`Data`]: an array or a dataframe) and how it maps onto Zarr paths.
//!
//! An array store is one *part* (the whole layout, buffers `node{k}-{role}` in the root group).
//! A dataframe store has one part per column, each in a sub-group named after the column; the
//! offsets of schema level `k` (axis `k-1 → k`) are stored once in the root group as
//! `level{k}-offsets`, and every column reaching that level points at them:
//!
//! ```text
//!   frame.zarr/                 attributes: grumpy {kind: "dataframe", schema, columns, buffers}
//!     level1-offsets/           molecule → residue (shared by every residue/atom column)
//!     level2-offsets/           residue → atom
//!     name/node0-offsets, name/node1-data          (molecule-level string column)
//!     coords/node2-offsets, coords/node3-data      (atom-level column: nodes 0, 1 are shared)
//! ```
//!
//! In a column's Awkward form the shared lists carry the form keys `level{k}` (so
//! `ak.from_buffers(form, length, root_buffers | column_buffers)` rebuilds the column), while
//! [`Form`] keeps node numbers: node `k < level` of a column *is* list axis `k`.
//!
//! ```
//! use grumpy_zarr::form::{Form, Role};
//! use grumpy_zarr::group::Part;
//! use grumpy_core::Array;
//! let a = Array::from_item(&vec![vec![1.0], vec![2.0, 3.0]].into(), None).unwrap();
//! let part = Part { column: Some("mass".into()), level: 1, form: Form::from_layout(&a.layout) };
//! assert_eq!(part.path(0, Role::Offsets), "level1-offsets");
//! assert_eq!(part.path(1, Role::Data), "mass/node1-data");
//! assert_eq!(part.form_json()["form_key"], "level1");
//! ```

use crate::error::{store_error, Error, Result};
use crate::form::{buffer_name, BufferSpec, Form, Role};
use grumpy_core::{Array, Code, Frame};
use serde_json::Value;

/// The object a store holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// A ragged array (`grumpy.kind == "array"`).
    Array(Array),
    /// A dataframe (`grumpy.kind == "dataframe"`).
    Frame(Frame),
}

impl Data {
    /// Number of outer rows.
    pub fn len(&self) -> usize {
        match self {
            Data::Array(a) => a.len(),
            Data::Frame(f) => f.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `"array"` or `"dataframe"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Data::Array(_) => "array",
            Data::Frame(_) => "dataframe",
        }
    }

    /// The array, or a `StoreError` saying the store holds a dataframe.
    pub fn into_array(self) -> Result<Array> {
        match self {
            Data::Array(a) => Ok(a),
            Data::Frame(_) => Err(wrong_kind("array", "dataframe")),
        }
    }

    /// The dataframe, or a `StoreError` saying the store holds an array.
    pub fn into_frame(self) -> Result<Frame> {
        match self {
            Data::Frame(f) => Ok(f),
            Data::Array(_) => Err(wrong_kind("dataframe", "array")),
        }
    }
}

/// The error for reading a store as the other kind.
pub(crate) fn wrong_kind(want: &str, have: &str) -> Error {
    store_error(
        format!("the store holds a {have}, not a {want}"),
        format!("its attributes say grumpy.kind = {have:?}"),
        "use grumpy_zarr::load_data / open (which return either kind), or the matching loader",
    )
}

/// One group of buffers: the whole array, or one dataframe column (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The column name (`None` for an array store).
    pub column: Option<String>,
    /// The column's schema level: its outer `level` list axes use the shared offsets.
    pub level: usize,
    /// The column's (or array's) layout description.
    pub form: Form,
}

impl Part {
    /// The Zarr path (relative to the store root) of a buffer of node `id`.
    pub fn path(&self, id: usize, role: Role) -> String {
        if role == Role::Offsets && id < self.level {
            return level_offsets(id + 1);
        }
        match &self.column {
            Some(c) => format!("{c}/{}", buffer_name(id, role)),
            None => buffer_name(id, role),
        }
    }

    /// Every buffer of the part, named by its Zarr path.
    pub fn specs(&self) -> Vec<BufferSpec> {
        self.form
            .buffers()
            .into_iter()
            .map(|mut s| {
                s.name = self.path(s.id, s.role);
                s
            })
            .collect()
    }

    /// True when the buffer lives in the root group, shared with other columns.
    pub fn is_shared(&self, id: usize, role: Role) -> bool {
        role == Role::Offsets && id < self.level
    }

    /// The Awkward form JSON (shared lists keyed `level{k}`).
    pub fn form_json(&self) -> Value {
        let mut v = self.form.to_json();
        let mut node = &mut v;
        for k in 0..self.level {
            if node["class"] == "BitMaskedArray" {
                node = &mut node["content"];
            }
            node["form_key"] = Value::from(format!("level{}", k + 1));
            node = &mut node["content"];
        }
        v
    }

    /// Parse a column's form JSON written by [`Part::form_json`].
    pub fn parse_form(json: &Value, level: usize) -> Result<Form> {
        let mut v = json.clone();
        let mut node = &mut v;
        for k in 0..level {
            if node["class"] == "BitMaskedArray" {
                node = &mut node["content"];
            }
            if node["class"] != "ListOffsetArray" || node["form_key"] != format!("level{}", k + 1) {
                return Err(store_error(
                    "a column's form does not match its level",
                    format!(
                        "list axis {k} should be a ListOffsetArray keyed \"level{}\"",
                        k + 1
                    ),
                    "the store was modified by another tool; save the data again with gr.save",
                ));
            }
            node["form_key"] = Value::from(format!("node{k}"));
            node = &mut node["content"];
        }
        crate::form::from_json(&v)
    }
}

/// Name of the shared offsets of schema level `k >= 1`.
pub fn level_offsets(k: usize) -> String {
    format!("level{k}-offsets")
}

/// Check that a column name can be a Zarr sub-group name next to the shared buffers.
pub(crate) fn check_column_name(name: &str) -> Result<()> {
    let reserved = name.starts_with("level") && name.ends_with("-offsets");
    let bad = name.is_empty()
        || name.contains('/')
        || name == "."
        || name == ".."
        || name.starts_with("__")
        || name == "zarr.json"
        || name.contains(".grumpy-")
        || reserved;
    if bad {
        return Err(Error::new(
            Code::Argument,
            format!("cannot store a column named {name:?}"),
            "each column is a Zarr sub-group named after it: names must be non-empty, have no \
             '/', not start with '__', and not look like the shared `level<k>-offsets` buffers",
            "rename the column before saving (e.g. df[\"new\"] = df[\"old\"])",
        ));
    }
    Ok(())
}
