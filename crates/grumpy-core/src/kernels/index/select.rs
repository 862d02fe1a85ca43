//! Shared helpers for indexing: resolving positions against a length (with errors that name
//! the row), Python slice arithmetic, and gathers that may produce nulls.

use super::Index;
use crate::buffer::{Bitmap, Buf, Values};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List, Union};

/// Where a position is being resolved: the outer axis, or inside row `r`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Site {
    Outer,
    Row(usize),
}

fn out_of_range(i: i64, n: usize, site: Site) -> Error {
    let (summary, cause) = match site {
        Site::Outer => (
            format!("index {i} is out of range"),
            format!(
                "the array has {n} rows (valid: {} to {})",
                -(n as i64),
                n as i64 - 1
            ),
        ),
        Site::Row(r) => (
            format!("index {i} is out of range in row {r}"),
            format!("row {r} has length {n}"),
        ),
    };
    Error::new(
        Code::OutOfBounds,
        summary,
        cause,
        "use an index within every row's length, or select rows that are long enough first",
    )
}

/// Resolve `i` (negative counts from the end) against length `n`.
#[inline]
pub(super) fn resolve(i: i64, n: usize, site: Site) -> Result<usize> {
    let j = if i < 0 { i + n as i64 } else { i };
    if j < 0 || j >= n as i64 {
        return Err(out_of_range(i, n, site));
    }
    Ok(j as usize)
}

/// Python's `slice.indices(n)`: `(start, step, count)` of the selected positions.
pub(super) fn slice_range(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    n: usize,
) -> Result<(i64, i64, usize)> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::new(
            Code::Argument,
            "slice step cannot be zero",
            "got a slice with step 0",
            "use a non-zero step, e.g. x[::1] or x[::-1]",
        ));
    }
    let n = n as i64;
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: Option<i64>, default: i64| match v {
        None => default,
        Some(v) if v < 0 => v.saturating_add(n).max(lower),
        Some(v) => v.min(upper),
    };
    let a = clamp(start, if step > 0 { lower } else { upper });
    let b = clamp(stop, if step > 0 { upper } else { lower });
    let count = if step > 0 && b > a {
        (b - a - 1) / step + 1
    } else if step < 0 && a > b {
        (a - b - 1) / (-step) + 1
    } else {
        0
    };
    Ok((a, step, count as usize))
}

/// Positions (0-based, within a length-`n` sequence) selected by a non-`Int` index.
/// `All` and `Int` are handled by callers; here they select everything / one element.
pub(super) fn positions(idx: &Index, n: usize, site: Site) -> Result<Vec<usize>> {
    Ok(match idx {
        Index::All => (0..n).collect(),
        Index::Int(i) => vec![resolve(*i, n, site)?],
        Index::Slice { start, stop, step } => {
            let (a, s, c) = slice_range(*start, *stop, *step, n)?;
            (0..c as i64).map(|k| (a + k * s) as usize).collect()
        }
        Index::Ints(v) => v
            .iter()
            .map(|&i| resolve(i, n, site))
            .collect::<Result<_>>()?,
        Index::Mask(m) => {
            if m.len() != n {
                let where_ = match site {
                    Site::Outer => "the array has".to_owned(),
                    Site::Row(r) => format!("row {r} has"),
                };
                return Err(Error::new(
                    Code::Shape,
                    "boolean mask has the wrong length",
                    format!("the mask has {} entries but {where_} {n}", m.len()),
                    "pass one True/False per element (e.g. a mask computed from the array itself)",
                ));
            }
            m.iter()
                .enumerate()
                .filter_map(|(i, &b)| b.then_some(i))
                .collect()
        }
    })
}

/// Error for indexing a scalar further (too many indices, or a union's scalar row).
pub(super) fn too_deep(site: Site) -> Error {
    let cause = match site {
        Site::Outer => "the array is flat: its rows are scalars".to_owned(),
        Site::Row(r) => format!("row {r} is a scalar, not a list"),
    };
    Error::new(
        Code::OutOfBounds,
        "too many indices for this array",
        cause,
        "use at most x.ndim indices; in a union array, index only rows that are lists",
    )
}

/// A union's rows as a list (copying), when every row is a list or null; a scalar row → error.
pub(super) fn union_rows_as_list(u: &Union) -> Result<List> {
    let Layout::List(lst) = &*u.list else {
        return Err(Error::new(
            Code::Unsupported,
            "malformed union",
            "the list content of a union is not a list",
            "rebuild the array with gr.array",
        ));
    };
    let mut offsets = Vec::with_capacity(u.len() + 1);
    let mut valid = Vec::with_capacity(u.len());
    let mut gather = Vec::new();
    offsets.push(0i64);
    for i in 0..u.len() {
        let j = u.index[i] as usize;
        if u.tags[i] == 0 {
            if !u.scalar.is_null(j) {
                return Err(too_deep(Site::Row(i)));
            }
            valid.push(false);
        } else {
            valid.push(!lst.is_null(j));
            gather.extend(lst.row_range(j));
        }
        offsets.push(gather.len() as i64);
    }
    Ok(List::new(
        Buf::from_vec(offsets),
        crate::buffer::normalize(Some(Bitmap::from_bools(&valid))),
        lst.child.take(&gather),
    ))
}

