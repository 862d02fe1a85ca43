//! Building a [`Frame`]: level inference and the shared-offsets check.
//!
//! A column's level is, in order: the explicit `levels` entry, else the longest schema name
//! `L` such that the column is called `L_...`, else its depth (it spans the outer
//! `min(depth, len(schema))` axes; a union node counts as one element per row, so its depth
//! stops there). Each column's outer list axes are then *conformed*: their lengths must equal
//! the frame's offsets for that level (the first column to reach a level sets them), and the
//! column is rebuilt to hold the shared buffer itself (zero copy of the data).

use super::{Column, Frame};
use crate::array::Array;
use crate::buffer::Buf;
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, List};

/// Offsets of every schema level being built, with the column that set each (for messages).
pub(super) struct Levels<'a> {
    pub(super) schema: &'a [String],
    pub(super) nrows: usize,
    pub(super) offsets: Vec<Option<Buf<i64>>>,
    pub(super) owners: Vec<Option<String>>,
}

impl Levels<'_> {
    /// Make `array` (column `name` at `level`) share this frame's offsets, checking lengths.
    pub(super) fn conform(&mut self, name: &str, array: &Array, level: usize) -> Result<Array> {
        if array.len() != self.nrows {
            let other = self.owners[0].clone().unwrap_or_default();
            return Err(Error::new(
                Code::Schema,
                format!(
                    "column {name:?} has {} rows but column {other:?} has {}",
                    array.len(),
                    self.nrows
                ),
                format!(
                    "every column needs one row per {:?} (level 0 of the schema)",
                    self.schema[0]
                ),
                format!(
                    "give {name:?} {} rows, or build it from the same data",
                    self.nrows
                ),
            ));
        }
        let layout = self.conform_axis(name, array, &array.layout, 0, level)?;
        Ok(Array::new(layout))
    }

    fn conform_axis(
        &mut self,
        name: &str,
        whole: &Array,
        layout: &Layout,
        k: usize,
        level: usize,
    ) -> Result<Layout> {
        if k == level {
            return Ok(layout.clone());
        }
        let empty;
        let l = match layout {
            Layout::List(l) => l,
            // No rows at this axis: any nesting fits (`[[]]` has lost its inner depth).
            other if other.is_empty() => {
                empty = List::new(Buf::from_vec(vec![0]), None, other.clone());
                &empty
            }
            Layout::Leaf(_) => return Err(self.too_shallow(name, whole, level)),
            Layout::Union(_) => return Err(self.union_inside(name, k, level)),
        };
        let shared = match &self.offsets[k + 1] {
            Some(s) => {
                if !l.offsets.same_view(s) {
                    self.check_lengths(name, &l.offsets, s, k)?;
                }
                s.clone()
            }
            None => {
                let z = l.zero_based_offsets();
                self.offsets[k + 1] = Some(z.clone());
                self.owners[k + 1] = Some(name.to_owned());
                z
            }
        };
        let child = self.conform_axis(name, whole, &l.child_view(), k + 1, level)?;
        Ok(Layout::List(List {
            offsets: shared,
            validity: l.validity.clone(),
            child: std::sync::Arc::new(child),
        }))
    }

    /// `mine` (any base) must describe the same row lengths as the zero-based `shared`.
    fn check_lengths(&self, name: &str, mine: &[i64], shared: &[i64], k: usize) -> Result<()> {
        let base = mine[0];
        let bad = mine
            .iter()
            .zip(shared)
            .position(|(m, s)| m - base != *s)
            .or((mine.len() != shared.len()).then_some(mine.len().min(shared.len())));
        let Some(i) = bad else { return Ok(()) };
        let other = self.owners[k + 1].clone().unwrap_or_default();
        let (outer, inner) = (&self.schema[k], &self.schema[k + 1]);
        let e = i.saturating_sub(1);
        let len = |o: &[i64], b: i64| match (o.get(e), o.get(e + 1)) {
            (Some(a), Some(z)) => (z - b) - (a - b),
            _ => 0,
        };
        Err(Error::new(
            Code::Schema,
            format!("columns {name:?} and {other:?} disagree at level {inner:?}"),
            format!(
                "{outer} #{e} (counted over the whole frame) has {} {inner} entries in {name:?} \
                 but {} in {other:?}; columns reaching one level must share its offsets",
                len(mine, base),
                len(shared, 0)
            ),
            format!(
                "give {name:?} the same nesting as {other:?} down to {inner:?}, or put it at \
                 another level with levels={{{name:?}: ...}} or a level-name prefix"
            ),
        ))
    }

    fn too_shallow(&self, name: &str, whole: &Array, level: usize) -> Error {
        let path = self.schema[..=level].join(" → ");
        Error::new(
            Code::Schema,
            format!(
                "column {name:?} is not nested deeply enough for level {:?}",
                self.schema[level]
            ),
            format!(
                "level {:?} needs {} nested axes ({path}) but the column has {}",
                self.schema[level],
                level + 1,
                whole.ndim()
            ),
            format!(
                "nest {name:?} as {path}, or give it a shallower level with levels={{{name:?}: {:?}}}",
                self.schema[whole.ndim().min(level + 1).saturating_sub(1)]
            ),
        )
    }

    fn union_inside(&self, name: &str, k: usize, level: usize) -> Error {
        Error::new(
            Code::Schema,
            format!(
                "column {name:?} mixes scalars and lists at level {:?}",
                self.schema[k]
            ),
            format!(
                "a union column counts one element per row at its level, so it cannot span the \
                 {:?} axis below {:?} (level {:?} was asked for)",
                self.schema[k + 1],
                self.schema[k],
                self.schema[level]
            ),
            format!(
                "pass levels={{{name:?}: {:?}}}, or make every row of {name:?} a list",
                self.schema[k]
            ),
        )
    }
}

