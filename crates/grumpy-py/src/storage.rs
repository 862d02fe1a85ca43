//! `gr.save`, `gr.append`, `gr.load`, `gr.open` and the lazy `Store` handle (grumpy-zarr).

use crate::array::PyGrumpyArray;
use crate::convert::{from_py, row_to_py_obj};
use crate::errors::{err, run, run_polled};
use crate::frame::PyDataFrame;
use grumpy_core::Code;
use grumpy_zarr::{ChunkDim, Codec, Data, SaveOptions, StoreReader, StoreWriter};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PySlice, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A store path: `str` or `os.PathLike` (URLs are strings; writing to one is refused in Rust).
fn store_path(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let bad = || {
        err(
            Code::Argument,
            "path must be a str or os.PathLike",
            format!(
                "got {}",
                path.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ),
            "pass the store directory as a str or pathlib.Path (or an http(s)/s3/gs URL to read)",
        )
    };
    if path.is_instance_of::<PyBytes>() {
        return Err(bad());
    }
    let os = path.py().import("os")?;
    let fs = os.call_method1("fspath", (path,)).map_err(|_| bad())?;
    let s: String = fs.extract().map_err(|_| bad())?;
    Ok(PathBuf::from(s))
}

/// An optional int argument `>= min` (bools, floats and other types → `ArgumentError`).
fn opt_int(v: Option<&Bound<'_, PyAny>>, name: &str, min: i64) -> PyResult<Option<usize>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let x: Option<i64> = if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        None
    } else {
        v.extract().ok()
    };
    match x {
        Some(x) if x >= min => Ok(Some(x as usize)),
        _ => Err(err(
            Code::Argument,
            format!("{name} must be an int >= {min}"),
            format!("got {}", v.repr()?),
            format!("pass an integer {name} >= {min}, or None"),
        )),
    }
}

fn save_options(
    chunk_size: Option<&Bound<'_, PyAny>>,
    chunk_dim: Option<&Bound<'_, PyAny>>,
    codec: &Bound<'_, PyAny>,
    overwrite: &Bound<'_, PyAny>,
) -> PyResult<SaveOptions> {
    let chunk_dim = match chunk_dim.filter(|d| !d.is_none()) {
        None => None,
        Some(d) if d.is_instance_of::<PyString>() => Some(ChunkDim::Level(d.extract()?)),
        Some(d) => match opt_int(Some(d), "chunk_dim", 0) {
            Ok(n) => n.map(ChunkDim::Depth),
            Err(_) => {
                return Err(err(
                    Code::Argument,
                    "chunk_dim must be a depth (int >= 0) or a schema level name (str)",
                    format!("got {}", d.repr()?),
                    "pass e.g. chunk_dim=1 or chunk_dim=\"residue\" (dataframes)",
                ))
            }
        },
    };
    let codec: String = if codec.is_instance_of::<PyString>() {
        codec.extract()?
    } else {
        return Err(err(
            Code::Argument,
            "codec must be a str",
            format!("got {}", codec.repr()?),
            "pass codec=\"zstd\" (default), \"zstd+shuffle\", \"zstd:<level>\", \"blosc\", \
             \"blosc:<lz4|blosclz|zstd>[:<level>]\", \"gzip\", \"gzip:<level>\" or \"none\"",
        ));
    };
    if !overwrite.is_instance_of::<PyBool>() {
        return Err(err(
            Code::Argument,
            "overwrite must be True or False",
            format!("got {}", overwrite.repr()?),
            "pass overwrite=True (replace a grumpy store) or overwrite=False",
        ));
    }
    Ok(SaveOptions {
        chunk_size: opt_int(chunk_size, "chunk_size", 1)?,
        chunk_dim,
        codec: Codec::parse(&codec).map_err(crate::errors::to_py)?,
        overwrite: overwrite.extract()?,
    })
}

