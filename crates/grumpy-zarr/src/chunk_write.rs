//! Encoding grumpy's own codec chain — `bytes` (little endian), optionally `zstd` (after
//! `numcodecs.shuffle` for multi-byte integers) or `blosc`, then `crc32c` — straight from the
//! caller's buffer into chunk files: the mirror of `plain.rs`.
//!
//! `zarrs`' `store_chunk` copies a chunk three or four times on the way (into a chunk vector,
//! into array bytes, through each codec, then the checksum appended to a new buffer). Here an
//! uncompressed chunk is never copied in user space: its file is one `writev` of the
//! elements' bytes (a slice of the array), the zero padding of a last partial chunk, and the
//! 4-byte checksum computed over them in place. A compressed chunk is one zstd (or blosc) call
//! into a buffer sized for the frame plus its checksum. The files are byte for byte what
//! `zarrs` writes (tested below), so zarr-python and `zarrs` read them unchanged.
//!
//! Other chains (sharded buffers, gzip, booleans) are written through `zarrs`.
//!
//! ```text
//!   chunk k = head ++ new, elements [k·cl, (k+1)·cl), zero padded
//!   raw:   writev([elements' bytes..., zeros, crc32c LE])
//!   zstd:  writev([zstd frame (content size, no checksum), crc32c LE])
//!   blosc: writev([blosc frame (c-blosc, one thread), crc32c LE])
//! ```

use crate::error::{io_error, Result};
use crate::plain::{chain, Plain};
use crate::write_store::WriteStore;
use crate::zio::{self, ZArray};
use grumpy_core::buffer::{Native, Values};
use grumpy_core::with_values;
use rayon::prelude::*;
use std::cell::RefCell;
use zarrs::array::{ArrayMetadata, Element};

/// Element types whose memory is their little-endian encoding (every numeric dtype; `bool`
/// goes through `zarrs`).
pub(crate) trait PlainBytes: Sized {
    /// The elements' bytes, when they are their encoding.
    fn plain_bytes(v: &[Self]) -> Option<&[u8]>;
}

impl PlainBytes for bool {
    fn plain_bytes(_: &[bool]) -> Option<&[u8]> {
        None
    }
}

macro_rules! plain_bytes {
    ($($t:ty),*) => {$(
        impl PlainBytes for $t {
            fn plain_bytes(v: &[$t]) -> Option<&[u8]> {
                Some(bytemuck::cast_slice(v))
            }
        }
    )*};
}
plain_bytes!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// The zstd level of a `bytes` + `zstd` + `crc32c` chain (`None` when absent).
fn zstd_level(arr: &ZArray) -> Option<i32> {
    let ArrayMetadata::V3(meta) = arr.metadata() else {
        return None;
    };
    let zstd = meta.codecs.iter().find(|c| c.name() == "zstd")?;
    let v = serde_json::to_value(zstd).ok()?;
    if v.pointer("/configuration/checksum") == Some(&serde_json::Value::Bool(true)) {
        return None; // grumpy writes frames without zstd's own checksum
    }
    v.pointer("/configuration/level")?
        .as_i64()
        .and_then(|l| i32::try_from(l).ok())
}

/// How [`write_elems`] encodes a chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Enc {
    /// The elements' bytes.
    Raw,
    /// One zstd frame at this level, of the bytes shuffled by this element size if any.
    Zstd(i32, Option<usize>),
    /// One blosc frame.
    Blosc(crate::blosc::Blosc),
}

