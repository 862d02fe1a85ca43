//! Low-level Zarr buffer I/O: 1-D arrays of a core dtype, written and read chunk by chunk
//! (chunks in parallel with Rayon).

use crate::error::{corrupt, io_error, store_error, Error, Result};
use grumpy_core::buffer::{Buf, Native, Values};
use grumpy_core::{with_dtype, with_values, DType};
use rayon::prelude::*;
use std::sync::Arc;
use zarrs::array::codec::{Crc32cCodec, ZstdCodec};
use zarrs::array::{
    data_type, Array, ArrayBuilder, CodecOptions, DataType, Element, ElementOwned, FillValue,
};
use zarrs::storage::ReadableWritableListableStorageTraits;

/// The storage every store handle uses.
pub(crate) type Storage = Arc<dyn ReadableWritableListableStorageTraits>;
/// A 1-D Zarr array on [`Storage`].
pub(crate) type ZArray = Array<dyn ReadableWritableListableStorageTraits>;

/// Compression of the leaf chunks (`crc32c` is always added after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// No compression (`bytes` + `crc32c`).
    None,
    /// `zstd` at a level (default 1: fast, still shrinks offsets and masks a lot).
    Zstd(i32),
}

impl Codec {
    /// Parse `"zstd"`, `"zstd:5"` (level -7..=22), or `"none"`.
    ///
    /// ```
    /// use grumpy_zarr::Codec;
    /// assert_eq!(Codec::parse("zstd").unwrap(), Codec::Zstd(1));
    /// assert_eq!(Codec::parse("zstd:9").unwrap(), Codec::Zstd(9));
    /// assert!(Codec::parse("lz4").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Codec> {
        let bad = || {
            Error::new(
                grumpy_core::Code::Argument,
                format!("unknown codec {s:?}"),
                "this build writes zstd (any level -7..=22) or no compression",
                "pass codec=\"zstd\" (default), \"zstd:<level>\" or \"none\"",
            )
        };
        match s {
            "none" | "raw" => Ok(Codec::None),
            "zstd" => Ok(Codec::Zstd(1)),
            other => {
                let level: i32 = other
                    .strip_prefix("zstd:")
                    .and_then(|l| l.parse().ok())
                    .ok_or_else(bad)?;
                if (-7..=22).contains(&level) {
                    Ok(Codec::Zstd(level))
                } else {
                    Err(bad())
                }
            }
        }
    }

    /// The name recorded in the store attributes.
    pub fn name(self) -> String {
        match self {
            Codec::None => "none".into(),
            Codec::Zstd(1) => "zstd".into(),
            Codec::Zstd(l) => format!("zstd:{l}"),
        }
    }
}

/// Zarr data type of a (non-string) dtype.
pub(crate) fn zarr_dtype(d: DType) -> DataType {
    match d {
        DType::Bool => data_type::bool(),
        DType::Int8 => data_type::int8(),
        DType::Int16 => data_type::int16(),
        DType::Int32 => data_type::int32(),
        DType::Int64 => data_type::int64(),
        DType::UInt8 | DType::String => data_type::uint8(),
        DType::UInt16 => data_type::uint16(),
        DType::UInt32 => data_type::uint32(),
        DType::UInt64 => data_type::uint64(),
        DType::Float32 => data_type::float32(),
        DType::Float64 => data_type::float64(),
    }
}

pub(crate) fn options() -> CodecOptions {
    CodecOptions::default()
        .with_store_empty_chunks(true)
        .with_concurrent_target(1)
}

/// Create (and store the metadata of) a 1-D array `/name`.
pub(crate) fn create_array(
    store: &Storage,
    name: &str,
    dtype: DType,
    len: u64,
    chunk: u64,
    codec: Codec,
) -> Result<ZArray> {
    let d = if dtype == DType::String {
        DType::UInt8
    } else {
        dtype
    };
    let fill: FillValue = with_dtype!(d, T => FillValue::from(T::default()), FillValue::from(0u8));
    let mut b = ArrayBuilder::new(vec![len], vec![chunk.max(1)], zarr_dtype(dtype), fill);
    let mut codecs: Vec<Arc<dyn zarrs::array::BytesToBytesCodecTraits>> = Vec::new();
    if let Codec::Zstd(level) = codec {
        codecs.push(Arc::new(ZstdCodec::new(level, false)));
    }
    codecs.push(Arc::new(Crc32cCodec::new()));
    b.bytes_to_bytes_codecs(codecs);
    let arr = b
        .build(store.clone(), &format!("/{name}"))
        .map_err(|e| io_error(name, e))?;
    arr.store_metadata().map_err(|e| io_error(name, e))?;
    Ok(arr)
}

