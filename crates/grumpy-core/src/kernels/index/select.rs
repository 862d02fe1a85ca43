//! Shared helpers for indexing: resolving positions against a length, Python slice arithmetic,
//! gathers that may produce nulls, and failures that name the row they happened in.
//!
//! A failure deep inside a key (`x[:, 1, 5]`) is first detected at some inner level, where only
//! a local row number is known. [`Fail`] carries a *row path* that every level rewrites into
//! its parent's coordinates on the way out, so the final message names the row the user wrote:
//! `index 5 is out of range for row (2, 1) (length 2)` means `x[2][1]` has two elements.

use super::Index;
use crate::buffer::{Bitmap, Buf, Values};
use crate::error::{Code, Error};
use crate::layout::{Layout, Leaf, List, Union};

/// Why an index failed (the row it failed in is the [`Fail`]'s path).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Why {
    /// Position `i` is outside a sequence of length `n`.
    Range { i: i64, n: usize },
    /// The row is a scalar (a union's scalar row) and cannot be indexed further.
    Scalar,
    /// An index (boolean mask or nested index row) with `m` entries for `n` elements.
    Len { m: usize, n: usize },
}

/// An indexing failure: either located by a row path (outermost coordinate first; empty = the
/// outer axis of the array being indexed) or a plain error that needs no location.
#[derive(Clone, Debug)]
pub(super) enum Fail {
    /// Failed at the row `path`.
    At(Why, Vec<usize>),
    /// Any other error (bad step, unsupported combination, ...).
    Plain(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Plain(e)
    }
}

/// Result type of the internal indexing functions.
pub(super) type R<T> = std::result::Result<T, Fail>;

/// A failure at row path `path`.
pub(super) fn at(why: Why, path: Vec<usize>) -> Fail {
    Fail::At(why, path)
}

fn label(path: &[usize]) -> String {
    match path {
        [r] => format!("row {r}"),
        _ => {
            let parts: Vec<String> = path.iter().map(ToString::to_string).collect();
            format!("row ({})", parts.join(", "))
        }
    }
}

impl Fail {
    /// Prepend the parent row `r` (the failing layout was row `r` of its parent).
    pub(super) fn prefix(self, r: usize) -> Fail {
        match self {
            Fail::At(w, mut p) => {
                p.insert(0, r);
                Fail::At(w, p)
            }
            plain => plain,
        }
    }

    /// Replace the first path entry `c` by `f(c)` (e.g. a flattened child row by its
    /// `(parent row, position)` pair); an empty path is left alone.
    pub(super) fn map_head(self, f: impl FnOnce(usize) -> Vec<usize>) -> Fail {
        match self {
            Fail::At(w, p) if !p.is_empty() => {
                let mut q = f(p[0]);
                q.extend_from_slice(&p[1..]);
                Fail::At(w, q)
            }
            other => other,
        }
    }

    /// The user-facing error.
    pub(super) fn into_error(self) -> Error {
        let fix_range =
            "use an index within every row's length, or select rows that are long enough first";
        match self {
            Fail::Plain(e) => e,
            Fail::At(Why::Range { i, n }, p) if p.is_empty() => Error::new(
                Code::OutOfBounds,
                format!("index {i} is out of range"),
                format!(
                    "the array has {n} rows (valid: {} to {})",
                    -(n as i64),
                    n as i64 - 1
                ),
                fix_range,
            ),
            Fail::At(Why::Range { i, n }, p) => {
                let row = label(&p);
                let cause = if n == 0 {
                    format!("{row} is empty (length 0)")
                } else {
                    format!(
                        "{row} has length {n} (valid: {} to {})",
                        -(n as i64),
                        n as i64 - 1
                    )
                };
                Error::new(
                    Code::OutOfBounds,
                    format!("index {i} is out of range for {row} (length {n})"),
                    cause,
                    fix_range,
                )
            }
            Fail::At(Why::Scalar, p) => {
                let cause = if p.is_empty() {
                    "the array is flat: its rows are scalars".to_owned()
                } else {
                    format!("{} is a scalar, not a list", label(&p))
                };
                Error::new(
                    Code::OutOfBounds,
                    "too many indices for this array",
                    cause,
                    "use at most x.ndim indices; in a union array, index only rows that are lists",
                )
            }
            Fail::At(Why::Len { m, n }, p) => {
                let whose = if p.is_empty() {
                    "the array has".to_owned()
                } else {
                    format!("{} has", label(&p))
                };
                Error::new(
                    Code::Shape,
                    "boolean mask (or nested index) has the wrong length",
                    format!("the index has {m} entries but {whose} {n}"),
                    "pass one True/False per element (e.g. a mask computed from the array itself)",
                )
            }
        }
    }
}

