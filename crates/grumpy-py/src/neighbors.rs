//! `gr.neighbors(...)`: argument conversion only; the search runs in
//! `grumpy_core::neighbors` with the GIL released.

use crate::array::PyGrumpyArray;
use crate::convert::from_py;
use crate::errors::{err, run};
use grumpy_core::neighbors::{neighbors as search, NeighborOpts};
use grumpy_core::Code;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyTuple};

fn int_arg(name: &str, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    if v.cast::<PyBool>().is_err() {
        if let Ok(i) = v.cast::<PyInt>() {
            if let Ok(x) = i.extract::<i64>() {
                return Ok(x);
            }
        }
        // NumPy integer scalars
        if v.hasattr("__index__")? && v.cast::<PyFloat>().is_err() {
            if let Ok(x) = v.call_method0("__index__").and_then(|o| o.extract::<i64>()) {
                return Ok(x);
            }
        }
    }
    Err(err(
        Code::Argument,
        format!("gr.neighbors: {name} must be an integer"),
        format!(
            "got {}",
            v.repr().map(|r| r.to_string()).unwrap_or_default()
        ),
        format!("pass {name} as a Python int"),
    ))
}

fn float_arg(name: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if v.cast::<PyBool>().is_err() {
        if let Ok(x) = v.extract::<f64>() {
            return Ok(x);
        }
    }
    Err(err(
        Code::Argument,
        format!("gr.neighbors: {name} must be a number"),
        format!(
            "got {}",
            v.repr().map(|r| r.to_string()).unwrap_or_default()
        ),
        format!("pass {name} as a float"),
    ))
}

/// `gr.neighbors(query, data, k=None, radius=None, dim=0, loop=True, return_distances=False,
/// output="pairs")`: kNN or radius graph over ragged point groups (see API.md "Neighbors").
#[pyfunction]
#[pyo3(signature = (query, data, k = None, radius = None, dim = None, r#loop = true,
                    return_distances = false, output = "pairs"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbors<'py>(
    py: Python<'py>,
    query: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    k: Option<&Bound<'py, PyAny>>,
    radius: Option<&Bound<'py, PyAny>>,
    dim: Option<&Bound<'py, PyAny>>,
    r#loop: bool,
    return_distances: bool,
    output: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let edge = match output {
        "pairs" => false,
        "edge_index" => true,
        other => {
            return Err(err(
                Code::Argument,
                format!("gr.neighbors: unknown output {other:?}"),
                "output must be \"pairs\" or \"edge_index\"",
                "pass output=\"pairs\" (nested pairs) or output=\"edge_index\" (PyG (2, E))",
            ))
        }
    };
    let k = k
        .filter(|v| !v.is_none())
        .map(|v| int_arg("k", v))
        .transpose()?;
    let radius = radius
        .filter(|v| !v.is_none())
        .map(|v| float_arg("radius", v))
        .transpose()?;
    let dim = match dim.filter(|v| !v.is_none()) {
        Some(v) => int_arg("dim", v)?,
        None => 0,
    };
    let same = query.is(data);
    let q = from_py(query, None)?;
    let d = if same {
        q.clone()
    } else {
        from_py(data, None)?
    };
    let opts = NeighborOpts {
        k,
        radius,
        dim,
        self_loops: r#loop,
        same,
    };
    let (result, dist) = run(py, || {
        let r = search(&q, &d, &opts)?;
        let main = if edge {
            Err(r.edge_index())
        } else {
            Ok(r.pairs())
        };
        let dist = return_distances.then(|| {
            if edge {
                Err(r.distance_values().to_vec())
            } else {
                Ok(r.distances())
            }
        });
        Ok((main, dist))
    })?;
    let main: Bound<'py, PyAny> = match result {
        Ok(pairs) => Bound::new(py, PyGrumpyArray::new(pairs))?.into_any(),
        Err(flat) => {
            let e = flat.len() / 2;
            PyArray1::from_vec(py, flat).reshape([2, e])?.into_any()
        }
    };
    match dist {
        None => Ok(main),
        Some(d) => {
            let d: Bound<'py, PyAny> = match d {
                Ok(a) => Bound::new(py, PyGrumpyArray::new(a))?.into_any(),
                Err(flat) => PyArray1::from_vec(py, flat).into_any(),
            };
            Ok(PyTuple::new(py, [main, d])?.into_any())
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(neighbors, m)?)?;
    Ok(())
}
