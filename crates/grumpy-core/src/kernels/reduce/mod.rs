//! Reductions: `sum`, `mean`, `min`, `max`, `ptp`, `prod`, `count`, `any`, `all` over all
//! values or along one axis, with Awkward's left-aligned semantics on ragged axes.
//!
//! ```text
//!   [[1, 2, 3],          dim=0 (left-aligned)  [1+4, 2+5, 3]  = [5, 7, 3]
//!    [4, 5]]             dim=1 / dim=-1        [1+2+3, 4+5]   = [6, 9]
//! ```
//!
//! - `dim = None` folds every non-null leaf into a [`Reduced::Scalar`].
//! - `dim = k` (negative counts from the innermost axis) removes axis `k`: axes before it keep
//!   their structure (and their null rows), the axes after it are merged left-aligned (a merged
//!   list is as long as the longest of its members).
//! - Null values and null lists contribute nothing. Empty or all-null groups give `sum` 0,
//!   `prod` 1, `count` 0, `any` false, `all` true and a null `mean`/`min`/`max`/`ptp`.
//! - Unions: a scalar row counts as a length-1 list.
//! - Result dtypes: see [`result_dtype`]. Strings support `count` only.
//!
//! Numeric choices: integer `sum`/`prod` wrap on overflow (NumPy); float `sum`/`prod`/`mean`
//! accumulate in `f64`, also for `float32` input, and cast the result back (slightly more
//! accurate than NumPy's pairwise float32 sums, so the last bits may differ); `min`/`max`/`ptp`
//! propagate NaN (NumPy; Awkward skips NaN); `ptp` of bools is a dtype error (NumPy refuses
//! boolean subtraction); `any`/`all` treat NaN as true.
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::kernels::reduce::{reduce, ReduceOp, Reduced};
//! use grumpy_core::{layout::Item, Scalar};
//! let a = Array::from_item(&vec![vec![1i64, 2, 3], vec![4, 5]].into(), None).unwrap();
//! let Reduced::Array(s0) = reduce(&a, ReduceOp::Sum, Some(0)).unwrap() else { panic!() };
//! assert_eq!(s0.to_item(), vec![5i64, 7, 3].into());
//! let Reduced::Array(s1) = reduce(&a, ReduceOp::Sum, Some(-1)).unwrap() else { panic!() };
//! assert_eq!(s1.to_item(), vec![6i64, 9].into());
//! assert_eq!(reduce(&a, ReduceOp::Mean, None).unwrap(), Reduced::Scalar(Scalar::Float(3.0)));
//! ```

pub mod accum;
mod axis;
pub mod map;
#[cfg(test)]
mod tests;

use crate::array::Array;
use crate::buffer::{normalize, Bitmap, Buf, Native, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::{cast_layout, cast_values};
use crate::layout::{Layout, Leaf, List};
use crate::with_values;
use accum::{Acc, All, Any, Count, Mean, MinMax, ProdF, Ptp, Reducible, SumF};
use axis::{Chain, Src};
use map::{FnMap, Identity, Mapper};

/// A reduction operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceOp {
    /// Sum (empty → 0).
    Sum,
    /// Arithmetic mean of the non-null values (empty → null).
    Mean,
    /// Minimum (empty → null).
    Min,
    /// Maximum (empty → null).
    Max,
    /// Peak to peak, `max − min` (empty → null).
    Ptp,
    /// Product (empty → 1).
    Prod,
    /// Number of non-null values.
    Count,
    /// Some value is non-zero (empty → false).
    Any,
    /// Every value is non-zero (empty → true).
    All,
}

impl ReduceOp {
    /// Every operation, in a stable order.
    pub const ALL: [ReduceOp; 9] = [
        ReduceOp::Sum,
        ReduceOp::Mean,
        ReduceOp::Min,
        ReduceOp::Max,
        ReduceOp::Ptp,
        ReduceOp::Prod,
        ReduceOp::Count,
        ReduceOp::Any,
        ReduceOp::All,
    ];

