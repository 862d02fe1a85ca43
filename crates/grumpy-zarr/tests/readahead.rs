//! Sequential reads through a cached reader read the next chunks ahead (three, in parallel with
//! the one needed, then the next four in the background whenever the scan enters the last
//! run read ahead); other patterns read only what they need.

use grumpy_core::buffer::{Buf, Values};
use grumpy_core::layout::{Item, Layout, Leaf};
use grumpy_core::Array;
use grumpy_zarr::{open, save, Codec, SaveOptions};

/// The values 0..80 saved in 20 chunks of 4 values at a fresh path named after `test`.
fn eighty_in_chunks_of_four(test: &str, codec: Codec) -> (std::path::PathBuf, Array) {
    let dir = std::env::temp_dir().join(format!("grumpy-zarr-{test}-{}", std::process::id()));
    let values: Vec<Item> = (0..80).map(|i| (i as f64).into()).collect();
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
    let (dir, a) = eighty_in_chunks_of_four("readahead", Codec::Auto);
    let r = open(&dir).unwrap();
    let cached = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
        r.wait_for_read_ahead();
        r.cache_bytes() / (4 * std::mem::size_of::<f64>())
    };
    assert_eq!(cached(0, 4), 1); // a first read is not a scan yet: chunk 0 alone
    assert_eq!(cached(4, 8), 9); // chunk 1 right after 0: 1..=4 now, 5..=8 in the background
    assert_eq!(cached(12, 16), 9); // chunk 3: the next run is loaded already
    assert_eq!(cached(20, 24), 13); // chunk 5 enters that run: 9..=12 in the background
    assert_eq!(cached(60, 64), 14); // a jump: chunk 15 alone, nothing in the background
    assert_eq!(cached(40, 44), 16); // chunk 10, in the last run: 13 and 14 (15 is cached)
    assert_eq!(cached(64, 68), 20); // chunk 16 right after 15: 16..=19, the last chunks
    assert_eq!(cached(36, 40), 20); // chunk 9: everything is cached now
    assert_eq!(cached(0, 80), 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_across_chunks_read_ahead_together_are_views_of_them() {
    let (dir, a) = eighty_in_chunks_of_four("runviews", Codec::Auto);
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
    let run = read(4, 6); // chunk 1 right after 0: chunks 1..=4 read into one vector
    assert!(!first.shares_storage(&run));
    assert!(read(6, 10).shares_storage(&run)); // across chunks 1 and 2: a view, no copy
    assert!(read(14, 18).shares_storage(&run)); // across 3 and 4, the end of the run
    let next = read(18, 22); // across 4 and 5: chunk 5 starts the next run, so a copy
    assert!(!next.shares_storage(&run));
    assert!(read(21, 24).shares_storage(&read(24, 26))); // both in the run 5..=8
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_chunk_read_ahead_in_the_background_is_reported_when_read() {
    let (dir, a) = eighty_in_chunks_of_four("bgbad", Codec::None);
    // flip a byte of chunk 6 (its checksum no longer matches)
    let chunk6 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().join("c").join("6"))
        .find(|p| p.exists())
        .expect("a chunk file 6");
    let mut bytes = std::fs::read(&chunk6).unwrap();
    bytes[3] ^= 0xff;
    std::fs::write(&chunk6, bytes).unwrap();
    let r = open(&dir).unwrap();
    let ok = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
        r.wait_for_read_ahead();
    };
    ok(0, 4);
    ok(4, 8); // 1..=4, and 5..=8 in the background, which fails on chunk 6: nothing kept
    assert_eq!(r.cache_bytes() / 32, 5);
    ok(20, 24); // chunk 5 still reads
    let err = r.read_rows(24, 28).unwrap_err(); // chunk 6 itself: the error, no hang
    assert_eq!(err.code(), grumpy_core::Code::Store, "{err}");
    ok(28, 32); // and chunk 7 reads
    std::fs::remove_dir_all(&dir).unwrap();
}
