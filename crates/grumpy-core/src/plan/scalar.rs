//! Ops on scalar registers. A `dim=None` reduction gives a Python scalar in the Python body, so
//! what follows it is Python arithmetic (`s * 2.0`, `-s`) or a grumpy function called on a
//! Python scalar (`gr.sqrt(s)`, `gr.clip(s, 0, 1)`, `gr.where(s > 1, s, 0.5)`).
//!
//! The grumpy functions run exactly as the eager functions do on a scalar (a one-element
//! array through the same kernel, element 0 read back). Python operators follow Python's
//! rules; wherever Python would raise or could differ from 64-bit arithmetic (division by
//! zero, integer overflow, bool arithmetic, complex powers, huge ints compared with floats),
//! the op reports [`Code::Unsupported`] so the caller runs the Python body, which then does
//! whatever Python does.
//!
//! ```
//! use grumpy_core::{dtype::Scalar, kernels::elementwise::BinaryOp, plan::scalar::binary};
//! assert_eq!(binary(BinaryOp::Rem, &Scalar::Float(-7.0), &Scalar::Float(2.0)).unwrap(), Scalar::Float(1.0));
//! assert_eq!(binary(BinaryOp::FloorDiv, &Scalar::Int(-7), &Scalar::Int(2)).unwrap(), Scalar::Int(-4));
//! assert!(binary(BinaryOp::Div, &Scalar::Float(1.0), &Scalar::Float(0.0)).is_err()); // ZeroDivisionError in Python
//! ```

use super::fuse::MapOp;
use crate::array::Array;
use crate::dtype::Scalar;
use crate::error::{Code, Error, Result};
use crate::kernels::elementwise::{binary as kernel_binary, scalar_array, BinaryOp, Operand};
use crate::kernels::unary::{clip as kernel_clip, unary as kernel_unary, where_, UnaryOp};
use crate::layout::Layout;

/// Integers whose conversion to f64 is exact (Python compares ints and floats exactly).
const EXACT: i64 = 1 << 53;

fn python_decides(what: String) -> Error {
    Error::new(
        Code::Unsupported,
        what,
        "Python's own rules apply to this scalar (it may raise, or need more than 64 bits)",
        "the Python body runs for this batch",
    )
}

/// Element 0 of a one-element array as a scalar (null → [`Scalar::Null`]).
pub(crate) fn first(a: &Array) -> Result<Scalar> {
    match &a.layout {
        Layout::Leaf(l) if l.len() == 1 => Ok(if l.validity.as_ref().is_some_and(|v| !v.get(0)) {
            Scalar::Null
        } else {
            l.values.scalar_at(0)
        }),
        _ => Err(python_decides("a scalar op produced an array".to_owned())),
    }
}

