//! The batch plan: which outer rows form batch `i`, as a pure function of the options.
//!
//! 1. [`base_batches`]: contiguous row ranges of `batch_size` rows, or (with entity counts for
//!    `batch_on`) whole rows packed greedily until the next row would pass `batch_size`
//!    entities. `drop_last` drops a final batch that is not full.
//! 2. [`pad_for_ranks`]: with `world_size > 1` and no `drop_last`, the largest batches are split
//!    in halves until the count divides by `world_size` (no row lost or repeated).
//! 3. [`epoch_order`]: the batch order, a permutation seeded by `(seed, epoch)` when shuffling.
//! 4. [`rank_share`]: rank `r` takes every `world_size`-th batch of that order, starting at `r`
//!    (with `drop_last`, the tail that does not divide evenly is dropped).
//!
//! ```
//! use grumpy_zarr::stream::plan::{plan, PlanSpec};
//! let spec = PlanSpec { batch_size: 4, ..PlanSpec::default() };
//! let p = plan(10, None, &spec);
//! assert_eq!(p.batches, vec![0..4, 4..8, 8..10]);
//! assert_eq!(p.order, vec![0, 1, 2]);
//! ```

use std::ops::Range;

/// Options that decide the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    /// Rows (or entities with `batch_on`) per batch, ≥ 1.
    pub batch_size: usize,
    /// Drop a final batch that is not full (and the batches that do not divide over ranks).
    pub drop_last: bool,
    /// Permute the batch order.
    pub shuffle: bool,
    /// Seed of the permutation.
    pub seed: u64,
    /// Epoch mixed into the seed.
    pub epoch: u64,
    /// Number of ranks (≥ 1).
    pub world_size: usize,
    /// This rank (< world_size).
    pub rank: usize,
}

impl Default for PlanSpec {
    fn default() -> Self {
        PlanSpec {
            batch_size: 32,
            drop_last: false,
            shuffle: false,
            seed: 0,
            epoch: 0,
            world_size: 1,
            rank: 0,
        }
    }
}

/// A plan: every batch's row range, and the ids of this rank's batches in epoch order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Row range of each batch id (independent of epoch and rank).
    pub batches: Vec<Range<usize>>,
    /// This rank's batch ids, in iteration order.
    pub order: Vec<usize>,
}

/// The whole plan for `n` rows (`counts`: entities per row when batching on a level).
pub fn plan(n: usize, counts: Option<&[u64]>, spec: &PlanSpec) -> Plan {
    let base = base_batches(n, counts, spec.batch_size, spec.drop_last);
    let batches = if spec.drop_last {
        base
    } else {
        pad_for_ranks(base, spec.world_size)
    };
    let order = epoch_order(batches.len(), spec.shuffle, spec.seed, spec.epoch);
    let order = rank_share(&order, spec.world_size, spec.rank);
    Plan { batches, order }
}

/// Contiguous batches of `n` rows (see the module docs).
///
/// ```
/// use grumpy_zarr::stream::plan::base_batches;
/// assert_eq!(base_batches(5, None, 2, true), vec![0..2, 2..4]);
/// // batch_on: rows with 3, 2, 4, 1 entities, about 5 entities per batch
/// assert_eq!(base_batches(4, Some(&[3, 2, 4, 1]), 5, false), vec![0..2, 2..4]);
/// ```
pub fn base_batches(
    n: usize,
    counts: Option<&[u64]>,
    batch_size: usize,
    drop_last: bool,
) -> Vec<Range<usize>> {
    let bs = batch_size.max(1);
    let mut out = Vec::new();
    match counts {
        None => {
            let mut a = 0;
            while a < n {
                let b = (a + bs).min(n);
                if b - a < bs && drop_last {
                    break;
                }
                out.push(a..b);
                a = b;
            }
        }
        Some(c) => {
            let (mut a, mut total) = (0usize, 0u64);
            for (i, &k) in c.iter().enumerate().take(n) {
                if i > a && total + k > bs as u64 {
                    out.push(a..i);
                    a = i;
                    total = 0;
                }
                total += k;
            }
            if a < n && !(drop_last && total < bs as u64) {
                out.push(a..n);
            }
        }
    }
    out
}

