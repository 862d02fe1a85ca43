//! NumPy interop: `GrumpyArray.__array_ufunc__`, so NumPy operands on the left
//! (`np.float32(2) * x`, `np.array([1, 2]) + x`) and NumPy ufuncs (`np.sqrt(x)`,
//! `np.maximum(x, 0)`) run grumpy's kernels with grumpy's broadcasting and return
//! GrumpyArrays instead of converting `x` to an ndarray.
//!
//! Supported (`__call__` only): `add subtract multiply divide/true_divide floor_divide
//! remainder power minimum maximum equal not_equal less less_equal greater greater_equal
//! bitwise_and/or/xor logical_and/or/xor/not negative positive absolute sqrt exp log log1p
//! sin cos sign floor ceil rint invert isnan isfinite`. Other ufuncs, ufunc methods
//! (`np.add.reduce`, ...), `out=` and other keywords raise `gr.Unsupported` with a fix.

use crate::array::PyGrumpyArray;
use crate::errors::{err, run};
use crate::operand::{to_arg, Arg};
use crate::ops::{no_out, positive, wrap};
use grumpy_core::dtype::promote;
use grumpy_core::kernels::elementwise::{binary, BinaryOp, Operand};
use grumpy_core::kernels::operand::apply;
use grumpy_core::kernels::unary::{unary, UnaryOp};
use grumpy_core::{Array, Code, DType, Result, Scalar};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

const SUPPORTED: &str = "add, subtract, multiply, divide, floor_divide, remainder, power, \
     minimum, maximum, comparisons, bitwise_and/or/xor, logical_and/or/xor/not, negative, \
     positive, absolute, sqrt, exp, log, log1p, sin, cos, sign, floor, ceil, rint, invert, \
     isnan, isfinite";

fn binary_op(name: &str) -> Option<BinaryOp> {
    use BinaryOp::*;
    Some(match name {
        "add" => Add,
        "subtract" => Sub,
        "multiply" => Mul,
        "divide" | "true_divide" => Div,
        "floor_divide" => FloorDiv,
        "remainder" | "mod" => Rem,
        "power" => Pow,
        "minimum" => Minimum,
        "maximum" => Maximum,
        "equal" => Eq,
        "not_equal" => Ne,
        "less" => Lt,
        "less_equal" => Le,
        "greater" => Gt,
        "greater_equal" => Ge,
        "bitwise_and" => And,
        "bitwise_or" => Or,
        "bitwise_xor" => Xor,
        _ => return None,
    })
}

fn unary_op(name: &str) -> Option<UnaryOp> {
    use UnaryOp::*;
    Some(match name {
        "negative" => Neg,
        "absolute" => Abs,
        "sqrt" => Sqrt,
        "exp" => Exp,
        "log" => Log,
        "log1p" => Log1p,
        "sin" => Sin,
        "cos" => Cos,
        "sign" => Sign,
        "floor" => Floor,
        "ceil" => Ceil,
        "rint" => Round,
        "isnan" => IsNan,
        "isfinite" => IsFinite,
        "invert" => Not,
        _ => return None,
    })
}

/// Truthiness as a bool operand (NumPy's `logical_*`: non-zero and NaN are true).
fn truth(a: &Arg) -> Result<Arg> {
    Ok(match a {
        Arg::Array(x) if x.dtype() == DType::Bool => Arg::Array(x.clone()),
        Arg::Array(x) => Arg::Array(binary(
            BinaryOp::Ne,
            Operand::Array(x),
            Operand::Scalar(&Scalar::Int(0)),
        )?),
        Arg::Weak(s) | Arg::Strong(s, _) => Arg::Weak(Scalar::Bool(match s {
            Scalar::Bool(b) => *b,
            Scalar::Int(i) => *i != 0,
            Scalar::UInt(u) => *u != 0,
            Scalar::Float(f) => *f != 0.0,
            Scalar::Str(s) => !s.is_empty(),
            Scalar::Null => false,
        })),
        Arg::BigInt(..) => Arg::Weak(Scalar::Bool(true)),
    })
}