    /// The Python method name (`"sum"`, `"mean"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::Ptp => "ptp",
            ReduceOp::Prod => "prod",
            ReduceOp::Count => "count",
            ReduceOp::Any => "any",
            ReduceOp::All => "all",
        }
    }
}

/// The result of a reduction: a scalar (`dim = None`, or a 1-d input) or an array.
#[derive(Clone, Debug, PartialEq)]
pub enum Reduced {
    /// A single value ([`Scalar::Null`] for an empty `mean`/`min`/`max`/`ptp`).
    Scalar(Scalar),
    /// An array with the reduced axis removed.
    Array(Array),
}

/// The dtype a reduction produces from `input`.
///
/// `sum`/`prod`: bool and signed ints → int64, unsigned → uint64, floats keep theirs;
/// `mean`: float32 → float32, else float64; `min`/`max`/`ptp` keep the dtype (no `ptp` of
/// bool); `count` → int64; `any`/`all` → bool. Strings allow `count` only.
///
/// ```
/// use grumpy_core::kernels::reduce::{result_dtype, ReduceOp};
/// use grumpy_core::DType;
/// assert_eq!(result_dtype(ReduceOp::Sum, DType::UInt8).unwrap(), DType::UInt64);
/// assert_eq!(result_dtype(ReduceOp::Mean, DType::Int32).unwrap(), DType::Float64);
/// assert!(result_dtype(ReduceOp::Sum, DType::String).is_err());
/// ```
pub fn result_dtype(op: ReduceOp, input: DType) -> Result<DType> {
    use DType::*;
    if input == String && op != ReduceOp::Count {
        return Err(Error::new(
            Code::DType,
            format!("cannot take the {} of strings", op.name()),
            "string arrays support count() only",
            "convert with .astype(...) to a number type first, or use count()",
        ));
    }
    Ok(match op {
        ReduceOp::Sum | ReduceOp::Prod => match input {
            x if x.is_float() => x,
            x if x.is_unsigned() => UInt64,
            _ => Int64,
        },
        ReduceOp::Mean => match input {
            Float32 => Float32,
            _ => Float64,
        },
        ReduceOp::Ptp if input == Bool => {
            return Err(Error::new(
                Code::DType,
                "cannot take the ptp of booleans",
                "ptp subtracts the minimum from the maximum, which booleans do not support",
                "convert with .astype(gr.int64) first",
            ))
        }
        ReduceOp::Min | ReduceOp::Max | ReduceOp::Ptp => input,
        ReduceOp::Count => Int64,
        ReduceOp::Any | ReduceOp::All => Bool,
    })
}

/// Resolve `dim` (negative counts from the innermost axis) against `ndim`.
///
/// ```
/// use grumpy_core::kernels::reduce::resolve_dim;
/// assert_eq!(resolve_dim(-1, 3).unwrap(), 2);
/// assert!(resolve_dim(3, 3).is_err());
/// ```
pub fn resolve_dim(dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    let k = if dim < 0 { dim + n } else { dim };
    if k < 0 || k >= n {
        return Err(Error::new(
            Code::Argument,
            format!("dim {dim} is out of range for an array with {ndim} dimensions"),
            format!("valid dims are {} .. {}", -n, n - 1),
            "pass a dim within range, or dim=None to reduce everything",
        ));
    }
    Ok(k as usize)
}

