//! Accumulators: the per-group state of each reduction, monomorphised per input type so the hot
//! loops carry no dynamic dispatch.
//!
//! Every accumulator starts at [`Acc::empty`] (the identity of the reduction), absorbs valid
//! values with [`Acc::push`], combines with another partial result with [`Acc::merge`] (used by
//! parallel folds) and ends with [`Acc::finish`], which returns `None` for a null result (an
//! empty `mean`/`min`/`max`/`ptp`).
//!
//! Numeric choices (documented in the module docs of [`super`]):
//! - integer `sum`/`prod` wrap on overflow in `i64`/`u64`, like NumPy;
//! - float `sum`/`prod`/`mean` accumulate in `f64` (also for `float32` input) and cast the result;
//! - `min`/`max`/`ptp` propagate NaN, like NumPy.
//!
//! ```
//! use grumpy_core::kernels::reduce::accum::{Acc, Mean, MinMax};
//! let mut m = Mean::<f64, f64>::empty();
//! for x in [1.0, 2.0, 6.0] { m.push(x); }
//! assert_eq!(m.finish(), Some(3.0));
//! assert_eq!(MinMax::<i32, true>::empty().finish(), None);
//! ```

use crate::buffer::Native;
use std::marker::PhantomData;

/// The state of one reduction group.
pub trait Acc: Copy + Send + Sync + 'static {
    /// Element type the accumulator absorbs.
    type In: Native;
    /// Element type of the result.
    type Out: Native;
    /// The identity state (an empty group).
    fn empty() -> Self;
    /// Absorb one valid value.
    fn push(&mut self, x: Self::In);
    /// Combine with the partial result of the values that follow this one's.
    fn merge(&mut self, other: &Self);
    /// The result; `None` means null.
    fn finish(&self) -> Option<Self::Out>;
    /// True for accumulators whose whole state is a running `f64` sum of the pushed values
    /// (`In::to_f64`, added in push order starting from `0.0`) and a count: float `sum` and
    /// `mean`. Hot loops may then keep plain `f64` sums, which vectorise, and rebuild the
    /// state with [`Acc::from_sum`] — the same state pushing would give, bit for bit.
    const F64_SUM: bool = false;
    /// The state after pushing `n` values whose running sum is `sum` (only called when
    /// [`Acc::F64_SUM`]).
    ///
    /// ```
    /// use grumpy_core::kernels::reduce::accum::{Acc, Mean};
    /// let mut m = Mean::<f64, f64>::empty();
    /// [0.5, 1.5, 4.0].iter().for_each(|&x| m.push(x));
    /// assert_eq!(Mean::<f64, f64>::from_sum(0.5 + 1.5 + 4.0, 3).finish(), m.finish());
    /// ```
    fn from_sum(sum: f64, n: u64) -> Self {
        let _ = (sum, n);
        unreachable!("from_sum is only called on F64_SUM accumulators")
    }
}

/// `sum` of bools and signed integers into a wrapping `i64`.
#[derive(Clone, Copy, Debug)]
pub struct SumI<T>(i64, PhantomData<T>);
/// `sum` of unsigned integers into a wrapping `u64`.
#[derive(Clone, Copy, Debug)]
pub struct SumU<T>(u64, PhantomData<T>);
/// `sum` of floats, accumulated in `f64`, result cast back to `T`.
#[derive(Clone, Copy, Debug)]
pub struct SumF<T>(f64, PhantomData<T>);
/// `prod` of bools and signed integers into a wrapping `i64`.
#[derive(Clone, Copy, Debug)]
pub struct ProdI<T>(i64, PhantomData<T>);
/// `prod` of unsigned integers into a wrapping `u64`.
#[derive(Clone, Copy, Debug)]
pub struct ProdU<T>(u64, PhantomData<T>);
/// `prod` of floats, accumulated in `f64`, result cast back to `T`.
#[derive(Clone, Copy, Debug)]
pub struct ProdF<T>(f64, PhantomData<T>);

macro_rules! fold_acc {
    ($name:ident, $state:ty, $out:ty, $zero:expr, $push:expr, $merge:expr, $fin:expr) => {
        impl<T: Native> Acc for $name<T> {
            type In = T;
            type Out = $out;
            #[inline(always)]
            fn empty() -> Self {
                $name($zero, PhantomData)
            }
            #[inline(always)]
            fn push(&mut self, x: T) {
                #[allow(clippy::redundant_closure_call)]
                let v: $state = ($push)(self.0, x);
                self.0 = v;
            }
            #[inline(always)]
            fn merge(&mut self, o: &Self) {
                #[allow(clippy::redundant_closure_call)]
                let v: $state = ($merge)(self.0, o.0);
                self.0 = v;
            }
            #[inline(always)]
            fn finish(&self) -> Option<$out> {
                #[allow(clippy::redundant_closure_call)]
                Some(($fin)(self.0))
            }
        }
    };
}

