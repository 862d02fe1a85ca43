//! The `DataFrame` Python class and `gr.dataframe`: argument conversion around
//! `grumpy_core::frame::Frame`.
//!
//! A Python `DataFrame` is a handle `(root, level)`: `root` is the frame it belongs to (shared
//! by every view of it) and `level` the schema level it looks from. `df.residue` is the same
//! root at level 1, so `df.residue.center = v` writes into `df`. Row selection returns a new
//! root frame.

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, row_to_py, rows_to_py};
use crate::errors::{err, run, IntoPy};
use grumpy_core::frame::{Column, Frame};
use grumpy_core::layout::{Layout, Leaf};
use grumpy_core::{Code, DType};
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySlice, PyString};
use std::sync::{Arc, RwLock};

/// A dataframe of ragged columns with named nesting levels (or a view of one at a level).
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

    fn map_numeric(
        &self,
        py: Python<'_>,
        f: impl Fn(&Bound<'_, PyAny>, &str) -> PyResult<Py<PyAny>>,
    ) -> PyResult<PyDataFrame> {
        let frame = self.frame()?;
        let mut cols = Vec::with_capacity(frame.columns().len());
        for c in frame.columns() {
            let array = if c.array.dtype().is_numeric() {
                let obj = Bound::new(py, PyGrumpyArray::new(c.array.clone()))?.into_any();
                from_py(f(&obj, &c.name)?.bind(py), None)?
            } else {
                c.array.clone()
            };
            cols.push(Column {
                name: c.name.clone(),
                level: c.level,
                array,
            });
        }
        let schema = frame.schema().to_vec();
        Ok(PyDataFrame::from_frame(run(py, move || {
            Frame::from_columns(schema, cols)
        })?))
    }

    fn binary(
        &self,
        py: Python<'_>,
        op: &str,
        other: &Bound<'_, PyAny>,
        swap: bool,
    ) -> PyResult<PyDataFrame> {
        let func = py.import("operator")?.getattr(op)?;
        let other_frame = match other.cast::<PyDataFrame>() {
            Ok(o) => Some(o.borrow().frame()?),
            Err(_) => None,
        };
        self.map_numeric(py, |col, name| {
            let rhs = match &other_frame {
                Some(o) => {
                    let a = o.get(name).py()?.clone();
                    Bound::new(py, PyGrumpyArray::new(a))?.into_any()
                }
                None => other.clone(),
            };
            let out = if swap {
                func.call1((rhs, col))?
            } else {
                func.call1((col, rhs))?
            };
            Ok(out.unbind())
        })
    }

    fn reduce<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let frame = self.frame()?;
        let out = PyDict::new(py);
        for c in frame.columns() {
            if c.array.dtype().is_numeric() {
                let obj = Bound::new(py, PyGrumpyArray::new(c.array.clone()))?;
                out.set_item(&c.name, obj.call_method(method, (), kwargs)?)?;
            }
        }
        Ok(out)
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
        if !key.is_instance_of::<pyo3::types::PyBool>() {
            if let Ok(i) = key.extract::<i64>() {
                return Ok(PyDataFrame::from_frame(run(py, || frame.row(i))?));
            }
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
        let idx = from_py(key, None)?;
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

    fn assign(&self, py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let is_level = self.with_root(|r| r.level_index(name).is_some());
        if is_level {
            return Err(err(
                Code::Schema,
                format!("cannot assign to the level {name:?}"),
                format!("{name:?} names a level of the schema, not a column"),
                format!("assign a column inside the level: df.{name}.<column> = value"),
            ));
        }
        let array = from_py(value, None)?;
        let level = self.level;
        let root = &self.root;
        run(py, move || {
            let mut g = root.write().unwrap_or_else(|e| e.into_inner());
            g.assign(level, name, array)
        })
    }
}

fn bad_key(key: &Bound<'_, PyAny>) -> PyErr {
    let t = key
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string());
    err(
        Code::Argument,
        format!("cannot index a DataFrame with {t}"),
        "a frame takes a column name, a list of names, a row index, a slice, a list or array \
         of row indices, or a boolean mask",
        "pass one of those (e.g. df[\"coords\"], df[0], df[1:3], df[[0, 2]], df[mask])",
    )
}

fn cell(py: Python<'_>, layout: &Layout, i: usize, width: usize) -> PyResult<String> {
    let mut s: String = row_to_py(py, layout, i)?.repr()?.extract()?;
    if s.chars().count() > width {
        s = s.chars().take(width.saturating_sub(3)).collect::<String>() + "...";
    }
    Ok(s)
}

