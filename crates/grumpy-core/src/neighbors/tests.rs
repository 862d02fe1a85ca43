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
    // loop=False is positional, not identity: an equal copy gives the same result
    let other = pts1(&[0.0, 0.0, 5.0]);
    let r3 = neighbors(&p, &other, &NeighborOpts::knn(2).self_loops(false)).unwrap();
    assert_eq!(r3, r);
    // ... and different points of the same shape drop (i, i) too
    let moved = pts1(&[0.1, 4.0, 4.9]);
    let r4 = neighbors(&p, &moved, &NeighborOpts::knn(1).self_loops(false)).unwrap();
    assert_eq!(r4.neighbor_index(), &[1, 0, 1]);
    // point counts that differ cannot have self pairs: an argument error
    let fewer = pts1(&[0.0, 1.0]);
    let e = neighbors(&p, &fewer, &NeighborOpts::knn(1).self_loops(false)).unwrap_err();
    assert_eq!(e.code(), Code::Argument);
    assert!(e.fix().contains("loop=True"));
    assert!(neighbors(&p, &fewer, &NeighborOpts::knn(1)).is_ok());
}

#[test]
fn huge_k_is_capped_and_impossible_results_are_errors() {
    let xs: Vec<f64> = (0..300).map(|i| f64::from(i % 17)).collect();
    let p = pts1(&xs);
    let all = neighbors(&p, &p, &NeighborOpts::knn(i64::MAX).self_loops(false)).unwrap();
    assert_eq!(all.num_edges(), 300 * 299);
    let capped = neighbors(&p, &p, &NeighborOpts::knn(299).self_loops(false)).unwrap();
    assert_eq!(all, capped);
    // 200,000 points × 199,999 neighbours cannot fit: a clean error, before any allocation
    let big = Array::from_offsets(
        crate::buffer::Values::from(vec![0.0f64; 200_000]),
        None,
        vec![crate::buffer::Buf::from_vec((0..=200_000i64).collect())],
    )
    .unwrap();
    let e = neighbors(&big, &big, &NeighborOpts::knn(1_000_000_000)).unwrap_err();
    assert_eq!(e.code(), Code::Value);
    assert!(e.summary().contains("memory"), "{e}");
}

#[test]
fn radius_results_over_budget_are_errors_and_two_passes_agree() {
    let same = pts1(&vec![1.0; 3000]);
    let o = NeighborOpts::radius(0.5);
    let e = search_within(&same, &same, &o, Form::Pairs, false, 1000).unwrap_err();
    assert!(e.summary().contains("memory"), "{e}");
    // a result that fits but whose worst case does not: counted first, then written
    let groups: Vec<Vec<Vec<f64>>> = [300usize, 0, 50]
        .iter()
        .map(|&n| lcg_points(n, 3, n as u64, 11))
        .collect();
    let b = flat_array(&groups, 3);
    for opts in [
        NeighborOpts::radius(1.5).dim(1),
        NeighborOpts::radius(2.5).dim(1).self_loops(false),
    ] {
        let (_, _, one) = search_within(&b, &b, &opts, Form::Pairs, true, usize::MAX).unwrap();
        let edges = one.out.dist.as_ref().unwrap().len();
        assert!(edges > 300 && edges < 90_000 / 2);
        let (_, _, two) = search_within(&b, &b, &opts, Form::Pairs, true, 2 * edges).unwrap();
        assert_eq!(one.offsets, two.offsets);
        assert_eq!(one.out.main, two.out.main);
        assert_eq!(one.out.dist, two.out.dist);
        let e = search_within(&b, &b, &opts, Form::Pairs, true, edges - 1).unwrap_err();
        assert!(e.summary().contains("memory"), "{e}");
    }
}

/// Naive reference for the points `qs` of `d` queried against `d`: per query, `(index,
/// distance)` sorted by `(d², index)` with `d²` summed in axis order.
fn naive(
    qs: &[usize],
    d: &[Vec<f64>],
    k: Option<usize>,
    r: Option<f64>,
    excl: bool,
) -> Vec<Vec<(i64, f64)>> {
    qs.iter()
        .map(|&i| {
            let a = &d[i];
            let mut v: Vec<(f64, usize)> = d
                .iter()
                .enumerate()
                .filter(|&(j, _)| !(excl && i == j))
                .map(|(j, b)| {
                    let mut s = 0.0;
                    for (x, y) in a.iter().zip(b) {
                        s += (x - y) * (x - y);
                    }
                    (s, j)
                })
                .filter(|&(s, _)| r.is_none_or(|r| s.sqrt() <= r))
                .collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v.truncate(k.unwrap_or(usize::MAX));
            v.into_iter().map(|(s, j)| (j as i64, s.sqrt())).collect()
        })
        .collect()
}