/// Gather rows where `None` makes a null row (a zero-length null list, or a null value).
pub(super) fn take_opt(l: &Layout, picks: &[Option<usize>]) -> Layout {
    if picks.iter().all(Option::is_some) {
        let idx: Vec<usize> = picks.iter().map(|p| p.unwrap_or(0)).collect();
        return l.take(&idx);
    }
    let present: Vec<bool> = picks.iter().map(Option::is_some).collect();
    match l {
        Layout::Leaf(leaf) => {
            if leaf.is_empty() {
                let d = leaf.values.dtype();
                return Layout::Leaf(Leaf::new(
                    Values::zeros(d, picks.len()),
                    Some(Bitmap::from_bools(&present)),
                ));
            }
            let idx: Vec<usize> = picks.iter().map(|p| p.unwrap_or(0)).collect();
            let valid: Vec<bool> = picks
                .iter()
                .map(|p| p.is_some_and(|j| !leaf.is_null(j)))
                .collect();
            Layout::Leaf(Leaf::new(
                leaf.values.take(&idx),
                crate::buffer::normalize(Some(Bitmap::from_bools(&valid))),
            ))
        }
        Layout::List(lst) => {
            let mut offsets = Vec::with_capacity(picks.len() + 1);
            let mut gather = Vec::new();
            offsets.push(0i64);
            let valid: Vec<bool> = picks
                .iter()
                .map(|p| {
                    if let Some(j) = *p {
                        gather.extend(lst.row_range(j));
                    }
                    offsets.push(gather.len() as i64);
                    p.is_some_and(|j| !lst.is_null(j))
                })
                .collect();
            Layout::List(List::new(
                Buf::from_vec(offsets),
                crate::buffer::normalize(Some(Bitmap::from_bools(&valid))),
                lst.child.take(&gather),
            ))
        }
        Layout::Union(u) => {
            // Null rows point at one null appended to the scalar content.
            let ns = u.scalar.len();
            let mut spicks: Vec<Option<usize>> = (0..ns).map(Some).collect();
            spicks.push(None);
            let scalar = take_opt(&u.scalar, &spicks);
            let tags: Vec<i8> = picks.iter().map(|p| p.map_or(0, |j| u.tags[j])).collect();
            let index: Vec<i64> = picks
                .iter()
                .map(|p| p.map_or(ns as i64, |j| u.index[j]))
                .collect();
            Layout::Union(Union {
                tags: Buf::from_vec(tags),
                index: Buf::from_vec(index),
                scalar: Box::new(scalar),
                list: u.list.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py_slice(a: Option<i64>, b: Option<i64>, s: Option<i64>, n: usize) -> Vec<usize> {
        positions(&Index::slice(a, b, s), n, Site::Outer).unwrap()
    }

    #[test]
    fn slices_follow_python() {
        assert_eq!(py_slice(None, None, None, 4), vec![0, 1, 2, 3]);
        assert_eq!(py_slice(None, None, Some(-1), 4), vec![3, 2, 1, 0]);
        assert_eq!(py_slice(Some(-3), None, Some(2), 5), vec![2, 4]);
        assert_eq!(py_slice(Some(10), Some(-10), Some(-3), 5), vec![4, 1]);
        assert_eq!(py_slice(Some(1), Some(1), None, 5), Vec::<usize>::new());
        assert_eq!(py_slice(None, None, Some(-2), 0), Vec::<usize>::new());
        assert_eq!(
            py_slice(Some(i64::MIN), Some(i64::MAX), Some(i64::MAX), 3),
            vec![0]
        );
        assert!(slice_range(None, None, Some(0), 3).is_err());
    }

    #[test]
    fn resolve_negative_and_errors() {
        assert_eq!(resolve(-1, 3, Site::Outer).unwrap(), 2);
        let e = resolve(3, 3, Site::Row(7)).unwrap_err();
        assert_eq!(e.code(), Code::OutOfBounds);
        assert!(e.summary().contains("row 7"));
        assert!(resolve(-4, 3, Site::Outer).is_err());
        let e = positions(&Index::Mask(vec![true]), 2, Site::Outer).unwrap_err();
        assert_eq!(e.code(), Code::Shape);
    }
}