/// How deep a column nests for level inference: list axes until a leaf or a union (which
/// counts as one element per row).
fn outer_depth(layout: &Layout) -> usize {
    match layout {
        Layout::Leaf(_) | Layout::Union(_) => 1,
        Layout::List(l) => 1 + outer_depth(&l.child),
    }
}

pub(super) fn check_schema(schema: &[String]) -> Result<()> {
    if schema.is_empty() {
        return Err(Error::new(
            Code::Schema,
            "the schema is empty",
            "a frame needs at least one level (its rows)",
            "pass schema=[\"row\"] or leave schema unset",
        ));
    }
    for (i, s) in schema.iter().enumerate() {
        if s.is_empty() || schema[..i].contains(s) {
            return Err(Error::new(
                Code::Schema,
                format!("bad level name {s:?} in the schema"),
                format!("level names must be non-empty and distinct: {schema:?}"),
                "rename the level",
            ));
        }
    }
    Ok(())
}

impl Frame {
    /// Build a frame from named columns. `levels` maps column names to level names; other
    /// columns get their level from a `level_` name prefix, else from their depth.
    ///
    /// ```
    /// use grumpy_core::{Array, frame::Frame};
    /// let a = Array::from_item(&vec![vec![1i64, 2], vec![3]].into(), None).unwrap();
    /// let b = Array::from_item(&vec![vec![0.5, 0.5], vec![1.0]].into(), None).unwrap();
    /// let df = Frame::new(&["mol", "res"], vec![("a".into(), a), ("b".into(), b)], &[]).unwrap();
    /// // One offsets buffer for the residue axis, shared by both columns:
    /// let oa = &df.get("a").unwrap().layout.as_list().unwrap().offsets;
    /// let ob = &df.get("b").unwrap().layout.as_list().unwrap().offsets;
    /// assert!(oa.shares_storage(ob));
    /// ```
    pub fn new<S: AsRef<str>>(
        schema: &[S],
        columns: Vec<(String, Array)>,
        levels: &[(&str, &str)],
    ) -> Result<Frame> {
        let schema: Vec<String> = schema.iter().map(|s| s.as_ref().to_owned()).collect();
        check_schema(&schema)?;
        for (col, lev) in levels {
            if !columns.iter().any(|(n, _)| n == col) {
                return Err(Error::new(
                    Code::Schema,
                    format!("levels names a column {col:?} that is not in the frame"),
                    format!(
                        "the columns are {:?}",
                        columns.iter().map(|c| &c.0).collect::<Vec<_>>()
                    ),
                    "remove the entry or fix the column name",
                ));
            }
            if !schema.iter().any(|s| s == lev) {
                return Err(Error::new(
                    Code::Schema,
                    format!("levels puts {col:?} at an unknown level {lev:?}"),
                    format!("the schema is {schema:?}"),
                    "use one of the schema's level names",
                ));
            }
        }
        let cols = columns
            .into_iter()
            .map(|(name, array)| {
                let level = infer_level(&schema, &name, &array, levels);
                Column { name, level, array }
            })
            .collect();
        Frame::from_columns(schema, cols)
    }

    /// Build a frame from columns whose levels are already known (checks and shares offsets).
    pub fn from_columns(schema: Vec<String>, columns: Vec<Column>) -> Result<Frame> {
        check_schema(&schema)?;
        for (i, c) in columns.iter().enumerate() {
            if schema.contains(&c.name) {
                return Err(super::assign::level_name_error(&c.name, &schema));
            }
            if columns[..i].iter().any(|d| d.name == c.name) {
                return Err(Error::new(
                    Code::Schema,
                    format!("duplicate column {:?}", c.name),
                    "column names must be distinct",
                    "rename one of the columns",
                ));
            }
            if c.level >= schema.len() {
                return Err(Error::new(
                    Code::Schema,
                    format!("column {:?} has level {} out of range", c.name, c.level),
                    format!("the schema {schema:?} has {} levels", schema.len()),
                    "pass a level below the schema length",
                ));
            }
        }
        let nrows = columns.first().map_or(0, |c| c.array.len());
        let mut lv = Levels {
            schema: &schema,
            nrows,
            offsets: vec![None; schema.len()],
            owners: vec![None; schema.len()],
        };
        lv.owners[0] = columns.first().map(|c| c.name.clone());
        // Deepest columns first so the level offsets come from the most nested column; the
        // original order is kept in the result.
        let mut order: Vec<usize> = (0..columns.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(columns[i].level));
        let mut out: Vec<Option<Column>> = vec![None; columns.len()];
        for i in order {
            let c = &columns[i];
            let array = lv.conform(&c.name, &c.array, c.level)?;
            out[i] = Some(Column {
                name: c.name.clone(),
                level: c.level,
                array,
            });
        }
        let offsets = lv.offsets;
        Ok(Frame::from_raw(
            schema,
            nrows,
            offsets,
            out.into_iter().flatten().collect(),
        ))
    }
}

fn infer_level(schema: &[String], name: &str, array: &Array, levels: &[(&str, &str)]) -> usize {
    if let Some((_, lev)) = levels.iter().find(|(c, _)| *c == name) {
        return schema.iter().position(|s| s == lev).unwrap_or(0);
    }
    let prefix = schema
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            name.len() > s.len() + 1
                && name.starts_with(s.as_str())
                && name[s.len()..].starts_with('_')
        })
        .max_by_key(|(_, s)| s.len());
    if let Some((i, _)) = prefix {
        return i;
    }
    outer_depth(&array.layout).min(schema.len()) - 1
}
