//! Awkward-style broadcasting of ragged layouts, level by level from the outside.
//!
//! [`broadcast_pair`] turns two layouts into two layouts with the *same structure* (same
//! offsets, same union tags) whose leaves line up one to one; [`zip_leaves`] then walks such
//! layouts together and combines their leaves. Rules, per level:
//!
//! ```text
//!   equal outer lengths, or one side of length 1         [[1,2],[3]] + [[10],[20]]  = [[11,12],[23]]
//!   within a row, a length-1 row repeats along the other  [[1,2],[3]] + [[10],[20,30]] = [[11,12],[23,33]]
//!   a shallower value repeats over the deeper sublists    [[1,2],[3]] + [10, 20]     = [[11,12],[23]]
//!   union: a scalar row acts as a length-1 list row       [1,[2,3]] + [[10,20],[30,40]] = [[11,21],[32,43]]
//!   union ⊕ union: a row stays a scalar only where both   [1,[5],2] + [[1],5,2]     = [[2],[10],4]
//!   are scalar rows; else the scalar spreads over the list
//! ```
//! A scalar row spreads over a list row of any depth (`1 + [[10, 20], [30]]` gives
//! `[[11, 21], [31]]`), exactly as a length-1 list would at every level.
//! Identical offsets (the same view, or equal values) are shared without any gather.
//!
//! ```
//! use grumpy_core::{array::Array, kernels::broadcast::broadcast_pair};
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let b = Array::from_vec(vec![10.0, 20.0]);
//! let (x, y) = broadcast_pair(&a.layout, &b.layout).unwrap();
//! assert_eq!(y.to_item(), vec![vec![10.0, 10.0], vec![20.0]].into());
//! assert_eq!(x.to_item(), a.to_item());
//! ```

use crate::buffer::{and_validity, normalize, Bitmap, Buf};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List, Union};

fn internal(what: &str) -> Error {
    Error::new(
        Code::Unsupported,
        "internal error while broadcasting",
        what.to_owned(),
        "this is a bug: please report it with the arrays that triggered it",
    )
}

fn row_error(depth: usize, row: usize, la: usize, lb: usize) -> Error {
    Error::new(
        Code::Broadcast,
        format!("cannot broadcast row {row} at depth {depth}: lengths {la} and {lb}"),
        format!("row {row} has {la} elements on the left and {lb} on the right"),
        "make the rows the same length, or give one side a single element per row",
    )
}

/// Broadcast two layouts to one structure (see the module docs). Outer lengths must match or
/// one must be 1.
pub fn broadcast_pair(a: &Layout, b: &Layout) -> Result<(Layout, Layout)> {
    let (na, nb) = (a.len(), b.len());
    if na == nb {
        return pair(a, b, 0);
    }
    if na == 1 {
        return pair(&a.take(&vec![0; nb]), b, 0);
    }
    if nb == 1 {
        return pair(a, &b.take(&vec![0; na]), 0);
    }
    Err(Error::new(
        Code::Broadcast,
        format!("cannot broadcast arrays of lengths {na} and {nb}"),
        format!("the outer lengths differ ({na} vs {nb}) and neither is 1"),
        "use arrays with the same number of rows, or a length-1 array",
    ))
}

/// Broadcast any number of layouts to one structure.
pub fn broadcast_all(ls: &[&Layout]) -> Result<Vec<Layout>> {
    let Some((first, rest)) = ls.split_first() else {
        return Ok(Vec::new());
    };
    // A lone operand is still cut to its view, so its leaves are exactly the referenced ones.
    let mut out: Vec<Layout> = vec![first.compact()];
    for l in rest {
        let (x, y) = broadcast_pair(&out[0], l)?;
        out[0] = x;
        out.push(y);
    }
    // Earlier operands may need the joint shape found by later ones.
    for i in 1..out.len() {
        let (x, y) = broadcast_pair(&out[0], &out[i])?;
        out[0] = x;
        out[i] = y;
    }
    Ok(out)
}

