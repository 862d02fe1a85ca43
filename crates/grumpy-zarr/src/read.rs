//! Reading: [`StoreReader`] opens a store once (metadata cached) and reads row ranges, touching
//! only the chunks a range needs and decoding them in parallel.
//!
//! A row range `[a, b)` reads `offsets[a..=b]` at each list level, then the contiguous child
//! range `[offsets[a], offsets[b])`; every offset is checked (monotonic, within the data, `0`
//! at row 0 and the child's length at the last row). A dataframe store reads the shared
//! `level{k}-offsets` once per range and builds every column on them.
//!
//! ```
//! use grumpy_core::Array;
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-read-{}", std::process::id()));
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![], vec![3.0]].into(), None).unwrap();
//! grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
//! let r = grumpy_zarr::StoreReader::open(&dir).unwrap();
//! assert_eq!(r.len(), 3);
//! assert_eq!(r.read_rows(1, 3).unwrap().to_item(), a.slice(1, 2).to_item());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::chunk_cache::{ChunkCache, ScanState};
use crate::chunkpool;
use crate::direct::Direct;
use crate::error::{corrupt, store_error, Result};
use crate::form::{Form, Role};
use crate::group::{level_offsets, wrong_kind, Data, Part};
use crate::meta::Meta;
use crate::plain::PlainElem;
use crate::zio::{self, RArray, RStorage};
use bytemuck::Zeroable;
use grumpy_core::buffer::{
    is_non_decreasing, normalize, regular_offsets, Bitmap, Buf, Native, StrValues, Values,
};
use grumpy_core::frame::Column;
use grumpy_core::layout::{Layout, Leaf, List, Union};
use grumpy_core::{with_dtype, Array, Code, DType, Error, Frame};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zarrs::array::ElementOwned;

/// The store format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// Default decoded-chunk cache budget of a [`StoreReader`] (bytes).
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// Reads estimated below this many bytes run on the calling thread: handing a few hundred
/// kilobytes to the Rayon pool costs more (wake-ups, context switches) than decoding them, and
/// a stream already reads several batches at once on its own threads.
const PAR_MIN_BYTES: usize = 4 << 20;

/// A read spanning up to this many chunks is a zero-copy view when they were read ahead
/// together into one vector (a batch crossing a chunk boundary in a scan in order).
const JOIN_CHUNKS: usize = 4;

/// Run `f` and `g`, in parallel when `par`.
fn join<A: Send, B: Send>(
    par: bool,
    f: impl FnOnce() -> A + Send,
    g: impl FnOnce() -> B + Send,
) -> (A, B) {
    if par {
        rayon::join(f, g)
    } else {
        (f(), g())
    }
}

/// One opened buffer.
pub(crate) struct BufHandle {
    pub(crate) name: String,
    pub(crate) arr: RArray,
    /// Logical length (from the root attributes; the Zarr shape may be larger after an
    /// interrupted append).
    pub(crate) len: usize,
    pub(crate) cl: usize,
    pub(crate) dtype: DType,
    slot: usize,
    /// Which chunk the buffer last had to load (scans in order read ahead).
    scan: ScanState,
    /// Direct chunk-file reads (a local buffer with grumpy's plain chain), else `None`.
    pub(crate) direct: Option<Arc<Direct>>,
}

/// Open the store's root group and return its storage and attributes, with clear errors for a
/// missing path, a non-Zarr directory, a Zarr v2 store, a non-grumpy group and an unknown
/// format version. URLs (`scheme://`) go through [`crate::remote`].
pub(crate) fn open_group(path: &Path) -> Result<(RStorage, serde_json::Map<String, Value>)> {
    let text = path.to_string_lossy();
    let store: RStorage = if crate::path::is_url(&text) {
        crate::remote::open(&text)?
    } else {
        check_local(path)?;
        Arc::new(crate::guard::LocalStore::new(path)?)
    };
    let group = zarrs::group::Group::open(store.clone(), "/").map_err(|e| {
        store_error(
            format!("{} is not a readable Zarr v3 group", path.display()),
            e.to_string(),
            "pass the store written by gr.save",
        )
    })?;
    let attrs = group.attributes().clone();
    let g = attrs.get("grumpy").ok_or_else(|| {
        store_error(
            format!("{} is a Zarr group but not a grumpy store", path.display()),
            "its attributes have no \"grumpy\" entry",
            "read it with zarr-python, or write it with gr.save",
        )
    })?;
    let fmt = g["format"].as_u64();
    if fmt != Some(FORMAT_VERSION) {
        return Err(store_error(
            format!("unknown grumpy store format {}", g["format"]),
            format!(
                "the store has format {}, this grumpy ({}) reads format {FORMAT_VERSION}",
                g["format"],
                env!("CARGO_PKG_VERSION")
            ),
            "upgrade grumpy to the version that wrote the store (recorded as grumpy.version)",
        ));
    }
    Ok((store, attrs))
}

fn check_local(path: &Path) -> Result<()> {
    if !path.exists() {
        return Err(store_error(
            format!("no store at {}", path.display()),
            "the path does not exist",
            "check the path, or create the store with gr.save(obj, path)",
        ));
    }
    if !path.join("zarr.json").is_file() {
        let v2 = [".zgroup", ".zarray", ".zattrs"]
            .iter()
            .any(|f| path.join(f).is_file());
        return Err(if v2 {
            store_error(
                format!("{} is a Zarr v2 store", path.display()),
                "Zarr v2 is not supported: grumpy stores are Zarr v3 (zarr.json)",
                "convert it with zarr-python 3, or save the data again with gr.save",
            )
        } else {
            store_error(
                format!("{} is not a Zarr v3 store", path.display()),
                "there is no zarr.json in the directory",
                "pass the directory written by gr.save",
            )
        });
    }
    Ok(())
}

