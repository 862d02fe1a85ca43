//! Compiled plans: an opcode IR ([`Op`]), fusion into steps ([`fuse`]), and an executor.
//!
//! A [`Plan`] is built once (from the compiler's JSON) and run per batch:
//! 1. [`validate`](self) the ops against the input (array layout, dataframe schema): an op
//!    that does not apply is reported as `Unsupported` with the op and the reason, and the
//!    caller runs the Python body instead;
//! 2. execute the fused steps (elementwise chains in one pass, chain → reduction without
//!    temporaries), skipping unused ops when that cannot hide an error;
//! 3. if a step raises, rerun op by op in the Python body's order so the error is the one
//!    Python raises first.
//!
//! ```
//! use grumpy_core::{array::Array, plan::{Plan, Value}};
//! let plan = Plan::from_json(r#"{"ops": [
//!     {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}},
//!     {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1.0}}], "output": 2}"#).unwrap();
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let Value::Array(y) = plan.run(Value::Array(x)).unwrap() else { panic!() };
//! assert_eq!(y.to_item(), vec![vec![3.0, 5.0], vec![7.0]].into());
//! assert!(plan.explain().contains("r2 = (r0 * 2.0) + 1.0"));
//! ```

mod dce;
mod exec;
mod explain;
pub mod fuse;
#[doc(hidden)]
pub mod fuzz;
mod ir;
pub(crate) mod lazy;
mod program;
mod reduce_fused;
mod rows;
pub mod scalar;
pub mod schedule;
#[cfg(test)]
mod tests;
mod validate;
mod value;

pub use fuse::{MapOp, Step};
pub use ir::{Arg, Op, PlanIr, Reg};
pub use value::{FrameRef, Value};

use crate::error::{Code, Error, Result};
use crate::frame::Frame;

/// A validated, fused plan.
#[derive(Clone, Debug)]
pub struct Plan {
    ir: PlanIr,
    steps: Vec<Step>,
    pruned: Option<dce::Pruned>,
}

/// What running a plan on one batch gave: the result, or the input back with the reason the
/// plan does not apply (the caller runs the Python body on it).
#[derive(Debug)]
pub enum Outcome {
    /// The plan ran: output value and the frame table (dot assignments applied).
    Done(Value, Vec<Frame>),
    /// The plan does not apply to this input (an `Unsupported` error); the input is returned
    /// untouched.
    Fallback(Value, Vec<Frame>, Error),
}

fn op_error(i: usize, what: String, cause: String) -> Error {
    Error::new(
        Code::Compile,
        format!("op {i}: {what}"),
        cause,
        "build plans with gr.compile (the compiler emits valid ops)",
    )
}