fn parse_frame_args(
    py: Python<'_>,
    columns: &Bound<'_, PyAny>,
    schema: Option<Vec<String>>,
    levels: Option<&Bound<'_, PyDict>>,
) -> PyResult<Frame> {
    let dict = columns.cast::<PyDict>().map_err(|_| {
        err(
            Code::Argument,
            "gr.dataframe needs a dict of columns",
            format!(
                "got {}",
                columns
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            ),
            "pass {\"name\": array_like, ...}",
        )
    })?;
    let mut cols = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        let name: String = k.extract().map_err(|_| {
            err(
                Code::Argument,
                "column names must be strings",
                format!(
                    "got the key {}",
                    k.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                ),
                "use str keys",
            )
        })?;
        let a = from_py(&v, None).map_err(|e| {
            let v = e.value(py);
            let msg = match (v.getattr("summary"), v.getattr("cause")) {
                (Ok(s), Ok(c)) => format!("{s}; {c}"),
                _ => v.to_string(),
            };
            err(
                Code::Argument,
                format!("column {name:?} cannot be converted to an array"),
                msg,
                "pass nested lists, a NumPy array or a GrumpyArray",
            )
        })?;
        cols.push((name, a));
    }
    let lv: Vec<(String, String)> = match levels {
        Some(d) => d
            .iter()
            .map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<String>()?)))
            .collect::<PyResult<_>>()?,
        None => Vec::new(),
    };
    let schema = schema.unwrap_or_else(|| vec!["row".to_owned()]);
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
        schema: Option<Vec<String>>,
        levels: Option<&Bound<'_, PyDict>>,
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

    /// `{column: nested Python lists}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let f = self.frame()?;
        let d = PyDict::new(py);
        for c in f.columns() {
            d.set_item(&c.name, rows_to_py(py, &c.array.layout)?)?;
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

    /// A new frame with the same columns (buffers shared, copy-on-write).
    fn copy(&self) -> PyResult<PyDataFrame> {
        Ok(PyDataFrame::from_frame(self.frame()?))
    }

    fn __contains__(&self, name: &str) -> PyResult<bool> {
        Ok(self.frame()?.column(name).is_some())
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(name) = key.extract::<String>() {
            let a = self.with_root(|r| r.column_at(self.level, &name)).py()?;
            return Ok(Py::new(py, PyGrumpyArray::new(a))?.into_any());
        }
        Ok(Py::new(py, self.select_rows(py, key)?)?.into_any())
    }

    fn __setitem__(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.assign(py, key, value)
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
        self.assign(py, name, value)
    }

    fn __dir__(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let ty = py.get_type::<PyDataFrame>();
        let mut out: Vec<String> = ty.dir()?.extract()?;
        out.extend(self.schema());
        out.extend(self.columns()?);
        Ok(out)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let f = self.frame()?;
        let n = f.len();
        let shown: Vec<Option<usize>> = if n <= 10 {
            (0..n).map(Some).collect()
        } else {
            (0..5)
                .map(Some)
                .chain([None])
                .chain((n - 5..n).map(Some))
                .collect()
        };
        let mut grid: Vec<Vec<String>> = vec![vec![String::new(); 4 + shown.len()]];
        for (r, s) in shown.iter().enumerate() {
            grid[0][4 + r] = s.map_or("...".to_owned(), |i| i.to_string());
        }
        for c in f.columns() {
            let mut col = vec![
                c.name.clone(),
                f.schema()[c.level].clone(),
                c.array.dtype().name().to_owned(),
                String::new(),
            ];
            for s in &shown {
                col.push(match s {
                    Some(i) => cell(py, &c.array.layout, *i, 28)?,
                    None => "...".to_owned(),
                });
            }
            grid.push(col);
        }
        let widths: Vec<usize> = grid
            .iter()
            .map(|col| col.iter().map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let mut lines = vec![format!(
            "gr.DataFrame: {n} {} × {} columns, schema {}",
            f.schema()[0],
            f.columns().len(),
            f.schema().join(" → ")
        )];
        for row in 0..grid[0].len() {
            if row == 3 {
                continue;
            }
            let line: Vec<String> = grid
                .iter()
                .zip(&widths)
                .map(|(col, w)| format!("{:<w$}", col[row], w = *w))
                .collect();
            lines.push(line.join("  ").trim_end().to_owned());
        }
        Ok(lines.join("\n"))
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "add", o, false)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "add", o, true)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "sub", o, false)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "sub", o, true)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "mul", o, false)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "mul", o, true)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "truediv", o, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "truediv", o, true)
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "floordiv", o, false)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "floordiv", o, true)
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "mod", o, false)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyDataFrame> {
        self.binary(py, "mod", o, true)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDataFrame> {
        self.binary(py, "pow", o, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDataFrame> {
        self.binary(py, "pow", o, true)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyDataFrame> {
        let f = py.import("operator")?.getattr("neg")?;
        self.map_numeric(py, |c, _| Ok(f.call1((c,))?.unbind()))
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyDataFrame> {
        let f = py.import("builtins")?.getattr("abs")?;
        self.map_numeric(py, |c, _| Ok(f.call1((c,))?.unbind()))
    }

    /// `{column: column.sum(...)}` over the numeric columns (same for the other reductions).
    #[pyo3(signature = (**kwargs))]
    fn sum<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "sum", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn mean<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "mean", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn min<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "min", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn max<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "max", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn ptp<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "ptp", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn prod<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "prod", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn count<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "count", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn any<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "any", kwargs)
    }
    #[pyo3(signature = (**kwargs))]
    fn all<'py>(
        &self,
        py: Python<'py>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        self.reduce(py, "all", kwargs)
    }
}

/// `gr.dataframe(columns, schema=None, levels=None)`.
#[pyfunction]
#[pyo3(signature = (columns, schema = None, levels = None))]
pub(crate) fn dataframe(
    py: Python<'_>,
    columns: &Bound<'_, PyAny>,
    schema: Option<Vec<String>>,
    levels: Option<&Bound<'_, PyDict>>,
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
