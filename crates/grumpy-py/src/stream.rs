//! `grumpy._core.Stream`: batch streaming over a store (array or dataframe) or an in-memory
//! array or dataframe. Argument conversion only; planning, reading and prefetching live in
//! `grumpy_zarr::stream`. Batches are [`Data`]: a `GrumpyArray` or a `DataFrame` in Python.
//!
//! A source plugs in through [`source_from_py`]. Pickling (`__reduce__`) rebuilds the stream
//! from its source (a store's path, or the in-memory data), its options with the seed
//! resolved, its epoch and its selection (`grumpy.stream._restore`), so spawn/forkserver
//! DataLoader workers get the same batches.

use crate::array::PyGrumpyArray;
use crate::errors::{err, run, run_wait, IntoPy};
use crate::frame::PyDataFrame;
use grumpy_core::plan::{Outcome, Value};
use grumpy_core::Code;
use grumpy_zarr::stream::{
    count_arg, BatchSource, LevelRef, MemorySource, PlanRun, Prefetcher, Shuffle, Stream,
    StreamOptions,
};
use grumpy_zarr::Data;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PySlice, PyString, PyTuple};
use std::sync::Arc;

/// Where a stream's rows come from (what pickling records).
#[derive(Clone, Debug)]
enum Origin {
    /// A store, by path or URL.
    Store(String),
    /// Data held in memory (pickled as the data itself).
    Memory,
}

/// Turn a Python object into a batch source: a `GrumpyArray` or `DataFrame` streams from
/// memory (a dataframe view streams the frame seen from its level), a `Store` from disk.
fn source_from_py(
    obj: &Bound<'_, PyAny>,
) -> PyResult<(Arc<dyn BatchSource<Batch = Data>>, Origin)> {
    let memory = |d: Data| -> (Arc<dyn BatchSource<Batch = Data>>, Origin) {
        (Arc::new(MemorySource::from_data(d)), Origin::Memory)
    };
    if let Ok(a) = obj.cast::<PyGrumpyArray>() {
        return Ok(memory(Data::Array(a.borrow().inner.clone())));
    }
    if let Ok(df) = obj.cast::<PyDataFrame>() {
        return Ok(memory(Data::Frame(df.borrow().frame()?)));
    }
    if let Ok(st) = obj.cast::<crate::storage::PyStore>() {
        let reader = st.get().reader.clone();
        let path = reader.path().to_string_lossy().into_owned();
        let src: Arc<dyn BatchSource<Batch = Data>> = reader;
        return Ok((src, Origin::Store(path)));
    }
    Err(err(
        Code::Argument,
        "cannot stream this object",
        format!("got {}", obj.get_type().name()?),
        "pass a store path, a grumpy array (gr.array(...)) or a dataframe (gr.dataframe(...))",
    ))
}

fn data_to_py(py: Python<'_>, d: Data) -> PyResult<Py<PyAny>> {
    Ok(match d {
        Data::Array(a) => Py::new(py, PyGrumpyArray::new(a))?.into_any(),
        Data::Frame(f) => Py::new(py, PyDataFrame::from_frame(f))?.into_any(),
    })
}

fn level_to_py<'py>(py: Python<'py>, l: &LevelRef) -> PyResult<Bound<'py, PyAny>> {
    Ok(match l {
        LevelRef::Depth(d) => d.into_pyobject(py)?.into_any(),
        LevelRef::Name(n) => PyString::new(py, n).into_any(),
    })
}

/// An int argument (bools and other types rejected) at least `min`.
fn int_arg(obj: &Bound<'_, PyAny>, name: &str, min: i64) -> PyResult<usize> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(err(
            Code::Argument,
            format!("{name} must be an int"),
            format!("got {}", obj.repr()?),
            format!("pass an integer {name} >= {min}"),
        ));
    }
    let v: i64 = obj.extract().map_err(|_| {
        err(
            Code::Argument,
            format!("{name} is too large"),
            format!(
                "got {}",
                obj.repr().map(|r| r.to_string()).unwrap_or_default()
            ),
            format!("pass a smaller {name}"),
        )
    })?;
    count_arg(name, v, min).py()
}

fn level_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<LevelRef> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(LevelRef::Name(s.extract::<String>()?));
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return Ok(LevelRef::Depth(int_arg(obj, name, 0)?));
    }
    Err(err(
        Code::Argument,
        format!("{name} must name a level"),
        format!("got {}", obj.repr()?),
        format!("pass a level name such as \"residue\" or an int depth (1 = first nested level) as {name}"),
    ))
}

