//! Row and column selection: every column at once, keeping the shared offsets.
//!
//! A slice is zero copy (every column and the level-1 offsets are sliced alike); a gather
//! (`take`, `filter`) copies the selected rows and re-shares one offsets buffer per level.

use super::{Column, Frame};
use crate::error::{Code, Error, Result};

impl Frame {
    /// Rows `[start, start + len)`, zero copy.
    ///
    /// ```
    /// use grumpy_core::{Array, frame::Frame};
    /// let a = Array::from_item(&vec![vec![1i64], vec![2, 3], vec![]].into(), None).unwrap();
    /// let df = Frame::new(&["mol", "res"], vec![("a".into(), a)], &[]).unwrap();
    /// let s = df.slice(1, 2).unwrap();
    /// assert_eq!(s.len(), 2);
    /// assert_eq!(s.count(1).unwrap(), 2);
    /// ```
    pub fn slice(&self, start: usize, len: usize) -> Result<Frame> {
        if start.checked_add(len).is_none_or(|end| end > self.nrows) {
            return Err(Error::new(
                Code::OutOfBounds,
                format!(
                    "rows {start}..{} are out of range",
                    start.saturating_add(len)
                ),
                format!("the frame has {} rows", self.nrows),
                "pass a range within len(df)",
            ));
        }
        let mut offsets = self.offsets.clone();
        if let Some(o) = offsets.get_mut(1).and_then(Option::as_mut) {
            *o = o.slice(start, len + 1);
        }
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                level: c.level,
                array: c.array.slice(start, len),
            })
            .collect();
        Ok(Frame::from_raw(self.schema.clone(), len, offsets, columns))
    }

    /// Row `i` as a one-row frame (negative counts from the end), zero copy. Like polars, a
    /// row of a frame is still a frame: `df.row(i)?.at(1)?` are the residues of molecule `i`.
    pub fn row(&self, i: i64) -> Result<Frame> {
        let r = self.resolve(i)?;
        self.slice(r, 1)
    }

    fn resolve(&self, i: i64) -> Result<usize> {
        let n = self.nrows as i64;
        let r = if i < 0 { i + n } else { i };
        if r < 0 || r >= n {
            return Err(Error::new(
                Code::OutOfBounds,
                format!("row {i} is out of range"),
                format!("the frame has {n} rows (of {:?})", self.schema[0]),
                format!("pass an index in [{}, {n})", -n),
            ));
        }
        Ok(r as usize)
    }

    /// Gather rows (any order, repeats allowed, negative indices count from the end).
    pub fn take(&self, rows: &[i64]) -> Result<Frame> {
        let idx = rows
            .iter()
            .map(|&i| self.resolve(i))
            .collect::<Result<Vec<usize>>>()?;
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                level: c.level,
                array: crate::Array::new(c.array.layout.take(&idx)),
            })
            .collect();
        let mut f = Frame::from_columns(self.schema.clone(), columns)?;
        f.nrows = idx.len();
        Ok(f)
    }

    /// Keep the rows where `mask` is true (`mask.len() == len()`).
    pub fn filter(&self, mask: &[bool]) -> Result<Frame> {
        if mask.len() != self.nrows {
            return Err(Error::new(
                Code::Shape,
                format!("mask has {} entries for {} rows", mask.len(), self.nrows),
                format!(
                    "a boolean mask selects rows of {:?}, one flag per row",
                    self.schema[0]
                ),
                "pass a mask of length len(df)",
            ));
        }
        let rows: Vec<i64> = (0..mask.len() as i64)
            .filter(|&i| mask[i as usize])
            .collect();
        self.take(&rows)
    }

    /// The frame restricted to `names` (in that order), sharing everything.
    pub fn select(&self, names: &[&str]) -> Result<Frame> {
        let mut columns = Vec::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::new(
                    Code::Schema,
                    format!("column {n:?} is selected twice"),
                    "a frame's column names are distinct",
                    "list each column once",
                ));
            }
            columns.push(self.column(n).ok_or_else(|| self.no_column(n))?.clone());
        }
        let deepest = columns.iter().map(|c| c.level).max().unwrap_or(0);
        let offsets = self
            .offsets
            .iter()
            .enumerate()
            .map(|(k, o)| if k <= deepest { o.clone() } else { None })
            .collect();
        Ok(Frame::from_raw(
            self.schema.clone(),
            self.nrows,
            offsets,
            columns,
        ))
    }
}