/// Reduce `a` with `op` over every value (`dim = None`) or along axis `dim` (see the module
/// docs for the semantics).
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::reduce::{reduce, ReduceOp, Reduced};
/// use grumpy_core::layout::Item;
/// let a = Array::from_item(&Item::list(vec![vec![1.0, 3.0].into(), Item::list(vec![]), Item::Null]), None).unwrap();
/// let Reduced::Array(m) = reduce(&a, ReduceOp::Mean, Some(1)).unwrap() else { panic!() };
/// assert_eq!(m.to_item(), Item::list(vec![2.0.into(), Item::Null, Item::Null]));
/// ```
pub fn reduce(a: &Array, op: ReduceOp, dim: Option<isize>) -> Result<Reduced> {
    let out = result_dtype(op, a.dtype())?;
    let k = dim.map(|d| resolve_dim(d, a.ndim())).transpose()?;
    // A deferred elementwise result: fold its pending chain into this pass.
    if let Some(r) = crate::plan::lazy::reduce_pending(a, op, dim)? {
        return Ok(r);
    }
    let chain = Chain::new(&a.layout)?;
    let leaf = &chain.leaf;
    let valid = leaf.validity.as_ref();
    let r = with_values!(&leaf.values, b, T => {
        dispatch::<T, _>(op, &chain, k, &Src { vals: b.as_slice(), valid }, &Identity)
    }, _s => {
        // Strings: only `count` gets here, and it reads validity only.
        let zeros = vec![0u8; leaf.len()];
        run::<u8, Count<u8>, _>(&chain, k, &Src { vals: &zeros, valid }, &Identity)
    })?;
    debug_assert!(match &r {
        Reduced::Array(x) => x.dtype() == out,
        Reduced::Scalar(_) => true,
    });
    Ok(r)
}

/// Fused building block: reduce `f(x)` (computed in `f64` for every stored value `x`) instead
/// of the stored values, without materialising them. `mapped` is the dtype the mapped values
/// stand for (`Float32` or `Float64`): the result has `result_dtype(op, mapped)`. To reproduce
/// float32 arithmetic exactly, round inside `f` (`|x| f64::from((x as f32 * 2.0) as f32)`).
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::reduce::{reduce_mapped, ReduceOp, Reduced};
/// use grumpy_core::{DType, Scalar};
/// let a = Array::from_vec(vec![1i64, 2, 3]);
/// let r = reduce_mapped(&a, ReduceOp::Sum, None, DType::Float64, |x| x * 0.5).unwrap();
/// assert_eq!(r, Reduced::Scalar(Scalar::Float(3.0)));
/// ```
pub fn reduce_mapped<F: Fn(f64) -> f64 + Sync>(
    a: &Array,
    op: ReduceOp,
    dim: Option<isize>,
    mapped: DType,
    f: F,
) -> Result<Reduced> {
    if !mapped.is_float() {
        return Err(Error::new(
            Code::DType,
            format!("reduce_mapped needs a float mapped dtype, got {mapped}"),
            "mapped values are computed in f64",
            "pass DType::Float32 or DType::Float64",
        ));
    }
    let out = result_dtype(op, mapped)?;
    if a.dtype() == DType::String {
        result_dtype(op, DType::String)?;
    }
    let k = dim.map(|d| resolve_dim(d, a.ndim())).transpose()?;
    let chain = Chain::new(&a.layout)?;
    let leaf = &chain.leaf;
    let valid = leaf.validity.as_ref();
    let r = match &leaf.values {
        Values::F64(b) => dispatch_f64(
            op,
            &chain,
            k,
            &Src {
                vals: b.as_slice(),
                valid,
            },
            &FnMap(|x: f64| f(x)),
        ),
        Values::F32(b) => dispatch_f64(
            op,
            &chain,
            k,
            &Src {
                vals: b.as_slice(),
                valid,
            },
            &FnMap(|x: f32| f(f64::from(x))),
        ),
        Values::Str(_) => {
            let zeros = vec![0u8; leaf.len()];
            run::<u8, Count<u8>, _>(
                &chain,
                k,
                &Src {
                    vals: &zeros,
                    valid,
                },
                &Identity,
            )
        }
        other => {
            // Other sources are widened to f64 once (the mapped path compiles for floats only).
            let Values::F64(b) = cast_values(other, DType::Float64)? else {
                unreachable!("cast to float64 gives f64 values")
            };
            dispatch_f64(
                op,
                &chain,
                k,
                &Src {
                    vals: b.as_slice(),
                    valid,
                },
                &FnMap(|x: f64| f(x)),
            )
        }
    }?;
    Ok(match r {
        Reduced::Array(x) if x.dtype() != out => {
            Reduced::Array(Array::new(cast_layout(&x.layout, out)?))
        }
        other => other,
    })
}

