//! The `GrumpyArray` Python class: conversion out and introspection. Construction lives in
//! `construct.rs`; operators, reductions and indexing in their own files (`ops.rs`,
//! `reduce.rs`, `index.rs`), each with its own `#[pymethods]` block.
//!
//! Every method goes through [`guard`] (GIL kept) or [`run`] (GIL released), so no Rust panic
//! ever reaches Python as a `PanicException`.

use crate::convert::{i64_to_numpy, row_to_py_obj, rows_to_py, values_to_numpy};
use crate::dtype::{parse_dtype, PyDType};
use crate::errors::{err, guard, run, IntoPy};
use grumpy_core::buffer::{Bitmap, Buf, Native, StrValues, Values};
use grumpy_core::dtype::{can_cast, Casting};
use grumpy_core::layout::{Layout, Leaf, List, Union};
use grumpy_core::{with_values, Array, Code, DType, Error, Result};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyType};

/// Width of `repr`/`str` lines and the rows shown before eliding (first and last half).
const LINE_WIDTH: usize = 80;
const PREVIEW_ROWS: usize = 6;

/// A ragged, nested array.
#[pyclass(name = "GrumpyArray", module = "grumpy", subclass)]
#[derive(Clone)]
pub(crate) struct PyGrumpyArray {
    pub(crate) inner: Array,
    /// The NumPy shape this array was built from when that shape holds no element: a layout
    /// of empty lists cannot say how long its (absent) inner rows were, and `to_numpy` should
    /// give back `(0, 3)` for `gr.array(np.zeros((0, 3)))`.
    pub(crate) empty_shape: Option<Vec<usize>>,
}

impl PyGrumpyArray {
    pub(crate) fn new(inner: Array) -> Self {
        PyGrumpyArray {
            inner,
            empty_shape: None,
        }
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

/// Lengths of the lists at depth `dim` (>= 1), nested inside the outer `dim - 1` levels; a
/// scalar row of a union counts as a length-1 list.
fn lengths_at(layout: &Layout, dim: usize) -> Result<Option<Layout>> {
    Ok(layout.lengths_at(dim))
}

/// The leaf values this view reaches (list levels cut to the covered range, union scalar rows
/// as length-1 lists).
fn leaf_view(layout: &Layout) -> Result<Leaf> {
    let mut cur = layout.clone();
    loop {
        cur = match cur {
            Layout::Leaf(l) => return Ok(l),
            Layout::List(l) => l.child_view(),
            u @ Layout::Union(_) => match u.unions_as_lists()? {
                Layout::List(l) => l.child_view(),
                other => other,
            },
        }
    }
}

fn copy_values(v: &Values) -> Values {
    with_values!(v, b, T => Values::from(b.as_slice().to_vec()), s => {
        let o = s.offsets.as_slice();
        let (a, z) = (o[0], o[o.len() - 1]);
        Values::Str(StrValues {
            offsets: Buf::from_vec(o.iter().map(|x| x - a).collect()),
            bytes: Buf::from_vec(s.bytes.as_slice()[a as usize..z as usize].to_vec()),
        })
    })
}

fn copy_bits(b: Option<&Bitmap>) -> Option<Bitmap> {
    b.map(|b| Bitmap::from_bools(&b.to_bools()))
}

/// A copy sharing no memory with `layout` (not even foreign NumPy memory).
fn deep_copy(layout: &Layout) -> Layout {
    match layout.compact() {
        Layout::Leaf(l) => Layout::Leaf(Leaf::new(
            copy_values(&l.values),
            copy_bits(l.validity.as_ref()),
        )),
        Layout::List(l) => Layout::List(List::new(
            Buf::from_vec(l.offsets.to_vec()),
            copy_bits(l.validity.as_ref()),
            deep_copy(&l.child),
        )),
        Layout::Union(u) => Layout::Union(Union {
            tags: Buf::from_vec(u.tags.to_vec()),
            index: Buf::from_vec(u.index.to_vec()),
            scalar: std::sync::Arc::new(deep_copy(&u.scalar)),
            list: std::sync::Arc::new(deep_copy(&u.list)),
        }),
    }
}

/// Python truth of an array: only an array holding exactly one value has one (NumPy's rule).
fn truth(layout: &Layout) -> Result<bool> {
    let mut cur = layout.clone();
    loop {
        match cur.len() {
            0 => {
                return Err(Error::new(
                    Code::Argument,
                    "the truth value of an empty array is ambiguous",
                    "the array holds no value",
                    "use len(x) > 0 or x.size > 0 to test for emptiness",
                ))
            }
            1 => {}
            n => {
                return Err(Error::new(
                    Code::Argument,
                    "the truth value of an array with more than one element is ambiguous",
                    format!("the array has {n} rows"),
                    "use x.any() or x.all()",
                ))
            }
        }
        if cur.is_null(0) {
            return Ok(false);
        }
        cur = match cur {
            Layout::Leaf(l) => {
                return Ok(
                    with_values!(&l.values, b, T => b[0].to_f64() != 0.0, _s => !l.values.str_at(0).is_empty()),
                );
            }
            Layout::List(l) => l.child.slice(l.offsets[0] as usize, l.row_len(0)),
            Layout::Union(u) => {
                let j = u.index[0] as usize;
                if u.tags[0] == 0 {
                    u.scalar.slice(j, 1)
                } else {
                    u.list.slice(j, 1)
                }
            }
        };
    }
}

/// Lazy iterator over the rows of an array (list rows as `GrumpyArray`s, scalars as values).
#[pyclass(name = "_RowIter", module = "grumpy._core")]
pub(crate) struct RowIter {
    array: Array,
    pos: usize,
}

#[pymethods]
impl RowIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| {
            if self.pos >= self.array.len() {
                return Ok(None);
            }
            self.pos += 1;
            row_to_py_obj(py, &self.array.layout, self.pos - 1).map(Some)
        })
    }
}

