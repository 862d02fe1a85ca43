//! Criterion benches of the neighbour search: many small chain-like groups (brute force) and
//! one large cloud (kd-tree).

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::array::Array;
use grumpy_core::buffer::{Buf, Values};
use grumpy_core::neighbors::{neighbor_graph, neighbors, GraphOutput, NeighborOpts};

/// Deterministic xorshift in [-1, 1).
fn rng(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// `groups` random walks of `len` points with 3.8-unit steps.
fn chains(groups: usize, len: usize) -> Array {
    let mut s = 0x9e3779b97f4a7c15u64;
    let mut xyz = Vec::with_capacity(groups * len * 3);
    for _ in 0..groups {
        let mut p = [0.0f64; 3];
        for _ in 0..len {
            let v = [rng(&mut s), rng(&mut s), rng(&mut s)];
            let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-9);
            for a in 0..3 {
                p[a] += 3.8 * v[a] / n;
            }
            xyz.extend_from_slice(&p);
        }
    }
    let n = groups * len;
    Array::from_offsets(
        Values::from(xyz),
        None,
        vec![
            Buf::from_vec((0..=groups as i64).map(|g| g * len as i64).collect()),
            Buf::from_vec((0..=n as i64).map(|i| 3 * i).collect()),
        ],
    )
    .expect("valid offsets")
}

fn cloud(n: usize) -> Array {
    let mut s = 42u64;
    let xyz: Vec<f64> = (0..3 * n).map(|_| 50.0 * rng(&mut s)).collect();
    Array::from_offsets(
        Values::from(xyz),
        None,
        vec![Buf::from_vec((0..=n as i64).map(|i| 3 * i).collect())],
    )
    .expect("valid offsets")
}

fn bench(c: &mut Criterion) {
    let batch = chains(256, 256);
    let opts = NeighborOpts::knn(16).dim(1).self_loops(false).same(true);
    c.bench_function("knn16_256_chains_of_256", |b| {
        b.iter(|| neighbors(&batch, &batch, &opts).expect("search"))
    });
    c.bench_function("knn16_256_chains_of_256_pairs", |b| {
        b.iter(|| neighbor_graph(&batch, &batch, &opts, GraphOutput::Pairs, false).expect("search"))
    });
    let big = cloud(50_000);
    let o = NeighborOpts::knn(16).same(true);
    c.bench_function("knn16_cloud_50k", |b| {
        b.iter(|| neighbors(&big, &big, &o).expect("search"))
    });
    let r = NeighborOpts::radius(5.0).same(true);
    c.bench_function("radius5_cloud_50k", |b| {
        b.iter(|| neighbors(&big, &big, &r).expect("search"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
