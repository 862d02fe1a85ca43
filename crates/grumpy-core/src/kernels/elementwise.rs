//! Binary elementwise operations (`+ - * / // % ** == != < <= > >= & | ^`, `minimum`,
//! `maximum`) with NumPy 2 promotion and Awkward-style ragged broadcasting.
//!
//! * **Types.** array ⊕ array promotes with [`promote`]; a [`Scalar`] operand is a *weak* Python
//!   scalar ([`promote_weak`]): `float32 * 2.5` stays float32, `int8 + 1` stays int8 (a Python
//!   int that does not fit is an error, except in comparisons, which widen). `/` of integers gives
//!   float64; comparisons give bool; `& | ^` need bool or integers; bool `+`/`*` are logical
//!   or/and, bool `-` is an error, bool `// % **` compute in int8 (all as NumPy). Strings support
//!   `==`, `!=` and `+` (concatenation) only.
//! * **Values.** Integers wrap on overflow; integer `//`/`%` by zero and integer `**` with a
//!   negative exponent are `Code::Value` errors (null slots never raise); floats follow IEEE
//!   (`1.0 / 0.0 == inf`) with Python's sign rules for `//` and `%`.
//! * **Nulls.** The result is null wherever an input is null (validity masks are AND-ed).
//! * **Shapes.** A scalar broadcasts everywhere (one pass over the leaf buffers, offsets
//!   shared); arrays broadcast as described in [`super::broadcast`] (union ⊕ union: a row is
//!   a scalar only where both rows are scalars, else the scalar spreads over the list row).
//! * **Views.** Only the values a view (a row slice) reaches are computed: the result of
//!   `x[0:1] * 2.0` holds the first row's values, not a mapped copy of the parent buffer.
//!
//! ```
//! use grumpy_core::{array::Array, dtype::Scalar};
//! use grumpy_core::kernels::elementwise::{binary, BinaryOp, Operand};
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let y = binary(BinaryOp::Mul, Operand::Array(&x), Operand::Scalar(&Scalar::Float(2.0))).unwrap();
//! let z = binary(BinaryOp::Sub, Operand::Scalar(&Scalar::Int(10)), Operand::Array(&y)).unwrap();
//! assert_eq!(z.to_item(), vec![vec![8.0, 6.0], vec![4.0]].into());
//! let w = binary(BinaryOp::Add, Operand::Array(&x), Operand::Array(&Array::from_vec(vec![10.0, 20.0]))).unwrap();
//! assert_eq!(w.to_item(), vec![vec![11.0, 12.0], vec![23.0]].into());
//! ```

