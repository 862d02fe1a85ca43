//! Sequential reads through a cached reader read the next chunks ahead (seven, in parallel with
//! the one needed, then the next eight in the background whenever the scan enters the last
//! run read ahead); other patterns read only what they need.

use grumpy_core::buffer::{Buf, Values};
use grumpy_core::layout::{Item, Layout, Leaf};
use grumpy_core::Array;
use grumpy_zarr::{open, save, Codec, SaveOptions};

/// The values 0..256 saved in 64 chunks of 4 values (not sharded: 64 is the most a buffer has
/// before it is) at a fresh path named after `test`.
fn in_chunks_of_four(test: &str, codec: Codec) -> (std::path::PathBuf, Array) {
    let dir = std::env::temp_dir().join(format!("grumpy-zarr-{test}-{}", std::process::id()));
    let values: Vec<Item> = (0..256).map(|i| (i as f64).into()).collect();
    let a = Array::from_item(&Item::list(values), None).unwrap();
    let opts = SaveOptions {
        chunk_size: Some(4),
        codec,
        ..Default::default()
    };
    save(&a, &dir, &opts).unwrap();
    (dir, a)
}

#[test]
fn a_scan_in_order_reads_the_next_chunks_ahead() {
    let (dir, a) = in_chunks_of_four("readahead", Codec::Auto);
    let r = open(&dir).unwrap();
    let cached = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
        r.wait_for_read_ahead();
        r.cache_bytes() / (4 * std::mem::size_of::<f64>())
    };
    assert_eq!(cached(0, 4), 1); // a first read is not a scan yet: chunk 0 alone
    assert_eq!(cached(4, 8), 17); // chunk 1 right after 0: 1..=8 now, 9..=16 in the background
    assert_eq!(cached(12, 16), 17); // chunk 3: the next run is loaded already
    assert_eq!(cached(36, 40), 25); // chunk 9 enters that run: 17..=24 in the background
    assert_eq!(cached(120, 124), 26); // a jump: chunk 30 alone, nothing in the background
    assert_eq!(cached(68, 72), 31); // chunk 17, in the last run: 25..=29 (30 is cached)
    assert_eq!(cached(124, 128), 47); // chunk 31 after 30: 31..=38 now, 39..=46 behind
    assert_eq!(cached(0, 256), 64);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_across_chunks_read_ahead_together_are_views_of_them() {
    let (dir, a) = in_chunks_of_four("runviews", Codec::Auto);
    let r = open(&dir).unwrap();
    let read = |i: usize, j: usize| -> Buf<f64> {
        let got = r.read_rows(i, j).unwrap();
        assert_eq!(got.to_item(), a.slice(i, j - i).to_item(), "rows {i}..{j}");
        match got.layout {
            Layout::Leaf(Leaf {
                values: Values::F64(b),
                ..
            }) => b,
            other => panic!("expected float leaves, got {other:?}"),
        }
    };
    let first = read(0, 4); // chunk 0 alone
    let run = read(4, 6); // chunk 1 right after 0: chunks 1..=8 read into one vector
    assert!(!first.shares_storage(&run));
    assert!(read(6, 10).shares_storage(&run)); // across chunks 1 and 2: a view, no copy
    assert!(read(30, 34).shares_storage(&run)); // across 7 and 8, the end of the run
    let next = read(34, 38); // across 8 and 9: chunk 9 starts the next run, so a copy
    assert!(!next.shares_storage(&run));
    assert!(read(37, 40).shares_storage(&read(40, 42))); // both in the run 9..=16
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_chunk_read_ahead_in_the_background_is_reported_when_read() {
    let (dir, a) = in_chunks_of_four("bgbad", Codec::None);
    // flip a byte of chunk 10 (its checksum no longer matches)
    let chunk10 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("c").join("10"))
        .find(|p| p.exists())
        .expect("a chunk file 10");
    let mut bytes = std::fs::read(&chunk10).unwrap();
    bytes[3] ^= 0xff;
    std::fs::write(&chunk10, bytes).unwrap();
    let r = open(&dir).unwrap();
    let ok = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
        r.wait_for_read_ahead();
    };
    ok(0, 4);
    ok(4, 8); // 1..=8, and 9..=16 in the background, which fails on chunk 10: nothing kept
    assert_eq!(r.cache_bytes() / 32, 9);
    ok(36, 40); // chunk 9 still reads
    let err = r.read_rows(40, 44).unwrap_err(); // chunk 10 itself: the error, no hang
    assert_eq!(err.code(), grumpy_core::Code::Store, "{err}");
    ok(44, 48); // and chunk 11 reads
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rows 0..60 where row i holds i % 5 + 1 values (180 in all), saved in chunks of 4 rows:
/// 16 offsets chunks of 4 offsets (32 bytes) and 15 data chunks of 12 values (96 bytes).
fn ragged_in_chunks_of_four(test: &str) -> (std::path::PathBuf, Array) {
    let dir = std::env::temp_dir().join(format!("grumpy-zarr-{test}-{}", std::process::id()));
    let mut next = 0.0;
    let rows: Vec<Item> = (0..60)
        .map(|i| {
            let row: Vec<Item> = (0..i % 5 + 1)
                .map(|_| {
                    next += 1.0;
                    Item::from(next)
                })
                .collect();
            Item::list(row)
        })
        .collect();
    let a = Array::from_item(&Item::list(rows), None).unwrap();
    let opts = SaveOptions {
        chunk_size: Some(4),
        codec: Codec::None,
        ..Default::default()
    };
    save(&a, &dir, &opts).unwrap();
    (dir, a)
}

