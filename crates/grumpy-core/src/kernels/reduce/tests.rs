use super::*;
use crate::buffer::Values;
use crate::layout::Item;

fn arr(it: Item) -> Array {
    Array::from_item(&it, None).unwrap()
}

fn red(a: &Array, op: ReduceOp, dim: Option<isize>) -> Item {
    match reduce(a, op, dim).unwrap() {
        Reduced::Array(x) => x.to_item(),
        Reduced::Scalar(Scalar::Null) => Item::Null,
        Reduced::Scalar(s) => Item::Scalar(s),
    }
}

fn f(x: f64) -> Item {
    x.into()
}
fn i(x: i64) -> Item {
    x.into()
}
fn l(v: Vec<Item>) -> Item {
    Item::list(v)
}

#[test]
fn api_examples() {
    let a = arr(vec![vec![1i64, 2, 3], vec![4, 5]].into());
    assert_eq!(red(&a, ReduceOp::Sum, Some(0)), vec![5i64, 7, 3].into());
    assert_eq!(red(&a, ReduceOp::Sum, Some(1)), vec![6i64, 9].into());
    assert_eq!(red(&a, ReduceOp::Sum, Some(-2)), vec![5i64, 7, 3].into());
    assert_eq!(red(&a, ReduceOp::Sum, None), i(15));
    assert_eq!(red(&a, ReduceOp::Ptp, Some(0)), vec![3i64, 3, 0].into());
    assert_eq!(red(&a, ReduceOp::Count, Some(0)), vec![2i64, 2, 1].into());
}

#[test]
fn deep_left_aligned_merge() {
    // [[[1,2],None],[None,[3]],[[10],[20],[30]]] along dim 0 and 1
    let a = arr(l(vec![
        l(vec![vec![1i64, 2].into(), Item::Null]),
        l(vec![Item::Null, vec![3i64].into()]),
        l(vec![
            vec![10i64].into(),
            vec![20i64].into(),
            vec![30i64].into(),
        ]),
    ]));
    assert_eq!(
        red(&a, ReduceOp::Sum, Some(0)),
        l(vec![
            vec![11i64, 2].into(),
            vec![23i64].into(),
            vec![30i64].into()
        ])
    );
    assert_eq!(
        red(&a, ReduceOp::Sum, Some(1)),
        l(vec![
            vec![1i64, 2].into(),
            vec![3i64].into(),
            vec![60i64].into()
        ])
    );
    assert_eq!(
        red(&a, ReduceOp::Max, Some(2)),
        l(vec![
            l(vec![i(2), Item::Null]),
            l(vec![Item::Null, i(3)]),
            vec![10i64, 20, 30].into()
        ])
    );
    // The general path (used for dim 0 of a 4-d array) agrees with the two-level path.
    let b = arr(l(vec![a.to_item(), l(vec![l(vec![vec![5i64].into()])])]));
    assert_eq!(
        red(&b, ReduceOp::Sum, Some(0)),
        l(vec![
            l(vec![vec![6i64, 2].into(), Item::list(vec![])]),
            l(vec![Item::list(vec![]), vec![3i64].into()]),
            l(vec![
                vec![10i64].into(),
                vec![20i64].into(),
                vec![30i64].into()
            ]),
        ])
    );
}

#[test]
fn null_rows_stay_null_before_the_axis() {
    let a = arr(l(vec![vec![1.0, 2.0].into(), Item::Null, l(vec![])]));
    assert_eq!(
        red(&a, ReduceOp::Sum, Some(1)),
        l(vec![f(3.0), Item::Null, f(0.0)])
    );
    assert_eq!(red(&a, ReduceOp::Sum, Some(0)), vec![1.0, 2.0].into());
    let b = arr(l(vec![
        l(vec![vec![1.0, 2.0].into()]),
        Item::Null,
        l(vec![]),
    ]));
    assert_eq!(
        red(&b, ReduceOp::Mean, Some(1)),
        l(vec![vec![1.0, 2.0].into(), Item::Null, l(vec![])])
    );
}

#[test]
fn empty_groups_and_identities() {
    let a = Array::from_item(&l(vec![l(vec![]), l(vec![Item::Null])]), Some(DType::Int32)).unwrap();
    assert_eq!(red(&a, ReduceOp::Sum, Some(1)), vec![0i64, 0].into());
    assert_eq!(red(&a, ReduceOp::Prod, Some(1)), vec![1i64, 1].into());
    assert_eq!(red(&a, ReduceOp::Count, Some(1)), vec![0i64, 0].into());
    assert_eq!(red(&a, ReduceOp::Any, Some(1)), vec![false, false].into());
    assert_eq!(red(&a, ReduceOp::All, Some(1)), vec![true, true].into());
    for op in [ReduceOp::Mean, ReduceOp::Min, ReduceOp::Max, ReduceOp::Ptp] {
        assert_eq!(
            red(&a, op, Some(1)),
            l(vec![Item::Null, Item::Null]),
            "{op:?}"
        );
        assert_eq!(red(&a, op, None), Item::Null, "{op:?}");
    }
    assert_eq!(red(&a, ReduceOp::Sum, None), i(0));
}

