//! Elementwise chain → reduction without a temporary buffer: the chain, compiled for the
//! leaf's float type ([`Program`]), is the reduction's mapper ([`reduce_with`]), so each value
//! is mapped as it is read, in registers. An affine chain (`x * 2.0 + 1.0`) is a per-value
//! `x * a + b` inlined into the plain reduction loops (the same interleaved accumulators and
//! row-parallel traversal); a general chain maps 768-value blocks in L1 first. Either way the
//! mapped values are exactly what the eager kernels compute and go through the same
//! accumulators in the same order, so the result is bit-identical to
//! `reduce(map(chain, x))`.
//!
//! ```text
//!   (x * 2.0 + 1.0).mean(dim=1)      proteins × residues × xyz, float64
//!   ──► two_level(proteins, residues): per protein, 4 × 3 accumulators ← x * 2.0 + 1.0
//! ```

use super::fuse::MapOp;
use super::program::{Float, Program};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::Result;
use crate::kernels::reduce::accum::Reducible;
use crate::kernels::reduce::{reduce_with, ReduceOp, Reduced};

/// Run `chain` then `op(dim)` in one pass when the leaves are float32/float64 and the chain
/// compiles for that type; `None` → the caller maps then reduces.
pub(crate) fn try_fused(
    chain: &[MapOp],
    op: ReduceOp,
    dim: Option<isize>,
    a: &Array,
) -> Result<Option<Reduced>> {
    // (only a union has more than one leaf to compare: no leaf list for a list chain)
    if chain.is_empty()
        || a.layout.has_union()
            && a.layout
                .leaves()
                .iter()
                .any(|l| l.values.dtype() != a.dtype())
    {
        return Ok(None);
    }
    match a.dtype() {
        DType::Float64 => fused::<f64>(chain, op, dim, a),
        DType::Float32 => fused::<f32>(chain, op, dim, a),
        _ => Ok(None),
    }
}

fn fused<T: Float + Reducible>(
    chain: &[MapOp],
    op: ReduceOp,
    dim: Option<isize>,
    a: &Array,
) -> Result<Option<Reduced>> {
    let Some(p) = Program::<T>::compile(chain) else {
        return Ok(None);
    };
    Ok(Some(match &p {
        Program::Affine(f) => reduce_with(a, op, dim, f)?,
        Program::Ops(o) => reduce_with(a, op, dim, o)?,
    }))
}
