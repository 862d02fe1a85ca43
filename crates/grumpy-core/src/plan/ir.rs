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
    /// A literal (weak Python scalar; non-finite floats travel as `"inf"`, `"-inf"`, `"nan"`).
    Scalar(#[serde(with = "lit")] Scalar),
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
        #[serde(default, with = "lit::opt")]
        lo: Option<Scalar>,
        /// Upper bound.
        #[serde(default, with = "lit::opt")]
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
    /// Internal (never in plan JSON): an unused `gr.neighbors(...)` reduced by dead-code
    /// elimination to the checks that decide whether it would raise. When the inputs are
    /// plainly valid the search is skipped; otherwise it runs, so its error (if any) is the
    /// one the Python body raises.
    #[serde(skip)]
    NeighborsCheck {
        /// Query points register.
        query: Reg,
        /// Data points register.
        data: Reg,
        /// Number of neighbours.
        k: Option<i64>,
        /// Radius (inclusive).
        radius: Option<f64>,
        /// Point axis.
        dim: isize,
        /// Keep self pairs.
        keep_loops: bool,
        /// Query and data are the same object.
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
            Op::Neighbors { query, data, .. } | Op::NeighborsCheck { query, data, .. } => {
                vec![*query, *data]
            }
            Op::SetColumn { frame, value, .. } => vec![*frame, *value],
        }
    }

    /// Rewrite every register this op reads through `f` (used to renumber after dead-code
    /// elimination).
    pub fn map_regs(&mut self, f: &impl Fn(Reg) -> Reg) {
        let arg = |a: &mut Arg| {
            if let Arg::Reg(r) = a {
                *r = f(*r);
            }
        };
        match self {
            Op::Binary { lhs, rhs, .. } => {
                arg(lhs);
                arg(rhs);
            }
            Op::Unary { src, .. }
            | Op::Reduce { src, .. }
            | Op::Clip { src, .. }
            | Op::Column { src, .. } => *src = f(*src),
            Op::Where { cond, lhs, rhs } => {
                *cond = f(*cond);
                arg(lhs);
                arg(rhs);
            }
            Op::Neighbors { query, data, .. } | Op::NeighborsCheck { query, data, .. } => {
                *query = f(*query);
                *data = f(*data);
            }
            Op::SetColumn { frame, value, .. } => {
                *frame = f(*frame);
                *value = f(*value);
            }
        }
    }

    /// True for ops with an effect beyond their register (dot assignment mutates the frame):
    /// they always run, even when nothing reads their result.
    pub fn has_effects(&self) -> bool {
        matches!(self, Op::SetColumn { .. } | Op::NeighborsCheck { .. })
    }

    /// True for ops that map leaves one to one (fusable into a chain).
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Op::Binary { .. } | Op::Unary { .. } | Op::Clip { .. })
    }

    /// The op as Python-like text, e.g. `r0 * 0.01`, `r2.mean(dim=1)`, `clip(r4, 0, 1)`.
    ///
    /// ```
    /// use grumpy_core::plan::Plan;
    /// let plan = Plan::from_json(r#"{"ops": [
    ///     {"op": "binary", "kind": "gt", "lhs": {"reg": 0}, "rhs": {"scalar": 0}},
    ///     {"op": "clip", "src": 0, "lo": 0, "hi": 1}], "output": 2}"#).unwrap();
    /// assert_eq!(plan.ops()[0].text(), "r0 > 0");
    /// assert_eq!(plan.ops()[1].text(), "clip(r0, 0, 1)");
    /// ```
    pub fn text(&self) -> String {
        let reg = |r: &Reg| format!("r{r}");
        match self {
            Op::Binary { kind, lhs, rhs } => binary_text(*kind, &arg_text(lhs), &arg_text(rhs)),
            Op::Unary { kind, src } => unary_text(*kind, &reg(src)),
            Op::Reduce { kind, src, dim } => reduce_text(*kind, &reg(src), *dim),
            Op::Where { cond, lhs, rhs } => {
                format!("where(r{cond}, {}, {})", arg_text(lhs), arg_text(rhs))
            }
            Op::Clip { src, lo, hi } => clip_text(&reg(src), lo.as_ref(), hi.as_ref()),
            Op::Neighbors {
                query,
                data,
                k,
                radius,
                dim,
                keep_loops,
                ..
            }
            | Op::NeighborsCheck {
                query,
                data,
                k,
                radius,
                dim,
                keep_loops,
                ..
            } => {
                let how = match (k, radius) {
                    (Some(k), None) => format!("k={k}"),
                    (None, Some(r)) => format!("radius={}", crate::dtype::format_float(*r)),
                    (Some(k), Some(r)) => {
                        format!("k={k}, radius={}", crate::dtype::format_float(*r))
                    }
                    (None, None) => "k=None".into(),
                };
                let py_bool = if *keep_loops { "True" } else { "False" };
                let call =
                    format!("neighbors(r{query}, r{data}, {how}, dim={dim}, loop={py_bool})");
                if matches!(self, Op::NeighborsCheck { .. }) {
                    format!("check {call} (result unused: only its input checks run)")
                } else {
                    call
                }
            }
            Op::Column { src, path } => format!("r{src}.{}", path.join(".")),
            Op::SetColumn {
                frame,
                path,
                name,
                value,
            } => {
                let mut p = path.clone();
                p.push(name.clone());
                format!("r{frame}.{} = r{value}", p.join("."))
            }
        }
    }
}

