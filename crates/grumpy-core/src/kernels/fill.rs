//! `full_like`, `zeros_like`, `ones_like`: same layout (offsets, list nulls and union tags
//! shared, zero copy), every leaf value replaced — null leaf values too. Also the flat fill
//! loops used by assignment ([`fill_slice`], [`filled`]), parallel for large buffers.
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::dtype::{DType, Scalar};
//! use grumpy_core::kernels::fill::{full_like, ones_like};
//! let x = Array::from_item(&vec![vec![1.5, 2.5], vec![3.5]].into(), None).unwrap();
//! assert_eq!(ones_like(&x, Some(DType::Int32)).unwrap().to_item(), vec![vec![1i64, 1], vec![1]].into());
//! assert_eq!(full_like(&x, &Scalar::Int(7), None).unwrap().to_item(), vec![vec![7.0, 7.0], vec![7.0]].into());
//! ```

use crate::array::Array;
use crate::buffer::{Bitmap, Buf, StrValues, Values};
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::kernels::arith::PAR_THRESHOLD;
use crate::kernels::cast::cast_leaf;
use crate::layout::{Builder, Leaf};
use crate::with_dtype;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Elements per parallel task.
const CHUNK: usize = 1 << 16;

/// Set every element of `dst` to `v` (on the Rayon pool above [`PAR_THRESHOLD`] elements).
///
/// ```
/// let mut v = vec![1.0; 5];
/// grumpy_core::kernels::fill::fill_slice(&mut v[1..3], 0.5);
/// assert_eq!(v, vec![1.0, 0.5, 0.5, 1.0, 1.0]);
/// ```
pub fn fill_slice<T: Copy + Send + Sync>(dst: &mut [T], v: T) {
    if crate::pool::worth_splitting(dst.len(), PAR_THRESHOLD + 1) {
        dst.par_chunks_mut(CHUNK).for_each(|c| c.fill(v));
    } else {
        dst.fill(v);
    }
}

/// Set `dst[i] = v` wherever `mask[i]` (same lengths; parallel above [`PAR_THRESHOLD`]).
///
/// ```
/// let mut v = vec![1, 2, 3, 4];
/// grumpy_core::kernels::fill::fill_where(&mut v, &[true, false, false, true], 0);
/// assert_eq!(v, vec![0, 2, 3, 0]);
/// ```
pub fn fill_where<T: Copy + Send + Sync>(dst: &mut [T], mask: &[bool], v: T) {
    let body = |(d, m): (&mut [T], &[bool])| {
        for (x, &k) in d.iter_mut().zip(m) {
            if k {
                *x = v;
            }
        }
    };
    if crate::pool::worth_splitting(dst.len(), PAR_THRESHOLD + 1) {
        dst.par_chunks_mut(CHUNK)
            .zip(mask.par_chunks(CHUNK))
            .for_each(body);
    } else {
        body((dst, mask));
    }
}

/// `n` copies of `v`, written in parallel for large `n` (no zero-initialisation pass first).
///
/// ```
/// assert_eq!(grumpy_core::kernels::fill::filled(3, 7u8), vec![7, 7, 7]);
/// ```
pub fn filled<T: Copy + Send + Sync>(n: usize, v: T) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    let write = |c: &mut [MaybeUninit<T>]| {
        for s in c {
            s.write(v);
        }
    };
    if crate::pool::worth_splitting(n, PAR_THRESHOLD + 1) {
        spare.par_chunks_mut(CHUNK).for_each(write);
    } else {
        write(spare);
    }
    // SAFETY: every one of the first `n` slots was written just above.
    unsafe { out.set_len(n) };
    out
}

/// `n` copies of the (already cast) single value of `one`.
fn repeat(one: &Values, n: usize) -> Values {
    with_dtype!(one.dtype(), T => {
        let x = one.as_slice::<T>().map_or(T::default(), |s| s[0]);
        Values::from(filled(n, x))
    }, {
        let s = one.str_at(0).as_bytes();
        let bytes: Vec<u8> = s.iter().copied().cycle().take(s.len() * n).collect();
        let offsets: Vec<i64> = (0..=n as i64).map(|i| i * s.len() as i64).collect();
        Values::Str(StrValues { offsets: Buf::from_vec(offsets), bytes: Buf::from_vec(bytes) })
    })
}

/// An array shaped like `a` with every leaf value set to `value` (cast to `dtype`, default
/// `a.dtype()`, with NumPy's unsafe casting). `Scalar::Null` gives all-null leaves; null lists
/// stay null lists.
pub fn full_like(a: &Array, value: &Scalar, dtype: Option<DType>) -> Result<Array> {
    let d = dtype.unwrap_or_else(|| a.dtype());
    let one = match value {
        Scalar::Null => None,
        v => {
            let mut b = Builder::new();
            b.push_scalar(v)?;
            let l = b.finish(None)?;
            let leaf = l
                .as_leaf()
                .cloned()
                .unwrap_or_else(|| Leaf::valid(Values::zeros(d, 1)));
            Some(cast_leaf(&leaf, d)?.values)
        }
    };
    let layout = a.layout.map_leaves(&mut |leaf: &Leaf| {
        let n = leaf.len();
        Ok(match &one {
            Some(v) => Leaf::valid(repeat(v, n)),
            None => Leaf::new(
                Values::zeros(d, n),
                (n > 0).then(|| Bitmap::from_bools(&vec![false; n])),
            ),
        })
    })?;
    Ok(Array::new(layout))
}

/// Zeros (false, `""`) shaped like `a`.
pub fn zeros_like(a: &Array, dtype: Option<DType>) -> Result<Array> {
    full_like(a, &Scalar::Int(0), dtype)
}

/// Ones (true, `"1"`) shaped like `a`.
pub fn ones_like(a: &Array, dtype: Option<DType>) -> Result<Array> {
    full_like(a, &Scalar::Int(1), dtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Item, Layout};

    #[test]
    fn keeps_layout_and_fills_nulls() {
        let x = Array::from_item(
            &Item::list(vec![
                Item::list(vec![1i64.into(), Item::Null]),
                Item::Null,
                2i64.into(),
            ]),
            None,
        )
        .unwrap();
        let z = zeros_like(&x, None).unwrap();
        assert_eq!(
            z.to_item(),
            Item::list(vec![vec![0i64, 0].into(), Item::Null, 0i64.into()])
        );
        assert_eq!(z.dtype(), DType::Int64);
        let (Layout::Union(a), Layout::Union(b)) = (&x.layout, &z.layout) else {
            panic!("union expected")
        };
        assert!(a.tags.shares_storage(&b.tags));
        let s = full_like(&x, &Scalar::Str("ab".into()), Some(DType::String)).unwrap();
        assert_eq!(
            s.to_item(),
            Item::list(vec![vec!["ab", "ab"].into(), Item::Null, "ab".into()])
        );
        let n = full_like(&x, &Scalar::Null, None).unwrap();
        assert_eq!(
            n.to_item(),
            Item::list(vec![
                Item::list(vec![Item::Null, Item::Null]),
                Item::Null,
                Item::Null
            ])
        );
        let f = full_like(&x, &Scalar::Float(2.9), None).unwrap();
        assert_eq!(
            f.to_item(),
            Item::list(vec![vec![2i64, 2].into(), Item::Null, 2i64.into()])
        );
    }
}