/// An array or a dataframe from a Python object (array-likes go through `gr.array` rules).
fn data_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Data> {
    if let Ok(df) = obj.cast::<PyDataFrame>() {
        return Ok(Data::Frame(df.borrow().frame()?));
    }
    Ok(Data::Array(from_py(obj, None)?))
}

fn is_batch(obj: &Bound<'_, PyAny>) -> bool {
    obj.cast::<PyGrumpyArray>().is_ok() || obj.cast::<PyDataFrame>().is_ok()
}

/// How `gr.save` reads `obj`: one object, or a sequence of batches. A list/tuple is data unless
/// every item is a GrumpyArray or DataFrame; any other iterable that is not an array-like
/// (generators, iterators, `gr.stream(...)`, ...) is a sequence of batches.
fn batches_of(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if is_batch(obj) {
        return Ok(false);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let n = obj.len()?;
        if n == 0 {
            return Ok(false);
        }
        for item in obj.try_iter()? {
            if !is_batch(&item?) {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let py = obj.py();
    let ndarray = py.import("numpy")?.getattr("ndarray")?;
    if obj.is_instance(&ndarray)?
        || obj.is_instance_of::<PyString>()
        || obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyDict>()
    {
        return Ok(false);
    }
    Ok(obj.hasattr("__next__")? || obj.hasattr("__iter__")?)
}

/// `gr.save(obj, path, chunk_size=None, chunk_dim=None, codec="zstd", overwrite=True)`.
/// `obj` is an array-like or a DataFrame, or a sequence of batches (an iterator, generator,
/// stream, or a list of GrumpyArrays/DataFrames) saved batch by batch. `codec="zstd"`
/// compresses the buffers zstd shrinks (by 10% or more on a sample) and stores the others raw
/// (integer buffers such as offsets byte-shuffled before zstd inside Zarr's core `blosc` codec);
/// `"blosc[:<lz4|blosclz|zstd>[:<level>]]"` uses blosc (byte shuffle) on every buffer it shrinks;
/// `"zstd+shuffle"` also byte-shuffles integer buffers first (`numcodecs.shuffle`: offsets a
/// fifth smaller and several times faster to decode; zarr-python reads it with a warning);
/// `"zstd:<level>"` compresses every buffer; `"gzip[:<level>]"`, `"none"`. `progress`: a bar
/// over the batches of a sequence (`grumpy.progress.bar` rules: None = tqdm after 2 s, True,
/// False); a single object is written in one call, without a bar.
#[pyfunction]
#[pyo3(signature = (obj, path, chunk_size = None, chunk_dim = None, codec = None, overwrite = None,
    progress = None))]
#[allow(clippy::too_many_arguments)]
fn save(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    path: &Bound<'_, PyAny>,
    chunk_size: Option<&Bound<'_, PyAny>>,
    chunk_dim: Option<&Bound<'_, PyAny>>,
    codec: Option<&Bound<'_, PyAny>>,
    overwrite: Option<&Bound<'_, PyAny>>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let zstd = PyString::new(py, "zstd").into_any();
    let yes = PyBool::new(py, true).to_owned().into_any();
    let opts = save_options(
        chunk_size,
        chunk_dim,
        codec.unwrap_or(&zstd),
        overwrite.unwrap_or(&yes),
    )?;
    let path = store_path(path)?;
    if batches_of(obj)? {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("desc", "save")?;
        kwargs.set_item("progress", progress)?;
        let batches = py
            .import("grumpy.progress")?
            .getattr("bar")?
            .call((obj,), Some(&kwargs))?;
        let mut w = run(py, || StoreWriter::new(&path, opts))?;
        for batch in batches.try_iter()? {
            let d = data_from_py(&batch?)?;
            run(py, || w.write_data(&d))?;
        }
        return run(py, || w.finish());
    }
    let d = data_from_py(obj)?;
    run(py, || grumpy_zarr::save_data(&d, &path, &opts))
}