fn shuffle_arg(obj: &Bound<'_, PyAny>) -> PyResult<Shuffle> {
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(if b.is_true() {
            Shuffle::Batches
        } else {
            Shuffle::Off
        });
    }
    if obj.is_none() {
        return Ok(Shuffle::Off);
    }
    if obj.is_instance_of::<PyInt>() && obj.extract::<i64>().is_ok_and(|v| v == 0) {
        return Err(err(
            Code::Argument,
            "shuffle=0 is ambiguous",
            "0 could mean False or the outer level",
            "pass shuffle=False, shuffle=True, or a nested level (a name or an int >= 1)",
        ));
    }
    Ok(Shuffle::Level(level_arg(obj, "shuffle")?))
}

fn seed_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if o.is_instance_of::<PyBool>() || !o.is_instance_of::<PyInt>() {
                return Err(err(
                    Code::Argument,
                    "seed must be an int",
                    format!("got {}", o.repr()?),
                    "pass seed=<int between 0 and 2**64 - 1> or None",
                ));
            }
            o.extract::<u64>().map(Some).map_err(|_| {
                err(
                    Code::Argument,
                    "seed is out of range",
                    format!(
                        "got {}",
                        o.repr().map(|r| r.to_string()).unwrap_or_default()
                    ),
                    "pass seed=<int between 0 and 2**64 - 1>",
                )
            })
        }
    }
}

/// Batches of a store, array or dataframe for training loops (see `gr.stream`).
#[pyclass(name = "Stream", module = "grumpy")]
pub(crate) struct PyStream {
    inner: Stream<Data>,
    origin: Origin,
    opts: StreamOptions,
}

/// Iterator over a stream's batches (reader threads stop when it is dropped).
#[pyclass(name = "StreamIterator", module = "grumpy")]
pub(crate) struct PyStreamIter {
    inner: Prefetcher<Data>,
}

/// Results of a compiled plan over a stream, in batch order; a batch the plan does not apply
/// to goes to the `fallback` callable and its result is yielded in its place (`StreamApply`
/// runs the Python bodies there). The iterator is what `StreamApply` hands to the loop, with
/// no Python generator around it: each such layer costs a few percent of a quick epoch.
#[pyclass(name = "PlanStreamIterator", module = "grumpy")]
pub(crate) struct PyPlanIter {
    inner: PlanRun,
    fallback: Py<PyAny>,
}

#[pymethods]
impl PyPlanIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let it = &mut self.inner;
        let Some(r) = run_wait(py, || Ok(it.next()))? else {
            return Ok(None);
        };
        Ok(Some(match r.py()? {
            Outcome::Done(v, frames) => outcome_to_py(py, v, frames)?,
            Outcome::Fallback(v, frames, _) => {
                let batch = outcome_to_py(py, v, frames)?;
                self.fallback.call1(py, (batch,))?
            }
        }))
    }
    fn __len__(&self) -> usize {
        self.inner.remaining()
    }
}

#[pymethods]
impl PyStreamIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let it = &mut self.inner;
        match run_wait(py, || Ok(it.next()))? {
            None => Ok(None),
            Some(r) => Ok(Some(data_to_py(py, r.py()?)?)),
        }
    }
    fn __len__(&self) -> usize {
        self.inner.remaining()
    }
}

