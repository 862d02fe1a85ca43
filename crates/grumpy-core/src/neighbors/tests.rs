//! Unit tests of the public neighbour search.

use super::*;
use crate::layout::Item;

fn arr(it: Item) -> Array {
    Array::from_item(&it, None).unwrap()
}

fn pts1(xs: &[f64]) -> Array {
    arr(Item::list(
        xs.iter().map(|&x| Item::list(vec![x.into()])).collect(),
    ))
}

fn code(r: Result<NeighborResult>) -> Code {
    r.unwrap_err().code()
}

#[test]
fn knn_dim0_sorted_with_ties_by_index() {
    let p = pts1(&[0.0, 1.0, -1.0, 3.0]);
    let r = neighbors(&p, &p, &NeighborOpts::knn(3)).unwrap();
    assert_eq!(r.offsets(), &[0, 3, 6, 9, 12]);
    // point 0: itself, then 1 and 2 tie at distance 1 → lower index first
    assert_eq!(&r.neighbor_index()[0..3], &[0, 1, 2]);
    assert_eq!(&r.distance_values()[0..3], &[0.0, 1.0, 1.0]);
    assert_eq!(&r.neighbor_index()[9..12], &[3, 1, 0]);
}

#[test]
fn loop_false_drops_self_and_keeps_k() {
    let p = pts1(&[0.0, 0.0, 5.0]);
    let r = neighbors(&p, &p, &NeighborOpts::knn(2).self_loops(false).same(true)).unwrap();
    // duplicates still count as neighbours; self index is removed
    assert_eq!(r.neighbor_index(), &[1, 2, 0, 2, 0, 1]);
    // aliasing arrays are detected without the flag
    let q = p.clone();
    let r2 = neighbors(&p, &q, &NeighborOpts::knn(2).self_loops(false)).unwrap();
    assert_eq!(r2, r);
    // different objects with equal values: loop has no effect
    let other = pts1(&[0.0, 0.0, 5.0]);
    let r3 = neighbors(&p, &other, &NeighborOpts::knn(1).self_loops(false)).unwrap();
    assert_eq!(r3.neighbor_index(), &[0, 0, 2]);
}

#[test]
fn ragged_groups_and_k_larger_than_group() {
    let b = arr(Item::list(vec![
        Item::list(vec![
            vec![0.0, 0.0].into(),
            vec![1.0, 0.0].into(),
            vec![3.0, 0.0].into(),
        ]),
        Item::list(vec![]),
        Item::list(vec![vec![9.0, 9.0].into()]),
    ]));
    let r = neighbors(
        &b,
        &b,
        &NeighborOpts::knn(5).dim(1).self_loops(false).same(true),
    )
    .unwrap();
    assert_eq!(r.offsets(), &[0, 2, 4, 6, 6]);
    let pairs = r.pairs();
    let want = Item::list(vec![
        Item::list(vec![
            Item::from(vec![vec![0i64, 1], vec![0, 2]]),
            Item::from(vec![vec![1i64, 0], vec![1, 2]]),
            Item::from(vec![vec![2i64, 1], vec![2, 0]]),
        ]),
        Item::list(vec![]),
        Item::list(vec![Item::list(vec![])]),
    ]);
    assert_eq!(pairs.to_item(), want);
    assert_eq!(r.distances().ndim(), 3);
    // global edge_index: group 2 starts at data point 3
    let ei = r.edge_index();
    assert_eq!(&ei[..6], &[1, 2, 0, 2, 1, 0]);
    assert_eq!(&ei[6..], &[0, 0, 1, 1, 2, 2]);
}

#[test]
fn radius_is_inclusive_and_sorted() {
    let p = pts1(&[0.0, 1.0, 2.0, 0.5]);
    let r = neighbors(&p, &p, &NeighborOpts::radius(1.0)).unwrap();
    assert_eq!(&r.neighbor_index()[0..3], &[0, 3, 1]);
    assert_eq!(r.offsets(), &[0, 3, 7, 9, 12]);
}

#[test]
fn dim2_keeps_outer_axes() {
    let b = arr(Item::list(vec![
        Item::list(vec![Item::list(vec![vec![0.0].into(), vec![1.0].into()])]),
        Item::list(vec![]),
    ]));
    let p = knn_graph(&b, 1, 2, false).unwrap();
    assert_eq!(p.ndim(), 5);
    assert_eq!(
        p.to_item(),
        Item::list(vec![
            Item::list(vec![Item::list(vec![
                Item::from(vec![vec![0i64, 1]]),
                Item::from(vec![vec![1i64, 0]]),
            ])]),
            Item::list(vec![]),
        ])
    );
    // negative dim counts from the innermost axis
    assert_eq!(knn_graph(&b, 1, -2, false).unwrap(), p);
}

#[test]
fn union_rows_at_dim0_and_int_coordinates() {
    let u = arr(Item::list(vec![
        Item::from(2i64),
        Item::list(vec![0i64.into()]),
        Item::from(5i64),
    ]));
    assert_eq!(u.layout_kind(), "union");
    let r = neighbors(&u, &u, &NeighborOpts::knn(1).self_loops(false).same(true)).unwrap();
    assert_eq!(r.neighbor_index(), &[1, 0, 0]);
}

