//! [`Frame`]: a dataframe of ragged columns with named nesting levels.
//!
//! The schema names the outer axes, outermost first, e.g. `["molecule", "residue", "atom"]`.
//! A column *at level* `L` spans the outer axes `0..=L` plus any inner axes of its own (an
//! atom-level `coords` column is molecule → residue → atom → xyz). Every list axis `k >= 1` of
//! the schema has ONE offsets buffer, shared (`Arc`) by every column that reaches it:
//!
//! ```text
//!   schema      molecule ──► residue ──► atom
//!   offsets        (rows)   [0, 2, 3]   [0, 3, 5, 6]        one Buf<i64> per level, stored once
//!   name     (molecule)  ["A", "B"]
//!   resname  (residue)   List(offsets[1]) ─► ["ALA", "GLY", "SER"]
//!   coords   (atom)      List(offsets[1]) ─► List(offsets[2]) ─► List(xyz) ─► f64 [...]
//! ```
//!
//! A *view* at a level ([`Frame::at`]) peels the axes outside it without copying: `at(1)`
//! turns the frame above into a frame of 3 residues (schema `["residue", "atom"]`) whose
//! `coords` is residue → atom → xyz. Columns above the view level (`name`) are not part of the
//! view, as in Awkward. [`Frame::assign`] adds a column at a level from a value with one row
//! per entity of that level (re-nested with the stored offsets, zero copy) or with the full
//! nested shape.
//!
//! Files: `build` (construction, level inference, shared offsets), `view` (dot paths),
//! `select` (rows and columns), `assign` (add, fill, remove columns), `ops` (elementwise ops
//! and reductions on every numeric column), `display` (the bounded table text), `state` (the
//! pickle bytes).
//!
//! ```
//! use grumpy_core::{Array, frame::Frame};
//! let resname = Array::from_item(&vec![vec!["ALA", "GLY"], vec!["SER"]].into(), None).unwrap();
//! let mass = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let mut df = Frame::new(
//!     &["molecule", "residue"],
//!     vec![("resname".into(), resname), ("mass".into(), mass)],
//!     &[],
//! ).unwrap();
//! assert_eq!(df.len(), 2);
//! assert_eq!(df.count(1).unwrap(), 3);
//! let residues = df.at(1).unwrap();            // zero-copy view: 3 residues
//! assert_eq!(residues.len(), 3);
//! // One value per residue, re-nested under the molecules:
//! df.assign(1, "charge", Array::from_vec(vec![0.5, -1.0, 0.0])).unwrap();
//! assert_eq!(df.get("charge").unwrap().to_item(), vec![vec![0.5, -1.0], vec![0.0]].into());
//! ```

mod assign;
mod build;
mod display;
mod ops;
mod select;
mod state;
mod view;

pub use display::{preview_row, TableStyle};
pub use ops::{FrameOp, FrameOperand};

use crate::array::Array;
use crate::buffer::Buf;
use crate::error::{Code, Error, Result};

/// One named column with its level (index into the schema).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Level index into the schema (0 = outermost rows).
    pub level: usize,
    /// The data; its outer `level` list axes use the frame's shared offsets.
    pub array: Array,
}

/// A dataframe with named nesting levels (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    schema: Vec<String>,
    nrows: usize,
    /// `offsets[k]` is the offsets buffer of list axis `k` (level `k-1` → level `k`); entry 0
    /// is always `None` (level 0 is the rows). `None` also for levels no column reaches.
    offsets: Vec<Option<Buf<i64>>>,
    columns: Vec<Column>,
}

impl Frame {
    /// The level names, outermost first.
    pub fn schema(&self) -> &[String] {
        &self.schema
    }

    /// Number of rows (entities of level 0).
    pub fn len(&self) -> usize {
        self.nrows
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.nrows == 0
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The array of column `name`, or a `SchemaError` listing the columns.
    pub fn get(&self, name: &str) -> Result<&Array> {
        self.column(name)
            .map(|c| &c.array)
            .ok_or_else(|| self.no_column(name))
    }

    /// Index of level `name` in the schema.
    pub fn level_index(&self, name: &str) -> Option<usize> {
        self.schema.iter().position(|s| s == name)
    }

    /// Like [`Frame::level_index`], with a `SchemaError` naming the schema.
    pub fn level(&self, name: &str) -> Result<usize> {
        self.level_index(name).ok_or_else(|| {
            Error::new(
                Code::Schema,
                format!("no level {name:?} in this frame"),
                format!("the schema is {:?}", self.schema),
                "use one of the schema's level names",
            )
        })
    }

    /// The shared offsets of list axis `level` (`None` for level 0 or a level no column
    /// reaches). Entry `i` is where entity `i` of level `level - 1` starts.
    pub fn offsets(&self, level: usize) -> Option<&Buf<i64>> {
        self.offsets.get(level).and_then(Option::as_ref)
    }

    /// Number of entities of `level` in the whole frame (`count(0) == len()`).
    pub fn count(&self, level: usize) -> Result<usize> {
        let (lo, hi) = self.range(level)?;
        Ok(hi - lo)
    }

    /// Positions `[lo, hi)` that the rows cover in the entity buffer of `level`.
    fn range(&self, level: usize) -> Result<(usize, usize)> {
        self.check_level(level)?;
        let (mut lo, mut hi) = (0usize, self.nrows);
        for k in 1..=level {
            match &self.offsets[k] {
                Some(o) => (lo, hi) = (o[lo] as usize, o[hi] as usize),
                // Nothing above is covered: there are no entities below either.
                None if lo == hi => (lo, hi) = (0, 0),
                None => return Err(self.unreached(k)),
            }
        }
        Ok((lo, hi))
    }

    fn check_level(&self, level: usize) -> Result<()> {
        if level >= self.schema.len() {
            return Err(Error::new(
                Code::Schema,
                format!("level {level} is out of range"),
                format!(
                    "the schema {:?} has {} levels",
                    self.schema,
                    self.schema.len()
                ),
                "pass a level index below the schema length",
            ));
        }
        Ok(())
    }

    fn unreached(&self, level: usize) -> Error {
        Error::new(
            Code::Schema,
            format!("no column reaches level {:?}", self.schema[level]),
            format!(
                "the frame has no column nested down to {:?}, so the number of {:?} entries \
                 per {:?} is unknown",
                self.schema[level],
                self.schema[level],
                self.schema[level - 1]
            ),
            format!(
                "add a column with the full nesting first (e.g. levels={{\"col\": {:?}}})",
                self.schema[level]
            ),
        )
    }

    fn no_column(&self, name: &str) -> Error {
        Error::new(
            Code::Schema,
            format!("no column {name:?}"),
            format!("the columns are {:?}", self.names()),
            "use one of the column names",
        )
    }

    /// The first column (in order) whose level is at least `level`, for error messages.
    fn column_reaching(&self, level: usize) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.level >= level)
            .map(|c| c.name.as_str())
    }

    /// Assemble from parts that already satisfy the invariants (internal).
    fn from_raw(
        schema: Vec<String>,
        nrows: usize,
        offsets: Vec<Option<Buf<i64>>>,
        columns: Vec<Column>,
    ) -> Frame {
        debug_assert_eq!(offsets.len(), schema.len());
        Frame {
            schema,
            nrows,
            offsets,
            columns,
        }
    }
}

#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod tests;
