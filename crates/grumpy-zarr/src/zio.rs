//! Low-level Zarr buffer I/O: 1-D arrays of a core dtype, written and read chunk by chunk
//! (chunks in parallel with Rayon). Writers use [`Storage`] (read + write + list); readers use
//! [`RStorage`] (read only), so read-only backends (HTTP) plug in.

use crate::blosc::Compressor;
use crate::direct::Direct;
use crate::error::{corrupt, io_error, store_error, Error, Result};
use crate::plain::{self, PlainElem};
use grumpy_core::buffer::{Native, Values};
use grumpy_core::{with_dtype, with_values, DType};
use rayon::prelude::*;
use std::sync::Arc;
use zarrs::array::codec::{Crc32cCodec, GzipCodec, ShuffleCodec, ZstdCodec};
use zarrs::array::{
    data_type, Array, ArrayBuilder, ArrayBytes, ArrayShardedExt, ArrayShardedReadableExt,
    ArrayShardedReadableExtCache, CodecOptions, DataType, Element, ElementOwned, FillValue,
};
use zarrs::storage::{ReadableStorageTraits, ReadableWritableListableStorageTraits, StoreKey};

/// The storage every writing handle uses.
pub(crate) type Storage = Arc<dyn ReadableWritableListableStorageTraits>;
/// A 1-D Zarr array on [`Storage`].
pub(crate) type ZArray = Array<dyn ReadableWritableListableStorageTraits>;
/// Read-only storage (local directory or URL).
pub(crate) type RStorage = Arc<dyn ReadableStorageTraits>;
/// A 1-D Zarr array on [`RStorage`].
pub(crate) type RArray = Array<dyn ReadableStorageTraits>;

/// Compression of the leaf chunks (`crc32c` is always added after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// No compression (`bytes` + `crc32c`).
    None,
    /// `"zstd"`, the default: zstd level 1 on every buffer it shrinks by at least 10% (judged
    /// on four 32 KiB windows spread over the buffer), no compression on the others. Offsets,
    /// masks, tags and most integer data compress well; noisy float coordinates do not (zstd
    /// saves a few percent there and makes every read 3–4× slower), so they are stored raw.
    /// Integer buffers of two bytes or more (offsets above all) are byte-shuffled before zstd,
    /// inside the core `blosc` codec (`cname` zstd, level 1, blocks of 256 KiB): offsets
    /// compress and decode 4–6× faster than as plain zstd, to a slightly smaller size (see
    /// [`crate::blosc`]). Masks, tags, strings and floats that compress get plain `zstd`.
    Auto,
    /// `"zstd+shuffle"`: [`Codec::Auto`], with integer buffers of two bytes or more (offsets
    /// above all) byte-shuffled before zstd (`numcodecs.shuffle`, see [`crate::shuffle`]):
    /// those chunks are a fifth smaller and decode several times faster (a protein store's
    /// `gr.open(p)[a:b]` scan ~20% faster, `gr.load` ~15%). `numcodecs.shuffle` is a registered
    /// Zarr v3 extension, not a core codec: zarrs and zarr-python 3 read it, zarr-python with a
    /// `ZarrUserWarning`; the default stays with core codecs.
    ZstdShuffle,
    /// `zstd` at a level on every buffer (`"zstd:<level>"`).
    Zstd(i32),
    /// `gzip` at a level 0..=9 (pure Rust; slower than zstd, for readers without zstd).
    Gzip(u32),
    /// `"blosc"` (lz4, level 5: zarr-python 2's default), `"blosc:<compressor>"` or
    /// `"blosc:<compressor>:<level>"` (compressor `lz4`, `blosclz` or `zstd`, level 1..=9):
    /// the core Zarr v3 `blosc` codec with byte shuffle on every buffer it shrinks by at least
    /// 10% (judged as [`Codec::Auto`] does, on the shuffled sample), no compression on the
    /// others. See [`crate::blosc`].
    Blosc(Compressor, u8),
}

