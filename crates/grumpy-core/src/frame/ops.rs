//! Elementwise operations and reductions on a whole [`Frame`], one column at a time.
//!
//! **Which columns take part.** An operation applies to every column whose dtype it is
//! defined for, by NumPy's type rules, checked on dtypes before any data is touched:
//!
//! | column dtype | elementwise op (`+`, `sqrt`, `>`, ...)              | reduction (`sum`, ...)      |
//! |--------------|-----------------------------------------------------|-----------------------------|
//! | int / float  | applied                                             | reduced                     |
//! | bool         | applied where NumPy defines it (`+ * > & ~ abs sqrt`), carried unchanged where NumPy refuses it (`-x`, `bool - bool`, `sign`) | reduced (`ptp` left out) |
//! | string       | carried unchanged                                   | left out (`count` counts it) |
//!
//! Carried columns keep their data and level, so `-df` negates the coordinates and keeps the
//! residue names and masks; reductions return only the columns they reduced — pandas'
//! `numeric_only=True`. A value error in a column that takes part (integer division by zero,
//! shapes that do not broadcast) is raised, naming the column. An elementwise op that applies
//! to no column of a non-empty frame is a `DTypeError` (it would silently do nothing).
//!
//! **Operands.** `frame ⊕ scalar` and `frame ⊕ array` apply the op to each column (an array
//! broadcasts against every column, level by level). `frame ⊕ frame` pairs columns by name:
//! both frames need the same schema and the same column names (any order; the result keeps
//! the left order), and paired columns must sit at the same level — else `SchemaError`.
//!
//! ```
//! use grumpy_core::{Array, Frame, Scalar};
//! use grumpy_core::frame::FrameOperand;
//! use grumpy_core::kernels::operand::Arg;
//! use grumpy_core::kernels::{elementwise::BinaryOp, reduce::{ReduceOp, Reduced}, unary::UnaryOp};
//! let x = Array::from_item(&vec![vec![1.0, 4.0], vec![9.0]].into(), None).unwrap();
//! let name = Array::from_item(&vec!["a", "b"].into(), None).unwrap();
//! let df = Frame::new(&["mol", "res"], vec![("x".into(), x), ("name".into(), name)], &[]).unwrap();
//! let two = Arg::Weak(Scalar::Float(2.0));
//! let y = Frame::binary(BinaryOp::Mul, FrameOperand::Frame(&df), FrameOperand::Arg(&two)).unwrap();
//! assert_eq!(y.get("x").unwrap().to_item(), vec![vec![2.0, 8.0], vec![18.0]].into());
//! assert_eq!(y.get("name").unwrap(), df.get("name").unwrap()); // strings are carried
//! let r = df.unary(UnaryOp::Sqrt).unwrap();
//! assert_eq!(r.get("x").unwrap().to_item(), vec![vec![1.0, 2.0], vec![3.0]].into());
//! let sums = df.reduce(ReduceOp::Sum, None).unwrap();
//! assert_eq!(sums, vec![("x".to_string(), Reduced::Scalar(Scalar::Float(14.0)))]);
//! ```

use super::{Column, Frame};
use crate::array::Array;
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::elementwise::{binary, BinaryOp, Operand};
use crate::kernels::operand::{apply, Arg};
use crate::kernels::reduce::{reduce, ReduceOp, Reduced};
use crate::kernels::unary::{clip, unary, where_, UnaryOp};

/// One operand of [`Frame::binary`]: a frame, or an array or scalar with its NumPy 2
/// promotion kind (see [`crate::kernels::operand`]).
#[derive(Clone, Copy, Debug)]
pub enum FrameOperand<'a> {
    /// A frame (its columns pair with the other frame's by name).
    Frame(&'a Frame),
    /// An array (broadcast against every column) or a scalar (broadcast everywhere).
    Arg(&'a Arg),
}

/// An elementwise operation named like a NumPy ufunc (for `__array_ufunc__`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameOp {
    /// A one-operand function.
    Unary(UnaryOp),
    /// A two-operand function.
    Binary(BinaryOp),
}