fn py_float_rem(a: f64, b: f64) -> f64 {
    // CPython float_rem: fmod, then move the remainder to the divisor's sign.
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

fn py_float_floordiv(a: f64, b: f64) -> f64 {
    // CPython float_floor_div (via _float_div_mod).
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let _ = m;
    if div != 0.0 {
        let mut fd = div.floor();
        if div - fd > 0.5 {
            fd += 1.0;
        }
        fd
    } else {
        0.0f64.copysign(a / b)
    }
}

fn float_op(op: BinaryOp, a: f64, b: f64) -> Option<Scalar> {
    use BinaryOp::*;
    let f = |x: f64| Some(Scalar::Float(x));
    match op {
        Add => f(a + b),
        Sub => f(a - b),
        Mul => f(a * b),
        Div | Rem | FloorDiv if b == 0.0 => None, // ZeroDivisionError
        Div => f(a / b),
        Rem => f(py_float_rem(a, b)),
        FloorDiv => f(py_float_floordiv(a, b)),
        Pow => {
            let r = a.powf(b);
            // complex results, ZeroDivisionError (0 ** -1) and OverflowError stay Python's
            let surprising = (r.is_nan() && !a.is_nan() && !b.is_nan())
                || (r.is_infinite() && a.is_finite() && b.is_finite());
            (!surprising).then_some(Scalar::Float(r))
        }
        Eq => Some(Scalar::Bool(a == b)),
        Ne => Some(Scalar::Bool(a != b)),
        Lt => Some(Scalar::Bool(a < b)),
        Le => Some(Scalar::Bool(a <= b)),
        Gt => Some(Scalar::Bool(a > b)),
        Ge => Some(Scalar::Bool(a >= b)),
        And | Or | Xor | Minimum | Maximum => None,
    }
}

fn int_op(op: BinaryOp, a: i64, b: i64) -> Option<Scalar> {
    use BinaryOp::*;
    let i = |x: Option<i64>| x.map(Scalar::Int);
    match op {
        Add => i(a.checked_add(b)),
        Sub => i(a.checked_sub(b)),
        Mul => i(a.checked_mul(b)),
        Div | Rem | FloorDiv if b == 0 => None,
        Div if a.abs() <= EXACT && b.abs() <= EXACT => Some(Scalar::Float(a as f64 / b as f64)),
        Div => None,
        FloorDiv => {
            let q = a.checked_div(b)?;
            let adjust = a % b != 0 && ((a < 0) != (b < 0));
            i(Some(if adjust { q - 1 } else { q }))
        }
        Rem => {
            let r = a.checked_rem(b)?;
            i(Some(if r != 0 && ((r < 0) != (b < 0)) {
                r + b
            } else {
                r
            }))
        }
        Pow => {
            let e = u32::try_from(b).ok()?;
            i(a.checked_pow(e))
        }
        Eq => Some(Scalar::Bool(a == b)),
        Ne => Some(Scalar::Bool(a != b)),
        Lt => Some(Scalar::Bool(a < b)),
        Le => Some(Scalar::Bool(a <= b)),
        Gt => Some(Scalar::Bool(a > b)),
        Ge => Some(Scalar::Bool(a >= b)),
        And => Some(Scalar::Int(a & b)),
        Or => Some(Scalar::Int(a | b)),
        Xor => Some(Scalar::Int(a ^ b)),
        Minimum | Maximum => None,
    }
}

/// `a <op> b` on two scalars: Python semantics for operators; `minimum`/`maximum` (functions
/// only) as the eager function computes them. Unsupported where Python would raise or could
/// differ.
pub fn binary(op: BinaryOp, a: &Scalar, b: &Scalar) -> Result<Scalar> {
    if matches!(op, BinaryOp::Minimum | BinaryOp::Maximum) {
        let arr = scalar_array(a)?;
        return first(&kernel_binary(
            op,
            Operand::Array(&arr),
            Operand::Scalar(b),
        )?);
    }
    let out = match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => float_op(op, *x, *y),
        (Scalar::Int(x), Scalar::Int(y)) => int_op(op, *x, *y),
        (Scalar::Int(x), Scalar::Float(y)) if x.abs() <= EXACT => float_op(op, *x as f64, *y),
        (Scalar::Float(x), Scalar::Int(y)) if y.abs() <= EXACT => float_op(op, *x, *y as f64),
        (Scalar::Bool(x), Scalar::Bool(y)) => match op {
            BinaryOp::And => Some(Scalar::Bool(x & y)),
            BinaryOp::Or => Some(Scalar::Bool(x | y)),
            BinaryOp::Xor => Some(Scalar::Bool(x ^ y)),
            BinaryOp::Eq => Some(Scalar::Bool(x == y)),
            BinaryOp::Ne => Some(Scalar::Bool(x != y)),
            _ => None,
        },
        _ => None,
    };
    out.ok_or_else(|| python_decides(format!("{a} {} {b} on Python scalars", op.symbol())))
}

/// A unary op on a scalar: `-s`/`abs(s)`/`~s` by Python's rules, the grumpy functions as the
/// eager function computes them on a scalar.
pub fn unary(op: UnaryOp, s: &Scalar) -> Result<Scalar> {
    let out = match (op, s) {
        (UnaryOp::Neg, Scalar::Float(x)) => Some(Scalar::Float(-x)),
        (UnaryOp::Neg, Scalar::Int(x)) => x.checked_neg().map(Scalar::Int),
        (UnaryOp::Abs, Scalar::Float(x)) => Some(Scalar::Float(x.abs())),
        (UnaryOp::Abs, Scalar::Int(x)) => x.checked_abs().map(Scalar::Int),
        (UnaryOp::Not, Scalar::Int(x)) => Some(Scalar::Int(!x)),
        (UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Not, _) => None,
        (_, Scalar::Bool(_) | Scalar::Int(_) | Scalar::Float(_) | Scalar::Null) => {
            return first(&kernel_unary(op, &scalar_array(s)?)?);
        }
        _ => None,
    };
    out.ok_or_else(|| python_decides(format!("{}({s}) on a Python scalar", op.name())))
}