/// Resolve `i` (negative counts from the end) against length `n`.
#[inline]
pub(super) fn resolve(i: i64, n: usize) -> Result<usize, Why> {
    let j = if i < 0 { i.saturating_add(n as i64) } else { i };
    if j < 0 || j >= n as i64 {
        return Err(Why::Range { i, n });
    }
    Ok(j as usize)
}

/// [`resolve`] with the failure located at row path `path`.
#[inline]
pub(super) fn resolve_at(i: i64, n: usize, path: impl FnOnce() -> Vec<usize>) -> R<usize> {
    resolve(i, n).map_err(|w| at(w, path()))
}

/// Python's `slice.indices(n)`: `(start, step, count)` of the selected positions.
pub(super) fn slice_range(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    n: usize,
) -> crate::error::Result<(i64, i64, usize)> {
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

/// Positions (0-based, within a length-`n` sequence) selected by a non-jagged index; failures
/// have an empty path (the caller prefixes its row).
pub(super) fn positions(idx: &Index, n: usize) -> R<Vec<usize>> {
    let here = Vec::new;
    Ok(match idx {
        Index::All => (0..n).collect(),
        Index::Int(i) => vec![resolve_at(*i, n, here)?],
        Index::Slice { start, stop, step } => {
            let (a, s, c) = slice_range(*start, *stop, *step, n)?;
            (0..c as i64).map(|k| (a + k * s) as usize).collect()
        }
        Index::Ints(v) => v
            .iter()
            .map(|&i| resolve_at(i, n, here))
            .collect::<R<_>>()?,
        Index::Mask(m) => {
            if m.len() != n {
                return Err(at(Why::Len { m: m.len(), n }, here()));
            }
            m.iter()
                .enumerate()
                .filter_map(|(i, &b)| b.then_some(i))
                .collect()
        }
        Index::Jagged(_) => return Err(Fail::Plain(super::get::jagged_position())),
    })
}

/// The row of `offsets` (absolute, n+1 entries) that holds child position `c` (relative to
/// `offsets[0]`), and `c`'s position inside it.
pub(super) fn parent_of(offsets: &[i64], c: usize) -> Vec<usize> {
    let abs = offsets[0] + c as i64;
    let r = offsets.partition_point(|&o| o <= abs).saturating_sub(1);
    vec![r, (abs - offsets[r]) as usize]
}

/// A union's rows as a list (copying), when every row is a list or null; a scalar row fails.
pub(super) fn union_rows_as_list(u: &Union) -> R<List> {
    let Layout::List(lst) = &*u.list else {
        return Err(Fail::Plain(Error::new(
            Code::Unsupported,
            "malformed union",
            "the list content of a union is not a list",
            "rebuild the array with gr.array",
        )));
    };
    let mut offsets = Vec::with_capacity(u.len() + 1);
    let mut valid = Vec::with_capacity(u.len());
    let mut gather = Vec::new();
    offsets.push(0i64);
    for i in 0..u.len() {
        let j = u.index[i] as usize;
        if u.tags[i] == 0 {
            if !u.scalar.is_null(j) {
                return Err(at(Why::Scalar, vec![i]));
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
                scalar: std::sync::Arc::new(scalar),
                list: u.list.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py_slice(a: Option<i64>, b: Option<i64>, s: Option<i64>, n: usize) -> Vec<usize> {
        positions(&Index::slice(a, b, s), n).unwrap()
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
        assert_eq!(resolve(-1, 3).unwrap(), 2);
        assert_eq!(resolve(i64::MIN, 3), Err(Why::Range { i: i64::MIN, n: 3 }));
        let e = resolve_at(3, 3, || vec![7]).unwrap_err().into_error();
        assert_eq!(e.code(), Code::OutOfBounds);
        assert_eq!(e.summary(), "index 3 is out of range for row 7 (length 3)");
        let e = resolve_at(0, 0, || vec![2, 1]).unwrap_err().into_error();
        assert!(e.summary().contains("row (2, 1)"), "{e}");
        assert!(e.cause().contains("empty"), "{e}");
        assert!(resolve(-4, 3).is_err());
        let e = positions(&Index::Mask(vec![true]), 2)
            .unwrap_err()
            .into_error();
        assert_eq!(e.code(), Code::Shape);
    }

    #[test]
    fn paths_rewrite_to_parent_coordinates() {
        // offsets [5, 7, 7, 10]: child 0..2 are row 0, 2..5 are row 2.
        assert_eq!(parent_of(&[5, 7, 7, 10], 0), vec![0, 0]);
        assert_eq!(parent_of(&[5, 7, 7, 10], 2), vec![2, 0]);
        assert_eq!(parent_of(&[5, 7, 7, 10], 4), vec![2, 2]);
        let f = at(Why::Scalar, vec![3, 1])
            .map_head(|c| vec![c + 10, 0])
            .prefix(9);
        let Fail::At(_, p) = f else { panic!() };
        assert_eq!(p, vec![9, 13, 0, 1]);
    }
}