/// The file of chunk `c` of the buffer whose name starts with `prefix`.
fn chunk_file(dir: &std::path::Path, prefix: &str, c: usize) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .expect("the buffer's directory")
        .join("c")
        .join(c.to_string())
}

#[test]
fn a_first_read_at_row_zero_still_starts_a_scan() {
    // A read from row 0 loads chunk 0 of the data alongside the offsets, in the background;
    // that load counts as the scan's first miss, so the next chunk still reads ahead.
    let (dir, a) = ragged_in_chunks_of_four("warmfirst");
    let (offsets, data) = (32, 96); // bytes per chunk
    let r = open(&dir).unwrap();
    let read = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
        r.wait_for_read_ahead();
        r.cache_bytes()
    };
    assert_eq!(read(0, 1), offsets + data); // chunk 0 of each
                                            // rows 1..5 hold values 1..15 (data chunks 0 and 1) at offsets 1..=5 (chunks 0 and 1):
                                            // in both buffers chunk 1 comes right after 0, so each reads ahead to its end
                                            // (1..=8 now, the rest in the background)
    assert_eq!(read(1, 5), 16 * offsets + 15 * data);
    // a fresh reader's first read elsewhere loads only what it needs
    let r2 = open(&dir).unwrap();
    assert_eq!(
        r2.read_rows(40, 41).unwrap().to_item(),
        a.slice(40, 1).to_item()
    );
    r2.wait_for_read_ahead();
    assert_eq!(r2.cache_bytes(), offsets + data); // offsets chunk 10, data chunk 10
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_first_chunk_is_reported_by_a_read_at_row_zero() {
    let (dir, a) = ragged_in_chunks_of_four("warmbad");
    let data0 = chunk_file(&dir, "node1-data", 0);
    let good = std::fs::read(&data0).unwrap();
    let mut bad = good.clone();
    bad[3] ^= 0xff;
    std::fs::write(&data0, &bad).unwrap();
    let r = open(&dir).unwrap();
    for _ in 0..2 {
        // (the background load fails and keeps nothing; the read meets the error itself)
        let err = r.read_rows(0, 2).unwrap_err();
        assert_eq!(err.code(), grumpy_core::Code::Store, "{err}");
        r.wait_for_read_ahead();
    }
    std::fs::write(&data0, &good).unwrap();
    assert_eq!(
        r.read_rows(0, 2).unwrap().to_item(),
        a.slice(0, 2).to_item()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