#[test]
fn result_dtypes() {
    use DType::*;
    let cases = [
        (ReduceOp::Sum, Bool, Int64),
        (ReduceOp::Sum, Int8, Int64),
        (ReduceOp::Sum, UInt16, UInt64),
        (ReduceOp::Sum, Float32, Float32),
        (ReduceOp::Prod, UInt64, UInt64),
        (ReduceOp::Mean, Int64, Float64),
        (ReduceOp::Mean, Float32, Float32),
        (ReduceOp::Min, Int8, Int8),
        (ReduceOp::Max, Bool, Bool),
        (ReduceOp::Ptp, UInt8, UInt8),
        (ReduceOp::Count, String, Int64),
        (ReduceOp::Any, Float64, Bool),
    ];
    for (op, input, want) in cases {
        assert_eq!(result_dtype(op, input).unwrap(), want, "{op:?} {input}");
        let a = Array::from_item(&vec![vec![1i64, 0], vec![1]].into(), Some(input)).unwrap();
        let Reduced::Array(r) = reduce(&a, op, Some(-1)).unwrap() else {
            panic!()
        };
        assert_eq!(r.dtype(), want, "{op:?} {input}");
    }
    assert_eq!(
        result_dtype(ReduceOp::Ptp, Bool).unwrap_err().code(),
        Code::DType
    );
    assert_eq!(
        result_dtype(ReduceOp::Min, String).unwrap_err().code(),
        Code::DType
    );
}

#[test]
fn strings_count_only() {
    let a = arr(l(vec![
        vec!["a", "b"].into(),
        l(vec![Item::Null, "c".into()]),
    ]));
    assert_eq!(red(&a, ReduceOp::Count, Some(1)), vec![2i64, 1].into());
    assert_eq!(red(&a, ReduceOp::Count, None), i(3));
    assert_eq!(
        reduce(&a, ReduceOp::Sum, None).unwrap_err().code(),
        Code::DType
    );
}

#[test]
fn dim_out_of_range() {
    let a = arr(vec![vec![1i64]].into());
    for d in [2, -3, 100] {
        assert_eq!(
            reduce(&a, ReduceOp::Sum, Some(d)).unwrap_err().code(),
            Code::Argument
        );
    }
    let flat = Array::from_vec(vec![1.0, 2.0]);
    assert_eq!(red(&flat, ReduceOp::Sum, Some(0)), f(3.0));
    assert_eq!(red(&flat, ReduceOp::Sum, Some(-1)), f(3.0));
}

#[test]
fn unions_count_scalars_as_length_one_lists() {
    let a = arr(l(vec![f(1.0), vec![2.0, 3.0].into(), f(4.0)]));
    assert_eq!(red(&a, ReduceOp::Sum, Some(1)), vec![1.0, 5.0, 4.0].into());
    assert_eq!(red(&a, ReduceOp::Sum, Some(0)), vec![7.0, 3.0].into());
    assert_eq!(red(&a, ReduceOp::Mean, None), f(2.5));
    // A null row of a union is a null (empty) list, not a list holding a null.
    let b = arr(l(vec![f(1.0), Item::Null, vec![2.0, 3.0].into()]));
    assert_eq!(
        red(&b, ReduceOp::Sum, Some(1)),
        l(vec![f(1.0), Item::Null, f(5.0)])
    );
    assert_eq!(red(&b, ReduceOp::Count, Some(0)), vec![2i64, 1].into());
}

#[test]
fn nan_propagates_in_min_max() {
    let a = arr(vec![vec![1.0, f64::NAN], vec![2.0]].into());
    let Item::List(v) = red(&a, ReduceOp::Min, Some(1)) else {
        panic!()
    };
    assert!(matches!(v[0], Item::Scalar(Scalar::Float(x)) if x.is_nan()));
    assert_eq!(v[1], f(2.0));
}

#[test]
fn sliced_views_with_nonzero_offsets() {
    let a = arr(l(vec![
        l(vec![vec![100.0].into()]),
        l(vec![vec![1.0, 2.0, 3.0].into(), vec![4.0, 5.0, 6.0].into()]),
        l(vec![vec![7.0, 8.0, 9.0].into()]),
    ]));
    let s = a.slice(1, 2);
    assert_eq!(
        red(&s, ReduceOp::Mean, Some(1)),
        l(vec![vec![2.5, 3.5, 4.5].into(), vec![7.0, 8.0, 9.0].into()])
    );
    assert_eq!(
        red(&s, ReduceOp::Sum, Some(0)),
        l(vec![
            vec![8.0, 10.0, 12.0].into(),
            vec![4.0, 5.0, 6.0].into()
        ])
    );
    assert_eq!(red(&s, ReduceOp::Sum, None), f(45.0));
}

