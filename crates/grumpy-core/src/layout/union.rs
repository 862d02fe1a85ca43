//! [`Union`]: rows that are either a scalar or a list.
//!
//! ```text
//!   [1.0, [2.0, 3.0], 4.0]
//!   tags  [0, 1, 0]   index [0, 0, 1]
//!   scalar: Leaf [1.0, 4.0]      list: List [[2.0, 3.0]]
//! ```
//!
//! The list rows may be any depth, and may themselves hold unions: `[1.0, [[[2.0]]]]` has a
//! list content of depth 3. Seen as lists ([`Union::to_list`]), a scalar row is a length-1 list
//! whose element is the scalar wrapped to the depth of the list rows' elements
//! (`1.0` → `[[[1.0]]]` here), or, where those elements are themselves union rows, the scalar
//! joins them as a scalar row.
//!
//! ```
//! use grumpy_core::layout::{Item, Layout};
//! let u = Layout::from_item(&Item::list(vec![1.0.into(), Item::list(vec![2.0.into(), 3.0.into()]), 4.0.into()]), None).unwrap();
//! assert_eq!(u.kind(), "union");
//! let Layout::Union(u) = u else { unreachable!() };
//! assert_eq!(u.to_list().unwrap().lengths(), vec![1, 2, 1]);
//! let deep = Layout::from_item(&Item::list(vec![1.0.into(), vec![vec![vec![2.0]]].into()]), None).unwrap();
//! let Layout::Union(d) = deep else { unreachable!() };
//! assert_eq!(Layout::List(d.to_list().unwrap()).to_item(),
//!            Item::list(vec![vec![vec![vec![1.0]]].into(), vec![vec![vec![2.0]]].into()]));
//! ```

use super::{Layout, Leaf, List};
use crate::buffer::{Bitmap, Buf};
use crate::error::{Code, Error, Result};
use std::sync::Arc;

/// Scalar-or-list rows (Awkward's `UnionArray` with two contents).
#[derive(Clone, Debug, PartialEq)]
pub struct Union {
    /// 0 = the row is `scalar[index]`, 1 = the row is `list[index]`.
    pub tags: Buf<i8>,
    /// Row position inside the tagged content.
    pub index: Buf<i64>,
    /// Content 0: scalar rows (a leaf; shared, as a list's child is).
    pub scalar: Arc<Layout>,
    /// Content 1: list rows (a list layout).
    pub list: Arc<Layout>,
}

fn malformed(what: &str) -> Error {
    Error::new(
        Code::Unsupported,
        "internal error: malformed union",
        what.to_owned(),
        "this is a bug: please report it with the array that triggered it",
    )
}

impl Union {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Whether row `i` is null (a null scalar or a null list).
    pub fn is_null(&self, i: usize) -> bool {
        let j = self.index[i] as usize;
        if self.tags[i] == 0 {
            self.scalar.is_null(j)
        } else {
            self.list.is_null(j)
        }
    }

    /// Zero-copy slice.
    pub fn slice(&self, start: usize, len: usize) -> Union {
        Union {
            tags: self.tags.slice(start, len),
            index: self.index.slice(start, len),
            scalar: self.scalar.clone(),
            list: self.list.clone(),
        }
    }

    /// Gather rows (tags/index gathered, contents shared).
    pub fn take(&self, rows: &[usize]) -> Union {
        Union {
            tags: Buf::from_vec(rows.iter().map(|&r| self.tags[r]).collect()),
            index: Buf::from_vec(rows.iter().map(|&r| self.index[r]).collect()),
            scalar: self.scalar.clone(),
            list: self.list.clone(),
        }
    }

    /// True when the rows use every content row exactly once, in order (scalar rows are
    /// `scalar[0], scalar[1], ...`, list rows likewise), so the contents hold exactly this view.
    pub fn is_compact(&self) -> bool {
        let (mut s, mut l) = (0i64, 0i64);
        for (&t, &j) in self.tags.iter().zip(self.index.iter()) {
            let next = if t == 0 { &mut s } else { &mut l };
            if j != *next {
                return false;
            }
            *next += 1;
        }
        s as usize == self.scalar.len() && l as usize == self.list.len()
    }

