//! CI smoke run of the `store` fuzz target on stable: replay every committed input in
//! `fuzz/corpus/store/` (a panic fails the test), and check the seeds made from real stores
//! still load.

use std::path::PathBuf;

#[test]
fn replay_store_corpus() {
    let loaded = mutate::replay("store", |b| grumpy_zarr::fuzz::store_bytes(b).is_some());
    assert!(loaded > 0);
}

#[test]
fn dictionaries_parse() {
    // libFuzzer's escapes, as `./fuzz/run.sh` passes the same files to `-dict=`
    let store = mutate::dict("store");
    assert!(store.iter().any(|t| t == "\n%%\n") && store.iter().any(|t| t == ".."));
    assert!(mutate::dict("plan").iter().any(|t| t == "neighbors"));
}

#[path = "../../../fuzz/mutate.rs"]
#[allow(dead_code, unreachable_pub)]
mod mutate;

/// Stable mutation fuzzing of the store reader for `GRUMPY_FUZZ_SECS` seconds (default 5):
/// `GRUMPY_FUZZ_SECS=600 cargo test -p grumpy-zarr --test fuzz_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "budgeted fuzz run; see docs/reliability.md"]
fn mutation_fuzz_store() {
    mutate::run_budgeted("store", |b| {
        let _ = grumpy_zarr::fuzz::store_bytes(b);
    });
}

/// Regenerate the `seed-*` inputs of `fuzz/corpus/store/` from real stores:
/// `GRUMPY_WRITE_SEEDS=1 cargo test -p grumpy-zarr --test fuzz_corpus write_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed seeds"]
fn write_seeds() {
    use grumpy_core::{Array, Frame};
    if std::env::var("GRUMPY_WRITE_SEEDS").is_err() {
        return;
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/store");
    let tmp = std::env::temp_dir().join(format!("grumpy-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap(); // gr.save wants an existing parent directory
    use grumpy_core::layout::Item;
    let f = |x: f64| Item::from(x);
    let union = Item::list(vec![f(1.0), Item::list(vec![f(2.0), f(3.0)]), Item::Null]);
    let nulls = Item::list(vec![
        Item::list(vec![f(1.0), Item::Null]),
        Item::Null,
        Item::list(vec![]),
    ]);
    let strings = Item::list(vec![
        Item::from("ab".to_string()),
        Item::Null,
        Item::from(String::new()),
    ]);
    let items: Vec<(&str, Array)> = vec![
        (
            "ragged-f64",
            Array::from_item(&vec![vec![1.0, 2.0], vec![], vec![3.0]].into(), None).unwrap(),
        ),
        (
            "deep-i64",
            Array::from_item(
                &vec![vec![vec![1i64, 2], vec![3]], vec![], vec![vec![4]]].into(),
                None,
            )
            .unwrap(),
        ),
        (
            "flat-bool",
            Array::from_item(&vec![true, false, true].into(), None).unwrap(),
        ),
        ("union", Array::from_item(&union, None).unwrap()),
        ("nulls", Array::from_item(&nulls, None).unwrap()),
        (
            "strings",
            Array::from_item(&strings, Some(grumpy_core::DType::String)).unwrap(),
        ),
        // regular levels (`grumpy.regular`): xyz triples inside, fixed-length rows outside
        (
            "regular-points",
            Array::from_item(
                &vec![
                    vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]],
                    vec![vec![7.0, 8.0, 9.0]],
                ]
                .into(),
                None,
            )
            .unwrap(),
        ),
        (
            "regular-pairs",
            Array::from_item(&vec![vec![1i64, 2], vec![3, 4], vec![5, 6]].into(), None).unwrap(),
        ),
    ];
    for (name, a) in items {
        let dir = tmp.join(name);
        grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
        let seed = grumpy_zarr::fuzz::seed_from_store(&dir).unwrap();
        std::fs::write(out.join(format!("seed-{name}")), seed).unwrap();
    }
    let x = Array::from_item(&vec![vec![1i64], vec![2, 3], vec![]].into(), None).unwrap();
    let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
    let dir = tmp.join("frame");
    grumpy_zarr::save_frame(&df, &dir, &Default::default()).unwrap();
    let seed = grumpy_zarr::fuzz::seed_from_store(&dir).unwrap();
    std::fs::write(out.join("seed-frame"), seed).unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
}
