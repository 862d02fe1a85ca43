//! Unary elementwise functions (`-x`, `abs`, `sqrt`, `exp`, `log`, `log1p`, `sin`, `cos`,
//! `sign`, `floor`, `ceil`, `round`, `isnan`, `isfinite`, `~x`), [`where_`] and [`clip`].
//!
//! Every function maps the leaf buffers only (offsets, masks and union tags are shared), and
//! nulls stay null. Result dtypes follow NumPy 2:
//!
//! | op                                   | bool      | int8/16, uint8/16 | other ints | floats |
//! |--------------------------------------|-----------|-------------------|------------|--------|
//! | `sqrt exp log log1p sin cos`         | float32¹  | float32¹          | float64    | same   |
//! | `floor ceil round abs`               | bool      | same              | same       | same   |
//! | `-x`, `sign`                         | error     | same              | same       | same   |
//! | `~x`                                 | bool      | same              | same       | error  |
//! | `isnan isfinite`                     | bool      | bool              | bool       | bool   |
//!
//! ¹ NumPy gives float16, which grumpy does not have. `round` rounds half to even.
//! `sqrt`/`log` of negative numbers give NaN (no error), as in NumPy.
//!
//! ```
//! use grumpy_core::{array::Array, dtype::Scalar};
//! use grumpy_core::kernels::unary::{unary, clip, UnaryOp};
//! let x = Array::from_item(&vec![vec![4.0, -2.5], vec![0.5]].into(), None).unwrap();
//! assert_eq!(unary(UnaryOp::Abs, &x).unwrap().to_item(), vec![vec![4.0, 2.5], vec![0.5]].into());
//! assert_eq!(unary(UnaryOp::Round, &x).unwrap().to_item(), vec![vec![4.0, -2.0], vec![0.0]].into());
//! let c = clip(&x, Some(&Scalar::Float(0.0)), Some(&Scalar::Float(1.0))).unwrap();
//! assert_eq!(c.to_item(), vec![vec![1.0, 0.0], vec![0.5]].into());
//! ```

use super::arith::{map1, with_num, In};
use super::broadcast::{broadcast_all, zip_leaves};
use super::elementwise::{
    binary, common_dtype, scalar_array, side_validity, typed, weak_dtype, BinaryOp, Operand, Side,
    Src,
};
use crate::array::Array;
use crate::buffer::{Bitmap, Buf, Native, StrValues, Values};
use crate::dtype::{promote, DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_values;
use crate::layout::Leaf;

/// A unary elementwise function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    /// `-x` (integers wrap).
    Neg,
    /// `abs(x)`.
    Abs,
    /// `sqrt(x)`.
    Sqrt,
    /// `exp(x)`.
    Exp,
    /// Natural logarithm.
    Log,
    /// `log(1 + x)`.
    Log1p,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// -1, 0 or 1 (NaN stays NaN).
    Sign,
    /// Round down.
    Floor,
    /// Round up.
    Ceil,
    /// Round half to even.
    Round,
    /// True where NaN.
    IsNan,
    /// True where not NaN or infinite.
    IsFinite,
    /// `~x`: logical not for bool, bitwise not for integers.
    Not,
}

impl UnaryOp {
    /// The Python name (`"sqrt"`, `"negative"`, ...).
    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Neg => "negative",
            Abs => "abs",
            Sqrt => "sqrt",
            Exp => "exp",
            Log => "log",
            Log1p => "log1p",
            Sin => "sin",
            Cos => "cos",
            Sign => "sign",
            Floor => "floor",
            Ceil => "ceil",
            Round => "round",
            IsNan => "isnan",
            IsFinite => "isfinite",
            Not => "invert",
        }
    }
}

fn unsupported(op: UnaryOp, d: DType, why: &str) -> Error {
    Error::new(
        Code::DType,
        format!("{} is not supported for {d}", op.name()),
        why.to_owned(),
        "cast first with .astype(...)",
    )
}

/// The float dtype a transcendental function returns for `d` (float16 → float32, see docs).
fn float_out(d: DType) -> DType {
    match d {
        DType::Float32
        | DType::Bool
        | DType::Int8
        | DType::UInt8
        | DType::Int16
        | DType::UInt16 => DType::Float32,
        _ => DType::Float64,
    }
}

