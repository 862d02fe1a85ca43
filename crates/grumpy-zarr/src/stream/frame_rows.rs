//! Dataframe batches: [`Rows`] for [`Frame`] and for [`Data`] (an array or a frame), and the
//! in-memory sources over them.
//!
//! A frame batch is `df[a:b]` (every column sliced alike, zero copy). `shuffle=<level>`
//! draws ONE within-parent permutation of that level's entities from the frame's shared
//! offsets and gathers every column at that level or deeper with it, so a residue keeps its
//! residue-level values and its atoms (deeper levels move whole); columns above the level are
//! untouched.
//!
//! ```
//! use grumpy_core::{Array, Frame};
//! use grumpy_zarr::stream::{MemorySource, Rows, Stream, StreamOptions};
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0], vec![4.0, 5.0, 6.0]].into(), None).unwrap();
//! let df = Frame::new(&["protein", "residue"], vec![("x".into(), x)], &[]).unwrap();
//! let src = MemorySource::from_frame(df.clone());
//! let st = Stream::new(std::sync::Arc::new(src), StreamOptions { batch_size: 2, ..Default::default() }).unwrap();
//! let b = st.get(1).unwrap();
//! assert_eq!(b, df.slice(2, 1).unwrap());
//! assert_eq!(df.entity_counts(1).unwrap(), vec![2, 1, 3]);
//! ```

use super::plan::{permutation, within_groups_permutation};
use super::source::{layout_entity_counts, level_offsets, permute_with, MemorySource, Rows};
use crate::group::Data;
use grumpy_core::frame::Column;
use grumpy_core::{Array, Code, Error, Frame, Result};

impl MemorySource<Frame> {
    /// Stream a dataframe: its levels are the schema (`batch_on="residue"` resolves by name).
    pub fn from_frame(f: Frame) -> Self {
        let (nesting, names) = frame_levels(&f);
        MemorySource::new(f, nesting, names)
    }
}

impl MemorySource<Data> {
    /// Stream an array or a dataframe (see [`MemorySource::from_array`] and
    /// [`MemorySource::from_frame`]).
    pub fn from_data(d: Data) -> Self {
        match d {
            Data::Array(a) => {
                let nesting = a.ndim().saturating_sub(1);
                MemorySource::new(Data::Array(a), nesting, Vec::new())
            }
            Data::Frame(f) => {
                let (nesting, names) = frame_levels(&f);
                MemorySource::new(Data::Frame(f), nesting, names)
            }
        }
    }
}

/// Nested levels below the rows (`schema.len() - 1`) and the level names of a frame.
pub(crate) fn frame_levels(f: &Frame) -> (usize, Vec<String>) {
    (f.schema().len().saturating_sub(1), f.schema().to_vec())
}

fn unreached(f: &Frame, depth: usize) -> Error {
    let name = f.schema().get(depth).cloned().unwrap_or_default();
    Error::new(
        Code::Argument,
        format!("no column reaches level {name:?}"),
        format!("the frame's columns stop above {name:?}, so it has no {name:?} entities to count"),
        "batch on a level that some column is nested down to",
    )
}

fn check_depth(f: &Frame, depth: usize) -> Result<()> {
    if depth >= f.schema().len() {
        return Err(Error::new(
            Code::Argument,
            format!("level {depth} does not exist"),
            format!(
                "the schema {:?} has {} levels",
                f.schema(),
                f.schema().len()
            ),
            format!(
                "pass a level name from the schema or a depth below {}",
                f.schema().len()
            ),
        ));
    }
    Ok(())
}