impl Codec {
    /// Parse `"zstd"` ([`Codec::Auto`]), `"zstd+shuffle"` ([`Codec::ZstdShuffle`]), `"zstd:5"`
    /// (level -7..=22, on every buffer), `"gzip"`, `"gzip:9"` (level 0..=9), or `"none"`.
    ///
    /// ```
    /// use grumpy_zarr::{blosc::Compressor, Codec};
    /// assert_eq!(Codec::parse("zstd").unwrap(), Codec::Auto);
    /// assert_eq!(Codec::parse("zstd+shuffle").unwrap(), Codec::ZstdShuffle);
    /// assert_eq!(Codec::parse("zstd:1").unwrap(), Codec::Zstd(1));
    /// assert_eq!(Codec::parse("zstd:9").unwrap(), Codec::Zstd(9));
    /// assert_eq!(Codec::parse("gzip").unwrap(), Codec::Gzip(5));
    /// assert_eq!(Codec::parse("blosc").unwrap(), Codec::Blosc(Compressor::Lz4, 5));
    /// assert_eq!(Codec::parse("blosc:zstd:3").unwrap(), Codec::Blosc(Compressor::Zstd, 3));
    /// assert!(Codec::parse("lz4").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Codec> {
        let bad = || {
            Error::new(
                grumpy_core::Code::Argument,
                format!("unknown codec {s:?}"),
                "this build writes zstd (levels -7..=22), blosc (lz4, blosclz or zstd inside, \
                 levels 1..=9), gzip (levels 0..=9) or no compression",
                "pass codec=\"zstd\" (default), \"zstd+shuffle\", \"zstd:<level>\", \"blosc\", \
                 \"blosc:<lz4|blosclz|zstd>[:<level>]\", \"gzip\", \"gzip:<level>\" or \"none\"",
            )
        };
        let level =
            |prefix: &str| -> Option<i64> { s.strip_prefix(prefix).and_then(|l| l.parse().ok()) };
        match s {
            "none" | "raw" => Ok(Codec::None),
            "zstd" => Ok(Codec::Auto),
            "zstd+shuffle" => Ok(Codec::ZstdShuffle),
            "gzip" => Ok(Codec::Gzip(5)),
            "blosc" => Ok(Codec::Blosc(Compressor::Lz4, 5)),
            _ if s.starts_with("blosc:") => {
                let mut parts = s["blosc:".len()..].split(':');
                let c = parts.next().and_then(Compressor::parse).ok_or_else(bad)?;
                let level = match parts.next() {
                    None => 5,
                    Some(l) => l
                        .parse::<u8>()
                        .ok()
                        .filter(|l| (1..=9).contains(l))
                        .ok_or_else(bad)?,
                };
                if parts.next().is_some() {
                    return Err(bad());
                }
                Ok(Codec::Blosc(c, level))
            }
            _ => match (level("zstd:"), level("gzip:")) {
                (Some(l), _) if (-7..=22).contains(&l) => Ok(Codec::Zstd(l as i32)),
                (_, Some(l)) if (0..=9).contains(&l) => Ok(Codec::Gzip(l as u32)),
                _ => Err(bad()),
            },
        }
    }

    /// The name recorded in the store attributes.
    pub fn name(self) -> String {
        match self {
            Codec::None => "none".into(),
            Codec::Auto => "zstd".into(),
            Codec::ZstdShuffle => "zstd+shuffle".into(),
            Codec::Zstd(l) => format!("zstd:{l}"),
            Codec::Gzip(5) => "gzip".into(),
            Codec::Gzip(l) => format!("gzip:{l}"),
            Codec::Blosc(Compressor::Lz4, 5) => "blosc".into(),
            Codec::Blosc(c, 5) => format!("blosc:{}", c.name()),
            Codec::Blosc(c, l) => format!("blosc:{}:{l}", c.name()),
        }
    }
}