/// Per-type pieces of the unary functions that differ between ints and floats.
trait UnaryNum: Native {
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn sign(self) -> Self;
}

macro_rules! unary_signed {
    ($($t:ty),*) => {$(
        impl UnaryNum for $t {
            fn neg(self) -> Self { self.wrapping_neg() }
            fn abs(self) -> Self { self.wrapping_abs() }
            fn sign(self) -> Self { self.signum() }
        }
    )*};
}
macro_rules! unary_unsigned {
    ($($t:ty),*) => {$(
        impl UnaryNum for $t {
            fn neg(self) -> Self { self.wrapping_neg() }
            fn abs(self) -> Self { self }
            fn sign(self) -> Self { <$t>::from(self != 0) }
        }
    )*};
}
macro_rules! unary_float {
    ($($t:ty),*) => {$(
        impl UnaryNum for $t {
            fn neg(self) -> Self { -self }
            fn abs(self) -> Self { self.abs() }
            fn sign(self) -> Self {
                if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else { self }
            }
        }
    )*};
}
unary_signed!(i8, i16, i32, i64);
unary_unsigned!(u8, u16, u32, u64);
unary_float!(f32, f64);

macro_rules! float_fn {
    ($op:expr, $v:expr, $t:ty) => {{
        let s = $v.as_slice::<$t>().unwrap_or(&[]);
        Values::from(match $op {
            UnaryOp::Sqrt => map1(s, <$t>::sqrt),
            UnaryOp::Exp => map1(s, <$t>::exp),
            UnaryOp::Log => map1(s, <$t>::ln),
            UnaryOp::Log1p => map1(s, <$t>::ln_1p),
            UnaryOp::Sin => map1(s, <$t>::sin),
            _ => map1(s, <$t>::cos),
        })
    }};
}

fn numeric<T: UnaryNum>(op: UnaryOp, s: &[T]) -> Values {
    let float = T::DTYPE.is_float();
    let f64_of = |x: T| x.to_f64();
    match op {
        UnaryOp::Neg => Values::from(map1(s, T::neg)),
        UnaryOp::Abs => Values::from(map1(s, T::abs)),
        UnaryOp::Sign => Values::from(map1(s, T::sign)),
        UnaryOp::Floor if float => Values::from(map1(s, |x| T::from_f64(f64_of(x).floor()))),
        UnaryOp::Ceil if float => Values::from(map1(s, |x| T::from_f64(f64_of(x).ceil()))),
        UnaryOp::Round if float => {
            Values::from(map1(s, |x| T::from_f64(f64_of(x).round_ties_even())))
        }
        UnaryOp::IsNan => Values::from(map1(s, |x| f64_of(x).is_nan())),
        UnaryOp::IsFinite => Values::from(map1(s, |x| f64_of(x).is_finite())),
        // floor / ceil / round of integers: unchanged (NumPy >= 2.3 keeps the dtype)
        _ => T::wrap(Buf::from_vec(s.to_vec())),
    }
}

fn unary_values(op: UnaryOp, v: &Values) -> Result<Values> {
    use UnaryOp::*;
    let d = v.dtype();
    if d == DType::String {
        return Err(unsupported(op, d, "strings have no arithmetic"));
    }
    if matches!(op, Sqrt | Exp | Log | Log1p | Sin | Cos) {
        let fd = float_out(d);
        let c = cast_values(v, fd)?;
        return Ok(if fd == DType::Float32 {
            float_fn!(op, c, f32)
        } else {
            float_fn!(op, c, f64)
        });
    }
    if let Values::Bool(b) = v {
        return match op {
            Neg | Sign => Err(unsupported(
                op,
                d,
                "NumPy has no boolean negative or sign either",
            )),
            Not => Ok(Values::from(map1(b.as_slice(), |x: bool| !x))),
            IsNan => Ok(Values::from(vec![false; b.len()])),
            IsFinite => Ok(Values::from(vec![true; b.len()])),
            _ => Ok(v.clone()),
        };
    }
    if op == Not {
        return super::arith::with_int!(d, T => {
            Ok(Values::from(map1(v.as_slice::<T>().unwrap_or(&[]), |x: T| !x)))
        }, Err(unsupported(op, d, "~ needs bool or integer values")));
    }
    with_num!(d, T => Ok(numeric::<T>(op, v.as_slice::<T>().unwrap_or(&[]))),
        Err(unsupported(op, d, "unsupported dtype")))
}

