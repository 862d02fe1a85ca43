//! Option layouts of other libraries → grumpy's null conventions.
//!
//! Awkward (`IndexedOptionArray`, `ByteMaskedArray`, ...) and Arrow express missing rows in ways
//! grumpy does not store directly. grumpy keeps one rule: a null leaf has a validity bit of 0, a
//! null list is a **zero-length** row whose bit is 0, and a null union row is a null scalar.
//!
//! ```text
//!   IndexedOptionArray index [1, -1, 0]  over  [[a], [b, c]]
//!   →  List offsets [0, 2, 2, 3]  validity [1, 0, 1]  child [b, c, a]
//! ```
//!
//! ```
//! use grumpy_core::interop::nulls::{take_with_nulls, mask_rows};
//! use grumpy_core::buffer::Bitmap;
//! use grumpy_core::layout::{Item, Layout};
//! let l = Layout::from_item(&vec![vec![1.0], vec![2.0, 3.0]].into(), None).unwrap();
//! let t = take_with_nulls(&l, &[1, -1, 0]).unwrap();
//! assert_eq!(t.to_item(), Item::list(vec![vec![2.0, 3.0].into(), Item::Null, vec![1.0].into()]));
//! let m = mask_rows(&l, Bitmap::from_bools(&[false, true])).unwrap();
//! assert_eq!(m.to_item(), Item::list(vec![Item::Null, vec![2.0, 3.0].into()]));
//! ```

use crate::buffer::{and_validity, normalize, Bitmap, Buf, Values};
use crate::error::Result;
use crate::kernels::concat::concat_layouts;
use crate::layout::{Layout, Leaf, List, Union};

/// Rows `idx` of `layout`; a negative index gives a null row. Zero copy when `idx` is
/// `0..n` (every row kept, in order).
pub fn take_with_nulls(layout: &Layout, idx: &[i64]) -> Result<Layout> {
    let identity = idx.iter().enumerate().all(|(i, &j)| j == i as i64);
    if identity && idx.len() <= layout.len() {
        return Ok(layout.slice(0, idx.len()));
    }
    let valid: Vec<bool> = idx.iter().map(|&j| j >= 0).collect();
    let rows: Vec<usize> = idx.iter().map(|&j| j.max(0) as usize).collect();
    Ok(match layout {
        Layout::Leaf(l) => {
            let values = if l.is_empty() {
                Values::zeros(l.values.dtype(), idx.len())
            } else {
                l.values.take(&rows)
            };
            let bits: Vec<bool> = (0..idx.len())
                .map(|i| valid[i] && !l.is_null(rows[i]))
                .collect();
            Layout::Leaf(Leaf::new(
                values,
                normalize(Some(Bitmap::from_bools(&bits))),
            ))
        }
        Layout::List(l) => {
            let mut offsets = Vec::with_capacity(idx.len() + 1);
            let mut gather = Vec::new();
            let mut bits = Vec::with_capacity(idx.len());
            offsets.push(0i64);
            for (i, &r) in rows.iter().enumerate() {
                let ok = valid[i] && !l.is_null(r);
                if ok {
                    gather.extend(l.row_range(r));
                }
                bits.push(ok);
                offsets.push(gather.len() as i64);
            }
            Layout::List(List::new(
                Buf::from_vec(offsets),
                normalize(Some(Bitmap::from_bools(&bits))),
                l.child.take(&gather),
            ))
        }
        Layout::Union(u) => {
            // Null rows point at null scalars appended to the scalar content.
            let nnull = valid.iter().filter(|v| !**v).count();
            let scalar = if nnull == 0 {
                (*u.scalar).clone()
            } else {
                let dtype = u.scalar.dtype();
                let extra = Layout::Leaf(Leaf::new(
                    Values::zeros(dtype, nnull),
                    Some(Bitmap::from_bools(&vec![false; nnull])),
                ));
                concat_layouts(&[&*u.scalar, &extra])?
            };
            let base = u.scalar.len() as i64;
            let (mut tags, mut index) = (Vec::with_capacity(idx.len()), Vec::new());
            let mut k = 0;
            for (i, &r) in rows.iter().enumerate() {
                if valid[i] {
                    tags.push(u.tags[r]);
                    index.push(u.index[r]);
                } else {
                    tags.push(0);
                    index.push(base + k);
                    k += 1;
                }
            }
            Layout::Union(Union {
                tags: Buf::from_vec(tags),
                index: Buf::from_vec(index),
                scalar: std::sync::Arc::new(scalar),
                list: u.list.clone(),
            })
        }
    })
}

/// Mark rows of `layout` null where `valid` is 0 (AND with any existing validity). Leaves keep
/// their buffers (zero copy); lists are rebuilt only when a masked row is not empty.
pub fn mask_rows(layout: &Layout, valid: Bitmap) -> Result<Layout> {
    let n = valid.len();
    let layout = layout.slice(0, n);
    if valid.null_count() == 0 {
        return Ok(layout);
    }
    match &layout {
        Layout::Leaf(l) => Ok(Layout::Leaf(Leaf::new(
            l.values.clone(),
            and_validity(l.validity.as_ref(), Some(&valid)),
        ))),
        Layout::List(l) if (0..n).all(|i| valid.get(i) || l.row_len(i) == 0) => {
            Ok(Layout::List(List {
                offsets: l.offsets.clone(),
                validity: and_validity(l.validity.as_ref(), Some(&valid)),
                child: l.child.clone(),
            }))
        }
        _ => {
            let idx: Vec<i64> = (0..n)
                .map(|i| if valid.get(i) { i as i64 } else { -1 })
                .collect();
            take_with_nulls(&layout, &idx)
        }
    }
}

/// Make null list rows zero-length (Arrow allows a null row to span values), recursively.
pub fn empty_null_lists(layout: Layout) -> Result<Layout> {
    match layout {
        Layout::List(l) => {
            let dirty = l
                .validity
                .as_ref()
                .is_some_and(|v| (0..l.len()).any(|i| !v.get(i) && l.row_len(i) > 0));
            if dirty {
                let v = l.validity.clone().expect("checked above");
                let plain = Layout::List(List {
                    validity: None,
                    ..l
                });
                mask_rows(&plain, v)
            } else {
                Ok(Layout::List(l))
            }
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    #[test]
    fn union_rows_become_null_scalars() {
        let u = Layout::from_item(
            &Item::list(vec![1.0.into(), Item::list(vec![2.0.into()])]),
            None,
        )
        .unwrap();
        let t = take_with_nulls(&u, &[1, -1, 0]).unwrap();
        assert_eq!(
            t.to_item(),
            Item::list(vec![Item::list(vec![2.0.into()]), Item::Null, 1.0.into()])
        );
        let m = mask_rows(&u, Bitmap::from_bools(&[true, false])).unwrap();
        assert_eq!(m.to_item(), Item::list(vec![1.0.into(), Item::Null]));
    }

    #[test]
    fn null_rows_with_values_are_emptied() {
        let l = List::new(
            Buf::from_vec(vec![0, 2, 3]),
            Some(Bitmap::from_bools(&[false, true])),
            Layout::Leaf(Leaf::valid(Values::from(vec![1i64, 2, 3]))),
        );
        let e = empty_null_lists(Layout::List(l)).unwrap();
        let Layout::List(e) = e else { panic!() };
        assert_eq!(e.lengths(), vec![0, 1]);
        assert_eq!(e.child.to_item(), vec![3i64].into());
    }
}