/// A reusable, thread-safe reader of one store (see the module docs).
pub struct StoreReader {
    path: PathBuf,
    meta: Meta,
    attrs: Value,
    bufs: HashMap<String, BufHandle>,
    /// For every offsets buffer: the length of what it points into.
    extents: HashMap<String, usize>,
    /// The Zarr path of every buffer, by (index in `meta.parts`, node id, role): reads ask
    /// for them on every batch, and formatting them afresh took 5% of a cached epoch.
    paths: HashMap<(usize, usize, u8), String>,
    cache: Option<Arc<ChunkCache>>,
    /// Bytes of every buffer together (to estimate the size of a row range).
    total_bytes: usize,
    /// Bytes read so far, when someone watches (a progress bar).
    progress: Option<Arc<AtomicU64>>,
}

impl StoreReader {
    /// Open a store with the default chunk cache.
    pub fn open(path: impl AsRef<Path>) -> Result<StoreReader> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Open with a decoded-chunk cache of `cache_bytes` (0 disables the cache).
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<StoreReader> {
        let path = path.as_ref().to_path_buf();
        let (store, attrs) = open_group(&path)?;
        let local = !crate::path::is_url(&path.to_string_lossy());
        let meta = Meta::parse(&attrs)?;
        let specs = meta.specs();
        let bufs = specs
            .par_iter()
            .enumerate()
            .map(|(slot, spec)| {
                let len = meta.lens[&spec.name];
                let arr = zio::open_array(&store, &spec.name, spec.dtype)?;
                if arr.shape()[0] < len as u64 {
                    return Err(store_error(
                        format!("buffer {} is truncated", spec.name),
                        format!("{} elements stored, {len} recorded", arr.shape()[0]),
                        "the store was damaged; save the data again with gr.save",
                    ));
                }
                let cl = zio::chunk_len(&arr)? as usize;
                let item = spec.dtype.itemsize().max(1) as u64;
                // (a sharded buffer's Zarr chunk is a shard of `per` inner chunks)
                let per = (zio::write_len(&arr)? / cl.max(1) as u64).max(1);
                crate::guard::check_buffer(&spec.name, len as u64, cl as u64, item, |c| {
                    let key = arr.chunk_key(&[c / per]);
                    store
                        .size_key(&key)
                        .map(|s| s.is_some())
                        .map_err(|e| corrupt(&spec.name, e))
                })?;
                let direct = if local {
                    Direct::open(&path, &spec.name, &arr).map(Arc::new)
                } else {
                    None
                };
                let h = BufHandle {
                    name: spec.name.clone(),
                    arr,
                    len,
                    cl,
                    dtype: spec.dtype,
                    slot,
                    scan: ScanState::default(),
                    direct,
                };
                Ok((spec.name.clone(), h))
            })
            .collect::<Result<HashMap<_, _>>>()?;
        let extents = extents(&meta)?;
        check_regular(&meta, &extents)?;
        let total_bytes = bufs
            .values()
            .map(|h| h.len.saturating_mul(h.dtype.itemsize().max(1)))
            .fold(0usize, usize::saturating_add);
        let cache = (cache_bytes > 0).then(|| Arc::new(ChunkCache::new(cache_bytes)));
        let paths = meta
            .parts
            .iter()
            .enumerate()
            .flat_map(|(k, part)| {
                part.form
                    .buffers()
                    .into_iter()
                    .map(move |b| ((k, b.id, b.role as u8), part.path(b.id, b.role)))
            })
            .collect();
        Ok(StoreReader {
            path,
            meta,
            attrs: Value::Object(attrs),
            bufs,
            extents,
            paths,
            cache,
            total_bytes,
            progress: None,
        })
    }

