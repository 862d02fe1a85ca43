//! Appending rows to an existing store without rewriting it.
//!
//! For every buffer: grow the Zarr shape, rewrite only the partly filled last chunk (written
//! to a temporary key and renamed over the old one, so an interrupted append leaves every old
//! row readable), write the new chunks, and finally rewrite the group attributes (new length,
//! form and buffer lengths). Readers use the recorded lengths, so until that last step they
//! see the old rows only.
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

use crate::error::{io_error, store_error, Result};
use crate::form::{buffer_name, BufferSpec, Form, Role};
use crate::read::open_group;
use crate::write::{grumpy_attrs, layout_buffers, write_group};
use crate::zio::{self, Codec, Storage, ZArray};
use grumpy_core::buffer::{Bitmap, Buf, Values};
use grumpy_core::{with_values, Array};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::{
    AtomicRenameStorageTraits, Bytes, ListableStorageTraits, MaybeBytesIterator,
    OffsetBytesIterator, ReadableStorageTraits, StorageError, StoreKey, StoreKeys,
    StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

/// Append the rows of `array` to the store at `path`.
pub fn append(array: &Array, path: impl AsRef<Path>) -> Result<()> {
    append_in_place(path.as_ref(), array, true)
}

/// Append into the store directory `dir`; `atomic` makes every key write a temp + rename.
pub(crate) fn append_in_place(dir: &Path, array: &Array, atomic: bool) -> Result<()> {
    let (_, attrs) = open_group(dir)?;
    let g = &attrs["grumpy"];
    if g["kind"] != "array" {
        return Err(store_error(
            "cannot append an array to this store",
            format!("the store holds a {}", g["kind"]),
            "append the same kind of object the store was saved from",
        ));
    }
    let old_form = crate::form::from_json(attrs.get("form").unwrap_or(&Value::Null))?;
    let (new_form, new_bufs) = layout_buffers(&array.layout);
    if !old_form.same_shape(&new_form) {
        return Err(store_error(
            "the rows do not match the store's layout or dtype",
            format!(
                "the store holds {}, the appended array is {}",
                old_form.describe(),
                new_form.describe()
            ),
            format!(
                "append arrays with the same nesting and dtype (e.g. x.astype(\"{}\")), or save to a new path",
                old_form.dtype()
            ),
        ));
    }
    let fs = FilesystemStore::new(dir).map_err(|e| io_error(dir.display(), e))?;
    let store: Storage = if atomic {
        Arc::new(AtomicStore(fs))
    } else {
        Arc::new(fs)
    };
    let codec = Codec::parse(g["codec"].as_str().unwrap_or("zstd"))
        .map_err(|e| store_error("unknown codec in the store", e.summary(), "save again"))?;
    let old_len = |name: &str| g["buffers"][name].as_u64().unwrap_or(0) as usize;
    let form = merge_masks(&old_form, &new_form);
    let specs = form.buffers();
    // Old row count of every node (from the recorded lengths).
    let node_rows = |id: usize| -> usize {
        for role in [Role::Tags, Role::Offsets] {
            let n = buffer_name(id, role);
            if g["buffers"].get(&n).is_some() {
                return old_len(&n).saturating_sub(usize::from(role == Role::Offsets));
            }
        }
        old_len(&buffer_name(id, Role::Data))
    };
    let union_bases = union_bases(&form, &node_rows);
    let mut new_lens = HashMap::new();
    let plans: Vec<(BufferSpec, usize, Values)> = specs
        .iter()
        .map(|s| {
            let new = new_bufs.get(&s.name);
            let old_data_len = old_len(&buffer_name(s.id, Role::Data));
            let rows = node_rows(s.id);
            // The old bits sharing the last mask byte with the new ones.
            let old_byte = if s.role == Role::Mask && old_len(&s.name) > 0 && rows % 8 != 0 {
                let arr = zio::open_array(&store, &s.name, s.dtype)?;
                let cl = zio::chunk_len(&arr)? as usize;
                let b = rows / 8;
                Some(zio::read_chunk::<u8>(&arr, (b / cl) as u64, cl)?[b % cl])
            } else {
                None
            };
            let (start, values) = appended(
                s,
                &form,
                new,
                old_len(&s.name),
                &node_rows,
                &union_bases,
                array,
                &new_bufs,
                old_data_len,
                old_byte,
            )?;
            Ok((s.clone(), start, values))
        })
        .collect::<Result<_>>()?;
    for (s, start, v) in &plans {
        new_lens.insert(s.name.clone(), start + v.len());
    }
    plans.par_iter().try_for_each(|(s, start, values)| {
        let exists = g["buffers"].get(&s.name).is_some();
        let total = start + values.len();
        let arr = if exists {
            let mut arr = zio::open_array(&store, &s.name, s.dtype)?;
            if arr.shape()[0] < total as u64 {
                arr.set_shape(vec![total as u64])
                    .map_err(|e| io_error(&s.name, e))?;
                arr.store_metadata().map_err(|e| io_error(&s.name, e))?;
            }
            arr
        } else {
            let cl = (crate::write::TARGET_CHUNK_BYTES).max(1) as u64;
            zio::create_array(&store, &s.name, s.dtype, total as u64, cl, codec)?
        };
        write_from(&arr, *start, values)
    })?;
    let length = g["length"].as_u64().unwrap_or(0) as usize + array.len();
    let attrs = grumpy_attrs(&form, length, &codec.name(), &new_lens);
    write_group(&store, "/", attrs)
}

/// Write `values` from element `start`, rewriting the head of the chunk it starts in.
fn write_from(arr: &ZArray, start: usize, values: &Values) -> Result<()> {
    let cl = zio::chunk_len(arr)? as usize;
    let c = start / cl;
    let head_len = start - c * cl;
    with_values!(values, b, T => {
        let head: Vec<T> = if head_len > 0 { zio::read_chunk::<T>(arr, c as u64, cl)?[..head_len].to_vec() } else { Vec::new() };
        zio::write_elems::<T>(arr, cl, start, &head, b.as_slice())
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

/// For each union node id: old row counts of (scalar, list) contents.
fn union_bases(form: &Form, rows: &dyn Fn(usize) -> usize) -> HashMap<usize, [i64; 2]> {
    let mut out = HashMap::new();
    fn walk(f: &Form, rows: &dyn Fn(usize) -> usize, out: &mut HashMap<usize, [i64; 2]>) {
        match f {
            Form::Leaf { .. } => {}
            Form::List { child, .. } => walk(child, rows, out),
            Form::Union { id, scalar, list } => {
                out.insert(*id, [rows(scalar.id()) as i64, rows(list.id()) as i64]);
                walk(scalar, rows, out);
                walk(list, rows, out);
            }
        }
    }
    walk(form, rows, &mut out);
    out
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

fn new_rows(form_id: usize, new_bufs: &HashMap<String, Values>, array: &Array) -> usize {
    if form_id == 0 {
        return array.len();
    }
    if let Some(t) = new_bufs.get(&buffer_name(form_id, Role::Tags)) {
        return t.len();
    }
    if let Some(o) = new_bufs.get(&buffer_name(form_id, Role::Offsets)) {
        return o.len().saturating_sub(1);
    }
    new_bufs
        .get(&buffer_name(form_id, Role::Data))
        .map_or(0, Values::len)
}

/// `(first element written, values)` for one buffer.
#[allow(clippy::too_many_arguments)]
fn appended(
    s: &BufferSpec,
    form: &Form,
    new: Option<&Values>,
    old_len: usize,
    node_rows: &dyn Fn(usize) -> usize,
    bases: &HashMap<usize, [i64; 2]>,
    array: &Array,
    new_bufs: &HashMap<String, Values>,
    old_data_len: usize,
    old_byte: Option<u8>,
) -> Result<(usize, Values)> {
    let empty = || Values::empty(s.dtype);
    Ok(match s.role {
        Role::Data | Role::Tags => (old_len, new.cloned().unwrap_or_else(empty)),
        Role::Offsets => {
            // base = old length of what the offsets point into
            let base = match child_id(form, s.id) {
                Some(c) => node_rows(c),
                None => old_data_len,
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
            let tags = new_bufs
                .get(&buffer_name(s.id, Role::Tags))
                .and_then(|v| v.as_slice::<i8>())
                .unwrap_or(&[]);
            let b = bases.get(&s.id).copied().unwrap_or([0, 0]);
            let idx = new.and_then(|v| v.as_slice::<i64>()).unwrap_or(&[]);
            let v: Vec<i64> = idx
                .iter()
                .zip(tags)
                .map(|(&i, &t)| i + b[usize::from(t == 1)])
                .collect();
            (old_len, Values::I64(Buf::from_vec(v)))
        }
        Role::Mask => {
            let old_rows = node_rows(s.id);
            let add = new_rows(s.id, new_bufs, array);
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
            if let Some(byte) = old_byte {
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

/// A filesystem store whose every `set` writes a temporary key and renames it over the
/// target (an atomic replace), so a killed append never leaves a half-written chunk or
/// metadata document.
struct AtomicStore(FilesystemStore);

static TMP: AtomicU64 = AtomicU64::new(0);

impl ReadableStorageTraits for AtomicStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: zarrs::storage::byte_range::ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        self.0.get_partial_many(key, byte_ranges)
    }
    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.0.size_key(key)
    }
    fn supports_get_partial(&self) -> bool {
        self.0.supports_get_partial()
    }
}

impl ListableStorageTraits for AtomicStore {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        self.0.list()
    }
    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        self.0.list_prefix(prefix)
    }
    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        self.0.list_dir(prefix)
    }
    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        self.0.size_prefix(prefix)
    }
}

impl WritableStorageTraits for AtomicStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        let n = TMP.fetch_add(1, Ordering::Relaxed);
        let tmp = StoreKey::new(format!(
            "{}.grumpy-tmp-{}-{n}",
            key.as_str(),
            std::process::id()
        ))?;
        self.0.set(&tmp, value)?;
        self.0.rename(&tmp, key)
    }
    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        self.0.set_partial_many(key, offset_values)
    }
    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.0.erase(key)
    }
    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.0.erase_prefix(prefix)
    }
    fn supports_set_partial(&self) -> bool {
        false
    }
}