fold_acc!(
    SumI,
    i64,
    i64,
    0,
    |s: i64, x: T| s.wrapping_add(x.to_i64()),
    |a: i64, b| a.wrapping_add(b),
    |s| s
);
fold_acc!(
    SumU,
    u64,
    u64,
    0,
    |s: u64, x: T| s.wrapping_add(x.to_i64() as u64),
    |a: u64, b| a.wrapping_add(b),
    |s| s
);
impl<T: Native> Acc for SumF<T> {
    type In = T;
    type Out = T;
    const F64_SUM: bool = true;
    #[inline(always)]
    fn empty() -> Self {
        SumF(0.0, PhantomData)
    }
    #[inline(always)]
    fn push(&mut self, x: T) {
        self.0 += x.to_f64();
    }
    #[inline(always)]
    fn merge(&mut self, o: &Self) {
        self.0 += o.0;
    }
    #[inline(always)]
    fn finish(&self) -> Option<T> {
        Some(T::from_f64(self.0))
    }
    #[inline(always)]
    fn from_sum(sum: f64, _n: u64) -> Self {
        SumF(sum, PhantomData)
    }
}
fold_acc!(
    ProdI,
    i64,
    i64,
    1,
    |s: i64, x: T| s.wrapping_mul(x.to_i64()),
    |a: i64, b| a.wrapping_mul(b),
    |s| s
);
fold_acc!(
    ProdU,
    u64,
    u64,
    1,
    |s: u64, x: T| s.wrapping_mul(x.to_i64() as u64),
    |a: u64, b| a.wrapping_mul(b),
    |s| s
);
fold_acc!(
    ProdF,
    f64,
    T,
    1.0,
    |s: f64, x: T| s * x.to_f64(),
    |a: f64, b| a * b,
    T::from_f64
);

/// `count` of valid values (`int64`).
#[derive(Clone, Copy, Debug)]
pub struct Count<T>(i64, PhantomData<T>);
fold_acc!(
    Count,
    i64,
    i64,
    0,
    |s: i64, _x: T| s + 1,
    |a: i64, b| a + b,
    |s| s
);

/// `any`: true when some valid value is non-zero.
#[derive(Clone, Copy, Debug)]
pub struct Any<T>(bool, PhantomData<T>);
fold_acc!(
    Any,
    bool,
    bool,
    false,
    |s: bool, x: T| s | (x != T::default()),
    |a: bool, b| a | b,
    |s| s
);

/// `all`: true when every valid value is non-zero (true for an empty group).
#[derive(Clone, Copy, Debug)]
pub struct All<T>(bool, PhantomData<T>);
fold_acc!(
    All,
    bool,
    bool,
    true,
    |s: bool, x: T| s & (x != T::default()),
    |a: bool, b| a & b,
    |s| s
);

/// `mean`: `f64` sum and count; result type `O` (`f32` for `float32` input, else `f64`).
#[derive(Clone, Copy, Debug)]
pub struct Mean<T, O> {
    sum: f64,
    n: u64,
    _t: PhantomData<(T, O)>,
}

impl<T: Native, O: Native> Acc for Mean<T, O> {
    type In = T;
    type Out = O;
    #[inline(always)]
    fn empty() -> Self {
        Mean {
            sum: 0.0,
            n: 0,
            _t: PhantomData,
        }
    }
    #[inline(always)]
    fn push(&mut self, x: T) {
        self.sum += x.to_f64();
        self.n += 1;
    }
    #[inline(always)]
    fn merge(&mut self, o: &Self) {
        self.sum += o.sum;
        self.n += o.n;
    }
    #[inline(always)]
    fn finish(&self) -> Option<O> {
        (self.n > 0).then(|| O::from_f64(self.sum / self.n as f64))
    }
    const F64_SUM: bool = true;
    #[inline(always)]
    fn from_sum(sum: f64, n: u64) -> Self {
        Mean {
            sum,
            n,
            _t: PhantomData,
        }
    }
}

/// `min` (`MAX = false`) or `max` (`MAX = true`), keeping the dtype; NaN propagates.
#[derive(Clone, Copy, Debug)]
pub struct MinMax<T, const MAX: bool> {
    v: T,
    has: bool,
}

#[inline(always)]
#[allow(clippy::eq_op)]
fn better<T: Native, const MAX: bool>(x: T, cur: T) -> bool {
    // `x != x` is true only for NaN, which wins so that it propagates.
    (if MAX { x > cur } else { x < cur }) || x != x
}

