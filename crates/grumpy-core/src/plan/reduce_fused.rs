//! Elementwise chain → reduction without a temporary buffer.

use super::fuse::MapOp;
use crate::array::Array;
use crate::error::Result;
use crate::kernels::reduce::{ReduceOp, Reduced};

/// Run `chain` then `op(dim)` in one pass when the layout allows; `None` → caller falls back
/// to map-then-reduce.
pub(crate) fn try_fused(chain: &[MapOp], op: ReduceOp, dim: Option<isize>, a: &Array) -> Result<Option<Reduced>> {
    let _ = (chain, op, dim, a);
    Ok(None)
}