use super::arith::{any_valid, map2, maximum, minimum, update, with_int, with_num, Arith, In};
use super::broadcast::{and_leaf_validity, broadcast_pair, zip_leaves};
use crate::array::Array;
use crate::buffer::{Bitmap, Buf, Native, StrValues, Values};
use crate::dtype::{promote, promote_weak, DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_values;
use crate::layout::{Item, Layout, Leaf, List, Union};
use std::ops::{BitAnd, BitOr, BitXor};

/// A binary elementwise operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `a + b` (string concatenation for strings).
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b` (true division).
    Div,
    /// `a // b` (floor division).
    FloorDiv,
    /// `a % b` (sign of the divisor).
    Rem,
    /// `a ** b`.
    Pow,
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a & b` (bool or integers).
    And,
    /// `a | b` (bool or integers).
    Or,
    /// `a ^ b` (bool or integers).
    Xor,
    /// `minimum(a, b)` (NaN propagates).
    Minimum,
    /// `maximum(a, b)` (NaN propagates).
    Maximum,
}

impl BinaryOp {
    /// The Python operator or function name (`"+"`, `"minimum"`, ...).
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            FloorDiv => "//",
            Rem => "%",
            Pow => "**",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "&",
            Or => "|",
            Xor => "^",
            Minimum => "minimum",
            Maximum => "maximum",
        }
    }

    /// True for `== != < <= > >=`.
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge)
    }
}

/// One operand: an array or a weak (Python) scalar.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// An array.
    Array(&'a Array),
    /// A Python scalar (weak in promotion); broadcasts everywhere.
    Scalar(&'a Scalar),
}

/// How one op runs: the dtype the inputs are cast to, the effective op, and the result dtype.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) op: BinaryOp,
    pub(crate) compute: DType,
    pub(crate) out: DType,
}

fn dtype_error(op: BinaryOp, a: DType, b: DType, why: &str) -> Error {
    Error::new(
        Code::DType,
        format!("operator {} is not supported for {a} and {b}", op.symbol()),
        why.to_owned(),
        "cast first with .astype(...), or use an operator defined for these types",
    )
}

/// The common dtype of two array dtypes (strings combine only with strings).
pub(crate) fn common_dtype(op: BinaryOp, a: DType, b: DType) -> Result<DType> {
    if (a == DType::String) != (b == DType::String) {
        return Err(dtype_error(op, a, b, "strings only combine with strings"));
    }
    Ok(promote(a, b))
}

pub(crate) fn plan(op: BinaryOp, ct: DType) -> Result<Plan> {
    use BinaryOp::*;
    let mk = |op, compute, out| Ok(Plan { op, compute, out });
    if ct == DType::String {
        return match op {
            Eq | Ne => mk(op, ct, DType::Bool),
            Add => mk(op, ct, ct),
            _ => Err(dtype_error(
                op,
                ct,
                ct,
                "strings support ==, != and + (concatenation) only",
            )),
        };
    }
    if op.is_comparison() {
        return mk(op, ct, DType::Bool);
    }
    match op {
        Div if ct.is_float() => mk(op, ct, ct),
        Div => mk(op, DType::Float64, DType::Float64),
        And | Or | Xor if ct.is_float() => Err(dtype_error(
            op,
            ct,
            ct,
            "bitwise operators need bool or integer values",
        )),
        _ if ct == DType::Bool => match op {
            Add | Maximum => mk(Or, ct, ct),
            Mul | Minimum => mk(And, ct, ct),
            Sub => Err(Error::new(
                Code::DType,
                "operator - is not supported for bool and bool",
                "boolean subtract is not supported (as in NumPy)",
                "use ^ (xor) or != for booleans, or cast to an integer first",
            )),
            FloorDiv | Rem | Pow => mk(op, DType::Int8, DType::Int8),
            _ => mk(op, ct, ct),
        },
        _ => mk(op, ct, ct),
    }
}

/// Result dtype of `op` on two arrays of dtypes `a` and `b` (NumPy 2 rules).
///
/// ```
/// use grumpy_core::{dtype::DType, kernels::elementwise::{result_dtype, BinaryOp}};
/// assert_eq!(result_dtype(BinaryOp::Div, DType::Int32, DType::Int32).unwrap(), DType::Float64);
/// assert_eq!(result_dtype(BinaryOp::Mul, DType::Float32, DType::Int8).unwrap(), DType::Float32);
/// assert_eq!(result_dtype(BinaryOp::Lt, DType::Int8, DType::Float64).unwrap(), DType::Bool);
/// assert!(result_dtype(BinaryOp::Sub, DType::String, DType::String).is_err());
/// ```
pub fn result_dtype(op: BinaryOp, a: DType, b: DType) -> Result<DType> {
    Ok(plan(op, common_dtype(op, a, b)?)?.out)
}

fn int_range(d: DType) -> (i128, i128) {
    with_int!(d, T => (T::MIN as i128, T::MAX as i128), (i128::MIN, i128::MAX))
}

fn scalar_int(s: &Scalar) -> Option<i128> {
    match *s {
        Scalar::Int(i) => Some(i128::from(i)),
        Scalar::UInt(u) => Some(i128::from(u)),
        _ => None,
    }
}

/// Compute dtype for an array of dtype `d` with a weak scalar `s`.
pub(crate) fn weak_dtype(op: BinaryOp, d: DType, s: &Scalar) -> Result<DType> {
    let ct = promote_weak(d, s).map_err(|e| e.context(format!("operator {}", op.symbol())))?;
    if let (Some(v), true) = (scalar_int(s), ct.is_integer()) {
        let (lo, hi) = int_range(ct);
        if v < lo || v > hi {
            if op.is_comparison() {
                return Ok(promote(ct, s.default_dtype()));
            }
            return Err(Error::new(
                Code::Value,
                format!("Python integer {v} out of bounds for {ct}"),
                format!("{ct} holds {lo}..={hi} (NumPy 2 raises here too)"),
                "cast the array to a wider type first, e.g. x.astype(gr.int64)",
            ));
        }
    }
    Ok(ct)
}

/// A scalar as a value of `T` (wrapping/rounding like `as`; range checked by the caller).
pub(crate) fn scalar_const<T: Native>(s: &Scalar) -> T {
    match *s {
        Scalar::Bool(b) => T::from_i64(i64::from(b)),
        Scalar::Int(i) if T::DTYPE.is_float() => T::from_f64(i as f64),
        Scalar::Int(i) => T::from_i64(i),
        Scalar::UInt(u) if T::DTYPE.is_float() => T::from_f64(u as f64),
        Scalar::UInt(u) => T::from_u64(u),
        Scalar::Float(f) => T::from_f64(f),
        Scalar::Str(_) | Scalar::Null => T::default(),
    }
}

/// A leaf-level input after casting to the compute dtype.
pub(crate) enum Src<'a> {
    /// Values cast to the compute dtype.
    Vals(Values),
    /// A scalar (converted per element type).
    Const(&'a Scalar),
}

fn internal(what: &str) -> Error {
    Error::new(
        Code::Unsupported,
        "internal error in an elementwise kernel",
        what.to_owned(),
        "this is a bug: please report it with the code that triggered it",
    )
}

pub(crate) fn typed<'a, T: Native>(s: &'a Src<'_>) -> Result<In<'a, T>> {
    match s {
        Src::Vals(v) => v
            .as_slice::<T>()
            .map(In::Slice)
            .ok_or_else(|| internal("values not in the compute dtype")),
        Src::Const(c) => Ok(In::Const(scalar_const::<T>(c))),
    }
}

fn compare<T: Native>(op: BinaryOp, a: In<'_, T>, b: In<'_, T>, n: usize) -> Values {
    use BinaryOp::*;
    Values::from(match op {
        Eq => map2(a, b, n, |x, y| x == y),
        Ne => map2(a, b, n, |x, y| x != y),
        Lt => map2(a, b, n, |x, y| x < y),
        Le => map2(a, b, n, |x, y| x <= y),
        Gt => map2(a, b, n, |x, y| x > y),
        _ => map2(a, b, n, |x, y| x >= y),
    })
}

fn bits<T>(op: BinaryOp, a: In<'_, T>, b: In<'_, T>, n: usize) -> Values
where
    T: Native + BitAnd<Output = T> + BitOr<Output = T> + BitXor<Output = T>,
{
    Values::from(match op {
        BinaryOp::And => map2(a, b, n, |x, y| x & y),
        BinaryOp::Or => map2(a, b, n, |x, y| x | y),
        _ => map2(a, b, n, |x, y| x ^ y),
    })
}

fn zero_division() -> Error {
    Error::new(
        Code::Value,
        "integer division by zero",
        "a divisor of an integer // or % is 0",
        "cast to float first (x.astype(gr.float64)) to get inf/nan, or mask the zero divisors",
    )
}

fn numeric<T: Arith>(
    op: BinaryOp,
    a: In<'_, T>,
    b: In<'_, T>,
    n: usize,
    valid: Option<&Bitmap>,
) -> Result<Values> {
    use BinaryOp::*;
    let int = T::DTYPE.is_integer();
    Ok(Values::from(match op {
        Add => map2(a, b, n, T::add),
        Sub => map2(a, b, n, T::sub),
        Mul => map2(a, b, n, T::mul),
        Minimum => map2(a, b, n, minimum),
        Maximum => map2(a, b, n, maximum),
        FloorDiv | Rem => {
            if int && any_valid(b, n, valid, T::is_zero) {
                return Err(zero_division());
            }
            if op == FloorDiv {
                map2(a, b, n, T::floor_div)
            } else {
                map2(a, b, n, T::rem)
            }
        }
        Pow => {
            if int && any_valid(b, n, valid, T::is_negative) {
                return Err(Error::new(
                    Code::Value,
                    "integers to negative integer powers are not allowed",
                    "an integer ** has a negative integer exponent (as in NumPy)",
                    "cast the base to float first, e.g. x.astype(gr.float64) ** -1",
                ));
            }
            map2(a, b, n, T::pow)
        }
        _ if op.is_comparison() => return Ok(compare(op, a, b, n)),
        _ => return Err(internal("unexpected numeric op")),
    }))
}

fn strings(op: BinaryOp, a: &Src<'_>, b: &Src<'_>, n: usize) -> Result<Values> {
    fn get<'s>(s: &'s Src<'_>, i: usize) -> &'s str {
        match s {
            Src::Vals(v) => v.str_at(i),
            Src::Const(Scalar::Str(x)) => x,
            Src::Const(_) => "",
        }
    }
    Ok(match op {
        BinaryOp::Eq => Values::from((0..n).map(|i| get(a, i) == get(b, i)).collect::<Vec<_>>()),
        BinaryOp::Ne => Values::from((0..n).map(|i| get(a, i) != get(b, i)).collect::<Vec<_>>()),
        BinaryOp::Add => {
            let mut offsets = Vec::with_capacity(n + 1);
            let mut bytes = Vec::new();
            offsets.push(0i64);
            for i in 0..n {
                bytes.extend_from_slice(get(a, i).as_bytes());
                bytes.extend_from_slice(get(b, i).as_bytes());
                offsets.push(bytes.len() as i64);
            }
            Values::Str(StrValues {
                offsets: Buf::from_vec(offsets),
                bytes: Buf::from_vec(bytes),
            })
        }
        _ => return Err(internal("unexpected string op")),
    })
}

fn kernel(p: Plan, a: &Src<'_>, b: &Src<'_>, n: usize, valid: Option<&Bitmap>) -> Result<Values> {
    use BinaryOp::*;
    match p.compute {
        DType::String => strings(p.op, a, b, n),
        DType::Bool => {
            let (x, y) = (typed::<bool>(a)?, typed::<bool>(b)?);
            Ok(match p.op {
                And | Or | Xor => bits(p.op, x, y, n),
                op if op.is_comparison() => compare(op, x, y, n),
                _ => return Err(internal("unexpected bool op")),
            })
        }
        DType::Float32 if p.op == Div => {
            let (x, y) = (typed::<f32>(a)?, typed::<f32>(b)?);
            Ok(Values::from(map2(x, y, n, |p, q| p / q)))
        }
        DType::Float64 if p.op == Div => {
            let (x, y) = (typed::<f64>(a)?, typed::<f64>(b)?);
            Ok(Values::from(map2(x, y, n, |p, q| p / q)))
        }
        d if matches!(p.op, And | Or | Xor) => with_int!(d, T => {
            Ok(bits(p.op, typed::<T>(a)?, typed::<T>(b)?, n))
        }, Err(internal("bitwise op on a non-integer"))),
        d => with_num!(d, T => {
            numeric::<T>(p.op, typed::<T>(a)?, typed::<T>(b)?, n, valid)
        }, Err(internal("unexpected compute dtype"))),
    }
}

/// One side of a leaf-level op.
pub(crate) enum Side<'a> {
    /// A leaf (same length as the other leaf side).
    Leaf(&'a Leaf),
    /// A weak scalar.
    Scalar(&'a Scalar),
}

impl Side<'_> {
    pub(crate) fn src(&self, dtype: DType) -> Result<Src<'_>> {
        Ok(match self {
            Side::Leaf(l) => Src::Vals(cast_values(&l.values, dtype)?),
            Side::Scalar(s) => Src::Const(s),
        })
    }
}

