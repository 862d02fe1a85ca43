//! The `GrumpyArray` Python class: construction, conversion and introspection. Operators,
//! reductions and indexing live in their own files (`ops.rs`, `reduce.rs`, `index.rs`), each
//! with its own `#[pymethods]` block.

use crate::convert::{from_py, i64_to_numpy, rows_to_py, values_to_numpy};
use crate::dtype::{parse_dtype, PyDType};
use crate::errors::{err, run, IntoPy};
use grumpy_core::buffer::{Bitmap, Buf, Values};
use grumpy_core::layout::{Layout, Leaf, List};
use grumpy_core::{Array, Code, DType};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// A ragged, nested array.
#[pyclass(name = "GrumpyArray", module = "grumpy", subclass)]
#[derive(Clone)]
pub(crate) struct PyGrumpyArray {
    pub(crate) inner: Array,
}

impl PyGrumpyArray {
    pub(crate) fn new(inner: Array) -> Self {
        PyGrumpyArray { inner }
    }
}

/// Walk `levels` list levels down (unions count as their list content).
fn list_at(layout: &Layout, level: usize) -> Option<List> {
    let mut cur = layout.clone();
    for _ in 0..level {
        cur = match &cur {
            Layout::List(l) => l.child_view(),
            _ => return None,
        };
    }
    match cur {
        Layout::List(l) => Some(l),
        _ => None,
    }
}

/// Lengths of the lists at depth `dim` (>= 1), nested inside the outer `dim - 1` levels
/// (unions: a scalar row counts as a length-1 list, at any depth).
fn lengths_at(layout: &Layout, dim: usize) -> Option<Layout> {
    layout.lengths_at(dim)
}

fn preview(py: Python<'_>, a: &Array, max_rows: usize, width: usize) -> PyResult<String> {
    let n = a.len();
    let shown: Vec<usize> = if n <= max_rows {
        (0..n).collect()
    } else {
        (0..max_rows / 2).chain(n - max_rows / 2..n).collect()
    };
    let mut parts = Vec::new();
    for (k, &i) in shown.iter().enumerate() {
        if n > max_rows && k == max_rows / 2 {
            parts.push("...".to_owned());
        }
        let row = crate::convert::row_to_py(py, &a.layout, i)?;
        let mut s: String = row.repr()?.extract()?;
        if s.len() > width {
            let mut cut = width.saturating_sub(4);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push_str(" ...");
        }
        parts.push(s);
    }
    let one_line = parts.join(", ");
    if one_line.len() <= width && !one_line.contains('\n') {
        return Ok(format!("[{one_line}]"));
    }
    Ok(format!("[{}]", parts.join(",\n ")))
}

