//! Decoding the codec chains grumpy writes — `bytes` (little endian), optionally `zstd` (with
//! `numcodecs.shuffle` before it for multi-byte integers) or `blosc`, then `crc32c` — straight
//! into the caller's buffer: one read of the chunk file, the checksum checked in place, then
//! one decompression (or one copy) into the destination. The general
//! path through `zarrs` allocates and copies the chunk three or four times on the way, which
//! costs more than the decoding itself for an uncompressed chunk.
//!
//! Any other chain (sharded buffers, stores written by other tools with other codecs) returns
//! `None` and the caller decodes with `zarrs`.
//!
//! ```text
//!   chunk file: [ payload ............................ | crc32c (4 bytes, LE) ]
//!   payload:    the elements' little-endian bytes, or one zstd frame of them (shuffled
//!               first, see crate::shuffle, when the chain has numcodecs.shuffle), or one
//!               blosc frame of them (see crate::blosc)
//! ```

use crate::blosc::Blosc;
use crate::error::{corrupt, store_error, Result};
use zarrs::array::{Array, ArrayMetadata, ArrayShardedExt};
use zarrs::storage::ReadableStorageTraits;

/// Element types whose memory is their little-endian encoding (every numeric dtype); `bool`
/// is not (any byte other than 0 and 1 would be undefined behaviour) and decodes through
/// `zarrs`.
pub(crate) trait PlainElem: Sized {
    /// The elements as bytes to decode into, when that is sound.
    fn bytes_mut(v: &mut [Self]) -> Option<&mut [u8]>;
}

impl PlainElem for bool {
    fn bytes_mut(_: &mut [bool]) -> Option<&mut [u8]> {
        None
    }
}

macro_rules! plain_elems {
    ($($t:ty),*) => {$(
        impl PlainElem for $t {
            fn bytes_mut(v: &mut [$t]) -> Option<&mut [u8]> {
                Some(bytemuck::cast_slice_mut(v))
            }
        }
    )*};
}
plain_elems!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

/// The compression of a plain chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plain {
    /// `bytes` + `crc32c`.
    Raw,
    /// `bytes` + `zstd` + `crc32c`.
    Zstd,
    /// `bytes` + `numcodecs.shuffle` (of this element size) + `zstd` + `crc32c`.
    ShuffledZstd(usize),
    /// `bytes` + `blosc` (byte shuffle, a compressor grumpy writes) + `crc32c`.
    Blosc(Blosc),
}

/// The plain chain of `arr`, or `None` when it has another one (or is sharded).
pub(crate) fn chain<S: ?Sized>(arr: &Array<S>) -> Option<Plain> {
    if !cfg!(target_endian = "little") || arr.is_sharded() {
        return None;
    }
    let ArrayMetadata::V3(meta) = arr.metadata() else {
        return None;
    };
    let names: Vec<&str> = meta.codecs.iter().map(|c| c.name()).collect();
    let big_endian = meta.codecs.first().is_some_and(|c| {
        serde_json::to_value(c)
            .ok()
            .and_then(|v| v.pointer("/configuration/endian").cloned())
            .is_some_and(|e| e != "little")
    });
    if big_endian {
        return None;
    }
    match names.as_slice() {
        ["bytes", "crc32c"] => Some(Plain::Raw),
        ["bytes", "zstd", "crc32c"] => Some(Plain::Zstd),
        ["bytes", "numcodecs.shuffle", "zstd", "crc32c"] => {
            let k = serde_json::to_value(&meta.codecs[1])
                .ok()?
                .pointer("/configuration/elementsize")?
                .as_u64()?;
            let size = arr.data_type().fixed_size()?;
            (usize::try_from(k).ok()? == size).then_some(Plain::ShuffledZstd(size))
        }
        ["bytes", "blosc", "crc32c"] => {
            let conf = serde_json::to_value(&meta.codecs[1]).ok()?;
            Blosc::from_configuration(conf.get("configuration")?).map(Plain::Blosc)
        }
        _ => None,
    }
}

