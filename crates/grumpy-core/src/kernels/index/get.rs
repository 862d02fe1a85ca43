//! `x[key]`: row selection on the outer axis, then the rest of the key inside every row.

use super::select::{
    positions, resolve, slice_range, take_opt, too_deep, union_rows_as_list, Site,
};
use super::{Got, Index};
use crate::array::Array;
use crate::buffer::Buf;
use crate::dtype::Scalar;
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, List};
use std::borrow::Cow;

/// Row `i` (already in range): a scalar, `Null`, or a zero-copy sub-array.
fn row(l: &Layout, i: usize) -> Got {
    if l.is_null(i) {
        return Got::Scalar(Scalar::Null);
    }
    match l {
        Layout::Leaf(leaf) => Got::Scalar(leaf.values.scalar_at(i)),
        Layout::List(lst) => {
            let r = lst.row_range(i);
            Got::Array(Array::new(lst.child.slice(r.start, r.len())))
        }
        Layout::Union(u) => {
            let j = u.index[i] as usize;
            if u.tags[i] == 0 {
                row(&u.scalar, j)
            } else {
                row(&u.list, j)
            }
        }
    }
}

/// Select outer rows with a non-`Int` index (step-1 slices and `All` are zero copy).
fn select_rows(l: &Layout, idx: &Index) -> Result<Layout> {
    match idx {
        Index::All => Ok(l.clone()),
        Index::Slice { start, stop, step } => {
            let (a, s, c) = slice_range(*start, *stop, *step, l.len())?;
            if s == 1 || c <= 1 {
                let a = if c == 0 { 0 } else { a as usize };
                return Ok(l.slice(a, c));
            }
            let rows: Vec<usize> = (0..c as i64).map(|k| (a + k * s) as usize).collect();
            Ok(l.take(&rows))
        }
        _ => Ok(l.take(&positions(idx, l.len(), Site::Outer)?)),
    }
}

/// Gather rows by position (negatives count from the end; every index is validated).
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::index::take_rows;
/// let x = Array::from_item(&vec![vec![1i64], vec![2, 3]].into(), None).unwrap();
/// assert_eq!(take_rows(&x, &[-1, 0, -1]).unwrap().to_item(), vec![vec![2i64, 3], vec![1], vec![2, 3]].into());
/// assert!(take_rows(&x, &[2]).is_err());
/// ```
pub fn take_rows(a: &Array, rows: &[i64]) -> Result<Array> {
    let n = a.len();
    let idx = rows
        .iter()
        .map(|&i| resolve(i, n, Site::Outer))
        .collect::<Result<Vec<_>>>()?;
    Ok(Array::new(a.layout.take(&idx)))
}

/// The rows of `l` as a list node (a union whose rows are all lists or null is converted).
fn as_list(l: &Layout) -> Result<Cow<'_, List>> {
    match l {
        Layout::List(x) => Ok(Cow::Borrowed(x)),
        Layout::Union(u) => Ok(Cow::Owned(union_rows_as_list(u)?)),
        Layout::Leaf(_) => Err(too_deep(Site::Outer)),
    }
}

/// Pick one element per row (`at(k)` gives row k's index); null rows give null.
fn pick(lst: &List, at: impl Fn(usize) -> i64) -> Result<Layout> {
    let mut picks = Vec::with_capacity(lst.len());
    for r in 0..lst.len() {
        if lst.is_null(r) {
            picks.push(None);
            continue;
        }
        let range = lst.row_range(r);
        let k = resolve(at(r), range.len(), Site::Row(r))?;
        picks.push(Some(range.start + k));
    }
    Ok(take_opt(&lst.child, &picks))
}

/// Apply `idx` inside every row of `l` (the result has one row per row of `l`).
fn inner(l: &Layout, idx: &[Index]) -> Result<Layout> {
    let Some((first, rest)) = idx.split_first() else {
        return Ok(l.clone());
    };
    let lst = as_list(l)?;
    match first {
        Index::Int(j) => inner(&pick(&lst, |_| *j)?, rest),
        Index::All => {
            let child = inner(&lst.child_view(), rest)?;
            Ok(Layout::List(List::new(
                lst.zero_based_offsets(),
                lst.validity.clone(),
                child,
            )))
        }
        _ => {
            let mut offsets = Vec::with_capacity(lst.len() + 1);
            let mut gather = Vec::new();
            offsets.push(0i64);
            for r in 0..lst.len() {
                let range = lst.row_range(r);
                if !lst.is_null(r) {
                    let sel = positions(first, range.len(), Site::Row(r))?;
                    gather.extend(sel.into_iter().map(|k| range.start + k));
                }
                offsets.push(gather.len() as i64);
            }
            let child = inner(&lst.child.take(&gather), rest)?;
            Ok(Layout::List(List::new(
                Buf::from_vec(offsets),
                lst.validity.clone(),
                child,
            )))
        }
    }
}