/// Validity of a leaf op's result: AND of the leaf masks; a null scalar nulls everything.
pub(crate) fn side_validity(sides: &[&Side<'_>], n: usize) -> Option<Bitmap> {
    if sides
        .iter()
        .any(|s| matches!(s, Side::Scalar(Scalar::Null)))
    {
        return Some(Bitmap::from_bools(&vec![false; n]));
    }
    let leaves: Vec<&Leaf> = sides
        .iter()
        .filter_map(|s| match s {
            Side::Leaf(l) => Some(*l),
            Side::Scalar(_) => None,
        })
        .collect();
    and_leaf_validity(&leaves)
}

fn leaf_op(p: Plan, a: Side<'_>, b: Side<'_>) -> Result<Leaf> {
    let n = match (&a, &b) {
        (Side::Leaf(l), _) | (_, Side::Leaf(l)) => l.len(),
        _ => 1,
    };
    let valid = side_validity(&[&a, &b], n);
    let (x, y) = (a.src(p.compute)?, b.src(p.compute)?);
    let values = kernel(p, &x, &y, n, valid.as_ref())?;
    Ok(Leaf::new(values, valid))
}

/// `leaf ⊕ s` (`s ⊕ leaf` when `left`): deferred for large float leaves (see
/// [`crate::plan::lazy`]), else computed now.
fn scalar_leaf_op(p: Plan, l: &Leaf, s: &Scalar, left: bool) -> Result<Leaf> {
    let d = l.values.dtype();
    if p.compute == d && p.out == d && d.is_float() {
        if let Some(v) = crate::plan::lazy::defer_scalar_op(p.op, &l.values, s, left) {
            let valid = side_validity(&[&Side::Leaf(l), &Side::Scalar(s)], l.len());
            return Ok(Leaf::new(v, valid));
        }
    }
    if left {
        leaf_op(p, Side::Scalar(s), Side::Leaf(l))
    } else {
        leaf_op(p, Side::Leaf(l), Side::Scalar(s))
    }
}

/// A one-element flat array holding `s` (its default dtype; null → float64 null).
pub fn scalar_array(s: &Scalar) -> Result<Array> {
    let item = match s {
        Scalar::Null => Item::Null,
        other => Item::Scalar(other.clone()),
    };
    Array::from_item(&Item::List(vec![item]), Some(s.default_dtype()))
}

/// Apply a binary op with broadcasting (see the module docs for types, nulls and shapes).
/// Two scalars give a one-element flat array.
pub fn binary(op: BinaryOp, a: Operand<'_>, b: Operand<'_>) -> Result<Array> {
    match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(_)) => {
            let arr = scalar_array(x)?;
            binary(op, Operand::Array(&arr), b)
        }
        (Operand::Array(x), Operand::Scalar(s)) => {
            let p = plan(op, weak_dtype(op, x.dtype(), s)?)?;
            let layout = x
                .layout
                .compact()
                .map_leaves(&mut |l| scalar_leaf_op(p, l, s, false))?;
            Ok(Array::new(layout))
        }
        (Operand::Scalar(s), Operand::Array(x)) => {
            let p = plan(op, weak_dtype(op, x.dtype(), s)?)?;
            let layout = x
                .layout
                .compact()
                .map_leaves(&mut |l| scalar_leaf_op(p, l, s, true))?;
            Ok(Array::new(layout))
        }
        (Operand::Array(x), Operand::Array(y)) => {
            let p = plan(op, common_dtype(op, x.dtype(), y.dtype())?)?;
            let (la, lb) = broadcast_pair(&x.layout, &y.layout)?;
            let layout = zip_leaves(&[&la, &lb], &mut |ls| {
                leaf_op(p, Side::Leaf(ls[0]), Side::Leaf(ls[1]))
            })?;
            Ok(Array::new(layout))
        }
    }
}

