//! A fused elementwise chain compiled for one float leaf type: what `Step::FusedMap` and
//! `Step::FusedReduce` run instead of op-by-op kernels.
//!
//! ```text
//!   chain [mul 2.0, add 1.0] on float64 ──► Affine { a: 2.0, b: 1.0 }    x * a + b, one pass
//!   chain [sqrt, mul 2.0, clip(0, 1)] ──► Ops [sqrt, mul 2, maximum 0, minimum 1]
//!                                          applied block by block (768 values in L1), one
//!                                          tight loop per op
//! ```
//!
//! Exactness: the result is bit-identical to running the eager kernels op by op. Every op is
//! evaluated in the leaf's float type with the same IEEE operation as the eager kernel; the
//! affine form is only used when it is *exactly* the chain: at most one multiplication
//! (`* c`, `/ c` for a power-of-two `c`, negation) followed by at most one addition (`+ c`,
//! `- c`, `c - x`), with `a = 1.0` / `b = -0.0` standing in for a missing step (`x * 1.0`
//! and `x + -0.0` are `x` for every `x`, including `-0.0`).
//!
//! A chain compiles only when every step keeps the float dtype (a weak scalar that does not
//! widen it, a float-valued unary function); anything else (integers, comparisons, a
//! `float32` leaf with a chain that widens it) runs the eager kernels.

use super::fuse::MapOp;
use crate::dtype::{promote_weak, Scalar};
use crate::kernels::arith::{maximum, minimum, Arith};
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::map::Mapper;
use crate::kernels::unary::UnaryOp;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Float element types a chain can compile for (`f32`, `f64`).
pub(crate) trait Float:
    Arith
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    fn sqrt(self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn abs(self) -> Self;
    /// `1.0 / self` when that is exact and multiplying by it equals dividing by `self`.
    fn exact_recip(self) -> Option<Self>;
}

macro_rules! float_impl {
    ($t:ty) => {
        impl Float for $t {
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn exact_recip(self) -> Option<Self> {
                // A normal power of two whose reciprocal is normal too: x / c and x * (1 / c)
                // are then the same real number, so they round the same way.
                let r = 1.0 / self;
                let pow2 = self.is_normal() && r.is_normal() && r * self == 1.0;
                let mantissa_zero =
                    (self.abs().to_bits() & ((1 << (<$t>::MANTISSA_DIGITS - 1)) - 1)) == 0;
                (pow2 && mantissa_zero).then_some(r)
            }
        }
    };
}
float_impl!(f32);
float_impl!(f64);

/// One compiled step: `x <op> c` (`left = false`) or `c <op> x`, or a unary function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FOp<T> {
    Bin(BinaryOp, T, bool),
    Un(UnaryOp),
}

/// A compiled chain (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Program<T> {
    /// `x * a + b`.
    Affine(Affine<T>),
    /// Ops applied in order.
    Ops(Ops<T>),
}

/// `x * a + b` as a per-value mapper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Affine<T> {
    pub(crate) a: T,
    pub(crate) b: T,
}

/// A general chain as a blocked mapper (inline up to four ops: compiling a chain per batch
/// allocates nothing).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ops<T>(pub(crate) smallvec::SmallVec<[FOp<T>; 4]>);

const FUSABLE_BIN: [BinaryOp; 9] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::FloorDiv,
    BinaryOp::Rem,
    BinaryOp::Pow,
    BinaryOp::Minimum,
    BinaryOp::Maximum,
];

fn literal<T: Float>(op: BinaryOp, s: &Scalar) -> Option<T> {
    let keeps = promote_weak(T::DTYPE, s).ok() == Some(T::DTYPE);
    (FUSABLE_BIN.contains(&op) && keeps)
        .then(|| s.as_f64())
        .flatten()
        .map(T::from_f64)
}