/// `[0, 0, 0, 1, 1, 2, ...]`: index `i` repeated `len(i)` times over the rows of `list`.
fn repeat_rows(list: &List) -> Vec<usize> {
    let mut idx = Vec::with_capacity(list.child_view().len());
    for i in 0..list.len() {
        idx.extend(std::iter::repeat_n(i, list.row_len(i)));
    }
    idx
}

/// A shallower layout `a` (one value per row of `b`) spread over the rows of list `b`. The
/// pair comes back in operand order: `(a, b)` when `a_left`, else `(b, a)`.
fn spread(a: &Layout, b: &List, depth: usize, a_left: bool) -> Result<(Layout, Layout)> {
    let expanded = a.take(&repeat_rows(b));
    let child = b.child_view();
    let (ca, cb) = if a_left {
        pair(&expanded, &child, depth + 1)?
    } else {
        let (x, y) = pair(&child, &expanded, depth + 1)?;
        (y, x)
    };
    let offsets = b.zero_based_offsets();
    let mk = |c: Layout| Layout::List(List::new(offsets.clone(), b.validity.clone(), c));
    Ok(if a_left {
        (mk(ca), mk(cb))
    } else {
        (mk(cb), mk(ca))
    })
}

fn pair(a: &Layout, b: &Layout, depth: usize) -> Result<(Layout, Layout)> {
    match (a, b) {
        (Layout::Leaf(_), Layout::Leaf(_)) => Ok((a.clone(), b.clone())),
        (Layout::Leaf(_), Layout::List(lb)) => spread(a, lb, depth, true),
        (Layout::List(la), Layout::Leaf(_)) => spread(b, la, depth, false),
        (Layout::List(la), Layout::List(lb)) => lists(la, lb, depth),
        (Layout::Union(ua), Layout::Union(ub)) => unions(ua, ub, depth),
        (Layout::Union(u), Layout::Leaf(_)) => union_leaf(u, b, depth, true),
        (Layout::Leaf(_), Layout::Union(u)) => union_leaf(u, a, depth, false),
        (Layout::Union(u), Layout::List(lb)) => lists(&u.to_list()?, lb, depth),
        (Layout::List(la), Layout::Union(u)) => lists(la, &u.to_list()?, depth),
    }
}

fn lists(la: &List, lb: &List, depth: usize) -> Result<(Layout, Layout)> {
    let (oa, ob) = (la.offsets.as_slice(), lb.offsets.as_slice());
    let same_shape = la.offsets.same_view(&lb.offsets)
        || oa.iter().zip(ob).all(|(&x, &y)| x - oa[0] == y - ob[0]);
    if same_shape {
        let whole = oa[0] == 0
            && ob[0] == 0
            && la.child.len() == lb.child.len()
            && oa[oa.len() - 1] as usize == la.child.len();
        let (ca, cb, offsets) = if whole {
            ((*la.child).clone(), (*lb.child).clone(), la.offsets.clone())
        } else {
            (la.child_view(), lb.child_view(), la.zero_based_offsets())
        };
        let (ca, cb) = pair(&ca, &cb, depth + 1)?;
        let validity = normalize(and_validity(la.validity.as_ref(), lb.validity.as_ref()));
        let mk = |c: Layout| Layout::List(List::new(offsets.clone(), validity.clone(), c));
        return Ok((mk(ca), mk(cb)));
    }
    // General case: gather both children row by row.
    let n = la.len();
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i64);
    let (mut ia, mut ib) = (Vec::new(), Vec::new());
    let mut valid = Vec::with_capacity(n);
    for i in 0..n {
        let (ra, rb) = (la.row_range(i), lb.row_range(i));
        let ok = !la.is_null(i) && !lb.is_null(i);
        valid.push(ok);
        if ok {
            let (lena, lenb) = (ra.len(), rb.len());
            if lena == lenb {
                ia.extend(ra);
                ib.extend(rb);
            } else if lena == 1 {
                ia.extend(std::iter::repeat_n(ra.start, lenb));
                ib.extend(rb);
            } else if lenb == 1 {
                ia.extend(ra);
                ib.extend(std::iter::repeat_n(rb.start, lena));
            } else {
                return Err(row_error(depth + 1, i, lena, lenb));
            }
        }
        offsets.push(ia.len() as i64);
    }
    let (ca, cb) = pair(&la.child.take(&ia), &lb.child.take(&ib), depth + 1)?;
    let offsets = Buf::from_vec(offsets);
    let validity = normalize(Some(Bitmap::from_bools(&valid)));
    let mk = |c: Layout| Layout::List(List::new(offsets.clone(), validity.clone(), c));
    Ok((mk(ca), mk(cb)))
}

