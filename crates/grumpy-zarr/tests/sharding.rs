//! Buffers with many chunks are written as `sharding_indexed` shards (FORMAT.md): the chunks
//! become inner chunks, 64 to a shard. Reads, row ranges, appends and corruption checks work
//! as on plain chunks; small buffers stay unsharded.

use grumpy_core::{Array, Code};
use grumpy_zarr::{append, load, open, save, SaveOptions};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grumpy-shard-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Rows `i` → `[i, i+1, ..]` of length `i % 5` (independent model: plain Vec<Vec<f64>>).
fn rows(lo: usize, hi: usize) -> Vec<Vec<f64>> {
    (lo..hi)
        .map(|i| (0..i % 5).map(|k| (i * 10 + k) as f64).collect())
        .collect()
}

fn array(r: &[Vec<f64>]) -> Array {
    Array::from_item(&r.to_vec().into(), None).unwrap()
}

fn codec_name(dir: &Path, buffer: &str) -> String {
    let text = std::fs::read_to_string(dir.join(buffer).join("zarr.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["codecs"][0]["name"].as_str().unwrap().to_owned()
}

fn shard_files(dir: &Path, buffer: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(buffer).join("c"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort_by_key(|s| s.parse::<u64>().unwrap_or(u64::MAX));
    v
}

fn one_row_chunks() -> SaveOptions {
    SaveOptions {
        chunk_size: Some(1),
        ..Default::default()
    }
}

#[test]
fn many_chunks_are_sharded_and_read_back() {
    let dir = tmp("read");
    let model = rows(0, 1000);
    save(&array(&model), &dir, &one_row_chunks()).unwrap();
    // 1000 one-row chunks of offsets → 16 shards of 64 inner chunks, not 1000 files
    assert_eq!(codec_name(&dir, "node0-offsets"), "sharding_indexed");
    assert_eq!(codec_name(&dir, "node1-data"), "sharding_indexed");
    assert_eq!(
        shard_files(&dir, "node0-offsets").len(),
        1001usize.div_ceil(64)
    );
    let back = load(&dir).unwrap();
    assert_eq!(back.to_item(), array(&model).to_item());
    let r = open(&dir).unwrap();
    assert_eq!(
        r.buffers()[0].2,
        1,
        "inner chunks keep the chunk length asked for"
    );
    for (a, b) in [(0, 1), (63, 65), (100, 300), (990, 1000), (500, 500)] {
        assert_eq!(
            r.read_rows(a, b).unwrap().to_item(),
            array(&model[a..b]).to_item(),
            "rows {a}..{b}"
        );
    }
    let idx = [999, 0, 64, 64, 517];
    let want: Vec<Vec<f64>> = idx.iter().map(|&i| model[i].clone()).collect();
    assert_eq!(r.take_rows(&idx).unwrap().to_item(), array(&want).to_item());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn few_chunks_stay_plain() {
    let dir = tmp("plain");
    save(&array(&rows(0, 50)), &dir, &one_row_chunks()).unwrap();
    assert_eq!(codec_name(&dir, "node0-offsets"), "bytes");
    assert_eq!(shard_files(&dir, "node0-offsets").len(), 51);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn append_rewrites_only_the_last_shard() {
    let dir = tmp("append");
    let first = rows(0, 200);
    save(&array(&first), &dir, &one_row_chunks()).unwrap();
    let before: Vec<(String, Vec<u8>, std::time::SystemTime)> = shard_files(&dir, "node0-offsets")
        .into_iter()
        .map(|f| {
            let p = dir.join("node0-offsets").join("c").join(&f);
            let meta = std::fs::metadata(&p).unwrap();
            (f, std::fs::read(&p).unwrap(), meta.modified().unwrap())
        })
        .collect();
    assert_eq!(before.len(), 201usize.div_ceil(64));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = rows(200, 330);
    append(&array(&second), &dir).unwrap();
    let all: Vec<Vec<f64>> = first.iter().chain(&second).cloned().collect();
    assert_eq!(load(&dir).unwrap().to_item(), array(&all).to_item());
    // full shards are untouched: same bytes, same mtime
    for (f, bytes, mtime) in &before[..before.len() - 1] {
        let p = dir.join("node0-offsets").join("c").join(f);
        assert_eq!(&std::fs::read(&p).unwrap(), bytes, "shard {f} rewritten");
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), *mtime);
    }
    assert_eq!(
        shard_files(&dir, "node0-offsets").len(),
        331usize.div_ceil(64)
    );
    // appending to a store that was plain keeps it plain (the layout is fixed at creation)
    let small = tmp("append-small");
    save(&array(&rows(0, 10)), &small, &one_row_chunks()).unwrap();
    append(&array(&rows(10, 300)), &small).unwrap();
    assert_eq!(codec_name(&small, "node0-offsets"), "bytes");
    assert_eq!(
        load(&small).unwrap().to_item(),
        array(&rows(0, 300)).to_item()
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&small).unwrap();
}

#[test]
fn damaged_shards_are_store_errors() {
    let dir = tmp("damage");
    save(&array(&rows(0, 1000)), &dir, &one_row_chunks()).unwrap();
    let shard = dir.join("node0-offsets").join("c").join("3");
    let good = std::fs::read(&shard).unwrap();
    // a missing shard inside the recorded length is corruption, never fill values
    std::fs::remove_file(&shard).unwrap();
    let e = load(&dir).unwrap_err();
    assert_eq!(e.code(), Code::Store);
    let r = open(&dir).unwrap();
    assert_eq!(
        r.read_rows(0, 10).unwrap().len(),
        10,
        "other shards still read"
    );
    assert_eq!(r.read_rows(200, 201).unwrap_err().code(), Code::Store);
    // a truncated shard (index checksum) and a flipped byte (inner chunk checksum)
    std::fs::write(&shard, &good[..good.len() - 3]).unwrap();
    assert_eq!(load(&dir).unwrap_err().code(), Code::Store);
    let mut flipped = good.clone();
    flipped[0] ^= 0xFF;
    std::fs::write(&shard, &flipped).unwrap();
    assert_eq!(load(&dir).unwrap_err().code(), Code::Store);
    std::fs::write(&shard, &good).unwrap();
    assert_eq!(load(&dir).unwrap().len(), 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}
