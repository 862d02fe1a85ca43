//! Appending rows to an existing store without rewriting it.
//!
//! For every buffer: grow the Zarr shape (editing its `zarr.json` in place), rewrite only the
//! partly filled last chunk (written to a temporary key and renamed over the old one, so an
//! interrupted append leaves every old row readable), write the new chunks, then the column
//! groups' attributes, and finally the root attributes (new length, forms and buffer lengths).
//! Readers use the recorded lengths, so until that last step they see the old rows only. A
//! batch is first fitted to the store's form ([`crate::conform`]); dataframes append column by
//! column, each shared `level{k}-offsets` buffer once.
//!
//! ```
//! use grumpy_core::Array;
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-append-{}", std::process::id()));
//! let a = Array::from_item(&vec![vec![1.0], vec![2.0, 3.0]].into(), None).unwrap();
//! grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
//! grumpy_zarr::append(&a, &dir).unwrap();
//! assert_eq!(grumpy_zarr::load(&dir).unwrap().len(), 4);
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::conform::conform;
use crate::error::{store_error, Result};
use crate::form::{BufferSpec, Form, Role};
use crate::group::{Data, Part};
use crate::meta::Meta;
use crate::read::open_group;
use crate::write::{layout_buffers, union_masks, write_group};
use crate::write_store::WriteStore;
use crate::zio::{self, Codec, Storage, ZArray};
use grumpy_core::buffer::{arithmetic_step, Bitmap, Buf, Values};
use grumpy_core::layout::Layout;
use grumpy_core::{with_values, Array, Frame};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Append the rows of `array` to the array store at `path`.
pub fn append(array: &Array, path: impl AsRef<Path>) -> Result<()> {
    append_data(&Data::Array(array.clone()), path)
}

/// Append the rows of `frame` to the dataframe store at `path` (same schema and columns).
///
/// ```
/// use grumpy_core::{Array, Frame};
/// let dir = std::env::temp_dir().join(format!("grumpy-doc-appendf-{}", std::process::id()));
/// let x = Array::from_item(&vec![vec![1i64], vec![2, 3]].into(), None).unwrap();
/// let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
/// grumpy_zarr::save_frame(&df, &dir, &Default::default()).unwrap();
/// grumpy_zarr::append_frame(&df, &dir).unwrap();
/// let back = grumpy_zarr::load_frame(&dir).unwrap();
/// assert_eq!(back.len(), 4);
/// let x = |f: &Frame| f.column("x").unwrap().array.to_item();
/// assert_eq!(x(&back.slice(2, 2).unwrap()), x(&df));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn append_frame(frame: &Frame, path: impl AsRef<Path>) -> Result<()> {
    append_data(&Data::Frame(frame.clone()), path)
}

/// Append an array or a dataframe to a store of the same kind.
pub fn append_data(data: &Data, path: impl AsRef<Path>) -> Result<()> {
    let dir = crate::path::local(path.as_ref())?;
    append_in_place(&dir, data, true)
}

fn mismatch(what: &str, store: &Form, batch: &Layout) -> crate::error::Error {
    store_error(
        format!("the rows do not match the store's layout or dtype{what}"),
        format!(
            "the store holds {}, the appended rows are {}",
            store.describe(),
            Form::from_layout(batch).describe()
        ),
        format!(
            "append rows with the same nesting and dtype (e.g. x.astype(\"{}\")), or save to a new path",
            store.dtype()
        ),
    )
}

/// The batch's layouts in the store's part order (frames: same schema and columns).
fn batch_layouts(meta: &Meta, batch: &Data) -> Result<Vec<Layout>> {
    match batch {
        Data::Array(a) if !meta.is_frame() => Ok(vec![a.layout.clone()]),
        Data::Frame(f) if meta.is_frame() => {
            let want: Vec<(String, usize)> = meta
                .parts
                .iter()
                .map(|p| (p.column.clone().unwrap_or_default(), p.level))
                .collect();
            let mut have = crate::meta::frame_columns(f);
            let mut sorted_want = want.clone();
            sorted_want.sort();
            have.sort();
            if f.schema() != meta.schema.as_slice() || have != sorted_want {
                return Err(store_error(
                    "the dataframe does not match the store's schema or columns",
                    format!(
                        "the store has schema {:?} and columns {:?}; the batch has schema {:?} and columns {:?}",
                        meta.schema,
                        want,
                        f.schema(),
                        crate::meta::frame_columns(f)
                    ),
                    "append frames with the same schema, column names and levels, or save to a new path",
                ));
            }
            want.iter()
                .map(|(name, _)| Ok(f.get(name)?.layout.clone()))
                .collect()
        }
        _ => Err(store_error(
            format!("cannot append a {} to this store", batch.kind()),
            format!("the store holds a {}", meta.kind),
            "append the same kind of object the store was saved from",
        )),
    }
}