impl FrameOp {
    /// The operation behind a NumPy ufunc name (`"sqrt"`, `"add"`, `"greater"`, ...), or
    /// `None` when grumpy has no such elementwise function.
    ///
    /// ```
    /// use grumpy_core::frame::FrameOp;
    /// use grumpy_core::kernels::{elementwise::BinaryOp, unary::UnaryOp};
    /// assert_eq!(FrameOp::from_ufunc("true_divide"), Some(FrameOp::Binary(BinaryOp::Div)));
    /// assert_eq!(FrameOp::from_ufunc("absolute"), Some(FrameOp::Unary(UnaryOp::Abs)));
    /// assert_eq!(FrameOp::from_ufunc("arctan2"), None);
    /// ```
    pub fn from_ufunc(name: &str) -> Option<FrameOp> {
        use BinaryOp as B;
        use UnaryOp as U;
        let b = |op| Some(FrameOp::Binary(op));
        let u = |op| Some(FrameOp::Unary(op));
        match name {
            "add" => b(B::Add),
            "subtract" => b(B::Sub),
            "multiply" => b(B::Mul),
            "divide" | "true_divide" => b(B::Div),
            "floor_divide" => b(B::FloorDiv),
            "remainder" | "mod" => b(B::Rem),
            "power" => b(B::Pow),
            "equal" => b(B::Eq),
            "not_equal" => b(B::Ne),
            "less" => b(B::Lt),
            "less_equal" => b(B::Le),
            "greater" => b(B::Gt),
            "greater_equal" => b(B::Ge),
            "bitwise_and" | "logical_and" => b(B::And),
            "bitwise_or" | "logical_or" => b(B::Or),
            "bitwise_xor" | "logical_xor" => b(B::Xor),
            "minimum" => b(B::Minimum),
            "maximum" => b(B::Maximum),
            "negative" => u(U::Neg),
            "absolute" | "fabs" => u(U::Abs),
            "sqrt" => u(U::Sqrt),
            "exp" => u(U::Exp),
            "log" => u(U::Log),
            "log1p" => u(U::Log1p),
            "sin" => u(U::Sin),
            "cos" => u(U::Cos),
            "sign" => u(U::Sign),
            "floor" => u(U::Floor),
            "ceil" => u(U::Ceil),
            "rint" => u(U::Round),
            "isnan" => u(U::IsNan),
            "isfinite" => u(U::IsFinite),
            "invert" | "logical_not" => u(U::Not),
            _ => None,
        }
    }
}

/// A column as an operand.
fn col(c: &Column) -> Arg {
    Arg::Array(c.array.clone())
}

/// Strings never take part in elementwise ops or reductions (other than `count`).
fn is_string(c: &Column) -> bool {
    c.array.dtype() == DType::String
}

