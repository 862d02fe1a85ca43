//! Dead-code elimination: ops whose results nothing reads (and that change nothing) are
//! dropped from the executed plan.
//!
//! Skipping an op must never hide an error the Python body would raise, so:
//! - dropped ops are checked per input by [`super::validate::dead_ops_safe`]; if one of them
//!   might raise on this input, the whole (unpruned) plan runs instead;
//! - an unused `gr.neighbors` — the one expensive op — becomes [`Op::NeighborsCheck`]: when its
//!   points are plainly valid (finite, no nulls, regular coordinates, a valid `k`/`radius`
//!   and `dim`) the search is skipped; otherwise it runs and raises what Python would.
//!
//! ```
//! use grumpy_core::plan::Plan;
//! let plan = Plan::from_json(r#"{"ops": [
//!     {"op": "neighbors", "query": 0, "data": 0, "k": 2, "dim": 1, "loop": false},
//!     {"op": "reduce", "kind": "mean", "src": 0, "dim": 1}], "output": 2}"#).unwrap();
//! assert!(plan.explain().contains("only its input checks run"));
//! ```

use super::fuse::{fuse, Step};
use super::ir::{Op, PlanIr, Reg};
use super::value::Value;
use crate::array::Array;
use crate::buffer::Values;
use crate::error::Result;
use crate::layout::Layout;

/// A plan with its unused ops removed and registers renumbered.
#[derive(Clone, Debug)]
pub(crate) struct Pruned {
    /// The pruned IR.
    pub(crate) ir: PlanIr,
    /// Its fused steps.
    pub(crate) steps: Vec<Step>,
    /// Original register of each pruned register.
    pub(crate) old_reg: Vec<Reg>,
    /// Indices (in the original IR) of the dropped ops.
    pub(crate) dead: Vec<usize>,
}

/// Remove unused ops; `None` when every op is used.
pub(crate) fn prune(ir: &PlanIr) -> Option<Pruned> {
    let n = ir.ops.len();
    let mut live = vec![false; n + 1];
    live[0] = true;
    if let Some(o) = ir.output {
        live[o] = true;
    }
    let mut keep = vec![false; n];
    let mut checks = vec![false; n];
    for i in (0..n).rev() {
        let op = &ir.ops[i];
        let used = live[i + 1];
        let unused_search = !used && matches!(op, Op::Neighbors { .. });
        if used || op.has_effects() || unused_search {
            keep[i] = true;
            checks[i] = unused_search;
            for r in op.inputs() {
                live[r] = true;
            }
        }
    }
    if keep.iter().all(|&k| k) && !checks.contains(&true) {
        return None;
    }
    let mut new_reg = vec![0usize; n + 1];
    let mut old_reg = vec![0usize];
    let mut ops = Vec::new();
    let mut float_literals = Vec::new();
    for i in 0..n {
        if !keep[i] {
            continue;
        }
        let mut op = ir.ops[i].clone();
        op.map_regs(&|r| new_reg[r]);
        if checks[i] {
            op = as_check(op);
        }
        if ir.float_literals.contains(&i) {
            float_literals.push(ops.len());
        }
        ops.push(op);
        new_reg[i + 1] = ops.len();
        old_reg.push(i + 1);
    }
    let pruned = PlanIr {
        ops,
        output: ir.output.map(|o| new_reg[o]),
        float_literals,
    };
    let steps = fuse(&pruned);
    Some(Pruned {
        ir: pruned,
        steps,
        old_reg,
        dead: (0..n).filter(|&i| !keep[i]).collect(),
    })
}

fn as_check(op: Op) -> Op {
    match op {
        Op::Neighbors {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        } => Op::NeighborsCheck {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        },
        other => other,
    }
}

fn finite(v: &Values) -> bool {
    match v {
        Values::F64(b) => b.as_slice().iter().all(|x| x.is_finite()),
        Values::F32(b) => b.as_slice().iter().all(|x| x.is_finite()),
        _ => false,
    }
}

/// True when `gr.neighbors(q, q, ...)` certainly succeeds: a self-graph over a list-chain
/// without nulls, points on axis `dim` with the same number of finite float coordinates, and
/// a valid `k` or `radius`. Anything else is left to the real search.
fn plainly_valid(q: &Array, k: Option<i64>, radius: Option<f64>, dim: isize) -> bool {
    match (k, radius) {
        (Some(k), None) if k >= 1 => {}
        (None, Some(r)) if r.is_finite() && r >= 0.0 => {}
        _ => return false,
    }
    let nd = q.ndim() as isize;
    let d = if dim < 0 { dim + nd } else { dim };
    if d < 0 || d + 2 != nd {
        return false;
    }
    let mut cur = &q.layout;
    let mut points = None;
    loop {
        match cur {
            Layout::List(l) => {
                if l.validity.as_ref().is_some_and(|v| v.null_count() > 0) {
                    return false;
                }
                points = Some(l);
                cur = &l.child;
            }
            Layout::Leaf(leaf) => {
                if leaf.validity.as_ref().is_some_and(|v| v.null_count() > 0) {
                    return false;
                }
                return finite(&leaf.values)
                    && points.is_some_and(|p| p.is_empty() || p.regular_size().is_some());
            }
            Layout::Union(_) => return false,
        }
    }
}

/// Run an unused `gr.neighbors`' checks (see the module docs).
pub(crate) fn neighbors_check(
    q: &Array,
    d: &Array,
    k: Option<i64>,
    radius: Option<f64>,
    dim: isize,
    keep_loops: bool,
    same: bool,
) -> Result<Value> {
    if !(same && plainly_valid(q, k, radius, dim)) {
        super::value::neighbors_pairs(q, d, k, radius, dim, keep_loops, same)?;
    }
    Ok(Value::None)
}