impl<T: Float> Program<T> {
    /// Compile `chain` for leaves of type `T`; `None` when some step does not keep `T`.
    pub(crate) fn compile(chain: &[MapOp]) -> Option<Program<T>> {
        let mut ops = smallvec::SmallVec::new();
        for m in chain {
            match m {
                MapOp::Binary {
                    op,
                    scalar,
                    scalar_left,
                } => ops.push(FOp::Bin(*op, literal::<T>(*op, scalar)?, *scalar_left)),
                MapOp::Unary(u) => {
                    use UnaryOp::*;
                    let keeps = matches!(
                        u,
                        Neg | Abs
                            | Sign
                            | Floor
                            | Ceil
                            | Round
                            | Sqrt
                            | Exp
                            | Log
                            | Log1p
                            | Sin
                            | Cos
                    );
                    if !keeps {
                        return None;
                    }
                    ops.push(FOp::Un(*u));
                }
                MapOp::Clip(lo, hi) => {
                    // clip = maximum(lo) then minimum(hi), each with weak promotion.
                    if let Some(l) = lo {
                        ops.push(FOp::Bin(
                            BinaryOp::Maximum,
                            literal::<T>(BinaryOp::Maximum, l)?,
                            false,
                        ));
                    }
                    if let Some(h) = hi {
                        ops.push(FOp::Bin(
                            BinaryOp::Minimum,
                            literal::<T>(BinaryOp::Minimum, h)?,
                            false,
                        ));
                    }
                }
            }
        }
        Some(match affine(&ops) {
            Some(a) => Program::Affine(a),
            None => Program::Ops(Ops(ops)),
        })
    }

    /// Map `src` into the uninitialised `dst` (same length), writing every slot; parallel
    /// over chunks for large inputs.
    pub(crate) fn map_into(&self, src: &[T], dst: &mut [MaybeUninit<T>]) {
        const CHUNK: usize = 1 << 15;
        let body = |(d, s): (&mut [MaybeUninit<T>], &[T])| match self {
            Program::Affine(f) => {
                let (a, b) = (f.a, f.b);
                for (o, &x) in d.iter_mut().zip(s) {
                    o.write(x * a + b);
                }
            }
            Program::Ops(p) => p.map_uninit(s, d),
        };
        if crate::pool::worth_splitting(src.len(), crate::kernels::arith::PAR_THRESHOLD) {
            dst.par_chunks_mut(CHUNK)
                .zip(src.par_chunks(CHUNK))
                .for_each(body);
        } else {
            body((dst, src));
        }
    }

    /// `src` mapped into a new vector.
    pub(crate) fn map_vec(&self, src: &[T]) -> Vec<T> {
        let mut out: Vec<T> = Vec::with_capacity(src.len());
        self.map_into(src, &mut out.spare_capacity_mut()[..src.len()]);
        // SAFETY: `map_into` wrote every one of the first `src.len()` slots.
        unsafe { out.set_len(src.len()) };
        out
    }
}

/// The chain as `x * a + b` when that is exactly the chain (see the module docs).
fn affine<T: Float>(ops: &[FOp<T>]) -> Option<Affine<T>> {
    let one = T::from_f64(1.0);
    let (mut a, mut b) = (one, T::from_f64(-0.0));
    let (mut has_mul, mut has_add) = (false, false);
    for op in ops {
        match *op {
            FOp::Bin(BinaryOp::Mul, c, _) if !has_mul && !has_add => (a, has_mul) = (c, true),
            FOp::Bin(BinaryOp::Div, c, false) if !has_mul && !has_add => {
                (a, has_mul) = (c.exact_recip()?, true);
            }
            FOp::Un(UnaryOp::Neg) if has_add => (a, b) = (-a, -b),
            FOp::Un(UnaryOp::Neg) => (a, has_mul) = (-a, true),
            FOp::Bin(BinaryOp::Add, c, _) if !has_add => (b, has_add) = (c, true),
            FOp::Bin(BinaryOp::Sub, c, false) if !has_add => (b, has_add) = (-c, true),
            FOp::Bin(BinaryOp::Sub, c, true) if !has_add => {
                (a, b, has_mul, has_add) = (-a, c, true, true);
            }
            _ => return None,
        }
    }
    Some(Affine { a, b })
}