/// Split the largest batches in halves until their count divides by `world_size`; when no
/// batch has two rows left, empty batches are added (only when there are fewer rows than
/// ranks).
///
/// ```
/// use grumpy_zarr::stream::plan::pad_for_ranks;
/// assert_eq!(pad_for_ranks(vec![0..4, 4..8, 8..10], 2), vec![0..4, 4..6, 6..8, 8..10]);
/// ```
pub fn pad_for_ranks(mut batches: Vec<Range<usize>>, world_size: usize) -> Vec<Range<usize>> {
    let w = world_size.max(1);
    let end = batches.last().map_or(0, |r| r.end);
    while !batches.len().is_multiple_of(w) {
        // the largest batch, the last of equals
        let pick = batches
            .iter()
            .enumerate()
            .filter(|(_, r)| r.len() >= 2)
            .max_by_key(|(i, r)| (r.len(), *i))
            .map(|(i, _)| i);
        match pick {
            Some(i) => {
                let r = batches[i].clone();
                let mid = r.start + r.len().div_ceil(2);
                batches[i] = r.start..mid;
                batches.insert(i + 1, mid..r.end);
            }
            None => batches.push(end..end),
        }
    }
    batches
}

/// Batch order for an epoch: identity, or a permutation seeded by `(seed, epoch)`.
pub fn epoch_order(nbatches: usize, shuffle: bool, seed: u64, epoch: u64) -> Vec<usize> {
    if shuffle {
        permutation(nbatches, mix(seed, epoch))
    } else {
        (0..nbatches).collect()
    }
}

/// Rank `rank`'s share: positions `rank, rank + world_size, …` of `order`, after trimming the
/// order to a multiple of `world_size` (a no-op when it was padded).
pub fn rank_share(order: &[usize], world_size: usize, rank: usize) -> Vec<usize> {
    let w = world_size.max(1);
    let keep = order.len() / w * w;
    order[..keep]
        .iter()
        .skip(rank)
        .step_by(w)
        .copied()
        .collect()
}

/// Seed for the within-batch shuffle of batch `id` in `epoch`.
pub fn batch_seed(seed: u64, epoch: u64, id: usize) -> u64 {
    mix(mix(seed, epoch), id as u64 ^ 0x5bd1_e995_0000_0000)
}

/// Mix two words into a seed (SplitMix64 finalizer).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_add(b.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic generator (SplitMix64), stable across platforms and versions.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// A permutation of `0..n` drawn from `seed`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    SplitMix::new(seed).shuffle(&mut p);
    p
}

