//! `to_padded`: a ragged array as a dense block plus a boolean mask.
//!
//! ```text
//!   [[1, 2, 3], [], [4, 5]]      values [[1, 2, 3],        mask [[T, T, T],
//!                                        [0, 0, 0],              [F, F, F],
//!                                        [4, 5, 0]]              [T, T, F]]
//!
//!   proteins → residues → xyz    values (n, longest protein, 3)     mask (n, longest protein)
//! ```
//!
//! The rule, axis by axis (axis 0 = rows):
//! - **Padded axes** are axes `1..=k`; each is padded to its longest row (or to `max_len`).
//!   `k` is the innermost axis that is ragged (rows of different lengths) or holds nulls, and at
//!   least 1 for list arrays (so a batch of sequences always gets an `(n, L)` mask, even when
//!   every row happens to have the same length).
//! - **Trailing axes** after `k` (e.g. `xyz`) have the same length in every row and no nulls;
//!   they stay plain dense axes and are not part of the mask.
//! - The mask covers axes `0..=k`: `true` where a real value is, `false` for padding and nulls.
//!   A null (leaf or list) becomes `pad` with mask `false`.
//! - Unions: a scalar row counts as a length-1 list.
//! - `max_len`: an int sets axis 1's width (longer rows are truncated); a tuple gives one entry
//!   per padded axis (`None` = longest) and may name more axes than `k` to pad regular axes too.
//! - `pad` is converted to the array's dtype exactly (a value the dtype cannot hold, such as
//!   `nan` for an integer array, is an error: cast first with `astype`).
//!
//! Large outputs are filled in parallel over rows (Rayon); every row writes its own block.
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::dtype::Scalar;
//! use grumpy_core::kernels::pad::{pad, MaxLen};
//! let x = Array::from_item(&vec![vec![1.0, 2.0, 3.0], vec![], vec![4.0, 5.0]].into(), None).unwrap();
//! let p = pad(&x.layout, &Scalar::Float(-1.0), &MaxLen::Longest).unwrap();
//! assert_eq!(p.shape, vec![3, 3]);
//! assert_eq!(p.values.as_slice::<f64>().unwrap(), &[1.0, 2.0, 3.0, -1.0, -1.0, -1.0, 4.0, 5.0, -1.0]);
//! assert_eq!(p.mask, vec![true, true, true, false, false, false, true, true, false]);
//! ```

use crate::buffer::{Bitmap, Native, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List};
use crate::{bail, with_values};
use rayon::prelude::*;

/// Output elements above which rows are filled in parallel.
const PAR_MIN: usize = 1 << 16;

/// How wide the padded axes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaxLen {
    /// Every padded axis is as wide as its longest row.
    Longest,
    /// Axis 1 has this width (rows are truncated or padded); deeper padded axes are longest.
    Axis1(usize),
    /// One entry per padded axis, outermost first (`None` = longest); the number of entries
    /// sets how many axes are padded (at least the array's ragged ones).
    PerAxis(Vec<Option<usize>>),
}

/// The result of [`pad`]: a dense C-order block and its mask.
#[derive(Clone, Debug, PartialEq)]
pub struct Padded {
    /// Flat values in C order, `shape.iter().product()` of them.
    pub values: Values,
    /// Flat mask in C order over the first `mask_ndim` axes of `shape`.
    pub mask: Vec<bool>,
    /// Shape of `values`: rows, padded axes, trailing regular axes.
    pub shape: Vec<usize>,
    /// Number of leading axes the mask covers (rows and padded axes).
    pub mask_ndim: usize,
}

impl Padded {
    /// Shape of the mask (`shape[..mask_ndim]`).
    pub fn mask_shape(&self) -> &[usize] {
        &self.shape[..self.mask_ndim]
    }
}

