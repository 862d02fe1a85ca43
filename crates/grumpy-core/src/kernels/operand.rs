//! Operands as a caller gives them, with NumPy 2's promotion rules (NEP 50) between them.
//!
//! * [`Arg::Weak`] scalars (Python `bool`/`int`/`float`/`str`) take the array's dtype:
//!   `float32_array * 2.5` stays float32, `int8_array + 1` stays int8 (an int that does not
//!   fit is an error).
//! * [`Arg::Strong`] scalars (NumPy scalars, 0-d arrays) promote with the array's dtype:
//!   `float32_array * float64(2)` → float64, `int8_array + int64(1)` → int64.
//! * [`Arg::BigInt`] (a Python int beyond 64 bits) only combines with float arrays; with
//!   integer arrays arithmetic is an error (NumPy 2: `OverflowError`) and comparisons have
//!   their exact answer (bool arrays refuse, as in NumPy).
//!
//! Arrays and frames both combine through [`apply`], so `df * np.float64(2)` promotes its
//! columns exactly as `x * np.float64(2)` promotes `x`.
//!
//! ```
//! use grumpy_core::kernels::elementwise::BinaryOp;
//! use grumpy_core::kernels::operand::{apply, Arg};
//! use grumpy_core::{Array, DType, Scalar};
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), Some(DType::Float32)).unwrap();
//! let weak = apply(BinaryOp::Mul, &Arg::Array(x.clone()), &Arg::Weak(Scalar::Float(2.0))).unwrap();
//! assert_eq!(weak.dtype(), DType::Float32);
//! let strong = Arg::Strong(Scalar::Float(2.0), DType::Float64);
//! let y = apply(BinaryOp::Mul, &Arg::Array(x), &strong).unwrap();
//! assert_eq!(y.dtype(), DType::Float64);
//! assert_eq!(y.to_item(), vec![vec![2.0, 4.0], vec![6.0]].into());
//! ```

use crate::array::Array;
use crate::dtype::{promote, DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::elementwise::{binary, scalar_array, BinaryOp, Operand};
use crate::layout::Item;

/// One operand of an elementwise operation, with its promotion kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// An array.
    Array(Array),
    /// A weak (Python) scalar; `Scalar::Null` stands for `None`.
    Weak(Scalar),
    /// A strong (NumPy) scalar and its dtype.
    Strong(Scalar, DType),
    /// An integer beyond 64 bits: its decimal text and its value as a float.
    BigInt(String, f64),
}

impl Arg {
    /// True for the scalar kinds.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Arg::Array(_))
    }

    /// The operand as an array: scalars become one-element arrays (strong ones keep their
    /// dtype); a big integer has no array form and is an error.
    ///
    /// ```
    /// use grumpy_core::kernels::operand::Arg;
    /// use grumpy_core::{DType, Scalar};
    /// let a = Arg::Strong(Scalar::Int(3), DType::Int8).to_array().unwrap();
    /// assert_eq!((a.len(), a.dtype()), (1, DType::Int8));
    /// ```
    pub fn to_array(&self) -> Result<Array> {
        match self {
            Arg::Array(x) => Ok(x.clone()),
            Arg::Weak(s) => scalar_array(s),
            Arg::Strong(s, d) => {
                Array::from_item(&Item::List(vec![Item::Scalar(s.clone())]), Some(*d))
            }
            Arg::BigInt(r, _) => Err(big_error(r, DType::Int64, "a computation")),
        }
    }
}

fn big_error(repr: &str, d: DType, op: &str) -> Error {
    Error::new(
        Code::Value,
        format!("Python integer {repr} out of bounds for {d}"),
        format!(
            "{op} with a {d} array needs a 64-bit value (NumPy 2 raises OverflowError here too)"
        ),
        "use a float (e.g. 2.0**70), or cast the array to float first: x.astype(gr.float64)",
    )
}

/// `a op b` with broadcasting and NEP 50 promotion (see the module docs). Two scalars give a
/// one-element array.
pub fn apply(op: BinaryOp, a: &Arg, b: &Arg) -> Result<Array> {
    match (a, b) {
        (Arg::Array(x), _) => with_array(op, x, b, false),
        (_, Arg::Array(y)) => with_array(op, y, a, true),
        _ => with_array(op, &a.to_array()?, b, false),
    }
}

/// The comparison with its operands swapped (`a < b` is `b > a`).
fn flip(op: BinaryOp) -> BinaryOp {
    use BinaryOp::*;
    match op {
        Lt => Gt,
        Le => Ge,
        Gt => Lt,
        Ge => Le,
        other => other,
    }
}