/// Fused building block: reduce `m(x)` for every stored value `x` of type `T` (the leaf dtype)
/// without materialising the mapped values; the mapped values are `T` too and go through the
/// same accumulators as a plain [`reduce`], in the same order, so the result equals
/// `reduce(map(x))` bit for bit. A compiled plan passes its elementwise chain as `m`.
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::kernels::reduce::{reduce_with, map::FnMap, ReduceOp, Reduced};
/// let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
/// let Reduced::Array(r) = reduce_with(&a, ReduceOp::Sum, Some(1), &FnMap(|x: f64| x * 2.0 + 1.0)).unwrap() else { panic!() };
/// assert_eq!(r.to_item(), vec![8.0, 7.0].into());
/// ```
pub fn reduce_with<T: Reducible, M: Mapper<T, Out = T>>(
    a: &Array,
    op: ReduceOp,
    dim: Option<isize>,
    m: &M,
) -> Result<Reduced> {
    if a.dtype() != T::DTYPE {
        return Err(Error::new(
            Code::DType,
            format!(
                "reduce_with over {} values got a {} array",
                T::DTYPE,
                a.dtype()
            ),
            "the mapper's input type must be the leaf dtype",
            "cast the array first, or pick the mapper for its dtype",
        ));
    }
    result_dtype(op, T::DTYPE)?;
    let k = dim.map(|d| resolve_dim(d, a.ndim())).transpose()?;
    let chain = Chain::new(&a.layout)?;
    let leaf = &chain.leaf;
    let vals = leaf.values.as_slice::<T>().ok_or_else(|| {
        Error::new(
            Code::DType,
            "reduce_with: leaf values are not of the mapper's type",
            format!("the leaf holds {}", leaf.values.dtype()),
            "cast the array first",
        )
    })?;
    let src = Src {
        vals,
        valid: leaf.validity.as_ref(),
    };
    dispatch::<T, M>(op, &chain, k, &src, m)
}

fn dispatch<T: Reducible, F: Mapper<T, Out = T>>(
    op: ReduceOp,
    chain: &Chain,
    k: Option<usize>,
    src: &Src<'_, T>,
    f: &F,
) -> Result<Reduced> {
    match op {
        ReduceOp::Sum => run::<T, T::Sum, F>(chain, k, src, f),
        ReduceOp::Prod => run::<T, T::Prod, F>(chain, k, src, f),
        ReduceOp::Mean => run::<T, T::Mean, F>(chain, k, src, f),
        ReduceOp::Min => run::<T, MinMax<T, false>, F>(chain, k, src, f),
        ReduceOp::Max => run::<T, MinMax<T, true>, F>(chain, k, src, f),
        ReduceOp::Ptp => run::<T, Ptp<T>, F>(chain, k, src, f),
        ReduceOp::Count => run::<T, Count<T>, F>(chain, k, src, f),
        ReduceOp::Any => run::<T, Any<T>, F>(chain, k, src, f),
        ReduceOp::All => run::<T, All<T>, F>(chain, k, src, f),
    }
}

