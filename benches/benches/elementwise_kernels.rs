//! Elementwise kernels: `x * 2.0 + 1.0` on 3M float64 values, flat and ragged (the issue's
//! target: close to NumPy's `a * 2.0 + 1.0`), and `x + y` with shared offsets.

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::buffer::{Buf, Values};
use grumpy_core::kernels::elementwise::{binary, binary_scalar_owned, BinaryOp, Operand};
use grumpy_core::{Array, Scalar};
use std::hint::black_box;

const N: usize = 3_000_000;

fn values() -> Vec<f64> {
    (0..N).map(|i| (i % 1000) as f64 * 0.5).collect()
}

/// `x * 2.0 + 1.0` as two eager ops (the temporary is consumed, as NumPy elides it).
fn affine(x: &Array) -> Array {
    let two = Scalar::Float(2.0);
    let one = Scalar::Float(1.0);
    let y = binary(BinaryOp::Mul, Operand::Array(x), Operand::Scalar(&two)).unwrap();
    binary_scalar_owned(BinaryOp::Add, y, &one, false).unwrap()
}

/// The same with a fresh allocation for each op.
fn affine_alloc(x: &Array) -> Array {
    let two = Scalar::Float(2.0);
    let one = Scalar::Float(1.0);
    let y = binary(BinaryOp::Mul, Operand::Array(x), Operand::Scalar(&two)).unwrap();
    binary(BinaryOp::Add, Operand::Array(&y), Operand::Scalar(&one)).unwrap()
}

fn bench(c: &mut Criterion) {
    let flat = Array::from_vec(values());
    let offsets: Vec<i64> = (0..=N as i64 / 3).map(|i| i * 3).collect();
    let ragged =
        Array::from_offsets(Values::from(values()), None, vec![Buf::from_vec(offsets)]).unwrap();
    let mut g = c.benchmark_group("elementwise");
    g.sample_size(20);
    g.bench_function("x*2+1 flat 3M f64", |b| b.iter(|| affine(black_box(&flat))));
    g.bench_function("x*2+1 flat 3M f64, two allocations", |b| {
        b.iter(|| affine_alloc(black_box(&flat)))
    });
    g.bench_function("x*2+1 ragged 3M f64", |b| {
        b.iter(|| affine(black_box(&ragged)))
    });
    let two = Scalar::Float(2.0);
    g.bench_function("x*2 flat 3M f64", |b| {
        b.iter(|| {
            binary(
                BinaryOp::Mul,
                Operand::Array(black_box(&flat)),
                Operand::Scalar(&two),
            )
            .unwrap()
        })
    });
    g.bench_function("x+x flat 3M f64", |b| {
        b.iter(|| {
            binary(
                BinaryOp::Add,
                Operand::Array(black_box(&flat)),
                Operand::Array(black_box(&flat)),
            )
            .unwrap()
        })
    });
    g.bench_function("x+x ragged 3M f64", |b| {
        b.iter(|| {
            binary(
                BinaryOp::Add,
                Operand::Array(black_box(&ragged)),
                Operand::Array(black_box(&ragged)),
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