/// Decode chunk `c` of `arr` (a plain chain `how`, chunks of `cl` elements) into `out`, which
/// holds `cl` elements. `Ok(false)`: the element type cannot be decoded here (use `zarrs`).
pub(crate) fn decode_into<T: PlainElem, S: ?Sized + ReadableStorageTraits + 'static>(
    arr: &Array<S>,
    how: Plain,
    c: u64,
    cl: usize,
    out: &mut [T],
) -> Result<bool> {
    debug_assert_eq!(out.len(), cl);
    let Some(dst) = T::bytes_mut(out) else {
        return Ok(false);
    };
    let key = arr.chunk_key(&[c]);
    let file = arr
        .storage()
        .get(&key)
        .map_err(|e| corrupt(arr.path(), e))?
        .ok_or_else(|| {
            store_error(
                format!("buffer {} is missing chunk {c}", arr.path()),
                "a chunk inside the recorded length is not in the store",
                "the store was truncated or damaged; save the data again with gr.save",
            )
        })?;
    let bad = |why: String| corrupt(arr.path(), format!("chunk {c}: {why}"));
    if file.len() < 4 {
        return Err(bad(format!(
            "{} bytes, too short for its checksum",
            file.len()
        )));
    }
    let (payload, tail) = file.split_at(file.len() - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let actual = crc32c::crc32c(payload);
    if stored != actual {
        return Err(bad(format!(
            "checksum mismatch (crc32c {actual:#010x}, recorded {stored:#010x})"
        )));
    }
    let n = match how {
        Plain::Raw => {
            if payload.len() == dst.len() {
                dst.copy_from_slice(payload);
            }
            payload.len()
        }
        Plain::Zstd => zstd::bulk::Decompressor::new()
            .and_then(|mut d| d.decompress_to_buffer(payload, dst))
            .map_err(|e| bad(format!("zstd: {e}")))?,
        Plain::ShuffledZstd(k) => {
            let mut shuffled = crate::guard::alloc_zeroed::<u8>(dst.len())?;
            let n = zstd::bulk::Decompressor::new()
                .and_then(|mut d| d.decompress_to_buffer(payload, &mut shuffled))
                .map_err(|e| bad(format!("zstd: {e}")))?;
            if n == dst.len() {
                crate::shuffle::unshuffle(&shuffled, dst, k);
            }
            n
        }
        Plain::Blosc(_) => {
            crate::blosc::decompress_into(payload, dst).map_err(bad)?;
            dst.len()
        }
    };
    if n != dst.len() {
        return Err(bad(format!(
            "{n} bytes decoded, {} expected for {cl} elements",
            dst.len()
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zio::{self, Codec, Storage};
    use grumpy_core::DType;
    use std::sync::Arc;

    fn store(tag: &str) -> (std::path::PathBuf, Storage) {
        let dir = std::env::temp_dir().join(format!("grumpy-plain-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fs = zarrs::filesystem::FilesystemStore::new(&dir).unwrap();
        (dir, Arc::new(fs))
    }

    /// Both chains decode what `zarrs` encoded, equal to `zarrs`' own decoding; a flipped byte
    /// or a truncated file is an error, never other values.
    #[test]
    fn matches_zarrs_and_rejects_damage() {
        let lz4 = Blosc {
            compressor: crate::blosc::Compressor::Lz4,
            level: 5,
            typesize: 8,
            blocksize: 0,
        };
        for (codec, how) in [
            (Codec::None, Plain::Raw),
            (Codec::Zstd(3), Plain::Zstd),
            (Codec::Blosc(lz4.compressor, 5), Plain::Blosc(lz4)),
        ] {
            let (dir, st) = store(&format!("{how:?}"));
            let vals: Vec<f64> = (0..1000).map(|i| (i as f64).sin() * 1e3).collect();
            let arr = zio::create_array(&st, "x", DType::Float64, 1000, 256, codec).unwrap();
            zio::write_elems(&arr, 0, &[], &vals).unwrap();
            assert_eq!(chain(&arr), Some(how));
            for c in 0..4u64 {
                let mut out = vec![0.0f64; 256];
                assert!(decode_into(&arr, how, c, 256, &mut out).unwrap());
                let want: Vec<f64> = zio::read_chunk(&arr, c, 256).unwrap();
                assert_eq!(out, want);
            }
            let f = dir.join("x/c/1");
            let good = std::fs::read(&f).unwrap();
            let mut flipped = good.clone();
            flipped[good.len() / 2] ^= 0x10;
            std::fs::write(&f, &flipped).unwrap();
            let mut out = vec![0.0f64; 256];
            let e = decode_into(&arr, how, 1, 256, &mut out).unwrap_err();
            assert!(e.cause().contains("checksum"), "{e}");
            std::fs::write(&f, &good[..good.len() - 9]).unwrap();
            assert!(decode_into(&arr, how, 1, 256, &mut out).is_err());
            std::fs::write(&f, &good[..2]).unwrap();
            assert!(decode_into(&arr, how, 1, 256, &mut out).is_err());
            std::fs::remove_file(&f).unwrap();
            assert!(decode_into(&arr, how, 1, 256, &mut out).is_err());
            // bool data is left to zarrs
            let mut flags = vec![false; 256];
            assert!(!decode_into(&arr, how, 0, 256, &mut flags).unwrap());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    /// A shuffled integer chain decodes what `zarrs` encoded (its `numcodecs.shuffle`), equal
    /// to `zarrs`' own decoding; a shuffle of another element size is left to `zarrs`.
    #[test]
    fn shuffled_chains_match_zarrs() {
        let (dir, st) = store("shuffled");
        let vals: Vec<i64> = (0..1000).map(|i| i * i * 37 - 5000).collect();
        let arr = zio::create_array(&st, "o", DType::Int64, 1000, 256, Codec::ZstdShuffle).unwrap();
        zio::write_elems(&arr, 0, &[], &vals).unwrap();
        assert_eq!(chain(&arr), Some(Plain::ShuffledZstd(8)));
        for c in 0..4u64 {
            let mut out = vec![0i64; 256];
            assert!(decode_into(&arr, Plain::ShuffledZstd(8), c, 256, &mut out).unwrap());
            let want: Vec<i64> = zio::read_chunk(&arr, c, 256).unwrap();
            assert_eq!(out, want);
        }
        // the same metadata with elementsize 4 on int64 elements is not a plain chain
        let meta = dir.join("o/zarr.json");
        let text = std::fs::read_to_string(&meta).unwrap();
        assert!(text.contains("\"elementsize\": 8") || text.contains("\"elementsize\":8"));
        let other = text.replace("\"elementsize\": 8", "\"elementsize\": 4");
        let other = other.replace("\"elementsize\":8", "\"elementsize\":4");
        std::fs::write(&meta, other).unwrap();
        let reopened = zio::open_array(&st, "o", DType::Int64).unwrap();
        assert_eq!(chain(&reopened), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Sharded buffers and other chains are not plain.
    #[test]
    fn only_plain_chains_qualify() {
        let (dir, st) = store("chains");
        let sharded = zio::create_array(&st, "s", DType::Int64, 1000, 10, Codec::None).unwrap();
        assert_eq!(chain(&sharded), None);
        let gz = zio::create_array(&st, "g", DType::Int64, 10, 10, Codec::Gzip(1)).unwrap();
        assert_eq!(chain(&gz), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
