//! The executor: runs fused steps over registers holding arrays, scalars or frames.

use super::fuse::{MapOp, Step};
use super::ir::{Arg, Op, PlanIr, Reg};
use super::value::Value;
use crate::array::Array;
use crate::buffer::{Buf, Values};
use crate::dtype::{promote_weak, DType};
use crate::error::{Code, Error, Result};
use crate::frame::Frame;
use crate::kernels::elementwise::{binary, BinaryOp, Operand};
use crate::kernels::reduce::{reduce, ReduceOp, Reduced};
use crate::kernels::unary::{clip, unary, where_, UnaryOp};
use crate::layout::Leaf;
use rayon::prelude::*;

fn unsupported(what: impl Into<String>, why: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        what,
        why,
        "the compiled plan does not apply to this input; the Python body runs instead",
    )
}

fn get(regs: &[Option<Value>], r: Reg) -> Result<&Value> {
    regs.get(r).and_then(Option::as_ref).ok_or_else(|| {
        Error::new(
            Code::Compile,
            format!("register r{r} is read before it is written"),
            "malformed plan",
            "rebuild the plan with gr.compile",
        )
    })
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Array> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(unsupported(
            format!("{what} needs an array"),
            format!("got {}", other.kind()),
        )),
    }
}

fn operand<'a>(regs: &'a [Option<Value>], a: &'a Arg) -> Result<Operand<'a>> {
    Ok(match a {
        Arg::Scalar(s) => Operand::Scalar(s),
        Arg::Reg(r) => match get(regs, *r)? {
            Value::Array(x) => Operand::Array(x),
            Value::Scalar(s) => Operand::Scalar(s),
            other => {
                return Err(unsupported(
                    "an elementwise operand must be an array",
                    format!("got {}", other.kind()),
                ))
            }
        },
    })
}

fn from_reduced(r: Reduced) -> Value {
    match r {
        Reduced::Scalar(s) => Value::Scalar(s),
        Reduced::Array(a) => Value::Array(a),
    }
}

/// Run one IR op eagerly with the kernels.
fn run_op(op: &Op, regs: &mut [Option<Value>], frames: &mut [Frame]) -> Result<Value> {
    Ok(match op {
        Op::Binary { kind, lhs, rhs } => {
            let (a, b) = (operand(regs, lhs)?, operand(regs, rhs)?);
            if let (Operand::Scalar(x), Operand::Scalar(y)) = (a, b) {
                return Ok(Value::Scalar(super::scalar::binary(*kind, x, y)?));
            }
            Value::Array(binary(*kind, a, b)?)
        }
        Op::Unary { kind, src } => match get(regs, *src)? {
            Value::Scalar(s) => Value::Scalar(super::scalar::unary(*kind, s)?),
            v => Value::Array(unary(*kind, array(v, "a unary function")?)?),
        },
        Op::Reduce { kind, src, dim } => match get(regs, *src)? {
            Value::Array(a) => from_reduced(reduce(a, *kind, *dim)?),
            other => {
                return Err(unsupported(
                    "a reduction needs an array",
                    format!("got {}", other.kind()),
                ))
            }
        },
        Op::Where { cond, lhs, rhs } => {
            if let Value::Scalar(c) = get(regs, *cond)? {
                return super::scalar::where_scalar(c, operand(regs, lhs)?, operand(regs, rhs)?);
            }
            let c = array(get(regs, *cond)?, "where's condition")?;
            Value::Array(where_(
                Operand::Array(c),
                operand(regs, lhs)?,
                operand(regs, rhs)?,
            )?)
        }
        Op::Clip { src, lo, hi } if matches!(get(regs, *src)?, Value::Scalar(_)) => {
            let Value::Scalar(s) = get(regs, *src)? else {
                unreachable!()
            };
            Value::Scalar(super::scalar::clip(s, lo.as_ref(), hi.as_ref())?)
        }
        Op::Clip { src, lo, hi } => Value::Array(clip(
            array(get(regs, *src)?, "clip")?,
            lo.as_ref(),
            hi.as_ref(),
        )?),
        Op::Neighbors {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        } => {
            let q = array(get(regs, *query)?, "neighbors")?;
            let d = array(get(regs, *data)?, "neighbors")?;
            Value::Array(super::value::neighbors_pairs(
                q,
                d,
                *k,
                *radius,
                *dim,
                *keep_loops,
                *same || query == data,
            )?)
        }
        Op::NeighborsCheck {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        } => super::dce::neighbors_check(
            array(get(regs, *query)?, "neighbors")?,
            array(get(regs, *data)?, "neighbors")?,
            *k,
            *radius,
            *dim,
            *keep_loops,
            *same || query == data,
        )?,
        Op::Column { src, path } => super::value::column(frames, get(regs, *src)?, path)?,
        Op::SetColumn {
            frame,
            path,
            name,
            value,
        } => {
            let target = get(regs, *frame)?.clone();
            super::value::set_column(frames, &target, path, name, get(regs, *value)?)?
        }
    })
}

