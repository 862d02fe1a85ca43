//! Round trips, chunk boundaries, append = one-shot save, and error paths.

use grumpy_core::layout::Item;
use grumpy_core::{Array, Code, DType};
use grumpy_zarr::{append, load, open, save, SaveOptions, StoreWriter};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grumpy-zarr-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn l(v: Vec<Item>) -> Item {
    Item::list(v)
}

fn samples() -> Vec<(Item, Option<DType>)> {
    vec![
        (
            l(vec![
                l(vec![1.0.into(), 2.0.into()]),
                l(vec![]),
                l(vec![3.0.into()]),
            ]),
            None,
        ),
        (
            l(vec![
                1.0.into(),
                l(vec![2.0.into(), 3.0.into()]),
                4.0.into(),
                Item::Null,
            ]),
            None,
        ),
        (
            l(vec![
                l(vec![1i64.into(), Item::Null]),
                Item::Null,
                l(vec![5i64.into()]),
            ]),
            None,
        ),
        (
            l(vec!["ab".into(), Item::Null, "".into(), "héllo".into()]),
            None,
        ),
        (
            l(vec![
                l(vec![l(vec![true.into()]), l(vec![])]),
                l(vec![l(vec![false.into(), true.into()])]),
            ]),
            None,
        ),
        (
            l(vec![1i64.into(), 2i64.into(), 300i64.into()]),
            Some(DType::UInt16),
        ),
        (l(vec![1i64.into(), (-2i64).into()]), Some(DType::Int8)),
        (
            l(vec![l(vec![1.5.into()]), l(vec![2.5.into(), 3.5.into()])]),
            Some(DType::Float32),
        ),
        (l(vec![]), Some(DType::Float64)),
    ]
}

#[test]
fn round_trips_every_layout_and_chunk_size() {
    for (k, (item, dtype)) in samples().into_iter().enumerate() {
        let a = Array::from_item(&item, dtype).unwrap();
        for cs in [None, Some(1), Some(2), Some(a.len().max(1)), Some(1000)] {
            let dir = tmp(&format!("rt{k}"));
            let opts = SaveOptions {
                chunk_size: cs,
                ..Default::default()
            };
            save(&a, &dir, &opts).unwrap();
            let b = load(&dir).unwrap();
            assert_eq!(b.to_item(), a.to_item(), "sample {k} chunk_size {cs:?}");
            assert_eq!(b.dtype(), a.dtype());
            let r = open(&dir).unwrap();
            for i in 0..a.len() {
                for j in i..=a.len() {
                    assert_eq!(
                        r.read_rows(i, j).unwrap().to_item(),
                        a.slice(i, j - i).to_item()
                    );
                }
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn append_equals_one_shot() {
    for (k, (item, dtype)) in samples().into_iter().enumerate() {
        let a = Array::from_item(&item, dtype).unwrap();
        let whole = Array::cat(&[&a, &a, &a]).unwrap();
        let dir = tmp(&format!("ap{k}"));
        save(
            &a,
            &dir,
            &SaveOptions {
                chunk_size: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        append(&a, &dir).unwrap();
        append(&a, &dir).unwrap();
        assert_eq!(load(&dir).unwrap().to_item(), whole.to_item(), "sample {k}");
        let mut w = StoreWriter::new(&dir, SaveOptions::default()).unwrap();
        for _ in 0..3 {
            w.write(&a).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(
            load(&dir).unwrap().to_item(),
            whole.to_item(),
            "writer sample {k}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn append_adds_a_mask_when_nulls_appear() {
    let a = Array::from_item(&l(vec![1i64.into(), 2i64.into(), 3i64.into()]), None).unwrap();
    let b = Array::from_item(&l(vec![Item::Null, 4i64.into()]), Some(DType::Int64)).unwrap();
    let dir = tmp("mask");
    save(
        &a,
        &dir,
        &SaveOptions {
            chunk_size: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    append(&b, &dir).unwrap();
    append(&a, &dir).unwrap();
    let want = Array::cat(&[&a, &b, &a]).unwrap();
    assert_eq!(load(&dir).unwrap().to_item(), want.to_item());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn error_paths_are_store_errors() {
    let dir = tmp("err");
    assert_eq!(load(&dir).unwrap_err().code(), Code::Store); // missing
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(load(&dir).unwrap_err().code(), Code::Store); // not zarr
    let a = Array::from_item(&l(vec![l(vec![1.0.into()]), l(vec![2.0.into()])]), None).unwrap();
    save(&a, &dir, &SaveOptions::default()).unwrap();
    // wrong dtype / layout on append
    let b = Array::from_item(&l(vec![1i64.into()]), None).unwrap();
    let e = append(&b, &dir).unwrap_err();
    assert_eq!(e.code(), Code::Store);
    assert!(e.fix().contains("float64"));
    // overwrite=false
    let e = save(
        &a,
        &dir,
        &SaveOptions {
            overwrite: false,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Store);
    // unknown format version
    let meta = dir.join("zarr.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(
        &meta,
        text.replace("\"format\": 1", "\"format\": 99")
            .replace("\"format\":1", "\"format\":99"),
    )
    .unwrap();
    let e = load(&dir).unwrap_err();
    assert!(e.summary().contains("99"), "{e}");
    std::fs::write(&meta, &text).unwrap();
    // missing chunk
    std::fs::remove_dir_all(dir.join("node1-data/c")).unwrap();
    assert_eq!(load(&dir).unwrap_err().code(), Code::Store);
    std::fs::remove_dir_all(&dir).unwrap();
}