/// Big enough for the parallel paths; checked against a plain sequential computation.
#[test]
fn parallel_paths_match_sequential() {
    let nprot = 300;
    let mut prot = vec![0i64];
    let mut vals = Vec::new();
    let mut res = vec![0i64];
    for p in 0..nprot {
        let nres = 100 + (p * 7) % 150;
        for r in 0..nres {
            for c in 0..3 {
                vals.push(((p * 31 + r * 7 + c) % 97) as f64);
            }
            res.push(res.last().unwrap() + 3);
            let _ = r;
        }
        prot.push(prot.last().unwrap() + nres as i64);
    }
    let a = Array::from_offsets(
        Values::from(vals.clone()),
        None,
        vec![Buf::from_vec(prot.clone()), Buf::from_vec(res)],
    )
    .unwrap();
    assert!(a.size() >= axis::PAR_MIN);
    let Reduced::Array(m) = reduce(&a, ReduceOp::Mean, Some(1)).unwrap() else {
        panic!()
    };
    let got = m
        .layout
        .as_list()
        .unwrap()
        .child
        .as_leaf()
        .unwrap()
        .values
        .as_slice::<f64>()
        .unwrap()
        .to_vec();
    for p in 0..nprot {
        let (lo, hi) = (prot[p] as usize, prot[p + 1] as usize);
        for c in 0..3 {
            let want: f64 = (lo..hi).map(|r| vals[r * 3 + c]).sum::<f64>() / (hi - lo) as f64;
            assert!((got[p * 3 + c] - want).abs() < 1e-9);
        }
    }
    let total: f64 = vals.iter().sum();
    assert_eq!(red(&a, ReduceOp::Sum, None), f(total));
    let Reduced::Array(s) = reduce(&a, ReduceOp::Sum, Some(-1)).unwrap() else {
        panic!()
    };
    let sums = s
        .layout
        .as_list()
        .unwrap()
        .child
        .as_leaf()
        .unwrap()
        .values
        .clone();
    let want: Vec<f64> = vals.chunks_exact(3).map(|c| c.iter().sum()).collect();
    assert_eq!(sums, Values::from(want));
    // A sliced view (offsets not starting at 0) takes the same regular fast paths.
    let v = a.slice(5, 2);
    let Reduced::Array(m) = reduce(&v, ReduceOp::Max, Some(-1)).unwrap() else {
        panic!()
    };
    let first = prot[5] as usize * 3;
    let want: Vec<f64> = vals[first..prot[7] as usize * 3]
        .chunks_exact(3)
        .map(|c| c.iter().copied().fold(f64::MIN, f64::max))
        .collect();
    assert_eq!(
        m.layout.as_list().unwrap().child.as_leaf().unwrap().values,
        Values::from(want)
    );
}

#[test]
fn mapped_reduction_fuses_a_function() {
    let a = arr(vec![vec![1.0, 2.0], vec![3.0]].into());
    let Reduced::Array(r) = reduce_mapped(&a, ReduceOp::Mean, Some(1), DType::Float32, |x| {
        x * 2.0 + 1.0
    })
    .unwrap() else {
        panic!()
    };
    assert_eq!(r.dtype(), DType::Float32);
    assert_eq!(r.to_item(), vec![4.0, 7.0].into());
    assert!(reduce_mapped(&a, ReduceOp::Sum, None, DType::Int64, |x| x).is_err());
}

#[test]
fn deep_unions_reduce_with_scalar_rows_wrapped_to_full_depth() {
    // [1.0, [[[2.0, 4.0]]], 3.0] ≡ [[[[1.0]]], [[[2.0, 4.0]]], [[[3.0]]]]
    let w = |x: Vec<f64>| l(vec![l(vec![x.into()])]);
    let u = arr(l(vec![f(1.0), w(vec![2.0, 4.0]), f(3.0)]));
    let lc = arr(l(vec![w(vec![1.0]), w(vec![2.0, 4.0]), w(vec![3.0])]));
    assert_eq!(u.ndim(), 4);
    for op in ReduceOp::ALL {
        for dim in [None, Some(0), Some(1), Some(2), Some(3), Some(-1)] {
            assert_eq!(red(&u, op, dim), red(&lc, op, dim), "{op:?} {dim:?}");
        }
    }
    assert_eq!(red(&u, ReduceOp::Sum, None), f(10.0));
    assert_eq!(
        red(&u, ReduceOp::Count, Some(0)),
        l(vec![l(vec![vec![3i64, 1].into()])])
    );
    // a union nested inside list rows: [[2, [[0, 5]]]] ≡ [[[[2]], [[0, 5]]]]
    let v = arr(l(vec![l(vec![i(2), l(vec![vec![0i64, 5].into()])])]));
    assert_eq!(red(&v, ReduceOp::Count, None), i(3));
    assert_eq!(
        red(&v, ReduceOp::Sum, Some(1)),
        l(vec![l(vec![vec![2i64, 5].into()])])
    );
}