#[pymethods]
impl PyGrumpyArray {
    /// Number of rows.
    fn __len__(&self) -> usize {
        self.inner.len()
    }
    /// Element dtype.
    #[getter]
    fn dtype(&self) -> PyDType {
        PyDType {
            inner: self.inner.dtype(),
        }
    }
    /// Number of dimensions.
    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }
    /// Number of leaf values.
    #[getter]
    fn size(&self) -> usize {
        self.inner.size()
    }
    /// Bytes held by the buffers this array reaches.
    #[getter]
    fn nbytes(&self) -> usize {
        self.inner.layout.nbytes()
    }
    /// `"list"`, `"union"` or `"leaf"`.
    #[getter]
    fn layout(&self) -> &'static str {
        self.inner.layout_kind()
    }
    /// `shape(0)` is `len(x)`; `shape(d)` for deeper `d` is the per-row lengths at that depth.
    #[pyo3(signature = (dim = 0))]
    fn shape(&self, py: Python<'_>, dim: isize) -> PyResult<Py<PyAny>> {
        let nd = self.inner.ndim() as isize;
        let d = if dim < 0 { dim + nd } else { dim };
        if d < 0 || d >= nd {
            return Err(err(
                Code::Argument,
                format!("dim {dim} is out of range"),
                format!("the array has {nd} dimensions"),
                format!("pass a dim in [{}, {})", -nd, nd),
            ));
        }
        if d == 0 {
            return Ok(self.inner.len().into_pyobject(py)?.into_any().unbind());
        }
        let l = lengths_at(&self.inner.layout, d as usize).ok_or_else(|| {
            err(
                Code::Unsupported,
                "shape(dim) is not defined here",
                "this axis is not a list axis (union rows mix depths)",
                "use a list-chain array",
            )
        })?;
        Ok(Py::new(py, PyGrumpyArray::new(Array::new(l)))?.into_any())
    }
    /// Nested Python lists (None for nulls).
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        rows_to_py(py, &self.inner.layout)
    }
    /// Alias of `to_list`.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        rows_to_py(py, &self.inner.layout)
    }
    /// The flat leaf buffer of this view as a NumPy array (zero copy, read-only).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let layout = &self.inner.layout;
        let mut cur = layout.clone();
        loop {
            cur = match cur {
                Layout::Leaf(l) => return values_to_numpy(py, &l.values),
                Layout::List(l) => l.child_view(),
                Layout::Union(_) => {
                    let c = run(py, || cur.unions_as_lists())?;
                    match c {
                        Layout::List(l) => l.child_view(),
                        other => other,
                    }
                }
            }
        }
    }
    /// Validity of the leaf values as a NumPy bool array (None when nothing is null).
    #[getter]
    fn validity<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let leaves = self.inner.layout.leaves();
        match leaves.first().and_then(|l| l.validity.as_ref()) {
            Some(v) if leaves.len() == 1 => {
                Ok(Some(values_to_numpy(py, &Values::from(v.to_bools()))?))
            }
            _ => Ok(None),
        }
    }
    /// Offsets of list level `level` (0 = outermost) as int64 NumPy array (zero copy).
    #[pyo3(signature = (level = 0))]
    fn offsets<'py>(&self, py: Python<'py>, level: isize) -> PyResult<Bound<'py, PyAny>> {
        let nlev = self.inner.ndim() as isize - 1;
        let lv = if level < 0 { level + nlev } else { level };
        let l = (lv >= 0)
            .then(|| list_at(&self.inner.layout, lv as usize))
            .flatten()
            .ok_or_else(|| {
                err(
                    Code::Argument,
                    format!("no list level {level}"),
                    format!(
                        "the array has {} list level(s) (union rows have no single offsets)",
                        nlev.max(0)
                    ),
                    "pass a level in range, or call .values for the flat data",
                )
            })?;
        if lv == 0 {
            return i64_to_numpy(py, &l.offsets);
        }
        i64_to_numpy(py, &l.offsets)
    }
    /// Cast the leaves (layout shared).
    #[pyo3(signature = (dtype, casting = "unsafe"))]
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>, casting: &str) -> PyResult<Self> {
        let d = parse_dtype(dtype)?;
        if casting != "unsafe" && casting != "same_kind" && casting != "safe" {
            return Err(err(
                Code::Argument,
                format!("unknown casting {casting:?}"),
                "casting is 'unsafe', 'same_kind' or 'safe'",
                "pass casting=\"unsafe\"",
            ));
        }
        if casting == "safe" && grumpy_core::dtype::promote(self.inner.dtype(), d) != d {
            return Err(err(
                Code::DType,
                format!("cannot cast {} to {d} safely", self.inner.dtype()),
                "the cast may lose information",
                "use casting=\"unsafe\"",
            ));
        }
        let a = self.inner.clone();
        Ok(PyGrumpyArray::new(run(py, move || a.astype(d))?))
    }
    /// Rectangular arrays as an N-d NumPy array (zero copy when compact); ragged → error.
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let np = py.import("numpy")?;
        let mut shape = vec![self.inner.len()];
        let mut cur = self.inner.layout.clone();
        loop {
            cur = match cur {
                Layout::Leaf(ref l) => {
                    let vals = values_to_numpy(py, &l.values)?;
                    let out = vals.call_method1("reshape", (shape.clone(),))?;
                    if let Some(v) = &l.validity {
                        let mask = np
                            .call_method1(
                                "array",
                                (PyList::new(py, v.to_bools().iter().map(|b| !b))?,),
                            )?
                            .call_method1("reshape", (shape,))?;
                        return np.getattr("ma")?.call_method1("MaskedArray", (out, mask));
                    }
                    return Ok(out);
                }
                Layout::List(ref l) => {
                    let size = match (l.regular_size(), l.len()) {
                        (Some(s), _) => s,
                        (None, 0) => 0,
                        (None, _) => {
                            return Err(err(
                                Code::Shape,
                                "cannot convert a ragged array to a NumPy array",
                                "rows have different lengths",
                                "use x.to_padded() for a padded array and mask, or x.values for the flat data",
                            ))
                        }
                    };
                    if l.validity.is_some() {
                        return Err(err(
                            Code::Shape,
                            "cannot convert null lists to NumPy",
                            "some rows are None",
                            "use x.to_padded()",
                        ));
                    }
                    shape.push(size);
                    l.child_view()
                }
                Layout::Union(_) => {
                    return Err(err(
                        Code::Shape,
                        "cannot convert a union array to NumPy",
                        "rows mix scalars and lists",
                        "use x.to_list() or x.to_padded()",
                    ));
                }
            }
        }
    }
    /// NumPy protocol: `np.asarray(x)` works for rectangular arrays.
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut a = self.to_numpy(py)?;
        if let Some(d) = dtype {
            a = a.call_method1("astype", (d,))?;
        }
        if copy == Some(true) {
            a = a.call_method0("copy")?;
        }
        Ok(a)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let body = preview(py, &self.inner, 6, 72)?;
        Ok(format!(
            "gr.array({}, dtype={})",
            body.replace('\n', "\n         "),
            self.inner.dtype()
        ))
    }
    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        preview(py, &self.inner, 6, 72)
    }
    fn __iter__(slf: PyRef<'_, Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let rows = (0..slf.inner.len())
            .map(|i| crate::convert::row_to_py_obj(py, &slf.inner.layout, i))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, rows)?
            .into_any()
            .call_method0("__iter__")?
            .unbind())
    }
    fn __copy__(&self) -> Self {
        self.clone()
    }
    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(&self, _memo: Option<Bound<'_, PyAny>>) -> Self {
        let l = self.inner.layout.compact();
        PyGrumpyArray::new(Array::new(l))
    }
    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, String)> {
        Ok((
            rows_to_py(py, &self.inner.layout)?,
            self.inner.dtype().name().to_owned(),
        ))
    }
    fn __setstate__(&mut self, state: (Bound<'_, PyAny>, String)) -> PyResult<()> {
        let d = DType::parse(&state.1).py()?;
        self.inner = from_py(&state.0, Some(d))?;
        Ok(())
    }
    #[new]
    #[pyo3(signature = (obj = None, dtype = None))]
    fn py_new(obj: Option<Bound<'_, PyAny>>, dtype: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        let d = dtype.as_ref().map(parse_dtype).transpose()?;
        match obj {
            Some(o) => Ok(PyGrumpyArray::new(from_py(&o, d)?)),
            None => Ok(PyGrumpyArray::new(Array::new(Layout::Leaf(Leaf::valid(
                Values::empty(d.unwrap_or(DType::Float64)),
            ))))),
        }
    }
}

