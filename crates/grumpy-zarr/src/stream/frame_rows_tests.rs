use super::*;
use crate::stream::{BatchSource, LevelRef, Shuffle, Stream, StreamOptions};
use grumpy_core::layout::Item;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `n` proteins; protein `p` has `p % 4` residues, residue `r` (global id) has `r % 3`
/// atoms. Columns: `pid` (protein), `rid` (residue, unique), `aid` and `xyz` (atom).
fn proteins(n: usize) -> Frame {
    let (mut pid, mut rid, mut aid, mut xyz) = (vec![], vec![], vec![], vec![]);
    let (mut r, mut a) = (0i64, 0i64);
    for p in 0..n {
        pid.push(p as i64);
        let (mut rr, mut aa, mut xx) = (vec![], vec![], vec![]);
        for _ in 0..p % 4 {
            rr.push(r);
            let ids: Vec<i64> = (0..r % 3).map(|k| a + k).collect();
            a += r % 3;
            xx.push(ids.iter().map(|&i| vec![i as f64; 3]).collect::<Vec<_>>());
            aa.push(ids);
            r += 1;
        }
        rid.push(rr);
        aid.push(aa);
        xyz.push(xx);
    }
    let arr = |i: Item| Array::from_item(&i, None).unwrap();
    Frame::new(
        &["protein", "residue", "atom"],
        vec![
            ("pid".into(), Array::from_vec(pid)),
            ("rid".into(), arr(rid.into())),
            ("aid".into(), arr(aid.into())),
            ("xyz".into(), arr(xyz.into())),
        ],
        &[("xyz", "atom")],
    )
    .unwrap()
}

fn ints(item: Item) -> Vec<i64> {
    match item {
        Item::List(xs) => xs.into_iter().flat_map(ints).collect(),
        Item::Scalar(s) => vec![s.as_f64().unwrap() as i64],
        other => panic!("{other:?}"),
    }
}

fn col(f: &Frame, name: &str) -> Item {
    f.get(name).unwrap().to_item()
}

/// A frame's schema and columns as values (a slice and a fresh read compare equal).
fn items(f: &Frame) -> (Vec<String>, Vec<(String, usize, Item)>) {
    let cols = f.columns().iter();
    let cols = cols.map(|c| (c.name.clone(), c.level, c.array.to_item()));
    (f.schema().to_vec(), cols.collect())
}

fn data_items(d: &Data) -> (Vec<String>, Vec<(String, usize, Item)>) {
    match d {
        Data::Frame(f) => items(f),
        Data::Array(a) => (vec![], vec![(String::new(), 0, a.to_item())]),
    }
}

/// residue id → (its atom ids, its xyz rows), the residue's "subtree".
fn residues(f: &Frame) -> BTreeMap<i64, Item> {
    let (Item::List(r), Item::List(a), Item::List(x)) =
        (col(f, "rid"), col(f, "aid"), col(f, "xyz"))
    else {
        panic!()
    };
    let mut out = BTreeMap::new();
    for ((r, a), x) in r.into_iter().zip(a).zip(x) {
        let (Item::List(r), Item::List(a), Item::List(x)) = (r, a, x) else {
            panic!()
        };
        for ((r, a), x) in r.into_iter().zip(a).zip(x) {
            out.insert(ints(r)[0], Item::list(vec![a, x]));
        }
    }
    out
}

#[test]
fn shuffle_by_level_moves_every_column_alike() {
    let df = proteins(9).slice(2, 6).unwrap();
    let p = df.permute_level(1, 7).unwrap();
    assert_eq!(
        col(&p, "pid"),
        col(&df, "pid"),
        "columns above the level stay"
    );
    assert_eq!(residues(&p), residues(&df), "each residue keeps its atoms");
    // residues stay inside their protein
    let (Item::List(a), Item::List(b)) = (col(&p, "rid"), col(&df, "rid")) else {
        panic!()
    };
    for (x, y) in a.into_iter().zip(b) {
        let (mut x, mut y) = (ints(x), ints(y));
        x.sort();
        y.sort();
        assert_eq!(x, y);
    }
    assert_ne!(col(&p, "rid"), col(&df, "rid"), "seed 7 moves something");
    assert_eq!(p, df.permute_level(1, 7).unwrap(), "deterministic");
    assert_eq!(p.entity_counts(1).unwrap(), df.entity_counts(1).unwrap());
    // atoms: aid and xyz permuted identically inside each residue
    let q = df.permute_level(2, 3).unwrap();
    assert_eq!(col(&q, "rid"), col(&df, "rid"));
    let (aid, xyz) = (ints(col(&q, "aid")), ints(col(&q, "xyz")));
    let rebuilt: Vec<i64> = aid.iter().flat_map(|&i| [i; 3]).collect();
    assert_eq!(xyz, rebuilt);
    let mut s = aid.clone();
    s.sort();
    assert_eq!(s, ints(col(&df, "aid")));
    // rows
    let r = df.permute_level(0, 1).unwrap();
    let mut pids = ints(col(&r, "pid"));
    pids.sort();
    assert_eq!(pids, ints(col(&df, "pid")));
    assert_eq!(df.permute_level(3, 1).unwrap_err().code(), Code::Argument);
}

