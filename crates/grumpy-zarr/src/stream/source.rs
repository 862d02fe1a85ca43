//! Where batches come from: the [`Rows`] trait (what a batch can do) and the [`BatchSource`]
//! trait (a random-access, thread-safe reader of outer rows).
//!
//! A store reader plugs in by implementing [`BatchSource`] (`len`, `nesting`, `read_rows`, and
//! optionally `entity_counts` from its offsets only); an in-memory array streams through
//! [`MemorySource`], whose reads are zero-copy slices.
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_zarr::stream::{BatchSource, MemorySource};
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0], vec![4.0, 5.0, 6.0]].into(), None).unwrap();
//! let src = MemorySource::from_array(a);
//! assert_eq!(src.len(), 3);
//! assert_eq!(src.read_rows(1, 3).unwrap().len(), 2);
//! assert_eq!(src.take_rows(&[2, 0]).unwrap().to_item(), vec![vec![4.0, 5.0, 6.0], vec![1.0, 2.0]].into());
//! assert_eq!(src.entity_counts(1).unwrap(), vec![2, 1, 3]);
//! ```

use grumpy_core::layout::{Layout, List};
use grumpy_core::{bail, ensure, Array, Code, Result};

use super::plan::within_groups_permutation;

/// What a batch type supports. Implemented for [`Array`], for [`grumpy_core::Frame`]
/// (permuting a level identically for every column at or below it) and for
/// [`crate::Data`] (either), in `frame_rows`.
pub trait Rows: Clone + Send + Sync + 'static {
    /// Number of outer rows.
    fn num_rows(&self) -> usize;
    /// Zero-copy rows `[start, end)` (caller checks `start <= end <= num_rows`).
    fn slice_rows(&self, start: usize, end: usize) -> Result<Self>;
    /// Concatenate rows of parts with the same structure.
    fn concat_rows(parts: &[Self]) -> Result<Self>;
    /// Permute the entities of nesting level `depth` (0 = outer rows) inside their parents,
    /// with a permutation drawn from `seed`.
    fn permute_level(&self, depth: usize, seed: u64) -> Result<Self>;
    /// Number of level-`depth` entities in each outer row (`depth` 0 gives 1 per row).
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>>;
    /// Bytes of buffers reachable from these rows.
    fn nbytes(&self) -> usize;
}

/// A thread-safe, random-access reader of outer rows (a store, or memory).
pub trait BatchSource: Send + Sync {
    /// The batch type produced.
    type Batch: Rows;
    /// Number of outer rows (from metadata).
    fn len(&self) -> usize;
    /// True when there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of nested levels below the outer rows (an array of ndim `d` has `d - 1`).
    fn nesting(&self) -> usize;
    /// Names of the levels, outermost first (a dataframe's schema); empty when unnamed.
    fn level_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// Rows `[start, end)`; reads only what those rows need.
    fn read_rows(&self, start: usize, end: usize) -> Result<Self::Batch>;
    /// Bytes of all the rows' data, when known without reading them (a store's buffer sizes,
    /// an array's buffers): with [`BatchSource::len`], the average size of a row.
    fn nbytes(&self) -> Option<usize> {
        None
    }
    /// Rows in the given order: contiguous runs are read with [`BatchSource::read_rows`] and
    /// concatenated.
    fn take_rows(&self, rows: &[usize]) -> Result<Self::Batch> {
        let n = self.len();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            bail!(
                Code::OutOfBounds,
                format!("row {bad} is out of range"),
                format!("the source has {n} rows"),
                "pass row indices below len()"
            );
        }
        if rows.is_empty() {
            return self.read_rows(0, 0);
        }
        let mut parts = Vec::new();
        let mut a = 0;
        for k in 1..=rows.len() {
            if k == rows.len() || rows[k] != rows[k - 1] + 1 {
                parts.push(self.read_rows(rows[a], rows[k - 1] + 1)?);
                a = k;
            }
        }
        if parts.len() == 1 {
            return Ok(parts.swap_remove(0));
        }
        Self::Batch::concat_rows(&parts)
    }
    /// Level-`depth` entities per outer row (for `batch_on`); the default reads every row, a
    /// store overrides it to read offsets only.
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        self.read_rows(0, self.len())?.entity_counts(depth)
    }
}

/// An in-memory source: reads are zero-copy slices of one batch-typed value.
#[derive(Clone, Debug)]
pub struct MemorySource<B> {
    data: B,
    nesting: usize,
    names: Vec<String>,
}

