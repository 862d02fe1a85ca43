//! `x[key]`: row selection on the outer axis, then the rest of the key inside every row; and
//! nested (ragged) indices that select inside rows (Awkward's jagged masks and index arrays).

use super::select::{
    at, parent_of, positions, resolve_at, slice_range, take_opt, union_rows_as_list, Fail, Why, R,
};
use super::{Got, Index};
use crate::array::Array;
use crate::buffer::{normalize, Bitmap, Buf};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_values;
use crate::layout::{Layout, Leaf, List};
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

/// Which original row each selected row came from (to name rows in errors).
enum RowMap {
    /// Selected row `k` is original row `start + k * step`.
    Affine(i64, i64),
    /// Selected row `k` is original row `table[k]`.
    Table(Vec<usize>),
}

impl RowMap {
    fn orig(&self, k: usize) -> usize {
        match self {
            RowMap::Affine(a, s) => (a + k as i64 * s) as usize,
            RowMap::Table(t) => t.get(k).copied().unwrap_or(k),
        }
    }
}

/// Select outer rows with a non-`Int` index (step-1 slices and `All` are zero copy).
fn select_rows(l: &Layout, idx: &Index) -> R<(Layout, RowMap)> {
    match idx {
        Index::All => Ok((l.clone(), RowMap::Affine(0, 1))),
        Index::Slice { start, stop, step } => {
            let (a, s, c) = slice_range(*start, *stop, *step, l.len())?;
            if s == 1 || c <= 1 {
                let a = if c == 0 { 0 } else { a as usize };
                return Ok((l.slice(a, c), RowMap::Affine(a as i64, 1)));
            }
            let rows: Vec<usize> = (0..c as i64).map(|k| (a + k * s) as usize).collect();
            Ok((l.take(&rows), RowMap::Table(rows)))
        }
        _ => {
            let rows = positions(idx, l.len())?;
            Ok((l.take(&rows), RowMap::Table(rows)))
        }
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
        .map(|&i| resolve_at(i, n, Vec::new))
        .collect::<R<Vec<_>>>()
        .map_err(Fail::into_error)?;
    Ok(Array::new(a.layout.take(&idx)))
}

/// The rows of `l` as a list node (a union whose rows are all lists or null is converted).
fn as_list(l: &Layout) -> R<Cow<'_, List>> {
    match l {
        Layout::List(x) => Ok(Cow::Borrowed(x)),
        Layout::Union(u) => Ok(Cow::Owned(union_rows_as_list(u)?)),
        Layout::Leaf(leaf) => Err(at(
            Why::Scalar,
            if leaf.is_empty() { vec![] } else { vec![0] },
        )),
    }
}

/// Pick one element per row (`pos(k)` gives row k's index); null rows give null.
fn pick(lst: &List, pos: impl Fn(usize) -> i64) -> R<Layout> {
    let mut picks = Vec::with_capacity(lst.len());
    for r in 0..lst.len() {
        if lst.is_null(r) {
            picks.push(None);
            continue;
        }
        let range = lst.row_range(r);
        let k = resolve_at(pos(r), range.len(), || vec![r])?;
        picks.push(Some(range.start + k));
    }
    Ok(take_opt(&lst.child, &picks))
}

/// The position inside row `r` that a valid index `j` picked (for error paths).
fn picked_pos(lst: &List, r: usize, j: i64) -> usize {
    if j < 0 {
        (j + lst.row_len(r) as i64).max(0) as usize
    } else {
        j as usize
    }
}