/// Apply a unary function to every leaf (layout shared; see the module docs for dtypes).
///
/// ```
/// use grumpy_core::{array::Array, dtype::DType, kernels::unary::{unary, UnaryOp}};
/// let x = Array::from_vec(vec![4i16, 9]);
/// let r = unary(UnaryOp::Sqrt, &x).unwrap();
/// assert_eq!(r.dtype(), DType::Float32);
/// assert_eq!(r.to_item(), vec![2.0, 3.0].into());
/// ```
pub fn unary(op: UnaryOp, a: &Array) -> Result<Array> {
    let layout = a
        .layout
        .compact() // only the values this view reaches
        .map_leaves(&mut |l| Ok(Leaf::new(unary_values(op, &l.values)?, l.validity.clone())))?;
    Ok(Array::new(layout))
}

fn operand_dtype(o: &Operand<'_>) -> Option<DType> {
    match o {
        Operand::Array(a) => Some(a.dtype()),
        Operand::Scalar(_) => None,
    }
}

/// The dtype of `where_`'s result from its two value operands (weak scalars as in `binary`).
fn where_dtype(a: &Operand<'_>, b: &Operand<'_>) -> Result<DType> {
    let op = BinaryOp::Add; // only used to name the operation in errors
    let err = |e: Error| e.context("gr.where");
    match (a, b) {
        (Operand::Array(x), Operand::Array(y)) => {
            common_dtype(op, x.dtype(), y.dtype()).map_err(err)
        }
        (Operand::Array(x), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(x)) => {
            weak_dtype(op, x.dtype(), s).map_err(err)
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => {
            let (ds, dt) = (s.default_dtype(), t.default_dtype());
            match (s, t) {
                (Scalar::Null, _) => Ok(dt),
                (_, Scalar::Null) => Ok(ds),
                _ => common_dtype(op, ds, dt).map(|d| promote(d, d)).map_err(err),
            }
        }
    }
}

fn pick<T: Native>(c: In<'_, bool>, a: In<'_, T>, b: In<'_, T>, n: usize) -> Vec<T> {
    match (c, a, b) {
        (In::Slice(cs), In::Slice(xs), In::Slice(ys)) => cs
            .iter()
            .zip(xs.iter().zip(ys))
            .map(|(&k, (&x, &y))| if k { x } else { y })
            .collect(),
        _ => (0..n)
            .map(|i| if c.at(i) { a.at(i) } else { b.at(i) })
            .collect(),
    }
}

fn where_leaf(c: &Side<'_>, a: &Side<'_>, b: &Side<'_>, n: usize, out: DType) -> Result<Leaf> {
    let cs = c.src(DType::Bool)?;
    let ci = typed::<bool>(&cs)?;
    let (xa, xb) = (a.src(out)?, b.src(out)?);
    let cond_at = |i: usize| ci.at(i);
    let values = if out == DType::String {
        let get = |s: &Src<'_>, i: usize| -> String {
            match s {
                Src::Vals(v) => v.str_at(i).to_owned(),
                Src::Const(Scalar::Str(x)) => x.clone(),
                Src::Const(_) => String::new(),
            }
        };
        let mut offsets = vec![0i64];
        let mut bytes = Vec::new();
        for i in 0..n {
            let s = if cond_at(i) { get(&xa, i) } else { get(&xb, i) };
            bytes.extend_from_slice(s.as_bytes());
            offsets.push(bytes.len() as i64);
        }
        Values::Str(StrValues {
            offsets: Buf::from_vec(offsets),
            bytes: Buf::from_vec(bytes),
        })
    } else {
        crate::with_dtype!(out, T => {
            Values::from(pick::<T>(ci, typed::<T>(&xa)?, typed::<T>(&xb)?, n))
        }, Values::empty(out))
    };
    // Null where the condition is null or the chosen value is null.
    let (vc, va, vb) = (
        side_validity(&[c], n),
        side_validity(&[a], n),
        side_validity(&[b], n),
    );
    let valid = if vc.is_none() && va.is_none() && vb.is_none() {
        None
    } else {
        let ok = |m: &Option<Bitmap>, i: usize| m.as_ref().is_none_or(|m| m.get(i));
        let bits: Vec<bool> = (0..n)
            .map(|i| ok(&vc, i) && if cond_at(i) { ok(&va, i) } else { ok(&vb, i) })
            .collect();
        crate::buffer::normalize(Some(Bitmap::from_bools(&bits)))
    };
    Ok(Leaf::new(values, valid))
}