/// Write `new` at element `start` of `arr` through `sink`; `head` holds the elements already
/// stored in the write unit containing `start` (those before it), so that unit is rewritten
/// whole (see [`zio::write_elems`], which this falls back to for chains it does not encode).
/// Chunks are encoded and written in parallel.
pub(crate) fn write_elems<T: Element + Native + PlainBytes>(
    sink: &WriteStore,
    arr: &ZArray,
    start: usize,
    head: &[T],
    new: &[T],
) -> Result<()> {
    // how each chunk is encoded; `None`: a chain this module does not write
    let enc = match chain(arr) {
        Some(Plain::Raw) => Some(Enc::Raw),
        Some(Plain::Zstd) => zstd_level(arr).map(|l| Enc::Zstd(l, None)),
        Some(Plain::ShuffledZstd(k)) => zstd_level(arr).map(|l| Enc::Zstd(l, Some(k))),
        Some(Plain::Blosc(b)) => Some(Enc::Blosc(b)),
        None => None,
    };
    let (Some(head_bytes), Some(new_bytes), Some(enc)) =
        (T::plain_bytes(head), T::plain_bytes(new), enc)
    else {
        return zio::write_elems(arr, start, head, new);
    };
    let size = std::mem::size_of::<T>();
    let cl = zio::write_len(arr)? as usize;
    debug_assert_eq!(start % cl, head.len());
    let first = start / cl;
    let total = head.len() + new.len();
    let nchunks = total.div_ceil(cl);
    let chunk_bytes = cl * size;
    let write = |k: usize| -> Result<()> {
        // bytes [lo, hi) of the virtual sequence head ++ new
        let (lo, hi) = (k * chunk_bytes, ((k + 1) * cl).min(total) * size);
        let h = head_bytes.len();
        let mut parts: Vec<&[u8]> = Vec::with_capacity(4);
        if lo < h {
            parts.push(&head_bytes[lo..h.min(hi)]);
        }
        if hi > h {
            parts.push(&new_bytes[lo.max(h) - h..hi - h]);
        }
        let pad = vec![0u8; chunk_bytes - (hi - lo)];
        parts.push(&pad);
        let key = arr.chunk_key(&[(first + k) as u64]);
        let fail = |e: std::io::Error| io_error(arr.path(), e);
        let mut joined = Vec::new();
        let mut out = match enc {
            Enc::Raw => {
                let crc = parts.iter().fold(0, |c, p| crc32c::crc32c_append(c, p));
                let crc = crc.to_le_bytes();
                parts.push(&crc);
                return sink.put(&key, &parts);
            }
            Enc::Blosc(b) => b
                .compress(contiguous(&parts, &mut joined))
                .map_err(|e| io_error(arr.path(), e))?,
            Enc::Zstd(level, shuffled) => {
                let mut src = contiguous(&parts, &mut joined);
                let mut scratch = Vec::new();
                if let Some(k) = shuffled {
                    scratch.resize(src.len(), 0);
                    crate::shuffle::shuffle(src, &mut scratch, k);
                    src = &scratch;
                }
                let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(src.len()) + 4);
                with_compressor(level, |z| z.compress_to_buffer(src, &mut out)).map_err(fail)?;
                out
            }
        };
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        sink.put(&key, &[&out])
    };
    if nchunks > 1 {
        (0..nchunks).into_par_iter().try_for_each(write)
    } else {
        (0..nchunks).try_for_each(write)
    }
}

thread_local! {
    /// This thread's zstd compressor and its level: its context (a workspace of about a
    /// megabyte at level 1) is set up once, not for every chunk.
    static ZSTD: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
}

/// Run `f` with this thread's zstd compressor at `level`, without a frame checksum (the chain's
/// `crc32c` covers the chunk).
fn with_compressor<R>(
    level: i32,
    f: impl FnOnce(&mut zstd::bulk::Compressor<'static>) -> std::io::Result<R>,
) -> std::io::Result<R> {
    ZSTD.with(|cell| {
        let mut cell = cell.borrow_mut();
        let z = match cell.as_mut() {
            Some((l, z)) if *l == level => z,
            _ => {
                let mut z = zstd::bulk::Compressor::new(level)?;
                z.include_checksum(false)?;
                &mut cell.insert((level, z)).1
            }
        };
        f(z)
    })
}

/// `parts` as one slice: the only non-empty part itself, or all of them copied into `joined`.
fn contiguous<'a>(parts: &[&'a [u8]], joined: &'a mut Vec<u8>) -> &'a [u8] {
    let mut full = parts.iter().filter(|p| !p.is_empty());
    match (full.next(), full.next()) {
        (Some(one), None) => one,
        (None, _) => &[],
        _ => {
            *joined = parts.concat();
            joined
        }
    }
}