impl<T: Native, const MAX: bool> Acc for MinMax<T, MAX> {
    type In = T;
    type Out = T;
    #[inline(always)]
    fn empty() -> Self {
        MinMax {
            v: T::default(),
            has: false,
        }
    }
    #[inline(always)]
    fn push(&mut self, x: T) {
        if !self.has || better::<T, MAX>(x, self.v) {
            self.v = x;
            self.has = true;
        }
    }
    #[inline(always)]
    fn merge(&mut self, o: &Self) {
        if o.has {
            self.push(o.v);
        }
    }
    #[inline(always)]
    fn finish(&self) -> Option<T> {
        self.has.then_some(self.v)
    }
}

/// `ptp` (max − min), keeping the dtype (integers wrap like NumPy); NaN propagates.
#[derive(Clone, Copy, Debug)]
pub struct Ptp<T> {
    lo: MinMax<T, false>,
    hi: MinMax<T, true>,
}

impl<T: Native> Acc for Ptp<T> {
    type In = T;
    type Out = T;
    #[inline(always)]
    fn empty() -> Self {
        Ptp {
            lo: MinMax::empty(),
            hi: MinMax::empty(),
        }
    }
    #[inline(always)]
    fn push(&mut self, x: T) {
        self.lo.push(x);
        self.hi.push(x);
    }
    #[inline(always)]
    fn merge(&mut self, o: &Self) {
        self.lo.merge(&o.lo);
        self.hi.merge(&o.hi);
    }
    #[inline(always)]
    fn finish(&self) -> Option<T> {
        let (lo, hi) = (self.lo.finish()?, self.hi.finish()?);
        Some(if T::DTYPE.is_float() {
            T::from_f64(hi.to_f64() - lo.to_f64())
        } else {
            T::from_i64(hi.to_i64().wrapping_sub(lo.to_i64()))
        })
    }
}

/// Picks, per element type, the accumulators whose kind depends on it (integer, unsigned or
/// float sums; the mean's output precision), so only the combinations that can run are compiled.
pub trait Reducible: Native {
    /// The `sum` accumulator.
    type Sum: Acc<In = Self>;
    /// The `prod` accumulator.
    type Prod: Acc<In = Self>;
    /// The `mean` accumulator.
    type Mean: Acc<In = Self>;
}

macro_rules! reducible {
    ($($t:ty => $sum:ident, $prod:ident, $mean:ty;)*) => {
        $(impl Reducible for $t {
            type Sum = $sum<$t>;
            type Prod = $prod<$t>;
            type Mean = Mean<$t, $mean>;
        })*
    };
}

reducible! {
    bool => SumI, ProdI, f64;
    i8 => SumI, ProdI, f64;
    i16 => SumI, ProdI, f64;
    i32 => SumI, ProdI, f64;
    i64 => SumI, ProdI, f64;
    u8 => SumU, ProdU, f64;
    u16 => SumU, ProdU, f64;
    u32 => SumU, ProdU, f64;
    u64 => SumU, ProdU, f64;
    f32 => SumF, ProdF, f32;
    f64 => SumF, ProdF, f64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<A: Acc>(xs: &[A::In]) -> Option<A::Out> {
        let mut a = A::empty();
        for &x in xs {
            a.push(x);
        }
        a.finish()
    }

    #[test]
    fn identities_and_values() {
        assert_eq!(run::<SumI<i8>>(&[100, 100]), Some(200));
        assert_eq!(run::<SumU<u64>>(&[u64::MAX, 2]), Some(1));
        assert_eq!(run::<SumF<f32>>(&[]), Some(0.0));
        assert_eq!(run::<ProdI<bool>>(&[]), Some(1));
        assert_eq!(run::<Count<f64>>(&[1.0, 2.0]), Some(2));
        assert_eq!(run::<Any<f64>>(&[0.0, f64::NAN]), Some(true));
        assert_eq!(run::<All<i32>>(&[]), Some(true));
        assert_eq!(run::<All<i32>>(&[1, 0]), Some(false));
        assert_eq!(run::<Mean<i32, f64>>(&[]), None);
        assert_eq!(run::<Ptp<i8>>(&[-100, 100]), Some(-56));
        assert_eq!(run::<MinMax<u8, true>>(&[3, 9, 1]), Some(9));
        assert!(run::<MinMax<f64, false>>(&[1.0, f64::NAN, 0.0])
            .unwrap()
            .is_nan());
    }

    #[test]
    fn merge_matches_sequential() {
        let mut a = Ptp::<i64>::empty();
        let mut b = Ptp::<i64>::empty();
        a.push(5);
        b.push(-2);
        b.push(9);
        a.merge(&b);
        assert_eq!(a.finish(), Some(11));
        let mut e = MinMax::<i64, false>::empty();
        e.merge(&MinMax::empty());
        assert_eq!(e.finish(), None);
    }
}