/// `gr.append(obj, path)`: append rows (an array-like or a DataFrame) to an existing store.
#[pyfunction]
fn append(py: Python<'_>, obj: &Bound<'_, PyAny>, path: &Bound<'_, PyAny>) -> PyResult<()> {
    let path = store_path(path)?;
    let d = data_from_py(obj)?;
    run(py, || grumpy_zarr::append_data(&d, &path))
}

fn data_to_py(py: Python<'_>, d: Data) -> PyResult<Py<PyAny>> {
    Ok(match d {
        Data::Array(a) => Py::new(py, PyGrumpyArray::new(a))?.into_any(),
        Data::Frame(f) => Py::new(py, PyDataFrame::from_frame(f))?.into_any(),
    })
}

/// `gr.load(path)`: read a whole store (a GrumpyArray or a DataFrame). `path` is a directory,
/// or (read-only) an `http(s)://` URL in builds with the `http` feature, `s3://`/`gs://` with
/// `object-store` (see `grumpy._core.features()`). `progress`: a bar over the bytes read
/// (`grumpy.progress` rules: None = tqdm once the load has run 2 s, True, False).
#[pyfunction]
#[pyo3(signature = (path, progress = None))]
fn load(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let path = store_path(path)?;
    let progress_mod = py.import("grumpy.progress")?;
    progress_mod.getattr("check")?.call1((progress,))?;
    let enabled: bool = progress_mod
        .getattr("enabled")?
        .call1((progress,))?
        .extract()?;
    if !enabled {
        let d = run(py, || grumpy_zarr::load_data(&path))?;
        return data_to_py(py, d);
    }
    let counter = Arc::new(AtomicU64::new(0));
    let reader = run(py, || StoreReader::open_with_cache(&path, 0))?.with_progress(counter.clone());
    let bar = progress_mod
        .getattr("counter")?
        .call1((reader.total_bytes(), "load", progress))?;
    let mut shown = 0;
    let mut update = || -> PyResult<()> {
        let now = counter.load(Ordering::Relaxed);
        if now > shown {
            bar.call_method1("update", (now - shown,))?;
            shown = now;
        }
        Ok(())
    };
    let d = run_polled(
        py,
        move || reader.read_all_data(),
        Duration::from_millis(100),
        &mut update,
    );
    bar.call_method0("close")?;
    data_to_py(py, d?)
}

