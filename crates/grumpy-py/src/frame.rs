//! The `DataFrame` Python class and `gr.dataframe`: argument conversion around
//! `grumpy_core::frame::Frame`.
//!
//! A Python `DataFrame` is a handle `(root, level)`: `root` is the frame it belongs to (shared
//! by every view of it) and `level` the schema level it looks from. `df.residue` is the same
//! root at level 1, so `df.residue.center = v` writes into `df`. Row selection returns a new
//! root frame. The work (selection, views, assignment, ops, the table text, the pickle state)
//! happens in `grumpy_core::frame`; this file and `frame/{args,ops}.rs` only convert.

mod args;
mod ops;

pub(crate) use ops::{binary_fn, clip_fn, reduce_fn, unary_fn, where_fn};

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, row_to_py, rows_to_py};
use crate::errors::{err, run, IntoPy};
use args::{assigned, columns_arg, levels_arg, schema_arg, type_name, Assigned};
use grumpy_core::frame::Frame;
use grumpy_core::layout::{Layout, Leaf};
use grumpy_core::{Code, DType};
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyList, PySlice, PyString, PyType};
use std::sync::{Arc, RwLock};

/// A dataframe of ragged columns with named nesting levels (or a view of one at a level).
///
/// - Access: `df["col"]`, `df.col` (frame attributes win: use `df["sum"]` for such names),
///   `df.<level>` (zero-copy view), `df[i]`, `df[a:b]`, `df[[i, j]]`, `df[mask]`,
///   `df[["a", "b"]]`, `len(df)`, `df.columns`, `df.schema`, `df.levels`,
///   `df.to_dict()` (`{name: GrumpyArray}`, zero copy; `as_arrays=False` for lists),
///   `df.to_list()` (records). A frame is not iterable.
/// - Edits: `df.<level>.name = value` / `df.<level>["name"] = value` with one row per entity
///   of the level, the full nested shape, or a scalar broadcast to every entity (a NumPy
///   scalar keeps its dtype; `None` needs an array with a dtype). `del df.name`,
///   `del df["name"]`, also through a view for columns at its level or below. Column names
///   cannot be level names.
/// - Ops: `df + 1`, `-df`, `df > x`, `gr.sqrt(df)`, `np.sqrt(df)`, `df * array`, `df1 + df2`
///   (columns paired by name) apply to every column whose dtype the op is defined for
///   (NumPy's rules); strings and refused dtypes (`-bool`) are carried unchanged. Reductions
///   (`df.sum(dim=None)`, `gr.mean(df, dim=1)`) return `{name: result}` for the columns they
///   apply to (pandas' `numeric_only`; `count` also counts strings).
/// - `pickle`, `copy.copy` (shared buffers) and `copy.deepcopy` (own buffers) work; a view
///   pickles and copies as a frame of its own.
#[pyclass(name = "DataFrame", module = "grumpy")]
pub(crate) struct PyDataFrame {
    root: Arc<RwLock<Frame>>,
    level: usize,
}

impl PyDataFrame {
    pub(crate) fn from_frame(f: Frame) -> Self {
        PyDataFrame {
            root: Arc::new(RwLock::new(f)),
            level: 0,
        }
    }

    fn with_root<T>(&self, f: impl FnOnce(&Frame) -> T) -> T {
        let g = self.root.read().unwrap_or_else(|e| e.into_inner());
        f(&g)
    }

    /// The frame seen from this handle's level (zero copy).
    pub(crate) fn frame(&self) -> PyResult<Frame> {
        self.with_root(|r| r.at(self.level)).py()
    }

    /// The whole root frame and this handle's level (for compiled plans).
    pub(crate) fn root_and_level(&self) -> (Frame, usize) {
        (self.with_root(Clone::clone), self.level)
    }

    /// Replace the root frame (a compiled plan's dot assignments write back through this).
    pub(crate) fn replace_root(&self, f: Frame) {
        *self.root.write().unwrap_or_else(|e| e.into_inner()) = f;
    }

    pub(crate) fn view(&self, level: usize) -> PyDataFrame {
        PyDataFrame {
            root: Arc::clone(&self.root),
            level,
        }
    }

