//! Writing a new store: split the layout into named buffers, pick chunk lengths, write every
//! buffer (chunks encoded in parallel), then the group attributes.
//!
//! A dataframe (later) is a group with one sub-group per column: [`write_group`] takes the
//! group path, so column sub-groups and the shared offsets at the frame level reuse it.
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_zarr::{save, load, SaveOptions};
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-write-{}", std::process::id()));
//! let a = Array::from_item(&vec![vec![1i64, 2], vec![3]].into(), None).unwrap();
//! save(&a, &dir, &SaveOptions { chunk_size: Some(1), ..Default::default() }).unwrap();
//! assert_eq!(load(&dir).unwrap().to_item(), a.to_item());
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::error::{io_error, Result};
use crate::form::{BufferSpec, Form, Role};
use crate::path::TempStore;
use crate::read::FORMAT_VERSION;
use crate::zio::{self, Codec, Storage};
use grumpy_core::buffer::Values;
use grumpy_core::{Array, Code, DType, Error};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Target bytes of one chunk when `chunk_size` is not given.
pub const TARGET_CHUNK_BYTES: usize = 1 << 20;

/// Options of [`save`] (`Default`: 1 MiB chunks, zstd, overwrite).
#[derive(Clone, Debug)]
pub struct SaveOptions {
    /// Rows per chunk at depth `chunk_dim` (deeper buffers get proportionally many elements).
    pub chunk_size: Option<usize>,
    /// Depth the `chunk_size` counts at (0 = outer rows).
    pub chunk_dim: Option<usize>,
    /// Compression.
    pub codec: Codec,
    /// Replace an existing store.
    pub overwrite: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            chunk_size: None,
            chunk_dim: None,
            codec: Codec::Zstd(1),
            overwrite: true,
        }
    }
}

/// Save `array` at `path` atomically (see [`crate::path`]).
pub fn save(array: &Array, path: impl AsRef<Path>, opts: &SaveOptions) -> Result<()> {
    check_options(opts)?;
    let tmp = TempStore::new(path.as_ref(), opts.overwrite)?;
    write_store(tmp.dir(), array, opts, true)?;
    tmp.commit(opts.overwrite)
}

/// Saves batches one by one into a temporary store, then moves it into place: the
/// `gr.save(iterable)` path. Dropping it without [`StoreWriter::finish`] leaves no store.
pub struct StoreWriter {
    tmp: TempStore,
    opts: SaveOptions,
    started: bool,
}

impl StoreWriter {
    /// Start writing a store at `path`.
    pub fn new(path: impl AsRef<Path>, opts: SaveOptions) -> Result<StoreWriter> {
        check_options(&opts)?;
        Ok(StoreWriter {
            tmp: TempStore::new(path.as_ref(), opts.overwrite)?,
            opts,
            started: false,
        })
    }

    /// Append one batch of rows.
    pub fn write(&mut self, batch: &Array) -> Result<()> {
        if self.started {
            crate::append::append_in_place(self.tmp.dir(), batch, false)
        } else {
            write_store(self.tmp.dir(), batch, &self.opts, false)?;
            self.started = true;
            Ok(())
        }
    }

    /// Move the written store into place (error when no batch was written).
    pub fn finish(self) -> Result<()> {
        if !self.started {
            return Err(Error::new(
                Code::Argument,
                "nothing to save",
                "the iterable yielded no batches",
                "pass at least one array",
            ));
        }
        self.tmp.commit(self.opts.overwrite)
    }
}

fn check_options(opts: &SaveOptions) -> Result<()> {
    if opts.chunk_size == Some(0) {
        return Err(Error::new(
            Code::Argument,
            "chunk_size must be >= 1",
            "chunk_size=0 was passed",
            "pass a positive number of rows per chunk, or None for ~1 MiB chunks",
        ));
    }
    if opts.chunk_dim.is_some() && opts.chunk_size.is_none() {
        return Err(Error::new(
            Code::Argument,
            "chunk_dim needs chunk_size",
            "chunk_dim was passed without chunk_size",
            "pass chunk_size=<rows per chunk> too",
        ));
    }
    Ok(())
}

pub use crate::form::layout_buffers;

/// Rows described by a buffer of `len` elements (offsets: n+1; masks: 8 per byte).
fn rows_of(spec: &BufferSpec, len: usize) -> usize {
    match spec.role {
        Role::Offsets => len.saturating_sub(1),
        Role::Mask => len * 8,
        _ => len,
    }
}