/// True division of integers computes in float64, where NumPy accepts an int of any size
/// (`uint8_array / -1`, `int_array / 2**70`): such an int is a weak float there.
fn division_operand(op: BinaryOp, d: DType, other: &Arg) -> Option<Arg> {
    if op != BinaryOp::Div || d.is_float() || d == DType::String {
        return None;
    }
    match other {
        Arg::Weak(Scalar::Int(i)) => Some(Arg::Weak(Scalar::Float(*i as f64))),
        Arg::Weak(Scalar::UInt(u)) => Some(Arg::Weak(Scalar::Float(*u as f64))),
        Arg::BigInt(_, f) => Some(Arg::Weak(Scalar::Float(*f))),
        _ => None,
    }
}

/// `x op other`, or `other op x` when `reflected`.
fn with_array(op: BinaryOp, x: &Array, other: &Arg, reflected: bool) -> Result<Array> {
    let as_float = division_operand(op, x.dtype(), other);
    let other = as_float.as_ref().unwrap_or(other);
    let with_scalar = |x: &Array, s: &Scalar| {
        if reflected {
            binary(op, Operand::Scalar(s), Operand::Array(x))
        } else {
            binary(op, Operand::Array(x), Operand::Scalar(s))
        }
    };
    match other {
        Arg::Array(y) if reflected => binary(op, Operand::Array(y), Operand::Array(x)),
        Arg::Array(y) => binary(op, Operand::Array(x), Operand::Array(y)),
        Arg::Weak(s) => with_scalar(x, s),
        Arg::Strong(s, d) => {
            // Promote the array to the common dtype; the scalar then fits it exactly, so it can
            // take part as a weak scalar (one pass, no broadcast machinery).
            let p = promote(x.dtype(), *d);
            if x.dtype() != DType::String && p != x.dtype() {
                with_scalar(&x.astype(p)?, s)
            } else {
                with_scalar(x, s)
            }
        }
        Arg::BigInt(repr, f) => {
            let d = x.dtype();
            if d.is_float() || d == DType::String {
                return with_scalar(x, &Scalar::Float(*f));
            }
            if !op.is_comparison() || d == DType::Bool {
                // (NumPy raises for bool arrays even in comparisons.)
                return Err(big_error(repr, d, &format!("operator {}", op.symbol())));
            }
            // Every 64-bit value is below a positive (above a negative) huge int: compare
            // against the dtype-independent extreme that gives the same answer.
            let op = if reflected { flip(op) } else { op };
            use BinaryOp::*;
            let (op, s) = if *f > 0.0 {
                match op {
                    Lt | Le | Ne => (Le, Scalar::UInt(u64::MAX)),
                    _ => (Gt, Scalar::UInt(u64::MAX)),
                }
            } else {
                match op {
                    Gt | Ge | Ne => (Ge, Scalar::Int(i64::MIN)),
                    _ => (Lt, Scalar::Int(i64::MIN)),
                }
            };
            binary(op, Operand::Array(x), Operand::Scalar(&s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64], d: DType) -> Array {
        let item = Item::List(v.iter().map(|&i| Item::Scalar(Scalar::Int(i))).collect());
        Array::from_item(&item, Some(d)).unwrap()
    }

    #[test]
    fn strong_scalars_promote_and_weak_ones_do_not() {
        let x = ints(&[1, 2], DType::Int8);
        let weak = apply(
            BinaryOp::Add,
            &Arg::Array(x.clone()),
            &Arg::Weak(Scalar::Int(1)),
        );
        assert_eq!(weak.unwrap().dtype(), DType::Int8);
        let strong = Arg::Strong(Scalar::Int(1), DType::Int64);
        let r = apply(BinaryOp::Add, &strong, &Arg::Array(x)).unwrap();
        assert_eq!(r.dtype(), DType::Int64);
        assert_eq!(r, ints(&[2, 3], DType::Int64));
    }

    #[test]
    fn big_ints_compare_exactly_and_refuse_arithmetic() {
        let x = ints(&[-5, 7], DType::Int32);
        let big = Arg::BigInt("2**70".into(), 2f64.powi(70));
        let lt = apply(BinaryOp::Lt, &Arg::Array(x.clone()), &big).unwrap();
        assert_eq!(lt.to_item(), vec![true, true].into());
        let gt = apply(BinaryOp::Lt, &big, &Arg::Array(x.clone())).unwrap();
        assert_eq!(gt.to_item(), vec![false, false].into());
        let e = apply(BinaryOp::Add, &Arg::Array(x.clone()), &big).unwrap_err();
        assert_eq!(e.code(), Code::Value);
        let div = apply(BinaryOp::Div, &Arg::Array(x), &big).unwrap();
        assert_eq!(div.dtype(), DType::Float64);
    }
}