/// Runs `$body` with `$f` bound to the op as a monomorphic closure `T -> T` (the match is
/// outside the loops the body runs).
macro_rules! with_op {
    ($op:expr, $T:ty, $f:ident => $body:expr) => {{
        use BinaryOp as B;
        use UnaryOp as U;
        match $op {
            FOp::Bin(B::Add, c, false) => {
                let $f = move |x: $T| Arith::add(x, c);
                $body
            }
            FOp::Bin(B::Add, c, true) => {
                let $f = move |x: $T| Arith::add(c, x);
                $body
            }
            FOp::Bin(B::Sub, c, false) => {
                let $f = move |x: $T| Arith::sub(x, c);
                $body
            }
            FOp::Bin(B::Sub, c, true) => {
                let $f = move |x: $T| Arith::sub(c, x);
                $body
            }
            FOp::Bin(B::Mul, c, false) => {
                let $f = move |x: $T| Arith::mul(x, c);
                $body
            }
            FOp::Bin(B::Mul, c, true) => {
                let $f = move |x: $T| Arith::mul(c, x);
                $body
            }
            FOp::Bin(B::Div, c, false) => {
                let $f = move |x: $T| x / c;
                $body
            }
            FOp::Bin(B::Div, c, true) => {
                let $f = move |x: $T| c / x;
                $body
            }
            FOp::Bin(B::FloorDiv, c, false) => {
                let $f = move |x: $T| Arith::floor_div(x, c);
                $body
            }
            FOp::Bin(B::FloorDiv, c, true) => {
                let $f = move |x: $T| Arith::floor_div(c, x);
                $body
            }
            FOp::Bin(B::Rem, c, false) => {
                let $f = move |x: $T| Arith::rem(x, c);
                $body
            }
            FOp::Bin(B::Rem, c, true) => {
                let $f = move |x: $T| Arith::rem(c, x);
                $body
            }
            FOp::Bin(B::Pow, c, false) => {
                let $f = move |x: $T| Arith::pow(x, c);
                $body
            }
            FOp::Bin(B::Pow, c, true) => {
                let $f = move |x: $T| Arith::pow(c, x);
                $body
            }
            FOp::Bin(B::Minimum, c, false) => {
                let $f = move |x: $T| minimum(x, c);
                $body
            }
            FOp::Bin(B::Minimum, c, true) => {
                let $f = move |x: $T| minimum(c, x);
                $body
            }
            FOp::Bin(B::Maximum, c, false) => {
                let $f = move |x: $T| maximum(x, c);
                $body
            }
            FOp::Bin(B::Maximum, c, true) => {
                let $f = move |x: $T| maximum(c, x);
                $body
            }
            FOp::Un(U::Neg) => {
                let $f = move |x: $T| -x;
                $body
            }
            FOp::Un(U::Abs) => {
                let $f = move |x: $T| Float::abs(x);
                $body
            }
            FOp::Un(U::Sign) => {
                let zero = <$T>::default();
                let (p, n) = (<$T>::from_f64(1.0), <$T>::from_f64(-1.0));
                let $f = move |x: $T| {
                    if x > zero {
                        p
                    } else if x < zero {
                        n
                    } else {
                        x
                    }
                };
                $body
            }
            FOp::Un(U::Floor) => {
                let $f = move |x: $T| <$T>::from_f64(x.to_f64().floor());
                $body
            }
            FOp::Un(U::Ceil) => {
                let $f = move |x: $T| <$T>::from_f64(x.to_f64().ceil());
                $body
            }
            FOp::Un(U::Round) => {
                let $f = move |x: $T| <$T>::from_f64(x.to_f64().round_ties_even());
                $body
            }
            FOp::Un(U::Sqrt) => {
                let $f = move |x: $T| Float::sqrt(x);
                $body
            }
            FOp::Un(U::Exp) => {
                let $f = move |x: $T| Float::exp(x);
                $body
            }
            FOp::Un(U::Log) => {
                let $f = move |x: $T| Float::ln(x);
                $body
            }
            FOp::Un(U::Log1p) => {
                let $f = move |x: $T| Float::ln_1p(x);
                $body
            }
            FOp::Un(U::Sin) => {
                let $f = move |x: $T| Float::sin(x);
                $body
            }
            FOp::Un(U::Cos) => {
                let $f = move |x: $T| Float::cos(x);
                $body
            }
            // `compile` admits nothing else.
            _ => {
                let $f = move |x: $T| x;
                $body
            }
        }
    }};
}

