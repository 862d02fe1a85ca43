//! The layout tree: how nested, ragged data sits in flat buffers.
//!
//! ```text
//!  [[1, 2, 3], [], [4, 5]]            List
//!                                      ├─ offsets [0, 3, 3, 5]   (i64, n+1)
//!                                      └─ Leaf values [1, 2, 3, 4, 5]
//!
//!  [1.0, [2.0, 3.0], 4.0]             Union (a row is a scalar or a list)
//!                                      ├─ tags  [0, 1, 0]        (0 = scalar, 1 = list)
//!                                      ├─ index [0, 0, 1]        (row in that content)
//!                                      ├─ content 0: Leaf [1.0, 4.0]
//!                                      └─ content 1: List offsets [0, 2] → Leaf [2.0, 3.0]
//! ```
//! Nulls: a leaf or list carries an optional validity [`Bitmap`]; a null list is a zero-length
//! row whose bit is 0. Offsets need not start at 0: slicing rows slices the offsets only.
//!
//! ```
//! use grumpy_core::layout::{Item, Layout};
//! let l = Layout::from_item(&Item::list(vec![Item::list(vec![1.0.into(), 2.0.into()]), Item::list(vec![])]), None).unwrap();
//! assert_eq!(l.len(), 2);
//! assert_eq!(l.slice(1, 1).to_item(), Item::list(vec![Item::list(vec![])]));
//! ```

mod builder;
pub mod form;
mod item;
mod leaf;
mod list;
mod preview;
mod union;

pub use builder::{too_deep, Builder, MAX_DEPTH};
pub use item::Item;
pub use leaf::Leaf;
pub use list::List;
pub use union::Union;

use crate::buffer::Bitmap;
use crate::dtype::DType;

/// A node of the layout tree (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum Layout {
    /// Typed values with optional validity.
    Leaf(Leaf),
    /// Variable-length lists: offsets into a child layout.
    List(List),
    /// Rows that are either a scalar (content 0) or a list (content 1).
    Union(Union),
}

impl Layout {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Layout::Leaf(l) => l.len(),
            Layout::List(l) => l.len(),
            Layout::Union(u) => u.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element dtype of the leaves.
    pub fn dtype(&self) -> DType {
        match self {
            Layout::Leaf(l) => l.values.dtype(),
            Layout::List(l) => l.child.dtype(),
            Layout::Union(u) => u.scalar.dtype(),
        }
    }

    /// Number of dimensions (a leaf has 1; each list level adds 1; a union counts its list).
    pub fn ndim(&self) -> usize {
        match self {
            Layout::Leaf(_) => 1,
            Layout::List(l) => 1 + l.child.ndim(),
            Layout::Union(u) => u.list.ndim(),
        }
    }