#[pymethods]
impl PyStream {
    #[new]
    #[pyo3(signature = (source, batch_size = None, drop_last = false, shuffle = None, seed = None,
        batch_on = None, world_size = None, rank = None, workers = None, prefetch = None,
        in_memory = false))]
    fn py_new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        batch_size: Option<&Bound<'_, PyAny>>,
        drop_last: bool,
        shuffle: Option<&Bound<'_, PyAny>>,
        seed: Option<&Bound<'_, PyAny>>,
        batch_on: Option<&Bound<'_, PyAny>>,
        world_size: Option<&Bound<'_, PyAny>>,
        rank: Option<&Bound<'_, PyAny>>,
        workers: Option<&Bound<'_, PyAny>>,
        prefetch: Option<&Bound<'_, PyAny>>,
        in_memory: bool,
    ) -> PyResult<Self> {
        let d = StreamOptions::default();
        let opt = |o: Option<&Bound<'_, PyAny>>, name: &str, min: i64, dflt: usize| match o {
            Some(v) if !v.is_none() => int_arg(v, name, min),
            _ => Ok(dflt),
        };
        let opts = StreamOptions {
            batch_size: opt(batch_size, "batch_size", 1, d.batch_size)?,
            drop_last,
            shuffle: shuffle.map(shuffle_arg).transpose()?.unwrap_or_default(),
            seed: seed_arg(seed)?,
            batch_on: match batch_on {
                Some(b) if !b.is_none() => Some(level_arg(b, "batch_on")?),
                _ => None,
            },
            world_size: opt(world_size, "world_size", 1, d.world_size)?,
            rank: opt(rank, "rank", 0, d.rank)?,
            workers: opt(workers, "workers", 1, d.workers)?,
            prefetch: opt(prefetch, "prefetch", 1, d.prefetch)?,
            in_memory,
        };
        let (src, origin) = source_from_py(source)?;
        let o = opts.clone();
        Ok(PyStream {
            inner: run(py, move || Stream::new(src, o))?,
            origin,
            opts,
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __iter__(&self) -> PyStreamIter {
        PyStreamIter {
            inner: self.inner.iter(),
        }
    }

    /// `st[i]` → batch; `st[a:b:c]` and `st[[i, j, …]]` → a `Stream` of those batches.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let n = self.inner.len() as isize;
        if let Ok(s) = key.cast::<PySlice>() {
            let ind = s.indices(n)?;
            let pos: Vec<usize> = (0..ind.slicelength)
                .map(|k| (ind.start + k as isize * ind.step) as usize)
                .collect();
            return self.select(py, &pos);
        }
        if key.is_instance_of::<PyInt>() || key.hasattr("__index__")? && !key.hasattr("__len__")? {
            let i = self.position(key)?;
            let st = &self.inner;
            let b = run(py, || st.get(i))?;
            return data_to_py(py, b);
        }
        if key.is_instance_of::<PyString>() || !key.hasattr("__len__")? {
            return Err(err(
                Code::Argument,
                "a stream is indexed by batch position",
                format!("got {}", key.get_type().name()?),
                "use st[i], st[a:b] or st[[i, j, ...]]",
            ));
        }
        let pos = key
            .try_iter()?
            .map(|k| self.position(&k?))
            .collect::<PyResult<Vec<_>>>()?;
        self.select(py, &pos)
    }

    /// Set the epoch: shuffled orders depend on `(seed, epoch)`.
    fn set_epoch(&mut self, epoch: &Bound<'_, PyAny>) -> PyResult<()> {
        let e = int_arg(epoch, "epoch", 0)?;
        self.inner.set_epoch(e as u64);
        Ok(())
    }

    /// Pickle support: `(grumpy.stream._restore, (source, options, epoch, selection))`. The
    /// source is the store's path (also with `in_memory=True`: the child reloads it) or the
    /// in-memory array/dataframe; the seed is the resolved one, so the child's order matches.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let src = match &self.origin {
            Origin::Store(p) => PyString::new(py, p).into_any(),
            Origin::Memory => {
                let s = Arc::clone(self.inner.source());
                data_to_py(py, run(py, move || s.read_rows(0, s.len()))?)?.into_bound(py)
            }
        };
        let o = &self.opts;
        let kw = PyDict::new(py);
        kw.set_item("batch_size", o.batch_size)?;
        kw.set_item("drop_last", o.drop_last)?;
        match &o.shuffle {
            Shuffle::Off => kw.set_item("shuffle", false)?,
            Shuffle::Batches => kw.set_item("shuffle", true)?,
            Shuffle::Level(l) => kw.set_item("shuffle", level_to_py(py, l)?)?,
        }
        kw.set_item("seed", self.inner.spec().seed)?;
        if let Some(l) = &o.batch_on {
            kw.set_item("batch_on", level_to_py(py, l)?)?;
        }
        kw.set_item("world_size", o.world_size)?;
        kw.set_item("rank", o.rank)?;
        kw.set_item("workers", o.workers)?;
        kw.set_item("prefetch", o.prefetch)?;
        kw.set_item("in_memory", o.in_memory)?;
        let selection = match self.inner.selection() {
            Some(s) => PyList::new(py, s)?.into_any(),
            None => py.None().into_bound(py),
        };
        let restore = py.import("grumpy.stream")?.getattr("_restore")?;
        let args = (src, kw, self.inner.spec().epoch, selection).into_pyobject(py)?;
        Ok((restore, args))
    }

    /// Row range `(start, stop)` of each batch, in order (before any within-batch shuffle).
    fn row_ranges(&self) -> Vec<(usize, usize)> {
        self.inner
            .row_ranges()
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect()
    }

    #[getter]
    fn batch_size(&self) -> usize {
        self.inner.spec().batch_size
    }
    #[getter]
    fn drop_last(&self) -> bool {
        self.inner.spec().drop_last
    }
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.spec().epoch
    }
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.spec().seed
    }
    #[getter]
    fn shuffle(&self) -> bool {
        self.inner.spec().shuffle
    }
    #[getter]
    fn world_size(&self) -> usize {
        self.inner.spec().world_size
    }
    #[getter]
    fn rank(&self) -> usize {
        self.inner.spec().rank
    }
    #[getter]
    fn workers(&self) -> usize {
        self.inner.workers_prefetch().0
    }
    #[getter]
    fn prefetch(&self) -> usize {
        self.inner.workers_prefetch().1
    }
    /// Number of outer rows in the source.
    #[getter]
    fn num_rows(&self) -> usize {
        self.inner.source().len()
    }

    /// Apply callables per batch: `apply(fns, cpu=1, compile="auto", scheduler="auto",
    /// prefetch=None, progress=None)` → `grumpy.stream.StreamApply` (validates every argument).
    #[pyo3(signature = (fns, *args, **kwargs))]
    fn apply<'py>(
        slf: &Bound<'py, Self>,
        fns: &Bound<'py, PyAny>,
        args: &Bound<'py, pyo3::types::PyTuple>,
        kwargs: Option<&Bound<'py, pyo3::types::PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let cls = py.import("grumpy.stream")?.getattr("StreamApply")?;
        let mut all = vec![slf.clone().into_any(), fns.clone()];
        all.extend(args.iter());
        cls.call(pyo3::types::PyTuple::new(py, all)?, kwargs)
    }

    /// Run a compiled plan over every batch with the Rust scheduler: `cpu` threads each read
    /// a batch and run the plan on it (no hand-off between a reader and a worker), at most
    /// `window` batches in flight and, with `max_bytes`, results of at most about that many
    /// bytes waiting; results in batch order, the GIL released throughout, a batch the plan
    /// does not apply to passed to `fallback` (used by `StreamApply`).
    #[pyo3(signature = (plan, cpu, window, fallback, max_bytes=None))]
    fn _run_plan(
        &self,
        plan: PyRef<'_, crate::plan::PyPlan>,
        cpu: usize,
        window: usize,
        fallback: Py<PyAny>,
        max_bytes: Option<usize>,
    ) -> PyResult<PyPlanIter> {
        let plan = Arc::new(plan.inner.clone());
        Ok(PyPlanIter {
            inner: PlanRun::new(self.inner.clone(), plan, cpu, window, max_bytes),
            fallback,
        })
    }

    /// A torch `IterableDataset` over this stream (`grumpy.torch.StreamDataset`).
    fn to_torch<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("grumpy.torch")?
            .getattr("StreamDataset")?
            .call1((slf,))
    }

    fn __repr__(&self) -> String {
        let s = self.inner.spec();
        format!(
            "<grumpy.Stream {} batches of {} (rows {}), epoch {}, rank {}/{}>",
            self.inner.len(),
            s.batch_size,
            self.inner.source().len(),
            s.epoch,
            s.rank,
            s.world_size
        )
    }
}