    /// Count the bytes of every element read from now on into `counter` (chunk by chunk), so
    /// another thread can show progress against [`StoreReader::total_bytes`].
    ///
    /// ```
    /// use std::sync::{atomic::{AtomicU64, Ordering}, Arc};
    /// use grumpy_core::Array;
    /// let dir = std::env::temp_dir().join(format!("grumpy-doc-progress-{}", std::process::id()));
    /// let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
    /// grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
    /// let n = Arc::new(AtomicU64::new(0));
    /// let r = grumpy_zarr::StoreReader::open(&dir).unwrap().with_progress(n.clone());
    /// r.read_all().unwrap();
    /// assert_eq!(n.load(Ordering::Relaxed) as usize, r.total_bytes());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn with_progress(mut self, counter: Arc<AtomicU64>) -> StoreReader {
        self.progress = Some(counter);
        self
    }

    /// Number of buffers whose chunk files are read directly (local buffers with grumpy's plain
    /// codec chain, read with `pread` straight into their destination); the others go through
    /// `zarrs`.
    pub fn direct_buffers(&self) -> usize {
        self.bufs.values().filter(|h| h.direct.is_some()).count()
    }

    /// The same reader with every buffer read through `zarrs` (to check the direct path
    /// against it).
    #[cfg(test)]
    pub(crate) fn without_direct(mut self) -> StoreReader {
        for h in self.bufs.values_mut() {
            h.direct = None;
        }
        self
    }

    /// Bytes of all the store's buffers (decoded): what a full read counts with
    /// [`StoreReader::with_progress`].
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    fn count(&self, bytes: usize) {
        if let Some(c) = &self.progress {
            c.fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }

    /// Number of outer rows.
    pub fn len(&self) -> usize {
        self.meta.length
    }

    /// True when the store has no rows.
    pub fn is_empty(&self) -> bool {
        self.meta.length == 0
    }

    /// True when rows `[a, b)` hold enough data (estimated from the store's average row size)
    /// to be worth reading in parallel, outside [`grumpy_core::pool::serial`].
    fn parallel(&self, a: usize, b: usize) -> bool {
        let rows = self.meta.length.max(1) as u128;
        (self.total_bytes as u128 * (b - a) as u128 / rows) >= PAR_MIN_BYTES as u128
            && !grumpy_core::pool::is_serial()
    }

    /// The parsed metadata (kind, schema, parts, buffer lengths).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// True for a dataframe store.
    pub fn is_frame(&self) -> bool {
        self.meta.is_frame()
    }

    /// The stored layout description (of the array, or of a frame's first column).
    pub fn form(&self) -> &Form {
        &self.meta.parts[0].form
    }

    /// Element dtype (of the array; a frame's is its first column's, or float64 if none).
    pub fn dtype(&self) -> DType {
        self.meta
            .parts
            .first()
            .map_or(DType::Float64, |p| p.form.dtype())
    }

    /// The store path or URL.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root group attributes.
    pub fn attributes(&self) -> &Value {
        &self.attrs
    }

    /// Bytes of decoded chunks held by the cache now (at most the `cache_bytes` given to
    /// [`StoreReader::open_with_cache`], unless a single chunk is larger; 0 without a cache).
    pub fn cache_bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.bytes())
    }

    /// `(path, logical length, chunk length, dtype)` of every buffer, in form order.
    pub fn buffer_info(&self) -> Vec<(String, usize, usize, DType)> {
        let mut v: Vec<&BufHandle> = self.bufs.values().collect();
        v.sort_by_key(|b| b.slot);
        v.iter()
            .map(|b| (b.name.clone(), b.len, b.cl, b.dtype))
            .collect()
    }

    /// `(path, logical length, chunk length)` of every buffer, in form order.
    pub fn buffers(&self) -> Vec<(String, usize, usize)> {
        self.buffer_info()
            .into_iter()
            .map(|(n, l, c, _)| (n, l, c))
            .collect()
    }

    /// `part.path(id, role)`, looked up rather than formatted when `part` is one of this
    /// reader's parts (as every part a read walks is).
    fn buf_path(&self, part: &Part, id: usize, role: Role) -> Cow<'_, str> {
        let at = (part as *const Part as usize).wrapping_sub(self.meta.parts.as_ptr() as usize);
        let k = at / std::mem::size_of::<Part>().max(1);
        let mine = self
            .meta
            .parts
            .get(k)
            .is_some_and(|p| std::ptr::eq(p, part));
        match mine.then(|| self.paths.get(&(k, id, role as u8))).flatten() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(part.path(id, role)),
        }
    }

    fn handle(&self, name: &str) -> Result<&BufHandle> {
        self.bufs.get(name).ok_or_else(|| {
            store_error(
                format!("buffer {name} is missing"),
                "the form names a buffer the store does not have",
                "save the data again with gr.save",
            )
        })
    }

    fn array_part(&self) -> Result<&Part> {
        if self.is_frame() {
            return Err(wrong_kind("array", "dataframe"));
        }
        Ok(&self.meta.parts[0])
    }

    fn check_range(&self, a: usize, b: usize) -> Result<()> {
        if a > b || b > self.meta.length {
            return Err(Error::new(
                Code::OutOfBounds,
                format!("rows [{a}, {b}) are out of range"),
                format!("the store has {} rows", self.meta.length),
                "pass 0 <= start <= stop <= len(store)",
            ));
        }
        Ok(())
    }

    fn check_rows(&self, rows: &[usize]) -> Result<()> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.meta.length) {
            return Err(Error::new(
                Code::OutOfBounds,
                format!("row {bad} is out of range"),
                format!("the store has {} rows", self.meta.length),
                "pass row indices in [0, len(store))",
            ));
        }
        Ok(())
    }

    /// Read every row of an array store.
    pub fn read_all(&self) -> Result<Array> {
        self.read_rows(0, self.meta.length)
    }

    /// Read every row of a dataframe store.
    pub fn read_frame_rows_all(&self) -> Result<Frame> {
        self.read_frame_rows(0, self.meta.length)
    }

    /// Read every row (array or dataframe).
    pub fn read_all_data(&self) -> Result<Data> {
        self.read_data_rows(0, self.meta.length)
    }

    /// Read rows `[a, b)` of an array store (`a <= b <= len`).
    pub fn read_rows(&self, a: usize, b: usize) -> Result<Array> {
        let part = self.array_part()?;
        self.check_range(a, b)?;
        let par = self.parallel(a, b);
        Ok(Array::new(self.read_node(part, &part.form, a, b, par)?))
    }

    /// Read rows `[a, b)` of a dataframe store as a [`Frame`] (every column on one set of
    /// shared offsets per level).
    ///
    /// ```
    /// use grumpy_core::{Array, Frame};
    /// let dir = std::env::temp_dir().join(format!("grumpy-doc-rf-{}", std::process::id()));
    /// let x = Array::from_item(&vec![vec![1i64], vec![2, 3], vec![]].into(), None).unwrap();
    /// let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
    /// grumpy_zarr::save_frame(&df, &dir, &Default::default()).unwrap();
    /// let r = grumpy_zarr::open(&dir).unwrap();
    /// let x = |f: &Frame| f.column("x").unwrap().array.to_item();
    /// assert_eq!(x(&r.read_frame_rows(1, 3).unwrap()), x(&df.slice(1, 2).unwrap()));
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn read_frame_rows(&self, a: usize, b: usize) -> Result<Frame> {
        if !self.is_frame() {
            return Err(wrong_kind("dataframe", "array"));
        }
        self.check_range(a, b)?;
        let deepest = self.meta.parts.iter().map(|p| p.level).max().unwrap_or(0);
        let par = self.parallel(a, b);
        // every row: each level's range is [0, extent) before its offsets are read (read_offsets
        // checks that), so the shared offsets decode alongside the columns
        let known: Option<Vec<(usize, usize)>> = (par && a == 0 && b == self.meta.length)
            .then(|| {
                let mut r = vec![(a, b)];
                for k in 1..=deepest {
                    r.push((0, *self.extents.get(&level_offsets(k))?));
                }
                Some(r)
            })
            .flatten();
        let shared = |ranges: Option<&[(usize, usize)]>| -> Result<_> {
            let mut offs: Vec<Buf<i64>> = Vec::with_capacity(deepest);
            let mut found = vec![(a, b)];
            for k in 1..=deepest {
                let (lo, hi) = ranges.map_or(found[k - 1], |r| r[k - 1]);
                let (o, c0, c1) = self.read_offsets(&level_offsets(k), lo, hi, par)?;
                offs.push(o);
                found.push((c0, c1));
            }
            Ok((offs, found))
        };
        let inner = |p: &Part, ranges: &[(usize, usize)]| {
            let mut inner = &p.form;
            for _ in 0..p.level {
                if let Form::List { child, .. } = inner {
                    inner = child;
                }
            }
            let (lo, hi) = ranges[p.level];
            self.read_node(p, inner, lo, hi, par)
        };
        let inners = |ranges: &[(usize, usize)]| -> Result<Vec<Layout>> {
            if par {
                self.meta
                    .parts
                    .par_iter()
                    .map(|p| inner(p, ranges))
                    .collect()
            } else {
                self.meta.parts.iter().map(|p| inner(p, ranges)).collect()
            }
        };
        let ((offs, ranges), layouts) = match &known {
            Some(r) => {
                let (o, l) = rayon::join(|| shared(Some(r)), || inners(r));
                (o?, l?)
            }
            None => {
                let (offs, ranges) = shared(None)?;
                let layouts = inners(&ranges)?;
                ((offs, ranges), layouts)
            }
        };
        let columns = self
            .meta
            .parts
            .iter()
            .zip(layouts)
            .map(|(p, mut layout)| {
                for k in (0..p.level).rev() {
                    let masked =
                        matches!(node_at(&p.form, k), Some(Form::List { masked: true, .. }));
                    let (lo, hi) = ranges[k];
                    let validity = self.read_mask(p, k, masked, lo, hi, par)?;
                    layout = Layout::List(List::new(offs[k].clone(), validity, layout));
                }
                Ok(Column {
                    name: p.column.clone().unwrap_or_default(),
                    level: p.level,
                    array: Array::new(layout),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Frame::from_columns(self.meta.schema.clone(), columns).map_err(|e| corrupt("columns", e))
    }

    /// Read rows `[a, b)` of either kind of store.
    pub fn read_data_rows(&self, a: usize, b: usize) -> Result<Data> {
        if self.is_frame() {
            self.read_frame_rows(a, b).map(Data::Frame)
        } else {
            self.read_rows(a, b).map(Data::Array)
        }
    }

    /// Gather rows of an array store (any order, repeats allowed); reads the covering span
    /// when it is dense, else row by row.
    pub fn take_rows(&self, rows: &[usize]) -> Result<Array> {
        self.array_part()?;
        self.take_data_rows(rows)?.into_array()
    }

    /// Gather rows of a dataframe store.
    pub fn take_frame_rows(&self, rows: &[usize]) -> Result<Frame> {
        if !self.is_frame() {
            return Err(wrong_kind("dataframe", "array"));
        }
        self.take_data_rows(rows)?.into_frame()
    }

    /// Gather rows of either kind of store.
    pub fn take_data_rows(&self, rows: &[usize]) -> Result<Data> {
        self.check_rows(rows)?;
        let (Some(&lo), Some(&hi)) = (rows.iter().min(), rows.iter().max()) else {
            return self.read_data_rows(0, 0);
        };
        let dense = hi + 1 - lo <= 4 * rows.len() + 64;
        if dense {
            let local: Vec<usize> = rows.iter().map(|r| r - lo).collect();
            return Ok(match self.read_data_rows(lo, hi + 1)? {
                Data::Array(span) => Data::Array(Array::new(span.layout.take(&local))),
                Data::Frame(span) => {
                    let idx: Vec<i64> = local.iter().map(|&r| r as i64).collect();
                    Data::Frame(span.take(&idx)?)
                }
            });
        }
        let parts: Vec<Data> = rows
            .par_iter()
            .map(|&r| self.read_data_rows(r, r + 1))
            .collect::<Result<_>>()?;
        if !self.is_frame() {
            let arrays: Vec<Array> = parts
                .into_iter()
                .map(Data::into_array)
                .collect::<Result<_>>()?;
            let refs: Vec<&Array> = arrays.iter().collect();
            return Array::cat(&refs).map(Data::Array);
        }
        let frames: Vec<Frame> = parts
            .into_iter()
            .map(Data::into_frame)
            .collect::<Result<_>>()?;
        let cols = self
            .meta
            .parts
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let arrays: Vec<&Array> = frames.iter().map(|f| &f.columns()[k].array).collect();
                Ok(Column {
                    name: p.column.clone().unwrap_or_default(),
                    level: p.level,
                    array: Array::cat(&arrays)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Frame::from_columns(self.meta.schema.clone(), cols).map(Data::Frame)
    }

    fn read_node(&self, part: &Part, form: &Form, a: usize, b: usize, par: bool) -> Result<Layout> {
        match form {
            Form::Leaf { id, dtype, masked } => {
                let (values, validity) = join(
                    par && *masked,
                    || self.read_leaf_values(part, *id, *dtype, a, b, par),
                    || self.read_mask(part, *id, *masked, a, b, par),
                );
                Ok(Layout::Leaf(Leaf::new(values?, validity?)))
            }
            Form::List { id, masked, child } => {
                let name = self.buf_path(part, *id, Role::Offsets);
                let own = || {
                    join(
                        par && *masked,
                        || self.read_offsets(&name, a, b, par),
                        || self.read_mask(part, *id, *masked, a, b, par),
                    )
                };
                if let Some(extent) = self.whole_child(&name, a, b).filter(|_| par) {
                    // every row: the child's range is [0, extent) before the offsets are read
                    // (read_offsets checks that they start at 0 and end at the extent), so
                    // the offsets decode alongside the child instead of before it
                    let ((offs, validity), child) =
                        rayon::join(own, || self.read_node(part, child, 0, extent, par));
                    let (offs, _, _) = offs?;
                    return Ok(Layout::List(List::new(offs, validity?, child?)));
                }
                if a == 0 && a < b && !par {
                    self.warm_first_chunks(part, child);
                }
                let (offs, validity) = own();
                let (offs, lo, hi) = offs?;
                let child = self.read_node(part, child, lo, hi, par)?;
                Ok(Layout::List(List::new(offs, validity?, child)))
            }
            Form::Union { id, scalar, list } => {
                let tags_name = self.buf_path(part, *id, Role::Tags);
                let tags: Vec<i8> = self.read_range(self.handle(&tags_name)?, a, b, par)?;
                let index: Vec<i64> = self.read_range(
                    self.handle(&self.buf_path(part, *id, Role::Index))?,
                    a,
                    b,
                    par,
                )?;
                let mut lo = [i64::MAX; 2];
                let mut hi = [-1i64; 2];
                for (&t, &i) in tags.iter().zip(&index) {
                    if !(t == 0 || t == 1) || i < 0 {
                        return Err(corrupt(
                            &tags_name,
                            format!("tag {t} / index {i} is not a valid union entry"),
                        ));
                    }
                    lo[t as usize] = lo[t as usize].min(i);
                    hi[t as usize] = hi[t as usize].max(i);
                }
                let range = |k: usize| {
                    if hi[k] < 0 {
                        (0, 0)
                    } else {
                        (lo[k] as usize, hi[k] as usize + 1)
                    }
                };
                let ((s0, s1), (l0, l1)) = (range(0), range(1));
                let (sc, li) = join(
                    par,
                    || self.read_node(part, scalar, s0, s1, par),
                    || self.read_node(part, list, l0, l1, par),
                );
                let base = [s0 as i64, l0 as i64];
                let index: Vec<i64> = tags
                    .iter()
                    .zip(&index)
                    .map(|(&t, &i)| i - base[t as usize])
                    .collect();
                Ok(Layout::Union(Union {
                    tags: Buf::from_vec(tags),
                    index: Buf::from_vec(index),
                    scalar: Arc::new(sc?),
                    list: Arc::new(li?),
                }))
            }
        }
    }

    /// A read from row 0 needs chunk 0 of every buffer below a list (their ranges start at 0
    /// too): start loading the ones the cache lacks now, in the background, so that they load
    /// alongside the offsets that locate them instead of one after another (a fresh reader's
    /// first batch). Direct buffers only; strings, masks and unions are left to the read.
    fn warm_first_chunks(&self, part: &Part, form: &Form) {
        match form {
            Form::Leaf { id, dtype, .. } => {
                if let Ok(h) = self.handle(&self.buf_path(part, *id, Role::Data)) {
                    with_dtype!(*dtype, T => self.warm_chunk0::<T>(h), ());
                }
            }
            Form::List { id, child, .. } => {
                let name = self.buf_path(part, *id, Role::Offsets);
                if !self.meta.regular.contains_key(&*name) {
                    if let Ok(h) = self.handle(&name) {
                        self.warm_chunk0::<i64>(h);
                    }
                }
                self.warm_first_chunks(part, child);
            }
            Form::Union { .. } => {}
        }
    }

    /// Chunk 0 of a direct buffer, loaded in the background (see
    /// [`StoreReader::warm_first_chunks`]).
    fn warm_chunk0<T: PlainElem + Zeroable + Default + Clone + Send + Sync + 'static>(
        &self,
        h: &BufHandle,
    ) {
        let (Some(cache), Some(d)) = (&self.cache, &h.direct) else {
            return;
        };
        if h.len == 0 {
            return;
        }
        let (d, cl) = (Arc::clone(d), h.cl);
        cache.load_in_background::<T, _>(h.slot, &h.scan, 0, move |c| {
            let mut v = pooled::<T>(cl)?;
            Ok(d.read(c, &mut v)?
                .then(|| Buf::from_vec_recycled(v, chunkpool::keep::<T>)))
        });
    }

    /// The child's extent when rows `[a, b)` are every row of the offsets buffer `name` (a
    /// full read: the child range is then `[0, extent)`, known without reading the offsets).
    fn whole_child(&self, name: &str, a: usize, b: usize) -> Option<usize> {
        let rows = match self.meta.regular.get(name) {
            Some(_) => None,
            None => self.bufs.get(name).map(|h| h.len.saturating_sub(1)),
        }?;
        (a == 0 && b == rows).then(|| self.extents.get(name).copied())?
    }

    /// Offsets `[a, b]` rebased to 0, plus the child range they cover (validated: monotonic,
    /// `0` at row 0, the child's length at the last row, never past it).
    fn read_offsets(
        &self,
        name: &str,
        a: usize,
        b: usize,
        par: bool,
    ) -> Result<(Buf<i64>, usize, usize)> {
        if let Some(&step) = self.meta.regular.get(name) {
            // rows of one length (checked against the lengths at open): nothing to read
            let s = step as usize;
            return Ok((regular_offsets(b - a, step), a * s, b * s));
        }
        let h = self.handle(name)?;
        let src: Buf<i64> = self.read_buf(h, a, b + 1, par)?;
        let o = src.as_slice();
        let (lo, hi) = (o[0], o[o.len() - 1]);
        let extent = self.extents.get(name).copied().unwrap_or(usize::MAX) as i64;
        // Offsets of fixed-size rows (xyz triples...) are regular: for a view of a cached chunk
        // the step is known after the chunk's first batch, so neither the check nor the rebase
        // below walks them again.
        let step = src.regular_step();
        let decreasing = match step {
            Some(s) => s < 0,
            None => !is_non_decreasing(o),
        };
        let bad = if lo < 0 || decreasing {
            Some("negative or not monotonic".to_owned())
        } else if a == 0 && lo != 0 {
            Some(format!("the first offset is {lo}, not 0"))
        } else if hi > extent {
            Some(format!(
                "offset {hi} points past the {extent} elements stored"
            ))
        } else if b + 1 == h.len && hi != extent {
            Some(format!(
                "the last offset is {hi} but {extent} elements are stored"
            ))
        } else {
            None
        };
        if let Some(why) = bad {
            return Err(corrupt(name, format!("offsets of rows [{a}, {b}): {why}")));
        }
        let rebased = match step {
            _ if lo == 0 => src,
            Some(s) => regular_offsets(o.len() - 1, s),
            None => Buf::from_vec(o.iter().map(|x| x - lo).collect()),
        };
        Ok((rebased, lo as usize, hi as usize))
    }

    fn read_leaf_values(
        &self,
        part: &Part,
        id: usize,
        dtype: DType,
        a: usize,
        b: usize,
        par: bool,
    ) -> Result<Values> {
        if dtype == DType::String {
            let (offsets, lo, hi) =
                self.read_offsets(&self.buf_path(part, id, Role::Offsets), a, b, par)?;
            let name = self.buf_path(part, id, Role::Data);
            let bytes: Buf<u8> = self.read_buf(self.handle(&name)?, lo, hi, par)?;
            check_utf8(&name, lo, offsets.as_slice(), bytes.as_slice())?;
            return Ok(Values::Str(StrValues { offsets, bytes }));
        }
        let h = self.handle(&self.buf_path(part, id, Role::Data))?;
        Ok(with_dtype!(dtype, T => T::wrap(self.read_buf::<T>(h, a, b, par)?), unreachable!()))
    }

    fn read_mask(
        &self,
        part: &Part,
        id: usize,
        masked: bool,
        a: usize,
        b: usize,
        par: bool,
    ) -> Result<Option<Bitmap>> {
        if !masked || a == b {
            return Ok(None);
        }
        let h = self.handle(&self.buf_path(part, id, Role::Mask))?;
        let bytes: Buf<u8> = self.read_buf(h, a / 8, b.div_ceil(8), par)?;
        let n = bytes.len() * 8;
        Ok(normalize(Some(
            Bitmap::from_bytes(bytes, n).slice(a % 8, b - a),
        )))
    }

    /// Elements `[a, b)` of a buffer, decoded straight into the returned vector (chunks in
    /// parallel when the range is large or `par` says the whole read is, through the cache
    /// when there is one).
    pub(crate) fn read_range<
        T: ElementOwned + PlainElem + Zeroable + Copy + Default + Send + Sync + 'static,
    >(
        &self,
        h: &BufHandle,
        a: usize,
        b: usize,
        par: bool,
    ) -> Result<Vec<T>> {
        if a > b || b > h.len {
            return Err(store_error(
                format!("buffer {} is too short for the rows asked", h.name),
                format!(
                    "elements [{a}, {b}) requested, {} stored (offsets or index point past the data)",
                    h.len
                ),
                "the store is corrupt; save the data again with gr.save",
            ));
        }
        let par = (par || (b - a) * std::mem::size_of::<T>() >= PAR_MIN_BYTES)
            && !grumpy_core::pool::is_serial();
        let cl = h.cl;
        if self.cache.is_some() && !par && cl > 0 {
            // cached chunks one after another, appended: the output is written once, not
            // zero-filled first (a batch across two chunks read ahead apart)
            let mut out = crate::guard::with_capacity::<T>(b - a)?;
            let mut c = a / cl;
            while a + out.len() < b {
                let ch = self.chunk::<T>(h, c as u64)?;
                let (lo, hi) = (a + out.len() - c * cl, b.min((c + 1) * cl) - c * cl);
                out.extend_from_slice(&ch.as_slice()[lo..hi]);
                self.count((hi - lo) * std::mem::size_of::<T>());
                c += 1;
            }
            return Ok(out);
        }
        // (not calloc: a large output then comes from the allocator's pool of freed blocks,
        // already mapped, instead of fresh pages the kernel must fault in and clear)
        let mut out = crate::guard::alloc::<T>(b - a)?;
        if self.cache.is_none() {
            let count = |n: usize| self.count(n * std::mem::size_of::<T>());
            zio::read_into_with(&h.arr, h.direct.as_deref(), cl, a, &mut out, par, &count)?;
            return Ok(out);
        }
        let fill = |(c, piece): (usize, &mut [T])| -> Result<()> {
            let ch = self.chunk::<T>(h, c as u64)?;
            let lo = (c * cl).max(a) - c * cl;
            piece.copy_from_slice(&ch.as_slice()[lo..lo + piece.len()]);
            self.count(std::mem::size_of_val(piece));
            Ok(())
        };
        let pieces = zio::pieces(cl, a, &mut out);
        if pieces.len() > 1 && par {
            pieces.into_par_iter().try_for_each(fill)?;
        } else {
            pieces.into_iter().try_for_each(fill)?;
        }
        Ok(out)
    }

    /// Elements `[a, b)` as a buffer: a zero-copy slice of the cached chunks when the range
    /// lies in one chunk or (a small read) in neighbouring chunks read ahead into one vector
    /// (at most [`JOIN_CHUNKS`]), else a fresh copy ([`StoreReader::read_range`], which reads
    /// a large range's chunks in parallel).
    fn read_buf<T: ElementOwned + PlainElem + Zeroable + Copy + Default + Send + Sync + 'static>(
        &self,
        h: &BufHandle,
        a: usize,
        b: usize,
        par: bool,
    ) -> Result<Buf<T>> {
        // chunks spanned after the first
        let span = (a < b).then(|| (b - 1) / h.cl - a / h.cl);
        let joinable = matches!(span, Some(s) if s == 0 || !par && s < JOIN_CHUNKS);
        if self.cache.is_some() && joinable && b <= h.len {
            let (c0, c1) = (a / h.cl, (b - 1) / h.cl);
            let mut run = Some(self.chunk::<T>(h, c0 as u64)?);
            for c in c0 + 1..=c1 {
                let next = self.chunk::<T>(h, c as u64)?;
                run = run.and_then(|r| r.joined(&next));
            }
            if let Some(run) = run {
                self.count((b - a) * std::mem::size_of::<T>());
                return Ok(run.into_slice(a - c0 * h.cl, b - a));
            }
        }
        self.read_range(h, a, b, par).map(Buf::from_vec)
    }

    /// Chunk `c` of a buffer, through the cache when there is one (see [`ChunkCache::get`]:
    /// one load per chunk, read-ahead for scans in order).
    fn chunk<T: ElementOwned + PlainElem + Zeroable + Default + Clone + Send + Sync + 'static>(
        &self,
        h: &BufHandle,
        c: u64,
    ) -> Result<Buf<T>> {
        let load = |c| self.load_chunk::<T>(h, c);
        let Some(cache) = &self.cache else {
            return load(c);
        };
        let chunks = h.len.div_ceil(h.cl.max(1)) as u64;
        let run = |c, m| match &h.direct {
            Some(d) => read_run::<T>(d, h.cl, c, m),
            None => Ok(None),
        };
        let got = cache.get(h.slot, &h.scan, chunks, c, load, run)?;
        if let Some(d) = &h.direct {
            let (d, cl) = (Arc::clone(d), h.cl);
            cache.read_ahead_in_background::<T, _>(h.slot, &h.scan, chunks, c, move |c, m| {
                read_run::<T>(&d, cl, c, m)
            });
        }
        Ok(got)
    }

    /// Block until the chunks this reader reads ahead in the background are loaded (for
    /// tests and benchmarks that count what a scan has read).
    ///
    /// ```
    /// use grumpy_core::layout::Item;
    /// use grumpy_core::Array;
    /// let dir = std::env::temp_dir().join(format!("grumpy-doc-ahead-{}", std::process::id()));
    /// let a = Array::from_item(&Item::list((0..160).map(|i| (i as f64).into()).collect()), None)
    ///     .unwrap();
    /// let opts = grumpy_zarr::SaveOptions { chunk_size: Some(4), ..Default::default() };
    /// grumpy_zarr::save(&a, &dir, &opts).unwrap(); // 40 chunks of 4 values
    /// let r = grumpy_zarr::StoreReader::open(&dir).unwrap();
    /// r.read_rows(0, 4).unwrap();
    /// r.read_rows(4, 8).unwrap(); // a scan: chunks 1..=8 now, 9..=16 in the background
    /// r.wait_for_read_ahead();
    /// assert_eq!(r.cache_bytes(), 17 * 4 * 8);
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn wait_for_read_ahead(&self) {
        if let Some(cache) = &self.cache {
            cache.wait_idle();
        }
    }
    /// Read and decode chunk `c` (no cache).
    fn load_chunk<
        T: ElementOwned + PlainElem + Zeroable + Default + Clone + Send + Sync + 'static,
    >(
        &self,
        h: &BufHandle,
        c: u64,
    ) -> Result<Buf<T>> {
        if let Some(d) = &h.direct {
            // read straight into a recycled vector (no fresh pages to fault in)
            if let Some(mut v) = chunkpool::take::<T>(h.cl) {
                if d.read(c, &mut v)? {
                    return Ok(Buf::from_vec_recycled(v, chunkpool::keep::<T>));
                }
            }
        }
        zio::read_chunk_with::<T, _>(&h.arr, h.direct.as_deref(), c, h.cl).map(Buf::from_vec)
    }
}

/// A vector of `n` elements to read chunks into: a kept one from the [`chunkpool`], else
/// malloc (a calloc of this size is fresh pages to fault in). Read into, it goes back to the
/// pool once nothing views it ([`Buf::from_vec_recycled`]), even after its reader is gone.
fn pooled<T: Default + Clone + 'static>(n: usize) -> Result<Vec<T>> {
    match chunkpool::take::<T>(n) {
        Some(v) => Ok(v),
        None => crate::guard::alloc::<T>(n),
    }
}

/// Chunks `c..c + m` of a buffer read in parallel into one vector, as its `m` chunk slices
/// (`None` when `T` is not a plain element type).
fn read_run<T: PlainElem + Zeroable + Default + Clone + Send + Sync + 'static>(
    d: &Direct,
    cl: usize,
    c: u64,
    m: usize,
) -> Result<Option<Vec<Buf<T>>>> {
    let mut v = pooled::<T>(m * cl)?;
    let read: Vec<bool> = v
        .par_chunks_mut(cl)
        .enumerate()
        .map(|(i, piece)| d.read(c + i as u64, piece))
        .collect::<Result<_>>()?;
    if !read.iter().all(|&r| r) {
        return Ok(None);
    }
    let run = Buf::from_vec_recycled(v, chunkpool::keep::<T>);
    Ok(Some((0..m).map(|i| run.slice(i * cl, cl)).collect()))
}