impl MemorySource<Array> {
    /// Stream an array (its nesting is `ndim - 1`).
    pub fn from_array(a: Array) -> Self {
        let nesting = a.ndim().saturating_sub(1);
        MemorySource {
            data: a,
            nesting,
            names: Vec::new(),
        }
    }
}

impl<B: Rows> MemorySource<B> {
    /// Wrap any batch value with its nesting depth and level names.
    pub fn new(data: B, nesting: usize, names: Vec<String>) -> Self {
        MemorySource {
            data,
            nesting,
            names,
        }
    }

    /// Load every row of `src` once (for `in_memory=True`).
    pub fn load<S: BatchSource<Batch = B> + ?Sized>(src: &S) -> Result<Self> {
        Ok(MemorySource {
            data: src.read_rows(0, src.len())?,
            nesting: src.nesting(),
            names: src.level_names(),
        })
    }
}

impl<B: Rows> BatchSource for MemorySource<B> {
    type Batch = B;
    fn len(&self) -> usize {
        self.data.num_rows()
    }
    fn nesting(&self) -> usize {
        self.nesting
    }
    fn level_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn read_rows(&self, start: usize, end: usize) -> Result<B> {
        let n = self.data.num_rows();
        ensure!(
            start <= end && end <= n,
            Code::OutOfBounds,
            format!("rows {start}..{end} are out of range"),
            format!("the source has {n} rows"),
            "read rows within 0..len()"
        );
        self.data.slice_rows(start, end)
    }
    fn nbytes(&self) -> Option<usize> {
        Some(self.data.nbytes())
    }
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        self.data.entity_counts(depth)
    }
}

impl Rows for Array {
    fn num_rows(&self) -> usize {
        self.len()
    }
    fn slice_rows(&self, start: usize, end: usize) -> Result<Self> {
        Ok(self.slice(start, end - start))
    }
    fn concat_rows(parts: &[Self]) -> Result<Self> {
        Array::cat(&parts.iter().collect::<Vec<_>>())
    }
    fn permute_level(&self, depth: usize, seed: u64) -> Result<Self> {
        Ok(Array::new(permute_layout(&self.layout, depth, seed)?))
    }
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        layout_entity_counts(&self.layout, depth)
    }
    fn nbytes(&self) -> usize {
        self.layout.nbytes()
    }
}

pub(crate) fn below_union(depth: usize) -> grumpy_core::Error {
    grumpy_core::Error::new(
        Code::Unsupported,
        format!("level {depth} lies below a union (scalar-or-list) level"),
        "union rows have no single nesting below them",
        "use batch_on/shuffle with a level above the union, or stream a list-chain array",
    )
}

pub(crate) fn too_deep(depth: usize) -> grumpy_core::Error {
    grumpy_core::Error::new(
        Code::Argument,
        format!("level {depth} does not exist"),
        "the data has fewer nested levels",
        "pass a level between 0 and ndim - 1",
    )
}

/// Permute the level-`depth` entities of `layout` inside their parents (see [`Rows`]).
pub fn permute_layout(layout: &Layout, depth: usize, seed: u64) -> Result<Layout> {
    if depth == 0 {
        let perm = super::plan::permutation(layout.len(), seed);
        return Ok(layout.take(&perm));
    }
    let perm = within_groups_permutation(&level_offsets(layout, depth)?, seed);
    permute_with(layout, depth, &perm)
}

/// Zero-based offsets of list axis `depth` (≥ 1) over the entities `layout`'s rows cover:
/// entry `i` is where the `i`-th level-`depth - 1` entity's children start.
pub fn level_offsets(layout: &Layout, depth: usize) -> Result<Vec<i64>> {
    match layout {
        Layout::List(l) if depth == 1 => {
            let o = l.offsets.as_slice();
            let base = o.first().copied().unwrap_or(0);
            Ok(o.iter().map(|x| x - base).collect())
        }
        Layout::List(l) => level_offsets(&l.child_view(), depth - 1),
        Layout::Union(_) => Err(below_union(depth)),
        Layout::Leaf(_) => Err(too_deep(depth)),
    }
}

/// Gather the level-`depth` (≥ 1) entities of `layout` by `perm` (indices into the entities
/// the rows cover, as [`level_offsets`] counts them); deeper levels move whole, outer ones
/// keep their shape.
pub fn permute_with(layout: &Layout, depth: usize, perm: &[usize]) -> Result<Layout> {
    match layout {
        Layout::List(l) => {
            let child = if depth == 1 {
                l.child_view().take(perm)
            } else {
                permute_with(&l.child_view(), depth - 1, perm)?
            };
            Ok(Layout::List(List::new(
                l.zero_based_offsets(),
                l.validity.clone(),
                child,
            )))
        }
        Layout::Union(_) => Err(below_union(depth)),
        Layout::Leaf(_) => Err(too_deep(depth)),
    }
}