/// Open `/name` and check its dtype.
pub(crate) fn open_array(store: &Storage, name: &str, dtype: DType) -> Result<ZArray> {
    let arr = Array::open(store.clone(), &format!("/{name}")).map_err(|e| {
        store_error(
            format!("buffer {name} is missing or unreadable"),
            e.to_string(),
            "the store is incomplete; save the data again with gr.save",
        )
    })?;
    if arr.data_type() != &zarr_dtype(dtype) || arr.shape().len() != 1 {
        return Err(store_error(
            format!("buffer {name} has the wrong data type or shape"),
            format!(
                "expected a 1-D {} array, found {:?} with shape {:?}",
                dtype,
                arr.data_type(),
                arr.shape()
            ),
            "the store was modified by another tool; save the data again with gr.save",
        ));
    }
    Ok(arr)
}

/// Chunk length of a 1-D array.
pub(crate) fn chunk_len(arr: &ZArray) -> Result<u64> {
    arr.chunk_shape(&[0])
        .map(|s| s[0].get())
        .map_err(|e| corrupt(arr.path(), e))
}

/// Write `new` at element `start` of `arr` (chunk length `cl`). `head` holds the elements
/// already stored in the chunk containing `start` (those before `start`), so that chunk is
/// rewritten whole. Chunks are encoded in parallel.
pub(crate) fn write_elems<T: Element + Native>(
    arr: &ZArray,
    cl: usize,
    start: usize,
    head: &[T],
    new: &[T],
) -> Result<()> {
    debug_assert_eq!(start % cl, head.len());
    let first = start / cl;
    let total = head.len() + new.len();
    let nchunks = total.div_ceil(cl);
    let opts = options();
    let write = |k: usize| -> Result<()> {
        let mut chunk: Vec<T> = Vec::with_capacity(cl);
        let lo = k * cl;
        let hi = (lo + cl).min(total);
        // element j of the virtual sequence head ++ new
        if lo < head.len() {
            chunk.extend_from_slice(&head[lo..head.len().min(hi)]);
        }
        let (nlo, nhi) = (lo.max(head.len()) - head.len(), hi - head.len());
        if nhi > nlo {
            chunk.extend_from_slice(&new[nlo..nhi]);
        }
        chunk.resize(cl, T::default());
        arr.store_chunk_opt(&[(first + k) as u64], chunk, &opts)
            .map_err(|e| io_error(arr.path(), e))
    };
    if nchunks > 1 {
        (0..nchunks).into_par_iter().try_for_each(write)
    } else {
        (0..nchunks).try_for_each(write)
    }
}

/// Write a whole [`Values`] buffer (numeric; strings are split before) from element `start`.
pub(crate) fn write_values(
    arr: &ZArray,
    cl: usize,
    start: usize,
    head: &Values,
    new: &Values,
) -> Result<()> {
    with_values!(new, b, T => {
        let h = head.as_slice::<T>().unwrap_or(&[]);
        write_elems::<T>(arr, cl, start, h, b.as_slice())
    }, _s => Err(store_error("internal: string buffer written unsplit", "", "report this bug")))
}

/// Decode chunk `c` of `arr` (a missing chunk is corruption, never the fill value).
pub(crate) fn read_chunk<T: ElementOwned>(arr: &ZArray, c: u64, cl: usize) -> Result<Vec<T>> {
    let v: Option<Vec<T>> = arr
        .retrieve_chunk_if_exists_opt(&[c], &options())
        .map_err(|e| corrupt(arr.path(), e))?;
    let v = v.ok_or_else(|| {
        store_error(
            format!("buffer {} is missing chunk {c}", arr.path()),
            "a chunk inside the recorded length is not in the store",
            "the store was truncated or damaged; save the data again with gr.save",
        )
    })?;
    if v.len() != cl {
        return Err(corrupt(
            arr.path(),
            format!("chunk {c} has {} elements, expected {cl}", v.len()),
        ));
    }
    Ok(v)
}

/// Wrap a decoded vector as [`Values`].
pub(crate) fn wrap<T: Native>(v: Vec<T>) -> Values {
    T::wrap(Buf::from_vec(v))
}