/// `where(cond, a, b)`: `a` where `cond` is true, else `b`; all three broadcast together.
/// `cond` may be bool or numeric (non-zero is true). The result dtype promotes `a` and `b`
/// (weak scalars as in [`binary`]); a result is null where `cond` or the chosen value is null.
///
/// ```
/// use grumpy_core::{array::Array, dtype::Scalar};
/// use grumpy_core::kernels::{elementwise::Operand, unary::where_};
/// let x = Array::from_item(&vec![vec![1.0, -2.0], vec![-3.0]].into(), None).unwrap();
/// let pos = Array::from_item(&vec![vec![true, false], vec![false]].into(), None).unwrap();
/// let r = where_(Operand::Array(&pos), Operand::Array(&x), Operand::Scalar(&Scalar::Float(0.0))).unwrap();
/// assert_eq!(r.to_item(), vec![vec![1.0, 0.0], vec![0.0]].into());
/// ```
pub fn where_(cond: Operand<'_>, a: Operand<'_>, b: Operand<'_>) -> Result<Array> {
    if operand_dtype(&cond) == Some(DType::String)
        || matches!(cond, Operand::Scalar(Scalar::Str(_)))
    {
        return Err(Error::new(
            Code::DType,
            "gr.where needs a bool condition",
            "the condition holds strings",
            "compare first, e.g. gr.where(x == \"a\", ...)",
        ));
    }
    let out = where_dtype(&a, &b)?;
    let ops = [cond, a, b];
    let arrays: Vec<&Array> = ops
        .iter()
        .filter_map(|o| match o {
            Operand::Array(x) => Some(*x),
            Operand::Scalar(_) => None,
        })
        .collect();
    if arrays.is_empty() {
        let c = match cond {
            Operand::Scalar(s) => scalar_array(s)?,
            Operand::Array(x) => x.clone(),
        };
        return where_(Operand::Array(&c), a, b);
    }
    let layouts = broadcast_all(&arrays.iter().map(|x| &x.layout).collect::<Vec<_>>())?;
    let refs: Vec<&crate::layout::Layout> = layouts.iter().collect();
    let layout = zip_leaves(&refs, &mut |leaves| {
        let mut k = 0;
        let mut sides = Vec::with_capacity(3);
        for o in &ops {
            match o {
                Operand::Array(_) => {
                    let l = leaves.get(k).ok_or_else(|| {
                        Error::new(
                            Code::Unsupported,
                            "internal error in gr.where",
                            "a broadcast leaf is missing",
                            "this is a bug: please report it",
                        )
                    })?;
                    k += 1;
                    sides.push(Side::Leaf(l));
                }
                Operand::Scalar(s) => sides.push(Side::Scalar(s)),
            }
        }
        let (c, x, y) = (&sides[0], &sides[1], &sides[2]);
        where_leaf(c, x, y, leaves[0].len(), out)
    })?;
    Ok(Array::new(layout))
}

/// True when clipping an array of dtype `d` at the scalar bound `s` can change nothing because
/// `s` lies outside `d`'s range on the harmless side (`lower`: below the minimum; upper: above
/// the maximum). NumPy skips such bounds (`np.clip(int8_array, -1000, 5)` works) while a bound
/// out of range on the other side is an error, as in every other operation.
pub fn clip_bound_is_noop(d: DType, s: &Scalar, lower: bool) -> bool {
    let v = match *s {
        Scalar::Int(i) => i128::from(i),
        Scalar::UInt(u) => i128::from(u),
        _ => return false,
    };
    let range = super::arith::with_int!(d, T => Some((T::MIN as i128, T::MAX as i128)), None);
    match range {
        Some((lo, hi)) => (lower && v < lo) || (!lower && v > hi),
        None => false,
    }
}

