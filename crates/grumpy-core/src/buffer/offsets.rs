//! Offsets helpers used on hot read paths: a per-thread cache of regular offsets
//! (`0, s, 2s, ...`), so that rows of a fixed length (xyz triples, fixed-size embeddings) get
//! their offsets as a zero-copy view instead of a fresh allocation per batch, and a
//! vectorised check that offsets never decrease.
//!
//! The cache is per thread, not per process: stream readers ask for offsets on every batch
//! from several threads at once, and a shared cache (its lock, and the reference count of the
//! one buffer every view shares) made each request wait for the other threads' cache lines.
//!
//! ```
//! use grumpy_core::buffer::{is_non_decreasing, regular_offsets};
//! let o = regular_offsets(4, 3);
//! assert_eq!(o.as_slice(), &[0, 3, 6, 9, 12]);
//! assert_eq!(o.regular_step(), Some(3));
//! assert!(is_non_decreasing(&[0, 2, 2, 7]));
//! assert!(!is_non_decreasing(&[0, 2, 1]));
//! ```

use super::Buf;
use std::cell::RefCell;

/// Rows up to which [`regular_offsets`] serves views of a cached buffer (512 KiB per step).
const CACHED_ROWS: usize = 1 << 16;
/// Distinct steps kept in each thread's cache (the least recently added is replaced).
const CACHED_STEPS: usize = 8;

thread_local! {
    static CACHE: RefCell<Vec<(i64, Buf<i64>)>> = const { RefCell::new(Vec::new()) };
}

/// `0, step, ..., n * step`: the offsets of `n` rows of `step` elements each, known to be
/// regular (`regular_step()` answers without a scan). Up to 65,536 rows this is a zero-copy view
/// of a buffer the calling thread keeps; longer ones are built fresh.
///
/// ```
/// use grumpy_core::buffer::regular_offsets;
/// let a = regular_offsets(2, 3);
/// let b = regular_offsets(5, 3);
/// assert_eq!(a.as_slice(), &[0, 3, 6]);
/// assert!(a.shares_storage(&b)); // both views of one cached buffer
/// assert_eq!(regular_offsets(0, 7).as_slice(), &[0]);
/// ```
pub fn regular_offsets(n: usize, step: i64) -> Buf<i64> {
    if n >= CACHED_ROWS {
        return Buf::arithmetic(n, step);
    }
    CACHE.with_borrow_mut(|cache| cached(cache, n, step))
}

/// [`regular_offsets`] for `n < CACHED_ROWS`, from (or into) this thread's cache.
fn cached(cache: &mut Vec<(i64, Buf<i64>)>, n: usize, step: i64) -> Buf<i64> {
    if let Some((_, b)) = cache.iter().find(|(s, b)| *s == step && b.len() > n) {
        return b.slice(0, n + 1);
    }
    // Grow geometrically so a stream of slowly growing batches does not rebuild every time.
    let rows = (n + 1).next_power_of_two().clamp(1024, CACHED_ROWS);
    let full = Buf::arithmetic(rows, step);
    let view = full.slice(0, n + 1);
    if let Some(slot) = cache.iter_mut().find(|(s, _)| *s == step) {
        slot.1 = full;
    } else {
        if cache.len() == CACHED_STEPS {
            cache.remove(0);
        }
        cache.push((step, full));
    }
    view
}

/// Whether no value is smaller than the one before it (true for fewer than two values).
/// Branch-free and vectorised, with AVX2's 64-bit compares when the CPU has them.
pub fn is_non_decreasing(o: &[i64]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if o.len() >= 64 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { non_decreasing_avx2(o) };
    }
    non_decreasing(o)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn non_decreasing_avx2(o: &[i64]) -> bool {
    non_decreasing(o)
}

#[inline(always)]
fn non_decreasing(o: &[i64]) -> bool {
    if o.len() < 2 {
        return true;
    }
    // (no early exit: the comparison loop vectorises)
    !o[1..].iter().zip(o).fold(false, |d, (n, p)| d | (n < p))
}

#[cfg(test)]
mod tests {
    use super::*;

    // (each test runs on its own thread, so it sees only the cache entries it made)

    #[test]
    fn regular_offsets_match_the_definition_for_every_size_and_step() {
        for step in [0i64, 1, 3, 7] {
            for n in [
                0usize,
                1,
                2,
                1023,
                1024,
                5000,
                CACHED_ROWS - 1,
                CACHED_ROWS,
                CACHED_ROWS + 3,
            ] {
                let o = regular_offsets(n, step);
                assert_eq!(o.len(), n + 1);
                assert!(o
                    .as_slice()
                    .iter()
                    .enumerate()
                    .all(|(i, &v)| v == i as i64 * step));
                if n >= 1 {
                    assert_eq!(o.regular_step(), Some(step));
                }
            }
        }
    }

    #[test]
    fn cached_views_are_shared_and_copy_on_write() {
        let a = regular_offsets(10, 4);
        let mut b = regular_offsets(20, 4);
        assert!(a.shares_storage(&b));
        b.make_mut()[1] = 99; // a writer gets its own copy; the cache is untouched
        assert_eq!(regular_offsets(10, 4).as_slice()[1], 4);
        assert_eq!(a.as_slice()[1], 4);
    }

    #[test]
    fn each_thread_keeps_its_own_buffer() {
        let here = regular_offsets(10, 6);
        let there = std::thread::spawn(|| regular_offsets(10, 6))
            .join()
            .unwrap();
        assert_eq!(here.as_slice(), there.as_slice());
        assert!(!here.shares_storage(&there));
        assert!(here.shares_storage(&regular_offsets(5, 6)));
    }

    #[test]
    fn many_steps_evict_without_wrong_values() {
        for step in 0..(3 * CACHED_STEPS as i64) {
            assert_eq!(
                regular_offsets(3, step).as_slice(),
                &[0, step, 2 * step, 3 * step]
            );
        }
    }

    #[test]
    fn non_decreasing_agrees_with_a_plain_scan() {
        let mut v: Vec<i64> = (0..300).map(|i| i / 3).collect();
        assert!(is_non_decreasing(&v));
        for at in [1, 63, 64, 150, 299] {
            let mut w = v.clone();
            w[at] = w[at - 1] - 1;
            assert!(!is_non_decreasing(&w), "drop at {at}");
        }
        v.truncate(1);
        assert!(is_non_decreasing(&v));
        assert!(is_non_decreasing(&[]));
        assert!(!is_non_decreasing(&[i64::MAX, i64::MIN]));
    }
}