    fn select_rows(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        let frame = self.frame()?;
        if let Ok(s) = key.cast::<PySlice>() {
            let ind = s.indices(frame.len() as isize)?;
            let f = if ind.step == 1 {
                let len = (ind.stop - ind.start).max(0) as usize;
                run(py, || frame.slice(ind.start as usize, len))?
            } else {
                let rows: Vec<i64> = (0..ind.slicelength)
                    .map(|k| (ind.start + k as isize * ind.step) as i64)
                    .collect();
                run(py, || frame.take(&rows))?
            };
            return Ok(PyDataFrame::from_frame(f));
        }
        if is_scalar_key(key)? {
            return Err(bad_key(key));
        }
        if let Ok(i) = key.extract::<i64>() {
            return Ok(PyDataFrame::from_frame(run(py, || frame.row(i))?));
        }
        if let Ok(l) = key.cast::<PyList>() {
            if l.is_empty() {
                return Ok(PyDataFrame::from_frame(run(py, || frame.take(&[]))?));
            }
            if l.iter().all(|x| x.is_instance_of::<PyString>()) {
                let names: Vec<String> = l.extract()?;
                let f = run(py, || {
                    frame.select(&names.iter().map(String::as_str).collect::<Vec<_>>())
                })?;
                return Ok(PyDataFrame::from_frame(f));
            }
        }
        let idx = from_py(key, None).map_err(|_| bad_key(key))?;
        let f = match &idx.layout {
            Layout::Leaf(Leaf { values, validity }) if validity.is_none() => {
                if values.dtype() == DType::Bool {
                    let mask = values.as_slice::<bool>().unwrap_or_default().to_vec();
                    run(py, || frame.filter(&mask))?
                } else if values.dtype().is_integer() {
                    let rows = idx.astype(DType::Int64).py()?;
                    let rows = rows.layout.leaves()[0]
                        .values
                        .as_slice::<i64>()
                        .unwrap_or_default()
                        .to_vec();
                    run(py, || frame.take(&rows))?
                } else {
                    return Err(bad_key(key));
                }
            }
            _ => return Err(bad_key(key)),
        };
        Ok(PyDataFrame::from_frame(f))
    }

    /// `df.<level>.<name> = value` / `df[name] = value` (also through views).
    fn assign(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = assigned(name, value)?;
        let level = self.level;
        let root = &self.root;
        run(py, move || {
            let mut g = root.write().unwrap_or_else(|e| e.into_inner());
            match value {
                Assigned::Array(a) => g.assign(level, name, a),
                Assigned::Scalar(s, d) => g.fill(level, name, &s, d),
            }
        })
    }

    fn remove(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let level = self.level;
        let root = &self.root;
        run(py, move || {
            let mut g = root.write().unwrap_or_else(|e| e.into_inner());
            g.remove(level, name).map(|_| ())
        })
    }

    /// `name` is a method or property of the class (dot access never reaches such a column).
    fn is_attribute(py: Python<'_>, name: &str) -> PyResult<bool> {
        py.get_type::<PyDataFrame>().hasattr(name)
    }
}

/// Scalars that are not row indices: bools (a mask needs one flag per row) and floats.
fn is_scalar_key(key: &Bound<'_, PyAny>) -> PyResult<bool> {
    if key.cast::<PyBool>().is_ok() || key.cast::<PyFloat>().is_ok() {
        return Ok(true);
    }
    // NumPy scalars: np.bool_, np.float64, ... (np.int64 is a valid row index).
    if key.hasattr("dtype")? && !key.hasattr("__len__")? {
        let kind: String = key.getattr("dtype")?.getattr("kind")?.extract()?;
        return Ok(!matches!(kind.as_str(), "i" | "u"));
    }
    Ok(false)
}

fn bad_key(key: &Bound<'_, PyAny>) -> PyErr {
    err(
        Code::Argument,
        format!(
            "cannot index a DataFrame with {} {}",
            type_name(key),
            key.repr()
                .map_or_else(|_| "?".into(), |r| cut(&r.to_string(), 40))
        ),
        "this index type is not supported for a DataFrame: it takes a column name, a list of \
         names, a row index (int), a slice, a list or array of row indices, or a boolean mask \
         with one flag per row",
        "pass one of those (e.g. df[\"coords\"], df[0], df[1:3], df[[0, 2]], df[mask])",
    )
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n).collect::<String>() + "..."
    }
}