/// Append into the store directory `dir`; `atomic` makes every key write a temp + rename (and
/// first removes the temporary keys an interrupted append may have left).
pub(crate) fn append_in_place(dir: &Path, batch: &Data, atomic: bool) -> Result<()> {
    let (_, attrs) = open_group(dir)?;
    let meta = Meta::parse(&attrs)?;
    let layouts = batch_layouts(&meta, batch)?;
    if batch.is_empty() {
        return Ok(());
    }
    if atomic {
        // Never write into a directory reached through a symlink planted in the store.
        let dirs: Vec<String> = meta
            .specs()
            .iter()
            .map(|s| format!("{}/c", s.name))
            .collect();
        crate::guard::refuse_symlinks(dir, &dirs)?;
        remove_tmp_keys(dir);
    }
    let sink = Arc::new(WriteStore::new(dir, atomic)?);
    let store: Storage = sink.clone();
    let codec = Codec::parse(&meta.codec)
        .map_err(|e| store_error("unknown codec in the store", e.summary(), "save again"))?;
    let mut new_parts = Vec::with_capacity(meta.parts.len());
    let mut plans: Vec<(BufferSpec, usize, Values)> = Vec::new();
    let mut seen = HashSet::new();
    for (part, layout) in meta.parts.iter().zip(&layouts) {
        let what = part
            .column
            .as_ref()
            .map_or(String::new(), |c| format!(" (column {c:?})"));
        let fitted =
            conform(layout, &part.form).ok_or_else(|| mismatch(&what, &part.form, layout))?;
        let (new_form, new_bufs) = layout_buffers(&fitted);
        let new_part = Part {
            column: part.column.clone(),
            level: part.level,
            form: union_masks(&merge_masks(&part.form, &new_form)),
        };
        let ctx = Ctx {
            meta: &meta,
            old: part,
            part: &new_part,
            new_bufs: &new_bufs,
            batch_len: batch.len(),
            store: &store,
        };
        for s in new_part.form.buffers() {
            let path = new_part.path(s.id, s.role);
            if !seen.insert(path.clone()) {
                continue; // a shared level's offsets: appended once
            }
            let (start, values) = ctx.appended(&s)?;
            let mut spec = s.clone();
            spec.name = path;
            plans.push((spec, start, values));
        }
        new_parts.push(new_part);
    }
    let mut new_meta = meta.clone();
    new_meta.parts = new_parts;
    new_meta.length = meta.length + batch.len();
    for (s, start, v) in &plans {
        new_meta.lens.insert(s.name.clone(), start + v.len());
    }
    // A level stays regular only while the new rows have the same length as the old ones.
    new_meta.regular.retain(|name, step| {
        plans
            .iter()
            .filter(|(s, ..)| &s.name == name)
            .all(|(_, start, v)| {
                let o = v.as_slice::<i64>().unwrap_or(&[]);
                // offset k of the buffer is k * step: the appended values continue the old ones
                o.first()
                    .is_none_or(|&f| (*start as i64).checked_mul(*step) == Some(f))
                    && (o.len() < 2 || arithmetic_step(o) == Some(*step))
            })
    });
    plans.par_iter().try_for_each(|(s, start, values)| {
        let total = start + values.len();
        let arr = if meta.lens.contains_key(&s.name) {
            let arr = zio::open_array(&store, &s.name, s.dtype)?;
            if arr.shape()[0] != total as u64 {
                zio::set_len(&store, &s.name, total as u64)?;
                zio::open_array(&store, &s.name, s.dtype)?
            } else {
                arr
            }
        } else {
            let cl = (crate::write::TARGET_CHUNK_BYTES / s.dtype.itemsize()).max(1) as u64;
            zio::create_array(
                &store,
                &s.name,
                s.dtype,
                total as u64,
                cl,
                codec.for_values(values),
            )?
        };
        write_from(&sink, &arr, *start, values)
    })?;
    for part in &new_meta.parts {
        if let Some(c) = &part.column {
            write_group(&store, &format!("/{c}"), new_meta.column_attrs(part))?;
        }
    }
    // GRUMPY_FSYNC: everything on disk before the root attributes publish it, then the root
    sink.sync_written()?;
    write_group(&store, "/", new_meta.root_attrs())?;
    sink.sync_written()
}