/// Apply `idx` inside every row of `l` (the result has one row per row of `l`).
fn inner(l: &Layout, idx: &[Index]) -> R<Layout> {
    let Some((first, rest)) = idx.split_first() else {
        return Ok(l.clone());
    };
    if matches!(first, Index::Jagged(_)) {
        return Err(Fail::Plain(jagged_position()));
    }
    let lst = as_list(l)?;
    match first {
        Index::Int(j) => {
            let picked = pick(&lst, |_| *j)?;
            inner(&picked, rest).map_err(|f| f.map_head(|r| vec![r, picked_pos(&lst, r, *j)]))
        }
        Index::All => {
            let child = inner(&lst.child_view(), rest)
                .map_err(|f| f.map_head(|c| parent_of(&lst.offsets, c)))?;
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
                    let sel = positions(first, range.len()).map_err(|f| f.prefix(r))?;
                    gather.extend(sel.into_iter().map(|k| range.start + k));
                }
                offsets.push(gather.len() as i64);
            }
            let child = inner(&lst.child.take(&gather), rest).map_err(|f| {
                f.map_head(|c| {
                    let p = parent_of(&offsets, c);
                    vec![p[0], gather[c] - lst.row_range(p[0]).start]
                })
            })?;
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

/// The error for a nested (ragged) index combined with other indices.
pub(super) fn jagged_position() -> Error {
    Error::new(
        Code::Unsupported,
        "a nested (ragged) index must be the whole key",
        "a ragged mask or ragged index array selects inside rows and cannot be combined with \
         other indices (only trailing `:` / `...`)",
        "index in two steps: y = x[mask], then y[...]",
    )
}

fn bad_nested(cause: &str) -> Fail {
    Fail::Plain(Error::new(
        Code::Argument,
        "unsupported nested index",
        cause.to_owned(),
        "index with a ragged array of bools (e.g. x[x > 0]) or of ints shaped like x's rows",
    ))
}

/// `x[m]` where `m` is a nested bool or int array with one row per row of `x`: the structure
/// above `m`'s last level must match `x` row for row; at `m`'s last level each row selects
/// inside the matching row of `x` (bools: keep where true, one flag per element; ints:
/// positions, negatives from the end). Null flags count as false; a null row of `x` stays null.
fn jagged(x: &Layout, m: &Layout) -> R<Layout> {
    let Layout::List(ml) = m else {
        return Err(bad_nested("the index mixes scalars and lists (a union)"));
    };
    let xl = as_list(x)?;
    if xl.len() != ml.len() {
        return Err(at(
            Why::Len {
                m: ml.len(),
                n: xl.len(),
            },
            vec![],
        ));
    }
    match &*ml.child {
        Layout::Leaf(mleaf) => select_in_rows(&xl, ml, mleaf),
        Layout::List(_) => {
            let mut same = true;
            for r in 0..xl.len() {
                if xl.is_null(r) {
                    same &= xl.row_len(r) == ml.row_len(r);
                    continue;
                }
                if ml.is_null(r) {
                    return Err(bad_nested("the index has a null list where x has a row"));
                }
                if xl.row_len(r) != ml.row_len(r) {
                    let (m, n) = (ml.row_len(r), xl.row_len(r));
                    return Err(at(Why::Len { m, n }, vec![r]));
                }
            }
            let (xc, mc, offsets) = if same {
                (xl.child_view(), ml.child_view(), xl.zero_based_offsets())
            } else {
                let (mut gx, mut gm, mut off) = (Vec::new(), Vec::new(), vec![0i64]);
                for r in 0..xl.len() {
                    if !xl.is_null(r) {
                        gx.extend(xl.row_range(r));
                        gm.extend(ml.row_range(r));
                    }
                    off.push(gx.len() as i64);
                }
                (xl.child.take(&gx), ml.child.take(&gm), Buf::from_vec(off))
            };
            let sub = jagged(&xc, &mc).map_err(|f| f.map_head(|c| parent_of(&offsets, c)))?;
            Ok(Layout::List(List::new(offsets, xl.validity.clone(), sub)))
        }
        Layout::Union(_) => Err(bad_nested("the index mixes scalars and lists (a union)")),
    }
}

/// The last level of a nested index: per row, the selected elements of `xl`'s row.
fn select_in_rows(xl: &List, ml: &List, mleaf: &Leaf) -> R<Layout> {
    let d = mleaf.values.dtype();
    let ints: Option<Vec<i64>> = if d.is_integer() {
        let v = cast_values(&mleaf.values, DType::Int64)?;
        Some(v.as_slice::<i64>().unwrap_or(&[]).to_vec())
    } else {
        None
    };
    let bools = mleaf.values.as_slice::<bool>();
    if ints.is_none() && bools.is_none() {
        return Err(bad_nested("index arrays must hold ints or bools"));
    }
    let n = xl.len();
    let mut offsets = Vec::with_capacity(n + 1);
    let mut gather = Vec::new();
    let mut valid = Vec::with_capacity(n);
    offsets.push(0i64);
    for r in 0..n {
        let (xr, mr) = (xl.row_range(r), ml.row_range(r));
        let ok = !xl.is_null(r) && !ml.is_null(r);
        valid.push(ok);
        if ok {
            if let Some(b) = bools {
                if mr.len() != xr.len() {
                    let (m, n) = (mr.len(), xr.len());
                    return Err(at(Why::Len { m, n }, vec![r]));
                }
                let start = mr.start;
                gather.extend(
                    mr.filter(|&q| b[q] && !mleaf.is_null(q))
                        .map(|q| xr.start + (q - start)),
                );
            } else if let Some(iv) = &ints {
                for q in mr {
                    if mleaf.is_null(q) {
                        return Err(bad_nested("the index array contains nulls"));
                    }
                    gather.push(xr.start + resolve_at(iv[q], xr.len(), || vec![r])?);
                }
            }
        }
        offsets.push(gather.len() as i64);
    }
    let validity = if xl.validity.is_none() && ml.validity.is_none() {
        None
    } else {
        normalize(Some(Bitmap::from_bools(&valid)))
    };
    Ok(Layout::List(List::new(
        Buf::from_vec(offsets),
        validity,
        xl.child.take(&gather),
    )))
}

fn get_r(a: &Array, idx: &[Index]) -> R<Got> {
    let Some((first, rest)) = idx.split_first() else {
        return Ok(Got::Array(a.clone()));
    };
    if let Index::Jagged(m) = first {
        if rest.iter().any(|i| *i != Index::All) {
            return Err(Fail::Plain(jagged_position()));
        }
        return Ok(Got::Array(Array::new(jagged(&a.layout, &m.layout)?)));
    }
    if rest.iter().any(|i| matches!(i, Index::Jagged(_))) {
        return Err(Fail::Plain(jagged_position()));
    }
    if idx.len() > a.ndim() {
        return Err(Fail::Plain(Error::new(
            Code::OutOfBounds,
            "too many indices for this array",
            format!(
                "{} indices for an array with {} dimension(s)",
                idx.len(),
                a.ndim()
            ),
            "use at most x.ndim indices",
        )));
    }
    if let Index::Int(i) = first {
        let r = resolve_at(*i, a.len(), Vec::new)?;
        return match (row(&a.layout, r), rest.is_empty()) {
            (g, true) => Ok(g),
            (Got::Scalar(Scalar::Null), false) => Ok(Got::Scalar(Scalar::Null)),
            (Got::Scalar(_), false) => Err(at(
                Why::Scalar,
                if a.layout.kind() == "union" {
                    vec![r]
                } else {
                    vec![]
                },
            )),
            (Got::Array(sub), false) => get_r(&sub, rest).map_err(|f| f.prefix(r)),
        };
    }
    let (sel, map) = select_rows(&a.layout, first)?;
    let orig = |f: Fail| f.map_head(|k| vec![map.orig(k)]);
    let n_adv = idx.iter().filter(|x| x.is_advanced()).count();
    if let (true, Some(Index::Ints(cols))) = (first.is_advanced(), rest.first()) {
        if n_adv > 2 {
            return Err(Fail::Plain(unsupported_combo()));
        }
        let m = sel.len();
        if cols.len() != m && cols.len() != 1 {
            return Err(Fail::Plain(Error::new(
                Code::Broadcast,
                "index arrays do not broadcast together",
                format!("{m} rows selected but {} element indices given", cols.len()),
                "give one element index per selected row (or a single one)",
            )));
        }
        let col = |k: usize| if cols.len() == 1 { cols[0] } else { cols[k] };
        let lst = as_list(&sel).map_err(orig)?;
        let picked = pick(&lst, col).map_err(orig)?;
        let out = inner(&picked, &rest[1..])
            .map_err(|f| f.map_head(|k| vec![map.orig(k), picked_pos(&lst, k, col(k))]))?;
        return Ok(Got::Array(Array::new(out)));
    }
    if n_adv > 1 {
        return Err(Fail::Plain(unsupported_combo()));
    }
    Ok(Got::Array(Array::new(inner(&sel, rest).map_err(orig)?)))
}

/// `x[idx]` with NumPy/Awkward semantics (see the [module docs](super)).
///
/// An `Int` first gives the row itself (`x[i, rest] == x[i][rest]`); any other first index
/// selects rows and the rest applies inside each selected row. `Ints` followed by `Ints`
/// pairs them (`x[[0, 1], [2, 0]]` is `[x[0, 2], x[1, 0]]`, NumPy's coordinate indexing).
/// A null row indexed further gives `Null` (Awkward's option semantics). A
/// [`Index::Jagged`] index selects inside rows and keeps the structure.
///
/// Out-of-range errors name the row in the caller's coordinates: for
/// `x = [[1, 2, 3], [4, 5]]`, `x[1, 5]` fails with "index 5 is out of range for row 1 (length
/// 2)".
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::index::{get, Got, Index};
/// let x = Array::from_item(&vec![vec![1i64, 2, 3], vec![4, 5]].into(), None).unwrap();
/// let e = get(&x, &[Index::Int(1), Index::Int(5)]).unwrap_err();
/// assert_eq!(e.summary(), "index 5 is out of range for row 1 (length 2)");
/// let m = Array::from_item(&vec![vec![true, false, true], vec![false, true]].into(), None).unwrap();
/// let Got::Array(y) = get(&x, &[Index::Jagged(m)]).unwrap() else { unreachable!() };
/// assert_eq!(y.to_item(), vec![vec![1i64, 3], vec![5]].into());
/// ```
pub fn get(a: &Array, idx: &[Index]) -> Result<Got> {
    get_r(a, idx).map_err(Fail::into_error)
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

    #[test]
    fn errors_name_the_row_in_caller_coordinates() {
        let x = ints(vec![vec![1, 2, 3], vec![4, 5], vec![], vec![6]]);
        let summary = |idx: &[Index]| get(&x, idx).unwrap_err().summary().to_owned();
        assert_eq!(
            summary(&[Index::Int(1), Index::Int(5)]),
            "index 5 is out of range for row 1 (length 2)"
        );
        assert_eq!(
            summary(&[Index::Int(2), Index::Int(0)]),
            "index 0 is out of range for row 2 (length 0)"
        );
        assert!(summary(&[Index::All, Index::Int(1)]).contains("row 2"));
        assert!(summary(&[Index::slice(Some(1), None, Some(2)), Index::Int(1)]).contains("row 3"));
        assert!(summary(&[Index::Ints(vec![3, 0, 2]), Index::Int(0)]).contains("row 2"));
        assert!(summary(&[Index::Ints(vec![0, 3]), Index::Ints(vec![0, 4])]).contains("row 3"));
        let e = get(&x, &[Index::Int(9)]).unwrap_err();
        assert!(e.cause().contains("4 rows"), "{e}");
        let deep = arr(vec![vec![vec![1i64], vec![2, 3]], vec![vec![4, 5, 6]]].into());
        let summary = |idx: &[Index]| get(&deep, idx).unwrap_err().summary().to_owned();
        assert!(summary(&[Index::Int(0), Index::Int(1), Index::Int(2)]).contains("row (0, 1)"));
        assert!(summary(&[Index::All, Index::All, Index::Int(1)]).contains("row (0, 0)"));
        assert!(summary(&[Index::All, Index::Int(-1), Index::Int(2)]).contains("row (0, 1)"));
        assert!(summary(&[Index::All, Index::Ints(vec![-1]), Index::Int(2)]).contains("row (0, 1)"));
    }

    #[test]
    fn jagged_masks_and_indices() {
        let x = arr(Item::list(vec![
            vec![1i64, 2, 3].into(),
            Item::Null,
            Item::list(vec![]),
            vec![4i64, 5].into(),
        ]));
        let m = arr(Item::list(vec![
            Item::list(vec![true.into(), Item::Null, true.into()]),
            Item::Null,
            vec![false; 0].into(),
            vec![false, true].into(),
        ]));
        assert_eq!(
            g(&x, &[Index::Jagged(m.clone())]),
            Item::list(vec![
                vec![1i64, 3].into(),
                Item::Null,
                vec![0i64; 0].into(),
                vec![5i64].into()
            ])
        );
        assert_eq!(
            g(&x, &[Index::Jagged(m.clone()), Index::All]),
            g(&x, &[Index::Jagged(m.clone())])
        );
        let picks = arr(Item::list(vec![
            vec![-1i64, 0, 0].into(),
            Item::Null,
            vec![0i64; 0].into(),
            vec![1i64].into(),
        ]));
        assert_eq!(
            g(&x, &[Index::Jagged(picks)]),
            Item::list(vec![
                vec![3i64, 1, 1].into(),
                Item::Null,
                vec![0i64; 0].into(),
                vec![5i64].into()
            ])
        );
        let short = arr(vec![vec![true], vec![], vec![], vec![true, true]].into());
        let e = get(&x, &[Index::Jagged(short)]).unwrap_err();
        assert_eq!(e.code(), Code::Shape);
        assert!(e.cause().contains("row 0 has 3"), "{e}");
        let far = arr(vec![vec![0i64], vec![], vec![], vec![7]].into());
        let e = get(&x, &[Index::Jagged(far)]).unwrap_err();
        assert_eq!(e.summary(), "index 7 is out of range for row 3 (length 2)");
        assert_eq!(
            get(&x, &[Index::Jagged(m), Index::Int(0)])
                .unwrap_err()
                .code(),
            Code::Unsupported
        );
        // Three levels: a mask as deep as x filters the innermost lists.
        let d = arr(vec![vec![vec![1i64, 2], vec![3]], vec![vec![4, 5, 6]]].into());
        let dm = arr(vec![
            vec![vec![false, true], vec![true]],
            vec![vec![true, false, true]],
        ]
        .into());
        assert_eq!(
            g(&d, &[Index::Jagged(dm)]),
            vec![vec![vec![2i64], vec![3]], vec![vec![4, 6]]].into()
        );
        // A two-level mask on a three-level array selects whole sublists.
        let m2 = arr(vec![vec![false, true], vec![true]].into());
        assert_eq!(
            g(&d, &[Index::Jagged(m2)]),
            vec![vec![vec![3i64]], vec![vec![4, 5, 6]]].into()
        );
        let bad = arr(vec![vec![vec![true, true]], vec![vec![true, false, true]]].into());
        let e = get(&d, &[Index::Jagged(bad)]).unwrap_err();
        assert!(e.cause().contains("row 0 has 2"), "{e}");
        let bad = arr(vec![vec![vec![true], vec![true]], vec![vec![true, false, true]]].into());
        let e = get(&d, &[Index::Jagged(bad)]).unwrap_err();
        assert!(e.cause().contains("row (0, 0) has 2"), "{e}");
    }
}
