//! Benchmarks live in benches/; this library holds the data they share.

use grumpy_core::buffer::{Buf, Values};
use grumpy_core::Array;

/// `n` protein-like rows of 128..384 residues × xyz (float64), lengths drawn by an xorshift
/// generator from `seed`, value `i` of the flat buffer `value(i)`.
///
/// ```
/// let a = grumpy_benches::proteins(4, 7, |i| i as f64);
/// assert_eq!(a.len(), 4);
/// ```
pub fn proteins(n: usize, mut seed: u64, value: impl Fn(usize) -> f64) -> Array {
    let mut prot = vec![0i64];
    for _ in 0..n {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        prot.push(prot.last().copied().unwrap_or(0) + 128 + (seed % 257) as i64);
    }
    let nres = *prot.last().unwrap_or(&0) as usize;
    let vals: Vec<f64> = (0..nres * 3).map(value).collect();
    let res: Vec<i64> = (0..=nres as i64).map(|i| i * 3).collect();
    Array::from_offsets(
        Values::from(vals),
        None,
        vec![Buf::from_vec(prot), Buf::from_vec(res)],
    )
    .expect("valid offsets")
}
