//! Element math shared by the elementwise kernels: NumPy semantics for one pair of values
//! (wrapping integer arithmetic, Python-style floor division and modulo, NaN-propagating
//! `minimum`/`maximum`) and the flat-slice loops that apply them.
//!
//! Integer `//` and `%` by zero return 0 here; the callers check divisors first (skipping null
//! slots) and raise a grumpy error, so a kernel never panics on data.
//!
//! ```
//! use grumpy_core::kernels::arith::Arith;
//! assert_eq!(Arith::floor_div(-7i64, 2), -4);
//! assert_eq!(Arith::rem(-7i64, 2), 1);
//! assert_eq!(Arith::rem(7.5f64, -2.0), -0.5);
//! assert_eq!(Arith::add(250u8, 10), 4); // wraps like NumPy
//! ```

use crate::buffer::{Bitmap, Native};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Inputs above this many values run on the Rayon pool.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// Arithmetic on numeric (non-bool) element types, following NumPy.
pub trait Arith: Native {
    /// `x + y` (wrapping for integers).
    fn add(self, o: Self) -> Self;
    /// `x - y` (wrapping for integers).
    fn sub(self, o: Self) -> Self;
    /// `x * y` (wrapping for integers).
    fn mul(self, o: Self) -> Self;
    /// Floor division (`//`); integer division by zero gives 0 (callers check first).
    fn floor_div(self, o: Self) -> Self;
    /// Python-style modulo (`%`, sign of the divisor); integer modulo by zero gives 0.
    fn rem(self, o: Self) -> Self;
    /// `x ** y` (wrapping for integers; a negative integer exponent gives 0, callers check).
    fn pow(self, o: Self) -> Self;
    /// True for zero.
    fn is_zero(self) -> bool;
    /// True for values below zero.
    fn is_negative(self) -> bool;
}

/// NaN-propagating minimum (`np.minimum`).
#[inline(always)]
pub fn minimum<T: PartialOrd + Copy>(x: T, y: T) -> T {
    #[allow(clippy::eq_op)]
    if x != x || x <= y {
        x
    } else {
        y
    }
}

/// NaN-propagating maximum (`np.maximum`).
#[inline(always)]
pub fn maximum<T: PartialOrd + Copy>(x: T, y: T) -> T {
    #[allow(clippy::eq_op)]
    if x != x || x >= y {
        x
    } else {
        y
    }
}

macro_rules! int_pow {
    ($x:expr, $e:expr, $t:ty) => {{
        let (mut base, mut e, mut acc): ($t, u64, $t) = ($x, $e, 1);
        while e > 0 {
            if e & 1 == 1 {
                acc = acc.wrapping_mul(base);
            }
            base = base.wrapping_mul(base);
            e >>= 1;
        }
        acc
    }};
}

macro_rules! arith_signed {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)]
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)]
            fn floor_div(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let q = self.wrapping_div(o);
                if self.wrapping_rem(o) != 0 && ((self < 0) != (o < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[inline(always)]
            fn rem(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r + o } else { r }
            }
            #[inline(always)]
            fn pow(self, o: Self) -> Self {
                if o < 0 { 0 } else { int_pow!(self, o as u64, $t) }
            }
            #[inline(always)]
            fn is_zero(self) -> bool { self == 0 }
            #[inline(always)]
            fn is_negative(self) -> bool { self < 0 }
        }
    )*};
}

macro_rules! arith_unsigned {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)]
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)]
            fn floor_div(self, o: Self) -> Self { if o == 0 { 0 } else { self / o } }
            #[inline(always)]
            fn rem(self, o: Self) -> Self { if o == 0 { 0 } else { self % o } }
            #[inline(always)]
            fn pow(self, o: Self) -> Self { int_pow!(self, o as u64, $t) }
            #[inline(always)]
            fn is_zero(self) -> bool { self == 0 }
            #[inline(always)]
            fn is_negative(self) -> bool { false }
        }
    )*};
}

arith_signed!(i8, i16, i32, i64);
arith_unsigned!(u8, u16, u32, u64);

macro_rules! arith_float {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline(always)]
            fn add(self, o: Self) -> Self { self + o }
            #[inline(always)]
            fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)]
            fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)]
            fn floor_div(self, o: Self) -> Self {
                // npy_floor_divide / npy_divmod
                if o == 0.0 {
                    return self / o;
                }
                let m = self % o;
                let mut div = (self - m) / o;
                if m != 0.0 && ((o < 0.0) != (m < 0.0)) {
                    div -= 1.0;
                }
                if div != 0.0 {
                    let f = div.floor();
                    if div - f > 0.5 { f + 1.0 } else { f }
                } else {
                    (0.0 as $t).copysign(self / o)
                }
            }
            #[inline(always)]
            fn rem(self, o: Self) -> Self {
                let m = self % o;
                if o == 0.0 {
                    return m;
                }
                if m != 0.0 {
                    if (o < 0.0) != (m < 0.0) { m + o } else { m }
                } else {
                    (0.0 as $t).copysign(o)
                }
            }
            #[inline(always)]
            fn pow(self, o: Self) -> Self { self.powf(o) }
            #[inline(always)]
            fn is_zero(self) -> bool { self == 0.0 }
            #[inline(always)]
            fn is_negative(self) -> bool { self < 0.0 }
        }
    )*};
}