/// `clip(a, lo, hi)`: `minimum(maximum(a, lo), hi)` with NaN propagation; either bound may be
/// omitted. Weak-scalar promotion applies (an int array clipped to `0.5` becomes float64); an
/// integer bound beyond the dtype's range on the harmless side is skipped
/// ([`clip_bound_is_noop`]).
pub fn clip(a: &Array, lo: Option<&Scalar>, hi: Option<&Scalar>) -> Result<Array> {
    let mut out = a.clone();
    if let Some(l) = lo.filter(|l| !clip_bound_is_noop(a.dtype(), l, true)) {
        out = binary(BinaryOp::Maximum, Operand::Array(&out), Operand::Scalar(l))
            .map_err(|e| e.context("gr.clip"))?;
    }
    if let Some(h) = hi.filter(|h| !clip_bound_is_noop(out.dtype(), h, false)) {
        out = binary(BinaryOp::Minimum, Operand::Array(&out), Operand::Scalar(h))
            .map_err(|e| e.context("gr.clip"))?;
    }
    Ok(out)
}

/// `x == None` (`null == true`) or `x != None` (`null == false`): a bool array shaped like `x`,
/// true where a leaf value is (not) null, never null itself. Null lists stay null lists (they
/// hold no values to test).
///
/// ```
/// use grumpy_core::{array::Array, layout::Item, kernels::unary::null_mask};
/// let x = Array::from_item(&Item::list(vec![Item::list(vec![1.0.into(), Item::Null]), Item::Null]), None).unwrap();
/// assert_eq!(null_mask(&x, true).to_item(), Item::list(vec![vec![false, true].into(), Item::Null]));
/// assert_eq!(null_mask(&x, false).to_item(), Item::list(vec![vec![true, false].into(), Item::Null]));
/// ```
pub fn null_mask(a: &Array, null: bool) -> Array {
    let r: Result<_> = a.layout.map_leaves(&mut |l: &Leaf| {
        let bits: Vec<bool> = match &l.validity {
            None => vec![!null; l.len()],
            Some(m) => (0..l.len()).map(|i| m.get(i) != null).collect(),
        };
        Ok(Leaf::valid(Values::from(bits)))
    });
    Array::new(r.unwrap_or_else(|_| a.layout.clone()))
}

/// `10**n` computed the way NumPy's `round` does (a table, then repeated `* 10`), so results
/// agree bit for bit; beyond 400 it is infinite anyway.
fn power_of_ten(n: i64) -> f64 {
    const P10: [f64; 9] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
    match n {
        0..=8 => P10[n as usize],
        9..=400 => (9..n).fold(1e9, |acc, _| acc * 10.0),
        _ => f64::INFINITY,
    }
}

macro_rules! round_float {
    ($s:expr, $t:ty, $decimals:expr) => {{
        let d: i64 = $decimals;
        let s: &[$t] = $s;
        if d >= 0 {
            let f = power_of_ten(d) as $t;
            map1(s, |x: $t| (x * f).round_ties_even() / f)
        } else {
            let f = power_of_ten(d.saturating_neg()) as $t;
            map1(s, |x: $t| (x / f).round_ties_even() * f)
        }
    }};
}

fn round_int<T: Native>(s: &[T], decimals: i64) -> Vec<T> {
    let f = power_of_ten(decimals.saturating_neg());
    map1(s, |x: T| {
        let y = (x.to_f64() / f).round_ties_even() * f;
        // Back to the integer type the way NumPy's float -> int cast does (wrapping via i64).
        if y.abs() < 9.2e18 {
            T::from_i64(y as i64)
        } else {
            T::from_f64(y)
        }
    })
}