// ------------------------------------------------------------------------- fused float chains

trait Float: Copy + Send + Sync + 'static {
    fn from_f64(x: f64) -> Self;
    fn apply_bin(op: BinaryOp, a: Self, b: Self) -> Self;
    fn apply_un(op: UnaryOp, a: Self) -> Self;
}

macro_rules! float_impl {
    ($t:ty) => {
        impl Float for $t {
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn apply_bin(op: BinaryOp, a: Self, b: Self) -> Self {
                match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    BinaryOp::Pow => a.powf(b),
                    _ => unreachable!("not a fusable float op"),
                }
            }
            #[inline(always)]
            fn apply_un(op: UnaryOp, a: Self) -> Self {
                match op {
                    UnaryOp::Neg => -a,
                    UnaryOp::Abs => a.abs(),
                    UnaryOp::Sqrt => a.sqrt(),
                    UnaryOp::Exp => a.exp(),
                    UnaryOp::Log => a.ln(),
                    UnaryOp::Log1p => a.ln_1p(),
                    UnaryOp::Sin => a.sin(),
                    UnaryOp::Cos => a.cos(),
                    UnaryOp::Floor => a.floor(),
                    UnaryOp::Ceil => a.ceil(),
                    _ => unreachable!("not a fusable float op"),
                }
            }
        }
    };
}
float_impl!(f32);
float_impl!(f64);

/// A chain compiled for one float type: (op, literal, literal-on-left).
#[derive(Clone, Copy)]
enum FOp<F> {
    Bin(BinaryOp, F, bool),
    Un(UnaryOp),
}

/// The chain as float ops when every step keeps the float dtype `d` (else None → eager).
fn float_chain<F: Float>(chain: &[MapOp], d: DType) -> Option<Vec<FOp<F>>> {
    chain
        .iter()
        .map(|m| match m {
            MapOp::Binary {
                op,
                scalar,
                scalar_left,
            } => {
                let fusable = matches!(
                    op,
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Pow
                );
                let keeps = promote_weak(d, scalar).ok() == Some(d);
                if fusable && keeps {
                    Some(FOp::Bin(*op, F::from_f64(scalar.as_f64()?), *scalar_left))
                } else {
                    None
                }
            }
            MapOp::Unary(u) => matches!(
                u,
                UnaryOp::Neg
                    | UnaryOp::Abs
                    | UnaryOp::Sqrt
                    | UnaryOp::Exp
                    | UnaryOp::Log
                    | UnaryOp::Log1p
                    | UnaryOp::Sin
                    | UnaryOp::Cos
                    | UnaryOp::Floor
                    | UnaryOp::Ceil
            )
            .then_some(FOp::Un(*u)),
            MapOp::Clip(..) => None,
        })
        .collect()
}

/// Apply a float chain in place over a block (one tight loop per op: vectorizes).
#[inline]
fn apply_block<F: Float>(chain: &[FOp<F>], block: &mut [F]) {
    for op in chain {
        match *op {
            FOp::Bin(o, s, false) => block.iter_mut().for_each(|x| *x = F::apply_bin(o, *x, s)),
            FOp::Bin(o, s, true) => block.iter_mut().for_each(|x| *x = F::apply_bin(o, s, *x)),
            FOp::Un(u) => block.iter_mut().for_each(|x| *x = F::apply_un(u, *x)),
        }
    }
}

const BLOCK: usize = 4096;
const PAR_MIN: usize = 1 << 16;

fn map_slice<F: Float>(chain: &[FOp<F>], src: &[F]) -> Vec<F> {
    let mut out = src.to_vec();
    if out.len() >= PAR_MIN {
        out.par_chunks_mut(BLOCK * 4)
            .for_each(|c| apply_block(chain, c));
    } else {
        apply_block(chain, &mut out);
    }
    out
}

