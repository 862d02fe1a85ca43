//! Casting leaves between dtypes (`astype`, NumPy "unsafe" casting semantics).
//!
//! ```
//! use grumpy_core::{array::Array, dtype::DType};
//! let a = Array::from_vec(vec![1.7f64, -2.2]);
//! let b = a.astype(DType::Int32).unwrap();
//! assert_eq!(b.layout.to_item(), vec![1i64, -2].into());
//! ```

use crate::buffer::{Native, Values};
use crate::dtype::{format_float, format_float32, DType};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf};
use crate::{with_dtype, with_values};

/// Convert one element between native types (ints through i64, anything with a float through f64).
#[inline(always)]
pub fn convert<S: Native, D: Native>(x: S) -> D {
    if S::DTYPE.is_float() || D::DTYPE.is_float() {
        D::from_f64(x.to_f64())
    } else {
        D::from_i64(x.to_i64())
    }
}

/// Cast a slice to a new vector of `D`.
pub fn cast_slice<S: Native, D: Native>(src: &[S]) -> Vec<D> {
    src.iter().map(|&x| convert::<S, D>(x)).collect()
}

fn parse_err(s: &str, d: DType) -> Error {
    Error::new(
        Code::DType,
        format!("cannot cast string {s:?} to {d}"),
        "the string is not a number of that type",
        "clean the data or keep it as a string column",
    )
}

/// Cast values to `dtype` (shares the buffer when the dtype already matches).
pub fn cast_values(v: &Values, dtype: DType) -> Result<Values> {
    if v.dtype() == dtype {
        return Ok(v.clone());
    }
    Ok(with_values!(v, b, S => {
        with_dtype!(dtype, D => Values::from(cast_slice::<S, D>(b.as_slice())), {
            let items: Vec<String> = b.iter().map(|&x| {
                if S::DTYPE == DType::Float32 { format_float32(x.to_f64() as f32) }
                else if S::DTYPE.is_float() { format_float(x.to_f64()) }
                else if S::DTYPE == DType::Bool { if x.to_i64() != 0 { "True".into() } else { "False".into() } }
                else { x.to_scalar().to_string() }
            }).collect();
            Values::from_strs(&items)
        })
    }, _s => {
        let n = v.len();
        with_dtype!(dtype, D => {
            let mut out: Vec<D> = Vec::with_capacity(n);
            for i in 0..n {
                let s = v.str_at(i).trim();
                let x = if D::DTYPE == DType::Bool {
                    match s { "True" | "true" | "1" => D::from_i64(1), "False" | "false" | "0" | "" => D::from_i64(0), _ => return Err(parse_err(s, dtype)) }
                } else if D::DTYPE.is_float() {
                    D::from_f64(s.parse::<f64>().map_err(|_| parse_err(s, dtype))?)
                } else {
                    D::from_i64(s.parse::<i64>().map_err(|_| parse_err(s, dtype))?)
                };
                out.push(x);
            }
            Values::from(out)
        }, v.clone())
    }))
}

/// Cast a leaf (validity kept).
pub fn cast_leaf(leaf: &Leaf, dtype: DType) -> Result<Leaf> {
    Ok(Leaf::new(
        cast_values(&leaf.values, dtype)?,
        leaf.validity.clone(),
    ))
}

/// Cast every leaf of a layout; offsets and masks are shared.
pub fn cast_layout(layout: &Layout, dtype: DType) -> Result<Layout> {
    layout.map_leaves(&mut |l| cast_leaf(l, dtype))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_casts_follow_as_semantics() {
        let v = Values::from(vec![-1i64, 300]);
        assert_eq!(
            cast_values(&v, DType::UInt8).unwrap(),
            Values::from(vec![255u8, 44])
        );
        let f = Values::from(vec![1.9f64, -0.5]);
        assert_eq!(
            cast_values(&f, DType::Int64).unwrap(),
            Values::from(vec![1i64, 0])
        );
        assert_eq!(
            cast_values(&f, DType::Bool).unwrap(),
            Values::from(vec![true, true])
        );
    }

    #[test]
    fn string_round_trip() {
        let v = Values::from(vec![1.5f64, 2.0]);
        let s = cast_values(&v, DType::String).unwrap();
        assert_eq!(s.str_at(1), "2.0");
        assert_eq!(cast_values(&s, DType::Float64).unwrap(), v);
        assert!(cast_values(&Values::from_strs(&["x"]), DType::Int64).is_err());
        // float32 values print with float32's shortest digits, as NumPy's astype(str) does
        let f = cast_values(&Values::from(vec![0.1f32, 1e20]), DType::String).unwrap();
        assert_eq!((f.str_at(0), f.str_at(1)), ("0.1", "1e+20"));
    }
}