/// `gr.open(path)`: a lazy `Store` (reads metadata now, rows on demand); URLs as in `gr.load`,
/// fetching only the chunks a selection needs.
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
    fn rows(&self, py: Python<'_>, rows: Vec<usize>) -> PyResult<Py<PyAny>> {
        let r = self.reader.clone();
        let d = run(py, move || r.take_data_rows(&rows))?;
        data_to_py(py, d)
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
            let d: Data = if ind.step == 1 {
                let (a, b) = (ind.start as usize, (ind.stop.max(ind.start)) as usize);
                run(py, move || r.read_data_rows(a, b))?
            } else {
                let rows: Vec<usize> = (0..ind.slicelength)
                    .map(|k| (ind.start + k as isize * ind.step) as usize)
                    .collect();
                run(py, move || r.take_data_rows(&rows))?
            };
            return data_to_py(py, d);
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
            let row = run(py, move || r.read_data_rows(j as usize, j as usize + 1))?;
            return match row {
                // Like DataFrame indexing, a row of a frame store is a one-row DataFrame.
                Data::Frame(f) => data_to_py(py, Data::Frame(f)),
                Data::Array(a) => row_to_py_obj(py, &a.layout, 0),
            };
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
        self.rows(py, rows)
    }

    /// Summary: kind, dtype, layout, rows, bytes (logical and on disk), chunks per buffer;
    /// dataframes also schema and columns (name → level, dtype, layout).
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.reader;
        let meta = r.meta();
        let d = PyDict::new(py);
        d.set_item("path", r.path().display().to_string())?;
        d.set_item("kind", &meta.kind)?;
        d.set_item("rows", r.len())?;
        if r.is_frame() {
            d.set_item("schema", meta.schema.clone())?;
            let cols = PyDict::new(py);
            for p in &meta.parts {
                let c = PyDict::new(py);
                c.set_item("level", meta.schema.get(p.level))?;
                c.set_item("dtype", p.form.dtype().name())?;
                c.set_item("layout", p.form.kind())?;
                c.set_item("form", p.form.describe())?;
                cols.set_item(p.column.clone().unwrap_or_default(), c)?;
            }
            d.set_item("columns", cols)?;
            d.set_item("dtype", py.None())?;
            d.set_item("layout", "dataframe")?;
        } else {
            d.set_item("dtype", r.dtype().name())?;
            d.set_item("layout", r.form().kind())?;
            d.set_item("form", r.form().describe())?;
        }
        let g = &r.attributes()["grumpy"];
        d.set_item("format", g["format"].as_u64())?;
        d.set_item("codec", g["codec"].as_str())?;
        let chunks = PyDict::new(py);
        let mut bytes = 0usize;
        for (name, len, cl, dtype) in r.buffer_info() {
            let item = PyDict::new(py);
            item.set_item("length", len)?;
            item.set_item("chunk", cl)?;
            item.set_item("nchunks", len.div_ceil(cl.max(1)))?;
            bytes += len * dtype.itemsize();
            chunks.set_item(name, item)?;
        }
        d.set_item("bytes", bytes)?;
        d.set_item("stored_bytes", dir_size(r.path()))?;
        d.set_item("chunks", chunks)?;
        Ok(d)
    }

    /// Read every row (a GrumpyArray or a DataFrame).
    fn load(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let r = self.reader.clone();
        let d = run(py, move || r.read_all_data())?;
        data_to_py(py, d)
    }

    /// Number of rows (same as `len`).
    #[getter]
    fn length(&self) -> usize {
        self.reader.len()
    }

    /// The element dtype of an array store (a `gr.dtype`); `None` for a dataframe store.
    #[getter]
    fn dtype(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.reader.is_frame() {
            return Ok(py.None());
        }
        let gr = py.import("grumpy")?;
        Ok(gr
            .call_method1("dtype", (self.reader.dtype().name(),))?
            .unbind())
    }

    /// `"array"` or `"dataframe"`.
    #[getter]
    fn kind(&self) -> String {
        self.reader.meta().kind.clone()
    }

    /// NumPy protocol: loads the store and converts it like `np.asarray(gr.load(path))`
    /// (rectangular arrays only; ragged ones raise the same error as the array would).
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        if self.reader.is_frame() {
            return Err(err(
                Code::Unsupported,
                "cannot convert a dataframe store to a NumPy array",
                "a dataframe has named columns of different shapes",
                "load it (gr.load(path)) and convert one column: np.asarray(df[\"col\"])",
            ));
        }
        let a = self.load(py)?;
        let np = py.import("numpy")?;
        match dtype {
            Some(d) => np.call_method1("asarray", (a, d)),
            None => np.call_method1("asarray", (a,)),
        }
    }

    fn __repr__(&self) -> String {
        let r = &self.reader;
        if r.is_frame() {
            return format!(
                "<grumpy.Store {} rows={} dataframe schema={:?} columns={:?}>",
                r.path().display(),
                r.len(),
                r.meta().schema,
                r.meta()
                    .parts
                    .iter()
                    .map(|p| p.column.clone().unwrap_or_default())
                    .collect::<Vec<_>>()
            );
        }
        format!(
            "<grumpy.Store {} rows={} dtype={} layout={}>",
            r.path().display(),
            r.len(),
            r.dtype(),
            r.form().kind()
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

/// The optional cargo features compiled into this build, e.g. `["http"]`: `"http"` reads
/// stores at http(s):// URLs, `"object-store"` at s3:// and gs:// URLs.
#[pyfunction]
fn features() -> Vec<&'static str> {
    grumpy_zarr::remote::features()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStore>()?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(append, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(open, m)?)?;
    Ok(())
}