fn fused_leaf(chain: &[MapOp], leaf: &Leaf) -> Result<Option<Leaf>> {
    let values = match &leaf.values {
        Values::F64(b) => match float_chain::<f64>(chain, DType::Float64) {
            Some(c) => Values::F64(Buf::from_vec(map_slice(&c, b.as_slice()))),
            None => return Ok(None),
        },
        Values::F32(b) => match float_chain::<f32>(chain, DType::Float32) {
            Some(c) => Values::F32(Buf::from_vec(map_slice(&c, b.as_slice()))),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(Leaf::new(values, leaf.validity.clone())))
}

/// Run a chain: one fused pass for float leaves, else op by op with the eager kernels.
pub(crate) fn run_chain(chain: &[MapOp], a: &Array) -> Result<Array> {
    let mut all_fused = true;
    let fused = a
        .layout
        .map_leaves(&mut |leaf| match fused_leaf(chain, leaf)? {
            Some(l) => Ok(l),
            None => {
                all_fused = false;
                Ok(leaf.clone())
            }
        })?;
    if all_fused && !chain.is_empty() {
        return Ok(Array::new(fused));
    }
    let mut cur = a.clone();
    for m in chain {
        cur = match m {
            MapOp::Binary {
                op,
                scalar,
                scalar_left: false,
            } => binary(*op, Operand::Array(&cur), Operand::Scalar(scalar))?,
            MapOp::Binary {
                op,
                scalar,
                scalar_left: true,
            } => binary(*op, Operand::Scalar(scalar), Operand::Array(&cur))?,
            MapOp::Unary(u) => unary(*u, &cur)?,
            MapOp::Clip(lo, hi) => clip(&cur, lo.as_ref(), hi.as_ref())?,
        };
    }
    Ok(cur)
}

fn run_fused_reduce(chain: &[MapOp], op: ReduceOp, dim: Option<isize>, v: &Value) -> Result<Value> {
    match v {
        Value::Array(a) => {
            if let Some(r) = super::reduce_fused::try_fused(chain, op, dim, a)? {
                return Ok(from_reduced(r));
            }
            let mapped = if chain.is_empty() {
                a.clone()
            } else {
                run_chain(chain, a)?
            };
            Ok(from_reduced(reduce(&mapped, op, dim)?))
        }
        other => Err(unsupported(
            "a reduction needs an array",
            format!("got {}", other.kind()),
        )),
    }
}

pub(crate) fn float_chain_f64(chain: &[MapOp]) -> Option<Vec<(u8, BinaryOp, UnaryOp, f64)>> {
    // Encoded chain for the fused reducer: (kind 0 = bin-right, 1 = bin-left, 2 = unary).
    float_chain::<f64>(chain, DType::Float64).map(|c| {
        c.into_iter()
            .map(|op| match op {
                FOp::Bin(o, s, left) => (u8::from(left), o, UnaryOp::Neg, s),
                FOp::Un(u) => (2, BinaryOp::Add, u, 0.0),
            })
            .collect()
    })
}

/// Execute steps over an input value; `frames` is the dataframe table (entry 0 = the input
/// frame when the input is a dataframe). Returns the output and the (possibly updated) table.
pub(crate) fn execute(
    ir: &PlanIr,
    steps: &[Step],
    input: Value,
    mut frames: Vec<Frame>,
) -> Result<(Value, Vec<Frame>)> {
    let mut regs: Vec<Option<Value>> = vec![None; ir.ops.len() + 1];
    regs[0] = Some(input);
    for step in steps {
        match step {
            Step::Op { index } => {
                let v = run_op(&ir.ops[*index], &mut regs, &mut frames)?;
                regs[index + 1] = Some(v);
            }
            Step::FusedMap { src, chain, dst } => {
                if let Value::Scalar(s) = get(&regs, *src)? {
                    regs[*dst] = Some(Value::Scalar(super::scalar::run_chain(chain, s)?));
                    continue;
                }
                let a = array(get(&regs, *src)?, "an elementwise op")?;
                let out = run_chain(chain, a)?;
                regs[*dst] = Some(Value::Array(out));
            }
            Step::FusedReduce {
                src,
                chain,
                reduce: op,
                dim,
                dst,
            } => {
                let out = run_fused_reduce(chain, *op, *dim, get(&regs, *src)?)?;
                regs[*dst] = Some(out);
            }
        }
    }
    let out = match ir.output {
        None => Value::None,
        Some(r) => get(&regs, r)?.clone(),
    };
    Ok((out, frames))
}