#[test]
fn reduce_with_a_mapper_equals_reduce_of_the_mapped_array() {
    use super::map::FnMap;
    let rows: Vec<Vec<Vec<f64>>> = (0..300)
        .map(|p| {
            (0..(p % 7 + 1))
                .map(|r| vec![p as f64 * 0.1, r as f64, -0.5])
                .collect()
        })
        .collect();
    let a = arr(rows.into());
    let mapped = crate::kernels::elementwise::binary(
        crate::kernels::elementwise::BinaryOp::Mul,
        crate::kernels::elementwise::Operand::Array(&a),
        crate::kernels::elementwise::Operand::Scalar(&Scalar::Float(3.0)),
    )
    .unwrap();
    let m = FnMap(|x: f64| x * 3.0);
    for op in ReduceOp::ALL {
        for dim in [None, Some(0), Some(1), Some(2)] {
            assert_eq!(
                reduce_with(&a, op, dim, &m).unwrap(),
                reduce(&mapped, op, dim).unwrap(),
                "{op:?} {dim:?}"
            );
        }
    }
    let ints = arr(vec![vec![1i64, 2]].into());
    assert_eq!(
        reduce_with(&ints, ReduceOp::Sum, None, &m)
            .unwrap_err()
            .code(),
        Code::DType
    );
}

/// Proteins × residues × xyz with proteins of no residue between full ones: the regular-xyz
/// path of `mean(dim=1)` gives an empty group an empty row and keeps the others in place, as
/// the irregular path does (a residue of two values makes the other array irregular).
#[test]
fn regular_members_with_empty_groups() {
    let xyz = |a: f64| -> Item { vec![a, a + 1.0, a + 2.0].into() };
    let a = arr(l(vec![
        l(vec![]),
        l(vec![xyz(0.0), xyz(3.0)]),
        l(vec![]),
        l(vec![xyz(10.0)]),
        l(vec![]),
    ]));
    let want = l(vec![
        l(vec![]),
        vec![1.5, 2.5, 3.5].into(),
        l(vec![]),
        vec![10.0, 11.0, 12.0].into(),
        l(vec![]),
    ]);
    assert_eq!(red(&a, ReduceOp::Mean, Some(1)), want);
    assert_eq!(
        red(&a.slice(1, 3), ReduceOp::Mean, Some(1)),
        l(vec![
            vec![1.5, 2.5, 3.5].into(),
            l(vec![]),
            vec![10.0, 11.0, 12.0].into()
        ])
    );
    let ragged = arr(l(vec![
        l(vec![]),
        l(vec![xyz(0.0), vec![3.0, 4.0].into()]),
        l(vec![]),
    ]));
    assert_eq!(
        red(&ragged, ReduceOp::Sum, Some(1)),
        l(vec![l(vec![]), vec![3.0, 5.0, 2.0].into(), l(vec![])])
    );
}

/// Inside `pool::serial` (a compiled stream's batches) every reduction gives exactly what the
/// parallel paths give: the same chunks, merged in the same order.
#[test]
fn serial_reductions_equal_parallel_ones_bit_for_bit() {
    let (nprot, mut prot, mut vals) = (200, vec![0i64], Vec::new());
    for p in 0..nprot {
        let nres = 120 + (p * 13) % 200;
        for r in 0..nres * 3 {
            // magnitudes far apart: a different order of additions changes the last bits
            let k = (p * 7919 + r * 104_729) % 1_000_003;
            vals.push(if k % 5 == 0 { 1e7 } else { 1e-3 } * k as f64 + 0.1);
        }
        prot.push(prot.last().unwrap() + nres as i64);
    }
    let res: Vec<i64> = (0..=*prot.last().unwrap()).map(|i| i * 3).collect();
    let a = Array::from_offsets(
        Values::from(vals),
        None,
        vec![Buf::from_vec(prot), Buf::from_vec(res)],
    )
    .unwrap();
    assert!(a.size() >= 2 * axis::PAR_MIN);
    for op in ReduceOp::ALL {
        for dim in [None, Some(0), Some(1), Some(2)] {
            let par = reduce(&a, op, dim).unwrap();
            let ser = crate::pool::serial(|| reduce(&a, op, dim)).unwrap();
            assert_eq!(par, ser, "{op:?} dim={dim:?}");
        }
    }
}