impl Rows for Frame {
    fn num_rows(&self) -> usize {
        self.len()
    }
    fn slice_rows(&self, start: usize, end: usize) -> Result<Self> {
        self.slice(start, end - start)
    }
    fn concat_rows(parts: &[Self]) -> Result<Self> {
        let Some(first) = parts.first() else {
            return Err(Error::new(
                Code::Argument,
                "no frames to concatenate",
                "the list of parts is empty",
                "pass at least one frame",
            ));
        };
        let columns = first
            .columns()
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let arrays = parts
                    .iter()
                    .map(|p| match p.columns().get(k) {
                        Some(d) if d.name == c.name && d.level == c.level => Ok(&d.array),
                        _ => Err(Error::new(
                            Code::Schema,
                            "frames with different columns cannot be concatenated",
                            format!("column {k} is {:?} in the first frame only", c.name),
                            "concatenate frames with the same columns",
                        )),
                    })
                    .collect::<Result<Vec<&Array>>>()?;
                Ok(Column {
                    name: c.name.clone(),
                    level: c.level,
                    array: Array::cat(&arrays)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Frame::from_columns(first.schema().to_vec(), columns)
    }
    fn permute_level(&self, depth: usize, seed: u64) -> Result<Self> {
        check_depth(self, depth)?;
        if depth == 0 {
            let perm: Vec<i64> = permutation(self.len(), seed)
                .into_iter()
                .map(|i| i as i64)
                .collect();
            return self.take(&perm);
        }
        // One permutation from the shared offsets, applied to every column reaching the level.
        let Some(owner) = self.columns().iter().find(|c| c.level >= depth) else {
            return Ok(self.clone()); // no column has entities at this level: nothing moves
        };
        let perm = within_groups_permutation(&level_offsets(&owner.array.layout, depth)?, seed);
        let columns = self
            .columns()
            .iter()
            .map(|c| {
                if c.level < depth {
                    return Ok(c.clone());
                }
                Ok(Column {
                    name: c.name.clone(),
                    level: c.level,
                    array: Array::new(permute_with(&c.array.layout, depth, &perm)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Frame::from_columns(self.schema().to_vec(), columns)
    }
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        check_depth(self, depth)?;
        if depth == 0 {
            return Ok(vec![1; self.len()]);
        }
        match self.columns().iter().find(|c| c.level >= depth) {
            Some(c) => layout_entity_counts(&c.array.layout, depth),
            None if self.is_empty() => Ok(Vec::new()),
            None => Err(unreached(self, depth)),
        }
    }
    fn nbytes(&self) -> usize {
        self.columns().iter().map(|c| c.array.layout.nbytes()).sum()
    }
}

fn mixed() -> Error {
    Error::new(
        Code::Argument,
        "cannot concatenate an array with a dataframe",
        "the parts are of different kinds",
        "concatenate parts of one kind",
    )
}

impl Rows for Data {
    fn num_rows(&self) -> usize {
        self.len()
    }
    fn slice_rows(&self, start: usize, end: usize) -> Result<Self> {
        Ok(match self {
            Data::Array(a) => Data::Array(a.slice_rows(start, end)?),
            Data::Frame(f) => Data::Frame(f.slice_rows(start, end)?),
        })
    }
    fn concat_rows(parts: &[Self]) -> Result<Self> {
        match parts.first() {
            Some(Data::Frame(_)) => {
                let fs = parts
                    .iter()
                    .map(|p| match p {
                        Data::Frame(f) => Ok(f.clone()),
                        Data::Array(_) => Err(mixed()),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Frame::concat_rows(&fs).map(Data::Frame)
            }
            _ => {
                let arrays = parts
                    .iter()
                    .map(|p| match p {
                        Data::Array(a) => Ok(a.clone()),
                        Data::Frame(_) => Err(mixed()),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Array::concat_rows(&arrays).map(Data::Array)
            }
        }
    }
    fn permute_level(&self, depth: usize, seed: u64) -> Result<Self> {
        Ok(match self {
            Data::Array(a) => Data::Array(a.permute_level(depth, seed)?),
            Data::Frame(f) => Data::Frame(f.permute_level(depth, seed)?),
        })
    }
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        match self {
            Data::Array(a) => a.entity_counts(depth),
            Data::Frame(f) => f.entity_counts(depth),
        }
    }
    fn nbytes(&self) -> usize {
        match self {
            Data::Array(a) => a.nbytes(),
            Data::Frame(f) => f.nbytes(),
        }
    }
}

#[cfg(test)]
#[path = "frame_rows_tests.rs"]
mod tests;