/// [`Codec::Auto`] judges a buffer on this many windows, spread evenly over it (first and
/// last included), of [`SAMPLE_WINDOW`] bytes each: 128 KiB in all, so the decision costs
/// ~0.2 ms per buffer, and a buffer whose head differs from its body is judged on both.
const SAMPLE_WINDOWS: usize = 4;
/// Bytes of one sample window.
const SAMPLE_WINDOW: usize = 32 << 10;

impl Codec {
    /// The codec to write `values` with: [`Codec::Auto`] becomes `Zstd(1)` when zstd shrinks a
    /// sample (four 32 KiB windows spread over the buffer) by at least 10% (or the buffer is
    /// tiny), else `None`; for integers of two bytes or more it becomes `Blosc(Zstd, 1)`
    /// instead (judged on the shuffled sample). [`Codec::ZstdShuffle`] and [`Codec::Blosc`]
    /// the same, staying themselves for a buffer they compress (shuffled where they shuffle);
    /// any other codec is returned as is.
    pub(crate) fn for_values(self, values: &Values) -> Codec {
        if !matches!(self, Codec::Auto | Codec::ZstdShuffle | Codec::Blosc(..)) {
            return self;
        }
        let dtype = values.dtype();
        let blosc = match self {
            Codec::Blosc(c, l) => Some((c, l)),
            Codec::Auto if dtype.is_integer() && dtype.itemsize() > 1 => {
                Some((Compressor::Zstd, 1))
            }
            _ => None,
        };
        let shuffled = shuffles(values.dtype(), self) || blosc.is_some();
        let compressed = match blosc {
            Some((c, l)) => Codec::Blosc(c, l),
            None if shuffled => self,
            None => Codec::Zstd(1),
        };
        let sample: Vec<u8> = with_values!(values, b, T => {
            let s = b.as_slice();
            let per = (SAMPLE_WINDOW / std::mem::size_of::<T>().max(1)).max(1);
            let mut picked: Vec<T> = Vec::with_capacity(per * SAMPLE_WINDOWS);
            for (lo, hi) in windows(s.len(), per) {
                picked.extend_from_slice(&s[lo..hi]);
            }
            match T::into_array_bytes(&zarr_dtype(values.dtype()), picked) {
                Ok(ArrayBytes::Fixed(c)) => c.into_owned(),
                _ => return compressed,
            }
        }, s => {
            let bytes = s.bytes.as_slice();
            windows(bytes.len(), SAMPLE_WINDOW)
                .flat_map(|(lo, hi)| bytes[lo..hi].iter().copied())
                .collect()
        });
        if sample.len() < 4096 {
            return compressed;
        }
        // judged as written: shuffled first when the buffer would be
        let k = values.dtype().itemsize();
        let sample = if shuffled && sample.len().is_multiple_of(k) {
            let mut s = vec![0u8; sample.len()];
            crate::shuffle::shuffle(&sample, &mut s, k);
            s
        } else {
            sample
        };
        match zstd::bulk::compress(&sample, 1) {
            Ok(c) if c.len() * 10 <= sample.len() * 9 => compressed,
            _ => Codec::None,
        }
    }
}

