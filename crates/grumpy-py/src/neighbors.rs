//! `gr.neighbors(...)`: argument conversion only; the search runs in
//! `grumpy_core::neighbors` with the GIL released.

use crate::array::PyGrumpyArray;
use crate::convert::from_py;
use crate::errors::{err, run};
use grumpy_core::neighbors::{neighbor_graph, Graph, GraphOutput, NeighborOpts};
use grumpy_core::Code;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};

/// An optional argument; unlike `Option`, an explicit `None` counts as given (and is
/// rejected where it is not a valid value, e.g. `output=None`).
pub(crate) enum Given<'py> {
    Absent,
    Value(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Given<'py> {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Given::Value(obj.to_owned()))
    }
}

impl<'py> Given<'py> {
    /// The converted value, or `default` when absent.
    fn or<T>(&self, default: T, f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>) -> PyResult<T> {
        match self {
            Given::Absent => Ok(default),
            Given::Value(v) => f(v),
        }
    }
}

fn got(v: &Bound<'_, PyAny>) -> String {
    let r = v.repr().map(|r| r.to_string()).unwrap_or_default();
    let t = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    format!("got {r} of type {t}")
}

/// An integer argument (Python or NumPy integer; not bool, not float). Integers beyond int64
/// saturate (`k` is capped at the group size anyway).
fn int_arg(name: &str, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    if v.cast::<PyBool>().is_err() && v.cast::<PyFloat>().is_err() {
        let as_int = if v.cast::<PyInt>().is_ok() {
            Some(v.clone())
        } else if v.hasattr("__index__")? {
            v.call_method0("__index__").ok()
        } else {
            None
        };
        if let Some(i) = as_int {
            if let Ok(x) = i.extract::<i64>() {
                return Ok(x);
            }
            if let Ok(positive) = i.gt(0) {
                return Ok(if positive { i64::MAX } else { i64::MIN });
            }
        }
    }
    Err(err(
        Code::Argument,
        format!("gr.neighbors: {name} must be an integer"),
        got(v),
        format!("pass {name} as a Python int, e.g. {name}=16"),
    ))
}

/// A real number argument (int or float, not bool).
fn float_arg(name: &str, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if v.cast::<PyBool>().is_err() && v.cast::<PyString>().is_err() {
        if let Ok(x) = v.extract::<f64>() {
            return Ok(x);
        }
    }
    Err(err(
        Code::Argument,
        format!("gr.neighbors: {name} must be a number"),
        got(v),
        format!("pass {name} as a float, e.g. {name}=8.0"),
    ))
}

/// A flag argument (`True`/`False`, or a NumPy bool).
fn bool_arg(name: &str, v: &Bound<'_, PyAny>) -> PyResult<bool> {
    v.extract::<bool>().map_err(|_| {
        err(
            Code::Argument,
            format!("gr.neighbors: {name} must be True or False"),
            got(v),
            format!("pass {name}=True or {name}=False"),
        )
    })
}

fn output_arg(v: &Bound<'_, PyAny>) -> PyResult<GraphOutput> {
    match v.extract::<String>().as_deref() {
        Ok("pairs") => Ok(GraphOutput::Pairs),
        Ok("edge_index") => Ok(GraphOutput::EdgeIndex),
        _ => Err(err(
            Code::Argument,
            "gr.neighbors: output must be \"pairs\" or \"edge_index\"",
            got(v),
            "pass output=\"pairs\" (nested pairs) or output=\"edge_index\" (PyG (2, E))",
        )),
    }
}

