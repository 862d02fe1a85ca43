//! Writing into one leaf for `x[key] = value`: NumPy 2 range checks for Python values, and
//! scalar fills / copies into [runs](super::runs) of leaf positions — in place when the buffer
//! is not shared, with no copy of the old values when every position is overwritten.

use super::runs::Masked;
use crate::array::Array;
use crate::buffer::{normalize, Bitmap, Buf, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::arith::with_int;
use crate::kernels::cast::cast_leaf;
use crate::kernels::fill::{fill_slice, fill_where, filled};
use crate::layout::{Builder, Leaf};
use crate::with_values;
use std::ops::Range;

fn int_range(d: DType) -> Option<(i128, i128)> {
    with_int!(d, T => Some((T::MIN as i128, T::MAX as i128)), None)
}

fn out_of_bounds(v: impl std::fmt::Display, d: DType, lo: i128, hi: i128) -> Error {
    Error::new(
        Code::Value,
        format!("Python integer {v} out of bounds for {d}"),
        format!("{d} holds {lo}..={hi} (NumPy 2 raises OverflowError here too)"),
        "assign a value in range, or cast the array to a wider type first (x = x.astype(gr.int64))",
    )
}

/// NumPy 2 rules for storing a Python scalar into an integer array: an int that does not fit
/// raises (`int8_array[0] = 300`), a float is truncated toward zero and then must fit, NaN and
/// infinity raise. Other dtypes accept every number (floats round, bools test non-zero).
///
/// ```
/// use grumpy_core::{dtype::{DType, Scalar}, kernels::index::check_scalar_fits};
/// assert!(check_scalar_fits(&Scalar::Int(300), DType::Int8).is_err());
/// assert!(check_scalar_fits(&Scalar::Float(3.7), DType::Int8).is_ok());
/// assert!(check_scalar_fits(&Scalar::Float(f64::NAN), DType::Int64).is_err());
/// assert!(check_scalar_fits(&Scalar::Int(-1), DType::Float32).is_ok());
/// ```
pub fn check_scalar_fits(s: &Scalar, d: DType) -> Result<()> {
    let Some((lo, hi)) = int_range(d) else {
        return Ok(());
    };
    let v: i128 = match *s {
        Scalar::Int(i) => i128::from(i),
        Scalar::UInt(u) => i128::from(u),
        Scalar::Float(f) if f.is_nan() => {
            return Err(Error::new(
                Code::Value,
                format!("cannot store NaN in a {d} array"),
                "integers have no NaN (NumPy raises ValueError here too)",
                "store a number, None for a null, or cast the array to float first",
            ))
        }
        Scalar::Float(f) if f.is_infinite() => {
            return Err(out_of_bounds(f, d, lo, hi));
        }
        // Saturating: anything beyond i128 is out of range for every integer dtype anyway.
        Scalar::Float(f) => f.trunc() as i128,
        _ => return Ok(()),
    };
    if v < lo || v > hi {
        return Err(out_of_bounds(v, d, lo, hi));
    }
    Ok(())
}

/// A value written from a Python list must hold ints that fit an integer target, as in NumPy
/// (`int8_array[:2] = [300, 1]` raises); arrays (NumPy or grumpy) are cast unsafely instead.
///
/// ```
/// use grumpy_core::{array::Array, dtype::DType, kernels::index::check_literal_fits};
/// assert!(check_literal_fits(&Array::from_vec(vec![300i64, 1]), DType::Int8).is_err());
/// assert!(check_literal_fits(&Array::from_vec(vec![-3i64]), DType::Int16).is_ok());
/// assert!(check_literal_fits(&Array::from_vec(vec![300.5]), DType::Int8).is_ok()); // floats cast
/// ```
pub fn check_literal_fits(v: &Array, d: DType) -> Result<()> {
    let Some((lo, hi)) = int_range(d) else {
        return Ok(());
    };
    for leaf in v.layout.leaves() {
        let bad = with_int!(leaf.values.dtype(), T => {
            let s = leaf.values.as_slice::<T>().unwrap_or(&[]);
            s.iter()
                .enumerate()
                .find(|&(i, &x)| !leaf.is_null(i) && ((x as i128) < lo || (x as i128) > hi))
                .map(|(_, &x)| x as i128)
        }, None);
        if let Some(x) = bad {
            return Err(out_of_bounds(x, d, lo, hi));
        }
    }
    Ok(())
}

/// `s` as one value of dtype `d` (NumPy setitem casting: floats truncate into ints, numeric
/// strings parse).
fn one_value(s: &Scalar, d: DType) -> Result<Values> {
    let mut b = Builder::new();
    b.push_scalar(s)?;
    let layout = b.finish(None)?;
    let leaf = layout
        .as_leaf()
        .cloned()
        .ok_or_else(|| internal("scalar did not build a leaf"))?;
    Ok(cast_leaf(&leaf, d)?.values)
}

fn internal(what: &str) -> Error {
    Error::new(
        Code::Unsupported,
        "internal error in assignment",
        what.to_owned(),
        "this is a bug: please report it with the code that triggered it",
    )
}

fn covers(runs: &[Range<usize>], n: usize) -> bool {
    n == 0 || (runs.len() == 1 && runs[0] == (0..n))
}

/// Mark the positions of `runs` valid (`true`) or null (`false`).
fn set_validity(leaf: &mut Leaf, runs: &[Range<usize>], valid: impl Fn(usize) -> bool) {
    let n = leaf.len();
    let mut bits = leaf
        .validity
        .as_ref()
        .map_or_else(|| vec![true; n], Bitmap::to_bools);
    let mut k = 0;
    for r in runs {
        for p in r.clone() {
            bits[p] = valid(k);
            k += 1;
        }
    }
    leaf.validity = normalize(Some(Bitmap::from_bools(&bits)));
}

/// Store `s` at every position of `runs` (already range-checked with [`check_scalar_fits`]);
/// `Scalar::Null` stores nulls. Numeric leaves only.
pub(super) fn fill(leaf: &mut Leaf, runs: &[Range<usize>], s: &Scalar) -> Result<()> {
    let n = leaf.len();
    if matches!(s, Scalar::Null) {
        set_validity(leaf, runs, |_| false);
        return Ok(());
    }
    let full = covers(runs, n);
    let one = one_value(s, leaf.values.dtype())?;
    with_values!(&mut leaf.values, b, T => {
        let v: T = one.as_slice::<T>().and_then(|x| x.first().copied())
            .ok_or_else(|| internal("fill value has the wrong dtype"))?;
        if full {
            match b.get_mut() {
                Some(dst) => fill_slice(dst, v),
                None => *b = Buf::from_vec(filled(n, v)),
            }
        } else {
            let dst = b.make_mut();
            for r in runs {
                fill_slice(&mut dst[r.clone()], v);
            }
        }
    }, _s => return Err(internal("fill on a string leaf")));
    if leaf.validity.is_some() {
        if full {
            leaf.validity = None;
        } else {
            set_validity(leaf, runs, |_| true);
        }
    }
    Ok(())
}

/// Store `s` at every selected position of `t` (`Scalar::Null` stores nulls). Numeric leaves
/// only.
pub(super) fn fill_masked(leaf: &mut Leaf, t: &Masked<'_>, s: &Scalar) -> Result<()> {
    let set_bits = |leaf: &mut Leaf, valid: bool| {
        let n = leaf.len();
        let mut bits = leaf
            .validity
            .as_ref()
            .map_or_else(|| vec![true; n], Bitmap::to_bools);
        for i in (0..t.len).filter(|&i| t.selected(i)) {
            bits[t.start + i] = valid;
        }
        leaf.validity = normalize(Some(Bitmap::from_bools(&bits)));
    };
    if matches!(s, Scalar::Null) {
        set_bits(leaf, false);
        return Ok(());
    }
    let one = one_value(s, leaf.values.dtype())?;
    with_values!(&mut leaf.values, b, T => {
        let v: T = one.as_slice::<T>().and_then(|x| x.first().copied())
            .ok_or_else(|| internal("fill value has the wrong dtype"))?;
        let dst = &mut b.make_mut()[t.start..t.start + t.len];
        match t.valid {
            None => fill_where(dst, &t.flags[t.fstart..t.fstart + t.len], v),
            Some(_) => {
                for (i, d) in dst.iter_mut().enumerate() {
                    if t.selected(i) {
                        *d = v;
                    }
                }
            }
        }
    }, _s => return Err(internal("fill on a string leaf")));
    if leaf.validity.is_some() {
        set_bits(leaf, true);
    }
    Ok(())
}

/// Store `src[order[k]]` (or `src[k]` without `order`) at the k-th position of `runs`; `src`
/// is cast to the leaf's dtype. Numeric leaves only.
pub(super) fn copy(
    leaf: &mut Leaf,
    runs: &[Range<usize>],
    src: &Leaf,
    order: Option<&[usize]>,
) -> Result<()> {
    let n = leaf.len();
    let src = cast_leaf(src, leaf.values.dtype())?;
    if order.is_none() && covers(runs, n) && src.len() == n {
        // `x[:] = y` with y shaped like x: share y's (cast) buffer, copy-on-write.
        *leaf = src;
        return Ok(());
    }
    with_values!(&mut leaf.values, b, T => {
        let s = src.values.as_slice::<T>().ok_or_else(|| internal("source has the wrong dtype"))?;
        let dst = b.make_mut();
        let mut k = 0;
        for r in runs {
            match order {
                None => dst[r.clone()].copy_from_slice(&s[k..k + r.len()]),
                Some(o) => {
                    for (p, &q) in r.clone().zip(&o[k..k + r.len()]) {
                        dst[p] = s[q];
                    }
                }
            }
            k += r.len();
        }
    }, _s => return Err(internal("copy into a string leaf")));
    if leaf.validity.is_some() || src.validity.is_some() {
        let q = |k: usize| order.map_or(k, |o| o[k]);
        set_validity(leaf, runs, |k| !src.is_null(q(k)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(v: Vec<f64>) -> Leaf {
        Leaf::valid(Values::from(v))
    }

    #[test]
    fn fills_in_place_when_unshared_and_without_copy_when_full() {
        let mut l = leaf(vec![1.0, 2.0, 3.0, 4.0]);
        let p = l.values.as_slice::<f64>().unwrap().as_ptr();
        fill(&mut l, &[1..2, 3..4], &Scalar::Int(9)).unwrap();
        assert_eq!(l.values.as_slice::<f64>().unwrap(), &[1.0, 9.0, 3.0, 9.0]);
        assert_eq!(l.values.as_slice::<f64>().unwrap().as_ptr(), p);
        let keep = l.clone();
        fill(&mut l, &[0..4], &Scalar::Float(0.5)).unwrap();
        assert_eq!(l.values.as_slice::<f64>().unwrap(), &[0.5; 4]);
        assert_eq!(
            keep.values.as_slice::<f64>().unwrap(),
            &[1.0, 9.0, 3.0, 9.0]
        );
        fill(&mut l, &[2..3], &Scalar::Null).unwrap();
        assert!(l.is_null(2) && !l.is_null(1));
        fill(&mut l, &[0..4], &Scalar::Int(1)).unwrap();
        assert!(l.validity.is_none());
    }

    #[test]
    fn copies_follow_order_and_nulls() {
        let mut l = leaf(vec![0.0; 4]);
        let src = Leaf::new(
            Values::from(vec![10i64, 20]),
            Some(Bitmap::from_bools(&[true, false])),
        );
        copy(&mut l, &[3..4, 0..2], &src, Some(&[0usize, 1, 0][..])).unwrap();
        assert_eq!(
            l.values.as_slice::<f64>().unwrap(),
            &[20.0, 10.0, 0.0, 10.0]
        );
        assert!(l.is_null(0) && !l.is_null(1) && !l.is_null(3));
        let whole = leaf(vec![1.0, 2.0, 3.0, 4.0]);
        copy(&mut l, &[0..4], &whole, None).unwrap();
        assert!(l.values == whole.values && l.validity.is_none());
    }

    #[test]
    fn numpy_range_rules() {
        assert!(check_scalar_fits(&Scalar::Int(127), DType::Int8).is_ok());
        assert!(check_scalar_fits(&Scalar::Int(-129), DType::Int8).is_err());
        assert!(check_scalar_fits(&Scalar::Int(-1), DType::UInt64).is_err());
        assert!(check_scalar_fits(&Scalar::UInt(u64::MAX), DType::Int64).is_err());
        assert!(check_scalar_fits(&Scalar::Float(-0.9), DType::UInt8).is_ok());
        assert!(check_scalar_fits(&Scalar::Float(1e10), DType::Int32).is_err());
        assert!(check_scalar_fits(&Scalar::Float(f64::INFINITY), DType::Int8).is_err());
        assert!(check_scalar_fits(&Scalar::Int(300), DType::Bool).is_ok());
        let e = check_scalar_fits(&Scalar::Int(300), DType::Int8).unwrap_err();
        assert!(e.summary().contains("300 out of bounds for int8"), "{e}");
        let v = Array::new(crate::layout::Layout::Leaf(Leaf::new(
            Values::from(vec![1i64, 1000]),
            Some(Bitmap::from_bools(&[true, false])),
        )));
        assert!(check_literal_fits(&v, DType::Int8).is_ok()); // the null slot is ignored
    }
}