/// Write a whole [`Values`] buffer (numeric; strings are split before) from element `start`.
pub(crate) fn write_values(
    sink: &WriteStore,
    arr: &ZArray,
    start: usize,
    head: &Values,
    new: &Values,
) -> Result<()> {
    with_values!(new, b, T => {
        let h = head.as_slice::<T>().unwrap_or(&[]);
        write_elems::<T>(sink, arr, start, h, b.as_slice())
    }, _s => Err(crate::error::store_error(
        "internal: string buffer written unsplit", "", "report this bug")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zio::{Codec, Storage};
    use grumpy_core::DType;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn dirs(tag: &str) -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!("grumpy-cw-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (a, b) = (base.join("ours"), base.join("zarrs"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        (a, b)
    }

    fn files(d: &std::path::Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(d.join("x/c"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    }

    /// Every chunk file equals the one `zarrs` writes for the same elements (raw and zstd
    /// chains, a head carried over, a padded last chunk), and reads back through `zarrs`.
    #[test]
    fn files_equal_what_zarrs_writes() {
        let vals: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        let ints: Vec<i32> = (0..1000).map(|i| i * 7 % 113).collect();
        for codec in [
            Codec::None,
            Codec::Zstd(1),
            Codec::Zstd(5),
            Codec::ZstdShuffle,
            Codec::Blosc(crate::blosc::Compressor::Lz4, 5),
            Codec::Blosc(crate::blosc::Compressor::Zstd, 1),
        ] {
            let (ours, theirs) = dirs(&format!("{codec:?}"));
            let sink = Arc::new(WriteStore::new(&ours, false).unwrap());
            let st_a: Storage = sink.clone();
            let st_b: Storage = Arc::new(WriteStore::new(&theirs, false).unwrap());
            // 1000 elements in chunks of 96: 10 full chunks, a padded 11th; start mid-chunk
            let a = zio::create_array(&st_a, "x", DType::Float64, 1000, 96, codec).unwrap();
            let b = zio::create_array(&st_b, "x", DType::Float64, 1000, 96, codec).unwrap();
            write_elems(&sink, &a, 200, &vals[192..200], &vals[200..]).unwrap();
            zio::write_elems(&b, 200, &vals[192..200], &vals[200..]).unwrap();
            assert_eq!(files(&ours), files(&theirs), "{codec:?}");
            for c in 2..11u64 {
                let got: Vec<f64> = zio::read_chunk(&b, c, 96).unwrap();
                let want: Vec<f64> = (0..96)
                    .map(|i| vals.get(c as usize * 96 + i).copied().unwrap_or(0.0))
                    .collect();
                assert_eq!(got, want);
            }
            // integers: shuffled before zstd with ZstdShuffle, byte for byte as zarrs does it
            let i = zio::create_array(&st_a, "i", DType::Int32, 1000, 1000, codec).unwrap();
            let j = zio::create_array(&st_b, "i", DType::Int32, 1000, 1000, codec).unwrap();
            write_elems(&sink, &i, 0, &[], &ints).unwrap();
            zio::write_elems(&j, 0, &[], &ints).unwrap();
            assert_eq!(files(&ours), files(&theirs), "{codec:?} ints");
            assert_eq!(zio::read_chunk::<i32, _>(&i, 0, 1000).unwrap(), ints);
            let shuffled = chain(&i) == Some(Plain::ShuffledZstd(4));
            assert_eq!(shuffled, codec == Codec::ZstdShuffle);
            let blosc = matches!(chain(&i), Some(Plain::Blosc(b)) if b.typesize == 4);
            assert_eq!(blosc, matches!(codec, Codec::Blosc(..)));
            std::fs::remove_dir_all(ours.parent().unwrap()).unwrap();
        }
    }

    /// Chains this module does not encode (gzip, sharded, bool) still round-trip.
    #[test]
    fn other_chains_go_through_zarrs() {
        let (d, _) = dirs("other");
        let sink = Arc::new(WriteStore::new(&d, false).unwrap());
        let st: Storage = sink.clone();
        let v: Vec<i64> = (0..1000).collect();
        let gz = zio::create_array(&st, "g", DType::Int64, 1000, 100, Codec::Gzip(1)).unwrap();
        write_elems(&sink, &gz, 0, &[], &v).unwrap();
        assert_eq!(zio::read_chunk::<i64, _>(&gz, 3, 100).unwrap(), v[300..400]);
        let sh = zio::create_array(&st, "s", DType::Int64, 1000, 10, Codec::None).unwrap();
        write_elems(&sink, &sh, 0, &[], &v).unwrap();
        assert_eq!(zio::read_chunk::<i64, _>(&sh, 42, 10).unwrap(), v[420..430]);
        let flags: Vec<bool> = (0..50).map(|i| i % 3 == 0).collect();
        let bo = zio::create_array(&st, "b", DType::Bool, 50, 16, Codec::None).unwrap();
        write_elems(&sink, &bo, 0, &[], &flags).unwrap();
        assert_eq!(
            zio::read_chunk::<bool, _>(&bo, 1, 16).unwrap(),
            flags[16..32]
        );
        std::fs::remove_dir_all(d.parent().unwrap()).unwrap();
    }
}