fn same_union_shape(a: &Union, b: &Union) -> bool {
    (a.tags.same_view(&b.tags) || a.tags == b.tags)
        && (a.index.same_view(&b.index) || a.index == b.index)
        && a.scalar.len() == b.scalar.len()
        && a.list.len() == b.list.len()
}

/// Union ⊕ union. Rows of the same kind pair up as they are; where the kinds differ, the
/// scalar row broadcasts against the list row (as a length-1 list, wrapped to its depth), so
/// a result row is a scalar only where both rows are scalars:
/// `[1, [5], 2] ⊕ [[1], 5, 2]` → rows `[list, list, scalar]`.
fn unions(ua: &Union, ub: &Union, depth: usize) -> Result<(Layout, Layout)> {
    let (ua, ub) = if same_union_shape(ua, ub) && ua.is_compact() {
        (ua.clone(), ub.clone())
    } else {
        let (ca, cb) = (ua.compact_union(), ub.compact_union());
        if !same_union_shape(&ca, &cb) {
            return mixed_unions(&ca, &cb, depth);
        }
        (ca, cb)
    };
    let (sa, sb) = pair(&ua.scalar, &ub.scalar, depth)?;
    let (la, lb) = pair(&ua.list, &ub.list, depth)?;
    let mk = |s: Layout, l: Layout| {
        Layout::Union(Union {
            tags: ua.tags.clone(),
            index: ua.index.clone(),
            scalar: std::sync::Arc::new(s),
            list: std::sync::Arc::new(l),
        })
    };
    Ok((mk(sa, la), mk(sb, lb)))
}

/// Unions whose rows differ in kind somewhere (see [`unions`]).
fn mixed_unions(ua: &Union, ub: &Union, depth: usize) -> Result<(Layout, Layout)> {
    let n = ua.len();
    if ub.len() != n {
        return Err(internal("unions of different lengths"));
    }
    let (mut srows, mut lrows) = (Vec::new(), Vec::new());
    let mut tags = Vec::with_capacity(n);
    let mut index = Vec::with_capacity(n);
    for i in 0..n {
        if ua.tags[i] == 0 && ub.tags[i] == 0 {
            tags.push(0i8);
            index.push(srows.len() as i64);
            srows.push(i);
        } else {
            tags.push(1i8);
            index.push(lrows.len() as i64);
            lrows.push(i);
        }
    }
    let scalars = |u: &Union| {
        let idx: Vec<usize> = srows.iter().map(|&i| u.index[i] as usize).collect();
        u.scalar.take(&idx)
    };
    let (sa, sb) = pair(&scalars(ua), &scalars(ub), depth)?;
    let (la, lb) = lists(
        &ua.take(&lrows).to_list()?,
        &ub.take(&lrows).to_list()?,
        depth,
    )?;
    let (tags, index) = (Buf::from_vec(tags), Buf::from_vec(index));
    let mk = |s: Layout, l: Layout| {
        Layout::Union(Union {
            tags: tags.clone(),
            index: index.clone(),
            scalar: std::sync::Arc::new(s),
            list: std::sync::Arc::new(l),
        })
    };
    Ok((mk(sa, la), mk(sb, lb)))
}

