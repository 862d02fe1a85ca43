//! Compiled plans: an opcode IR ([`Op`]), fusion into steps ([`fuse`]), and an executor.
//!
//! ```
//! use grumpy_core::{array::Array, plan::{Plan, Value}};
//! let plan = Plan::from_json(r#"{"ops": [
//!     {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}},
//!     {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1.0}}], "output": 2}"#).unwrap();
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let Value::Array(y) = plan.run(Value::Array(x)).unwrap() else { panic!() };
//! assert_eq!(y.to_item(), vec![vec![3.0, 5.0], vec![7.0]].into());
//! assert!(plan.explain().contains("fused"));
//! ```

mod exec;
pub mod fuse;
mod ir;
mod program;
mod reduce_fused;
pub mod schedule;
mod value;

pub use fuse::{MapOp, Step};
pub use ir::{Arg, Op, PlanIr, Reg};
pub use value::{FrameRef, Value};

use crate::error::{Code, Error, Result};

/// A validated, fused plan.
#[derive(Clone, Debug)]
pub struct Plan {
    ir: PlanIr,
    steps: Vec<Step>,
}

impl Plan {
    /// Build from IR, checking that every register is written before it is read.
    pub fn new(ir: PlanIr) -> Result<Plan> {
        for (i, op) in ir.ops.iter().enumerate() {
            for r in op.inputs() {
                if r > i {
                    return Err(Error::new(
                        Code::Compile,
                        format!("op {i} reads register r{r} before it is written"),
                        format!("{op:?}"),
                        "registers must be produced by an earlier op (r0 is the input)",
                    ));
                }
            }
        }
        if let Some(o) = ir.output {
            if o > ir.ops.len() {
                return Err(Error::new(
                    Code::Compile,
                    format!("output register r{o} does not exist"),
                    format!("the plan has {} ops", ir.ops.len()),
                    "point output at r0..=r(len)",
                ));
            }
        }
        let steps = fuse::fuse(&ir);
        Ok(Plan { ir, steps })
    }

    /// Parse the JSON form (`{"ops": [...], "output": n}`).
    pub fn from_json(s: &str) -> Result<Plan> {
        let ir: PlanIr = serde_json::from_str(s).map_err(|e| {
            Error::new(
                Code::Compile,
                "invalid plan JSON",
                e.to_string(),
                "build plans with gr.compile",
            )
        })?;
        Plan::new(ir)
    }

    /// The plan as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.ir).unwrap_or_default()
    }

    /// The opcodes.
    pub fn ops(&self) -> &[Op] {
        &self.ir.ops
    }

    /// The output register (None: the function returns nothing).
    pub fn output(&self) -> Option<Reg> {
        self.ir.output
    }

    /// The fused steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Run on one array batch.
    pub fn run(&self, input: Value) -> Result<Value> {
        Ok(self.run_with_frames(input, Vec::new())?.0)
    }

    /// Run with a dataframe table (the input is `Value::Frame(FrameRef { root: 0, .. })` for a
    /// dataframe batch). Returns the output and the updated frames (dot assignments applied).
    pub fn run_with_frames(
        &self,
        input: Value,
        frames: Vec<crate::frame::Frame>,
    ) -> Result<(Value, Vec<crate::frame::Frame>)> {
        exec::execute(&self.ir, &self.steps, input, frames)
    }

    /// Human-readable listing of the ops and what was fused.
    pub fn explain(&self) -> String {
        let mut s = format!(
            "plan: {} op(s) -> {} step(s)\n",
            self.ir.ops.len(),
            self.steps.len()
        );
        for (i, op) in self.ir.ops.iter().enumerate() {
            s.push_str(&format!("  r{} = {}\n", i + 1, describe(op)));
        }
        s.push_str("steps:\n");
        for (i, st) in self.steps.iter().enumerate() {
            let line = match st {
                Step::Op { index } => {
                    format!("r{} = {}", index + 1, describe(&self.ir.ops[*index]))
                }
                Step::FusedMap { src, chain, dst } => format!(
                    "r{dst} = fused[{}](r{src})  (one pass over the leaves)",
                    chain
                        .iter()
                        .map(MapOp::describe)
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ),
                Step::FusedReduce {
                    src,
                    chain,
                    reduce,
                    dim,
                    dst,
                } if !chain.is_empty() => format!(
                    "r{dst} = fused[{}] -> {}(dim={})(r{src})  (no temporary buffer)",
                    chain
                        .iter()
                        .map(MapOp::describe)
                        .collect::<Vec<_>>()
                        .join(" -> "),
                    format!("{reduce:?}").to_lowercase(),
                    dim.map_or("None".into(), |d| d.to_string())
                ),
                Step::FusedReduce {
                    src,
                    reduce,
                    dim,
                    dst,
                    ..
                } => format!(
                    "r{dst} = {}(r{src}, dim={})",
                    format!("{reduce:?}").to_lowercase(),
                    dim.map_or("None".into(), |d| d.to_string())
                ),
            };
            s.push_str(&format!("  {}. {line}\n", i + 1));
        }
        s.push_str(&format!(
            "output: {}\n",
            self.ir.output.map_or("None".into(), |o| format!("r{o}"))
        ));
        s
    }
}

fn describe(op: &Op) -> String {
    let arg = |a: &Arg| match a {
        Arg::Reg(r) => format!("r{r}"),
        Arg::Scalar(s) => s.to_string(),
    };
    match op {
        Op::Binary { kind, lhs, rhs } => format!("{} {:?} {}", arg(lhs), kind, arg(rhs)).replace("Add", "+").replace("Sub", "-").replace("Mul", "*").replace("Div", "/").replace("Rem", "%").replace("Pow", "**"),
        Op::Unary { kind, src } => format!("{}(r{src})", format!("{kind:?}").to_lowercase()),
        Op::Reduce { kind, src, dim } => format!("r{src}.{}(dim={})", format!("{kind:?}").to_lowercase(), dim.map_or("None".into(), |d| d.to_string())),
        Op::Where { cond, lhs, rhs } => format!("where(r{cond}, {}, {})", arg(lhs), arg(rhs)),
        Op::Clip { src, lo, hi } => format!("clip(r{src}, {:?}, {:?})", lo, hi),
        Op::Neighbors { query, data, k, radius, dim, keep_loops, .. } => format!("neighbors(r{query}, r{data}, k={k:?}, radius={radius:?}, dim={dim}, loop={keep_loops})"),
        Op::Column { src, path } => format!("r{src}.{}", path.join(".")),
        Op::SetColumn { frame, path, name, value } => {
            let mut p = path.clone();
            p.push(name.clone());
            format!("r{frame}.{} = r{value}", p.join("."))
        }
    }
}