/// k-nearest-neighbour or radius graph over ragged point groups.
///
/// Points are the entries of axis ``dim``; the last axis holds their coordinates; the axes
/// before ``dim`` are independent groups (``dim=1`` on proteins × residues × xyz searches each
/// protein's residues on their own). Pass exactly one of ``k`` (the ``k`` nearest; a group
/// with fewer candidates returns what it has, never padding) or ``radius`` (every point at
/// distance ``<= radius``). Distances are Euclidean; neighbours are sorted by distance, ties
/// by the lower index.
///
/// ``loop=False`` drops the self pairs ``(i, i)``: query point ``i`` never gets data point
/// ``i`` of the same group, and ``k`` real neighbours are still returned. This is PyTorch
/// Geometric's ``knn_graph(x, loop=False)`` rule and is decided by position, not by object
/// identity, so query and data must have the same number of points in every group (normally
/// ``query is data``); otherwise ``ArgumentError``.
///
/// ``output="pairs"`` returns int64 ``[query, neighbour]`` pairs local to the group, nested
/// like the query points: ``dim=0`` → ``(n_q, k, 2)``, ``dim=1`` → ``(groups, points, k, 2)``
/// (ragged). ``output="edge_index"`` returns one int64 NumPy array ``(2, E)``: row 0 the
/// neighbour (source), row 1 the query point (target), global over the batch. With
/// ``return_distances=True`` the result is ``(result, distances)``, float64 distances nested
/// like the result without its last axis (a flat NumPy array for ``edge_index``).
///
/// Coordinates are converted to float64 (integers beyond 2**53 lose precision; float32 inputs
/// get float64 distances). NaN/inf coordinates, nulls, ragged coordinate sizes, a ``dim`` out
/// of range or query/data with different groups raise a ``gr.GrumpyError`` with a fix.
///
/// >>> import grumpy as gr
/// >>> x = gr.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
/// >>> gr.neighbors(x, x, k=1, loop=False).to_list()
/// [[[0, 1]], [[1, 0]], [[2, 1]]]
/// >>> pairs, dist = gr.neighbors(x, x, radius=2.0, return_distances=True)
/// >>> pairs.to_list()[1], dist.to_list()[1]
/// ([[1, 1], [1, 0], [1, 2]], [0.0, 1.0, 2.0])
/// >>> batch = gr.array([[[0.0], [1.0], [5.0]], [[2.0], [2.5]]])  # 2 proteins × residues × x
/// >>> gr.neighbors(batch, batch, k=1, dim=1, loop=False, output="edge_index")
/// array([[1, 0, 1, 4, 3],
///        [0, 1, 2, 3, 4]])
#[pyfunction]
#[pyo3(
    signature = (query, data, k = None, radius = None, dim = Given::Absent,
                 r#loop = Given::Absent, return_distances = Given::Absent, output = Given::Absent),
    text_signature = "(query, data, k=None, radius=None, dim=0, loop=True, return_distances=False, output='pairs')"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn neighbors<'py>(
    py: Python<'py>,
    query: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
    k: Option<&Bound<'py, PyAny>>,
    radius: Option<&Bound<'py, PyAny>>,
    dim: Given<'py>,
    r#loop: Given<'py>,
    return_distances: Given<'py>,
    output: Given<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let output = output.or(GraphOutput::Pairs, output_arg)?;
    let k = k.map(|v| int_arg("k", v)).transpose()?;
    let radius = radius.map(|v| float_arg("radius", v)).transpose()?;
    let dim = dim.or(0, |v| int_arg("dim", v))?;
    let self_loops = r#loop.or(true, |v| bool_arg("loop", v))?;
    let with_dist = return_distances.or(false, |v| bool_arg("return_distances", v))?;
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
        self_loops,
        same,
    };
    let graph = run(py, || neighbor_graph(&q, &d, &opts, output, with_dist))?;
    let (main, dist): (Bound<'py, PyAny>, Option<Bound<'py, PyAny>>) = match graph {
        Graph::Pairs { pairs, distances } => (
            Bound::new(py, PyGrumpyArray::new(pairs))?.into_any(),
            distances
                .map(|a| Bound::new(py, PyGrumpyArray::new(a)).map(Bound::into_any))
                .transpose()?,
        ),
        Graph::EdgeIndex {
            edge_index,
            distances,
        } => {
            let e = edge_index.len() / 2;
            (
                PyArray1::from_vec(py, edge_index)
                    .reshape([2, e])?
                    .into_any(),
                distances.map(|d| PyArray1::from_vec(py, d).into_any()),
            )
        }
    };
    match dist {
        None => Ok(main),
        Some(d) => Ok(PyTuple::new(py, [main, d])?.into_any()),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(neighbors, m)?)?;
    Ok(())
}