fn parse_frame_args(
    py: Python<'_>,
    columns: &Bound<'_, PyAny>,
    schema: Option<&Bound<'_, PyAny>>,
    levels: Option<&Bound<'_, PyAny>>,
) -> PyResult<Frame> {
    let schema = schema_arg(schema)?;
    let lv = levels_arg(levels, &schema)?;
    let cols = columns_arg(py, columns)?;
    run(py, move || {
        let lv: Vec<(&str, &str)> = lv.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        Frame::new(&schema, cols, &lv)
    })
}

#[pymethods]
impl PyDataFrame {
    #[new]
    #[pyo3(signature = (columns, schema = None, levels = None))]
    fn py_new(
        py: Python<'_>,
        columns: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        levels: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(PyDataFrame::from_frame(parse_frame_args(
            py, columns, schema, levels,
        )?))
    }

    /// Number of rows (entities of this frame's outermost level).
    fn __len__(&self) -> PyResult<usize> {
        self.with_root(|r| r.count(self.level)).py()
    }

    /// Column names (those visible at this level), in order.
    #[getter]
    fn columns(&self) -> PyResult<Vec<String>> {
        Ok(self
            .frame()?
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    /// Level names, outermost first (a view's schema starts at its level).
    #[getter]
    fn schema(&self) -> Vec<String> {
        self.with_root(|r| r.schema()[self.level..].to_vec())
    }

    /// `{column: level name}`.
    #[getter]
    fn levels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let f = self.frame()?;
        let d = PyDict::new(py);
        for c in f.columns() {
            d.set_item(&c.name, &f.schema()[c.level])?;
        }
        Ok(d)
    }

    /// `{column: GrumpyArray}` sharing the frame's buffers (zero copy); with
    /// `as_arrays=False`, `{column: nested Python lists}`.
    #[pyo3(signature = (as_arrays = true))]
    fn to_dict<'py>(&self, py: Python<'py>, as_arrays: bool) -> PyResult<Bound<'py, PyDict>> {
        let f = self.frame()?;
        let d = PyDict::new(py);
        for c in f.columns() {
            if as_arrays {
                d.set_item(&c.name, Py::new(py, PyGrumpyArray::new(c.array.clone()))?)?;
            } else {
                d.set_item(&c.name, rows_to_py(py, &c.array.layout)?)?;
            }
        }
        Ok(d)
    }

    /// Records: one `{column: value}` dict per row.
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let f = self.frame()?;
        let out = PyList::empty(py);
        for i in 0..f.len() {
            let d = PyDict::new(py);
            for c in f.columns() {
                d.set_item(&c.name, row_to_py(py, &c.array.layout, i)?)?;
            }
            out.append(d)?;
        }
        Ok(out)
    }

    /// A new frame with the same columns (buffers shared, copy-on-write); a view's copy is a
    /// frame of its own.
    fn copy(&self) -> PyResult<PyDataFrame> {
        Ok(PyDataFrame::from_frame(self.frame()?))
    }

    fn __copy__(&self) -> PyResult<PyDataFrame> {
        self.copy()
    }

    /// A frame with buffers of its own, holding only what this frame (or view) covers.
    #[pyo3(signature = (_memo = None))]
    fn __deepcopy__(
        &self,
        py: Python<'_>,
        _memo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDataFrame> {
        let f = self.frame()?;
        let copy = run(py, move || Frame::from_state(&f.to_state()))?;
        Ok(PyDataFrame::from_frame(copy))
    }

    /// Pickle support: `(DataFrame._from_state, (state bytes,))`; a view pickles as a frame.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let f = self.frame()?;
        let state = run(py, move || Ok(f.to_state()))?;
        let ctor = py.get_type::<PyDataFrame>().getattr("_from_state")?;
        Ok((ctor, (PyBytes::new(py, &state),)))
    }

    /// Rebuild a frame from `__reduce__`'s state (checked: a corrupt state is an ArgumentError).
    #[classmethod]
    fn _from_state(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        state: &[u8],
    ) -> PyResult<PyDataFrame> {
        let f = run(py, || Frame::from_state(state))?;
        Ok(PyDataFrame::from_frame(f))
    }

    fn __contains__(&self, name: &str) -> PyResult<bool> {
        Ok(self.frame()?.column(name).is_some())
    }

    /// A frame is not iterable: say what to iterate instead.
    fn __iter__(&self) -> PyResult<Py<PyAny>> {
        Err(err(
            Code::Unsupported,
            "a DataFrame is not iterable",
            "its rows, columns and records are all reachable, so iteration is explicit",
            "iterate df.columns (names), df.to_list() (records) or range(len(df)) with df[i]",
        ))
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(name) = key.cast::<PyString>() {
            let name = name.to_cow()?;
            let a = self.with_root(|r| r.column_at(self.level, &name)).py()?;
            return Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any());
        }
        Ok(Py::new(py, self.select_rows(py, key)?)?.into_any())
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let name = key.cast::<PyString>().map_err(|_| {
            err(
                Code::Argument,
                format!(
                    "cannot assign to df[{}]",
                    key.repr().map_or("?".into(), |r| cut(&r.to_string(), 40))
                ),
                "df[name] = value adds or replaces a column; rows are not assigned through a frame",
                "assign a column by name, or write into a column array: df.col[i] = x",
            )
        })?;
        self.assign(py, &name.to_cow()?, value)
    }

    /// `del df["col"]` removes a column (through a view: a column at the view's level or below).
    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = key.cast::<PyString>().map_err(|_| {
            err(
                Code::Argument,
                "del df[...] takes a column name",
                format!("got a {}", type_name(key)),
                "select the rows to keep instead: df = df[mask]",
            )
        })?;
        self.remove(py, &name.to_cow()?)
    }

    /// `df.<level>` → view at that level; `df.<column>` → the column (frame attributes win).
    fn __getattr__(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        let found = self.with_root(|r| {
            let lev = r.level_index(name).filter(|&l| l >= self.level);
            let col = r.column(name).map(|c| c.level);
            (lev, col, r.level_index(name).is_some())
        });
        match found {
            (Some(l), _, _) => Ok(Py::new(py, self.view(l))?.into_any()),
            (None, Some(cl), _) if cl >= self.level => {
                let a = self.with_root(|r| r.column_at(self.level, name)).py()?;
                Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any())
            }
            (None, Some(_), _) => Err(PyAttributeError::new_err(format!(
                "column {name:?} sits above this view's level; read it from the frame it belongs to"
            ))),
            (None, None, true) => Err(PyAttributeError::new_err(format!(
                "level {name:?} is above this view's level (views only go inward)"
            ))),
            (None, None, false) => Err(PyAttributeError::new_err(format!(
                "DataFrame has no attribute, level or column {name:?}"
            ))),
        }
    }

    /// `df.<level>.<name> = value` adds or replaces a column at that level.
    fn __setattr__(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if Self::is_attribute(py, name)? {
            return Err(attribute_name(name, "assign", "df[\"{name}\"] = value"));
        }
        self.assign(py, name, value)
    }

    /// `del df.<name>` / `del df.<level>.<name>` removes a column.
    fn __delattr__(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        if Self::is_attribute(py, name)? {
            return Err(attribute_name(name, "delete", "del df[\"{name}\"]"));
        }
        self.remove(py, name)
    }

    fn __dir__(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let ty = py.get_type::<PyDataFrame>();
        let mut out: Vec<String> = ty.dir()?.extract()?;
        out.extend(self.schema());
        out.extend(self.columns()?);
        Ok(out)
    }

    /// A small table of bounded size (built in `grumpy_core::frame::display`).
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let f = self.frame()?;
        run(py, move || Ok(f.to_string()))
    }
}

fn attribute_name(name: &str, verb: &str, fix: &str) -> PyErr {
    err(
        Code::Argument,
        format!("cannot {verb} df.{name}: {name:?} is a DataFrame attribute"),
        "dot access never shadows the frame's own attributes and methods",
        fix.replace("{name}", name),
    )
}

/// `gr.dataframe(columns, schema=None, levels=None)`.
#[pyfunction]
#[pyo3(signature = (columns, schema = None, levels = None))]
pub(crate) fn dataframe(
    py: Python<'_>,
    columns: &Bound<'_, PyAny>,
    schema: Option<&Bound<'_, PyAny>>,
    levels: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyDataFrame> {
    Ok(PyDataFrame::from_frame(parse_frame_args(
        py, columns, schema, levels,
    )?))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDataFrame>()?;
    m.add_function(wrap_pyfunction!(dataframe, m)?)?;
    Ok(())
}
