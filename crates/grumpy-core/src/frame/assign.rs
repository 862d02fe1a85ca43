//! Dot assignment: add or replace a column at a level.
//!
//! A value for level `L` is accepted in two shapes:
//! * the full nested shape (one row per level-0 row, outer axes matching the frame's offsets
//!   down to `L`) — taken as is (it then shares the frame's offsets);
//! * one row per entity of `L` across the whole frame — re-nested with the stored offsets,
//!   zero copy (only `L` small list nodes are created).
//!
//! The full shape is tried first, so when both fit (every entity above `L` has exactly one
//! child) an already-nested value keeps its meaning. [`Frame::fill`] broadcasts one scalar to
//! every entity of a level (pandas' `df["c"] = 1.0`); [`Frame::remove`] drops a column.
//!
//! A column cannot be named like a level: `df.residue` must always be the residue view.

use super::build::Levels;
use super::{Column, Frame};
use crate::array::Array;
use crate::buffer::Buf;
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::fill::full_like;
use crate::layout::{Layout, List};

impl Frame {
    /// True when level offsets start at 0 and cover exactly the entities below the rows.
    fn is_canonical(&self) -> bool {
        let mut count = self.nrows;
        for o in self.offsets.iter().skip(1) {
            let Some(o) = o else { break };
            if o.len() != count + 1 || o[0] != 0 {
                return false;
            }
            count = o[count] as usize;
        }
        true
    }

    /// Rebase a sliced frame so every level's offsets start at 0 and cover exactly its rows
    /// (copies offsets only, never data). A no-op on a frame that is already canonical.
    pub fn canonicalize(&mut self) {
        if self.is_canonical() {
            return;
        }
        let mut fresh: Vec<Option<Buf<i64>>> = vec![None; self.schema.len()];
        let (mut lo, mut hi) = (0usize, self.nrows);
        for (k, slot) in fresh.iter_mut().enumerate().skip(1) {
            let Some(o) = &self.offsets[k] else { break };
            let part = &o[lo..=hi];
            let base = part[0];
            *slot = Some(Buf::from_vec(part.iter().map(|x| x - base).collect()));
            (lo, hi) = (o[lo] as usize, o[hi] as usize);
        }
        for c in &mut self.columns {
            c.array = Array::new(rebase(&c.array.layout, &fresh, 1, c.level));
        }
        self.offsets = fresh;
    }

    /// Add or replace column `name` at `level` (see the module docs for the accepted shapes).
    ///
    /// ```
    /// use grumpy_core::{Array, frame::Frame};
    /// let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
    /// let mut df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
    /// df.assign(1, "y", Array::from_vec(vec![10i64, 20, 30])).unwrap();   // one per residue
    /// df.assign(0, "n", Array::from_vec(vec![2i64, 1])).unwrap();         // one per molecule
    /// assert_eq!(df.get("y").unwrap().to_item(), vec![vec![10i64, 20], vec![30]].into());
    /// assert!(df.assign(1, "bad", Array::from_vec(vec![1.0, 2.0])).is_err());
    /// ```
    pub fn assign(&mut self, level: usize, name: &str, value: Array) -> Result<()> {
        self.check_level(level)?;
        self.check_name(name)?;
        self.canonicalize();
        let replaced = self.columns.iter().position(|c| c.name == name);
        if self.columns.is_empty() && self.nrows == 0 {
            // An empty frame: the value defines the rows.
            let column = Column {
                name: name.to_owned(),
                level,
                array: value,
            };
            *self = Frame::from_columns(self.schema.clone(), vec![column])?;
            return Ok(());
        }
        let array = match self.conform_full(name, &value, level) {
            Some(a) => a,
            None => self.nest(name, value, level)?,
        };
        let col = Column {
            name: name.to_owned(),
            level,
            array,
        };
        match replaced {
            Some(i) => self.columns[i] = col,
            None => self.columns.push(col),
        }
        Ok(())
    }

    /// Add or replace column `name` at `level` with `value` in every entity of that level
    /// (`dtype` defaults to the scalar's own: float → float64, int → int64, ...). A null needs
    /// an explicit dtype.
    ///
    /// ```
    /// use grumpy_core::{Array, Frame, Scalar};
    /// let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
    /// let mut df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
    /// df.fill(1, "w", &Scalar::Float(0.5), None).unwrap();
    /// assert_eq!(df.get("w").unwrap().to_item(), vec![vec![0.5, 0.5], vec![0.5]].into());
    /// assert!(df.fill(1, "n", &Scalar::Null, None).is_err());
    /// ```
    pub fn fill(
        &mut self,
        level: usize,
        name: &str,
        value: &Scalar,
        dtype: Option<DType>,
    ) -> Result<()> {
        self.check_level(level)?;
        self.check_name(name)?;
        let dtype = match (value, dtype) {
            (_, Some(d)) => d,
            (Scalar::Null, None) => {
                return Err(Error::new(
                    Code::Argument,
                    format!("cannot fill column {name:?} with None without a dtype"),
                    "an all-null column has no dtype to infer",
                    format!(
                        "pass an array with a dtype, e.g. gr.array([None] * len(df.{}), \
                         dtype=gr.float64)",
                        self.schema[level]
                    ),
                ))
            }
            (v, None) => v.default_dtype(),
        };
        let n = self.count(level)?;
        let slots = Array::from_vec(vec![false; n]);
        let values = full_like(&slots, value, Some(dtype))?;
        self.assign(level, name, values)
    }

