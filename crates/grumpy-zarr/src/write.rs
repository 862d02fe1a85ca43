//! Writing a new store: split the data into named buffers ([`Meta::split`]), pick chunk
//! lengths, write every buffer (chunks encoded in parallel), then the group attributes (root
//! last).
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
use crate::group::Data;
use crate::guard::MAX_CHUNK_BYTES;
use crate::meta::Meta;
use crate::path::TempStore;
use crate::stream::Rows;
use crate::write_store::WriteStore;
use crate::zio::{self, Codec, Storage};
use grumpy_core::buffer::{Bitmap, Buf, Values};
use grumpy_core::layout::Layout;
use grumpy_core::{Array, Code, Error, Frame};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Target bytes of one chunk when `chunk_size` is not given.
pub const TARGET_CHUNK_BYTES: usize = 1 << 20;

/// The axis `chunk_size` counts rows at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkDim {
    /// Nesting depth (0 = outer rows).
    Depth(usize),
    /// A dataframe schema level, by name.
    Level(String),
}

/// Options of [`save`] (`Default`: 1 MiB chunks, [`Codec::Auto`] ("zstd"), overwrite).
#[derive(Clone, Debug)]
pub struct SaveOptions {
    /// Rows per chunk at `chunk_dim` (deeper buffers get proportionally many elements).
    pub chunk_size: Option<usize>,
    /// Where `chunk_size` counts (default: outer rows).
    pub chunk_dim: Option<ChunkDim>,
    /// Compression.
    pub codec: Codec,
    /// Replace an existing grumpy store.
    pub overwrite: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            chunk_size: None,
            chunk_dim: None,
            codec: Codec::Auto,
            overwrite: true,
        }
    }
}

/// Save `array` at `path` atomically (see [`crate::path`]).
pub fn save(array: &Array, path: impl AsRef<Path>, opts: &SaveOptions) -> Result<()> {
    save_data(&Data::Array(array.clone()), path, opts)
}

/// Save a dataframe at `path` atomically: one sub-group per column, shared offsets once.
///
/// ```
/// use grumpy_core::{Array, Frame};
/// let dir = std::env::temp_dir().join(format!("grumpy-doc-savef-{}", std::process::id()));
/// let mass = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
/// let df = Frame::new(&["mol", "res"], vec![("mass".into(), mass)], &[]).unwrap();
/// grumpy_zarr::save_frame(&df, &dir, &Default::default()).unwrap();
/// assert!(dir.join("level1-offsets").is_dir() && dir.join("mass").is_dir());
/// assert_eq!(grumpy_zarr::load_frame(&dir).unwrap(), df);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn save_frame(frame: &Frame, path: impl AsRef<Path>, opts: &SaveOptions) -> Result<()> {
    save_data(&Data::Frame(frame.clone()), path, opts)
}

/// Save an array or a dataframe at `path` atomically.
pub fn save_data(data: &Data, path: impl AsRef<Path>, opts: &SaveOptions) -> Result<()> {
    check_options(opts)?;
    let path = crate::path::local(path.as_ref())?;
    let tmp = TempStore::new(&path, opts.overwrite)?;
    write_store(tmp.dir(), data, opts, true)?;
    tmp.commit(opts.overwrite)
}

/// Batches of one form are gathered in memory up to this many bytes and written as one
/// append: every append rewrites the last, partial chunk (or shard) of each buffer, so writing
/// a stream of small batches one by one would rewrite the store's tail once per batch.
const GATHER_BYTES: usize = 32 << 20;

/// Saves batches into a temporary store, then moves it into place: the `gr.save(iterable)`
/// path. Consecutive batches of the same form are gathered (up to `GATHER_BYTES`, 32 MiB) and
/// written together. Dropping it without [`StoreWriter::finish`] leaves no store.
pub struct StoreWriter {
    tmp: TempStore,
    opts: SaveOptions,
    started: bool,
    /// The first batch when it was empty (written by `finish` if nothing else came).
    pending: Option<Data>,
    /// Batches not written yet (all of one form), and their bytes.
    gathered: Vec<Data>,
    gathered_bytes: usize,
}

/// What must agree for batches to be concatenated before writing: the array's form, or a
/// frame's columns (name, level, form).
fn form_key(d: &Data) -> Vec<(String, usize, Form)> {
    match d {
        Data::Array(a) => vec![(String::new(), 0, Form::from_layout(&a.layout))],
        Data::Frame(f) => f
            .columns()
            .iter()
            .map(|c| (c.name.clone(), c.level, Form::from_layout(&c.array.layout)))
            .collect(),
    }
}

impl StoreWriter {
    /// Start writing a store at `path`.
    pub fn new(path: impl AsRef<Path>, opts: SaveOptions) -> Result<StoreWriter> {
        check_options(&opts)?;
        let path = crate::path::local(path.as_ref())?;
        Ok(StoreWriter {
            tmp: TempStore::new(&path, opts.overwrite)?,
            opts,
            started: false,
            pending: None,
            gathered: Vec::new(),
            gathered_bytes: 0,
        })
    }