/// A gather index that permutes elements inside each group `offsets[i]..offsets[i+1]`
/// (zero-based offsets); groups keep their place.
///
/// ```
/// use grumpy_zarr::stream::plan::within_groups_permutation;
/// let p = within_groups_permutation(&[0, 2, 2, 5], 7);
/// let mut a = p[..2].to_vec(); a.sort();
/// let mut b = p[2..].to_vec(); b.sort();
/// assert_eq!((a, b), (vec![0, 1], vec![2, 3, 4]));
/// ```
pub fn within_groups_permutation(offsets: &[i64], seed: u64) -> Vec<usize> {
    let n = offsets.last().map_or(0, |&x| x.max(0) as usize);
    let mut p: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix::new(seed);
    for w in offsets.windows(2) {
        let (a, b) = (w[0] as usize, w[1] as usize);
        rng.shuffle(&mut p[a..b]);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(batches: &[Range<usize>]) -> Vec<usize> {
        let mut v: Vec<usize> = batches.iter().flat_map(|r| r.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn row_batches() {
        assert_eq!(base_batches(0, None, 3, false), Vec::<Range<usize>>::new());
        assert_eq!(base_batches(7, None, 3, false), vec![0..3, 3..6, 6..7]);
        assert_eq!(base_batches(7, None, 3, true), vec![0..3, 3..6]);
        assert_eq!(base_batches(6, None, 3, true), vec![0..3, 3..6]);
        assert_eq!(base_batches(2, None, 3, true), Vec::<Range<usize>>::new());
    }

    #[test]
    fn entity_batches() {
        // a row bigger than the budget is a batch of its own
        assert_eq!(
            base_batches(4, Some(&[1, 9, 2, 2]), 4, false),
            vec![0..1, 1..2, 2..4]
        );
        // exactly full last batch survives drop_last; a short one does not
        assert_eq!(base_batches(3, Some(&[2, 2, 4]), 4, true), vec![0..2, 2..3]);
        assert_eq!(base_batches(3, Some(&[2, 2, 3]), 4, true), vec![0..2]);
        // counts of 1 give the same batches as rows
        for n in 0..20 {
            for bs in 1..6 {
                for dl in [false, true] {
                    let ones = vec![1u64; n];
                    assert_eq!(
                        base_batches(n, Some(&ones), bs, dl),
                        base_batches(n, None, bs, dl)
                    );
                }
            }
        }
        // zero-entity rows join the current batch
        assert_eq!(base_batches(3, Some(&[0, 0, 0]), 1, false), vec![0..3]);
    }

    #[test]
    fn ranks_disjoint_equal_complete() {
        for n in 0..40 {
            for bs in 1..7 {
                for w in 1..5 {
                    for (shuffle, dl) in [(false, false), (true, false), (true, true)] {
                        let shares: Vec<Plan> = (0..w)
                            .map(|r| {
                                let spec = PlanSpec {
                                    batch_size: bs,
                                    drop_last: dl,
                                    shuffle,
                                    seed: 3,
                                    epoch: 1,
                                    world_size: w,
                                    rank: r,
                                };
                                plan(n, None, &spec)
                            })
                            .collect();
                        let len0 = shares[0].order.len();
                        assert!(shares.iter().all(|p| p.order.len() == len0));
                        let all: Vec<Range<usize>> = shares
                            .iter()
                            .flat_map(|p| p.order.iter().map(|&i| p.batches[i].clone()))
                            .collect();
                        if !dl {
                            assert_eq!(covered(&all), (0..n).collect::<Vec<_>>());
                        } else {
                            let c = covered(&all);
                            let mut d = c.clone();
                            d.dedup();
                            assert_eq!(c, d, "no row twice");
                            assert!(all.iter().all(|r| r.len() == bs));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn shuffle_depends_on_seed_and_epoch() {
        let a = epoch_order(50, true, 1, 0);
        assert_eq!(a, epoch_order(50, true, 1, 0));
        assert_ne!(a, epoch_order(50, true, 1, 1));
        assert_ne!(a, epoch_order(50, true, 2, 0));
        let mut s = a.clone();
        s.sort();
        assert_eq!(s, (0..50).collect::<Vec<_>>());
        assert_eq!(epoch_order(4, false, 9, 9), vec![0, 1, 2, 3]);
        assert_ne!(batch_seed(1, 0, 0), batch_seed(1, 0, 1));
        assert_ne!(batch_seed(1, 0, 0), batch_seed(1, 1, 0));
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn padding_splits_largest() {
        assert_eq!(pad_for_ranks(vec![0..1], 3), vec![0..1, 1..1, 1..1]);
        assert_eq!(pad_for_ranks(vec![0..3], 3), vec![0..1, 1..2, 2..3]);
        assert_eq!(pad_for_ranks(vec![0..2, 2..4], 2), vec![0..2, 2..4]);
    }

    #[test]
    fn generator_uniformish() {
        let mut r = SplitMix::new(1);
        let mut hist = [0usize; 4];
        for _ in 0..4000 {
            hist[r.below(4)] += 1;
        }
        assert!(hist.iter().all(|&h| (800..1200).contains(&h)), "{hist:?}");
    }
}