#[test]
fn counts_and_concat() {
    let df = proteins(7);
    assert_eq!(df.entity_counts(1).unwrap(), vec![0, 1, 2, 3, 0, 1, 2]);
    let s = df.slice(1, 3).unwrap();
    // residues 0..=5 have 0,1,2,0,1,2 atoms: protein 1 = r0, protein 2 = r1 r2, protein 3 = r3..r5
    assert_eq!(s.entity_counts(2).unwrap(), vec![0, 3, 3]);
    assert_eq!(s.entity_counts(0).unwrap(), vec![1, 1, 1]);
    let c = Frame::concat_rows(&[df.slice(4, 3).unwrap(), df.slice(0, 2).unwrap()]).unwrap();
    assert_eq!(items(&c), items(&df.take(&[4, 5, 6, 0, 1]).unwrap()));
    let src = MemorySource::from_frame(df.clone());
    let d = src.take_rows(&[5, 6, 1]).unwrap();
    assert_eq!(items(&d), items(&df.take(&[5, 6, 1]).unwrap()));
    let mixed = [
        Data::Frame(df.clone()),
        Data::Array(Array::from_vec(vec![1.0])),
    ];
    assert_eq!(
        Data::concat_rows(&mixed).unwrap_err().code(),
        Code::Argument
    );
}

fn opts(bs: usize) -> StreamOptions {
    StreamOptions {
        batch_size: bs,
        seed: Some(4),
        ..Default::default()
    }
}

#[test]
fn frame_stream_batches_are_slices() {
    let df = proteins(23);
    let src = Arc::new(MemorySource::from_data(Data::Frame(df.clone())));
    for (on, want) in [
        (None, None),
        (Some("residue"), Some(1)),
        (Some("atom"), Some(2)),
    ] {
        let o = StreamOptions {
            batch_on: on.map(|n| LevelRef::Name(n.into())),
            shuffle: Shuffle::Batches,
            ..opts(3)
        };
        let st = Stream::new(src.clone(), o).unwrap();
        let counts = want.map(|d| df.entity_counts(d).unwrap());
        let mut rows = vec![];
        for (b, r) in st.iter().zip(st.row_ranges()) {
            let b = b.unwrap().into_frame().unwrap();
            assert_eq!(items(&b), items(&df.slice(r.start, r.len()).unwrap()));
            if let Some(c) = &counts {
                let total: u64 = c[r.clone()].iter().sum();
                assert!(r.len() == 1 || total <= 3, "packs about 3 entities");
            }
            rows.extend(r);
        }
        rows.sort();
        assert_eq!(rows, (0..23).collect::<Vec<_>>());
    }
    let bad = StreamOptions {
        batch_on: Some(LevelRef::Name("chain".into())),
        ..opts(3)
    };
    let e = Stream::new(src.clone(), bad).unwrap_err();
    assert_eq!(e.code(), Code::Argument);
    assert!(e.cause().contains("residue"), "{e}");
}

#[test]
fn frame_store_streams_like_memory() {
    let df = proteins(30);
    let dir = std::env::temp_dir().join(format!("grumpy-frame-stream-{}", std::process::id()));
    crate::save_frame(&df, &dir, &Default::default()).unwrap();
    let store: Arc<dyn BatchSource<Batch = Data>> = Arc::new(crate::open(&dir).unwrap());
    let mem: Arc<dyn BatchSource<Batch = Data>> =
        Arc::new(MemorySource::from_data(Data::Frame(df.clone())));
    assert_eq!(store.nesting(), 2);
    assert_eq!(
        store.entity_counts(2).unwrap(),
        df.entity_counts(2).unwrap()
    );
    for in_memory in [false, true] {
        let o = StreamOptions {
            batch_on: Some(LevelRef::Depth(1)),
            shuffle: Shuffle::Level(LevelRef::Name("residue".into())),
            in_memory,
            ..opts(4)
        };
        let a = Stream::new(store.clone(), o.clone()).unwrap();
        let b = Stream::new(mem.clone(), o).unwrap();
        assert_eq!(a.row_ranges(), b.row_ranges());
        let x: Vec<_> = a.iter().map(|r| data_items(&r.unwrap())).collect();
        let y: Vec<_> = b.iter().map(|r| data_items(&r.unwrap())).collect();
        assert_eq!(x, y);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