/// Pad `layout` to a dense block (see the module docs for the rule).
pub fn pad(layout: &Layout, pad: &Scalar, max_len: &MaxLen) -> Result<Padded> {
    if layout.dtype() == DType::String {
        bail!(
            Code::Unsupported,
            "to_padded needs numeric values",
            "the array holds strings",
            "use x.to_list(), or encode the strings as numbers first"
        );
    }
    let flat = if layout.has_union() {
        layout.unions_as_lists()?
    } else {
        layout.clone()
    };
    let plan = Plan::new(&flat, max_len)?;
    let values = with_values!(&plan.leaf.values, b, T => {
        let p = pad_value::<T>(pad)?;
        let (out, mask) = plan.fill::<T>(b.as_slice(), p);
        (T::wrap(crate::buffer::Buf::from_vec(out)), mask)
    }, _s => unreachable!("strings rejected above"));
    Ok(Padded {
        values: values.0,
        mask: values.1,
        shape: plan.shape(),
        mask_ndim: plan.k + 1,
    })
}

/// The `(shape, mask_ndim)` that [`pad`] would return, without filling anything (a walk over
/// the offsets only).
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::pad::{padded_shape, MaxLen};
/// let x = Array::from_item(&vec![vec![vec![1.0, 2.0, 3.0]], vec![]].into(), None).unwrap();
/// assert_eq!(padded_shape(&x.layout, &MaxLen::Longest).unwrap(), (vec![2, 1, 3], 2));
/// ```
pub fn padded_shape(layout: &Layout, max_len: &MaxLen) -> Result<(Vec<usize>, usize)> {
    let flat = if layout.has_union() {
        layout.unions_as_lists()?
    } else {
        layout.clone()
    };
    let plan = Plan::new(&flat, max_len)?;
    Ok((plan.shape(), plan.k + 1))
}

/// True when every axis has one length and nothing is null (no unions): the array is a plain
/// N-d block (`to_numpy` shares its memory).
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::pad::is_rectangular;
/// assert!(is_rectangular(&Array::from_item(&vec![vec![1.0, 2.0], vec![3.0, 4.0]].into(), None).unwrap().layout));
/// assert!(!is_rectangular(&Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap().layout));
/// ```
pub fn is_rectangular(layout: &Layout) -> bool {
    match layout {
        Layout::Leaf(l) => !has_nulls(l.validity.as_ref()),
        Layout::List(l) => {
            !has_nulls(l.validity.as_ref())
                && (l.is_empty() || l.regular_size().is_some())
                && is_rectangular(&l.child_view())
        }
        Layout::Union(_) => false,
    }
}

/// `pad` converted exactly to `T` (an error when `T` cannot hold it).
fn pad_value<T: Native>(pad: &Scalar) -> Result<T> {
    let d = T::DTYPE;
    let bad = |why: &str| -> Error {
        Error::new(
            Code::Argument,
            format!("pad={pad} does not fit the array's dtype {d}"),
            why.to_owned(),
            "pass a pad value the dtype can hold, or cast first: x.astype(gr.float64).to_padded(pad=...)",
        )
    };
    let as_int: Option<i128> = match pad {
        Scalar::Bool(b) => Some(i128::from(*b)),
        Scalar::Int(i) => Some(i128::from(*i)),
        Scalar::UInt(u) => Some(i128::from(*u)),
        Scalar::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => Some(*f as i128),
        Scalar::Float(_) => None,
        Scalar::Null | Scalar::Str(_) => return Err(bad("pad must be a number or a bool")),
    };
    match d {
        DType::Float32 | DType::Float64 => Ok(match pad {
            Scalar::Float(f) => T::from_f64(*f),
            _ => T::from_f64(as_int.unwrap_or(0) as f64),
        }),
        DType::Bool => match as_int {
            Some(v @ (0 | 1)) => Ok(T::from_i64(v as i64)),
            _ => Err(bad("a bool array pads with False/True (or 0/1)")),
        },
        _ => {
            let v = as_int.ok_or_else(|| {
                bad("an integer array cannot hold a fractional or non-finite pad")
            })?;
            let fits = if let Ok(i) = i64::try_from(v) {
                let t = T::from_i64(i);
                t.to_i64() == i && (i >= 0 || d.is_signed())
            } else {
                d == DType::UInt64 && u64::try_from(v).is_ok()
            };
            if !fits {
                return Err(bad("the value is out of the dtype's range"));
            }
            Ok(match u64::try_from(v) {
                Ok(u) if i64::try_from(v).is_err() => T::from_u64(u),
                _ => T::from_i64(v as i64),
            })
        }
    }
}