arith_float!(f32, f64);

/// Dispatch on the ten numeric (non-bool, non-string) dtypes: `with_num!(dtype, T => body,
/// other)` runs `body` with `T` bound to the element type, or `other` for bool and string.
macro_rules! with_num {
    ($d:expr, $T:ident => $body:expr, $other:expr) => {
        match $d {
            $crate::dtype::DType::Int8 => {
                type $T = i8;
                $body
            }
            $crate::dtype::DType::Int16 => {
                type $T = i16;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::dtype::DType::UInt16 => {
                type $T = u16;
                $body
            }
            $crate::dtype::DType::UInt32 => {
                type $T = u32;
                $body
            }
            $crate::dtype::DType::UInt64 => {
                type $T = u64;
                $body
            }
            $crate::dtype::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $T = f64;
                $body
            }
            _ => $other,
        }
    };
}
pub(crate) use with_num;

/// Dispatch on the eight integer dtypes (see [`with_num`]).
macro_rules! with_int {
    ($d:expr, $T:ident => $body:expr, $other:expr) => {
        match $d {
            $crate::dtype::DType::Int8 => {
                type $T = i8;
                $body
            }
            $crate::dtype::DType::Int16 => {
                type $T = i16;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::dtype::DType::UInt16 => {
                type $T = u16;
                $body
            }
            $crate::dtype::DType::UInt32 => {
                type $T = u32;
                $body
            }
            $crate::dtype::DType::UInt64 => {
                type $T = u64;
                $body
            }
            _ => $other,
        }
    };
}
pub(crate) use with_int;

/// One side of a binary kernel: a flat slice, or one value repeated.
#[derive(Clone, Copy, Debug)]
pub enum In<'a, T> {
    /// One value per element.
    Slice(&'a [T]),
    /// The same value for every element.
    Const(T),
}

impl<T: Copy> In<'_, T> {
    /// The value at position `i`.
    #[inline(always)]
    pub fn at(&self, i: usize) -> T {
        match self {
            In::Slice(v) => v[i],
            In::Const(x) => *x,
        }
    }
}

/// Values per parallel task.
const CHUNK: usize = 1 << 15;

/// Fill `dst` by calling `body(start, chunk)` on consecutive chunks, in parallel above
/// [`PAR_THRESHOLD`]. `body` is a trait object so the Rayon machinery is instantiated once per
/// output type, not once per (op, type) pair; the per-element loop inside `body` stays
/// monomorphic and vectorizable.
fn run_chunks<O: Send>(
    dst: &mut [MaybeUninit<O>],
    body: &(dyn Fn(usize, &mut [MaybeUninit<O>]) + Sync),
) {
    if crate::pool::worth_splitting(dst.len(), PAR_THRESHOLD + 1) {
        dst.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, c)| body(i * CHUNK, c));
    } else {
        body(0, dst);
    }
}

fn collect_with<O: Send>(n: usize, body: &(dyn Fn(usize, &mut [MaybeUninit<O>]) + Sync)) -> Vec<O> {
    let mut out: Vec<O> = Vec::with_capacity(n);
    run_chunks(&mut out.spare_capacity_mut()[..n], body);
    // SAFETY: `run_chunks` hands every position of the first `n` slots to `body`, and every
    // `body` in this module writes each slot of its chunk exactly once.
    unsafe { out.set_len(n) };
    out
}

/// Apply `f` elementwise over `n` positions (parallel above [`PAR_THRESHOLD`]). Slices must
/// hold `n` values.
///
/// ```
/// use grumpy_core::kernels::arith::{map2, In};
/// let v = map2(In::Slice(&[1.0, 2.0]), In::Const(10.0), 2, |x, y| x * y);
/// assert_eq!(v, vec![10.0, 20.0]);
/// ```
pub fn map2<T, O, F>(a: In<'_, T>, b: In<'_, T>, n: usize, f: F) -> Vec<O>
where
    T: Copy + Send + Sync,
    O: Send,
    F: Fn(T, T) -> O + Send + Sync,
{
    if let In::Slice(x) = a {
        assert!(x.len() >= n, "map2: left input too short");
    }
    if let In::Slice(y) = b {
        assert!(y.len() >= n, "map2: right input too short");
    }
    let body = |start: usize, dst: &mut [MaybeUninit<O>]| {
        let end = start + dst.len();
        match (a, b) {
            (In::Slice(x), In::Slice(y)) => {
                for (d, (&p, &q)) in dst.iter_mut().zip(x[start..end].iter().zip(&y[start..end])) {
                    d.write(f(p, q));
                }
            }
            (In::Slice(x), In::Const(c)) => {
                for (d, &p) in dst.iter_mut().zip(&x[start..end]) {
                    d.write(f(p, c));
                }
            }
            (In::Const(c), In::Slice(y)) => {
                for (d, &q) in dst.iter_mut().zip(&y[start..end]) {
                    d.write(f(c, q));
                }
            }
            (In::Const(c), In::Const(k)) => {
                for d in dst.iter_mut() {
                    d.write(f(c, k));
                }
            }
        }
    };
    collect_with(n, &body)
}