/// An operand as text (`r3`, `0.5`, `inf`).
pub(crate) fn arg_text(a: &Arg) -> String {
    match a {
        Arg::Reg(r) => format!("r{r}"),
        Arg::Scalar(s) => s.to_string(),
    }
}

/// `a <op> b` or `minimum(a, b)`.
pub(crate) fn binary_text(kind: BinaryOp, a: &str, b: &str) -> String {
    match kind {
        BinaryOp::Minimum | BinaryOp::Maximum => format!("{}({a}, {b})", kind.symbol()),
        _ => format!("{a} {} {b}", kind.symbol()),
    }
}

/// `-x`, `~x` or `sqrt(x)`.
pub(crate) fn unary_text(kind: UnaryOp, x: &str) -> String {
    match kind {
        UnaryOp::Neg => format!("-{x}"),
        UnaryOp::Not => format!("~{x}"),
        other => format!("{}({x})", other.name()),
    }
}

/// `x.mean(dim=1)`.
pub(crate) fn reduce_text(kind: ReduceOp, x: &str, dim: Option<isize>) -> String {
    let name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match dim {
        Some(d) => format!("{x}.{name}(dim={d})"),
        None => format!("{x}.{name}()"),
    }
}

/// `clip(x, lo, hi)`.
pub(crate) fn clip_text(x: &str, lo: Option<&Scalar>, hi: Option<&Scalar>) -> String {
    let b = |s: Option<&Scalar>| s.map_or("None".to_owned(), Scalar::to_string);
    format!("clip({x}, {}, {})", b(lo), b(hi))
}

/// A plan: ops plus the output register (None = the function returns nothing).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanIr {
    /// The ops in order.
    pub ops: Vec<Op>,
    /// Register returned.
    #[serde(default)]
    pub output: Option<Reg>,
    /// Ops whose literal operands stand for Python ints beyond 64 bits (stored as the nearest
    /// float): they run only on floating-point arrays; with any other operand the plan does
    /// not apply (the Python body decides what such an int means there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub float_literals: Vec<usize>,
}

/// Literal scalars in plan JSON: JSON numbers, bools and null, plus the strings `"inf"`,
/// `"-inf"` and `"nan"` for the non-finite floats JSON cannot spell. Plans never carry string
/// literals, so the three names are unambiguous.
///
/// ```
/// use grumpy_core::plan::Plan;
/// let plan = Plan::from_json(r#"{"ops": [{"op": "binary", "kind": "mul",
///     "lhs": {"reg": 0}, "rhs": {"scalar": "-inf"}}], "output": 1}"#).unwrap();
/// assert!(plan.to_json().contains(r#""-inf""#));
/// ```
pub(crate) mod lit {
    use crate::dtype::Scalar;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    fn special(s: &Scalar) -> Option<&'static str> {
        match s {
            Scalar::Float(x) if x.is_nan() => Some("nan"),
            Scalar::Float(x) if x.is_infinite() && *x > 0.0 => Some("inf"),
            Scalar::Float(x) if x.is_infinite() => Some("-inf"),
            _ => None,
        }
    }

    fn decode(s: Scalar) -> Scalar {
        match &s {
            Scalar::Str(t) if t == "inf" => Scalar::Float(f64::INFINITY),
            Scalar::Str(t) if t == "-inf" => Scalar::Float(f64::NEG_INFINITY),
            Scalar::Str(t) if t == "nan" => Scalar::Float(f64::NAN),
            _ => s,
        }
    }

    pub(crate) fn serialize<S: Serializer>(s: &Scalar, ser: S) -> Result<S::Ok, S::Error> {
        match special(s) {
            Some(name) => ser.serialize_str(name),
            None => s.serialize(ser),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(de).map(decode)
    }

    pub(crate) mod opt {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            s: &Option<Scalar>,
            ser: S,
        ) -> Result<S::Ok, S::Error> {
            match s {
                Some(v) => super::serialize(v, ser),
                None => ser.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            de: D,
        ) -> Result<Option<Scalar>, D::Error> {
            Ok(match Option::<Scalar>::deserialize(de)? {
                None | Some(Scalar::Null) => None,
                Some(s) => Some(decode(s)),
            })
        }
    }
}