/// The list levels of a (union-free) layout as views covering exactly the referenced rows,
/// the widths of the padded axes and the trailing block size.
struct Plan {
    /// `lists[j]` holds the rows of axis `j` (row `r` spans children
    /// `offsets[r] - offsets[0] .. offsets[r + 1] - offsets[0]` of `lists[j + 1]` / the leaf).
    lists: Vec<List>,
    leaf: Leaf,
    /// Number of rows (axis 0).
    n: usize,
    /// Innermost padded axis (0 for a flat leaf).
    k: usize,
    /// `width[a]` for padded axes `a = 1..=k` (index 0 unused).
    width: Vec<usize>,
    /// Sizes of the trailing regular axes `k + 1 ..`.
    trailing: Vec<usize>,
    /// Leaf values per trailing block (product of `trailing`).
    ts: usize,
    /// `mstride[a]`: mask entries per element of axis `a` (product of `width[a + 1..=k]`).
    mstride: Vec<usize>,
}

fn has_nulls(v: Option<&Bitmap>) -> bool {
    v.is_some_and(|b| b.null_count() > 0)
}

/// Length shared by every non-null row (`Some(0)` when there is none), `None` when ragged.
fn regular_len(l: &List) -> Option<usize> {
    let o = l.offsets.as_slice();
    let mut size: Option<i64> = None;
    for r in 0..l.len() {
        if l.is_null(r) {
            continue;
        }
        let len = o[r + 1] - o[r];
        match size {
            None => size = Some(len),
            Some(s) if s != len => return None,
            _ => {}
        }
    }
    Some(size.unwrap_or(0) as usize)
}

fn too_large(what: &str) -> Error {
    Error::new(
        Code::Shape,
        "the padded array would be too large",
        format!("{what} overflows the address space"),
        "pass max_len= to truncate long rows, or use x.values / x.offsets() for the flat data",
    )
}

impl Plan {
    fn new(layout: &Layout, max_len: &MaxLen) -> Result<Plan> {
        let n = layout.len();
        let mut lists = Vec::new();
        let mut cur = layout.clone();
        let leaf = loop {
            cur = match cur {
                Layout::Leaf(l) => break l,
                Layout::List(l) => {
                    let child = l.child_view();
                    lists.push(l);
                    child
                }
                Layout::Union(_) => unreachable!("unions were converted to lists"),
            };
        };
        let nl = lists.len();
        // The innermost axis that must be padded: ragged lengths or nulls force it.
        let mut k = usize::from(nl > 0);
        let regular: Vec<Option<usize>> = lists.iter().map(regular_len).collect();
        for (j, l) in lists.iter().enumerate() {
            if has_nulls(l.validity.as_ref()) {
                k = k.max(j);
            }
            if regular[j].is_none() {
                k = k.max(j + 1);
            }
        }
        if has_nulls(leaf.validity.as_ref()) {
            k = k.max(nl);
        }
        let mut fixed: Vec<Option<usize>> = Vec::new();
        match max_len {
            MaxLen::Longest => {}
            MaxLen::Axis1(m) => {
                if nl == 0 {
                    bail!(
                        Code::Argument,
                        "max_len needs a list array",
                        "the array is flat (ndim 1): it has no axis 1 to truncate",
                        "drop max_len, or slice the array: x[:max_len]"
                    );
                }
                fixed.push(Some(*m));
            }
            MaxLen::PerAxis(v) => {
                if v.len() < k || v.len() > nl {
                    let fix = if k == nl {
                        format!("pass a tuple of {k} entries, or an int for axis 1")
                    } else {
                        format!("pass a tuple of {k} to {nl} entries (one per padded axis), or an int for axis 1")
                    };
                    bail!(
                        Code::Argument,
                        format!("max_len has {} entries", v.len()),
                        format!("the array has {k} ragged axes and {nl} list axes below the rows"),
                        fix
                    );
                }
                k = v.len();
                fixed.clone_from(v);
            }
        }
        let mut width = vec![0usize];
        for a in 1..=k {
            let longest = || {
                let l = &lists[a - 1];
                (0..l.len()).map(|r| l.row_len(r)).max().unwrap_or(0)
            };
            width.push(fixed.get(a - 1).copied().flatten().unwrap_or_else(longest));
        }
        let trailing: Vec<usize> = (k..nl).map(|j| regular[j].unwrap_or(0)).collect();
        let ts = trailing
            .iter()
            .try_fold(1usize, |acc, &s| acc.checked_mul(s))
            .ok_or_else(|| too_large("the trailing block"))?;
        let mut mstride = vec![1usize; k + 1];
        for a in (0..k).rev() {
            mstride[a] = mstride[a + 1]
                .checked_mul(width[a + 1])
                .ok_or_else(|| too_large("the mask"))?;
        }
        mstride[0]
            .checked_mul(n)
            .and_then(|m| m.checked_mul(ts))
            .ok_or_else(|| too_large("the value block"))?;
        Ok(Plan {
            lists,
            leaf,
            n,
            k,
            width,
            trailing,
            ts,
            mstride,
        })
    }

