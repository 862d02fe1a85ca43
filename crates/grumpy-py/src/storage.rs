//! `gr.save`, `gr.append`, `gr.load`, `gr.open` and the lazy `Store` handle (grumpy-zarr).

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, row_to_py_obj};
use crate::errors::{err, run};
use grumpy_core::{Array, Code};
use grumpy_zarr::{Codec, SaveOptions, StoreReader, StoreWriter};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySlice};
use std::path::PathBuf;
use std::sync::Arc;

fn store_path(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let os = path.py().import("os")?;
    let s: String = os.call_method1("fspath", (path,))?.extract()?;
    if s.contains("://") {
        return Err(err(
            Code::Unsupported,
            format!("cannot use the store URL {s:?}"),
            "this build reads and writes local directories only",
            "download the store to a local directory, or pass a local path",
        ));
    }
    Ok(PathBuf::from(s))
}

/// `gr.save(obj, path, chunk_size=None, chunk_dim=None, codec="zstd", overwrite=True)`.
/// `obj` is an array-like, or an iterator/generator of array-likes saved batch by batch.
#[pyfunction]
#[pyo3(signature = (obj, path, chunk_size = None, chunk_dim = None, codec = "zstd", overwrite = true))]
fn save(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    chunk_size: Option<i64>,
    chunk_dim: Option<i64>,
    codec: &str,
    overwrite: bool,
) -> PyResult<()> {
    let nonneg = |name: &str, v: Option<i64>| -> PyResult<Option<usize>> {
        match v {
            Some(x) if x < 0 => Err(err(
                Code::Argument,
                format!("{name} must be >= 0"),
                format!("{name}={x}"),
                format!("pass a non-negative {name}"),
            )),
            other => Ok(other.map(|x| x as usize)),
        }
    };
    let opts = SaveOptions {
        chunk_size: nonneg("chunk_size", chunk_size)?,
        chunk_dim: nonneg("chunk_dim", chunk_dim)?,
        codec: Codec::parse(codec).map_err(crate::errors::to_py)?,
        overwrite,
    };
    let path = store_path(path)?;
    if obj.hasattr("__next__")? {
        let mut w = run(py, || StoreWriter::new(&path, opts))?;
        for batch in obj.try_iter()? {
            let a = from_py(&batch?, None)?;
            run(py, || w.write(&a))?;
        }
        return run(py, || w.finish());
    }
    let a = from_py(obj, None)?;
    run(py, || grumpy_zarr::save(&a, &path, &opts))
}

/// `gr.append(obj, path)`: append rows to an existing store.
#[pyfunction]
fn append(py: Python<'_>, obj: &Bound<'_, PyAny>, path: &Bound<'_, PyAny>) -> PyResult<()> {
    let path = store_path(path)?;
    let a = from_py(obj, None)?;
    run(py, || grumpy_zarr::append(&a, &path))
}