fn lcg_points(n: usize, dims: usize, seed: u64, grid: u64) -> Vec<Vec<f64>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            (0..dims)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((s >> 33) % grid) as f64 * 0.5 - 3.0
                })
                .collect()
        })
        .collect()
}

fn flat_array(groups: &[Vec<Vec<f64>>], dims: usize) -> Array {
    let mut vals = Vec::new();
    let mut g = vec![0i64];
    for grp in groups {
        for p in grp {
            vals.extend_from_slice(p);
        }
        g.push(g.last().unwrap() + grp.len() as i64);
    }
    let n = *g.last().unwrap();
    Array::from_offsets(
        crate::buffer::Values::from(vals),
        None,
        vec![
            crate::buffer::Buf::from_vec(g),
            crate::buffer::Buf::from_vec((0..=n).map(|i| i * dims as i64).collect()),
        ],
    )
    .unwrap()
}

#[test]
fn every_kernel_matches_the_naive_reference() {
    // group sizes cover blocks (≤ 4096), kd-trees (> 4096) and brute force (5 coordinates);
    // coarse grids make many exact ties and duplicates
    for dims in [1usize, 2, 3, 5] {
        let groups: Vec<Vec<Vec<f64>>> = [0usize, 1, 9, 300, 5000]
            .iter()
            .enumerate()
            .map(|(i, &n)| lcg_points(n, dims, 11 + i as u64, if n > 1000 { 400 } else { 13 }))
            .collect();
        let b = flat_array(&groups, dims);
        for (k, r) in [
            (Some(0), None),
            (Some(1), None),
            (Some(16), None),
            (Some(70), None),
            (None, Some(1.5)),
        ] {
            for excl in [false, true] {
                let opts = NeighborOpts {
                    k: k.map(|k| k as i64),
                    radius: r,
                    dim: 1,
                    self_loops: !excl,
                    same: false,
                };
                let got = neighbors(&b, &b, &opts).unwrap();
                let mut qg = 0;
                for grp in &groups {
                    // every query of the small groups, a sample of the large one
                    let step = if grp.len() > 1000 { 97 } else { 1 };
                    let qs: Vec<usize> = (0..grp.len()).step_by(step).collect();
                    for (&i, w) in qs.iter().zip(naive(&qs, grp, k, r, excl)) {
                        let o = got.offsets();
                        let (a, z) = (o[qg + i] as usize, o[qg + i + 1] as usize);
                        let wi: Vec<i64> = w.iter().map(|x| x.0).collect();
                        let wd: Vec<f64> = w.iter().map(|x| x.1).collect();
                        let n = grp.len();
                        let what = format!("dims {dims} n {n} q {i} k {k:?} r {r:?} excl {excl}");
                        assert_eq!(&got.neighbor_index()[a..z], &wi[..], "{what}");
                        assert_eq!(&got.distance_values()[a..z], &wd[..], "{what}");
                    }
                    qg += grp.len();
                }
            }
        }
    }
}

/// Random walks on an integer grid (steps of -3..=3 per axis): chain order, so the blocks
/// kernel keeps it and hints each query with the previous one; many exact ties and
/// duplicate points.
fn chain_points(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut p = vec![0.0; dims];
    lcg_points(n, dims, seed, 7)
        .into_iter()
        .map(|step| {
            for (x, s) in p.iter_mut().zip(step) {
                *x += (s + 3.0) * 2.0 - 3.0;
            }
            p.clone()
        })
        .collect()
}

