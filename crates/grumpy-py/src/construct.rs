//! `gr.array` and `gr.from_offsets`: building arrays from Python data and flat NumPy buffers.
//! The conversions themselves live in `convert.rs`; this file checks arguments.

use crate::array::PyGrumpyArray;
use crate::convert::{from_numpy, from_py};
use crate::dtype::parse_dtype;
use crate::errors::{err, guard, IntoPy};
use grumpy_core::array::validate_offsets;
use grumpy_core::buffer::{Bitmap, Buf, Values};
use grumpy_core::layout::{too_deep, Layout, Leaf, List, MAX_DEPTH};
use grumpy_core::{Array, Code, DType};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// `gr.array(obj, dtype)`, remembering the NumPy shape of an empty NumPy input.
pub(crate) fn build(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<PyGrumpyArray> {
    let mut out = PyGrumpyArray::new(from_py(obj, dtype)?);
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        let shape = arr.shape().to_vec();
        if shape.contains(&0) {
            out.empty_shape = Some(shape);
        }
    }
    Ok(out)
}

/// `gr.array(obj, dtype=None)`.
#[pyfunction]
#[pyo3(signature = (obj, dtype = None))]
pub(crate) fn array(
    obj: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    guard(|| {
        let d = dtype.map(parse_dtype).transpose()?;
        build(obj, d)
    })
}

fn kind_of(a: &Bound<'_, PyAny>) -> PyResult<char> {
    a.getattr("dtype")?.getattr("kind")?.extract()
}

/// One offsets argument as an `i64` buffer (zero copy for contiguous int64).
fn offsets_buf(np: &Bound<'_, PyModule>, o: &Bound<'_, PyAny>, level: usize) -> PyResult<Buf<i64>> {
    let a = np.call_method1("asarray", (o,))?;
    let kind = kind_of(&a)?;
    let ndim: usize = a.getattr("ndim")?.extract()?;
    if !matches!(kind, 'i' | 'u') {
        let dt: String = a.getattr("dtype")?.str()?.extract()?;
        return Err(err(
            Code::DType,
            format!("offsets at level {level} must be integers, got dtype {dt}"),
            "offsets are positions into the level below; non-integer positions would be truncated",
            "pass integer offsets, e.g. np.asarray(offsets, dtype=np.int64)",
        ));
    }
    if ndim != 1 {
        return Err(err(
            Code::Shape,
            format!("offsets at level {level} must be 1-d"),
            format!("got a {ndim}-d array"),
            "pass flat offsets: n + 1 positions for n rows",
        ));
    }
    if kind == 'u' && a.call_method0("__len__")?.extract::<usize>()? > 0 {
        let max: u64 = a.call_method0("max")?.extract()?;
        if max > i64::MAX as u64 {
            return Err(err(
                Code::Argument,
                format!("offsets at level {level} are too large"),
                format!("offset {max} does not fit in int64"),
                "offsets must be below 2**63",
            ));
        }
    }
    let arr = from_numpy(a.cast::<PyUntypedArray>()?, Some(DType::Int64))?;
    match arr.layout {
        Layout::Leaf(Leaf {
            values: Values::I64(b),
            ..
        }) => Ok(b),
        _ => unreachable!("1-d int64 NumPy arrays convert to an int64 leaf"),
    }
}

/// The `validity=` argument: one flag per value (the shape of `values`, or flat).
fn validity_bits(np: &Bound<'_, PyModule>, v: &Bound<'_, PyAny>, n: usize) -> PyResult<Bitmap> {
    let a = np.call_method1("asarray", (v,))?;
    let kind = kind_of(&a)?;
    let ok = match kind {
        'b' => true,
        'i' | 'u' => np
            .call_method1("isin", (&a, (0, 1)))?
            .call_method0("all")?
            .extract()?,
        _ => false,
    };
    if !ok {
        return Err(err(
            Code::DType,
            "validity must be booleans",
            "validity holds one flag per value: True (or 1) = valid, False (or 0) = null",
            "pass a bool array, e.g. validity=~np.isnan(values)",
        ));
    }
    let size: usize = a.getattr("size")?.extract()?;
    if size != n {
        return Err(err(
            Code::Shape,
            "validity length does not match values",
            format!("{size} flags for {n} values"),
            "pass one flag per value (the shape of values, or flat)",
        ));
    }
    let flat = np
        .call_method1("ascontiguousarray", (a, "bool"))?
        .call_method0("ravel")?;
    let bools = from_numpy(flat.cast::<PyUntypedArray>()?, Some(DType::Bool))?;
    match bools.layout {
        Layout::Leaf(Leaf {
            values: Values::Bool(b),
            ..
        }) => Ok(Bitmap::from_bools(b.as_slice())),
        _ => unreachable!("a 1-d bool NumPy array converts to a bool leaf"),
    }
}

/// AND a validity into the leaves of a layout built from NumPy values.
fn with_validity(layout: &Layout, v: &Bitmap) -> Layout {
    layout
        .map_leaves(&mut |l: &Leaf| -> Result<Leaf, ()> {
            let valid = match &l.validity {
                Some(m) => (0..v.len())
                    .map(|i| v.get(i) && m.get(i))
                    .collect::<Vec<_>>(),
                None => v.to_bools(),
            };
            Ok(Leaf::new(
                l.values.clone(),
                grumpy_core::buffer::normalize(Some(Bitmap::from_bools(&valid))),
            ))
        })
        .unwrap_or_else(|()| unreachable!("the closure never fails"))
}

/// `gr.from_offsets(values, *offsets, validity=None)`: zero-copy from flat NumPy buffers.
///
/// `offsets` are given outermost first; each holds n + 1 non-decreasing integer positions into
/// the level below (they may start above 0, like the offsets of a sliced Arrow array).
/// Trailing axes of an N-d `values` become regular inner lists; `validity` has one flag per
/// value (and is combined with the mask of a masked `values`).
#[pyfunction]
#[pyo3(signature = (values, *offsets, validity = None))]
pub(crate) fn from_offsets(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    offsets: Vec<Bound<'_, PyAny>>,
    validity: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    guard(|| {
        let np = py.import("numpy")?;
        let vals_np = np.call_method1("asanyarray", (values,))?;
        let vndim: usize = vals_np.getattr("ndim")?.extract()?;
        if vndim + offsets.len() > MAX_DEPTH {
            return Err(crate::errors::to_py(too_deep()));
        }
        let vals = from_py(&vals_np, None)?;
        let mut layout = vals.layout;
        if let Some(v) = validity {
            let n: usize = vals_np.getattr("size")?.extract()?;
            let bits = validity_bits(&np, v, n)?;
            layout = with_validity(&layout, &bits);
        }
        let bufs = offsets
            .iter()
            .enumerate()
            .map(|(level, o)| offsets_buf(&np, o, level))
            .collect::<PyResult<Vec<_>>>()?;
        for (level, o) in bufs.into_iter().enumerate().rev() {
            validate_offsets(&o, layout.len(), level).py()?;
            layout = Layout::List(List::new(o, None, layout));
        }
        Ok(PyGrumpyArray::new(Array::new(layout)))
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(array, m)?)?;
    m.add_function(wrap_pyfunction!(from_offsets, m)?)?;
    Ok(())
}