/// `gr.load(path)`: read a whole store.
#[pyfunction]
fn load(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<PyGrumpyArray> {
    let path = store_path(path)?;
    Ok(PyGrumpyArray::new(run(py, || grumpy_zarr::load(&path))?))
}

/// `gr.open(path)`: a lazy `Store` (reads metadata now, rows on demand).
#[pyfunction]
fn open(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<PyStore> {
    let path = store_path(path)?;
    let r = run(py, || grumpy_zarr::open(&path))?;
    Ok(PyStore {
        reader: Arc::new(r),
    })
}

/// A lazily opened store: `len(s)`, `s[i]`, `s[a:b]`, `s[[i, j]]`, `s[mask]`, `s.info()`.
#[pyclass(name = "Store", module = "grumpy", frozen)]
pub(crate) struct PyStore {
    pub(crate) reader: Arc<StoreReader>,
}

impl PyStore {
    fn rows(&self, py: Python<'_>, rows: Vec<usize>) -> PyResult<PyGrumpyArray> {
        let r = self.reader.clone();
        Ok(PyGrumpyArray::new(run(py, move || r.take_rows(&rows))?))
    }
}

#[pymethods]
impl PyStore {
    fn __len__(&self) -> usize {
        self.reader.len()
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let n = self.reader.len();
        if let Ok(slice) = key.cast::<PySlice>() {
            let ind = slice.indices(n as isize)?;
            let r = self.reader.clone();
            let arr: Array = if ind.step == 1 {
                let (a, b) = (ind.start as usize, (ind.stop.max(ind.start)) as usize);
                run(py, move || r.read_rows(a, b))?
            } else {
                let rows: Vec<usize> = (0..ind.slicelength)
                    .map(|k| (ind.start + k as isize * ind.step) as usize)
                    .collect();
                run(py, move || r.take_rows(&rows))?
            };
            return Ok(Py::new(py, PyGrumpyArray::new(arr))?.into_any());
        }
        if let Ok(i) = key.extract::<i64>() {
            if key.is_instance_of::<pyo3::types::PyBool>() {
                return Err(err(
                    Code::Argument,
                    "cannot index a store with a bool",
                    "a single True/False is not a row index",
                    "pass an int, a slice, a list of ints or a boolean mask of len(store)",
                ));
            }
            let j = if i < 0 { i + n as i64 } else { i };
            if j < 0 || j >= n as i64 {
                return Err(err(
                    Code::OutOfBounds,
                    format!("row {i} is out of range"),
                    format!("the store has {n} rows"),
                    format!("pass an index in [-{n}, {n})"),
                ));
            }
            let r = self.reader.clone();
            let row = run(py, move || r.read_rows(j as usize, j as usize + 1))?;
            return row_to_py_obj(py, &row.layout, 0);
        }
        let np = py.import("numpy")?;
        let arr = np.call_method1("asarray", (key,))?;
        let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
        let rows: Vec<usize> = match kind.as_str() {
            "b" => {
                let mask: Vec<bool> = arr.call_method0("tolist")?.extract()?;
                if mask.len() != n {
                    return Err(err(
                        Code::Shape,
                        "boolean mask has the wrong length",
                        format!("{} flags for {n} rows", mask.len()),
                        "pass one flag per row",
                    ));
                }
                mask.iter()
                    .enumerate()
                    .filter(|(_, &m)| m)
                    .map(|(i, _)| i)
                    .collect()
            }
            "i" | "u" => {
                let idx: Vec<i64> = arr
                    .call_method1("astype", ("int64",))?
                    .call_method0("tolist")?
                    .extract()?;
                let mut rows = Vec::with_capacity(idx.len());
                for i in idx {
                    let j = if i < 0 { i + n as i64 } else { i };
                    if j < 0 || j >= n as i64 {
                        return Err(err(
                            Code::OutOfBounds,
                            format!("row {i} is out of range"),
                            format!("the store has {n} rows"),
                            format!("pass indices in [-{n}, {n})"),
                        ));
                    }
                    rows.push(j as usize);
                }
                rows
            }
            _ if arr.getattr("size")?.extract::<usize>()? == 0 => Vec::new(),
            _ => {
                return Err(err(
                    Code::Argument,
                    format!("cannot index a store with {}", key.get_type().name()?),
                    "store indices are ints, slices, int lists or boolean masks",
                    "pass an int, a slice, a list of ints or a boolean mask of len(store)",
                ))
            }
        };
        Ok(Py::new(py, self.rows(py, rows)?)?.into_any())
    }

    /// Summary: dtype, layout, rows, bytes (logical and on disk), chunks per buffer.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.reader;
        let d = PyDict::new(py);
        d.set_item("path", r.path().display().to_string())?;
        d.set_item("dtype", r.dtype().name())?;
        d.set_item("layout", r.form().kind())?;
        d.set_item("form", r.form().describe())?;
        d.set_item("rows", r.len())?;
        let g = &r.attributes()["grumpy"];
        d.set_item("format", g["format"].as_u64())?;
        d.set_item("codec", g["codec"].as_str())?;
        let chunks = PyDict::new(py);
        let mut bytes = 0usize;
        for (name, len, cl) in r.buffers() {
            let item = PyDict::new(py);
            item.set_item("length", len)?;
            item.set_item("chunk", cl)?;
            item.set_item("nchunks", len.div_ceil(cl.max(1)))?;
            let spec = r.form().buffers().into_iter().find(|s| s.name == name);
            bytes += len * spec.map_or(1, |s| s.dtype.itemsize());
            chunks.set_item(name, item)?;
        }
        d.set_item("bytes", bytes)?;
        d.set_item("stored_bytes", dir_size(r.path()))?;
        d.set_item("chunks", chunks)?;
        Ok(d)
    }

    /// Read every row.
    fn load(&self, py: Python<'_>) -> PyResult<PyGrumpyArray> {
        let r = self.reader.clone();
        Ok(PyGrumpyArray::new(run(py, move || r.read_all())?))
    }

    /// Number of rows (same as `len`).
    #[getter]
    fn length(&self) -> usize {
        self.reader.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<grumpy.Store {} rows={} dtype={} layout={}>",
            self.reader.path().display(),
            self.reader.len(),
            self.reader.dtype(),
            self.reader.form().kind()
        )
    }
}

fn dir_size(p: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(append, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    Ok(())
}
