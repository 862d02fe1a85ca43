//! Reduction kernels on the proteins × residues × xyz hot case: `mean(dim=1)` (the two-level
//! path) and `sum(dim=-1)` (segmented innermost path), 4096 proteins of 128..384 residues.

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::buffer::{Buf, Values};
use grumpy_core::kernels::reduce::{reduce, ReduceOp};
use grumpy_core::Array;
use std::hint::black_box;

fn proteins() -> Array {
    let mut prot = vec![0i64];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..4096 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = 128 + (seed % 257) as i64;
        prot.push(prot.last().copied().unwrap_or(0) + n);
    }
    let nres = *prot.last().unwrap_or(&0) as usize;
    let vals: Vec<f64> = (0..nres * 3).map(|i| (i % 1000) as f64 * 0.01).collect();
    let res: Vec<i64> = (0..=nres as i64).map(|i| i * 3).collect();
    Array::from_offsets(
        Values::from(vals),
        None,
        vec![Buf::from_vec(prot), Buf::from_vec(res)],
    )
    .expect("valid offsets")
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