fn unsupported_combo() -> Error {
    Error::new(
        Code::Unsupported,
        "this combination of array indices is not supported",
        "only one list/array index per key, or a row index list followed by one element index list",
        "split the key: index rows first (y = x[rows]), then index y",
    )
}

/// `x[idx]` with NumPy/Awkward semantics (see the [module docs](super)).
///
/// An `Int` first gives the row itself (`x[i, rest] == x[i][rest]`); any other first index
/// selects rows and the rest applies inside each selected row. `Ints` followed by `Ints`
/// pairs them (`x[[0, 1], [2, 0]]` is `[x[0, 2], x[1, 0]]`, NumPy's coordinate indexing).
/// A null row indexed further gives `Null` (Awkward's option semantics).
pub fn get(a: &Array, idx: &[Index]) -> Result<Got> {
    let Some((first, rest)) = idx.split_first() else {
        return Ok(Got::Array(a.clone()));
    };
    if idx.len() > a.ndim() {
        return Err(Error::new(
            Code::OutOfBounds,
            "too many indices for this array",
            format!(
                "{} indices for an array with {} dimension(s)",
                idx.len(),
                a.ndim()
            ),
            "use at most x.ndim indices",
        ));
    }
    if let Index::Int(i) = first {
        let r = resolve(*i, a.len(), Site::Outer)?;
        return match (row(&a.layout, r), rest.is_empty()) {
            (g, true) => Ok(g),
            (Got::Scalar(Scalar::Null), false) => Ok(Got::Scalar(Scalar::Null)),
            (Got::Scalar(_), false) => Err(too_deep(if a.layout.kind() == "union" {
                Site::Row(r)
            } else {
                Site::Outer
            })),
            (Got::Array(sub), false) => get(&sub, rest),
        };
    }
    let sel = select_rows(&a.layout, first)?;
    let n_adv = idx.iter().filter(|x| x.is_advanced()).count();
    if let (true, Some(Index::Ints(cols))) = (first.is_advanced(), rest.first()) {
        if n_adv > 2 {
            return Err(unsupported_combo());
        }
        let m = sel.len();
        if cols.len() != m && cols.len() != 1 {
            return Err(Error::new(
                Code::Broadcast,
                "index arrays do not broadcast together",
                format!("{m} rows selected but {} element indices given", cols.len()),
                "give one element index per selected row (or a single one)",
            ));
        }
        let lst = as_list(&sel)?;
        let picked = pick(&lst, |k| if cols.len() == 1 { cols[0] } else { cols[k] })?;
        return Ok(Got::Array(Array::new(inner(&picked, &rest[1..])?)));
    }
    if n_adv > 1 {
        return Err(unsupported_combo());
    }
    Ok(Got::Array(Array::new(inner(&sel, rest)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }
    fn ints(v: Vec<Vec<i64>>) -> Array {
        arr(v.into())
    }
    fn g(a: &Array, idx: &[Index]) -> Item {
        match get(a, idx).unwrap() {
            Got::Array(x) => x.to_item(),
            Got::Scalar(Scalar::Null) => Item::Null,
            Got::Scalar(s) => Item::Scalar(s),
        }
    }

    #[test]
    fn rows_and_scalars() {
        let x = ints(vec![vec![1, 2, 3], vec![], vec![4, 5]]);
        assert_eq!(g(&x, &[Index::Int(-1)]), vec![4i64, 5].into());
        assert_eq!(g(&x, &[Index::Int(0), Index::Int(1)]), 2i64.into());
        assert_eq!(g(&x, &[Index::Int(0), Index::Int(-3)]), 1i64.into());
        let e = get(&x, &[Index::Int(3)]).unwrap_err();
        assert_eq!(e.code(), Code::OutOfBounds);
        let e = get(&x, &[Index::Int(1), Index::Int(0)]).unwrap_err();
        assert_eq!(e.code(), Code::OutOfBounds);
        let e = get(&x, &[Index::Int(0), Index::Int(0), Index::Int(0)]).unwrap_err();
        assert!(e.summary().contains("too many"));
    }

    #[test]
    fn slices_are_zero_copy_with_step_one() {
        let x = ints(vec![vec![1, 2], vec![3], vec![4, 5, 6]]);
        let Got::Array(y) = get(&x, &[Index::slice(Some(1), None, None)]).unwrap() else {
            panic!()
        };
        let (Layout::List(a), Layout::List(b)) = (&x.layout, &y.layout) else {
            panic!()
        };
        assert!(a.offsets.shares_storage(&b.offsets));
        assert_eq!(y.to_item(), vec![vec![3i64], vec![4, 5, 6]].into());
        assert_eq!(
            g(&x, &[Index::slice(None, None, Some(-2))]),
            vec![vec![4i64, 5, 6], vec![1, 2]].into()
        );
    }

    #[test]
    fn inner_indices() {
        let x = ints(vec![vec![1, 2, 3], vec![4], vec![5, 6]]);
        assert_eq!(
            g(&x, &[Index::All, Index::Int(-1)]),
            vec![3i64, 4, 6].into()
        );
        assert_eq!(
            g(&x, &[Index::All, Index::slice(Some(1), Some(3), None)]),
            vec![vec![2i64, 3], vec![], vec![6]].into()
        );
        assert_eq!(
            g(&x, &[Index::Ints(vec![0, 2]), Index::Int(0)]),
            vec![1i64, 5].into()
        );
        assert_eq!(
            g(&x, &[Index::Ints(vec![0, 2]), Index::Ints(vec![2, 1])]),
            vec![3i64, 6].into()
        );
        let e = get(&x, &[Index::All, Index::Int(1)]).unwrap_err();
        assert!(e.summary().contains("row 1"), "{e}");
        assert_eq!(
            g(&x, &[Index::Mask(vec![true, false, true]), Index::Int(0)]),
            vec![1i64, 5].into()
        );
        assert!(get(&x, &[Index::Mask(vec![true])]).is_err());
        assert_eq!(
            get(
                &arr(vec![vec![vec![1i64]]].into()),
                &[Index::Ints(vec![0]), Index::All, Index::Ints(vec![0])]
            )
            .unwrap_err()
            .code(),
            Code::Unsupported
        );
    }

    #[test]
    fn nulls_and_unions() {
        let x = arr(Item::list(vec![
            vec![1i64, 2].into(),
            Item::Null,
            Item::list(vec![Item::Null, 3i64.into()]),
        ]));
        assert_eq!(g(&x, &[Index::Int(1)]), Item::Null);
        assert_eq!(g(&x, &[Index::Int(1), Index::Int(5)]), Item::Null);
        assert!(get(&x, &[Index::Int(1), Index::Int(0), Index::Int(0)]).is_err());
        let empty = arr(Item::list(vec![Item::list(vec![]), 1.0.into()]));
        assert!(get(&empty, &[Index::Int(0), Index::All, Index::Int(0)]).is_err());
        assert_eq!(
            g(&x, &[Index::All, Index::Int(0)]),
            Item::list(vec![1i64.into(), Item::Null, Item::Null])
        );
        let u = arr(Item::list(vec![
            1.0.into(),
            vec![2.0, 3.0].into(),
            Item::Null,
        ]));
        assert_eq!(g(&u, &[Index::Int(1), Index::Int(-1)]), 3.0.into());
        assert_eq!(g(&u, &[Index::Int(0)]), 1.0.into());
        let e = get(&u, &[Index::Int(0), Index::Int(0)]).unwrap_err();
        assert!(e.cause().contains("row 0"), "{e}");
        let e = get(&u, &[Index::All, Index::Int(0)]).unwrap_err();
        assert!(e.cause().contains("row 0"), "{e}");
        assert_eq!(
            g(&u, &[Index::Ints(vec![1, 2]), Index::Int(0)]),
            Item::list(vec![2.0.into(), Item::Null])
        );
        let deep = arr(Item::list(vec![Item::list(vec![
            1.0.into(),
            vec![2.0].into(),
        ])]));
        assert_eq!(
            g(&deep, &[Index::All, Index::Int(1)]),
            Item::list(vec![vec![2.0].into()])
        );
    }
}