/// `gr.clip(s, lo, hi)` on a scalar (as the eager function).
pub fn clip(s: &Scalar, lo: Option<&Scalar>, hi: Option<&Scalar>) -> Result<Scalar> {
    first(&kernel_clip(&scalar_array(s)?, lo, hi)?)
}

/// `gr.where(c, a, b)` with a scalar condition: a scalar when `a` and `b` are scalars, else an
/// array (as the eager function).
pub fn where_scalar(c: &Scalar, a: Operand<'_>, b: Operand<'_>) -> Result<super::Value> {
    let r = where_(Operand::Scalar(c), a, b)?;
    Ok(match (a, b) {
        (Operand::Scalar(_), Operand::Scalar(_)) => super::Value::Scalar(first(&r)?),
        _ => super::Value::Array(r),
    })
}

/// A fused elementwise chain applied to a scalar register, op by op.
pub(crate) fn run_chain(chain: &[MapOp], s: &Scalar) -> Result<Scalar> {
    let mut cur = s.clone();
    for m in chain {
        cur = match m {
            MapOp::Binary {
                op,
                scalar,
                scalar_left: false,
            } => binary(*op, &cur, scalar)?,
            MapOp::Binary {
                op,
                scalar,
                scalar_left: true,
            } => binary(*op, scalar, &cur)?,
            MapOp::Unary(u) => unary(*u, &cur)?,
            MapOp::Clip(lo, hi) => clip(&cur, lo.as_ref(), hi.as_ref())?,
        };
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_rules() {
        let f = |op, a, b| binary(op, &Scalar::Float(a), &Scalar::Float(b));
        assert_eq!(f(BinaryOp::Rem, 7.0, -2.0).unwrap(), Scalar::Float(-1.0));
        assert_eq!(f(BinaryOp::Rem, -0.0, 5.0).unwrap(), Scalar::Float(0.0));
        assert_eq!(
            f(BinaryOp::FloorDiv, 7.5, -2.0).unwrap(),
            Scalar::Float(-4.0)
        );
        assert!(f(BinaryOp::Pow, -8.0, 1.0 / 3.0).is_err());
        assert!(f(BinaryOp::Pow, 10.0, 400.0).is_err());
        assert_eq!(f(BinaryOp::Lt, 1.0, 2.0).unwrap(), Scalar::Bool(true));
    }

    #[test]
    fn python_int_rules() {
        let i = |op, a, b| binary(op, &Scalar::Int(a), &Scalar::Int(b));
        assert_eq!(i(BinaryOp::Rem, 7, -2).unwrap(), Scalar::Int(-1));
        assert_eq!(i(BinaryOp::Div, 7, 2).unwrap(), Scalar::Float(3.5));
        assert!(i(BinaryOp::Mul, i64::MAX, 2).is_err());
        assert!(i(BinaryOp::Pow, 2, -1).is_err());
        assert_eq!(
            i(BinaryOp::FloorDiv, i64::MIN, 1).unwrap(),
            Scalar::Int(i64::MIN)
        );
        assert!(i(BinaryOp::FloorDiv, i64::MIN, -1).is_err());
        assert!(binary(BinaryOp::Add, &Scalar::Bool(true), &Scalar::Bool(true)).is_err());
    }

    #[test]
    fn functions_match_the_kernels() {
        assert_eq!(
            unary(UnaryOp::Sqrt, &Scalar::Float(4.0)).unwrap(),
            Scalar::Float(2.0)
        );
        assert!(
            matches!(unary(UnaryOp::Sqrt, &Scalar::Float(-1.0)).unwrap(), Scalar::Float(x) if x.is_nan())
        );
        assert_eq!(
            unary(UnaryOp::IsNan, &Scalar::Float(1.0)).unwrap(),
            Scalar::Bool(false)
        );
        assert_eq!(
            clip(
                &Scalar::Float(6.0),
                Some(&Scalar::Int(0)),
                Some(&Scalar::Int(1))
            )
            .unwrap(),
            Scalar::Float(1.0)
        );
        assert!(unary(UnaryOp::Neg, &Scalar::Int(i64::MIN)).is_err());
    }
}
