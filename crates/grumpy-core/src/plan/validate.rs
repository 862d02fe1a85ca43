//! Validation of a plan against one input, before anything runs.
//!
//! Every op gets a [`Kind`] (array, scalar, dataframe view) from the input's layout and the
//! frame's schema. An op that cannot run on what it will receive — arithmetic on a whole
//! dataframe, a column the frame does not have, a dot assignment on an array — is reported as
//! [`Code::Unsupported`] naming the op and the reason, so the caller runs the Python body
//! instead (which then does exactly what Python does: returns a value or raises). Errors the
//! Python body would raise too (a bad `dim`, a shape mismatch) are left to the kernels.
//!
//! The kinds also tell which unused ops ([`dead_ops_safe`]) cannot raise on this input, so
//! dead-code elimination never hides an error the Python body would raise.
//!
//! ```
//! use grumpy_core::{array::Array, plan::{Plan, Value}};
//! let plan = Plan::from_json(r#"{"ops": [{"op": "column", "src": 0, "path": ["coords"]}],
//!     "output": 1}"#).unwrap();
//! let x = Array::from_item(&vec![1.0, 2.0].into(), None).unwrap();
//! let err = plan.run(Value::Array(x)).unwrap_err();
//! assert_eq!(err.code(), grumpy_core::Code::Unsupported);
//! assert!(err.summary().contains("r1 = r0.coords"));
//! ```

use super::ir::{Arg, Op, PlanIr};
use super::value::Value;
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::frame::Frame;
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::ReduceOp;
use crate::kernels::unary::UnaryOp;

/// What an array's dtype is known to be (only what dead-code elimination and literal guards
/// need; anything unclear is `Unknown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Num {
    /// float32 or float64.
    Float,
    /// Any integer dtype.
    Int,
    /// bool.
    Bool,
    /// Something else, or not known before running.
    Unknown,
}

impl Num {
    fn of(d: DType) -> Num {
        match d {
            DType::Float32 | DType::Float64 => Num::Float,
            DType::Bool => Num::Bool,
            DType::String => Num::Unknown,
            _ => Num::Int,
        }
    }
}

/// What a register will hold.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    /// An array (`ndim` when known; `union` when it has a union node).
    Array {
        num: Num,
        ndim: Option<usize>,
        union: bool,
    },
    /// A Python scalar.
    Scalar,
    /// A view of frame `root` at `level`.
    Frame { root: usize, level: usize },
    /// An array or a scalar, known only when running.
    Either,
    /// `None`.
    Nothing,
}

fn array_kind(a: &crate::array::Array) -> Kind {
    Kind::Array {
        num: Num::of(a.dtype()),
        ndim: Some(a.ndim()),
        union: a.layout.has_union(),
    }
}

/// The kind of an input value.
pub(crate) fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Array(a) => array_kind(a),
        Value::Scalar(_) => Kind::Scalar,
        Value::Frame(f) => Kind::Frame {
            root: f.root,
            level: f.level,
        },
        Value::None => Kind::Nothing,
    }
}

fn not_here(i: usize, op: &Op, why: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        format!("r{} = {} does not apply to this input", i + 1, op.text()),
        why,
        "the Python body runs for this batch",
    )
}

const FRAME_ARITH: &str = "whole-dataframe operations are not compiled; compile column \
     expressions instead (batch.<level>.<column> * 2.0, batch.<level>.<column>.mean(dim=-1))";

/// Columns added by dot assignments while validating: (root, name, level, kind).
type Added = Vec<(usize, String, usize, Kind)>;

/// The kind of every register (inline for plans of up to 16 ops: no allocation per batch).
pub(crate) type Kinds = smallvec::SmallVec<[Kind; 16]>;

/// The literal an argument is, if it is one.
fn literal(a: &Arg) -> Option<&Scalar> {
    match a {
        Arg::Scalar(s) => Some(s),
        Arg::Reg(_) => None,
    }
}

fn lit_num(s: &Scalar) -> Option<Num> {
    match s {
        Scalar::Float(_) => Some(Num::Float),
        Scalar::Int(_) | Scalar::UInt(_) => Some(Num::Int),
        Scalar::Bool(_) => Some(Num::Bool),
        _ => None,
    }
}

