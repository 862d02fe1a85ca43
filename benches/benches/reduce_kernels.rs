//! Reduction kernels on the proteins × residues × xyz hot case: `mean(dim=1)` (the two-level
//! path) and `sum(dim=-1)` (segmented innermost path), 4096 proteins of 128..384 residues.

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::kernels::reduce::{reduce, ReduceOp};
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