fn dispatch_f64<T: Native, F: Mapper<T, Out = f64>>(
    op: ReduceOp,
    chain: &Chain,
    k: Option<usize>,
    src: &Src<'_, T>,
    f: &F,
) -> Result<Reduced> {
    match op {
        ReduceOp::Sum => run::<T, SumF<f64>, F>(chain, k, src, f),
        ReduceOp::Prod => run::<T, ProdF<f64>, F>(chain, k, src, f),
        ReduceOp::Mean => run::<T, Mean<f64, f64>, F>(chain, k, src, f),
        ReduceOp::Min => run::<T, MinMax<f64, false>, F>(chain, k, src, f),
        ReduceOp::Max => run::<T, MinMax<f64, true>, F>(chain, k, src, f),
        ReduceOp::Ptp => run::<T, Ptp<f64>, F>(chain, k, src, f),
        ReduceOp::Count => run::<T, Count<f64>, F>(chain, k, src, f),
        ReduceOp::Any => run::<T, Any<f64>, F>(chain, k, src, f),
        ReduceOp::All => run::<T, All<f64>, F>(chain, k, src, f),
    }
}

/// Finished accumulators as a leaf; a result is null when its accumulator is, or when `rows`
/// marks its group null.
fn finish<A: Acc>(accs: &[A], rows: Option<&Bitmap>) -> Leaf {
    // One pass for the values (most results are valid); the validity only when some is not.
    let mut all = true;
    let vals: Vec<A::Out> = accs
        .iter()
        .map(|a| {
            let v = a.finish();
            all &= v.is_some();
            v.unwrap_or_default()
        })
        .collect();
    let valid = (!all || rows.is_some()).then(|| {
        let ok: Vec<bool> = accs
            .iter()
            .enumerate()
            .map(|(i, a)| a.finish().is_some() && rows.is_none_or(|r| r.get(i)))
            .collect();
        Bitmap::from_bools(&ok)
    });
    Leaf::new(A::Out::wrap(Buf::from_vec(vals)), normalize(valid))
}

fn run<T: Copy + Sync, A: Acc, F: Mapper<T, Out = A::In>>(
    chain: &Chain,
    k: Option<usize>,
    src: &Src<'_, T>,
    f: &F,
) -> Result<Reduced> {
    let n = chain.ndim();
    let Some(k) = k.filter(|_| n > 1) else {
        let acc: A = axis::fold_all(src, f);
        return Ok(Reduced::Scalar(
            acc.finish().map_or(Scalar::Null, Native::to_scalar),
        ));
    };
    let mut layout = if k == n - 1 {
        let rows = &chain.lists[n - 2];
        Layout::Leaf(axis::innermost::<T, A, F>(rows, src, f))
    } else {
        // Result offsets, one level per list level below the axis (top first), and the
        // accumulators of the bottom level.
        let wrap = |i: usize, starts: Vec<i64>, layout: Layout| {
            let validity = if i == 0 {
                chain.lists[k - 1].validity.clone()
            } else {
                None
            };
            Layout::List(List::new(Buf::from_vec(starts), validity, layout))
        };
        if k == n - 2 {
            let groups = k.checked_sub(1).map(|g| &chain.lists[g]);
            let (starts, accs) = axis::two_level::<T, A, F>(groups, &chain.lists[n - 2], src, f);
            let leaf = Layout::Leaf(finish(&accs, None));
            // k == 0: one group, the array is that group's merged row.
            if k == 0 {
                leaf
            } else {
                wrap(0, starts, leaf)
            }
        } else {
            let (levels, accs) = axis::general::<T, A, F>(chain, k, src, f);
            let mut layout = Layout::Leaf(finish(&accs, None));
            for (i, starts) in levels.into_iter().enumerate().rev() {
                if i == 0 && k == 0 {
                    break; // one group: the array is that group's merged row
                }
                layout = wrap(i, starts, layout);
            }
            layout
        }
    };
    for d in (0..k.saturating_sub(1)).rev() {
        let l = &chain.lists[d];
        layout = Layout::List(List::new(
            l.zero_based_offsets(),
            l.validity.clone(),
            layout,
        ));
    }
    Ok(Reduced::Array(Array::new(layout)))
}