/// [`SAMPLE_WINDOWS`] disjoint windows of `per` elements spread evenly over `len` elements
/// (the whole range when it is shorter than all of them).
fn windows(len: usize, per: usize) -> impl Iterator<Item = (usize, usize)> {
    let k = SAMPLE_WINDOWS;
    let whole = len <= per * k;
    (0..if whole { 1 } else { k }).map(move |i| {
        if whole {
            (0, len)
        } else {
            // window i starts i/(k-1) of the way through the last possible start
            let lo = (len - per) * i / (k - 1);
            (lo, lo + per)
        }
    })
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

/// Block size of a blosc chain with zstd inside (at most; a smaller chunk is one block). c-blosc
/// decodes each chunk through a temporary buffer of two blocks, so the block bounds the memory a
/// reading thread needs on top of the data; 256 KiB blocks compress offsets as well as whole
/// 1 MiB chunks.
pub(crate) const BLOSC_ZSTD_BLOCK: usize = 256 << 10;

/// A buffer created with more than this many chunks is written as `sharding_indexed` shards.
pub(crate) const SHARD_THRESHOLD: u64 = 64;
/// Chunks per shard of a sharded buffer (the chunks are the shards' inner chunks).
pub(crate) const SHARD_CHUNKS: u64 = 64;

/// Create (and store the metadata of) a 1-D array `/name` with chunks of `chunk` elements;
/// with more than [`SHARD_THRESHOLD`] chunks they are grouped [`SHARD_CHUNKS`] to a shard.
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
    let chunk = chunk.max(1);
    let sharded = len.div_ceil(chunk) > SHARD_THRESHOLD;
    let outer = if sharded { chunk * SHARD_CHUNKS } else { chunk };
    let mut b = ArrayBuilder::new(vec![len], vec![outer], zarr_dtype(dtype), fill);
    if sharded {
        // chunks become the inner chunks of `sharding_indexed` shards (one file per shard)
        b.subchunk_shape(vec![chunk]);
    }
    let mut codecs: Vec<Arc<dyn zarrs::array::BytesToBytesCodecTraits>> = Vec::new();
    if shuffles(d, codec) {
        codecs.push(Arc::new(ShuffleCodec::new(d.itemsize())));
    }
    match codec {
        Codec::Auto | Codec::ZstdShuffle => codecs.push(Arc::new(ZstdCodec::new(1, false))),
        Codec::Zstd(level) => codecs.push(Arc::new(ZstdCodec::new(level, false))),
        Codec::Gzip(level) => codecs.push(Arc::new(
            GzipCodec::new(level).map_err(|e| io_error(name, e))?,
        )),
        Codec::Blosc(compressor, level) => {
            let b = crate::blosc::Blosc {
                compressor,
                level,
                typesize: d.itemsize().max(1),
                // zstd compresses large blocks better (and decodes them faster) than blosc's
                // default small ones; lz4 and blosclz are at their best with blosc's blocks
                blocksize: if compressor == Compressor::Zstd {
                    (chunk as usize)
                        .saturating_mul(d.itemsize().max(1))
                        .min(BLOSC_ZSTD_BLOCK)
                } else {
                    0
                },
            };
            codecs.push(Arc::new(b.codec().map_err(|e| io_error(name, e))?));
        }
        Codec::None => {}
    }
    codecs.push(Arc::new(Crc32cCodec::new()));
    b.bytes_to_bytes_codecs(codecs);
    let arr = b
        .build(store.clone(), &format!("/{name}"))
        .map_err(|e| io_error(name, e))?;
    arr.store_metadata().map_err(|e| io_error(name, e))?;
    Ok(arr)
}

/// Whether a buffer of `dtype` written with `codec` is byte-shuffled before zstd
/// (`numcodecs.shuffle`, see [`crate::shuffle`]): with [`Codec::ZstdShuffle`], integers of two
/// bytes or more. Their high bytes (offsets above all) then compress into a few long runs.
pub(crate) fn shuffles(dtype: DType, codec: Codec) -> bool {
    codec == Codec::ZstdShuffle && dtype.is_integer() && dtype.itemsize() > 1
}