/// Remove `*.grumpy-tmp-*` keys left by an interrupted append (best effort).
fn remove_tmp_keys(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(std::result::Result::ok) {
        let p = e.path();
        if e.file_name().to_string_lossy().contains(".grumpy-tmp-") {
            let _ = std::fs::remove_file(&p);
        } else if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tmp_keys(&p);
        }
    }
}

/// What computing one buffer's appended values needs.
struct Ctx<'a> {
    meta: &'a Meta,
    /// The part as stored (old lengths are looked up through its paths).
    old: &'a Part,
    /// The part with merged masks.
    part: &'a Part,
    /// The batch's buffers, by local name (`node{k}-{role}`).
    new_bufs: &'a HashMap<String, Values>,
    batch_len: usize,
    store: &'a Storage,
}

impl Ctx<'_> {
    fn old_len(&self, id: usize, role: Role) -> usize {
        self.meta
            .lens
            .get(&self.part.path(id, role))
            .copied()
            .unwrap_or(0)
    }

    fn old_rows(&self, id: usize) -> usize {
        self.meta.node_rows(self.old, id)
    }

    fn new_buf(&self, id: usize, role: Role) -> Option<&Values> {
        self.new_bufs.get(&crate::form::buffer_name(id, role))
    }

    fn new_rows(&self, id: usize) -> usize {
        if id == 0 {
            return self.batch_len;
        }
        if let Some(t) = self.new_buf(id, Role::Tags) {
            return t.len();
        }
        if let Some(o) = self.new_buf(id, Role::Offsets) {
            return o.len().saturating_sub(1);
        }
        self.new_buf(id, Role::Data).map_or(0, Values::len)
    }

    /// `(first element written, values)` for one buffer (local spec).
    fn appended(&self, s: &BufferSpec) -> Result<(usize, Values)> {
        let new = self.new_buf(s.id, s.role);
        let old_len = self.old_len(s.id, s.role);
        let empty = || Values::empty(s.dtype);
        Ok(match s.role {
            Role::Data | Role::Tags => (old_len, new.cloned().unwrap_or_else(empty)),
            Role::Offsets => {
                // base = old length of what the offsets point into
                let base = match child_id(&self.part.form, s.id) {
                    Some(c) => self.old_rows(c),
                    None => self.old_len(s.id, Role::Data),
                } as i64;
                let o = new.and_then(|v| v.as_slice::<i64>()).unwrap_or(&[0]);
                let shifted: Vec<i64> = o[1..].iter().map(|x| x + base).collect();
                if old_len == 0 {
                    let mut v = vec![base];
                    v.extend(shifted);
                    (0, Values::I64(Buf::from_vec(v)))
                } else {
                    (old_len, Values::I64(Buf::from_vec(shifted)))
                }
            }
            Role::Index => {
                let tags = self
                    .new_buf(s.id, Role::Tags)
                    .and_then(|v| v.as_slice::<i8>())
                    .unwrap_or(&[]);
                let (scalar, list) = match find(&self.part.form, s.id) {
                    Some(Form::Union { scalar, list, .. }) => (scalar.id(), list.id()),
                    _ => (0, 0),
                };
                let b = [self.old_rows(scalar) as i64, self.old_rows(list) as i64];
                let idx = new.and_then(|v| v.as_slice::<i64>()).unwrap_or(&[]);
                let v: Vec<i64> = idx
                    .iter()
                    .zip(tags)
                    .map(|(&i, &t)| i + b[usize::from(t == 1)])
                    .collect();
                (old_len, Values::I64(Buf::from_vec(v)))
            }
            Role::Mask => {
                let old_rows = self.old_rows(s.id);
                let add = self.new_rows(s.id);
                let new_bits: Vec<bool> = match new {
                    Some(Values::U8(b)) => Bitmap::from_bytes(b.clone(), b.len() * 8)
                        .slice(0, add)
                        .to_bools(),
                    _ => vec![true; add],
                };
                // The partial last byte is rebuilt from the old bits that share it.
                let (first_byte, mut bits) = if old_len == 0 {
                    (0, vec![true; old_rows])
                } else {
                    let b0 = old_rows / 8;
                    (b0, vec![true; old_rows - b0 * 8])
                };
                if old_len > 0 && !old_rows.is_multiple_of(8) {
                    let name = self.part.path(s.id, Role::Mask);
                    let arr = zio::open_array(self.store, &name, s.dtype)?;
                    let cl = zio::chunk_len(&arr)? as usize;
                    let b = old_rows / 8;
                    let byte = zio::read_chunk::<u8, _>(&arr, (b / cl) as u64, cl)?[b % cl];
                    for (k, bit) in bits.iter_mut().enumerate() {
                        *bit = byte >> k & 1 == 1;
                    }
                }
                bits.extend(new_bits);
                (
                    first_byte,
                    Values::U8(Bitmap::from_bools(&bits).to_packed()),
                )
            }
        })
    }
}

