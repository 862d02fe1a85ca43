use super::*;
use crate::layout::{Item, Layout};
use crate::Code;

fn arr(it: Item) -> Array {
    Array::from_item(&it, None).unwrap()
}

fn list_offsets(a: &Array, depth: usize) -> Buf<i64> {
    let mut cur = a.layout.clone();
    for _ in 0..depth {
        cur = cur.as_list().unwrap().child_view();
    }
    cur.as_list().unwrap().offsets.clone()
}

/// molecule → residue → atom: 2 molecules, 3 residues, 4 atoms.
fn protein() -> Frame {
    let name = arr(vec!["A", "B"].into());
    let resname = arr(Item::list(vec![
        vec!["ALA", "GLY"].into(),
        vec!["SER"].into(),
    ]));
    let coords = arr(Item::list(vec![
        Item::list(vec![
            Item::list(vec![vec![0.0, 0.0, 0.0].into(), vec![1.0, 0.0, 0.0].into()]),
            Item::list(vec![vec![2.0, 0.0, 0.0].into()]),
        ]),
        Item::list(vec![Item::list(vec![vec![3.0, 0.0, 0.0].into()])]),
    ]));
    let element = arr(Item::list(vec![
        Item::list(vec![vec!["C", "N"].into(), vec!["O"].into()]),
        Item::list(vec![vec!["S"].into()]),
    ]));
    Frame::new(
        &["molecule", "residue", "atom"],
        vec![
            ("name".into(), name),
            ("resname".into(), resname),
            ("coords".into(), coords),
            ("element".into(), element),
        ],
        &[],
    )
    .unwrap()
}

#[test]
fn levels_by_depth_prefix_and_explicit() {
    let df = protein();
    let lv: Vec<usize> = df.columns().iter().map(|c| c.level).collect();
    assert_eq!(lv, vec![0, 1, 2, 2]);
    assert_eq!(df.count(1).unwrap(), 3);
    assert_eq!(df.count(2).unwrap(), 4);
    // A per-residue xyz column by prefix and by explicit level.
    let ca = arr(Item::list(vec![
        vec![vec![1.0, 1.0, 1.0], vec![2.0, 2.0, 2.0]].into(),
        vec![vec![3.0, 3.0, 3.0]].into(),
    ]));
    let xs = vec![("residue_ca".into(), ca.clone()), ("ca".into(), ca)];
    let f = Frame::new(&["molecule", "residue", "atom"], xs, &[("ca", "residue")]).unwrap();
    assert_eq!(f.column("residue_ca").unwrap().level, 1);
    assert_eq!(f.column("ca").unwrap().level, 1);
    assert_eq!(f.offsets(2), None);
}

#[test]
fn offsets_are_stored_once() {
    let df = protein();
    let o1 = df.offsets(1).unwrap();
    for c in ["resname", "coords", "element"] {
        assert!(list_offsets(df.get(c).unwrap(), 0).same_view(o1), "{c}");
    }
    let o2 = df.offsets(2).unwrap();
    assert!(list_offsets(df.get("coords").unwrap(), 1).same_view(o2));
    assert!(list_offsets(df.get("element").unwrap(), 1).same_view(o2));
    assert_eq!(o1.as_slice(), &[0, 2, 3]);
    assert_eq!(o2.as_slice(), &[0, 2, 3, 4]);
}

#[test]
fn mismatched_offsets_name_both_columns() {
    let a = arr(Item::list(vec![vec![1i64, 2].into(), vec![3i64].into()]));
    let b = arr(Item::list(vec![vec![1i64].into(), vec![2i64, 3].into()]));
    let e = Frame::new(&["m", "r"], vec![("a".into(), a), ("b".into(), b)], &[]).unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert!(e.summary().contains("\"a\"") && e.summary().contains("\"b\""));
    assert!(e.summary().contains("\"r\""));
    assert!(e.fix().contains("levels="));
}

