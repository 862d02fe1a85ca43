//! `Plan::explain()`: the ops as Python-like text, the steps that run, what was fused and
//! what is skipped.
//!
//! ```text
//! plan: 3 ops in 1 step
//!   r1 = r0 * 0.01
//!   r2 = r1 + 1.0
//!   r3 = r2.mean(dim=1)
//! steps:
//!   1. r3 = ((r0 * 0.01) + 1.0).mean(dim=1)
//! fused:
//!   r3: 2 elementwise ops folded into mean(dim=1): one pass over r0, no temporary buffer
//! output: r3
//! ```

use super::dce::Pruned;
use super::fuse::{MapOp, Step};
use super::ir::{binary_text, clip_text, reduce_text, unary_text, PlanIr, Reg};
use crate::kernels::unary::UnaryOp;

/// True when `x` has a space outside parentheses (an operator expression).
fn compound(x: &str) -> bool {
    let mut depth = 0i32;
    for c in x.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ' ' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// `x` as an operand of a binary operator.
fn wrap(x: &str) -> String {
    if compound(x) {
        format!("({x})")
    } else {
        x.to_owned()
    }
}

/// `x` as the object of a method call (`.mean()` binds tighter than unary minus).
fn wrap_attr(x: &str) -> String {
    if compound(x) || x.starts_with('-') || x.starts_with('~') {
        format!("({x})")
    } else {
        x.to_owned()
    }
}

/// The expression a chain computes from `src`, e.g. `(r0 * 0.01) + 1.0`.
fn chain_text(src: &str, chain: &[MapOp]) -> String {
    let mut cur = src.to_owned();
    for m in chain {
        cur = match m {
            MapOp::Binary {
                op,
                scalar,
                scalar_left: false,
            } => binary_text(*op, &wrap(&cur), &scalar.to_string()),
            MapOp::Binary {
                op,
                scalar,
                scalar_left: true,
            } => binary_text(*op, &scalar.to_string(), &wrap(&cur)),
            MapOp::Unary(u @ (UnaryOp::Neg | UnaryOp::Not)) => unary_text(*u, &wrap(&cur)),
            MapOp::Unary(u) => unary_text(*u, &cur),
            MapOp::Clip(lo, hi) => clip_text(&cur, lo.as_ref(), hi.as_ref()),
        };
    }
    cur
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The listing (see the module docs).
pub(crate) fn explain(ir: &PlanIr, full_steps: &[Step], pruned: Option<&Pruned>) -> String {
    let (run_ir, steps, old): (&PlanIr, &[Step], Vec<Reg>) = match pruned {
        Some(p) => (&p.ir, &p.steps, p.old_reg.clone()),
        None => (ir, full_steps, (0..=ir.ops.len()).collect()),
    };
    let name = |r: Reg| format!("r{}", old.get(r).copied().unwrap_or(r));
    let mut s = format!(
        "plan: {} in {}\n",
        plural(ir.ops.len(), "op"),
        plural(steps.len(), "step")
    );
    for (i, op) in ir.ops.iter().enumerate() {
        s.push_str(&format!("  r{} = {}\n", i + 1, op.text()));
    }
    s.push_str("steps:\n");
    let mut fused = Vec::new();
    for (n, st) in steps.iter().enumerate() {
        let line = match st {
            Step::Op { index } => {
                let mut op = run_ir.ops[*index].clone();
                op.map_regs(&|r| old.get(r).copied().unwrap_or(r));
                format!("{} = {}", name(index + 1), op.text())
            }
            Step::FusedMap { src, chain, dst } => {
                if chain.len() > 1 {
                    fused.push(format!(
                        "{}: {} in one pass over {}",
                        name(*dst),
                        plural(chain.len(), "elementwise op"),
                        name(*src)
                    ));
                }
                format!("{} = {}", name(*dst), chain_text(&name(*src), chain))
            }
            Step::FusedReduce {
                src,
                chain,
                reduce,
                dim,
                dst,
            } => {
                if !chain.is_empty() {
                    fused.push(format!(
                        "{}: {} folded into {}: one pass over {}, no temporary buffer",
                        name(*dst),
                        plural(chain.len(), "elementwise op"),
                        reduce_text(*reduce, "", *dim).trim_start_matches('.'),
                        name(*src)
                    ));
                }
                format!(
                    "{} = {}",
                    name(*dst),
                    reduce_text(*reduce, &wrap_attr(&chain_text(&name(*src), chain)), *dim)
                )
            }
        };
        s.push_str(&format!("  {}. {line}\n", n + 1));
    }
    s.push_str("fused:\n");
    if fused.is_empty() {
        s.push_str("  nothing (no chain of elementwise ops)\n");
    }
    for f in fused {
        s.push_str(&format!("  {f}\n"));
    }
    if let Some(p) = pruned {
        if !p.dead.is_empty() {
            s.push_str("unused (skipped when they cannot raise on the input):\n");
            for &i in &p.dead {
                s.push_str(&format!("  r{} = {}\n", i + 1, ir.ops[i].text()));
            }
        }
    }
    s.push_str(&format!(
        "output: {}\n",
        ir.output.map_or("None".into(), |o| format!("r{o}"))
    ));
    s
}