/// Output slots: initialised values or uninitialised memory.
trait Slot<T> {
    fn put(&mut self, v: T);
}
impl<T: Float> Slot<T> for T {
    #[inline(always)]
    fn put(&mut self, v: T) {
        *self = v;
    }
}
impl<T: Float> Slot<T> for MaybeUninit<T> {
    #[inline(always)]
    fn put(&mut self, v: T) {
        self.write(v);
    }
}

#[inline(always)]
fn each<T: Copy, S: Slot<T>>(src: &[T], dst: &mut [S], f: impl Fn(T) -> T) {
    for (d, &x) in dst.iter_mut().zip(src) {
        d.put(f(x));
    }
}

#[inline(always)]
fn each_mut<T: Copy>(x: &mut [T], f: impl Fn(T) -> T) {
    for v in x.iter_mut() {
        *v = f(*v);
    }
}

impl<T: Float> Ops<T> {
    /// Apply one op over `src` into `dst`.
    fn first<S: Slot<T>>(op: FOp<T>, src: &[T], dst: &mut [S]) {
        with_op!(op, T, f => each(src, dst, f));
    }

    /// Apply the ops after the first, in place.
    fn rest(&self, x: &mut [T]) {
        for &op in &self.0[1..] {
            with_op!(op, T, f => each_mut(x, f));
        }
    }

    fn map_uninit(&self, src: &[T], dst: &mut [MaybeUninit<T>]) {
        let Some(&op0) = self.0.first() else {
            each(src, dst, |x| x);
            return;
        };
        for (d, s) in dst
            .chunks_mut(crate::kernels::reduce::map::BLOCK)
            .zip(src.chunks(crate::kernels::reduce::map::BLOCK))
        {
            Self::first(op0, s, d);
            // SAFETY: `first` wrote every slot of `d` (`d` and `s` have the same length), so
            // the block is initialised; MaybeUninit<T> has T's layout.
            let d: &mut [T] = unsafe { &mut *(std::ptr::from_mut(d) as *mut [T]) };
            self.rest(d);
        }
    }
}

impl<T: Float> Mapper<T> for Affine<T> {
    type Out = T;
    const BLOCKED: bool = false;
    #[inline(always)]
    fn one(&self, x: T) -> T {
        x * self.a + self.b
    }
}