    /// Append one batch of rows.
    pub fn write(&mut self, batch: &Array) -> Result<()> {
        self.write_data(&Data::Array(batch.clone()))
    }

    /// Append one batch (array or dataframe; every batch the same kind). Empty batches
    /// before the first non-empty one are skipped (they carry no layout to fix the form).
    ///
    /// When an array batch does not fit the form written so far but the rows so far fit the
    /// batch's (lists first, then a batch mixing scalars and lists), the temporary store is
    /// rewritten once in the wider form: it is not visible yet, so this is still one store.
    /// Batches of the form of those before them are gathered and written together (errors of
    /// a gathered batch surface when the gathered rows are written, at the latest in
    /// [`StoreWriter::finish`]).
    pub fn write_data(&mut self, batch: &Data) -> Result<()> {
        let same = self
            .gathered
            .first()
            .is_none_or(|g| batch.is_empty() || form_key(g) == form_key(batch));
        if !same {
            self.flush()?;
        }
        if batch.is_empty() && self.gathered.is_empty() {
            return self.write_now(batch);
        }
        if !batch.is_empty() {
            self.gathered_bytes += batch.nbytes();
            self.gathered.push(batch.clone());
        }
        if self.gathered_bytes >= GATHER_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Write the gathered batches as one append.
    fn flush(&mut self) -> Result<()> {
        let parts = std::mem::take(&mut self.gathered);
        self.gathered_bytes = 0;
        match parts.len() {
            0 => Ok(()),
            1 => self.write_now(&parts[0]),
            _ => self.write_now(&Data::concat_rows(&parts)?),
        }
    }

    fn write_now(&mut self, batch: &Data) -> Result<()> {
        if !self.started {
            if batch.is_empty() && self.pending.is_none() {
                self.pending = Some(batch.clone());
                return Ok(());
            }
            if batch.is_empty() {
                return Ok(());
            }
            write_store(self.tmp.dir(), batch, &self.opts, false)?;
            self.started = true;
            return Ok(());
        }
        if let Data::Array(b) = batch {
            if let Some(widened) = self.widen(b)? {
                clear_dir(self.tmp.dir())?;
                return write_store(self.tmp.dir(), &Data::Array(widened), &self.opts, false);
            }
        }
        crate::append::append_in_place(self.tmp.dir(), batch, false)
    }

    /// The rows so far plus `batch` in the batch's form, when the batch does not fit the
    /// stored form but the stored rows fit the batch's.
    fn widen(&self, batch: &Array) -> Result<Option<Array>> {
        let reader = crate::read::StoreReader::open_with_cache(self.tmp.dir(), 0)?;
        if reader.is_frame() || crate::conform::conform(&batch.layout, reader.form()).is_some() {
            return Ok(None);
        }
        let wide = Form::from_layout(&batch.layout);
        let old = reader.read_all()?;
        let Some(old) = crate::conform::conform(&old.layout, &wide) else {
            return Ok(None); // neither fits the other: append reports the mismatch
        };
        Ok(Some(Array::cat(&[&Array::new(old), batch])?))
    }

    /// Move the written store into place (error when no batch was written).
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        if let Some(empty) = self.pending.take().filter(|_| !self.started) {
            write_store(self.tmp.dir(), &empty, &self.opts, false)?;
            self.started = true;
        }
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

/// Split a layout into its form and named buffers (`node{k}-{role}` → values).
///
/// A union whose contents are not all nullable or all non-nullable gets a mask on both
/// (Awkward requires that of union contents); the added mask is all valid.
pub fn layout_buffers(layout: &Layout) -> (Form, HashMap<String, Values>) {
    let layout = layout.compact();
    let form = union_masks(&Form::from_layout(&layout));
    let mut out = HashMap::new();
    collect(&layout, &form, &mut out);
    (form, out)
}

fn collect(layout: &Layout, form: &Form, out: &mut HashMap<String, Values>) {
    use crate::form::buffer_name as name;
    let id = form.id();
    if let Some(v) = layout.validity() {
        out.insert(name(id, Role::Mask), Values::U8(v.to_packed()));
    } else if matches!(
        form,
        Form::Leaf { masked: true, .. } | Form::List { masked: true, .. }
    ) {
        let valid = Bitmap::from_bools(&vec![true; layout.len()]);
        out.insert(name(id, Role::Mask), Values::U8(valid.to_packed()));
    }
    match (layout, form) {
        (Layout::Leaf(l), _) => match &l.values {
            Values::Str(s) => {
                let o = s.offsets.as_slice();
                let (lo, hi) = (o[0], o[o.len() - 1]);
                let rebased: Vec<i64> = o.iter().map(|x| x - lo).collect();
                out.insert(name(id, Role::Offsets), Values::I64(Buf::from_vec(rebased)));
                let bytes = s.bytes.slice(lo as usize, (hi - lo) as usize);
                out.insert(name(id, Role::Data), Values::U8(bytes));
            }
            v => {
                out.insert(name(id, Role::Data), v.clone());
            }
        },
        (Layout::List(l), Form::List { child, .. }) => {
            out.insert(name(id, Role::Offsets), Values::I64(l.offsets.clone()));
            collect(&l.child, child, out);
        }
        (Layout::Union(u), Form::Union { scalar, list, .. }) => {
            out.insert(name(id, Role::Tags), Values::I8(u.tags.clone()));
            out.insert(name(id, Role::Index), Values::I64(u.index.clone()));
            collect(&u.scalar, scalar, out);
            collect(&u.list, list, out);
        }
        _ => unreachable!("form built from this layout"),
    }
}

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
    lens: &std::collections::BTreeMap<String, usize>,
    opts: &SaveOptions,
    cap: bool,
    schema: &[String],
) -> Result<HashMap<String, usize>> {
    let len = |s: &BufferSpec| lens.get(&s.name).copied().unwrap_or(0);
    let mut out = HashMap::new();
    if let Some(size) = opts.chunk_size {
        let d = match &opts.chunk_dim {
            None => 0,
            Some(ChunkDim::Depth(d)) => *d,
            Some(ChunkDim::Level(name)) => {
                schema.iter().position(|s| s == name).ok_or_else(|| {
                    Error::new(
                        Code::Argument,
                        format!("chunk_dim={name:?} is not a level of the data"),
                        if schema.is_empty() {
                            "an array has no named levels".to_owned()
                        } else {
                            format!("the schema is {schema:?}")
                        },
                        "pass a schema level name of the dataframe, or a depth (int)",
                    )
                })?
            }
        };
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
                size as u128
            } else {
                (size as u128 * rows as u128).div_ceil(n_d as u128)
            };
            let c = if s.role == Role::Mask {
                per.div_ceil(8)
            } else {
                per
            }
            .max(1);
            // Zarr writes and reads every chunk whole, the last one padded: chunk_size=10**9
            // would allocate and write gigabytes of padding.
            let bytes = c * s.dtype.itemsize() as u128;
            // (what a reader accepts: crate::guard::MAX_CHUNK_BYTES)
            if bytes > MAX_CHUNK_BYTES as u128 {
                return Err(Error::new(
                    Code::Argument,
                    format!("chunk_size={size} is too large"),
                    format!(
                        "buffer {} would get chunks of {:.1} GB (at most {} GB): each is written and read whole, the last one padded",
                        s.name,
                        bytes as f64 / 1e9,
                        MAX_CHUNK_BYTES >> 30
                    ),
                    "pass a smaller chunk_size (chunks of 1-100 MB read and write best), or leave it unset",
                ));
            }
            let c = c as usize;
            out.insert(s.name.clone(), c);
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
pub(crate) fn write_store(dir: &Path, data: &Data, opts: &SaveOptions, cap: bool) -> Result<()> {
    let sink = Arc::new(WriteStore::new(dir, false)?);
    let store: Storage = sink.clone();
    let (meta, bufs) = Meta::split(data, &opts.codec.name())?;
    let specs = meta.specs();
    let chunks = plan_chunks(&specs, &meta.lens, opts, cap, &meta.schema)?;
    // Column groups first (their arrays live inside them).
    for part in &meta.parts {
        if let Some(c) = &part.column {
            write_group(&store, &format!("/{c}"), meta.column_attrs(part))?;
        }
    }
    specs.par_iter().try_for_each(|s| -> Result<()> {
        let values = &bufs[&s.name];
        let cl = chunks[&s.name];
        let arr = zio::create_array(
            &store,
            &s.name,
            s.dtype,
            values.len() as u64,
            cl as u64,
            opts.codec.for_values(values),
        )?;
        crate::chunk_write::write_values(&sink, &arr, 0, &Values::empty(values.dtype()), values)
    })?;
    write_group(&store, "/", meta.root_attrs())
}

/// Empty the temporary store directory (before rewriting it in a wider form).
fn clear_dir(dir: &Path) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| io_error(dir.display(), e))?;
    for e in rd {
        let p = e.map_err(|e| io_error(dir.display(), e))?.path();
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| io_error(p.display(), e))?;
    }
    Ok(())
}

/// A union with exactly one nullable content gets a mask on the other too (see
/// [`layout_buffers`]).
pub(crate) fn union_masks(form: &Form) -> Form {
    let set_mask = |f: Form| match f {
        Form::Leaf { id, dtype, .. } => Form::Leaf {
            id,
            dtype,
            masked: true,
        },
        Form::List { id, child, .. } => Form::List {
            id,
            masked: true,
            child,
        },
        other => other,
    };
    let masked = |f: &Form| {
        matches!(
            f,
            Form::Leaf { masked: true, .. } | Form::List { masked: true, .. }
        )
    };
    match form {
        Form::Leaf { .. } => form.clone(),
        Form::List { id, masked, child } => Form::List {
            id: *id,
            masked: *masked,
            child: Box::new(union_masks(child)),
        },
        Form::Union { id, scalar, list } => {
            let (s, l) = (union_masks(scalar), union_masks(list));
            let (s, l) = if masked(&s) != masked(&l) {
                (set_mask(s), set_mask(l))
            } else {
                (s, l)
            };
            Form::Union {
                id: *id,
                scalar: Box::new(s),
                list: Box::new(l),
            }
        }
    }
}