/// Run the ufunc `name` on converted inputs; `None` when grumpy does not implement it.
fn dispatch(name: &str, args: &[Arg]) -> Result<Option<Array>> {
    if let (Some(op), [a, b]) = (binary_op(name), args) {
        return apply(op, a, b).map(Some);
    }
    let logical = match name {
        "logical_and" => Some(BinaryOp::And),
        "logical_or" => Some(BinaryOp::Or),
        "logical_xor" => Some(BinaryOp::Xor),
        _ => None,
    };
    if let (Some(op), [a, b]) = (logical, args) {
        return apply(op, &truth(a)?, &truth(b)?).map(Some);
    }
    if let (Some(op), [a]) = (unary_op(name), args) {
        let mut x = a.to_array()?;
        let d = x.dtype();
        if op == UnaryOp::Round && (d.is_integer() || d == DType::Bool) {
            // np.rint is a float function: integers become floats first (float16 → float32).
            x = x.astype(promote(d, DType::Float32))?;
        }
        return unary(op, &x).map(Some);
    }
    match (name, args) {
        ("positive", [a]) => positive(&a.to_array()?).map(Some),
        ("logical_not", [a]) => unary(UnaryOp::Not, &truth(a)?.to_array()?).map(Some),
        _ => Ok(None),
    }
}

fn out_is_none(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    if v.is_none() {
        return Ok(true);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return Ok(t.iter().all(|x| x.is_none()));
    }
    Ok(false)
}

#[pymethods]
impl PyGrumpyArray {
    /// Makes NumPy's binary operators defer to grumpy (with `__array_ufunc__` below).
    #[classattr]
    #[pyo3(name = "__array_priority__")]
    fn array_priority() -> f64 {
        1000.0
    }

    /// NumPy ufunc protocol (see the module docs for what is supported).
    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__(
        &self,
        py: Python<'_>,
        ufunc: &Bound<'_, PyAny>,
        method: &str,
        inputs: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let name: String = ufunc.getattr("__name__")?.extract()?;
        if method != "__call__" {
            return Err(err(
                Code::Unsupported,
                format!("np.{name}.{method} is not supported for grumpy arrays"),
                "grumpy implements NumPy ufuncs elementwise only (no reduce, accumulate, outer, at)",
                "use grumpy's reductions, e.g. x.sum(dim=...), x.min(dim=...), x.max(dim=...)",
            ));
        }
        if let Some(kw) = kwargs {
            for (k, v) in kw.iter() {
                let k: String = k.extract()?;
                if k == "out" {
                    if out_is_none(&v)? {
                        continue;
                    }
                    return Err(no_out(Some(&v), &format!("np.{name}")).unwrap_err());
                }
                return Err(err(
                    Code::Unsupported,
                    format!("np.{name}(..., {k}=...) is not supported for grumpy arrays"),
                    "grumpy's ufunc dispatch takes the operands only",
                    format!(
                        "call np.{name} without {k}= (use .astype(...) for dtypes, gr.where for masks)"
                    ),
                ));
            }
        }
        let mut args = Vec::with_capacity(inputs.len());
        for x in inputs.iter() {
            match to_arg(&x)? {
                Some(a) => args.push(a),
                None => return Ok(py.NotImplemented()),
            }
        }
        match run(py, || dispatch(&name, &args))? {
            Some(a) => wrap(py, a),
            None => Err(err(
                Code::Unsupported,
                format!("np.{name} is not supported for grumpy arrays"),
                format!("grumpy dispatches these NumPy ufuncs: {SUPPORTED}"),
                "use a gr.* function, or call NumPy on x.to_numpy() (rectangular) or x.values (flat leaf data)",
            )),
        }
    }
}