impl<T: Float> Mapper<T> for Ops<T> {
    type Out = T;
    const BLOCKED: bool = true;
    fn one(&self, x: T) -> T {
        let mut v = x;
        for &op in &self.0 {
            v = with_op!(op, T, f => f(v));
        }
        v
    }
    fn map_block(&self, src: &[T], dst: &mut [T]) {
        let Some(&op0) = self.0.first() else {
            dst.copy_from_slice(src);
            return;
        };
        Self::first(op0, src, dst);
        self.rest(dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::Array;
    use crate::dtype::Scalar;
    use crate::kernels::elementwise::{binary, Operand};
    use crate::kernels::unary::{clip, unary};

    fn bin(op: BinaryOp, s: f64, left: bool) -> MapOp {
        MapOp::Binary {
            op,
            scalar: Scalar::Float(s),
            scalar_left: left,
        }
    }

    #[test]
    fn affine_only_when_exact() {
        use BinaryOp::*;
        let p = Program::<f64>::compile(&[bin(Mul, 2.0, false), bin(Add, 1.0, false)]).unwrap();
        assert_eq!(p, Program::Affine(Affine { a: 2.0, b: 1.0 }));
        let p = Program::<f64>::compile(&[bin(Sub, 3.0, true)]).unwrap();
        assert_eq!(p, Program::Affine(Affine { a: -1.0, b: 3.0 }));
        let p = Program::<f64>::compile(&[bin(Div, 4.0, false)]).unwrap();
        assert_eq!(p, Program::Affine(Affine { a: 0.25, b: -0.0 }));
        // Not exact as an affine map: add then mul, division by 3, two multiplications.
        for chain in [
            vec![bin(Add, 1.0, false), bin(Mul, 2.0, false)],
            vec![bin(Div, 3.0, false)],
            vec![bin(Mul, 3.0, false), bin(Mul, 5.0, false)],
        ] {
            assert!(matches!(
                Program::<f64>::compile(&chain),
                Some(Program::Ops(_))
            ));
        }
        // A chain that widens float32 (a float literal keeps it; a comparison does not).
        assert!(Program::<f32>::compile(&[bin(Mul, 2.5, false)]).is_some());
        assert!(Program::<f32>::compile(&[bin(Lt, 2.5, false)]).is_none());
        assert!(Program::<f64>::compile(&[MapOp::Unary(UnaryOp::IsNan)]).is_none());
    }

    /// The chain run op by op with the eager kernels (the reference).
    fn eager(chain: &[MapOp], x: &Array) -> Vec<f64> {
        let mut cur = x.clone();
        for m in chain {
            cur = match m {
                MapOp::Binary {
                    op,
                    scalar,
                    scalar_left: false,
                } => binary(*op, Operand::Array(&cur), Operand::Scalar(scalar)).unwrap(),
                MapOp::Binary {
                    op,
                    scalar,
                    scalar_left: true,
                } => binary(*op, Operand::Scalar(scalar), Operand::Array(&cur)).unwrap(),
                MapOp::Unary(u) => unary(*u, &cur).unwrap(),
                MapOp::Clip(lo, hi) => clip(&cur, lo.as_ref(), hi.as_ref()).unwrap(),
            };
        }
        cur.layout
            .as_leaf()
            .unwrap()
            .values
            .as_slice::<f64>()
            .unwrap()
            .to_vec()
    }

    #[test]
    fn compiled_chains_are_bit_identical_to_the_eager_kernels() {
        use BinaryOp::*;
        let xs: Vec<f64> = (0..3000)
            .map(|i| (i as f64 - 1500.0) * 0.37)
            .chain([
                -0.0,
                0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                1e-310,
            ])
            .collect();
        let x = Array::from_vec(xs.clone());
        let chains = [
            vec![bin(Mul, 2.0, false), bin(Add, 1.0, false)],
            vec![MapOp::Unary(UnaryOp::Neg), bin(Sub, 0.5, false)],
            vec![bin(Mul, 0.1, false), MapOp::Unary(UnaryOp::Neg)],
            vec![bin(Sub, 2.0, true)],
            vec![bin(Div, 0.5, false), bin(Add, 1.0, true)],
            vec![bin(Add, 1.0, false), bin(Mul, 2.0, false)],
            vec![
                MapOp::Unary(UnaryOp::Abs),
                MapOp::Unary(UnaryOp::Sqrt),
                bin(Rem, 3.0, false),
            ],
            vec![
                MapOp::Clip(Some(Scalar::Float(-10.0)), Some(Scalar::Int(10))),
                bin(Pow, 2.0, false),
            ],
            vec![
                bin(FloorDiv, 7.0, true),
                MapOp::Unary(UnaryOp::Round),
                MapOp::Unary(UnaryOp::Sign),
            ],
            vec![
                bin(Maximum, 0.0, true),
                bin(Minimum, 3.0, false),
                MapOp::Unary(UnaryOp::Exp),
            ],
        ];
        let bits = |v: &[f64]| -> Vec<u64> {
            v.iter()
                .map(|x| if x.is_nan() { 1 } else { x.to_bits() })
                .collect()
        };
        for chain in chains {
            let want = bits(&eager(&chain, &x));
            let p = Program::<f64>::compile(&chain).unwrap();
            assert_eq!(bits(&p.map_vec(&xs)), want, "map {chain:?}");
            // The per-value and blocked mapper forms agree too.
            let one: Vec<f64> = match &p {
                Program::Affine(a) => xs.iter().map(|&v| a.one(v)).collect(),
                Program::Ops(o) => {
                    let mut out = vec![0.0; xs.len()];
                    o.map_block(&xs, &mut out);
                    assert_eq!(bits(&out), want, "block {chain:?}");
                    xs.iter().map(|&v| o.one(v)).collect()
                }
            };
            assert_eq!(bits(&one), want, "one {chain:?}");
        }
    }
}