fn map_owned(layout: Layout, f: &mut impl FnMut(Leaf) -> Result<Leaf>) -> Result<Layout> {
    Ok(match layout {
        Layout::Leaf(l) => Layout::Leaf(f(l)?),
        Layout::List(l) => Layout::List(List {
            offsets: l.offsets,
            validity: l.validity,
            child: std::sync::Arc::new(map_owned(std::sync::Arc::unwrap_or_clone(l.child), f)?),
        }),
        Layout::Union(u) => Layout::Union(Union {
            tags: u.tags,
            index: u.index,
            scalar: std::sync::Arc::new(map_owned(std::sync::Arc::unwrap_or_clone(u.scalar), f)?),
            list: std::sync::Arc::new(map_owned(std::sync::Arc::unwrap_or_clone(u.list), f)?),
        }),
    })
}

fn update_with<T: Arith>(op: BinaryOp, x: &mut [T], c: T, reflected: bool) {
    match (op, reflected) {
        (BinaryOp::Add, _) => update(x, |v| v.add(c)),
        (BinaryOp::Sub, false) => update(x, |v| v.sub(c)),
        (BinaryOp::Sub, true) => update(x, |v| c.sub(v)),
        (BinaryOp::Mul, _) => update(x, |v| v.mul(c)),
        (BinaryOp::Minimum, _) => update(x, |v| minimum(v, c)),
        _ => update(x, |v| maximum(v, c)),
    }
}

