//! Reading: [`StoreReader`] opens a store once (metadata cached) and reads row ranges, touching
//! only the chunks a range needs and decoding them in parallel.
//!
//! A row range `[a, b)` reads `offsets[a..=b]` at each list level, then the contiguous child
//! range `[offsets[a], offsets[b])`; every offset is checked (monotonic, within the data).
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

use crate::error::{io_error, store_error, Result};
use crate::form::{buffer_name, BufferSpec, Form, Role};
use crate::zio::{self, Storage, ZArray};
use grumpy_core::buffer::{normalize, Bitmap, Buf, StrValues, Values};
use grumpy_core::layout::{Layout, Leaf, List, Union};
use grumpy_core::{with_dtype, Array, DType};
use rayon::prelude::*;
use serde_json::Value;
use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zarrs::array::ElementOwned;

/// The store format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// Default decoded-chunk cache budget of a [`StoreReader`] (bytes).
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// One opened buffer.
pub(crate) struct BufHandle {
    pub(crate) spec: BufferSpec,
    pub(crate) arr: ZArray,
    /// Logical length (from the group attributes; the Zarr shape may be larger after an
    /// interrupted append).
    pub(crate) len: usize,
    pub(crate) cl: usize,
    slot: usize,
}

type Chunk = Arc<dyn Any + Send + Sync>;

struct Lru {
    map: HashMap<(usize, u64), (Chunk, usize, u64)>,
    bytes: usize,
    tick: u64,
}