    /// Remove column `name`, seen from the view at `level` (0: the whole frame); a column
    /// above the view's level is not in the view and cannot be removed through it. Levels no
    /// remaining column reaches forget their offsets (as after [`Frame::select`]).
    ///
    /// ```
    /// use grumpy_core::{Array, Frame};
    /// let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
    /// let n = Array::from_vec(vec![1i64, 2]);
    /// let mut df = Frame::new(&["mol", "res"], vec![("x".into(), x), ("n".into(), n)], &[]).unwrap();
    /// df.remove(0, "x").unwrap();
    /// assert_eq!(df.names(), vec!["n"]);
    /// assert!(df.count(1).is_err()); // no column reaches the residues any more
    /// ```
    pub fn remove(&mut self, level: usize, name: &str) -> Result<Column> {
        self.check_level(level)?;
        if self.level_index(name).is_some() {
            return Err(Error::new(
                Code::Schema,
                format!("cannot remove the level {name:?}"),
                format!(
                    "{name:?} names a level of the schema {:?}, not a column",
                    self.schema
                ),
                format!("remove the columns inside it: del df.{name}.<column>"),
            ));
        }
        let i = self
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| self.no_column(name))?;
        if self.columns[i].level < level {
            return Err(Error::new(
                Code::Schema,
                format!(
                    "column {name:?} is at level {:?}, above the view level {:?}",
                    self.schema[self.columns[i].level], self.schema[level]
                ),
                "a view only holds the columns at its level and below",
                format!(
                    "delete it from the frame or the {:?} view",
                    self.schema[self.columns[i].level]
                ),
            ));
        }
        let col = self.columns.remove(i);
        let deepest = self.columns.iter().map(|c| c.level).max().unwrap_or(0);
        for o in self.offsets.iter_mut().skip(deepest + 1) {
            *o = None;
        }
        Ok(col)
    }

    /// A new column's name must be non-empty and differ from every level name.
    fn check_name(&self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(Error::new(
                Code::Schema,
                "a column name cannot be empty",
                "got an empty name",
                "pass a non-empty column name",
            ));
        }
        if self.level_index(name).is_some() {
            return Err(level_name_error(name, &self.schema));
        }
        Ok(())
    }

    /// The value in the full nested shape, sharing the offsets (None when it does not fit).
    fn conform_full(&mut self, name: &str, value: &Array, level: usize) -> Option<Array> {
        if value.len() != self.nrows {
            return None;
        }
        let mut lv = Levels {
            schema: &self.schema,
            nrows: self.nrows,
            offsets: self.offsets.clone(),
            owners: (0..self.schema.len())
                .map(|k| self.column_reaching(k).map(str::to_owned))
                .collect(),
        };
        let array = lv.conform(name, value, level).ok()?;
        self.offsets = lv.offsets;
        Some(array)
    }

    /// Re-nest a value with one row per entity of `level` under the stored offsets.
    fn nest(&mut self, name: &str, value: Array, level: usize) -> Result<Array> {
        let count = self.count(level)?;
        if value.len() != count {
            return Err(self.shape_error(name, level, &value.len().to_string()));
        }
        // Levels nobody reached yet can only be empty here (count() succeeded): [0].
        for k in 1..=level {
            if self.offsets[k].is_none() {
                self.offsets[k] = Some(Buf::from_vec(vec![0]));
            }
        }
        let mut layout = value.layout;
        for k in (1..=level).rev() {
            let o = self.offsets[k].clone().ok_or_else(|| self.unreached(k))?;
            layout = Layout::List(List::new(o, None, layout));
        }
        Ok(Array::new(layout))
    }

    fn shape_error(&self, name: &str, level: usize, got: &str) -> Error {
        let lev = &self.schema[level];
        let per = self
            .count(level)
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        let path = self.schema[..=level].join(" → ");
        Error::new(
            Code::Schema,
            format!("value for column {name:?} does not fit level {lev:?}"),
            format!(
                "it has {got} rows; level {lev:?} takes {per} rows (one per {lev} in the whole \
                 frame) or {} rows nested {path} like the other columns",
                self.nrows
            ),
            format!(
                "compute the value from a column at {lev:?} (e.g. df.{lev}.<col>.mean(dim=-1)) \
                 or assign it at its own level"
            ),
        )
    }
}

/// A column called like a level would be hidden by the level's view (`df.residue`).
pub(super) fn level_name_error(name: &str, schema: &[String]) -> Error {
    Error::new(
        Code::Schema,
        format!("column {name:?} has the name of a level"),
        format!(
            "the schema is {schema:?}; df.{name} is the {name:?} view, so a column of that name \
             could not be reached the same way"
        ),
        format!("rename the column (e.g. \"{name}_id\") or the level"),
    )
}

/// Rebuild the outer list axes `k..=level` of a column with the rebased offsets.
fn rebase(layout: &Layout, fresh: &[Option<Buf<i64>>], k: usize, level: usize) -> Layout {
    if k > level {
        return layout.clone();
    }
    match (layout, &fresh[k]) {
        (Layout::List(l), Some(o)) => Layout::List(List {
            offsets: o.clone(),
            validity: l.validity.clone(),
            child: std::sync::Arc::new(rebase(&l.child_view(), fresh, k + 1, level)),
        }),
        _ => layout.clone(),
    }
}