fn binary_kind(
    kind: BinaryOp,
    a: &Kind,
    b: &Kind,
    lits: (Option<&Scalar>, Option<&Scalar>),
) -> Kind {
    // (no vectors: this runs once per binary op of every batch a plan validates)
    let array = |k: &Kind| match k {
        Kind::Array { ndim, union, .. } => Some((*ndim, *union)),
        _ => None,
    };
    let (ndim, union) = match (array(a), array(b)) {
        (None, None) => {
            return if matches!((a, b), (Kind::Scalar, Kind::Scalar)) {
                Kind::Scalar
            } else {
                Kind::Either
            };
        }
        (Some(x), None) | (None, Some(x)) => x,
        (Some((nx, ux)), Some((ny, uy))) => (nx.filter(|_| nx == ny), ux || uy),
    };
    let num = |k: &Kind, l: Option<&Scalar>| match (k, l) {
        (Kind::Array { num, .. }, _) => *num,
        (_, Some(s)) => lit_num(s).unwrap_or(Num::Unknown),
        _ => Num::Unknown,
    };
    let nums = [num(a, lits.0), num(b, lits.1)];
    let float_arith = matches!(
        kind,
        BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::FloorDiv
            | BinaryOp::Rem
            | BinaryOp::Pow
            | BinaryOp::Minimum
            | BinaryOp::Maximum
    );
    let num = if kind.is_comparison() {
        Num::Bool
    } else if float_arith && nums.contains(&Num::Float) && nums.iter().all(|n| *n != Num::Unknown) {
        Num::Float
    } else {
        Num::Unknown
    };
    Kind::Array { num, ndim, union }
}

fn unary_num(kind: UnaryOp, num: Num) -> Num {
    match (kind, num) {
        (UnaryOp::IsNan | UnaryOp::IsFinite, Num::Float | Num::Int) => Num::Bool,
        (UnaryOp::Not, _) => Num::Unknown,
        (_, Num::Float) => Num::Float,
        _ => Num::Unknown,
    }
}

fn reduce_kind(
    kind: ReduceOp,
    num: Num,
    ndim: Option<usize>,
    union: bool,
    dim: Option<isize>,
) -> Kind {
    let num = match (kind, num) {
        (ReduceOp::Count, _) => Num::Int,
        (ReduceOp::Any | ReduceOp::All, _) => Num::Bool,
        (_, Num::Float) => Num::Float,
        _ => Num::Unknown,
    };
    match (dim, ndim) {
        (None, _) | (Some(_), Some(1)) => Kind::Scalar,
        (Some(_), Some(n)) => Kind::Array {
            num,
            ndim: Some(n - 1),
            union,
        },
        (Some(_), None) => Kind::Either,
    }
}

/// Resolve `src.<path>` on a frame view: the kind of a level view or of a column.
fn column_kind(
    frames: &[Frame],
    added: &Added,
    root: usize,
    level: usize,
    path: &[String],
) -> std::result::Result<Kind, String> {
    let Some(frame) = frames.get(root) else {
        return Err("the dataframe is not available to the plan".into());
    };
    let mut level = level;
    for (i, name) in path.iter().enumerate() {
        if let Some(l) = frame.level_index(name).filter(|&l| l >= level) {
            level = l;
            continue;
        }
        if i + 1 < path.len() {
            return Err(format!(
                "{name:?} is not a level at or below {:?} (the schema is {:?})",
                frame.schema()[level],
                frame.schema()
            ));
        }
        if let Some((_, _, l, k)) = added
            .iter()
            .rev()
            .find(|(r, n, _, _)| *r == root && n == name)
        {
            return if *l >= level {
                Ok(match k {
                    Kind::Array { num, union, .. } => Kind::Array {
                        num: *num,
                        ndim: None,
                        union: *union,
                    },
                    other => other.clone(),
                })
            } else {
                Err(format!("column {name:?} sits above this view's level"))
            };
        }
        return match frame.column(name) {
            Some(c) if c.level >= level => Ok(Kind::Array {
                num: Num::of(c.array.dtype()),
                ndim: c.array.ndim().checked_sub(level),
                union: c.array.layout.has_union(),
            }),
            Some(_) => Err(format!("column {name:?} sits above this view's level")),
            None => Err(format!(
                "the dataframe has no level or column {name:?} (columns: {:?})",
                frame.names()
            )),
        };
    }
    Ok(Kind::Frame { root, level })
}