impl Plan {
    /// Build from IR, checking that every register is written before it is read.
    pub fn new(ir: PlanIr) -> Result<Plan> {
        for (i, op) in ir.ops.iter().enumerate() {
            for r in op.inputs() {
                if r > i {
                    return Err(op_error(
                        i,
                        format!("reads register r{r} before it is written"),
                        op.text(),
                    ));
                }
            }
            if let Op::Neighbors { k, radius, .. } = op {
                if k.is_none() == radius.is_none() {
                    return Err(op_error(
                        i,
                        "neighbors needs exactly one of k and radius".into(),
                        op.text(),
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
        if let Some(&bad) = ir.float_literals.iter().find(|&&i| i >= ir.ops.len()) {
            return Err(op_error(
                bad,
                "float_literals names a missing op".into(),
                format!("the plan has {} ops", ir.ops.len()),
            ));
        }
        let steps = fuse::fuse(&ir);
        let pruned = dce::prune(&ir);
        Ok(Plan { ir, steps, pruned })
    }

    /// Parse the JSON form (`{"ops": [...], "output": n}`). A malformed op is reported with its
    /// index (`op 3: ...`).
    pub fn from_json(s: &str) -> Result<Plan> {
        let bad = |what: String, e: serde_json::Error| {
            Error::new(
                Code::Compile,
                what,
                e.to_string(),
                "build plans with gr.compile",
            )
        };
        let raw: serde_json::Value =
            serde_json::from_str(s).map_err(|e| bad("invalid plan JSON".into(), e))?;
        if let Some(ops) = raw.get("ops").and_then(serde_json::Value::as_array) {
            for (i, op) in ops.iter().enumerate() {
                if let Err(e) = serde_json::from_value::<Op>(op.clone()) {
                    return Err(bad(format!("op {i}: not a valid opcode"), e));
                }
            }
        }
        let ir: PlanIr =
            serde_json::from_value(raw).map_err(|e| bad("invalid plan JSON".into(), e))?;
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

    /// The fused steps (of the whole plan, unused ops included).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Run on one batch. `Unsupported` when the plan does not apply to it.
    pub fn run(&self, input: Value) -> Result<Value> {
        Ok(self.run_with_frames(input, Vec::new())?.0)
    }

    /// Run with a dataframe table (the input is `Value::Frame(FrameRef { root: 0, .. })` for a
    /// dataframe batch). Returns the output and the updated frames (dot assignments applied).
    pub fn run_with_frames(&self, input: Value, frames: Vec<Frame>) -> Result<(Value, Vec<Frame>)> {
        match self.run_outcome(input, frames)? {
            Outcome::Done(v, f) => Ok((v, f)),
            Outcome::Fallback(_, _, e) => Err(e),
        }
    }

    /// Run, giving the input back (as [`Outcome::Fallback`]) when the plan does not apply.
    /// Errors the Python body would raise too are `Err`.
    ///
    /// ```
    /// use grumpy_core::{array::Array, plan::{Outcome, Plan, Value}};
    /// let plan = Plan::from_json(r#"{"ops": [{"op": "column", "src": 0, "path": ["x"]}],
    ///     "output": 1}"#).unwrap();
    /// let out = plan.run_outcome(Value::Array(Array::from_vec(vec![1.0])), vec![]).unwrap();
    /// assert!(matches!(out, Outcome::Fallback(Value::Array(_), _, _)));
    /// ```
    pub fn run_outcome(&self, input: Value, frames: Vec<Frame>) -> Result<Outcome> {
        let kinds = match validate::check(&self.ir, &input, &frames) {
            Ok(k) => k,
            Err(e) => return Ok(Outcome::Fallback(input, frames, e)),
        };
        let (ir, steps) = match &self.pruned {
            Some(p) if validate::dead_ops_safe(&self.ir, &kinds, &p.dead) => (&p.ir, &p.steps),
            _ => (&self.ir, &self.steps),
        };
        let (saved, saved_frames) = (input.clone(), frames.clone());
        let first = exec::execute(ir, steps, input, frames);
        let result = match first {
            Err(e) if e.code() != Code::Unsupported => {
                // A fused step runs a chain where its result is needed, not where the Python
                // body computes it: replay op by op, in the body's order, so the error is the
                // first one Python raises (or none, if only the fused path failed).
                let one_by_one: Vec<Step> = (0..self.ir.ops.len())
                    .map(|index| Step::Op { index })
                    .collect();
                exec::execute(&self.ir, &one_by_one, saved.clone(), saved_frames.clone())
            }
            other => other,
        };
        match result {
            Ok((v, f)) => Ok(Outcome::Done(v, f)),
            Err(e) if e.code() == Code::Unsupported => {
                Ok(Outcome::Fallback(saved, saved_frames, e))
            }
            Err(e) => Err(e),
        }
    }

    /// Human-readable listing: the ops (Python-like), the steps that run, what was fused, and
    /// the ops skipped because nothing uses them.
    pub fn explain(&self) -> String {
        explain::explain(&self.ir, &self.steps, self.pruned.as_ref())
    }
}