    fn shape(&self) -> Vec<usize> {
        let mut s = vec![self.n];
        s.extend_from_slice(&self.width[1..]);
        s.extend_from_slice(&self.trailing);
        s
    }

    /// Fill the output: one independent block per row, in parallel for large outputs.
    fn fill<T: Native>(&self, vals: &[T], pad: T) -> (Vec<T>, Vec<bool>) {
        let mb = self.mstride[0];
        let ob = mb * self.ts;
        let mut out = vec![pad; ob * self.n];
        let mut mask = vec![false; mb * self.n];
        if mb == 0 {
            return (out, mask);
        }
        let run = |i: usize, o: &mut [T], m: &mut [bool]| self.elem(vals, 0, i, o, m);
        if ob == 0 {
            // Empty trailing axes: only the mask has entries.
            let body = |(i, m): (usize, &mut [bool])| run(i, &mut [], m);
            if crate::pool::worth_splitting(mb * self.n, PAR_MIN) {
                mask.par_chunks_mut(mb).enumerate().for_each(body);
            } else {
                mask.chunks_mut(mb).enumerate().for_each(body);
            }
        } else if crate::pool::worth_splitting(ob * self.n, PAR_MIN) {
            out.par_chunks_mut(ob)
                .zip(mask.par_chunks_mut(mb))
                .enumerate()
                .with_min_len((PAR_MIN / 16 / ob).max(1))
                .for_each(|(i, (o, m))| run(i, o, m));
        } else {
            for (i, (o, m)) in out.chunks_mut(ob).zip(mask.chunks_mut(mb)).enumerate() {
                run(i, o, m);
            }
        }
        (out, mask)
    }

    /// Write element `r` of axis `a` into its block (`out`: `mstride[a] * ts` values, `mask`:
    /// `mstride[a]` entries), both pre-filled with padding.
    fn elem<T: Native>(&self, vals: &[T], a: usize, r: usize, out: &mut [T], mask: &mut [bool]) {
        let nl = self.lists.len();
        let ts = self.ts;
        if a == self.k {
            if a == nl {
                // A leaf value (ts == 1).
                if !self.leaf.is_null(r) {
                    out[0] = vals[r];
                    mask[0] = true;
                }
            } else {
                // A trailing regular block: contiguous leaf values.
                let l = &self.lists[a];
                if !l.is_null(r) {
                    let start = self.leaf_start(a, r);
                    out.copy_from_slice(&vals[start..start + ts]);
                    mask[0] = true;
                }
            }
            return;
        }
        let l = &self.lists[a];
        if l.is_null(r) {
            return;
        }
        let base = l.offsets[0];
        let s = (l.offsets[r] - base) as usize;
        let m = l.row_len(r).min(self.width[a + 1]);
        let ms = self.mstride[a + 1];
        let os = ms * ts;
        if a + 1 == self.k {
            // Children are the innermost padded elements: copy them in one run when dense.
            let dense = if a + 1 == nl {
                self.leaf.validity.is_none()
            } else {
                self.lists[a + 1].validity.is_none()
            };
            if dense {
                let start = if a + 1 == nl {
                    s
                } else {
                    self.leaf_start(a + 1, s)
                };
                out[..m * ts].copy_from_slice(&vals[start..start + m * ts]);
                mask[..m].fill(true);
                return;
            }
        }
        for c in 0..m {
            self.elem(
                vals,
                a + 1,
                s + c,
                &mut out[c * os..(c + 1) * os],
                &mut mask[c * ms..(c + 1) * ms],
            );
        }
    }