macro_rules! in_place {
    ($values:expr, $b:ident, $T:ident => $body:expr) => {
        match $values {
            Values::I8(mut $b) => {
                type $T = i8;
                $body;
                Values::I8($b)
            }
            Values::I16(mut $b) => {
                type $T = i16;
                $body;
                Values::I16($b)
            }
            Values::I32(mut $b) => {
                type $T = i32;
                $body;
                Values::I32($b)
            }
            Values::I64(mut $b) => {
                type $T = i64;
                $body;
                Values::I64($b)
            }
            Values::U8(mut $b) => {
                type $T = u8;
                $body;
                Values::U8($b)
            }
            Values::U16(mut $b) => {
                type $T = u16;
                $body;
                Values::U16($b)
            }
            Values::U32(mut $b) => {
                type $T = u32;
                $body;
                Values::U32($b)
            }
            Values::U64(mut $b) => {
                type $T = u64;
                $body;
                Values::U64($b)
            }
            Values::F32(mut $b) => {
                type $T = f32;
                $body;
                Values::F32($b)
            }
            Values::F64(mut $b) => {
                type $T = f64;
                $body;
                Values::F64($b)
            }
            other => other,
        }
    };
}

/// `a ⊕ scalar` (or `scalar ⊕ a` when `reflected`) consuming `a`: when the result dtype is
/// `a`'s dtype and the op is `+ - * minimum maximum`, the leaf buffers are rewritten in place
/// if nothing else shares them (NumPy's temporary elision: `x * 2.0 + 1.0` allocates once).
/// Otherwise this is [`binary`].
///
/// ```
/// use grumpy_core::{array::Array, dtype::Scalar};
/// use grumpy_core::kernels::elementwise::{binary_scalar_owned, BinaryOp};
/// let x = Array::from_vec(vec![1.0, 2.0]);
/// let y = binary_scalar_owned(BinaryOp::Sub, x, &Scalar::Float(10.0), true).unwrap();
/// assert_eq!(y.to_item(), vec![9.0, 8.0].into());
/// ```
pub fn binary_scalar_owned(op: BinaryOp, a: Array, s: &Scalar, reflected: bool) -> Result<Array> {
    use BinaryOp::*;
    let d = a.dtype();
    let p = plan(op, weak_dtype(op, d, s)?)?;
    let simple = matches!(p.op, Add | Sub | Mul | Minimum | Maximum) && p.op == op;
    if !simple
        || p.compute != d
        || p.out != d
        || !d.is_numeric()
        || d == DType::Bool
        || matches!(s, Scalar::Null)
    {
        let (x, y) = if reflected {
            (Operand::Scalar(s), Operand::Array(&a))
        } else {
            (Operand::Array(&a), Operand::Scalar(s))
        };
        return binary(op, x, y);
    }
    // Cut a view to its own rows first, so only they are computed (and copied, if shared).
    // (`a` is dropped first so that unshared buffers stay unique and are updated in place.)
    let layout = {
        let view = a.layout.compact();
        drop(a);
        view
    };
    let layout = map_owned(layout, &mut |leaf| {
        let Leaf { values, validity } = leaf;
        let values = in_place!(values, b, T => {
            let c: T = scalar_const::<T>(s);
            update_with::<T>(op, b.make_mut(), c, reflected)
        });
        Ok(Leaf::new(values, validity))
    })?;
    Ok(Array::new(layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;
    use BinaryOp::*;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }
    fn bin(op: BinaryOp, a: &Array, b: &Array) -> Result<Array> {
        binary(op, Operand::Array(a), Operand::Array(b))
    }
    fn sc(op: BinaryOp, a: &Array, s: Scalar) -> Result<Array> {
        binary(op, Operand::Array(a), Operand::Scalar(&s))
    }

    #[test]
    fn scalar_ops_share_offsets_and_keep_weak_types() {
        let x = arr(vec![vec![1.0, 2.0], vec![3.0]].into());
        let y = sc(Mul, &x, Scalar::Float(2.0)).unwrap();
        let (Layout::List(a), Layout::List(b)) = (&x.layout, &y.layout) else {
            panic!()
        };
        assert!(a.offsets.same_view(&b.offsets));
        let f32x = x.astype(DType::Float32).unwrap();
        assert_eq!(
            sc(Add, &f32x, Scalar::Float(2.5)).unwrap().dtype(),
            DType::Float32
        );
        let i8x = x.astype(DType::Int8).unwrap();
        assert_eq!(sc(Add, &i8x, Scalar::Int(3)).unwrap().dtype(), DType::Int8);
        assert_eq!(
            sc(Div, &i8x, Scalar::Int(3)).unwrap().dtype(),
            DType::Float64
        );
        assert_eq!(
            sc(Add, &i8x, Scalar::Int(300)).unwrap_err().code(),
            Code::Value
        );
        assert_eq!(
            sc(Lt, &i8x, Scalar::Int(300)).unwrap().to_item(),
            vec![vec![true, true], vec![true]].into()
        );
    }

    #[test]
    fn reflected_scalar_order() {
        let x = arr(vec![1i64, 2, 4].into());
        let r = binary(Sub, Operand::Scalar(&Scalar::Int(10)), Operand::Array(&x)).unwrap();
        assert_eq!(r.to_item(), vec![9i64, 8, 6].into());
        let r = binary(Div, Operand::Scalar(&Scalar::Int(1)), Operand::Array(&x)).unwrap();
        assert_eq!(r.to_item(), vec![1.0, 0.5, 0.25].into());
    }

    #[test]
    fn integer_division_by_zero_is_an_error_but_not_in_null_slots() {
        let x = arr(vec![1i64, 2].into());
        let z = arr(vec![1i64, 0].into());
        assert_eq!(bin(FloorDiv, &x, &z).unwrap_err().code(), Code::Value);
        assert_eq!(bin(Rem, &x, &z).unwrap_err().code(), Code::Value);
        assert_eq!(sc(Rem, &x, Scalar::Int(0)).unwrap_err().code(), Code::Value);
        let zn = arr(Item::list(vec![1i64.into(), Item::Null]));
        let r = bin(FloorDiv, &x, &zn).unwrap();
        assert_eq!(r.to_item(), Item::list(vec![1i64.into(), Item::Null]));
        let f = x.astype(DType::Float64).unwrap();
        let r = sc(Div, &f, Scalar::Int(0)).unwrap();
        assert_eq!(r.to_item(), vec![f64::INFINITY, f64::INFINITY].into());
        assert_eq!(
            sc(Pow, &x, Scalar::Int(-1)).unwrap_err().code(),
            Code::Value
        );
    }

    #[test]
    fn nulls_propagate_through_broadcasting() {
        let x = arr(Item::list(vec![
            Item::list(vec![1i64.into(), Item::Null]),
            Item::Null,
        ]));
        let y = arr(vec![10i64, 20].into());
        let r = bin(Add, &x, &y).unwrap();
        assert_eq!(
            r.to_item(),
            Item::list(vec![Item::list(vec![11i64.into(), Item::Null]), Item::Null])
        );
    }

    #[test]
    fn strings_and_bools() {
        let s = arr(vec!["a", "b"].into());
        let r = sc(Add, &s, Scalar::Str("!".into())).unwrap();
        assert_eq!(r.to_item(), vec!["a!", "b!"].into());
        assert_eq!(
            sc(Eq, &s, Scalar::Str("b".into())).unwrap().to_item(),
            vec![false, true].into()
        );
        assert_eq!(
            sc(Sub, &s, Scalar::Str("b".into())).unwrap_err().code(),
            Code::DType
        );
        assert_eq!(sc(Add, &s, Scalar::Int(1)).unwrap_err().code(), Code::DType);
        let n = arr(vec![1i64].into());
        assert_eq!(bin(Eq, &s, &n).unwrap_err().code(), Code::DType);
        let b = arr(vec![true, false].into());
        assert_eq!(
            bin(Add, &b, &b).unwrap().to_item(),
            vec![true, false].into()
        );
        assert_eq!(bin(Sub, &b, &b).unwrap_err().code(), Code::DType);
        assert_eq!(
            bin(Xor, &b, &b).unwrap().to_item(),
            vec![false, false].into()
        );
        let f = arr(vec![1.5].into());
        assert_eq!(bin(And, &f, &f).unwrap_err().code(), Code::DType);
    }

    #[test]
    fn union_against_union_keeps_the_union() {
        let u = arr(Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]));
        let r = bin(Add, &u, &u).unwrap();
        assert_eq!(r.layout.kind(), "union");
        assert_eq!(
            r.to_item(),
            Item::list(vec![2.0.into(), vec![4.0, 6.0].into()])
        );
        let r = sc(Mul, &u, Scalar::Int(10)).unwrap();
        assert_eq!(
            r.to_item(),
            Item::list(vec![10.0.into(), vec![20.0, 30.0].into()])
        );
    }

    #[test]
    fn owned_scalar_ops_write_in_place_when_unshared() {
        let x = arr(vec![vec![1i64, 2], vec![3]].into());
        let y = binary_scalar_owned(Mul, x.clone(), &Scalar::Int(2), false).unwrap();
        assert_eq!(y.to_item(), vec![vec![2i64, 4], vec![6]].into());
        assert_eq!(x.to_item(), vec![vec![1i64, 2], vec![3]].into()); // shared: copied
        let p = y.layout.leaves()[0]
            .values
            .as_slice::<i64>()
            .unwrap()
            .as_ptr();
        let z = binary_scalar_owned(Sub, y, &Scalar::Int(1), true).unwrap();
        assert_eq!(
            z.layout.leaves()[0]
                .values
                .as_slice::<i64>()
                .unwrap()
                .as_ptr(),
            p
        );
        assert_eq!(z.to_item(), vec![vec![-1i64, -3], vec![-5]].into());
        let f = binary_scalar_owned(Div, z, &Scalar::Int(2), false).unwrap();
        assert_eq!(f.dtype(), DType::Float64);
        let e = binary_scalar_owned(Add, f, &Scalar::Str("a".into()), false);
        assert_eq!(e.unwrap_err().code(), Code::DType);
    }

    #[test]
    fn large_inputs_run_in_parallel_and_match() {
        let n = 200_000;
        let x = Array::from_vec((0..n).map(|i| i as f64).collect::<Vec<_>>());
        let y = sc(Mul, &x, Scalar::Float(2.0)).unwrap();
        let z = bin(Sub, &y, &x).unwrap();
        assert_eq!(
            z.layout.as_leaf().unwrap().values,
            x.layout.as_leaf().unwrap().values
        );
    }

    /// The leaf buffer (whole, not the view) of a one-level list result.
    fn child_len(a: &Array) -> usize {
        match &a.layout {
            Layout::List(l) => l.child.len(),
            other => other.len(),
        }
    }

    #[test]
    fn ops_on_a_slice_compute_only_the_slice() {
        let rows: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64; 1000]).collect();
        let x = arr(rows.into());
        let s = x.slice(40, 2);
        let want: Item = vec![vec![80.0; 1000], vec![82.0; 1000]].into();
        for r in [
            sc(Mul, &s, Scalar::Float(2.0)).unwrap(),
            binary(
                Mul,
                Operand::Scalar(&Scalar::Float(2.0)),
                Operand::Array(&s),
            )
            .unwrap(),
            bin(Add, &s, &s).unwrap(),
            binary_scalar_owned(Mul, s.clone(), &Scalar::Float(2.0), false).unwrap(),
        ] {
            assert_eq!(child_len(&r), 2000);
            assert_eq!(r.to_item(), want);
        }
        // in place on an unshared whole array stays in place
        let y = sc(Mul, &x, Scalar::Float(1.0)).unwrap();
        let p = y.layout.leaves()[0]
            .values
            .as_slice::<f64>()
            .unwrap()
            .as_ptr();
        let z = binary_scalar_owned(Add, y, &Scalar::Float(1.0), false).unwrap();
        assert_eq!(
            z.layout.leaves()[0]
                .values
                .as_slice::<f64>()
                .unwrap()
                .as_ptr(),
            p
        );
        // a sliced union maps its own rows only
        let u = arr(Item::list(
            (0..100)
                .map(|i| {
                    if i % 2 == 0 {
                        (i as f64).into()
                    } else {
                        vec![i as f64; 10].into()
                    }
                })
                .collect(),
        ));
        let r = sc(Mul, &u.slice(10, 2), Scalar::Float(2.0)).unwrap();
        assert_eq!(r.layout.leaves().iter().map(|l| l.len()).sum::<usize>(), 11);
        assert_eq!(
            r.to_item(),
            Item::list(vec![20.0.into(), vec![22.0; 10].into()])
        );
    }

    #[test]
    fn union_rows_are_scalars_only_where_both_are() {
        let a = arr(Item::list(vec![1.0.into(), vec![5.0].into(), 2.0.into()]));
        let b = arr(Item::list(vec![vec![1.0].into(), 5.0.into(), 2.0.into()]));
        assert_eq!(
            bin(Add, &a, &b).unwrap().to_item(),
            Item::list(vec![vec![2.0].into(), vec![10.0].into(), 4.0.into()])
        );
    }
}