    /// `"leaf"`, `"list"` or `"union"` (a list whose child, at any depth, is a union is
    /// `"union"` too: the layout names the hardest case inside).
    pub fn kind(&self) -> &'static str {
        match self {
            Layout::Leaf(_) => "leaf",
            Layout::List(l) => match l.child.kind() {
                "union" => "union",
                _ => "list",
            },
            Layout::Union(_) => "union",
        }
    }

    /// True when the tree contains a union node.
    pub fn has_union(&self) -> bool {
        self.kind() == "union"
    }

    /// Zero-copy slice of rows `[start, start + len)`.
    pub fn slice(&self, start: usize, len: usize) -> Layout {
        match self {
            Layout::Leaf(l) => Layout::Leaf(l.slice(start, len)),
            Layout::List(l) => Layout::List(l.slice(start, len)),
            Layout::Union(u) => Layout::Union(u.slice(start, len)),
        }
    }

    /// Gather rows (indices already validated to be `< len`).
    pub fn take(&self, rows: &[usize]) -> Layout {
        match self {
            Layout::Leaf(l) => Layout::Leaf(l.take(rows)),
            Layout::List(l) => Layout::List(l.take(rows)),
            Layout::Union(u) => Layout::Union(u.take(rows)),
        }
    }

    /// Row validity (None = all valid).
    pub fn validity(&self) -> Option<&Bitmap> {
        match self {
            Layout::Leaf(l) => l.validity.as_ref(),
            Layout::List(l) => l.validity.as_ref(),
            Layout::Union(_) => None,
        }
    }

    /// Whether row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Layout::Union(u) => u.is_null(i),
            other => other.validity().is_some_and(|v| !v.get(i)),
        }
    }

    /// Number of leaf values reachable from the rows of this view.
    pub fn size(&self) -> usize {
        match self {
            Layout::Leaf(l) => l.len(),
            Layout::List(l) => l.child_view().size(),
            Layout::Union(u) => u.size(),
        }
    }

    /// Bytes of buffers reachable from this view (values, offsets, masks).
    pub fn nbytes(&self) -> usize {
        match self {
            Layout::Leaf(l) => {
                l.values.nbytes() + l.validity.as_ref().map_or(0, |v| v.len().div_ceil(8))
            }
            Layout::List(l) => {
                (l.len() + 1) * 8
                    + l.validity.as_ref().map_or(0, |v| v.len().div_ceil(8))
                    + l.child_view().nbytes()
            }
            Layout::Union(u) => {
                let c = u.compact_union();
                u.len() * 9 + c.scalar.nbytes() + c.list.nbytes()
            }
        }
    }

    /// Apply `f` to every leaf, keeping offsets, validity of lists and union tags shared.
    pub fn map_leaves<E>(&self, f: &mut impl FnMut(&Leaf) -> Result<Leaf, E>) -> Result<Layout, E> {
        Ok(match self {
            Layout::Leaf(l) => Layout::Leaf(f(l)?),
            Layout::List(l) => Layout::List(List {
                offsets: l.offsets.clone(),
                validity: l.validity.clone(),
                child: std::sync::Arc::new(l.child.map_leaves(f)?),
            }),
            Layout::Union(u) => Layout::Union(Union {
                tags: u.tags.clone(),
                index: u.index.clone(),
                scalar: std::sync::Arc::new(u.scalar.map_leaves(f)?),
                list: std::sync::Arc::new(u.list.map_leaves(f)?),
            }),
        })
    }

    /// Visit every leaf (in tree order: union scalar content before list content).
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        fn walk<'a>(l: &'a Layout, out: &mut Vec<&'a Leaf>) {
            match l {
                Layout::Leaf(x) => out.push(x),
                Layout::List(x) => walk(&x.child, out),
                Layout::Union(u) => {
                    walk(&u.scalar, out);
                    walk(&u.list, out);
                }
            }
        }
        walk(self, &mut out);
        out
    }

    /// A copy whose buffers hold exactly the rows of this view (offsets start at 0, no unused
    /// child data). Cheap when already compact.
    pub fn compact(&self) -> Layout {
        match self {
            Layout::Leaf(_) => self.clone(),
            Layout::List(l) => Layout::List(l.compact()),
            Layout::Union(u) => Layout::Union(u.compact_union()),
        }
    }

    /// The leaf if this is a flat leaf layout.
    pub fn as_leaf(&self) -> Option<&Leaf> {
        match self {
            Layout::Leaf(l) => Some(l),
            _ => None,
        }
    }

    /// The list node if this is a list.
    pub fn as_list(&self) -> Option<&List> {
        match self {
            Layout::List(l) => Some(l),
            _ => None,
        }
    }

    /// Convert every union row, at every depth, to a list row (a scalar becomes a length-1
    /// list, wrapped to the depth of the list rows, see [`Union::to_list`]); list-chains are
    /// returned unchanged. The result is a list-chain with the same leaves in the same order.
    ///
    /// ```
    /// use grumpy_core::layout::{Item, Layout};
    /// let u = Layout::from_item(&Item::list(vec![1.0.into(), vec![vec![2.0, 3.0]].into()]), None).unwrap();
    /// let l = u.unions_as_lists().unwrap();
    /// assert_eq!(l.kind(), "list");
    /// assert_eq!(l.to_item(), Item::list(vec![vec![vec![1.0]].into(), vec![vec![2.0, 3.0]].into()]));
    /// ```
    pub fn unions_as_lists(&self) -> crate::error::Result<Layout> {
        Ok(match self {
            Layout::Leaf(_) => self.clone(),
            Layout::List(l) if !l.child.has_union() => self.clone(),
            Layout::List(l) => Layout::List(List {
                offsets: l.zero_based_offsets(),
                validity: l.validity.clone(),
                child: std::sync::Arc::new(l.child_view().unions_as_lists()?),
            }),
            Layout::Union(u) => Layout::List(u.to_list()?).unions_as_lists()?,
        })
    }

    /// Per-row lengths of the lists at depth `dim` (`dim >= 1`), nested inside the outer
    /// `dim - 1` levels (`x.shape(dim)`); unions count a scalar row as a length-1 list (at
    /// every depth). `None` when `dim` is not a list axis (`dim == 0` or `dim >= ndim`).
    ///
    /// ```
    /// use grumpy_core::layout::{Item, Layout};
    /// let u = Layout::from_item(&Item::list(vec![1.0.into(), vec![vec![2.0, 3.0], vec![]].into()]), None).unwrap();
    /// assert_eq!(u.lengths_at(1).unwrap().to_item(), vec![1i64, 2].into());
    /// assert_eq!(u.lengths_at(2).unwrap().to_item(), Item::list(vec![vec![1i64].into(), vec![2i64, 0].into()]));
    /// ```
    pub fn lengths_at(&self, dim: usize) -> Option<Layout> {
        if dim == 0 || dim >= self.ndim() {
            return None;
        }
        let l = if self.has_union() {
            self.unions_as_lists().ok()?
        } else {
            self.clone()
        };
        fn go(l: &Layout, dim: usize) -> Option<Layout> {
            let Layout::List(x) = l else { return None };
            if dim == 1 {
                return Some(Layout::Leaf(Leaf::new(
                    crate::buffer::Values::from(x.lengths()),
                    x.validity.clone(),
                )));
            }
            Some(Layout::List(List::new(
                x.zero_based_offsets(),
                x.validity.clone(),
                go(&x.child_view(), dim - 1)?,
            )))
        }
        go(&l, dim)
    }
}