#[test]
fn error_paths() {
    let a = arr(vec![1i64, 2].into());
    let b = arr(vec![1i64, 2, 3].into());
    let e = Frame::new(&["m"], vec![("a".into(), a.clone()), ("b".into(), b)], &[]).unwrap_err();
    assert!(e.summary().contains("3 rows"));
    let e = Frame::new(&["m", "r"], vec![("a".into(), a.clone())], &[("a", "r")]).unwrap_err();
    assert!(e.summary().contains("not nested deeply enough"), "{e}");
    let e = Frame::new(&["m", "r"], vec![("a".into(), a.clone())], &[("a", "q")]).unwrap_err();
    assert!(e.summary().contains("unknown level"));
    let e = Frame::new(&["m", "r"], vec![("a".into(), a.clone())], &[("z", "r")]).unwrap_err();
    assert!(e.summary().contains("not in the frame"));
    let e = Frame::new::<&str>(&[], vec![("a".into(), a.clone())], &[]).unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    let e = Frame::new(&["m", "m"], vec![("a".into(), a)], &[]).unwrap_err();
    assert!(e.summary().contains("bad level name"));
    let df = protein();
    assert_eq!(df.get("nope").unwrap_err().code(), Code::Schema);
    assert_eq!(df.level("chain").unwrap_err().code(), Code::Schema);
    assert_eq!(df.at(7).unwrap_err().code(), Code::Schema);
    assert_eq!(df.row(2).unwrap_err().code(), Code::OutOfBounds);
    assert_eq!(df.row(-3).unwrap_err().code(), Code::OutOfBounds);
    assert_eq!(df.slice(1, 2).unwrap_err().code(), Code::OutOfBounds);
    assert_eq!(df.filter(&[true]).unwrap_err().code(), Code::Shape);
    assert_eq!(
        df.select(&["name", "name"]).unwrap_err().code(),
        Code::Schema
    );
    assert_eq!(df.column_at(1, "name").unwrap_err().code(), Code::Schema);
}

#[test]
fn unions_count_one_element_per_row() {
    let u = arr(Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]));
    let df = Frame::new(&["m", "r"], vec![("u".into(), u.clone())], &[]).unwrap();
    assert_eq!(df.column("u").unwrap().level, 0);
    let e = Frame::new(&["m", "r"], vec![("u".into(), u)], &[("u", "r")]).unwrap_err();
    assert!(e.summary().contains("mixes scalars and lists"), "{e}");
    // A union below a list axis sits at the residue level: one element per residue.
    let nested = arr(Item::list(vec![
        Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]),
        Item::list(vec![4.0.into()]),
    ]));
    let r = arr(Item::list(vec![vec![1i64, 2].into(), vec![3i64].into()]));
    let df = Frame::new(
        &["m", "r", "a"],
        vec![("n".into(), nested), ("r_id".into(), r)],
        &[],
    )
    .unwrap();
    assert_eq!(df.column("n").unwrap().level, 1);
    assert_eq!(df.at(1).unwrap().get("n").unwrap().layout.kind(), "union");
}

#[test]
fn views_peel_outer_axes_without_copy() {
    let df = protein();
    let res = df.at(1).unwrap();
    assert_eq!(res.len(), 3);
    assert_eq!(res.names(), vec!["resname", "coords", "element"]);
    assert_eq!(
        res.get("resname").unwrap().to_item(),
        vec!["ALA", "GLY", "SER"].into()
    );
    let c = res.get("coords").unwrap();
    assert_eq!(c.len(), 3);
    let leaf_ptr = |a: &Array| {
        a.layout.leaves()[0]
            .values
            .as_slice::<f64>()
            .unwrap()
            .as_ptr()
    };
    assert_eq!(leaf_ptr(c), leaf_ptr(df.get("coords").unwrap()));
    let atoms = res.at(1).unwrap();
    assert_eq!(atoms.len(), 4);
    assert_eq!(atoms, df.at(2).unwrap());
    assert_eq!(
        atoms.get("element").unwrap().to_item(),
        vec!["C", "N", "O", "S"].into()
    );
    assert_eq!(df.column_at(1, "coords").unwrap(), *c);
}