    /// Leaf index where element `r` of axis `a >= k` (a trailing block) starts.
    fn leaf_start(&self, a: usize, r: usize) -> usize {
        let l = &self.lists[a];
        let inner: usize = self.trailing[a - self.k + 1..].iter().product();
        (l.offsets[r] - l.offsets[0]) as usize * inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn padded(it: Item, pad_v: Scalar, m: MaxLen) -> Padded {
        pad(&Layout::from_item(&it, None).unwrap(), &pad_v, &m).unwrap()
    }

    #[test]
    fn xyz_stays_dense() {
        let it: Item = vec![
            vec![vec![1.0, 2.0, 3.0]],
            vec![vec![4.0, 5.0, 6.0], vec![7.0, 8.0, 9.0]],
        ]
        .into();
        let p = padded(it, Scalar::Float(0.0), MaxLen::Longest);
        assert_eq!(p.shape, vec![2, 2, 3]);
        assert_eq!(p.mask_shape(), &[2, 2]);
        assert_eq!(p.mask, vec![true, false, true, true]);
        let v = p.values.as_slice::<f64>().unwrap();
        assert_eq!(&v[3..6], &[0.0, 0.0, 0.0]);
        assert_eq!(&v[9..12], &[7.0, 8.0, 9.0]);
    }

    #[test]
    fn nulls_unions_and_truncation() {
        let it = Item::list(vec![
            Item::list(vec![1i64.into(), Item::Null]),
            Item::Null,
            Item::list(vec![3i64.into(), 4i64.into(), 5i64.into()]),
        ]);
        let p = padded(it, Scalar::Int(-1), MaxLen::Axis1(2));
        assert_eq!(p.shape, vec![3, 2]);
        assert_eq!(p.values.as_slice::<i64>().unwrap(), &[1, -1, -1, -1, 3, 4]);
        assert_eq!(p.mask, vec![true, false, false, false, true, true]);
        let u = Item::list(vec![1.0.into(), Item::list(vec![2.0.into(), 3.0.into()])]);
        let p = padded(u, Scalar::Float(9.0), MaxLen::Longest);
        assert_eq!(p.values.as_slice::<f64>().unwrap(), &[1.0, 9.0, 2.0, 3.0]);
    }

    #[test]
    fn pad_values_must_fit() {
        let x = Layout::from_item(&vec![vec![1i64]].into(), None).unwrap();
        let x8 = crate::kernels::cast::cast_layout(&x, DType::UInt8).unwrap();
        assert!(pad(&x8, &Scalar::Int(-1), &MaxLen::Longest).is_err());
        assert!(pad(&x, &Scalar::Float(0.5), &MaxLen::Longest).is_err());
        assert!(pad(&x, &Scalar::Float(f64::NAN), &MaxLen::Longest).is_err());
        assert!(pad(&x8, &Scalar::Float(255.0), &MaxLen::Longest).is_ok());
        let e = pad(&x, &Scalar::Int(0), &MaxLen::PerAxis(vec![None, None])).unwrap_err();
        assert_eq!(e.code(), Code::Argument);
    }
}
