//! The plan IR: one serde enum of opcodes. Register 0 holds the batch; op `i` writes register
//! `i + 1`. This enum is the list of what compiles.
//!
//! ```
//! use grumpy_core::plan::{Op, Plan};
//! let plan = Plan::from_json(r#"{"ops": [
//!     {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}},
//!     {"op": "reduce", "kind": "mean", "src": 1, "dim": 1}], "output": 2}"#).unwrap();
//! assert!(matches!(plan.ops()[1], Op::Reduce { .. }));
//! ```

use crate::dtype::Scalar;
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::ReduceOp;
use crate::kernels::unary::UnaryOp;
use serde::{Deserialize, Serialize};

/// A register number (0 = the batch).
pub type Reg = usize;

/// An operand: a register or a literal scalar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    /// A register.
    Reg(Reg),
    /// A literal (weak Python scalar).
    Scalar(Scalar),
}

/// One opcode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// `lhs <kind> rhs` (arithmetic, comparison, logical, minimum/maximum).
    Binary {
        /// The operator.
        kind: BinaryOp,
        /// Left operand.
        lhs: Arg,
        /// Right operand.
        rhs: Arg,
    },
    /// `kind(src)` (negation, math functions, predicates).
    Unary {
        /// The function.
        kind: UnaryOp,
        /// Input register.
        src: Reg,
    },
    /// `src.<kind>(dim=dim)`.
    Reduce {
        /// The reduction.
        kind: ReduceOp,
        /// Input register.
        src: Reg,
        /// Axis (None = all).
        #[serde(default)]
        dim: Option<isize>,
    },
    /// `gr.where(cond, lhs, rhs)`.
    Where {
        /// Condition register (bool).
        cond: Reg,
        /// Value where true.
        lhs: Arg,
        /// Value where false.
        rhs: Arg,
    },
    /// `gr.clip(src, lo, hi)`.
    Clip {
        /// Input register.
        src: Reg,
        /// Lower bound.
        #[serde(default)]
        lo: Option<Scalar>,
        /// Upper bound.
        #[serde(default)]
        hi: Option<Scalar>,
    },
    /// `gr.neighbors(query, data, k=, radius=, dim=, loop=)` → pairs.
    Neighbors {
        /// Query points register.
        query: Reg,
        /// Data points register.
        data: Reg,
        /// Number of neighbours.
        #[serde(default)]
        k: Option<i64>,
        /// Radius (inclusive).
        #[serde(default)]
        radius: Option<f64>,
        /// Point axis.
        #[serde(default)]
        dim: isize,
        /// Keep self pairs.
        #[serde(default = "yes", rename = "loop")]
        keep_loops: bool,
        /// Query and data are the same object.
        #[serde(default)]
        same: bool,
    },
    /// Dataframe attribute path: `src.residue.coords` (levels, then a column name).
    Column {
        /// Frame register.
        src: Reg,
        /// Attribute path.
        path: Vec<String>,
    },
    /// Dataframe dot assignment `frame.<path...>.<name> = value` (mutates the frame).
    SetColumn {
        /// Frame register (mutated in place; the op's own register aliases it).
        frame: Reg,
        /// Level path before the column name.
        path: Vec<String>,
        /// Column name.
        name: String,
        /// Value register.
        value: Reg,
    },
}

fn yes() -> bool {
    true
}

impl Op {
    /// Registers this op reads.
    pub fn inputs(&self) -> Vec<Reg> {
        let arg = |a: &Arg| match a {
            Arg::Reg(r) => Some(*r),
            Arg::Scalar(_) => None,
        };
        match self {
            Op::Binary { lhs, rhs, .. } => arg(lhs).into_iter().chain(arg(rhs)).collect(),
            Op::Unary { src, .. }
            | Op::Reduce { src, .. }
            | Op::Clip { src, .. }
            | Op::Column { src, .. } => {
                vec![*src]
            }
            Op::Where { cond, lhs, rhs } => std::iter::once(*cond)
                .chain(arg(lhs))
                .chain(arg(rhs))
                .collect(),
            Op::Neighbors { query, data, .. } => vec![*query, *data],
            Op::SetColumn { frame, value, .. } => vec![*frame, *value],
        }
    }

    /// True for ops that map leaves one to one (fusable into a chain).
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Op::Binary { .. } | Op::Unary { .. } | Op::Clip { .. })
    }
}

/// A plan: ops plus the output register (None = the function returns nothing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanIr {
    /// The ops in order.
    pub ops: Vec<Op>,
    /// Register returned.
    #[serde(default)]
    pub output: Option<Reg>,
}
