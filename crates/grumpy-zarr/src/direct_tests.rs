//! The direct chunk-file reads against the zarrs path (identical arrays on random data, dtypes,
//! codecs and chunk sizes), and every way a chunk file can be damaged.

use crate::blosc::Compressor;
use crate::read::StoreReader;
use crate::{Codec, SaveOptions};
use grumpy_core::layout::Item;
use grumpy_core::{Array, Code, DType};
use std::path::{Path, PathBuf};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grumpy-direct-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Random rows of `dtype` (ints or floats), with nulls when `nulls`: two or three levels.
fn random_rows(rng: &mut Rng, dtype: DType, nulls: bool) -> Item {
    let rows = rng.below(300) as usize;
    let deep = rng.below(2) == 0;
    let value = |rng: &mut Rng| -> Item {
        if nulls && rng.below(7) == 0 {
            return Item::Null;
        }
        match dtype {
            DType::Float32 | DType::Float64 => ((rng.next() >> 11) as f64 / 1e9 - 4e6).into(),
            DType::UInt8 => (rng.below(256) as i64).into(),
            _ => (rng.below(20_000) as i64 - 10_000).into(),
        }
    };
    let list = |rng: &mut Rng| -> Item {
        let n = rng.below(40) as usize;
        Item::List((0..n).map(|_| value(rng)).collect())
    };
    Item::List(
        (0..rows)
            .map(|_| {
                if deep {
                    let n = rng.below(6) as usize;
                    Item::List((0..n).map(|_| list(rng)).collect())
                } else {
                    list(rng)
                }
            })
            .collect(),
    )
}

fn save(a: &Array, dir: &Path, chunk: usize, codec: Codec) {
    let o = SaveOptions {
        chunk_size: Some(chunk),
        codec,
        ..Default::default()
    };
    crate::save(a, dir, &o).unwrap();
}

