//! [`Union`]: rows that are either a scalar or a list.
//!
//! ```text
//!   [1.0, [2.0, 3.0], 4.0]
//!   tags  [0, 1, 0]   index [0, 0, 1]
//!   scalar: Leaf [1.0, 4.0]      list: List [[2.0, 3.0]]
//! ```
//!
//! ```
//! use grumpy_core::layout::{Item, Layout};
//! let u = Layout::from_item(&Item::list(vec![1.0.into(), Item::list(vec![2.0.into(), 3.0.into()]), 4.0.into()]), None).unwrap();
//! assert_eq!(u.kind(), "union");
//! let Layout::Union(u) = u else { unreachable!() };
//! assert_eq!(u.to_list().unwrap().lengths(), vec![1, 2, 1]);
//! ```

use super::{Layout, List};
use crate::buffer::Buf;

/// Scalar-or-list rows (Awkward's `UnionArray` with two contents).
#[derive(Clone, Debug, PartialEq)]
pub struct Union {
    /// 0 = the row is `scalar[index]`, 1 = the row is `list[index]`.
    pub tags: Buf<i8>,
    /// Row position inside the tagged content.
    pub index: Buf<i64>,
    /// Content 0: scalar rows (a leaf).
    pub scalar: Box<Layout>,
    /// Content 1: list rows (a list layout).
    pub list: Box<Layout>,
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

    /// Contents holding exactly the referenced rows, in row order.
    pub fn compact_union(&self) -> Union {
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
            scalar: Box::new(self.scalar.take(&si)),
            list: Box::new(self.list.take(&li).compact()),
        }
    }

    /// Rows as lists: a scalar row becomes a length-1 list, a null list stays null.
    pub fn to_list(&self) -> crate::error::Result<List> {
        let Layout::List(list) = &*self.list else {
            unreachable!("union list content is a List");
        };
        let child = &*list.child;
        // Build a gather over a virtual concatenation [list child | scalar leaf].
        let nchild = child.len();
        let mut offsets = Vec::with_capacity(self.len() + 1);
        let mut gather: Vec<usize> = Vec::new();
        let mut valid = Vec::with_capacity(self.len());
        offsets.push(0i64);
        for i in 0..self.len() {
            let j = self.index[i] as usize;
            if self.tags[i] == 0 {
                gather.push(nchild + j);
                valid.push(true);
            } else {
                gather.extend(list.row_range(j));
                valid.push(!list.is_null(j));
            }
            offsets.push(gather.len() as i64);
        }
        let joined = crate::kernels::concat::concat_layouts(&[child, &self.scalar])?;
        Ok(List {
            offsets: Buf::from_vec(offsets),
            validity: crate::buffer::normalize(Some(crate::buffer::Bitmap::from_bools(&valid))),
            child: Box::new(joined.take(&gather)),
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