/// `round(x, decimals)` like `np.round`: floats compute `rint(x * 10**d) / 10**d` in their own
/// precision (fast and NumPy-exact: `16.055` → `16.06`; huge `d` overflow to NaN); integers
/// are unchanged for `d >= 0` and rounded half to even at `10**-d` otherwise (`round(1250, -2)
/// == 1200`); bools only accept `d == 0`. Nulls stay null.
///
/// ```
/// use grumpy_core::{array::Array, kernels::unary::round_to};
/// let x = Array::from_vec(vec![1.25, 2.5, -13.5]);
/// assert_eq!(round_to(&x, 1).unwrap().to_item(), vec![1.2, 2.5, -13.5].into());
/// assert_eq!(round_to(&x, -1).unwrap().to_item(), vec![0.0, 0.0, -10.0].into());
/// let i = Array::from_vec(vec![1250i64, 1350, -1251]);
/// assert_eq!(round_to(&i, -2).unwrap().to_item(), vec![1200i64, 1400, -1300].into());
/// ```
pub fn round_to(a: &Array, decimals: i64) -> Result<Array> {
    if decimals == 0 {
        return unary(UnaryOp::Round, a);
    }
    let layout = a.layout.map_leaves(&mut |l: &Leaf| {
        let v = &l.values;
        let values = match v {
            Values::F32(b) => Values::from(round_float!(b.as_slice(), f32, decimals)),
            Values::F64(b) => Values::from(round_float!(b.as_slice(), f64, decimals)),
            Values::Bool(_) | Values::Str(_) => {
                return Err(unsupported(
                    UnaryOp::Round,
                    v.dtype(),
                    "rounding to decimals needs numbers (NumPy refuses bools too)",
                ))
            }
            _ if decimals > 0 => v.clone(),
            _ => with_num!(v.dtype(), T => {
                Values::from(round_int::<T>(v.as_slice::<T>().unwrap_or(&[]), decimals))
            }, v.clone()),
        };
        Ok(Leaf::new(values, l.validity.clone()))
    })?;
    Ok(Array::new(layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;
    use UnaryOp::*;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }

    #[test]
    fn dtypes_follow_numpy() {
        let i8x = Array::from_vec(vec![1i8, -4]);
        assert_eq!(unary(Sqrt, &i8x).unwrap().dtype(), DType::Float32);
        assert_eq!(
            unary(Sqrt, &Array::from_vec(vec![4i64])).unwrap().dtype(),
            DType::Float64
        );
        assert_eq!(unary(Neg, &i8x).unwrap().to_item(), vec![-1i64, 4].into());
        assert_eq!(
            unary(Abs, &Array::from_vec(vec![i8::MIN]))
                .unwrap()
                .to_item(),
            vec![-128i64].into()
        );
        assert_eq!(unary(Floor, &i8x).unwrap().dtype(), DType::Int8);
        assert_eq!(unary(Not, &i8x).unwrap().to_item(), vec![-2i64, 3].into());
        let b = Array::from_vec(vec![true, false]);
        assert_eq!(unary(Not, &b).unwrap().to_item(), vec![false, true].into());
        assert_eq!(unary(Neg, &b).unwrap_err().code(), Code::DType);
        let f = Array::from_vec(vec![1.5]);
        assert_eq!(unary(Not, &f).unwrap_err().code(), Code::DType);
        let s = arr(vec!["a"].into());
        assert_eq!(unary(Abs, &s).unwrap_err().code(), Code::DType);
    }

    #[test]
    fn float_semantics() {
        let x = Array::from_vec(vec![-1.0, 0.5, 1.5, 2.5, f64::NAN, -0.0]);
        let r = unary(Round, &x).unwrap().to_item();
        let Item::List(v) = r else { panic!() };
        assert_eq!(v[1], 0.0.into());
        assert_eq!(v[2], 2.0.into());
        assert_eq!(v[3], 2.0.into());
        assert!(
            matches!(unary(Sqrt, &x).unwrap().to_item(), Item::List(ref v) if matches!(v[0], Item::Scalar(Scalar::Float(f)) if f.is_nan()))
        );
        assert_eq!(
            unary(IsNan, &x).unwrap().to_item(),
            vec![false, false, false, false, true, false].into()
        );
        assert_eq!(
            unary(Sign, &Array::from_vec(vec![-3.0, 0.0, 2.0]))
                .unwrap()
                .to_item(),
            vec![-1.0, 0.0, 1.0].into()
        );
    }

    #[test]
    fn where_broadcasts_and_propagates_nulls() {
        let c = arr(Item::list(vec![true.into(), Item::Null, false.into()]));
        let x = arr(vec![vec![1i64, 2], vec![3], vec![4, 5]].into());
        let r = where_(
            Operand::Array(&c),
            Operand::Array(&x),
            Operand::Scalar(&Scalar::Int(0)),
        )
        .unwrap();
        assert_eq!(
            r.to_item(),
            Item::list(vec![
                vec![1i64, 2].into(),
                Item::list(vec![Item::Null]),
                vec![0i64, 0].into()
            ])
        );
        let r = where_(
            Operand::Scalar(&Scalar::Bool(true)),
            Operand::Scalar(&Scalar::Int(1)),
            Operand::Scalar(&Scalar::Float(2.0)),
        )
        .unwrap();
        assert_eq!(r.to_item(), vec![1.0].into());
        let s = arr(vec!["a"].into());
        assert!(where_(Operand::Array(&s), Operand::Array(&s), Operand::Array(&s)).is_err());
    }

    #[test]
    fn clip_bounds() {
        let x = Array::from_vec(vec![1i64, 5, 9]);
        let r = clip(&x, Some(&Scalar::Int(2)), Some(&Scalar::Int(6))).unwrap();
        assert_eq!(r.to_item(), vec![2i64, 5, 6].into());
        let r = clip(&x, Some(&Scalar::Float(2.5)), None).unwrap();
        assert_eq!(r.dtype(), DType::Float64);
        assert_eq!(clip(&x, None, None).unwrap(), x);
    }

    #[test]
    fn clip_skips_harmless_out_of_range_bounds() {
        let x = Array::from_vec(vec![1i8, 5, -100]);
        let r = clip(&x, Some(&Scalar::Int(-1000)), Some(&Scalar::Int(3))).unwrap();
        assert_eq!(r.dtype(), DType::Int8);
        assert_eq!(r.to_item(), vec![1i64, 3, -100].into());
        assert_eq!(
            clip(&x, Some(&Scalar::Int(1000)), None).unwrap_err().code(),
            Code::Value
        );
        assert_eq!(clip(&x, None, Some(&Scalar::Int(500))).unwrap(), x);
        assert!(!clip_bound_is_noop(
            DType::Float32,
            &Scalar::Int(1 << 40),
            false
        ));
    }

    #[test]
    fn round_to_decimals_matches_numpy() {
        let f = Array::from_vec(vec![2.675f64, -0.5, 1e20, 123.456]);
        let r = round_to(&f, 2).unwrap().to_item();
        let Item::List(v) = r else { panic!() };
        assert_eq!(v[0], 2.68.into()); // like NumPy: rint(2.675 * 100) / 100
        assert_eq!(
            round_to(&f, -5).unwrap().to_item(),
            vec![0.0, -0.0, 1e20, 0.0].into()
        );
        let big = round_to(&Array::from_vec(vec![1234.5f64]), 400)
            .unwrap()
            .to_item();
        assert!(
            matches!(big, Item::List(ref v) if matches!(v[0], Item::Scalar(Scalar::Float(x)) if x.is_nan()))
        );
        let f32x = Array::from_vec(vec![2.675f32]);
        let Item::List(v) = round_to(&f32x, 2).unwrap().to_item() else {
            panic!()
        };
        assert_eq!(v[0], Item::Scalar(Scalar::Float(f64::from(2.68f32))));
        let i8x = Array::from_vec(vec![125i8, 127, -5]);
        assert_eq!(
            round_to(&i8x, -1).unwrap().to_item(),
            vec![120i64, -126, 0].into()
        );
        assert_eq!(round_to(&i8x, 3).unwrap(), i8x);
        let b = Array::from_vec(vec![true]);
        assert_eq!(round_to(&b, 1).unwrap_err().code(), Code::DType);
        assert_eq!(round_to(&b, 0).unwrap(), b);
    }
}