/// Level-`depth` entities per outer row of `layout` (null rows count 0).
pub fn layout_entity_counts(layout: &Layout, depth: usize) -> Result<Vec<u64>> {
    if depth == 0 {
        return Ok(vec![1; layout.len()]);
    }
    let Layout::List(top) = layout else {
        return Err(match layout {
            Layout::Union(_) => below_union(depth),
            _ => too_deep(depth),
        });
    };
    // Bounds of each row in the buffers of the current level, composed level by level.
    let mut bounds: Vec<i64> = top.offsets.as_slice().to_vec();
    let mut node: &Layout = &top.child;
    for _ in 1..depth {
        match node {
            Layout::List(l) => {
                let o = l.offsets.as_slice();
                for b in bounds.iter_mut() {
                    *b = o[*b as usize];
                }
                node = &l.child;
            }
            Layout::Union(_) => return Err(below_union(depth)),
            Layout::Leaf(_) => return Err(too_deep(depth)),
        }
    }
    Ok(bounds.windows(2).map(|w| (w[1] - w[0]) as u64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use grumpy_core::layout::Item;

    fn nested() -> Array {
        // 3 proteins → residues → atoms
        let rows: Item = vec![
            vec![vec![1.0, 2.0], vec![3.0]],
            vec![],
            vec![vec![4.0], vec![5.0, 6.0, 7.0], vec![8.0]],
        ]
        .into();
        Array::from_item(&rows, None).unwrap()
    }

    #[test]
    fn counts_per_level() {
        let a = nested();
        assert_eq!(a.entity_counts(0).unwrap(), vec![1, 1, 1]);
        assert_eq!(a.entity_counts(1).unwrap(), vec![2, 0, 3]);
        assert_eq!(a.entity_counts(2).unwrap(), vec![3, 0, 5]);
        assert_eq!(a.slice(1, 2).entity_counts(2).unwrap(), vec![0, 5]);
        assert_eq!(a.entity_counts(3).unwrap_err().code(), Code::Argument);
    }

    #[test]
    fn union_levels() {
        let u = Array::from_item(
            &Item::list(vec![1.0.into(), Item::list(vec![2.0.into(), 3.0.into()])]),
            None,
        )
        .unwrap();
        assert_eq!(u.entity_counts(1).unwrap_err().code(), Code::Unsupported);
        assert_eq!(u.permute_level(1, 3).unwrap_err().code(), Code::Unsupported);
        let p = u.permute_level(0, 3).unwrap();
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn permute_keeps_groups() {
        let a = nested().slice(0, 3);
        for depth in 0..3 {
            let p = a.permute_level(depth, 11).unwrap();
            // same multiset per outer row at depth >= 1, same rows at depth 0
            assert_eq!(p.len(), 3);
            if depth >= 1 {
                assert_eq!(p.entity_counts(1).unwrap(), a.entity_counts(1).unwrap());
                assert_eq!(p.entity_counts(2).unwrap(), a.entity_counts(2).unwrap());
            }
            assert_eq!(p, a.permute_level(depth, 11).unwrap(), "deterministic");
        }
        // depth 2 permutes atoms inside residues: residue [5,6,7] stays a residue of 3 atoms.
        let p = a.permute_level(2, 5).unwrap().to_item();
        let Item::List(rows) = p else { panic!() };
        let Item::List(res) = &rows[2] else { panic!() };
        let Item::List(atoms) = &res[1] else { panic!() };
        let mut v: Vec<f64> = atoms
            .iter()
            .map(|x| match x {
                Item::Scalar(s) => s.as_f64().unwrap(),
                _ => panic!(),
            })
            .collect();
        v.sort_by(f64::total_cmp);
        assert_eq!(v, vec![5.0, 6.0, 7.0]);
    }

    #[test]
    fn take_rows_runs() {
        let src = MemorySource::from_array(nested());
        let t = src.take_rows(&[1, 2, 0]).unwrap();
        let want = Array::cat(&[&nested().slice(1, 2), &nested().slice(0, 1)]).unwrap();
        assert_eq!(t.to_item(), want.to_item());
        assert_eq!(src.take_rows(&[]).unwrap().len(), 0);
        assert_eq!(src.take_rows(&[3]).unwrap_err().code(), Code::OutOfBounds);
        assert_eq!(src.read_rows(2, 4).unwrap_err().code(), Code::OutOfBounds);
        let m = MemorySource::load(&src).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m.nesting(), 2);
    }
}
