//! Dataframe stores: round trips at every chunk size, row ranges and gathers against
//! `Frame::slice`/`Frame::take`, append and batch-wise save equal to one-shot save.

use grumpy_core::layout::Item;
use grumpy_core::{Array, Frame};
use grumpy_zarr::{
    append_frame, load_data, load_frame, open, save_frame, ChunkDim, Data, SaveOptions, StoreWriter,
};
use std::path::PathBuf;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("grumpy-zarr-frames-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// molecule → residue → atom: a string per molecule, a float per residue, xyz per atom.
fn frame(n_res: &[usize], seed: usize) -> Frame {
    let mut name = Vec::new();
    let mut charge = Vec::new();
    let mut xyz = Vec::new();
    let mut k = seed;
    for (m, &nr) in n_res.iter().enumerate() {
        name.push(if m % 3 == 1 {
            Item::Null
        } else {
            format!("m{m}").into()
        });
        let mut c = Vec::new();
        let mut x = Vec::new();
        for _ in 0..nr {
            k += 1;
            c.push(if k.is_multiple_of(4) {
                Item::Null
            } else {
                (k as f64).into()
            });
            let atoms: Vec<Item> = (0..k % 3)
                .map(|a| Item::list(vec![(a as f64).into(), (k as f64).into(), 0.5.into()]))
                .collect();
            x.push(Item::list(atoms));
        }
        charge.push(Item::list(c));
        xyz.push(Item::list(x));
    }
    let col = |items: Vec<Item>, dtype| Array::from_item(&Item::list(items), dtype).unwrap();
    Frame::new(
        &["molecule", "residue", "atom"],
        vec![
            ("name".into(), col(name, Some(grumpy_core::DType::String))),
            (
                "charge".into(),
                col(charge, Some(grumpy_core::DType::Float64)),
            ),
            ("xyz".into(), col(xyz, Some(grumpy_core::DType::Float64))),
        ],
        &[("charge", "residue"), ("xyz", "atom")],
    )
    .unwrap()
}

fn items(f: &Frame) -> Vec<(String, Item)> {
    f.columns()
        .iter()
        .map(|c| (c.name.clone(), c.array.to_item()))
        .collect()
}

#[test]
fn frame_round_trips_and_row_ranges() {
    let df = frame(&[2, 0, 3, 1, 2], 0);
    for cs in [None, Some(1), Some(2), Some(5), Some(100)] {
        let dir = tmp("rt");
        let opts = SaveOptions {
            chunk_size: cs,
            ..Default::default()
        };
        save_frame(&df, &dir, &opts).unwrap();
        assert_eq!(items(&load_frame(&dir).unwrap()), items(&df), "cs {cs:?}");
        let r = open(&dir).unwrap();
        assert!(r.is_frame());
        for a in 0..=df.len() {
            for b in a..=df.len() {
                let got = r.read_frame_rows(a, b).unwrap();
                assert_eq!(items(&got), items(&df.slice(a, b - a).unwrap()));
            }
        }
        let rows = [4usize, 0, 4, 2];
        let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        assert_eq!(
            items(&r.take_frame_rows(&rows).unwrap()),
            items(&df.take(&idx).unwrap())
        );
        // an array read of a frame store is a clear StoreError, not garbage
        assert_eq!(
            r.read_rows(0, 1).unwrap_err().code(),
            grumpy_core::Code::Store
        );
        assert!(matches!(load_data(&dir).unwrap(), Data::Frame(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn frame_append_and_writer_equal_one_shot() {
    let parts = [frame(&[1, 2], 1), frame(&[], 2), frame(&[0, 3, 1], 3)];
    let cols: Vec<Vec<&Array>> = (0..3)
        .map(|c| parts.iter().map(|p| &p.columns()[c].array).collect())
        .collect();
    let whole: Vec<Item> = cols
        .iter()
        .map(|c| Array::cat(c).unwrap().to_item())
        .collect();
    let dir = tmp("ap");
    let opts = SaveOptions {
        chunk_size: Some(2),
        chunk_dim: Some(ChunkDim::Level("residue".into())),
        ..Default::default()
    };
    save_frame(&parts[0], &dir, &opts).unwrap();
    for p in &parts[1..] {
        append_frame(p, &dir).unwrap();
    }
    let got: Vec<Item> = items(&load_frame(&dir).unwrap())
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    assert_eq!(got, whole);
    let mut w = StoreWriter::new(&dir, opts).unwrap();
    for p in &parts {
        w.write_data(&Data::Frame(p.clone())).unwrap();
    }
    w.finish().unwrap();
    let got: Vec<Item> = items(&load_frame(&dir).unwrap())
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    assert_eq!(got, whole);
    std::fs::remove_dir_all(&dir).unwrap();
}