impl PyStream {
    fn position(&self, key: &Bound<'_, PyAny>) -> PyResult<usize> {
        let n = self.inner.len() as i64;
        let i: i64 = key.extract().map_err(|_| {
            err(
                Code::Argument,
                "batch positions must be ints",
                format!(
                    "got {}",
                    key.repr().map(|r| r.to_string()).unwrap_or_default()
                ),
                "use st[i], st[a:b] or st[[i, j, ...]] with ints",
            )
        })?;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(err(
                Code::OutOfBounds,
                format!("batch {i} is out of range"),
                format!("the stream has {n} batches"),
                format!("pass an index in -{n}..{n}"),
            ));
        }
        Ok(j as usize)
    }

    fn select(&self, py: Python<'_>, pos: &[usize]) -> PyResult<Py<PyAny>> {
        let s = self.inner.select(pos).py()?;
        let st = PyStream {
            inner: s,
            origin: self.origin.clone(),
            opts: self.opts.clone(),
        };
        Ok(Py::new(py, st)?.into_any())
    }
}

/// A plan result as Python: a frame value is a `DataFrame` over the (updated) frame table
/// entry 0, the batch the plan ran on.
fn outcome_to_py(py: Python<'_>, v: Value, frames: Vec<grumpy_core::Frame>) -> PyResult<Py<PyAny>> {
    let batch = match frames.first() {
        Some(f) => Py::new(py, PyDataFrame::from_frame(f.clone()))?
            .into_bound(py)
            .into_any(),
        None => py.None().into_bound(py),
    };
    crate::plan::from_value(py, v, frames, &batch)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStream>()?;
    m.add_class::<PyStreamIter>()?;
    m.add_class::<PyPlanIter>()?;
    Ok(())
}