    /// Contents holding exactly the referenced rows, in row order (the list content is
    /// compacted too). Cheap when already compact: only the list content's offsets may be
    /// rebased, values are shared.
    pub fn compact_union(&self) -> Union {
        if self.is_compact() {
            return Union {
                tags: self.tags.clone(),
                index: self.index.clone(),
                scalar: self.scalar.clone(),
                list: Arc::new(self.list.compact()),
            };
        }
        let (mut si, mut li) = (Vec::new(), Vec::new());
        let mut index = Vec::with_capacity(self.len());
        for i in 0..self.len() {
            let j = self.index[i] as usize;
            if self.tags[i] == 0 {
                index.push(si.len() as i64);
                si.push(j);
            } else {
                index.push(li.len() as i64);
                li.push(j);
            }
        }
        Union {
            tags: self.tags.clone(),
            index: Buf::from_vec(index),
            scalar: Arc::new(self.scalar.take(&si)),
            list: Arc::new(self.list.take(&li).compact()),
        }
    }

    /// Rows as lists: a scalar row becomes a length-1 list (its element wrapped to the depth
    /// of the list rows' elements, see the module docs), a null list stays null. Works at any
    /// depth; only the rows of this view are read.
    pub fn to_list(&self) -> Result<List> {
        let c = self.compact_union();
        let Layout::List(list) = &*c.list else {
            return Err(malformed("the list content of a union is not a list"));
        };
        let Layout::Leaf(scalars) = &*c.scalar else {
            return Err(malformed("the scalar content of a union is not a leaf"));
        };
        // `list` is compact: offsets start at 0 and cover its whole child.
        let nchild = list.child.len();
        let joined = append_rows(&list.child, scalars)?;
        let mut offsets = Vec::with_capacity(c.len() + 1);
        let mut gather: Vec<usize> = Vec::with_capacity(nchild + scalars.len());
        let mut valid = Vec::with_capacity(c.len());
        offsets.push(0i64);
        for i in 0..c.len() {
            let j = c.index[i] as usize;
            if c.tags[i] == 0 {
                gather.push(nchild + j);
                valid.push(true);
            } else {
                gather.extend(list.row_range(j));
                valid.push(!list.is_null(j));
            }
            offsets.push(gather.len() as i64);
        }
        let identity = gather.iter().enumerate().all(|(k, &g)| k == g);
        let child = if identity && gather.len() == joined.len() {
            joined
        } else {
            joined.take(&gather)
        };
        Ok(List {
            offsets: Buf::from_vec(offsets),
            validity: crate::buffer::normalize(Some(Bitmap::from_bools(&valid))),
            child: Arc::new(child),
        })
    }

    /// Leaf values reachable from the rows (a scalar row counts 1).
    pub fn size(&self) -> usize {
        (0..self.len())
            .map(|i| {
                let j = self.index[i] as usize;
                if self.tags[i] == 0 {
                    1
                } else {
                    self.list.slice(j, 1).size()
                }
            })
            .sum()
    }
}