/// A union against a flat leaf: scalar rows pair with scalars, list rows spread the scalar.
fn union_leaf(u: &Union, leaf: &Layout, depth: usize, u_left: bool) -> Result<(Layout, Layout)> {
    let c = u.compact_union();
    let (mut srows, mut lrows) = (Vec::new(), Vec::new());
    for (i, &t) in c.tags.iter().enumerate() {
        if t == 0 {
            srows.push(i);
        } else {
            lrows.push(i);
        }
    }
    let (ls, ll) = (leaf.take(&srows), leaf.take(&lrows));
    let (us, ul, xs, xl) = if u_left {
        let (us, xs) = pair(&c.scalar, &ls, depth)?;
        let (ul, xl) = pair(&c.list, &ll, depth)?;
        (us, ul, xs, xl)
    } else {
        let (xs, us) = pair(&ls, &c.scalar, depth)?;
        let (xl, ul) = pair(&ll, &c.list, depth)?;
        (us, ul, xs, xl)
    };
    let mk = |s: Layout, l: Layout| {
        Layout::Union(Union {
            tags: c.tags.clone(),
            index: c.index.clone(),
            scalar: std::sync::Arc::new(s),
            list: std::sync::Arc::new(l),
        })
    };
    let (ou, ox) = (mk(us, ul), mk(xs, xl));
    Ok(if u_left { (ou, ox) } else { (ox, ou) })
}

/// Walk layouts of identical structure together, combining their leaves with `f`; list
/// validity is AND-ed, offsets and union tags come from the first layout.
pub fn zip_leaves(ls: &[&Layout], f: &mut impl FnMut(&[&Leaf]) -> Result<Leaf>) -> Result<Layout> {
    let first = ls.first().ok_or_else(|| internal("zip of no layouts"))?;
    match first {
        Layout::Leaf(_) => {
            let leaves = ls
                .iter()
                .map(|l| l.as_leaf())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| internal("leaf paired with a non-leaf"))?;
            if leaves.iter().any(|l| l.len() != leaves[0].len()) {
                return Err(internal("leaves of different lengths"));
            }
            Ok(Layout::Leaf(f(&leaves)?))
        }
        Layout::List(l0) => {
            let lists = ls
                .iter()
                .map(|l| l.as_list())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| internal("list paired with a non-list"))?;
            let mut validity = l0.validity.clone();
            for l in &lists[1..] {
                validity = and_validity(validity.as_ref(), l.validity.as_ref());
            }
            let children: Vec<&Layout> = lists.iter().map(|l| &*l.child).collect();
            Ok(Layout::List(List::new(
                l0.offsets.clone(),
                normalize(validity),
                zip_leaves(&children, f)?,
            )))
        }
        Layout::Union(u0) => {
            let us = ls
                .iter()
                .map(|l| match l {
                    Layout::Union(u) => Some(u),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| internal("union paired with a non-union"))?;
            let scalars: Vec<&Layout> = us.iter().map(|u| &*u.scalar).collect();
            let lists: Vec<&Layout> = us.iter().map(|u| &*u.list).collect();
            Ok(Layout::Union(Union {
                tags: u0.tags.clone(),
                index: u0.index.clone(),
                scalar: std::sync::Arc::new(zip_leaves(&scalars, f)?),
                list: std::sync::Arc::new(zip_leaves(&lists, f)?),
            }))
        }
    }
}