/// Rewrite every value of `x` with `f`, in place (parallel above [`PAR_THRESHOLD`]).
///
/// ```
/// let mut v = vec![1, 2, 3];
/// grumpy_core::kernels::arith::update(&mut v, |x| x * 10);
/// assert_eq!(v, vec![10, 20, 30]);
/// ```
pub fn update<T, F>(x: &mut [T], f: F)
where
    T: Copy + Send + Sync,
    F: Fn(T) -> T + Send + Sync,
{
    let body = |c: &mut [T]| {
        for v in c.iter_mut() {
            *v = f(*v);
        }
    };
    run_update(x, &body);
}

fn run_update<T: Send>(x: &mut [T], body: &(dyn Fn(&mut [T]) + Sync)) {
    if crate::pool::worth_splitting(x.len(), PAR_THRESHOLD + 1) {
        x.par_chunks_mut(CHUNK).for_each(body);
    } else {
        body(x);
    }
}

/// Apply `f` to every value of a slice (parallel above [`PAR_THRESHOLD`]).
pub fn map1<T, O, F>(a: &[T], f: F) -> Vec<O>
where
    T: Copy + Send + Sync,
    O: Send,
    F: Fn(T) -> O + Send + Sync,
{
    let body = |start: usize, dst: &mut [MaybeUninit<O>]| {
        let end = start + dst.len();
        for (d, &p) in dst.iter_mut().zip(&a[start..end]) {
            d.write(f(p));
        }
    };
    collect_with(a.len(), &body)
}

/// True when some *valid* position of `b` satisfies `bad` (null slots hold arbitrary values and
/// never raise).
pub fn any_valid<T: Copy>(
    b: In<'_, T>,
    n: usize,
    valid: Option<&Bitmap>,
    bad: impl Fn(T) -> bool,
) -> bool {
    match (b, valid) {
        (In::Const(c), None) => n > 0 && bad(c),
        (In::Const(c), Some(v)) => bad(c) && v.null_count() < n,
        (In::Slice(s), None) => s.iter().any(|&x| bad(x)),
        (In::Slice(s), Some(v)) => s.iter().enumerate().any(|(i, &x)| bad(x) && v.get(i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_matches_python() {
        for x in -9i64..=9 {
            for y in [-4i64, -3, -1, 1, 2, 5] {
                assert_eq!(
                    x.floor_div(y),
                    x.div_euclid(y) - i64::from(y < 0 && x.rem_euclid(y) != 0),
                    "{x} // {y}"
                );
                let r = x.rem(y);
                assert_eq!(x.floor_div(y) * y + r, x);
                assert!(r == 0 || (r < 0) == (y < 0));
            }
        }
        assert_eq!(i8::MIN.floor_div(-1), i8::MIN);
        assert_eq!(i8::MIN.rem(-1), 0);
        assert_eq!(5u8.floor_div(0), 0);
    }

    #[test]
    fn float_division_semantics() {
        assert_eq!((-7.0f64).floor_div(2.0), -4.0);
        assert_eq!((7.0f64).rem(-2.0), -1.0);
        assert!(1.0f64.floor_div(0.0).is_infinite());
        assert!(1.0f64.rem(0.0).is_nan());
        assert_eq!(0.0f64.rem(-3.0).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn pow_and_minmax() {
        assert_eq!(Arith::pow(3i64, 4), 81);
        assert_eq!(Arith::pow(2u8, 9), 0);
        assert_eq!(Arith::pow(2.0f64, -1.0), 0.5);
        assert!(minimum(f64::NAN, 1.0).is_nan());
        assert!(maximum(1.0, f64::NAN).is_nan());
        assert_eq!(minimum(3, 2), 2);
    }

    #[test]
    fn any_valid_skips_nulls() {
        let v = Bitmap::from_bools(&[true, false]);
        assert!(!any_valid(In::Slice(&[1, 0]), 2, Some(&v), |x: i32| x == 0));
        assert!(any_valid(In::Slice(&[0, 1]), 2, Some(&v), |x: i32| x == 0));
        assert!(!any_valid(In::Const(0), 0, None, |x: i32| x == 0));
    }
}