/// Every read (whole, random ranges, with and without the chunk cache) through the direct
/// path equals the same read through zarrs and the saved array.
#[test]
fn direct_reads_equal_the_zarrs_path() {
    let dir = tmp("equal");
    let dtypes = [
        DType::Float64,
        DType::Float32,
        DType::Int64,
        DType::Int32,
        DType::Int16,
        DType::UInt8,
    ];
    let codecs = [
        Codec::None,
        Codec::Zstd(1),
        Codec::Auto,
        Codec::ZstdShuffle,
        Codec::Gzip(1),
        Codec::Blosc(Compressor::Lz4, 5),
        Codec::Blosc(Compressor::Zstd, 1),
        Codec::Blosc(Compressor::BloscLz, 9),
    ];
    for seed in 1..=32u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let dtype = dtypes[rng.below(dtypes.len() as u64) as usize];
        let codec = codecs[rng.below(codecs.len() as u64) as usize];
        let a =
            Array::from_item(&random_rows(&mut rng, dtype, seed % 3 == 0), Some(dtype)).unwrap();
        // chunk sizes from 1 row (sharded buffers) to more than the data
        let chunk = [1, 2, 7, 33, 64, 1000][rng.below(6) as usize];
        save(&a, &dir, chunk, codec);
        for cache in [0, 1 << 20] {
            let direct = StoreReader::open_with_cache(&dir, cache).unwrap();
            let zarrs = StoreReader::open_with_cache(&dir, cache)
                .unwrap()
                .without_direct();
            assert_eq!(zarrs.direct_buffers(), 0);
            if codec != Codec::Gzip(1) && chunk >= 7 {
                assert!(direct.direct_buffers() > 0, "seed {seed}: no direct buffer");
            }
            let all = direct.read_all().unwrap();
            assert_eq!(all, zarrs.read_all().unwrap(), "seed {seed}");
            assert_eq!(all.to_item(), a.to_item(), "seed {seed}");
            let n = a.len();
            for _ in 0..8 {
                let lo = rng.below(n as u64 + 1) as usize;
                let hi = lo + rng.below((n - lo) as u64 + 1) as usize;
                let got = direct.read_rows(lo, hi).unwrap();
                assert_eq!(
                    got,
                    zarrs.read_rows(lo, hi).unwrap(),
                    "seed {seed} [{lo}, {hi})"
                );
                assert_eq!(
                    got.to_item(),
                    a.slice(lo, hi - lo).to_item(),
                    "seed {seed} [{lo}, {hi})"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store of `rows` float rows in chunks of `chunk` rows; its data chunk files.
fn damaged_store(tag: &str, codec: Codec) -> (PathBuf, Array, PathBuf) {
    let dir = tmp(tag);
    let rows: Vec<Vec<f64>> = (0..40)
        .map(|i| (0..(i % 5 + 1)).map(|j| (i * 10 + j) as f64).collect())
        .collect();
    let a = Array::from_item(&rows.into(), None).unwrap();
    save(&a, &dir, 8, codec);
    let chunks = dir.join("node1-data").join("c");
    (dir, a, chunks)
}

fn store_error(dir: &Path, cache: usize) -> grumpy_core::Error {
    let r = StoreReader::open_with_cache(dir, cache).unwrap();
    assert!(r.direct_buffers() >= 1, "the direct path is in use");
    let e = r.read_all().unwrap_err();
    assert_eq!(e.code(), Code::Store, "{e}");
    e
}

/// Truncated, emptied, oversized, flipped, missing, replaced-by-a-directory and symlinked chunk
/// files are each a StoreError through the direct path (with and without the cache), and the
/// restored file reads again.
#[test]
fn damaged_chunk_files_are_store_errors() {
    for codec in [
        Codec::None,
        Codec::Zstd(3),
        Codec::Blosc(Compressor::Lz4, 5),
        Codec::Blosc(Compressor::Zstd, 1),
    ] {
        let (dir, a, chunks) = damaged_store(&format!("dmg-{}", codec.name()), codec);
        let f = chunks.join("1");
        let good = std::fs::read(&f).unwrap();
        let write = |bytes: &[u8]| std::fs::write(&f, bytes).unwrap();
        for cache in [0, 1 << 20] {
            for cut in [0, 3, 4, good.len() / 2, good.len() - 1] {
                write(&good[..cut]);
                store_error(&dir, cache);
            }
            let mut longer = good.clone();
            longer.extend_from_slice(&[0, 0, 0, 0, 1]);
            write(&longer);
            store_error(&dir, cache);
            for at in [0, good.len() / 3, good.len() - 5, good.len() - 1] {
                let mut flipped = good.clone();
                flipped[at] ^= 0x21;
                write(&flipped);
                store_error(&dir, cache);
            }
            std::fs::remove_file(&f).unwrap();
            let e = store_error(&dir, cache);
            assert!(e.to_string().contains("missing chunk 1"), "{e}");
            std::fs::create_dir(&f).unwrap();
            store_error(&dir, cache);
            std::fs::remove_dir(&f).unwrap();
            let outside = dir.with_extension("outside");
            std::fs::write(&outside, &good).unwrap();
            std::os::unix::fs::symlink(&outside, &f).unwrap();
            let e = store_error(&dir, cache);
            assert!(e.to_string().contains("symbolic link"), "{e}");
            std::fs::remove_file(&f).unwrap();
            std::fs::remove_file(&outside).unwrap();
            write(&good);
            let r = StoreReader::open_with_cache(&dir, cache).unwrap();
            assert_eq!(r.read_all().unwrap().to_item(), a.to_item());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A chunk directory that is a symbolic link is never read through (the direct path does not
/// open it; the zarrs path refuses it).
#[test]
fn symlinked_chunk_directory_is_refused() {
    let (dir, _a, chunks) = damaged_store("cdir", Codec::None);
    let moved = dir.with_extension("moved");
    std::fs::rename(&chunks, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &chunks).unwrap();
    let e = match StoreReader::open_with_cache(&dir, 0) {
        Ok(r) => r.read_all().unwrap_err(),
        Err(e) => e,
    };
    assert!(e.to_string().contains("symbolic link"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&moved).unwrap();
}

/// A reader keeps reading the store it opened: once that store is removed, reads are
/// StoreErrors (never the data of a store saved at the same path since).
#[test]
fn a_removed_store_is_an_error_not_another_store() {
    let (dir, a, _) = damaged_store("gone", Codec::None);
    let r = StoreReader::open_with_cache(&dir, 0).unwrap();
    assert_eq!(
        r.read_rows(0, 5).unwrap().to_item(),
        a.slice(0, 5).to_item()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let b = Array::from_item(&vec![vec![-1.0; 7]; 40].into(), None).unwrap();
    save(&b, &dir, 8, Codec::None);
    let e = r.read_rows(10, 40).unwrap_err();
    assert_eq!(e.code(), Code::Store, "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Part of an uncompressed chunk (a read that starts or ends inside one, as every full load
/// does in a buffer's padded last chunk) reads only that part into the output, yet the
/// checksum still covers the whole chunk: damage before, inside or after the part, and a
/// truncated file, are StoreErrors.
#[test]
fn part_of_a_raw_chunk_is_checked_whole() {
    let dir = tmp("rawpart");
    let vals: Vec<f64> = (0..50_000).map(|i| i as f64 * 0.5 - 7.0).collect();
    let a = Array::from_item(&vals.clone().into(), None).unwrap();
    // 160 KB chunks (more than one 64 KiB piece around a part), the last one 1/4 used
    save(&a, &dir, 20_000, Codec::None);
    let r = StoreReader::open_with_cache(&dir, 0).unwrap();
    assert!(r.direct_buffers() >= 1, "the direct path is in use");
    for (lo, hi) in [
        (0, 5),
        (100, 19_990),
        (19_000, 21_000),
        (25_000, 26_000),
        (45_000, 50_000),
        (40_000, 40_001),
        (0, 50_000),
    ] {
        let got = r.read_rows(lo, hi).unwrap();
        assert_eq!(
            got.to_item(),
            a.slice(lo, hi - lo).to_item(),
            "[{lo}, {hi})"
        );
    }
    let f = dir.join("node0-data").join("c").join("1");
    let good = std::fs::read(&f).unwrap();
    assert_eq!(good.len(), 20_000 * 8 + 4);
    // rows [25_000, 26_000) are bytes [40_000, 48_000) of chunk 1
    for at in [10, 39_999, 44_000, 48_000, 100_000, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x08;
        std::fs::write(&f, &flipped).unwrap();
        let e = StoreReader::open_with_cache(&dir, 0)
            .unwrap()
            .read_rows(25_000, 26_000)
            .unwrap_err();
        assert_eq!(e.code(), Code::Store, "byte {at}: {e}");
        assert!(e.to_string().contains("checksum"), "byte {at}: {e}");
    }
    std::fs::write(&f, &good[..good.len() - 8]).unwrap();
    let e = StoreReader::open_with_cache(&dir, 0)
        .unwrap()
        .read_rows(25_000, 26_000)
        .unwrap_err();
    assert_eq!(e.code(), Code::Store, "{e}");
    std::fs::write(&f, &good).unwrap();
    let back = StoreReader::open_with_cache(&dir, 0).unwrap();
    assert_eq!(
        back.read_rows(25_000, 26_000).unwrap().to_item(),
        a.slice(25_000, 1_000).to_item()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