/// AND of the leaves' validity masks (`None` when nothing is null).
pub(crate) fn and_leaf_validity(leaves: &[&Leaf]) -> Option<Bitmap> {
    let mut v: Option<Bitmap> = None;
    for l in leaves {
        v = and_validity(v.as_ref(), l.validity.as_ref());
    }
    normalize(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn lay(it: Item) -> Layout {
        Layout::from_item(&it, None).unwrap()
    }

    #[test]
    fn length_one_rows_and_outer() {
        let a = lay(vec![vec![1.0, 2.0], vec![3.0]].into());
        let b = lay(vec![vec![10.0], vec![20.0, 30.0]].into());
        let (x, y) = broadcast_pair(&a, &b).unwrap();
        assert_eq!(x.to_item(), vec![vec![1.0, 2.0], vec![3.0, 3.0]].into());
        assert_eq!(y.to_item(), vec![vec![10.0, 10.0], vec![20.0, 30.0]].into());
        let one = lay(vec![vec![5.0]].into());
        let (_, y) = broadcast_pair(&a, &one).unwrap();
        assert_eq!(y.to_item(), vec![vec![5.0, 5.0], vec![5.0]].into());
    }

    #[test]
    fn incompatible_rows_name_the_row() {
        let a = lay(vec![vec![1.0, 2.0], vec![3.0, 4.0, 5.0]].into());
        let b = lay(vec![vec![1.0, 2.0], vec![3.0, 4.0]].into());
        let e = broadcast_pair(&a, &b).unwrap_err();
        assert_eq!(e.code(), Code::Broadcast);
        assert!(e.summary().contains("row 1"), "{}", e.summary());
        let c = lay(vec![1.0, 2.0, 3.0].into());
        assert_eq!(broadcast_pair(&a, &c).unwrap_err().code(), Code::Broadcast);
    }

    #[test]
    fn union_scalar_rows_against_lists() {
        let u = lay(Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]));
        let l = lay(vec![vec![10.0, 20.0], vec![30.0, 40.0]].into());
        let (x, _) = broadcast_pair(&u, &l).unwrap();
        assert_eq!(x.to_item(), vec![vec![1.0, 1.0], vec![2.0, 3.0]].into());
        let f = lay(vec![5.0, 6.0].into());
        let (x, y) = broadcast_pair(&u, &f).unwrap();
        assert_eq!(x.kind(), "union");
        assert_eq!(
            y.to_item(),
            Item::list(vec![5.0.into(), vec![6.0, 6.0].into()])
        );
    }

    #[test]
    fn unions_of_different_row_kinds_keep_scalar_rows_where_both_are_scalars() {
        let a = lay(Item::list(vec![1.0.into(), vec![5.0].into(), 2.0.into()]));
        let b = lay(Item::list(vec![vec![1.0].into(), 5.0.into(), 2.0.into()]));
        let (x, y) = broadcast_pair(&a, &b).unwrap();
        assert_eq!(x.kind(), "union");
        assert_eq!(
            x.to_item(),
            Item::list(vec![vec![1.0].into(), vec![5.0].into(), 2.0.into()])
        );
        assert_eq!(
            y.to_item(),
            Item::list(vec![vec![1.0].into(), vec![5.0].into(), 2.0.into()])
        );
        // a scalar row spreads over a longer list row, also a deeper one
        let c = lay(Item::list(vec![
            7.0.into(),
            vec![vec![1.0, 2.0], vec![3.0]].into(),
        ]));
        let d = lay(Item::list(vec![
            vec![vec![1.0], vec![2.0, 3.0]].into(),
            4.0.into(),
        ]));
        let (x, y) = broadcast_pair(&c, &d).unwrap();
        assert_eq!(
            x.to_item(),
            Item::list(vec![
                vec![vec![7.0], vec![7.0, 7.0]].into(),
                vec![vec![1.0, 2.0], vec![3.0]].into()
            ])
        );
        assert_eq!(
            y.to_item(),
            Item::list(vec![
                vec![vec![1.0], vec![2.0, 3.0]].into(),
                vec![vec![4.0, 4.0], vec![4.0]].into()
            ])
        );
    }

    #[test]
    fn deep_union_against_a_list_chain() {
        let u = lay(Item::list(vec![
            1.0.into(),
            vec![vec![vec![2.0, 3.0]]].into(),
        ]));
        let lc = lay(vec![vec![vec![vec![10.0, 20.0]]], vec![vec![vec![30.0, 40.0]]]].into());
        let (x, y) = broadcast_pair(&u, &lc).unwrap();
        assert_eq!(
            x.to_item(),
            vec![vec![vec![vec![1.0, 1.0]]], vec![vec![vec![2.0, 3.0]]]].into()
        );
        assert_eq!(y.to_item(), lc.to_item());
    }

    #[test]
    fn a_lone_sliced_operand_is_cut_to_its_view() {
        let big: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64; 100]).collect();
        let a = lay(big.into()).slice(20, 1);
        let out = broadcast_all(&[&a]).unwrap();
        let Layout::List(l) = &out[0] else { panic!() };
        assert_eq!(l.child.len(), 100);
        assert_eq!(l.offsets.as_slice(), &[0, 100]);
    }
}