/// Chunk length (elements) of every buffer.
pub(crate) fn plan_chunks(
    specs: &[BufferSpec],
    lens: &HashMap<String, usize>,
    opts: &SaveOptions,
    cap: bool,
) -> Result<HashMap<String, usize>> {
    let len = |s: &BufferSpec| lens.get(&s.name).copied().unwrap_or(0);
    let mut out = HashMap::new();
    if let Some(size) = opts.chunk_size {
        let d = opts.chunk_dim.unwrap_or(0);
        let at_d = specs
            .iter()
            .filter(|s| s.depth == d && s.role != Role::Mask)
            .map(|s| rows_of(s, len(s)))
            .max();
        let Some(n_d) = at_d else {
            let max_depth = specs.iter().map(|s| s.depth).max().unwrap_or(0);
            return Err(Error::new(
                Code::Argument,
                format!("chunk_dim={d} is deeper than the array"),
                format!("the array's buffers reach depth {max_depth}"),
                format!("pass chunk_dim between 0 and {max_depth}"),
            ));
        };
        for s in specs {
            let rows = rows_of(s, len(s));
            let per = if n_d == 0 {
                size
            } else {
                (size as u128 * rows as u128).div_ceil(n_d as u128) as usize
            };
            let c = if s.role == Role::Mask {
                per.div_ceil(8)
            } else {
                per
            };
            out.insert(s.name.clone(), c.max(1));
        }
    } else {
        for s in specs {
            let item = s.dtype.itemsize();
            let target = TARGET_CHUNK_BYTES / item;
            let c = if cap {
                target.min(len(s).max(65536 / item))
            } else {
                target
            };
            out.insert(s.name.clone(), c.max(1));
        }
    }
    Ok(out)
}

/// The `grumpy` attribute object.
pub(crate) fn grumpy_attrs(
    form: &Form,
    length: usize,
    codec: &str,
    lens: &HashMap<String, usize>,
) -> Map<String, Value> {
    let bufs: Map<String, Value> = form
        .buffers()
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                json!(lens.get(&s.name).copied().unwrap_or(0)),
            )
        })
        .collect();
    let g = json!({
        "format": FORMAT_VERSION,
        "kind": "array",
        "version": env!("CARGO_PKG_VERSION"),
        "length": length,
        "dtype": form.dtype().name(),
        "layout": form.kind(),
        "schema": Value::Null,
        "codec": codec,
        "buffers": bufs,
    });
    let mut attrs = Map::new();
    attrs.insert("grumpy".into(), g);
    attrs.insert("form".into(), form.to_json());
    attrs.insert("length".into(), json!(length));
    attrs
}

/// Write the group metadata (attributes) of `group_path`.
pub(crate) fn write_group(
    store: &Storage,
    group_path: &str,
    attrs: Map<String, Value>,
) -> Result<()> {
    let g = zarrs::group::GroupBuilder::new()
        .attributes(attrs)
        .build(store.clone(), group_path)
        .map_err(|e| io_error(group_path, e))?;
    g.store_metadata().map_err(|e| io_error(group_path, e))
}

/// Write a complete new store into the (empty) directory `dir`.
pub(crate) fn write_store(dir: &Path, array: &Array, opts: &SaveOptions, cap: bool) -> Result<()> {
    let store: Storage = Arc::new(
        zarrs::filesystem::FilesystemStore::new(dir).map_err(|e| io_error(dir.display(), e))?,
    );
    let (form, bufs) = layout_buffers(&array.layout);
    let specs = form.buffers();
    let lens: HashMap<String, usize> = bufs.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    let chunks = plan_chunks(&specs, &lens, opts, cap)?;
    specs.par_iter().try_for_each(|s| -> Result<()> {
        let values = &bufs[&s.name];
        let cl = chunks[&s.name];
        let arr = zio::create_array(
            &store,
            &s.name,
            s.dtype,
            values.len() as u64,
            cl as u64,
            opts.codec,
        )?;
        zio::write_values(&arr, cl, 0, &Values::empty(dtype_of(values)), values)
    })?;
    let attrs = grumpy_attrs(&form, array.len(), &opts.codec.name(), &lens);
    write_group(&store, "/", attrs)
}

fn dtype_of(v: &Values) -> DType {
    v.dtype()
}