#[test]
fn large_group_uses_tree_and_matches_brute() {
    let n = 3000usize;
    let xs: Vec<Item> = (0..n)
        .map(|i| {
            let t = i as f64 * 0.37;
            Item::from(vec![t.sin() * 10.0, t.cos() * 7.0, (i % 13) as f64])
        })
        .collect();
    let p = arr(Item::list(xs.clone()));
    let r = neighbors(&p, &p, &NeighborOpts::knn(8).self_loops(false).same(true)).unwrap();
    // Same points split into small groups of one each are not comparable; instead check
    // against a naive scan for a few queries.
    let c: Vec<[f64; 3]> = (0..n)
        .map(|i| {
            let t = i as f64 * 0.37;
            [t.sin() * 10.0, t.cos() * 7.0, (i % 13) as f64]
        })
        .collect();
    for qi in (0..n).step_by(97) {
        let mut v: Vec<(f64, usize)> = (0..n)
            .filter(|&j| j != qi)
            .map(|j| {
                let d: f64 = (0..3).map(|a| (c[qi][a] - c[j][a]).powi(2)).sum();
                (d, j)
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let want: Vec<i64> = v[..8].iter().map(|x| x.1 as i64).collect();
        assert_eq!(&r.neighbor_index()[qi * 8..qi * 8 + 8], &want[..]);
    }
    let rr = neighbors(&p, &p, &NeighborOpts::radius(2.0)).unwrap();
    assert!(rr.num_edges() >= n);
}

#[test]
fn errors() {
    let p = pts1(&[0.0, 1.0]);
    let o = NeighborOpts::default();
    assert_eq!(code(neighbors(&p, &p, &o)), Code::Argument);
    let both = NeighborOpts {
        k: Some(1),
        radius: Some(1.0),
        ..o.clone()
    };
    assert_eq!(code(neighbors(&p, &p, &both)), Code::Argument);
    assert_eq!(
        code(neighbors(&p, &p, &NeighborOpts::knn(-1))),
        Code::Argument
    );
    assert_eq!(
        code(neighbors(&p, &p, &NeighborOpts::radius(-1.0))),
        Code::Argument
    );
    assert_eq!(
        code(neighbors(&p, &p, &NeighborOpts::radius(f64::NAN))),
        Code::Argument
    );
    assert_eq!(
        code(neighbors(&p, &p, &NeighborOpts::knn(1).dim(1))),
        Code::Argument
    );
    assert_eq!(
        code(neighbors(&p, &p, &NeighborOpts::knn(1).dim(-3))),
        Code::Argument
    );
    let nan = pts1(&[0.0, f64::NAN]);
    assert_eq!(
        code(neighbors(&nan, &p, &NeighborOpts::knn(1))),
        Code::Value
    );
    let inf = pts1(&[f64::INFINITY]);
    assert_eq!(
        code(neighbors(&p, &inf, &NeighborOpts::knn(1))),
        Code::Value
    );
    let ragged = arr(Item::from(vec![vec![0.0, 1.0], vec![2.0]]));
    assert_eq!(
        code(neighbors(&ragged, &ragged, &NeighborOpts::knn(1))),
        Code::Value
    );
    let two_d = arr(Item::from(vec![vec![0.0, 1.0]]));
    assert_eq!(
        code(neighbors(&p, &two_d, &NeighborOpts::knn(1))),
        Code::Value
    );
    let nulls = Array::from_item(
        &Item::list(vec![Item::list(vec![Item::Null])]),
        Some(crate::DType::Float64),
    )
    .unwrap();
    assert_eq!(
        code(neighbors(&nulls, &nulls, &NeighborOpts::knn(1))),
        Code::Value
    );
    let null_row = arr(Item::list(vec![Item::Null, Item::from(vec![1.0])]));
    assert_eq!(
        code(neighbors(&null_row, &null_row, &NeighborOpts::knn(1))),
        Code::Value
    );
    let g1 = arr(Item::list(vec![Item::from(vec![vec![0.0]])]));
    let g2 = arr(Item::list(vec![
        Item::from(vec![vec![0.0]]),
        Item::from(vec![vec![1.0]]),
    ]));
    assert_eq!(
        code(neighbors(&g1, &g2, &NeighborOpts::knn(1).dim(1))),
        Code::Shape
    );
    // query and data of different depth with a negative dim
    assert_eq!(
        code(neighbors(&p, &g1, &NeighborOpts::knn(1).dim(-2))),
        Code::Shape
    );
    // points that are not flat coordinate lists
    assert_eq!(
        code(neighbors(&g1, &g1, &NeighborOpts::knn(1))),
        Code::Shape
    );
    let strs = arr(Item::list(vec![Item::list(vec!["a".into()])]));
    assert_eq!(
        code(neighbors(&strs, &strs, &NeighborOpts::knn(1))),
        Code::DType
    );
}

#[test]
fn k_zero_and_empty_inputs() {
    let p = pts1(&[0.0, 1.0]);
    let r = neighbors(&p, &p, &NeighborOpts::knn(0)).unwrap();
    assert_eq!(r.num_edges(), 0);
    assert_eq!(r.offsets(), &[0, 0, 0]);
    let e = Array::from_offsets(
        crate::buffer::Values::from(Vec::<f64>::new()),
        None,
        vec![
            crate::buffer::Buf::from_vec(vec![0i64, 0]),
            crate::buffer::Buf::from_vec(vec![0i64]),
        ],
    )
    .unwrap();
    let r = neighbors(&e, &e, &NeighborOpts::knn(3).dim(1)).unwrap();
    assert_eq!(r.num_queries(), 0);
    assert_eq!(r.pairs().to_item(), Item::list(vec![Item::list(vec![])]));
}
