//! [`List`]: variable-length lists as `i64` offsets into a child layout.
//!
//! ```text
//!   offsets [2, 5, 5, 6]  ──►  child [a b | c d e | | f ...]
//!   rows:   [c d e], [], [f]          (offsets need not start at 0)
//! ```
//!
//! ```
//! use grumpy_core::layout::{Layout, List, Leaf};
//! use grumpy_core::buffer::{Buf, Values};
//! let child = Layout::Leaf(Leaf::valid(Values::from(vec![1.0, 2.0, 3.0])));
//! let l = List::new(Buf::from_vec(vec![0, 2, 3]), None, child);
//! assert_eq!(l.row_len(0), 2);
//! assert_eq!(l.slice(1, 1).row_range(0), 2..3);
//! ```

use super::Layout;
use crate::buffer::{Bitmap, Buf};
use std::sync::Arc;

/// Lists: row `i` is `child[offsets[i]..offsets[i+1]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    /// n+1 non-decreasing offsets into `child`.
    pub offsets: Buf<i64>,
    /// Row validity (a null row has zero length), `None` when all valid.
    pub validity: Option<Bitmap>,
    /// The list contents, shared: cloning a layout copies no node (see `Arc::make_mut` to
    /// change one in place).
    pub child: Arc<Layout>,
}

impl List {
    /// Build a list node (offsets must be n+1, non-decreasing and within the child).
    pub fn new(offsets: Buf<i64>, validity: Option<Bitmap>, child: Layout) -> List {
        debug_assert!(!offsets.is_empty());
        List {
            offsets,
            validity,
            child: Arc::new(child),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Child index range of row `i`.
    #[inline]
    pub fn row_range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    /// Length of row `i`.
    #[inline]
    pub fn row_len(&self, i: usize) -> usize {
        (self.offsets[i + 1] - self.offsets[i]) as usize
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.validity.as_ref().is_some_and(|v| !v.get(i))
    }

    /// Zero-copy slice of rows.
    pub fn slice(&self, start: usize, len: usize) -> List {
        List {
            offsets: self.offsets.slice(start, len + 1),
            validity: self.validity.as_ref().map(|v| v.slice(start, len)),
            child: self.child.clone(),
        }
    }

    /// The part of the child that the rows of this view cover (zero copy).
    pub fn child_view(&self) -> Layout {
        let o = self.offsets.as_slice();
        let (a, b) = (o[0] as usize, o[o.len() - 1] as usize);
        self.child.slice(a, b - a)
    }

    /// Offsets rebased to start at 0 (shared when they already do; regular ones come from the
    /// per-thread cache of [`crate::buffer::regular_offsets`]).
    pub fn zero_based_offsets(&self) -> Buf<i64> {
        let o = self.offsets.as_slice();
        if o[0] == 0 {
            self.offsets.clone()
        } else if let Some(s) = self.offsets.regular_step().filter(|&s| s >= 0) {
            crate::buffer::regular_offsets(o.len() - 1, s)
        } else {
            let base = o[0];
            Buf::from_vec(o.iter().map(|x| x - base).collect())
        }
    }

    /// Same rows with offsets starting at 0 and the child cut to exactly the covered range.
    pub fn compact(&self) -> List {
        List {
            offsets: self.zero_based_offsets(),
            validity: self.validity.clone(),
            child: Arc::new(self.child_view().compact()),
        }
    }

    /// Gather rows (copies offsets; gathers the child's covered elements).
    pub fn take(&self, rows: &[usize]) -> List {
        let mut offsets = Vec::with_capacity(rows.len() + 1);
        let mut child_idx = Vec::new();
        offsets.push(0i64);
        for &r in rows {
            child_idx.extend(self.row_range(r));
            offsets.push(child_idx.len() as i64);
        }
        List {
            offsets: Buf::from_vec(offsets),
            validity: crate::buffer::normalize(
                self.validity.as_ref().map(|v| v.take(rows.iter().copied())),
            ),
            child: Arc::new(self.child.take(&child_idx)),
        }
    }

    /// Row lengths.
    pub fn lengths(&self) -> Vec<i64> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// If every row has the same length `s`, `Some(s)` (rows with no elements only when empty).
    pub fn regular_size(&self) -> Option<usize> {
        let o = self.offsets.as_slice();
        if o.len() < 2 {
            return None;
        }
        if let Some(s) = self.offsets.regular_step() {
            // Known (cached) for the whole offsets storage: no scan.
            return Some(s as usize);
        }
        let s = o[1] - o[0];
        o.windows(2).all(|w| w[1] - w[0] == s).then_some(s as usize)
    }
}
