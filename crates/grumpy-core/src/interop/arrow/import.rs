//! Arrow C Data Interface → layout. Buffers stay owned by the producer: each imported [`Buf`]
//! holds an `Arc` of the moved-in `ArrowArray`, whose `release` runs when the last buffer goes.
//! Copies happen only where grumpy's layout differs: bool bits → bytes, 32-bit offsets → i64,
//! dense-union offsets → i64 indices, fixed-size lists → generated offsets, and null list rows
//! that span values in Arrow (grumpy keeps null rows empty).

use super::super::nulls::empty_null_lists;
use super::super::union_of;
use crate::array::validate_offsets;
use crate::buffer::{normalize, Bitmap, Buf, StrValues, Values};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List};
use arrow_data::ffi::FFI_ArrowArray;
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{DataType, UnionMode};
use std::sync::Arc;

/// Import an Arrow array (moved in: its `release` is called when grumpy drops the buffers).
///
/// # Safety
/// `array` must be a valid, unreleased `ArrowArray` of the type `schema` describes, as the C
/// Data Interface specifies (buffers of the sizes its type, length and offset imply).
pub unsafe fn import(schema: &FFI_ArrowSchema, array: FFI_ArrowArray) -> Result<Layout> {
    let dt = DataType::try_from(schema).map_err(|e| {
        unsupported(
            format!("the Arrow schema cannot be read: {e}"),
            "pass an Arrow array of numbers, strings, lists or a dense union of them",
        )
    })?;
    if array.is_released() {
        return Err(bad("the ArrowArray was already released"));
    }
    let owner = Arc::new(array);
    let imp = Importer {
        owner: Arc::clone(&owner),
    };
    // SAFETY: forwarded from the caller.
    unsafe { imp.node(&dt, &owner) }
}

fn unsupported(what: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        "this Arrow array cannot be converted to a grumpy array",
        what,
        fix,
    )
}

fn bad(cause: impl Into<String>) -> Error {
    Error::new(
        Code::Argument,
        "invalid Arrow array",
        cause,
        "pass an array from a C Data Interface producer such as pyarrow",
    )
}

struct Importer {
    owner: Arc<FFI_ArrowArray>,
}

fn need(arr: &FFI_ArrowArray, buffers: usize, children: usize) -> Result<()> {
    if arr.num_buffers() < buffers || arr.num_children() < children {
        return Err(bad(format!(
            "expected {buffers} buffers and {children} children, got {} and {}",
            arr.num_buffers(),
            arr.num_children()
        )));
    }
    Ok(())
}

