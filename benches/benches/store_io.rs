//! grumpy-zarr on the protein-like case (1024 proteins × 128..384 residues × xyz, float64, in a
//! temporary directory, page cache warm): `save`, `load`, a new reader's batches of 32 rows
//! (every chunk decoded once), and the same batches through one reader whose decoded-chunk
//! cache holds the store (zero-copy views).

use criterion::{criterion_group, criterion_main, Criterion};
use grumpy_core::Array;
use std::hint::black_box;

fn proteins(n: usize) -> Array {
    grumpy_benches::proteins(n, 0x9e37_79b9_7f4a_7c15u64, |i| {
        ((i * 7919) % 10007) as f64 * 0.37
    })
}

fn batches(r: &grumpy_zarr::StoreReader) -> usize {
    let mut n = 0;
    for a in (0..r.len()).step_by(32) {
        n += r.read_rows(a, (a + 32).min(r.len())).expect("rows").len();
    }
    n
}

fn bench(c: &mut Criterion) {
    let a = proteins(1024);
    let dir = std::env::temp_dir().join(format!("grumpy-bench-store-{}", std::process::id()));
    let opts = grumpy_zarr::SaveOptions::default();
    grumpy_zarr::save(&a, &dir, &opts).expect("save");
    let mut g = c.benchmark_group("store");
    g.sample_size(20);
    g.bench_function("save 1024 proteins", |b| {
        b.iter(|| grumpy_zarr::save(black_box(&a), &dir, &opts).expect("save"))
    });
    g.bench_function("load 1024 proteins", |b| {
        b.iter(|| grumpy_zarr::load(black_box(&dir)).expect("load"))
    });
    g.bench_function("batches of 32, new reader", |b| {
        b.iter(|| batches(&grumpy_zarr::open(&dir).expect("open")))
    });
    let warm = grumpy_zarr::open(&dir).expect("open");
    batches(&warm);
    g.bench_function("batches of 32, cached reader", |b| {
        b.iter(|| batches(black_box(&warm)))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
