//! Sequential reads through a cached reader read the next chunk ahead; other patterns do not.

use grumpy_core::layout::Item;
use grumpy_core::Array;
use grumpy_zarr::{open, save, SaveOptions};

#[test]
fn a_scan_in_order_reads_the_next_chunk_ahead() {
    let dir = std::env::temp_dir().join(format!("grumpy-zarr-readahead-{}", std::process::id()));
    let values: Vec<Item> = (0..40).map(|i| (i as f64).into()).collect();
    let a = Array::from_item(&Item::list(values), None).unwrap();
    let opts = SaveOptions {
        chunk_size: Some(4),
        ..Default::default()
    };
    save(&a, &dir, &opts).unwrap();
    let chunk = 4 * std::mem::size_of::<f64>();
    let r = open(&dir).unwrap();
    let rows = |i: usize, j: usize| {
        let got = r.read_rows(i, j).unwrap().to_item();
        assert_eq!(got, a.slice(i, j - i).to_item(), "rows {i}..{j}");
    };
    rows(0, 4); // the first read of a buffer is not a scan yet: chunk 0 alone
    assert_eq!(r.cache_bytes(), chunk);
    rows(4, 8); // chunk 1 right after chunk 0: chunks 1 and 2
    assert_eq!(r.cache_bytes(), 3 * chunk);
    rows(8, 12); // chunk 2 was read ahead: nothing read
    assert_eq!(r.cache_bytes(), 3 * chunk);
    rows(12, 16); // chunk 3 after chunk 2 (read ahead): chunks 3 and 4
    assert_eq!(r.cache_bytes(), 5 * chunk);
    rows(36, 40); // a jump: chunk 9 alone (and it is the last chunk anyway)
    assert_eq!(r.cache_bytes(), 6 * chunk);
    rows(24, 28); // a jump back: chunk 6 alone
    assert_eq!(r.cache_bytes(), 7 * chunk);
    rows(28, 32); // chunk 7 after chunk 6: chunks 7 and 8
    assert_eq!(r.cache_bytes(), 9 * chunk);
    rows(20, 24); // chunk 5 (a jump): the whole array is now cached
    assert_eq!(r.cache_bytes(), 10 * chunk);
    rows(0, 40);
    std::fs::remove_dir_all(&dir).unwrap();
}