/// Open the store's root group and return its storage and attributes, with clear errors for a
/// missing path, a non-Zarr directory, a non-grumpy group and an unknown format version.
pub(crate) fn open_group(path: &Path) -> Result<(Storage, serde_json::Map<String, Value>)> {
    if !path.exists() {
        return Err(store_error(
            format!("no store at {}", path.display()),
            "the path does not exist",
            "check the path, or create the store with gr.save(obj, path)",
        ));
    }
    if !path.join("zarr.json").is_file() {
        return Err(store_error(
            format!("{} is not a Zarr v3 store", path.display()),
            "there is no zarr.json in the directory",
            "pass the directory written by gr.save",
        ));
    }
    let store: Storage = Arc::new(
        zarrs::filesystem::FilesystemStore::new(path).map_err(|e| io_error(path.display(), e))?,
    );
    let group = zarrs::group::Group::open(store.clone(), "/").map_err(|e| {
        store_error(
            format!("{} is not a readable Zarr group", path.display()),
            e.to_string(),
            "pass the directory written by gr.save",
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

/// A reusable, thread-safe reader of one store (see the module docs).
pub struct StoreReader {
    path: PathBuf,
    form: Form,
    length: usize,
    attrs: Value,
    bufs: HashMap<String, BufHandle>,
    cache: Option<Mutex<Lru>>,
    cache_cap: usize,
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
        let g = &attrs["grumpy"];
        if g["kind"] != "array" {
            return Err(store_error(
                format!("cannot read a grumpy store of kind {}", g["kind"]),
                "this build reads array stores only",
                "read it with the grumpy version that wrote it",
            ));
        }
        let form = crate::form::from_json(attrs.get("form").unwrap_or(&Value::Null))?;
        let length = attrs
            .get("length")
            .and_then(Value::as_u64)
            .filter(|&n| Some(n) == g["length"].as_u64())
            .ok_or_else(|| {
                store_error(
                    "the store's length is missing or inconsistent",
                    "attributes \"length\" and grumpy.length must be equal integers",
                    "save the data again with gr.save",
                )
            })? as usize;
        let mut bufs = HashMap::new();
        for (slot, spec) in form.buffers().into_iter().enumerate() {
            let len = g["buffers"][&spec.name].as_u64().ok_or_else(|| {
                store_error(
                    format!("buffer {} is not recorded in the attributes", spec.name),
                    "grumpy.buffers lacks its length",
                    "save the data again with gr.save",
                )
            })? as usize;
            let arr = zio::open_array(&store, &spec.name, spec.dtype)?;
            if arr.shape()[0] < len as u64 {
                return Err(store_error(
                    format!("buffer {} is truncated", spec.name),
                    format!("{} elements stored, {len} recorded", arr.shape()[0]),
                    "the store was damaged; save the data again with gr.save",
                ));
            }
            let cl = zio::chunk_len(&arr)? as usize;
            bufs.insert(
                spec.name.clone(),
                BufHandle {
                    spec,
                    arr,
                    len,
                    cl,
                    slot,
                },
            );
        }
        let cache = (cache_bytes > 0).then(|| {
            Mutex::new(Lru {
                map: HashMap::new(),
                bytes: 0,
                tick: 0,
            })
        });
        Ok(StoreReader {
            path,
            form,
            length,
            attrs: Value::Object(attrs),
            bufs,
            cache,
            cache_cap: cache_bytes,
        })
    }

    /// Number of outer rows.
    pub fn len(&self) -> usize {
        self.length
    }

    /// True when the store has no rows.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The stored layout description.
    pub fn form(&self) -> &Form {
        &self.form
    }

    /// Element dtype.
    pub fn dtype(&self) -> DType {
        self.form.dtype()
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The group attributes (`grumpy`, `form`, `length`).
    pub fn attributes(&self) -> &Value {
        &self.attrs
    }

    /// `(name, logical length, chunk length)` of every buffer, in form order.
    pub fn buffers(&self) -> Vec<(String, usize, usize)> {
        let mut v: Vec<&BufHandle> = self.bufs.values().collect();
        v.sort_by_key(|b| b.slot);
        v.iter()
            .map(|b| (b.spec.name.clone(), b.len, b.cl))
            .collect()
    }

    pub(crate) fn handle(&self, id: usize, role: Role) -> Result<&BufHandle> {
        let name = buffer_name(id, role);
        self.bufs.get(&name).ok_or_else(|| {
            store_error(
                format!("buffer {name} is missing"),
                "the form names a buffer the store does not have",
                "save the data again with gr.save",
            )
        })
    }

    /// Read every row.
    pub fn read_all(&self) -> Result<Array> {
        self.read_rows(0, self.length)
    }

    /// Read rows `[a, b)` (`a <= b <= len`).
    pub fn read_rows(&self, a: usize, b: usize) -> Result<Array> {
        if a > b || b > self.length {
            return Err(grumpy_core::Error::new(
                grumpy_core::Code::OutOfBounds,
                format!("rows [{a}, {b}) are out of range"),
                format!("the store has {} rows", self.length),
                "pass 0 <= start <= stop <= len(store)",
            ));
        }
        Ok(Array::new(self.read_node(&self.form, a, b)?))
    }

    /// Gather rows (any order, repeats allowed); reads the covering span when it is dense,
    /// else row by row.
    pub fn take_rows(&self, rows: &[usize]) -> Result<Array> {
        if let Some(&bad) = rows.iter().find(|&&r| r >= self.length) {
            return Err(grumpy_core::Error::new(
                grumpy_core::Code::OutOfBounds,
                format!("row {bad} is out of range"),
                format!("the store has {} rows", self.length),
                "pass row indices in [0, len(store))",
            ));
        }
        let (Some(&lo), Some(&hi)) = (rows.iter().min(), rows.iter().max()) else {
            return self.read_rows(0, 0);
        };
        if hi + 1 - lo <= 4 * rows.len() + 64 {
            let span = self.read_rows(lo, hi + 1)?;
            let local: Vec<usize> = rows.iter().map(|r| r - lo).collect();
            return Ok(Array::new(span.layout.take(&local)));
        }
        let parts: Vec<Array> = rows
            .par_iter()
            .map(|&r| self.read_rows(r, r + 1))
            .collect::<Result<_>>()?;
        let refs: Vec<&Array> = parts.iter().collect();
        Array::cat(&refs)
    }

    fn read_node(&self, form: &Form, a: usize, b: usize) -> Result<Layout> {
        match form {
            Form::Leaf { id, dtype, masked } => {
                let (values, validity) = rayon::join(
                    || self.read_leaf_values(*id, *dtype, a, b),
                    || self.read_mask(*id, *masked, a, b),
                );
                Ok(Layout::Leaf(Leaf::new(values?, validity?)))
            }
            Form::List { id, masked, child } => {
                let (offs, validity) = rayon::join(
                    || self.read_offsets(*id, a, b),
                    || self.read_mask(*id, *masked, a, b),
                );
                let (offs, lo, hi) = offs?;
                let child = self.read_node(child, lo, hi)?;
                Ok(Layout::List(List::new(offs, validity?, child)))
            }
            Form::Union { id, scalar, list } => {
                let tags: Vec<i8> = self.read_range(self.handle(*id, Role::Tags)?, a, b)?;
                let index: Vec<i64> = self.read_range(self.handle(*id, Role::Index)?, a, b)?;
                let mut lo = [i64::MAX; 2];
                let mut hi = [-1i64; 2];
                for (&t, &i) in tags.iter().zip(&index) {
                    if !(t == 0 || t == 1) || i < 0 {
                        return Err(crate::error::corrupt(
                            buffer_name(*id, Role::Tags),
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
                let (sc, li) = rayon::join(
                    || self.read_node(scalar, s0, s1),
                    || self.read_node(list, l0, l1),
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
                    scalar: Box::new(sc?),
                    list: Box::new(li?),
                }))
            }
        }
    }

    /// Offsets `[a, b]` rebased to 0, plus the child range they cover (validated).
    fn read_offsets(&self, id: usize, a: usize, b: usize) -> Result<(Buf<i64>, usize, usize)> {
        let h = self.handle(id, Role::Offsets)?;
        let mut o: Vec<i64> = self.read_range(h, a, b + 1)?;
        let (lo, hi) = (o[0], o[o.len() - 1]);
        if lo < 0 || o.windows(2).any(|w| w[1] < w[0]) {
            return Err(crate::error::corrupt(
                &h.spec.name,
                format!("offsets of rows [{a}, {b}) are negative or not monotonic"),
            ));
        }
        if lo != 0 {
            o.iter_mut().for_each(|x| *x -= lo);
        }
        Ok((Buf::from_vec(o), lo as usize, hi as usize))
    }

    fn read_leaf_values(&self, id: usize, dtype: DType, a: usize, b: usize) -> Result<Values> {
        if dtype == DType::String {
            let (offsets, lo, hi) = self.read_offsets(id, a, b)?;
            let bytes: Vec<u8> = self.read_range(self.handle(id, Role::Data)?, lo, hi)?;
            return Ok(Values::Str(StrValues {
                offsets,
                bytes: Buf::from_vec(bytes),
            }));
        }
        let h = self.handle(id, Role::Data)?;
        Ok(with_dtype!(dtype, T => zio::wrap(self.read_range::<T>(h, a, b)?), unreachable!()))
    }

    fn read_mask(&self, id: usize, masked: bool, a: usize, b: usize) -> Result<Option<Bitmap>> {
        if !masked || a == b {
            return Ok(None);
        }
        let h = self.handle(id, Role::Mask)?;
        let bytes: Vec<u8> = self.read_range(h, a / 8, b.div_ceil(8))?;
        let n = bytes.len() * 8;
        Ok(normalize(Some(
            Bitmap::from_bytes(Buf::from_vec(bytes), n).slice(a % 8, b - a),
        )))
    }

    /// Elements `[a, b)` of a buffer (chunks decoded in parallel, through the cache).
    pub(crate) fn read_range<T: ElementOwned + Copy + Send + Sync + 'static>(
        &self,
        h: &BufHandle,
        a: usize,
        b: usize,
    ) -> Result<Vec<T>> {
        if a > b || b > h.len {
            return Err(store_error(
                format!("buffer {} is too short for the rows asked", h.spec.name),
                format!(
                    "elements [{a}, {b}) requested, {} stored (offsets or index point past the data)",
                    h.len
                ),
                "the store is corrupt; save the data again with gr.save",
            ));
        }
        if a == b {
            return Ok(Vec::new());
        }
        let cl = h.cl;
        let (c0, c1) = (a / cl, (b - 1) / cl);
        let get = |c: usize| self.chunk::<T>(h, c as u64);
        let chunks: Vec<Arc<Vec<T>>> = if c1 > c0 {
            (c0..=c1).into_par_iter().map(get).collect::<Result<_>>()?
        } else {
            vec![get(c0)?]
        };
        let mut out = Vec::with_capacity(b - a);
        for (k, ch) in chunks.iter().enumerate() {
            let start = (c0 + k) * cl;
            let lo = a.max(start) - start;
            let hi = b.min(start + cl) - start;
            out.extend_from_slice(&ch[lo..hi]);
        }
        Ok(out)
    }

    fn chunk<T: ElementOwned + Send + Sync + 'static>(
        &self,
        h: &BufHandle,
        c: u64,
    ) -> Result<Arc<Vec<T>>> {
        let key = (h.slot, c);
        if let Some(cache) = &self.cache {
            let mut lru = cache.lock().unwrap_or_else(|p| p.into_inner());
            lru.tick += 1;
            let tick = lru.tick;
            if let Some(entry) = lru.map.get_mut(&key) {
                entry.2 = tick;
                if let Ok(v) = Arc::clone(&entry.0).downcast::<Vec<T>>() {
                    return Ok(v);
                }
            }
        }
        let v = Arc::new(zio::read_chunk::<T>(&h.arr, c, h.cl)?);
        if let Some(cache) = &self.cache {
            let size = v.len() * std::mem::size_of::<T>();
            let mut lru = cache.lock().unwrap_or_else(|p| p.into_inner());
            lru.tick += 1;
            let tick = lru.tick;
            if let Some(old) = lru.map.insert(key, (v.clone() as Chunk, size, tick)) {
                lru.bytes -= old.1;
            }
            lru.bytes += size;
            while lru.bytes > self.cache_cap && lru.map.len() > 1 {
                let Some(oldest) = lru.map.iter().min_by_key(|(_, e)| e.2).map(|(k, _)| *k) else {
                    break;
                };
                if let Some(e) = lru.map.remove(&oldest) {
                    lru.bytes -= e.1;
                }
            }
        }
        Ok(v)
    }
}