#[pymethods]
impl PyGrumpyArray {
    /// Number of rows.
    fn __len__(&self) -> PyResult<usize> {
        guard(|| Ok(self.inner.len()))
    }
    /// Truth of a one-value array; `ValueError` (ArgumentError) otherwise, like NumPy.
    fn __bool__(&self) -> PyResult<bool> {
        guard(|| truth(&self.inner.layout).py())
    }
    /// Element dtype.
    #[getter]
    fn dtype(&self) -> PyResult<PyDType> {
        guard(|| {
            Ok(PyDType {
                inner: self.inner.dtype(),
            })
        })
    }
    /// Number of dimensions.
    #[getter]
    fn ndim(&self) -> PyResult<usize> {
        guard(|| Ok(self.inner.ndim()))
    }
    /// Number of leaf values (a scalar row of a union counts 1).
    #[getter]
    fn size(&self, py: Python<'_>) -> PyResult<usize> {
        let a = self.inner.clone();
        run(py, move || Ok(a.size()))
    }
    /// Bytes held by the buffers this array reaches (values, offsets, validity, union tags and
    /// index).
    #[getter]
    fn nbytes(&self, py: Python<'_>) -> PyResult<usize> {
        let a = self.inner.clone();
        run(py, move || Ok(a.layout.nbytes()))
    }
    /// `"list"`, `"union"` or `"leaf"`.
    #[getter]
    fn layout(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.inner.layout_kind()))
    }
    /// `shape(0)` is `len(x)`; `shape(d)` for deeper `d` is the per-row lengths at that depth
    /// (a scalar row of a union counts as a length-1 list).
    #[pyo3(signature = (dim = 0))]
    fn shape(&self, py: Python<'_>, dim: isize) -> PyResult<Py<PyAny>> {
        guard(|| {
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
            let layout = self.inner.layout.clone();
            let l = run(py, move || lengths_at(&layout, d as usize))?.ok_or_else(|| {
                err(
                    Code::Unsupported,
                    format!("shape({dim}) is not defined for this array"),
                    format!(
                        "axis {dim} lies inside union rows, whose scalar rows have no such axis"
                    ),
                    "use shape(1), or x.to_list() to inspect union rows",
                )
            })?;
            Ok(Py::new(py, PyGrumpyArray::new(Array::new(l)))?.into_any())
        })
    }
    /// Nested Python lists (None for nulls).
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| rows_to_py(py, &self.inner.layout))
    }
    /// Alias of `to_list`.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.to_list(py)
    }
    /// The flat leaf buffer of this view as a NumPy array (zero copy, read-only; null slots
    /// hold arbitrary values, see `validity`).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let layout = self.inner.layout.clone();
        let leaf = run(py, move || leaf_view(&layout))?;
        guard(|| values_to_numpy(py, &leaf.values))
    }
    /// Validity of the values in `values` as a NumPy bool array (None when nothing is null).
    #[getter]
    fn validity<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let layout = self.inner.layout.clone();
        let leaf = run(py, move || leaf_view(&layout))?;
        guard(|| match &leaf.validity {
            Some(v) => Ok(Some(values_to_numpy(py, &Values::from(v.to_bools()))?)),
            None => Ok(None),
        })
    }
    /// Offsets of list level `level` (0 = outermost) as int64 NumPy array (zero copy; a
    /// sliced view's offsets need not start at 0).
    #[pyo3(signature = (level = 0))]
    fn offsets<'py>(&self, py: Python<'py>, level: isize) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
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
            i64_to_numpy(py, &l.offsets)
        })
    }
    /// Cast the leaves (layout shared; nulls stay null). `casting` follows NumPy: "no",
    /// "equiv", "safe", "same_kind" or "unsafe" (the default).
    #[pyo3(signature = (dtype, casting = "unsafe"))]
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>, casting: &str) -> PyResult<Self> {
        let d = guard(|| parse_dtype(dtype))?;
        let rule = Casting::parse(casting).py()?;
        let from = self.inner.dtype();
        if !can_cast(from, d, rule) {
            return Err(err(
                Code::DType,
                format!("cannot cast {from} to {d} under casting={casting:?}"),
                format!("NumPy's {casting:?} rule does not allow {from} -> {d}"),
                "pass casting=\"unsafe\" to cast anyway",
            ));
        }
        let a = self.inner.clone();
        Ok(PyGrumpyArray::new(run(py, move || a.astype(d))?))
    }
    /// Rectangular arrays as an N-d NumPy array (zero copy when compact; nulls give a masked
    /// array); ragged or union arrays → `ShapeError` naming `to_padded` / `values`.
    fn to_numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_numpy(py, self))
    }
    /// NumPy protocol: `np.asarray(x)` works for rectangular arrays.
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let mut a = to_numpy(py, self)?;
            if let Some(d) = dtype {
                a = a.call_method1("astype", (d,))?;
            }
            if copy == Some(true) {
                a = a.call_method0("copy")?;
            }
            Ok(a)
        })
    }
    /// `gr.array([[1.0, 2.0], [3.0]], dtype=float64)`: elided in the middle of long rows and
    /// between rows, reading only the values shown.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let a = self.inner.clone();
        run(py, move || {
            let dtype = a.dtype();
            let prefix = "gr.array(";
            let suffix = format!(", dtype={dtype})");
            let body = a
                .layout
                .preview(LINE_WIDTH, PREVIEW_ROWS, prefix.len() + 1, suffix.len());
            Ok(format!("{prefix}{body}{suffix}"))
        })
    }
    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        let a = self.inner.clone();
        run(py, move || {
            Ok(a.layout.preview(LINE_WIDTH, PREVIEW_ROWS, 1, 0))
        })
    }
    fn __iter__(&self) -> PyResult<RowIter> {
        guard(|| {
            Ok(RowIter {
                array: self.inner.clone(),
                pos: 0,
            })
        })
    }
    fn __copy__(&self) -> PyResult<Self> {
        guard(|| Ok(self.clone()))
    }
    /// A copy sharing no buffer with `self` (not even the NumPy memory it was built on).
    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(&self, py: Python<'_>, _memo: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        let a = self.inner.clone();
        let l = run(py, move || Ok(deep_copy(&a.layout)))?;
        Ok(PyGrumpyArray {
            inner: Array::new(l),
            empty_shape: self.empty_shape.clone(),
        })
    }
    /// Pickle support: `(GrumpyArray._from_state, (state bytes,))`, the buffers as bytes (a
    /// view pickles only what it covers).
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let a = self.inner.clone();
        let state = run(py, move || Ok(a.to_state()))?;
        let ctor = py.get_type::<PyGrumpyArray>().getattr("_from_state")?;
        Ok((ctor, (PyBytes::new(py, &state),)))
    }

    /// Rebuild an array from `__reduce__`'s state (checked: a corrupt state is an
    /// ArgumentError).
    #[classmethod]
    fn _from_state(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &[u8]) -> PyResult<Self> {
        let a = run(py, || Array::from_state(state))?;
        Ok(PyGrumpyArray {
            inner: a,
            empty_shape: None,
        })
    }
    #[new]
    #[pyo3(signature = (obj = None, dtype = None))]
    fn py_new(obj: Option<Bound<'_, PyAny>>, dtype: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            let d = dtype.as_ref().map(parse_dtype).transpose()?;
            match obj {
                Some(o) => crate::construct::build(&o, d),
                None => Ok(PyGrumpyArray::new(Array::new(Layout::Leaf(Leaf::valid(
                    Values::empty(d.unwrap_or(DType::Float64)),
                ))))),
            }
        })
    }
}

fn to_numpy<'py>(py: Python<'py>, a: &PyGrumpyArray) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    let mut shape = vec![a.inner.len()];
    let mut cur = a.inner.layout.clone();
    loop {
        cur = match cur {
            Layout::Leaf(ref l) => {
                if shape.iter().product::<usize>() == 0 {
                    if let Some(s) = a.empty_shape.as_ref().filter(|s| s.len() == shape.len()) {
                        shape.clone_from(s);
                    }
                }
                let vals = values_to_numpy(py, &l.values)?;
                let out = vals.call_method1("reshape", (shape.clone(),))?;
                if let Some(v) = &l.validity {
                    let valid = values_to_numpy(py, &Values::from(v.to_bools()))?;
                    let mask = np
                        .call_method1("logical_not", (valid,))?
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

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGrumpyArray>()?;
    m.add_class::<RowIter>()?;
    Ok(())
}