/// Open `/name` and check its dtype.
pub(crate) fn open_array<S: ?Sized + ReadableStorageTraits + 'static>(
    store: &Arc<S>,
    name: &str,
    dtype: DType,
) -> Result<Array<S>> {
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

/// Chunk length of a 1-D array: the unit reads decode (a shard's inner chunk when sharded).
pub(crate) fn chunk_len<S: ?Sized>(arr: &Array<S>) -> Result<u64> {
    match arr.subchunk_shape() {
        Some(s) if arr.is_sharded() => Ok(s[0].get()),
        _ => write_len(arr),
    }
}

/// Length of the unit written whole: the Zarr chunk (a whole shard when sharded).
pub(crate) fn write_len<S: ?Sized>(arr: &Array<S>) -> Result<u64> {
    arr.chunk_shape(&[0])
        .map(|s| s[0].get())
        .map_err(|e| corrupt(arr.path(), e))
}

/// Write `new` at element `start` of `arr`. `head` holds the elements already stored in the
/// write unit ([`write_len`]: the chunk, or the shard) containing `start` (those before
/// `start`), so that unit is rewritten whole. Chunks are encoded in parallel (the shards one
/// after the other, each with its inner chunks in parallel).
pub(crate) fn write_elems<T: Element + Native>(
    arr: &ZArray,
    start: usize,
    head: &[T],
    new: &[T],
) -> Result<()> {
    let cl = write_len(arr)? as usize;
    debug_assert_eq!(start % cl, head.len());
    let first = start / cl;
    let total = head.len() + new.len();
    let nchunks = total.div_ceil(cl);
    let sharded = arr.is_sharded();
    let opts = if sharded {
        options().with_concurrent_target(rayon::current_num_threads())
    } else {
        options()
    };
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
    if nchunks > 1 && !sharded {
        (0..nchunks).into_par_iter().try_for_each(write)
    } else {
        (0..nchunks).try_for_each(write)
    }
}

/// Decode chunk `c` of `arr` (a missing chunk is corruption, never the fill value). In a
/// sharded buffer chunk `c` is an inner chunk: a missing shard is corruption; an inner chunk
/// absent from an existing shard's (checksummed) index holds fill values, as Zarr defines (the
/// sharding codec never stores an all-fill inner chunk).
pub(crate) fn read_chunk<T, S>(arr: &Array<S>, c: u64, cl: usize) -> Result<Vec<T>>
where
    T: ElementOwned + PlainElem + Default + Clone,
    S: ?Sized + ReadableStorageTraits + 'static,
{
    if let Some(how) = plain::chain(arr) {
        let mut v = crate::guard::alloc::<T>(cl)?;
        if plain::decode_into(arr, how, c, cl, &mut v)? {
            return Ok(v);
        }
    }
    let v: Option<Vec<T>> = if arr.is_sharded() {
        read_subchunk(arr, c, cl)?
    } else {
        arr.retrieve_chunk_if_exists_opt(&[c], &options())
            .map_err(|e| corrupt(arr.path(), e))?
    };
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

/// [`read_chunk`], reading the chunk file straight into the result when `direct` is given.
pub(crate) fn read_chunk_with<T, S>(
    arr: &Array<S>,
    direct: Option<&Direct>,
    c: u64,
    cl: usize,
) -> Result<Vec<T>>
where
    T: ElementOwned + PlainElem + bytemuck::Zeroable + Default + Clone,
    S: ?Sized + ReadableStorageTraits + 'static,
{
    if let Some(d) = direct {
        let mut v = crate::guard::alloc_zeroed::<T>(cl)?;
        if d.read(c, &mut v)? {
            return Ok(v);
        }
    }
    read_chunk(arr, c, cl)
}

/// Inner chunk `c` of a sharded `arr`, or `None` when its shard is missing.
fn read_subchunk<T: ElementOwned, S: ?Sized + ReadableStorageTraits + 'static>(
    arr: &Array<S>,
    c: u64,
    cl: usize,
) -> Result<Option<Vec<T>>> {
    let per_shard = write_len(arr)? as usize / cl.max(1);
    let shard = c / per_shard.max(1) as u64;
    let key = arr.chunk_key(&[shard]);
    let stored = arr
        .storage()
        .size_key(&key)
        .map_err(|e| corrupt(arr.path(), e))?;
    if stored.is_none() {
        return Ok(None);
    }
    let cache = ArrayShardedReadableExtCache::new(arr);
    arr.retrieve_subchunk_opt::<Vec<T>>(&cache, &[c], &options())
        .map(Some)
        .map_err(|e| corrupt(arr.path(), e))
}

/// Set the length of the 1-D array `/name` by editing its `zarr.json` in place (every other
/// field is kept byte for byte, so zarr-python still reads the full codec objects that
/// `zarrs`' own metadata writer would abbreviate).
pub(crate) fn set_len(store: &Storage, name: &str, len: u64) -> Result<()> {
    let key = StoreKey::new(format!("{name}/zarr.json")).map_err(|e| io_error(name, e))?;
    let bytes = store
        .get(&key)
        .map_err(|e| io_error(name, e))?
        .ok_or_else(|| io_error(name, "zarr.json is missing"))?;
    let mut meta: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(name, e))?;
    meta["shape"] = serde_json::json!([len]);
    let text = serde_json::to_vec_pretty(&meta).map_err(|e| corrupt(name, e))?;
    store.set(&key, text.into()).map_err(|e| io_error(name, e))
}

