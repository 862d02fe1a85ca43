//! Elementwise chain → reduction without a temporary buffer: the reduction kernels take a
//! per-value mapping ([`reduce_mapped`]), so the chain is applied as each value is read. Only
//! float64 leaves take this path: the chain then computes exactly what the eager kernels do
//! (same IEEE operations in the same order), and the accumulators are the same, so the result
//! is bit-identical to `reduce(map(chain, x))`.

use super::exec::float_chain_f64;
use super::fuse::MapOp;
use crate::array::Array;
use crate::dtype::DType;
use crate::error::Result;
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::{reduce_mapped, ReduceOp, Reduced};
use crate::kernels::unary::UnaryOp;

#[inline(always)]
fn bin(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        _ => a.powf(b),
    }
}

#[inline(always)]
fn un(op: UnaryOp, a: f64) -> f64 {
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
        _ => a.ceil(),
    }
}

/// Run `chain` then `op(dim)` in one pass when the leaves are float64 and every chain step is
/// a fusable float op; `None` → the caller maps then reduces.
pub(crate) fn try_fused(
    chain: &[MapOp],
    op: ReduceOp,
    dim: Option<isize>,
    a: &Array,
) -> Result<Option<Reduced>> {
    if chain.is_empty()
        || a.layout
            .leaves()
            .iter()
            .any(|l| l.values.dtype() != DType::Float64)
    {
        return Ok(None);
    }
    let Some(c) = float_chain_f64(chain) else {
        return Ok(None);
    };
    // Specialise the two most common chain shapes; fall back to a small interpreter.
    let r = match c.as_slice() {
        [(0, o, _, s)] => {
            let (o, s) = (*o, *s);
            reduce_mapped(a, op, dim, DType::Float64, move |x| bin(o, x, s))?
        }
        [(0, o1, _, s1), (0, o2, _, s2)] => {
            let (o1, s1, o2, s2) = (*o1, *s1, *o2, *s2);
            reduce_mapped(a, op, dim, DType::Float64, move |x| {
                bin(o2, bin(o1, x, s1), s2)
            })?
        }
        _ => reduce_mapped(a, op, dim, DType::Float64, |x| {
            let mut v = x;
            for &(k, o, u, s) in &c {
                v = match k {
                    0 => bin(o, v, s),
                    1 => bin(o, s, v),
                    _ => un(u, v),
                };
            }
            v
        })?,
    };
    Ok(Some(r))
}