/// The node `id` of a form.
fn find(form: &Form, id: usize) -> Option<&Form> {
    if form.id() == id {
        return Some(form);
    }
    match form {
        Form::Leaf { .. } => None,
        Form::List { child, .. } => find(child, id),
        Form::Union { scalar, list, .. } => find(scalar, id).or_else(|| find(list, id)),
    }
}

/// Write `values` from element `start`, rewriting the head of the chunk (or, in a sharded
/// buffer, the shard) it starts in.
fn write_from(sink: &WriteStore, arr: &ZArray, start: usize, values: &Values) -> Result<()> {
    let cl = zio::chunk_len(arr)? as usize;
    let unit = zio::write_len(arr)? as usize;
    let head_len = start % unit;
    with_values!(values, b, T => {
        let mut head: Vec<T> = vec![T::default(); head_len];
        if head_len > 0 {
            zio::read_into_with(arr, None, cl, start - head_len, &mut head, false, &|_| ())?;
        }
        crate::chunk_write::write_elems::<T>(sink, arr, start, &head, b.as_slice())
    }, _s => Err(store_error("internal: string buffer written unsplit", "", "report this bug")))
}

/// The store's form with a mask wherever either side has one.
fn merge_masks(old: &Form, new: &Form) -> Form {
    match (old, new) {
        (
            Form::Leaf {
                id,
                dtype,
                masked: a,
            },
            Form::Leaf { masked: b, .. },
        ) => Form::Leaf {
            id: *id,
            dtype: *dtype,
            masked: *a || *b,
        },
        (
            Form::List {
                id,
                masked: a,
                child: c1,
            },
            Form::List {
                masked: b,
                child: c2,
                ..
            },
        ) => Form::List {
            id: *id,
            masked: *a || *b,
            child: Box::new(merge_masks(c1, c2)),
        },
        (
            Form::Union {
                id,
                scalar: s1,
                list: l1,
            },
            Form::Union {
                scalar: s2,
                list: l2,
                ..
            },
        ) => Form::Union {
            id: *id,
            scalar: Box::new(merge_masks(s1, s2)),
            list: Box::new(merge_masks(l1, l2)),
        },
        _ => old.clone(),
    }
}

fn child_id(form: &Form, id: usize) -> Option<usize> {
    match form {
        Form::Leaf { .. } => None,
        Form::List { id: i, child, .. } => {
            if *i == id {
                Some(child.id())
            } else {
                child_id(child, id)
            }
        }
        Form::Union { scalar, list, .. } => child_id(scalar, id).or_else(|| child_id(list, id)),
    }
}