/// `gr.array(obj, dtype=None)`.
#[pyfunction]
#[pyo3(signature = (obj, dtype = None))]
pub(crate) fn array(
    obj: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    let d = dtype.map(parse_dtype).transpose()?;
    crate::errors::guard(|| Ok(PyGrumpyArray::new(from_py(obj, d)?)))
}

/// `gr.from_offsets(values, *offsets, validity=None)`: zero-copy from flat NumPy buffers.
#[pyfunction]
#[pyo3(signature = (values, *offsets, validity = None))]
pub(crate) fn from_offsets(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    offsets: Vec<Bound<'_, PyAny>>,
    validity: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyGrumpyArray> {
    let np = py.import("numpy")?;
    let vals = from_py(&np.call_method1("asarray", (values,))?, None)?;
    let mut offs: Vec<Buf<i64>> = Vec::new();
    for o in &offsets {
        let arr = np.call_method1("asarray", (o, "int64"))?;
        let a = from_py(&arr, Some(DType::Int64))?;
        match a.layout {
            Layout::Leaf(Leaf {
                values: Values::I64(b),
                ..
            }) => offs.push(b),
            _ => {
                return Err(err(
                    Code::Shape,
                    "offsets must be 1-d",
                    "got a nested offsets array",
                    "pass flat int64 offsets",
                ))
            }
        }
    }
    // Trailing axes of N-d values become regular inner lists (already built by from_py).
    let inner = vals.layout;
    let valid = match validity {
        Some(v) => {
            let a = from_py(&np.call_method1("asarray", (v, "bool"))?, Some(DType::Bool))?;
            match a.layout {
                Layout::Leaf(Leaf {
                    values: Values::Bool(b),
                    ..
                }) => Some(Bitmap::from_bools(b.as_slice())),
                _ => None,
            }
        }
        None => None,
    };
    let mut layout = match (inner, valid) {
        (Layout::Leaf(l), Some(v)) => {
            if v.len() != l.len() {
                return Err(err(
                    Code::Shape,
                    "validity length does not match values",
                    format!("{} flags for {} values", v.len(), l.len()),
                    "pass one flag per value",
                ));
            }
            Layout::Leaf(Leaf::new(l.values, Some(v)))
        }
        (other, _) => other,
    };
    for (level, o) in offs.into_iter().enumerate().rev() {
        grumpy_core::array::validate_offsets(&o, layout.len(), level).py()?;
        layout = Layout::List(List::new(o, None, layout));
    }
    Ok(PyGrumpyArray::new(Array::new(layout)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGrumpyArray>()?;
    m.add_function(wrap_pyfunction!(array, m)?)?;
    m.add_function(wrap_pyfunction!(from_offsets, m)?)?;
    Ok(())
}