/// Check that the string bytes `bytes` (elements `[lo, lo + bytes.len())` of the buffer
/// `name`) are valid UTF-8 and that every string boundary in `offsets` (rebased to `lo`) falls
/// between characters, so each string is valid on its own; one pass over the bytes.
fn check_utf8(name: &str, lo: usize, offsets: &[i64], bytes: &[u8]) -> Result<()> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = lo + e.valid_up_to();
        store_error(
            format!("buffer {name} holds invalid UTF-8"),
            format!("the bytes at element {at} of {name} are not valid UTF-8 (strings must be)"),
            "the store was damaged or written by another tool with non-UTF-8 bytes; save the \
             data again with gr.save (from Python str values)",
        )
    })?;
    if let Some(&o) = offsets
        .iter()
        .find(|&&o| !text.is_char_boundary(o as usize))
    {
        return Err(store_error(
            format!("buffer {name} holds invalid UTF-8"),
            format!(
                "a string boundary (offset {}) splits a multi-byte character, so the strings \
                 on either side are not valid UTF-8",
                lo as i64 + o
            ),
            "the store was damaged or written by another tool; save the data again with gr.save",
        ));
    }
    Ok(())
}

/// Node `k` of the outer list chain of a form (node `k` is list axis `k`).
fn node_at(form: &Form, k: usize) -> Option<&Form> {
    let mut f = form;
    for _ in 0..k {
        match f {
            Form::List { child, .. } => f = child,
            _ => return None,
        }
    }
    Some(f)
}

