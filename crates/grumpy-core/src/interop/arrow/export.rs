//! Layout → Arrow C Data Interface (`ArrowSchema` + `ArrowArray`), sharing grumpy's buffers.
//!
//! Every exported Arrow buffer is a view of a grumpy [`Buf`] whose `Arc` the Arrow side holds
//! until the consumer calls `release`, so no values are copied. Copies happen only where the
//! layouts differ: bool values (bytes → bits), union indices (i64 → Arrow's i32 offsets) and
//! validity bitmaps that do not start on a byte boundary.

use super::{large_list, union_fields};
use crate::buffer::{Bitmap, Buf, Native, Values};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf};
use crate::with_values;
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ffi::FFI_ArrowArray;
use arrow_data::{ArrayData, ArrayDataBuilder};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{DataType, UnionMode};
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;
use std::sync::Arc;

/// Export `layout` through the C Data Interface (zero copy where the layouts agree; see the
/// module docs of [`super`]).
pub fn export(layout: &Layout) -> Result<(FFI_ArrowSchema, FFI_ArrowArray)> {
    let data = array_data(layout)?;
    let schema = FFI_ArrowSchema::try_from(data.data_type()).map_err(arrow_error)?;
    Ok((schema, FFI_ArrowArray::new(&data)))
}

/// The Arrow type a layout exports as.
pub fn data_type(layout: &Layout) -> DataType {
    match layout {
        Layout::Leaf(l) => leaf_type(&l.values),
        Layout::List(l) => large_list(data_type(&l.child)),
        Layout::Union(u) => DataType::Union(
            union_fields(data_type(&u.scalar), data_type(&u.list)),
            UnionMode::Dense,
        ),
    }
}

fn leaf_type(v: &Values) -> DataType {
    match v {
        Values::Bool(_) => DataType::Boolean,
        Values::I8(_) => DataType::Int8,
        Values::I16(_) => DataType::Int16,
        Values::I32(_) => DataType::Int32,
        Values::I64(_) => DataType::Int64,
        Values::U8(_) => DataType::UInt8,
        Values::U16(_) => DataType::UInt16,
        Values::U32(_) => DataType::UInt32,
        Values::U64(_) => DataType::UInt64,
        Values::F32(_) => DataType::Float32,
        Values::F64(_) => DataType::Float64,
        Values::Str(_) => DataType::LargeUtf8,
    }
}

pub(super) fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::new(
        Code::Unsupported,
        "Arrow conversion failed",
        e.to_string(),
        "report this with the array that triggered it",
    )
}

/// An Arrow buffer viewing `b` (the Arrow side keeps `b`'s storage alive).
fn share<T: Send + Sync + 'static>(b: &Buf<T>) -> Buffer {
    let bytes = std::mem::size_of_val(b.as_slice());
    let ptr = NonNull::new(b.as_ptr() as *mut u8).unwrap_or(NonNull::dangling());
    let owner = Arc::new(AssertUnwindSafe(b.clone()));
    // SAFETY: `ptr` is valid for `bytes` bytes for as long as `owner` (a clone of the buffer's
    // Arc) lives; grumpy never writes to shared storage (copy-on-write), so the bytes do not
    // change while Arrow reads them. A zero-length buffer is never dereferenced.
    unsafe { Buffer::from_custom_allocation(ptr, bytes, owner) }
}

fn nulls(v: Option<&Bitmap>) -> Option<NullBuffer> {
    let v = v.filter(|b| b.null_count() > 0)?;
    let (bits, offset) = v.raw_parts();
    Some(NullBuffer::new(BooleanBuffer::new(
        share(bits),
        offset,
        v.len(),
    )))
}

fn leaf_data(l: &Leaf) -> Result<ArrayData> {
    let n = l.len();
    let b = ArrayDataBuilder::new(leaf_type(&l.values))
        .len(n)
        .nulls(nulls(l.validity.as_ref()));
    let b = with_values!(&l.values, buf, T => {
        if T::DTYPE == crate::dtype::DType::Bool {
            let bits = Bitmap::from_bools(&(0..n).map(|i| buf[i].to_i64() != 0).collect::<Vec<_>>());
            b.add_buffer(share(&bits.to_packed()))
        } else {
            b.add_buffer(share(buf))
        }
    }, s => b.add_buffer(share(&s.offsets)).add_buffer(share(&s.bytes)));
    build(b)
}

fn build(b: ArrayDataBuilder) -> Result<ArrayData> {
    if cfg!(debug_assertions) {
        return b.build().map_err(arrow_error);
    }
    // SAFETY: grumpy layouts are validated when built (offsets monotonic and within the child,
    // union indices within their content, strings UTF-8), which is what Arrow's validation
    // checks; release builds skip the O(n) re-check (debug builds run it above).
    Ok(unsafe { b.build_unchecked() })
}

fn array_data(layout: &Layout) -> Result<ArrayData> {
    match layout {
        Layout::Leaf(l) => leaf_data(l),
        Layout::List(l) => {
            let child = array_data(&l.child)?;
            build(
                ArrayDataBuilder::new(data_type(layout))
                    .len(l.len())
                    .nulls(nulls(l.validity.as_ref()))
                    .add_buffer(share(&l.offsets))
                    .add_child_data(child),
            )
        }
        Layout::Union(u) => {
            let offsets: Vec<i32> = u
                .index
                .iter()
                .map(|&i| i32::try_from(i))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| {
                    Error::new(
                        Code::Unsupported,
                        "union too large for Arrow",
                        "Arrow's dense unions index their children with 32-bit offsets",
                        "split the array into batches below 2**31 rows per content",
                    )
                })?;
            build(
                ArrayDataBuilder::new(data_type(layout))
                    .len(u.len())
                    .add_buffer(share(&u.tags))
                    .add_buffer(Buffer::from_vec(offsets))
                    .add_child_data(array_data(&u.scalar)?)
                    .add_child_data(array_data(&u.list)?),
            )
        }
    }
}
