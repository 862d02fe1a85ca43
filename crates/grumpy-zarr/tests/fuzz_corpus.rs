//! CI smoke run of the `store` fuzz target on stable: replay every committed input in
//! `fuzz/corpus/store/` (a panic fails the test), and check the seeds made from real stores
//! still load.

use std::path::PathBuf;

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(name);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn replay_store_corpus() {
    let inputs = corpus("store");
    assert!(!inputs.is_empty());
    let mut loaded = 0;
    for (p, bytes) in &inputs {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let got = grumpy_zarr::fuzz::store_bytes(bytes);
        if name.starts_with("seed-") {
            assert!(got.is_some(), "{name}: a seed from a real store must load");
        }
        loaded += usize::from(got.is_some());
    }
    assert!(loaded > 0);
}