/// The kind every register will hold, or `Unsupported` naming the first op that cannot run
/// on this input.
pub(crate) fn check(ir: &PlanIr, input: &Value, frames: &[Frame]) -> Result<Kinds> {
    let mut kinds = Kinds::with_capacity(ir.ops.len() + 1);
    kinds.push(kind_of(input));
    let mut added: Added = Vec::new();
    for (i, op) in ir.ops.iter().enumerate() {
        let reg = |r: usize| kinds.get(r).cloned().unwrap_or(Kind::Either);
        let arg = |a: &Arg| match a {
            Arg::Reg(r) => reg(*r),
            Arg::Scalar(_) => Kind::Scalar,
        };
        let no_frame = |ks: &[&Kind]| -> Result<()> {
            for k in ks {
                match k {
                    Kind::Frame { .. } => return Err(not_here(i, op, FRAME_ARITH)),
                    Kind::Nothing => {
                        return Err(not_here(
                            i,
                            op,
                            "an operand is None (the function returned nothing)",
                        ))
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        let k = match op {
            Op::Binary { kind, lhs, rhs } => {
                let (a, b) = (arg(lhs), arg(rhs));
                no_frame(&[&a, &b])?;
                let (la, lb) = (literal(lhs), literal(rhs));
                binary_kind(*kind, &a, &b, (la, lb))
            }
            Op::Unary { kind, src } => match reg(*src) {
                Kind::Array { num, ndim, union } => Kind::Array {
                    num: unary_num(*kind, num),
                    ndim,
                    union,
                },
                other => {
                    no_frame(&[&other])?;
                    other
                }
            },
            Op::Clip { src, .. } => {
                let k = reg(*src);
                no_frame(&[&k])?;
                k
            }
            Op::Reduce { kind, src, dim } => match reg(*src) {
                Kind::Array { num, ndim, union } => reduce_kind(*kind, num, ndim, union, *dim),
                Kind::Scalar => {
                    return Err(not_here(i, op, "a Python scalar has no reduction methods"))
                }
                other => {
                    no_frame(&[&other])?;
                    Kind::Either
                }
            },
            Op::Where { cond, lhs, rhs } => {
                let (c, a, b) = (reg(*cond), arg(lhs), arg(rhs));
                no_frame(&[&c, &a, &b])?;
                match (&c, &a, &b) {
                    (Kind::Scalar, Kind::Scalar, Kind::Scalar) => Kind::Scalar,
                    (Kind::Array { ndim, union, .. }, _, _) => Kind::Array {
                        num: Num::Unknown,
                        ndim: *ndim,
                        union: *union,
                    },
                    _ => Kind::Either,
                }
            }
            Op::Neighbors { query, data, .. } | Op::NeighborsCheck { query, data, .. } => {
                let (q, d) = (reg(*query), reg(*data));
                for k in [&q, &d] {
                    if !matches!(k, Kind::Array { .. } | Kind::Either) {
                        return Err(not_here(i, op, "gr.neighbors needs arrays of points"));
                    }
                }
                match q {
                    Kind::Array { ndim, .. } => Kind::Array {
                        num: Num::Int,
                        ndim: ndim.map(|n| n + 1),
                        union: false,
                    },
                    _ => Kind::Either,
                }
            }
            Op::Column { src, path } => match reg(*src) {
                Kind::Frame { root, level } => column_kind(frames, &added, root, level, path)
                    .map_err(|why| not_here(i, op, why))?,
                other => {
                    return Err(not_here(
                        i,
                        op,
                        format!(
                            "attribute access .{} needs a dataframe, got {}",
                            path.join("."),
                            describe(&other)
                        ),
                    ))
                }
            },
            Op::SetColumn {
                frame,
                path,
                name,
                value,
            } => {
                let (Kind::Frame { root, level }, v) = (reg(*frame), reg(*value)) else {
                    return Err(not_here(
                        i,
                        op,
                        format!(
                            "dot assignment needs a dataframe, got {}",
                            describe(&reg(*frame))
                        ),
                    ));
                };
                if !matches!(v, Kind::Array { .. } | Kind::Either | Kind::Scalar) {
                    return Err(not_here(
                        i,
                        op,
                        format!(
                            "the assigned value is {}, not an array or scalar",
                            describe(&v)
                        ),
                    ));
                }
                let Some(f) = frames.get(root) else {
                    return Err(not_here(
                        i,
                        op,
                        "the dataframe is not available to the plan",
                    ));
                };
                let mut lvl = level;
                for p in path {
                    match f.level_index(p).filter(|&l| l >= lvl) {
                        Some(l) => lvl = l,
                        None => {
                            return Err(not_here(
                                i,
                                op,
                                format!("{p:?} is not a level inside this view"),
                            ))
                        }
                    }
                }
                if f.level_index(name).is_some() {
                    return Err(not_here(
                        i,
                        op,
                        format!("{name:?} names a level, not a column"),
                    ));
                }
                added.push((root, name.clone(), lvl, v));
                Kind::Frame { root, level }
            }
        };
        if ir.float_literals.contains(&i) {
            let operands: Vec<Kind> = op.inputs().into_iter().map(reg).collect();
            if !operands.iter().all(|k| {
                matches!(
                    k,
                    Kind::Array {
                        num: Num::Float,
                        ..
                    }
                )
            }) {
                return Err(not_here(
                    i,
                    op,
                    "an integer literal beyond 64 bits meets a non-float operand; Python decides",
                ));
            }
        }
        kinds.push(k);
    }
    if let Some(o) = ir.output {
        if matches!(kinds.get(o), Some(Kind::Nothing)) && o != 0 {
            return Err(not_here(o - 1, &ir.ops[o - 1], "the result is None"));
        }
    }
    Ok(kinds)
}

fn describe(k: &Kind) -> &'static str {
    match k {
        Kind::Array { .. } => "an array",
        Kind::Scalar => "a Python scalar",
        Kind::Frame { .. } => "a dataframe",
        Kind::Either => "an array or scalar",
        Kind::Nothing => "None",
    }
}

fn float_array(k: &Kind) -> bool {
    matches!(
        k,
        Kind::Array {
            num: Num::Float,
            ..
        }
    )
}

fn numeric_lit(a: &Arg) -> bool {
    matches!(
        a,
        Arg::Scalar(Scalar::Float(_) | Scalar::Int(_) | Scalar::Bool(_))
    )
}

/// True when op `i` (unused) cannot raise on this input, so skipping it is invisible.
fn dead_op_safe(ir: &PlanIr, kinds: &[Kind], i: usize) -> bool {
    let k = |r: usize| kinds.get(r).cloned().unwrap_or(Kind::Either);
    match &ir.ops[i] {
        Op::Binary { kind, lhs, rhs } => {
            let arith = !matches!(kind, BinaryOp::And | BinaryOp::Or | BinaryOp::Xor);
            let one_side = |x: &Arg, y: &Arg| match x {
                Arg::Reg(r) => float_array(&k(*r)) && numeric_lit(y),
                Arg::Scalar(_) => false,
            };
            arith && (one_side(lhs, rhs) || one_side(rhs, lhs))
        }
        Op::Unary { kind, src } => *kind != UnaryOp::Not && float_array(&k(*src)),
        Op::Clip { src, lo, hi } => {
            let num =
                |s: &Option<Scalar>| matches!(s, None | Some(Scalar::Float(_) | Scalar::Int(_)));
            float_array(&k(*src)) && num(lo) && num(hi)
        }
        Op::Reduce { src, dim, .. } => match k(*src) {
            Kind::Array {
                num: Num::Float,
                ndim: Some(n),
                union: false,
            } => dim.is_none_or(|d| {
                let n = n as isize;
                (-n..n).contains(&d)
            }),
            _ => false,
        },
        // validated above: the path exists
        Op::Column { .. } => true,
        _ => false,
    }
}

/// True when every op in `dead` (indices into `ir.ops`) is safe to skip on this input.
pub(crate) fn dead_ops_safe(ir: &PlanIr, kinds: &[Kind], dead: &[usize]) -> bool {
    dead.iter().all(|&i| dead_op_safe(ir, kinds, i))
}