#[test]
fn chains_match_the_naive_reference() {
    // one task per small group, several per 1500-point group (hints restart per task), a
    // kd-tree for 5000 points; k = 1, the sorted buffer, the heap, and more than the group
    for dims in [2usize, 3] {
        let groups: Vec<Vec<Vec<f64>>> = [2usize, 17, 300, 1500, 5000]
            .iter()
            .enumerate()
            .map(|(i, &n)| chain_points(n, dims, 5 + i as u64))
            .collect();
        let b = flat_array(&groups, dims);
        for k in [1usize, 16, 70, 2000] {
            for (excl, same) in [(true, true), (false, true), (true, false), (false, false)] {
                let opts = NeighborOpts::knn(k as i64)
                    .dim(1)
                    .self_loops(!excl)
                    .same(same);
                let got = neighbors(&b, &b, &opts).unwrap();
                let mut qg = 0;
                for grp in &groups {
                    let step = match grp.len() {
                        0..=300 => 1,
                        301..=2000 => 13,
                        _ => 89,
                    };
                    let qs: Vec<usize> = (0..grp.len()).step_by(step).collect();
                    for (&i, w) in qs.iter().zip(naive(&qs, grp, Some(k), None, excl)) {
                        let o = got.offsets();
                        let (a, z) = (o[qg + i] as usize, o[qg + i + 1] as usize);
                        let wi: Vec<i64> = w.iter().map(|x| x.0).collect();
                        let wd: Vec<f64> = w.iter().map(|x| x.1).collect();
                        let what = format!("dims {dims} n {} q {i} k {k} excl {excl}", grp.len());
                        assert_eq!(&got.neighbor_index()[a..z], &wi[..], "{what}");
                        assert_eq!(&got.distance_values()[a..z], &wd[..], "{what}");
                    }
                    qg += grp.len();
                }
            }
        }
    }
}

#[test]
fn graph_forms_agree_with_the_index_result() {
    let groups: Vec<Vec<Vec<f64>>> = [3usize, 0, 40, 700]
        .iter()
        .enumerate()
        .map(|(i, &n)| lcg_points(n, 3, 5 + i as u64, 9))
        .collect();
    let b = flat_array(&groups, 3);
    for opts in [
        NeighborOpts::knn(6).dim(1).self_loops(false),
        NeighborOpts::radius(2.0).dim(1),
    ] {
        let r = neighbors(&b, &b, &opts).unwrap();
        let Graph::Pairs { pairs, distances } =
            neighbor_graph(&b, &b, &opts, GraphOutput::Pairs, true).unwrap()
        else {
            panic!("pairs")
        };
        assert_eq!(pairs, r.pairs());
        assert_eq!(distances, Some(r.distances()));
        let Graph::EdgeIndex {
            edge_index,
            distances,
        } = neighbor_graph(&b, &b, &opts, GraphOutput::EdgeIndex, false).unwrap()
        else {
            panic!("edge_index")
        };
        assert_eq!(edge_index, r.edge_index());
        assert_eq!(distances, None);
    }
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

/// Inside `pool::serial` (a compiled stream's batches) every search path (blocks, trees,
/// kNN, radius in one or two passes, every output format) gives exactly the parallel result.
#[test]
fn serial_searches_equal_parallel_ones() {
    // 40 groups of 30..6000 points in 3-D (small ones searched in blocks, large ones by tree)
    let mut groups = Vec::new();
    for g in 0..40usize {
        let n = if g % 10 == 0 { 6000 } else { 30 + g * 37 };
        let pts: Vec<Item> = (0..n)
            .map(|i| {
                let h = |s: usize| ((i * 2_654_435_761 + g * 40_503 + s * 97) % 10_007) as f64;
                Item::list(vec![
                    (h(1) * 0.01).into(),
                    (h(2) * 0.01).into(),
                    (h(3) * 0.01).into(),
                ])
            })
            .collect();
        groups.push(Item::list(pts));
    }
    let b = arr(Item::list(groups));
    let runs = |opts: &NeighborOpts| {
        let r = neighbors(&b, &b, opts).unwrap();
        let (pairs, edges) = (r.pairs(), r.edge_index());
        let g = neighbor_graph(&b, &b, opts, GraphOutput::EdgeIndex, true).unwrap();
        (r, pairs, edges, g)
    };
    for opts in [
        NeighborOpts::knn(16).dim(1).self_loops(false),
        NeighborOpts::radius(2.5).dim(1),
    ] {
        let par = runs(&opts);
        let ser = crate::pool::serial(|| runs(&opts));
        assert!(par.0.num_edges() > 0);
        assert_eq!(par, ser, "{opts:?}");
    }
    // a budget under twice the result: the two-pass radius search
    let opts = NeighborOpts::radius(2.5).dim(1);
    let two = || {
        let edges = neighbors(&b, &b, &opts).unwrap().num_edges();
        let (_, _, f) = search_within(&b, &b, &opts, Form::Pairs, true, edges + 1).unwrap();
        (f.offsets, f.out.main, f.out.dist)
    };
    assert_eq!(two(), crate::pool::serial(two));
}
