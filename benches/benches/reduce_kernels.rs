//! Reduction kernels on the proteins × residues × xyz hot case: `mean(dim=1)` (the two-level
//! path) and `sum(dim=-1)` (segmented innermost path), 4096 proteins of 128..384 residues; and
//! the seed's `normalize_and_pool` plan run batch by batch (32 proteins, as a compiled stream
//! epoch runs it), next to the same plan on 32 one-residue proteins (what a batch costs besides
//! its data).

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::buffer::{Buf, Values};
use grumpy_core::kernels::reduce::{reduce, ReduceOp};
use grumpy_core::plan::{Plan, Value};
use grumpy_core::Array;
use std::hint::black_box;

fn proteins() -> Array {
    grumpy_benches::proteins(4096, 0x2545_f491_4f6c_dd1du64, |i| (i % 1000) as f64 * 0.01)
}

fn bench(c: &mut Criterion) {
    let a = proteins();
    c.bench_function("reduce mean(dim=1) proteins×residues×xyz", |b| {
        b.iter(|| reduce(black_box(&a), ReduceOp::Mean, Some(1)))
    });
    c.bench_function("reduce sum(dim=-1) proteins×residues×xyz", |b| {
        b.iter(|| reduce(black_box(&a), ReduceOp::Sum, Some(-1)))
    });
    let plan = Plan::from_json(
        r#"{"ops": [
        {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 0.01}},
        {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1.0}},
        {"op": "reduce", "kind": "mean", "src": 2, "dim": 1}], "output": 3}"#,
    )
    .expect("valid plan");
    let batches: Vec<Array> = (0..a.len() / 32).map(|i| a.slice(i * 32, 32)).collect();
    c.bench_function(
        "plan normalize_and_pool, one epoch of 128 batches of 32",
        |b| {
            b.iter(|| {
                for x in &batches {
                    black_box(plan.run(Value::Array(x.clone())).expect("runs"));
                }
            })
        },
    );
    let tiny = Array::from_offsets(
        Values::from((0..96).map(f64::from).collect::<Vec<f64>>()),
        None,
        vec![
            Buf::from_vec((0..=32).collect()),
            Buf::from_vec((0..=32).map(|i| i * 3).collect()),
        ],
    )
    .expect("valid offsets");
    c.bench_function("plan normalize_and_pool, 32 proteins of one residue", |b| {
        b.iter(|| plan.run(Value::Array(black_box(&tiny).clone())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
