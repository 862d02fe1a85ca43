//! Dot-path views: peel the axes outside a level without copying.
//!
//! ```text
//!   root  molecule → residue → atom      at(1)   residue → atom
//!   coords  List(o1) ─► List(o2) ─► xyz   ───►   List(o2 sliced to the covered range) ─► xyz
//! ```
//! Peeling one axis is `List::child_view()`: the child sliced to the rows' covered range, so
//! the cost is O(columns × depth), independent of the data size.

use super::{Column, Frame};
use crate::array::Array;
use crate::error::{Code, Error, Result};
use crate::layout::Layout;

/// Strip `n` outer list axes (the frame guarantees they are lists).
fn peel(layout: &Layout, n: usize) -> Layout {
    let mut cur = layout.clone();
    for _ in 0..n {
        cur = match &cur {
            Layout::List(l) => l.child_view(),
            other => unreachable!("frame columns are lists down to their level, got {other:?}"),
        };
    }
    cur
}

impl Frame {
    /// The frame seen from `level`: its rows are every entity of that level across the whole
    /// frame (zero copy). Columns above `level` are not part of the view.
    ///
    /// ```
    /// use grumpy_core::{Array, frame::Frame};
    /// let coords = Array::from_item(&vec![vec![vec![1.0, 2.0], vec![3.0]], vec![vec![4.0]]].into(), None).unwrap();
    /// let df = Frame::new(&["mol", "res", "atom"], vec![("x".into(), coords)], &[]).unwrap();
    /// let res = df.at(1).unwrap();
    /// assert_eq!(res.schema(), &["res".to_string(), "atom".to_string()]);
    /// assert_eq!(res.get("x").unwrap().to_item(), vec![vec![1.0, 2.0], vec![3.0], vec![4.0]].into());
    /// ```
    pub fn at(&self, level: usize) -> Result<Frame> {
        if level == 0 {
            return Ok(self.clone());
        }
        let (lo, hi) = self.range(level)?;
        let mut offsets = vec![None];
        for k in level + 1..self.schema.len() {
            offsets.push(if k == level + 1 {
                self.offsets[k].as_ref().map(|o| o.slice(lo, hi - lo + 1))
            } else {
                self.offsets[k].clone()
            });
        }
        let columns = self
            .columns
            .iter()
            .filter(|c| c.level >= level)
            .map(|c| Column {
                name: c.name.clone(),
                level: c.level - level,
                array: Array::new(peel(&c.array.layout, level)),
            })
            .collect();
        Ok(Frame::from_raw(
            self.schema[level..].to_vec(),
            hi - lo,
            offsets,
            columns,
        ))
    }

    /// Column `name` seen from `level` (`self.at(level)?.get(name)` without building the
    /// other columns): its outer axes above `level` are peeled, zero copy.
    pub fn column_at(&self, level: usize, name: &str) -> Result<Array> {
        self.range(level)?;
        let c = self.column(name).ok_or_else(|| self.no_column(name))?;
        if c.level < level {
            return Err(Error::new(
                Code::Schema,
                format!(
                    "column {name:?} is at level {:?}, above the view level {:?}",
                    self.schema[c.level], self.schema[level]
                ),
                format!(
                    "a view at {:?} has one row per {}; {name:?} has one row per {}",
                    self.schema[level], self.schema[level], self.schema[c.level]
                ),
                format!(
                    "read it from the frame or from the {:?} view: df.{}.{name}",
                    self.schema[c.level], self.schema[c.level]
                ),
            ));
        }
        Ok(Array::new(peel(&c.array.layout, level)))
    }
}