#[test]
fn row_selection_then_views() {
    let df = protein();
    let m1 = df.row(-1).unwrap();
    assert_eq!(m1.get("name").unwrap().to_item(), vec!["B"].into());
    let r = m1.at(1).unwrap();
    assert_eq!(r.get("resname").unwrap().to_item(), vec!["SER"].into());
    assert_eq!(
        r.at(1).unwrap().get("element").unwrap().to_item(),
        vec!["S"].into()
    );
    let t = df.take(&[1, 0, 1]).unwrap();
    assert_eq!(t.count(2).unwrap(), 5);
    assert!(list_offsets(t.get("coords").unwrap(), 0).same_view(t.offsets(1).unwrap()));
    let f = df.filter(&[false, true]).unwrap();
    assert_eq!(f.get("name").unwrap().to_item(), vec!["B"].into());
    let s = df.select(&["resname"]).unwrap();
    assert_eq!(s.offsets(2), None);
    assert_eq!(
        df.at(1)
            .unwrap()
            .take(&[2, 0])
            .unwrap()
            .get("resname")
            .unwrap()
            .to_item(),
        vec!["SER", "ALA"].into()
    );
}

#[test]
fn assign_per_entity_and_full_shape() {
    let mut df = protein();
    df.assign(1, "center", Array::from_vec(vec![0.5, 2.0, 3.0]))
        .unwrap();
    let c = df.get("center").unwrap();
    assert_eq!(
        c.to_item(),
        Item::list(vec![vec![0.5, 2.0].into(), vec![3.0].into()])
    );
    assert!(list_offsets(c, 0).same_view(df.offsets(1).unwrap()));
    let full = arr(Item::list(vec![vec![1i64, 2].into(), vec![3i64].into()]));
    df.assign(1, "idx", full).unwrap();
    assert!(list_offsets(df.get("idx").unwrap(), 0).same_view(df.offsets(1).unwrap()));
    // Replace keeps the position.
    df.assign(0, "name", arr(vec!["X", "Y"].into())).unwrap();
    assert_eq!(df.names()[0], "name");
    let e = df
        .assign(1, "bad", Array::from_vec(vec![1.0; 5]))
        .unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert!(e.cause().contains("3 rows (one per residue"), "{e}");
    let wrong = arr(Item::list(vec![vec![1i64].into(), vec![3i64, 4].into()]));
    assert_eq!(df.assign(1, "w", wrong).unwrap_err().code(), Code::Schema);
    assert_eq!(
        df.assign(5, "w", Array::from_vec(vec![1.0]))
            .unwrap_err()
            .code(),
        Code::Schema
    );
    assert_eq!(
        df.assign(0, "", Array::from_vec(vec![1.0, 2.0]))
            .unwrap_err()
            .code(),
        Code::Schema
    );
}

#[test]
fn assign_on_sliced_frame_rebases() {
    let df = protein();
    let mut s = df.slice(1, 1).unwrap();
    s.assign(2, "q", Array::from_vec(vec![9i64])).unwrap();
    assert_eq!(s.offsets(1).unwrap().as_slice(), &[0, 1]);
    assert_eq!(s.offsets(2).unwrap().as_slice(), &[0, 1]);
    assert_eq!(
        s.get("q").unwrap().to_item(),
        Item::list(vec![Item::list(vec![vec![9i64].into()])])
    );
    assert_eq!(
        s.get("element").unwrap().to_item(),
        Item::list(vec![Item::list(vec![vec!["S"].into()])])
    );
    assert!(list_offsets(s.get("coords").unwrap(), 1).same_view(s.offsets(2).unwrap()));
}

#[test]
fn assign_establishes_a_new_level_and_fills_empty_frames() {
    let mut df = Frame::new(
        &["m", "r"],
        vec![("a".into(), arr(vec![1i64, 2].into()))],
        &[],
    )
    .unwrap();
    assert_eq!(
        df.assign(1, "x", Array::from_vec(vec![1.0]))
            .unwrap_err()
            .code(),
        Code::Schema
    );
    df.assign(
        1,
        "x",
        arr(Item::list(vec![vec![1.0].into(), Item::list(vec![])])),
    )
    .unwrap();
    assert_eq!(df.count(1).unwrap(), 1);
    let mut e = Frame::new::<&str>(&["m"], vec![], &[]).unwrap();
    assert!(e.is_empty());
    e.assign(0, "a", Array::from_vec(vec![1i64, 2, 3])).unwrap();
    assert_eq!(e.len(), 3);
    assert!(matches!(e.get("a").unwrap().layout, Layout::Leaf(_)));
}
