//! [`Plan::row_local`]: whether a plan computes each row of its output from the same row of
//! its input alone, so that a run over several consecutive batches at once, sliced back into
//! batches, gives what a run per batch gives.
//!
//! The analysis is conservative: every register is a literal (broadcasts everywhere), aligned
//! with the input's rows, or anything else; an op keeps rows aligned only when it is
//! elementwise over aligned registers and literals (arrays of equal outer length broadcast
//! level by level, inside each row), or reduces or searches neighbours along an axis inside the
//! rows (`dim` ≥ 1 once negative axes are counted from the register's own dimensions).
//! Reductions over the rows or over everything, dataframe ops, and anything the analysis does
//! not know make the plan not row-local.

use super::ir::{Arg, Op};
use super::Plan;

/// What a register holds, as far as rows go (with its number of dimensions when aligned).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reg {
    /// A literal.
    Literal,
    /// One row per input row, each from that input row alone; `ndim` dimensions.
    Rows(usize),
    /// Anything else.
    Other,
}

/// `dim` counted from the front of `ndim` dimensions, when it is an axis inside the rows.
fn inner_axis(dim: isize, ndim: usize) -> Option<usize> {
    let d = if dim < 0 {
        dim.checked_add(ndim as isize)?
    } else {
        dim
    };
    (d >= 1 && (d as usize) < ndim).then_some(d as usize)
}

impl Plan {
    /// Whether, on an array input of `ndim` dimensions, the output has one row per input row,
    /// each computed from that input row alone (see the module docs): running the plan on
    /// consecutive batches together and slicing its output gives what running it on each
    /// batch gives. A compiled stream's pipeline then runs several small batches per job.
    ///
    /// ```
    /// use grumpy_core::plan::Plan;
    /// let pool = Plan::from_json(r#"{"ops": [
    ///     {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 0.01}},
    ///     {"op": "reduce", "kind": "mean", "src": 1, "dim": 1}], "output": 2}"#).unwrap();
    /// assert!(pool.row_local(3));
    /// // a mean over the batch's rows mixes them
    /// let across = Plan::from_json(r#"{"ops": [
    ///     {"op": "reduce", "kind": "mean", "src": 0, "dim": 0}], "output": 1}"#).unwrap();
    /// assert!(!across.row_local(3));
    /// ```
    pub fn row_local(&self, ndim: usize) -> bool {
        let Some(out) = self.output() else {
            return false;
        };
        let mut regs = vec![Reg::Rows(ndim)];
        let arg = |regs: &[Reg], a: &Arg| match a {
            Arg::Reg(r) => regs[*r],
            Arg::Scalar(_) => Reg::Literal,
        };
        for op in self.ops() {
            let r = match op {
                Op::Binary { lhs, rhs, .. } => elementwise(&[arg(&regs, lhs), arg(&regs, rhs)]),
                Op::Where { cond, lhs, rhs } => {
                    elementwise(&[regs[*cond], arg(&regs, lhs), arg(&regs, rhs)])
                }
                Op::Unary { src, .. } | Op::Clip { src, .. } => elementwise(&[regs[*src]]),
                Op::Reduce { src, dim, .. } => match (regs[*src], dim) {
                    (Reg::Rows(n), Some(d)) if inner_axis(*d, n).is_some() => Reg::Rows(n - 1),
                    _ => Reg::Other,
                },
                Op::Neighbors {
                    query, data, dim, ..
                }
                | Op::NeighborsCheck {
                    query, data, dim, ..
                } => match (regs[*query], regs[*data]) {
                    (Reg::Rows(n), Reg::Rows(m)) if n == m && inner_axis(*dim, n).is_some() => {
                        // (rows, ..., points, k, 2): one more dimension than the points
                        Reg::Rows(n + 1)
                    }
                    _ => return false,
                },
                Op::Column { .. } | Op::SetColumn { .. } => return false,
            };
            regs.push(r);
        }
        matches!(regs.get(out), Some(Reg::Rows(_)))
    }
}

/// An elementwise op's result: aligned when some operand is and none is anything else (with
/// the most dimensions among them: arrays broadcast level by level from the outside).
fn elementwise(args: &[Reg]) -> Reg {
    let mut out = Reg::Literal;
    for &a in args {
        out = match (out, a) {
            (Reg::Other, _) | (_, Reg::Other) => Reg::Other,
            (Reg::Rows(x), Reg::Rows(y)) => Reg::Rows(x.max(y)),
            (Reg::Rows(x), Reg::Literal) | (Reg::Literal, Reg::Rows(x)) => Reg::Rows(x),
            (Reg::Literal, Reg::Literal) => Reg::Literal,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(ops: &str, output: usize) -> Plan {
        Plan::from_json(&format!(r#"{{"ops": [{ops}], "output": {output}}}"#)).unwrap()
    }

    const MUL: &str =
        r#"{"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}}"#;

    fn reduce(src: usize, dim: &str) -> String {
        format!(r#"{{"op": "reduce", "kind": "sum", "src": {src}, "dim": {dim}}}"#)
    }

    #[test]
    fn elementwise_and_inner_reductions_are_row_local() {
        assert!(plan(MUL, 1).row_local(3));
        assert!(plan(MUL, 0).row_local(1), "the input itself");
        assert!(plan(&format!("{MUL}, {}", reduce(1, "1")), 2).row_local(3));
        assert!(plan(&format!("{MUL}, {}", reduce(1, "-1")), 2).row_local(3));
        // the batch minus its per-row mean: both aligned
        let center = format!(
            r#"{}, {{"op": "binary", "kind": "sub", "lhs": {{"reg": 0}}, "rhs": {{"reg": 1}}}}"#,
            reduce(0, "1")
        );
        assert!(plan(&center, 2).row_local(3));
        let knn = r#"{"op": "neighbors", "query": 0, "data": 0, "k": 4, "dim": 1}"#;
        assert!(plan(knn, 1).row_local(3));
        assert!(plan(&format!("{knn}, {}", reduce(1, "-2")), 2).row_local(3));
    }

    #[test]
    fn anything_across_rows_is_not() {
        // over the rows, over everything, or an axis counted back to the rows
        assert!(!plan(&reduce(0, "0"), 1).row_local(3));
        assert!(!plan(&reduce(0, "null"), 1).row_local(3));
        assert!(!plan(&reduce(0, "-3"), 1).row_local(3));
        assert!(!plan(&reduce(0, "-1"), 1).row_local(1));
        assert!(!plan(&format!("{}, {}", reduce(0, "1"), reduce(1, "1")), 2).row_local(2));
        // a whole-batch total broadcast back over the rows
        let total = format!(
            r#"{}, {{"op": "binary", "kind": "sub", "lhs": {{"reg": 0}}, "rhs": {{"reg": 1}}}}"#,
            reduce(0, "null")
        );
        assert!(!plan(&total, 2).row_local(3));
        let knn0 = r#"{"op": "neighbors", "query": 0, "data": 0, "k": 4, "dim": 0}"#;
        assert!(!plan(knn0, 1).row_local(2));
        // no output
        assert!(!Plan::from_json(&format!(r#"{{"ops": [{MUL}]}}"#))
            .unwrap()
            .row_local(2));
    }
}