/// For every offsets buffer, the length of what it points into; also checks that every
/// part's outer buffer describes exactly `length` rows and that columns agree on the shared
/// levels.
/// Every `grumpy.regular` step must agree with the lengths: `rows * step` elements in what the
/// offsets point into (so offsets built from the step never point past the data).
fn check_regular(meta: &Meta, extents: &HashMap<String, usize>) -> Result<()> {
    for (name, &step) in &meta.regular {
        let rows = meta.lens.get(name).map_or(0, |n| n.saturating_sub(1));
        let extent = extents.get(name).copied();
        let want = rows.checked_mul(step as usize);
        if extent.is_none() || want != extent {
            return Err(corrupt(
                name,
                format!(
                    "recorded as {rows} rows of {step} elements, but it points into {extent:?}"
                ),
            ));
        }
    }
    Ok(())
}

fn extents(meta: &Meta) -> Result<HashMap<String, usize>> {
    let mut out: HashMap<String, usize> = HashMap::default();
    let rows = |p: &Part, id: usize| meta.node_rows(p, id);
    for p in &meta.parts {
        let outer = if p.level > 0 {
            meta.lens
                .get(&level_offsets(1))
                .map(|n| n.saturating_sub(1))
        } else {
            let f = &p.form;
            let len = |role| meta.lens.get(&p.path(f.id(), role)).copied();
            match f {
                Form::Union { .. } => len(Role::Tags),
                Form::List { .. } => len(Role::Offsets).map(|n| n.saturating_sub(1)),
                Form::Leaf { dtype, .. } if *dtype == DType::String => {
                    len(Role::Offsets).map(|n| n.saturating_sub(1))
                }
                Form::Leaf { .. } => len(Role::Data),
            }
        };
        if outer != Some(meta.length) {
            return Err(corrupt(
                p.column.as_deref().unwrap_or("the array"),
                format!("{outer:?} rows recorded, the store has {}", meta.length),
            ));
        }
        let mut stack = vec![&p.form];
        while let Some(f) = stack.pop() {
            let (name, n) = match f {
                Form::List { id, child, .. } => {
                    stack.push(child);
                    (p.path(*id, Role::Offsets), rows(p, child.id()))
                }
                Form::Leaf { id, dtype, .. } if *dtype == DType::String => (
                    p.path(*id, Role::Offsets),
                    meta.lens
                        .get(&p.path(*id, Role::Data))
                        .copied()
                        .unwrap_or(0),
                ),
                Form::Union { scalar, list, .. } => {
                    stack.push(scalar);
                    stack.push(list);
                    continue;
                }
                Form::Leaf { .. } => continue,
            };
            if let Some(&old) = out.get(&name) {
                if old != n {
                    return Err(corrupt(
                        &name,
                        format!("columns disagree on the length it points into ({old} vs {n})"),
                    ));
                }
            }
            out.insert(name, n);
        }
    }
    Ok(out)
}