/// The rows of `target` followed by one row per value of `scalars`, each wrapped in length-1
/// lists down to `target`'s row depth (a union target takes them as scalar rows).
fn append_rows(target: &Layout, scalars: &Leaf) -> Result<Layout> {
    let n = scalars.len();
    Ok(match target {
        Layout::Leaf(_) => {
            crate::kernels::concat::concat_layouts(&[target, &Layout::Leaf(scalars.clone())])?
        }
        Layout::List(l) => {
            let mut offsets = l.zero_based_offsets().as_slice().to_vec();
            let end = offsets[offsets.len() - 1];
            offsets.extend((1..=n as i64).map(|k| end + k));
            let validity = l.validity.as_ref().map(|v| {
                let mut bits = v.to_bools();
                bits.extend(std::iter::repeat_n(true, n));
                Bitmap::from_bools(&bits)
            });
            Layout::List(List::new(
                Buf::from_vec(offsets),
                validity,
                append_rows(&l.child_view(), scalars)?,
            ))
        }
        Layout::Union(u) => {
            let c = u.compact_union();
            let ns = c.scalar.len() as i64;
            let mut tags = c.tags.as_slice().to_vec();
            tags.extend(std::iter::repeat_n(0i8, n));
            let mut index = c.index.as_slice().to_vec();
            index.extend((0..n as i64).map(|k| ns + k));
            let scalar = append_rows(&c.scalar, scalars)?;
            Layout::Union(Union {
                tags: Buf::from_vec(tags),
                index: Buf::from_vec(index),
                scalar: Arc::new(scalar),
                list: c.list,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn lay(it: Item) -> Layout {
        Layout::from_item(&it, None).unwrap()
    }
    fn f(x: f64) -> Item {
        x.into()
    }
    fn l(v: Vec<Item>) -> Item {
        Item::list(v)
    }
    fn union(it: Item) -> Union {
        match lay(it) {
            Layout::Union(u) => u,
            other => panic!("not a union: {other:?}"),
        }
    }

    #[test]
    fn scalars_wrap_to_the_depth_of_the_list_rows() {
        // [1.0, [[[2.0]]], 3.0]: scalar rows become [[[x]]]
        let u = union(l(vec![f(1.0), l(vec![l(vec![l(vec![f(2.0)])])]), f(3.0)]));
        let got = Layout::List(u.to_list().unwrap());
        let w = |x: f64| l(vec![l(vec![l(vec![f(x)])])]);
        assert_eq!(got.to_item(), l(vec![w(1.0), w(2.0), w(3.0)]));
        assert_eq!(got.ndim(), 4);
        assert_eq!(got.kind(), "list");
    }

    #[test]
    fn scalars_join_an_inner_union_as_scalar_rows() {
        // [1.0, [2.0, [3.0]]]: the list rows' elements are a union, the scalar joins it
        let u = union(l(vec![f(1.0), l(vec![f(2.0), l(vec![f(3.0)])])]));
        let got = Layout::List(u.to_list().unwrap());
        assert_eq!(
            got.to_item(),
            l(vec![l(vec![f(1.0)]), l(vec![f(2.0), l(vec![f(3.0)])])])
        );
        let flat = got.unions_as_lists().unwrap();
        assert_eq!(flat.kind(), "list");
        assert_eq!(
            flat.to_item(),
            l(vec![
                l(vec![l(vec![f(1.0)])]),
                l(vec![l(vec![f(2.0)]), l(vec![f(3.0)])])
            ])
        );
    }

    #[test]
    fn a_sliced_union_converts_only_its_rows() {
        let rows: Vec<Item> = (0..100)
            .map(|i| {
                if i % 2 == 0 {
                    f(i as f64)
                } else {
                    l(vec![l(vec![f(i as f64); 50])])
                }
            })
            .collect();
        let Layout::Union(u) = lay(l(rows)).slice(10, 2) else {
            panic!()
        };
        assert!(!u.is_compact());
        let list = u.to_list().unwrap();
        // the converted child holds the two rows' values only (1 + 50), not the parent's
        assert_eq!(list.child.size(), 51);
        assert_eq!(list.child.leaves()[0].len(), 51);
        assert_eq!(
            Layout::List(list).to_item(),
            l(vec![
                l(vec![l(vec![f(10.0)])]),
                l(vec![l(vec![f(11.0); 50])])
            ])
        );
        let c = u.compact_union();
        assert!(c.is_compact());
        assert_eq!(c.scalar.len() + c.list.len(), 2);
    }

    #[test]
    fn lengths_at_every_depth() {
        let x = lay(l(vec![f(1.0), l(vec![l(vec![f(2.0), f(3.0)]), l(vec![])])]));
        assert_eq!(x.lengths_at(1).unwrap().to_item(), vec![1i64, 2].into());
        assert_eq!(
            x.lengths_at(2).unwrap().to_item(),
            l(vec![vec![1i64].into(), vec![2i64, 0].into()])
        );
        assert!(x.lengths_at(0).is_none() && x.lengths_at(3).is_none());
    }
}