impl Importer {
    /// `len` elements of type `T` starting at element `start` of buffer `ptr`, shared.
    ///
    /// # Safety
    /// `ptr` must be valid for `start + len` elements owned by `self.owner`.
    unsafe fn share<T: Copy + Send + Sync + 'static>(
        &self,
        ptr: *const u8,
        start: usize,
        len: usize,
    ) -> Result<Buf<T>> {
        if len == 0 {
            return Ok(Buf::from_vec(Vec::new()));
        }
        if ptr.is_null() {
            return Err(bad("a non-empty buffer is null"));
        }
        // SAFETY: in bounds by the caller's contract.
        let p = unsafe { ptr.cast::<T>().add(start) };
        if p.is_aligned() {
            // SAFETY: aligned, valid for `len` reads, immutable and alive while the Arrow
            // array (kept by the owner Arc) is not released.
            Ok(unsafe { Buf::from_foreign(p, len, Box::new(Arc::clone(&self.owner))) })
        } else {
            // SAFETY: valid for reads; unaligned reads copy each element.
            Ok(Buf::from_vec(
                (0..len)
                    .map(|i| unsafe { p.add(i).read_unaligned() })
                    .collect(),
            ))
        }
    }

    /// The validity bitmap (buffer 0) of `arr`, `None` when nothing is null.
    ///
    /// # Safety
    /// `arr` is a valid array owned (directly or as a descendant) by `self.owner`.
    unsafe fn validity(&self, arr: &FFI_ArrowArray) -> Result<Option<Bitmap>> {
        if arr.num_buffers() == 0 || arr.null_count_opt() == Some(0) || arr.is_empty() {
            return Ok(None);
        }
        let ptr = arr.buffer(0);
        if ptr.is_null() {
            return Ok(None);
        }
        let (n, off) = (arr.len(), arr.offset());
        // SAFETY: a validity buffer holds at least offset + length bits.
        let bytes = unsafe { self.share::<u8>(ptr, 0, (off + n).div_ceil(8))? };
        Ok(normalize(Some(
            Bitmap::from_bytes(bytes, off + n).slice(off, n),
        )))
    }

    /// Offsets (buffer `i`) as i64, `n + 1` entries from the array's offset.
    ///
    /// # Safety
    /// `arr` is a valid array owned by `self.owner` whose buffer `i` holds offsets.
    unsafe fn offsets(&self, arr: &FFI_ArrowArray, i: usize, large: bool) -> Result<Buf<i64>> {
        let (n, off) = (arr.len(), arr.offset());
        let ptr = arr.buffer(i);
        if ptr.is_null() && n == 0 {
            return Ok(Buf::from_vec(vec![0]));
        }
        // SAFETY: an offsets buffer holds offset + length + 1 entries.
        unsafe {
            if large {
                self.share::<i64>(ptr, off, n + 1)
            } else {
                let o = self.share::<i32>(ptr, off, n + 1)?;
                Ok(Buf::from_vec(o.iter().map(|&x| i64::from(x)).collect()))
            }
        }
    }

    /// The layout of `arr`, of Arrow type `dt`.
    ///
    /// # Safety
    /// `arr` is a valid array of type `dt` owned (directly or as a descendant) by `self.owner`.
    unsafe fn node(&self, dt: &DataType, arr: &FFI_ArrowArray) -> Result<Layout> {
        let (n, off) = (arr.len(), arr.offset());
        match dt {
            DataType::Null if n == 0 => Ok(Layout::Leaf(Leaf::valid(Values::empty(DType::Float64)))),
            DataType::Null => Err(Error::new(
                Code::DType,
                "an all-null Arrow array has no dtype",
                format!("the Arrow type is null ({n} nulls)"),
                "cast it first, e.g. a.cast(pa.float64())",
            )),
            DataType::Boolean => {
                need(arr, 2, 0)?;
                // SAFETY: the bits buffer holds offset + length bits.
                let bits = unsafe { self.share::<u8>(arr.buffer(1), 0, (off + n).div_ceil(8))? };
                let b = Bitmap::from_bytes(bits, off + n).slice(off, n);
                // SAFETY: `arr` is valid (this function's contract).
                let valid = unsafe { self.validity(arr)? };
                Ok(Layout::Leaf(Leaf::new(Values::from(b.to_bools()), valid)))
            }
            // SAFETY (every primitive arm): `arr` is valid and of this type (the contract).
            DataType::Int8 => unsafe { self.leaf::<i8>(arr) },
            DataType::Int16 => unsafe { self.leaf::<i16>(arr) },
            DataType::Int32 => unsafe { self.leaf::<i32>(arr) },
            DataType::Int64 => unsafe { self.leaf::<i64>(arr) },
            DataType::UInt8 => unsafe { self.leaf::<u8>(arr) },
            DataType::UInt16 => unsafe { self.leaf::<u16>(arr) },
            DataType::UInt32 => unsafe { self.leaf::<u32>(arr) },
            DataType::UInt64 => unsafe { self.leaf::<u64>(arr) },
            DataType::Float32 => unsafe { self.leaf::<f32>(arr) },
            DataType::Float64 => unsafe { self.leaf::<f64>(arr) },
            DataType::Utf8 | DataType::LargeUtf8 => {
                need(arr, 3, 0)?;
                // SAFETY: a (large) utf8 array has offsets in buffer 1.
                let offsets = unsafe { self.offsets(arr, 1, *dt == DataType::LargeUtf8)? };
                let hi = offsets.last().copied().unwrap_or(0);
                validate_offsets(&offsets, hi.max(0) as usize, 0)?;
                // SAFETY: the data buffer holds at least the last offset's bytes.
                let bytes = unsafe { self.share::<u8>(arr.buffer(2), 0, hi as usize)? };
                // SAFETY: `arr` is valid (this function's contract).
                let valid = unsafe { self.validity(arr)? };
                Ok(Layout::Leaf(Leaf::new(
                    Values::Str(StrValues { offsets, bytes }),
                    valid,
                )))
            }
            DataType::List(f) | DataType::LargeList(f) => {
                need(arr, 2, 1)?;
                // SAFETY: a (large) list array has offsets in buffer 1 and one child of the
                // field's type (checked present by `need`), owned by the same array.
                let offsets = unsafe { self.offsets(arr, 1, matches!(dt, DataType::LargeList(_)))? };
                // SAFETY: as above.
                let child = unsafe { self.node(f.data_type(), arr.child(0))? };
                validate_offsets(&offsets, child.len(), 0)?;
                // SAFETY: `arr` is valid (this function's contract).
                let valid = unsafe { self.validity(arr)? };
                empty_null_lists(Layout::List(List::new(offsets, valid, child)))
            }
            DataType::FixedSizeList(f, size) => {
                need(arr, 1, 1)?;
                let size = *size as i64;
                let offsets: Vec<i64> = (off..=off + n).map(|i| i as i64 * size).collect();
                // SAFETY: a fixed-size list has one child of the field's type (`need` checked).
                let child = unsafe { self.node(f.data_type(), arr.child(0))? };
                validate_offsets(&offsets, child.len(), 0)?;
                // SAFETY: `arr` is valid (this function's contract).
                let valid = unsafe { self.validity(arr)? };
                empty_null_lists(Layout::List(List::new(Buf::from_vec(offsets), valid, child)))
            }
            DataType::Union(fields, mode) => {
                let dense = *mode == UnionMode::Dense;
                need(arr, if dense { 2 } else { 1 }, fields.len())?;
                // SAFETY: type ids hold offset + length entries; dense offsets likewise.
                let codes = unsafe { self.share::<i8>(arr.buffer(0), off, n)? };
                let index: Buf<i64> = if dense {
                    // SAFETY: a dense union's buffer 1 holds offset + length i32 offsets.
                    let o = unsafe { self.share::<i32>(arr.buffer(1), off, n)? };
                    Buf::from_vec(o.iter().map(|&x| i64::from(x)).collect())
                } else {
                    Buf::from_vec((off..off + n).map(|i| i as i64).collect())
                };
                let mut parts = Vec::new();
                let mut ids = Vec::new();
                for (k, (id, f)) in fields.iter().enumerate() {
                    // SAFETY: a union has one child per field, of that field's type.
                    parts.push(unsafe { self.node(f.data_type(), arr.child(k))? });
                    ids.push(id);
                }
                let part_of = |code: i8| ids.iter().position(|&c| c == code);
                union_of(parts, &codes, part_of, index)
            }
            DataType::Struct(_) => Err(unsupported(
                "the Arrow array holds records (struct)",
                "convert each field and build a dataframe: gr.dataframe({name: gr.from_arrow(col) for name, col in zip(t.column_names, t.columns)})",
            )),
            DataType::Dictionary(_, _) => Err(unsupported(
                "the Arrow array is dictionary-encoded",
                "decode it first: a.dictionary_decode()",
            )),
            other => Err(unsupported(
                format!("Arrow type {other} has no grumpy equivalent"),
                "cast it to a number, string or list type first (pyarrow.compute.cast)",
            )),
        }
    }

    /// A primitive leaf of `T`.
    ///
    /// # Safety
    /// `arr` is a valid primitive array of `T` owned by `self.owner`.
    unsafe fn leaf<T: crate::buffer::Native>(&self, arr: &FFI_ArrowArray) -> Result<Layout> {
        need(arr, 2, 0)?;
        // SAFETY: a primitive values buffer holds offset + length elements.
        let v = unsafe { self.share::<T>(arr.buffer(1), arr.offset(), arr.len())? };
        // SAFETY: `arr` is valid (this function's contract).
        let valid = unsafe { self.validity(arr)? };
        Ok(Layout::Leaf(Leaf::new(T::wrap(v), valid)))
    }
}