impl Frame {
    /// Apply `f` to every non-string column; a `DTypeError` from `f` carries the column
    /// unchanged, any other error is raised with the column name. `what` names the op.
    fn map_columns(
        &self,
        what: &str,
        mut f: impl FnMut(&Column) -> Result<Array>,
    ) -> Result<Frame> {
        let mut applied = 0usize;
        let mut columns = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let array = if is_string(c) {
                c.array.clone()
            } else {
                match f(c) {
                    Ok(a) => {
                        applied += 1;
                        a
                    }
                    Err(e) if e.code() == Code::DType => c.array.clone(),
                    Err(e) => return Err(e.context(format!("column {:?}", c.name))),
                }
            };
            columns.push(Column {
                name: c.name.clone(),
                level: c.level,
                array,
            });
        }
        if applied == 0 && !self.columns.is_empty() {
            return Err(self.no_column_takes(what));
        }
        let mut out = Frame::from_columns(self.schema.clone(), columns)?;
        out.nrows = self.nrows;
        Ok(out)
    }

    fn no_column_takes(&self, what: &str) -> Error {
        let dtypes: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{}: {}", c.name, c.array.dtype()))
            .collect();
        Error::new(
            Code::DType,
            format!("{what} applies to no column of this frame"),
            format!(
                "it is not defined for any of the column dtypes ({})",
                dtypes.join(", ")
            ),
            "select numeric columns first (df[[...]]) or cast a column with .astype(...)",
        )
    }

    /// `a ⊕ b` where at least one operand is a frame (see the module docs for which columns
    /// take part and how two frames pair up). The result is a new frame with `a`'s (or
    /// `b`'s) schema and column order.
    pub fn binary(op: BinaryOp, a: FrameOperand<'_>, b: FrameOperand<'_>) -> Result<Frame> {
        use FrameOperand as F;
        let what = format!("operator {}", op.symbol());
        match (a, b) {
            (F::Frame(x), F::Frame(y)) => {
                x.check_pairs(y, &what)?;
                x.map_columns(&what, |c| {
                    let other = y.get(&c.name)?;
                    binary(op, Operand::Array(&c.array), Operand::Array(other))
                })
            }
            (F::Frame(x), F::Arg(o)) => x.map_columns(&what, |c| apply(op, &col(c), o)),
            (F::Arg(o), F::Frame(y)) => y.map_columns(&what, |c| apply(op, o, &col(c))),
            _ => Err(Error::new(
                Code::Argument,
                "Frame::binary needs a frame operand",
                "neither operand is a frame",
                "use kernels::elementwise::binary for arrays and scalars",
            )),
        }
    }

    /// `where(cond, a, b)` where at least one operand is a frame: frames pair up by column
    /// name as in [`Frame::binary`]; the result has the columns of `a` when it is a frame (else
    /// of the first frame operand), and a column the selection is not defined for (a string
    /// condition, strings mixed with numbers) is carried from that frame.
    ///
    /// ```
    /// use grumpy_core::{Array, Frame, Scalar};
    /// use grumpy_core::frame::FrameOperand as F;
    /// use grumpy_core::kernels::elementwise::BinaryOp;
    /// use grumpy_core::kernels::operand::Arg;
    /// let x = Array::from_item(&vec![vec![1.0, -4.0], vec![-9.0]].into(), None).unwrap();
    /// let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
    /// let zero = Arg::Weak(Scalar::Float(0.0));
    /// let pos = Frame::binary(BinaryOp::Gt, F::Frame(&df), F::Arg(&zero)).unwrap();
    /// let r = Frame::where_(F::Frame(&pos), F::Frame(&df), F::Arg(&zero)).unwrap();
    /// assert_eq!(r.get("x").unwrap().to_item(), vec![vec![1.0, 0.0], vec![0.0]].into());
    /// ```
    pub fn where_(
        cond: FrameOperand<'_>,
        a: FrameOperand<'_>,
        b: FrameOperand<'_>,
    ) -> Result<Frame> {
        use FrameOperand as F;
        let frames: Vec<&Frame> = [cond, a, b]
            .into_iter()
            .filter_map(|o| match o {
                F::Frame(f) => Some(f),
                _ => None,
            })
            .collect();
        let base = match a {
            F::Frame(f) => f,
            _ => *frames.first().ok_or_else(|| {
                Error::new(
                    Code::Argument,
                    "Frame::where_ needs a frame operand",
                    "no operand is a frame",
                    "use kernels::unary::where_ for arrays and scalars",
                )
            })?,
        };
        for f in &frames {
            base.check_pairs(f, "gr.where")?;
        }
        // Strong (NumPy) scalars take part as one-element arrays of their dtype.
        let owned = |o: FrameOperand<'_>| match o {
            F::Arg(x @ (Arg::Strong(..) | Arg::BigInt(..))) => x.to_array().map(Some),
            _ => Ok(None),
        };
        let owned = [owned(cond)?, owned(a)?, owned(b)?];
        static NULL: Scalar = Scalar::Null;
        /// The operand for column `name`: a frame's column of that name, else the operand.
        fn pick<'a>(
            o: FrameOperand<'a>,
            owned: &'a Option<Array>,
            name: &str,
        ) -> Result<Operand<'a>> {
            Ok(match (o, owned) {
                (_, Some(x)) => Operand::Array(x),
                (F::Frame(f), None) => Operand::Array(f.get(name)?),
                (F::Arg(Arg::Array(x)), None) => Operand::Array(x),
                (F::Arg(Arg::Weak(s)), None) => Operand::Scalar(s),
                (F::Arg(_), None) => Operand::Scalar(&NULL),
            })
        }
        base.map_columns("gr.where", |c| {
            where_(
                pick(cond, &owned[0], &c.name)?,
                pick(a, &owned[1], &c.name)?,
                pick(b, &owned[2], &c.name)?,
            )
        })
    }

    /// Two frames combine column by column: same schema, same column names, same levels.
    fn check_pairs(&self, other: &Frame, what: &str) -> Result<()> {
        if self.schema != other.schema {
            return Err(Error::new(
                Code::Schema,
                format!("{what} between frames with different schemas"),
                format!("the schemas are {:?} and {:?}", self.schema, other.schema),
                "combine frames (or views) with the same levels, or combine their columns",
            ));
        }
        let unpaired: Vec<&str> = self
            .columns
            .iter()
            .filter(|c| other.column(&c.name).is_none())
            .chain(
                other
                    .columns
                    .iter()
                    .filter(|c| self.column(&c.name).is_none()),
            )
            .map(|c| c.name.as_str())
            .collect();
        if !unpaired.is_empty() {
            return Err(Error::new(
                Code::Schema,
                format!("{what} pairs columns by name, but {unpaired:?} are in one frame only"),
                format!("the columns are {:?} and {:?}", self.names(), other.names()),
                "select the common columns on both sides first: a[names] ⊕ b[names]",
            ));
        }
        for c in &self.columns {
            let d = other.column(&c.name).map_or(c.level, |d| d.level);
            if d != c.level {
                return Err(Error::new(
                    Code::Schema,
                    format!(
                        "column {:?} is at level {:?} in one frame and {:?} in the other",
                        c.name, self.schema[c.level], self.schema[d]
                    ),
                    "paired columns must sit at the same level",
                    "combine the two columns directly (df1.col ⊕ df2.col) and assign the result",
                ));
            }
        }
        Ok(())
    }

    /// A unary function (`-x`, `abs`, `sqrt`, `isnan`, `~x`, ...) applied to every column it is
    /// defined for (the others are carried, see the module docs).
    pub fn unary(&self, op: UnaryOp) -> Result<Frame> {
        self.map_columns(op.name(), |c| unary(op, &c.array))
    }

    /// `clip(x, lo, hi)` on every numeric column.
    pub fn clip(&self, lo: Option<&Scalar>, hi: Option<&Scalar>) -> Result<Frame> {
        self.map_columns("clip", |c| clip(&c.array, lo, hi))
    }

    /// Reduce every column the reduction is defined for (`dim = None`: all values → a scalar;
    /// `dim = k`: along each column's axis `k`, negative from each column's innermost axis).
    /// Left out, as with pandas' `numeric_only=True`: string columns (except for `count`),
    /// columns whose dtype the reduction refuses (`ptp` of bool), and columns without axis
    /// `dim` (a residue-level column has no atom axis). Other errors name the column.
    ///
    /// ```
    /// use grumpy_core::{Array, Frame};
    /// use grumpy_core::kernels::reduce::{ReduceOp, Reduced};
    /// let x = Array::from_item(&vec![vec![1.0, 3.0], vec![5.0]].into(), None).unwrap();
    /// let n = Array::from_vec(vec![10i64, 20]);
    /// let df = Frame::new(&["mol", "res"], vec![("x".into(), x), ("n".into(), n)], &[]).unwrap();
    /// let m = df.reduce(ReduceOp::Mean, Some(1)).unwrap(); // n has no axis 1: left out
    /// assert_eq!(m.len(), 1);
    /// let Reduced::Array(a) = &m[0].1 else { panic!() };
    /// assert_eq!(a.to_item(), vec![2.0, 5.0].into());
    /// ```
    pub fn reduce(&self, op: ReduceOp, dim: Option<isize>) -> Result<Vec<(String, Reduced)>> {
        let mut out = Vec::new();
        for c in &self.columns {
            if is_string(c) && op != ReduceOp::Count {
                continue;
            }
            if let Some(d) = dim {
                let nd = c.array.ndim() as isize;
                if d >= nd || d < -nd {
                    continue;
                }
            }
            match reduce(&c.array, op, dim) {
                Ok(r) => out.push((c.name.clone(), r)),
                Err(e) if e.code() == Code::DType => {}
                Err(e) => return Err(e.context(format!("column {:?}", c.name))),
            }
        }
        Ok(out)
    }
}
