//! Fusion: group elementwise ops on one register into chains that run as one pass over the
//! leaf buffer, and fold a chain into the reduction that consumes it.
//!
//! ```text
//!   r1 = r0 * 0.01 ; r2 = r1 + 1.0 ; r3 = r2.mean(dim=1)
//!   ──► Step::FusedReduce { src: r0, chain: [mul 0.01, add 1.0], reduce: mean(dim=1), dst: r3 }
//! ```

use super::ir::{Arg, Op, PlanIr, Reg};
use crate::dtype::Scalar;
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::ReduceOp;
use crate::kernels::unary::UnaryOp;

/// One elementwise step of a fused chain (the chained register is the implicit operand).
#[derive(Clone, Debug, PartialEq)]
pub enum MapOp {
    /// `x <op> s` (`scalar_left = false`) or `s <op> x`.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// The literal.
        scalar: Scalar,
        /// True when the literal is the left operand.
        scalar_left: bool,
    },
    /// `f(x)`.
    Unary(UnaryOp),
    /// `clip(x, lo, hi)`.
    Clip(Option<Scalar>, Option<Scalar>),
}

impl MapOp {
    fn from_op(op: &Op) -> Option<(Reg, MapOp)> {
        match op {
            Op::Binary {
                kind,
                lhs: Arg::Reg(r),
                rhs: Arg::Scalar(s),
            } => Some((
                *r,
                MapOp::Binary {
                    op: *kind,
                    scalar: s.clone(),
                    scalar_left: false,
                },
            )),
            Op::Binary {
                kind,
                lhs: Arg::Scalar(s),
                rhs: Arg::Reg(r),
            } => Some((
                *r,
                MapOp::Binary {
                    op: *kind,
                    scalar: s.clone(),
                    scalar_left: true,
                },
            )),
            Op::Unary { kind, src } => Some((*src, MapOp::Unary(*kind))),
            Op::Clip { src, lo, hi } => Some((*src, MapOp::Clip(lo.clone(), hi.clone()))),
            _ => None,
        }
    }

    /// Short text for `explain()`.
    pub fn describe(&self) -> String {
        match self {
            MapOp::Binary {
                op,
                scalar,
                scalar_left: false,
            } => format!("{} {scalar}", op_name(*op)),
            MapOp::Binary {
                op,
                scalar,
                scalar_left: true,
            } => format!("{scalar} {} x", op_name(*op)),
            MapOp::Unary(u) => format!("{u:?}").to_lowercase(),
            MapOp::Clip(lo, hi) => format!(
                "clip({}, {})",
                lo.as_ref().map_or("None".into(), |s| s.to_string()),
                hi.as_ref().map_or("None".into(), |s| s.to_string())
            ),
        }
    }
}

fn op_name(op: BinaryOp) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{op:?}"))
}

/// An executable step.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Run op `index` of the IR as is.
    Op {
        /// Index into the IR ops.
        index: usize,
    },
    /// A chain of elementwise ops in one pass over the leaves of `src`.
    FusedMap {
        /// Input register.
        src: Reg,
        /// The chain, applied in order.
        chain: Vec<MapOp>,
        /// Output register.
        dst: Reg,
    },
    /// A chain feeding a reduction, without a temporary buffer where the layout allows.
    FusedReduce {
        /// Input register.
        src: Reg,
        /// The chain (may be empty).
        chain: Vec<MapOp>,
        /// The reduction.
        reduce: ReduceOp,
        /// Its axis.
        dim: Option<isize>,
        /// Output register.
        dst: Reg,
    },
}

/// Group the IR into steps.
pub fn fuse(ir: &PlanIr) -> Vec<Step> {
    let n = ir.ops.len();
    let mut uses = vec![0usize; n + 1];
    for op in &ir.ops {
        for r in op.inputs() {
            if r <= n {
                uses[r] += 1;
            }
        }
    }
    if let Some(o) = ir.output {
        if o <= n {
            uses[o] += 1;
        }
    }
    // chain_of[reg] = (src, chain) for registers produced by an open chain
    let mut open: Vec<Option<(Reg, Vec<MapOp>)>> = vec![None; n + 1];
    let mut steps: Vec<(usize, Step)> = Vec::new();
    for (i, op) in ir.ops.iter().enumerate() {
        let dst = i + 1;
        if let Some((input, m)) = MapOp::from_op(op) {
            let (src, mut chain) = match open.get_mut(input).and_then(Option::take) {
                Some((src, chain)) if uses[input] == 1 => (src, chain),
                Some(other) => {
                    // the input is needed elsewhere too: materialize it
                    open[input] = None;
                    steps.push((
                        i,
                        Step::FusedMap {
                            src: other.0,
                            chain: other.1,
                            dst: input,
                        },
                    ));
                    (input, Vec::new())
                }
                None => (input, Vec::new()),
            };
            chain.push(m);
            open[dst] = Some((src, chain));
            continue;
        }
        // a non-elementwise op: close chains it reads
        if let Op::Reduce { kind, src, dim } = op {
            if let Some((csrc, chain)) = open.get_mut(*src).and_then(Option::take) {
                if uses[*src] == 1 {
                    steps.push((
                        i,
                        Step::FusedReduce {
                            src: csrc,
                            chain,
                            reduce: *kind,
                            dim: *dim,
                            dst,
                        },
                    ));
                    continue;
                }
                steps.push((
                    i,
                    Step::FusedMap {
                        src: csrc,
                        chain,
                        dst: *src,
                    },
                ));
            }
            steps.push((
                i,
                Step::FusedReduce {
                    src: *src,
                    chain: Vec::new(),
                    reduce: *kind,
                    dim: *dim,
                    dst,
                },
            ));
            continue;
        }
        for r in op.inputs() {
            if let Some((csrc, chain)) = open.get_mut(r).and_then(Option::take) {
                steps.push((
                    i,
                    Step::FusedMap {
                        src: csrc,
                        chain,
                        dst: r,
                    },
                ));
            }
        }
        steps.push((i, Step::Op { index: i }));
    }
    for (reg, slot) in open.iter_mut().enumerate() {
        if let Some((src, chain)) = slot.take() {
            steps.push((
                n,
                Step::FusedMap {
                    src,
                    chain,
                    dst: reg,
                },
            ));
        }
    }
    steps.sort_by_key(|(pos, _)| *pos);
    steps.into_iter().map(|(_, s)| s).collect()
}