/// Decode elements `[a, b)` of `arr` straight into `out` (`out.len() == b - a`), chunks in
/// parallel when `par` (`on_piece(elements)` after each chunk's part). With `direct` (a local
/// plain-chain buffer) whole chunks are read straight into their place and partial ones
/// through a per-thread scratch chunk; otherwise a whole chunk of a plain chain decodes in
/// place and any other chunk into a chunk-sized vector copied once. A read peaks at the output
/// plus one chunk per thread. Missing chunks are corruption.
pub(crate) fn read_into_with<T, S>(
    arr: &Array<S>,
    direct: Option<&Direct>,
    cl: usize,
    a: usize,
    out: &mut [T],
    par: bool,
    on_piece: &(dyn Fn(usize) + Sync),
) -> Result<()>
where
    T: ElementOwned + PlainElem + Default + Copy + Send + Sync,
    S: ?Sized + ReadableStorageTraits + 'static,
{
    let how = plain::chain(arr);
    let fill = |(c, piece): (usize, &mut [T])| -> Result<()> {
        let lo = (c * cl).max(a) - c * cl;
        if let Some(d) = direct {
            let done = if piece.len() == cl {
                d.read(c as u64, piece)?
            } else {
                d.read_part(c as u64, cl, lo, piece)?
            };
            if done {
                on_piece(piece.len());
                return Ok(());
            }
        }
        // a whole chunk decodes straight into its place in the output
        if let Some(how) = how.filter(|_| piece.len() == cl) {
            if plain::decode_into(arr, how, c as u64, cl, piece)? {
                on_piece(piece.len());
                return Ok(());
            }
        }
        let v = read_chunk::<T, S>(arr, c as u64, cl)?;
        piece.copy_from_slice(&v[lo..lo + piece.len()]);
        on_piece(piece.len());
        Ok(())
    };
    let pieces = pieces(cl, a, out);
    if par && pieces.len() > 1 {
        pieces.into_par_iter().try_for_each(fill)
    } else {
        pieces.into_iter().try_for_each(fill)
    }
}

/// Split `out` (elements `[a, a + out.len())` of a buffer with chunk length `cl`) at chunk
/// boundaries: `(chunk index, the part of out it covers)`.
pub(crate) fn pieces<T>(cl: usize, a: usize, out: &mut [T]) -> Vec<(usize, &mut [T])> {
    let b = a + out.len();
    let mut v = Vec::with_capacity(if b > a { (b - 1) / cl + 1 - a / cl } else { 0 });
    let mut rest = out;
    let mut pos = a;
    while !rest.is_empty() {
        let c = pos / cl;
        let take = ((c + 1) * cl).min(b) - pos;
        let (head, tail) = rest.split_at_mut(take);
        v.push((c, head));
        rest = tail;
        pos += take;
    }
    v
}
