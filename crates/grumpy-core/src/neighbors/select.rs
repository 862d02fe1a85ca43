//! Shared pieces of the search kernels: the distance [`Metric`] (specialised for a fixed number
//! of coordinates, or dynamic) and [`KBest`], a bounded sorted buffer of the `k` best
//! `(squared distance, index)` candidates.
//!
//! Ordering everywhere is lexicographic on `(d², index)`: nearer first, ties by lower index.

/// Squared Euclidean distance between two points of `dims()` coordinates.
pub(crate) trait Metric: Copy + Send + Sync {
    /// Number of coordinates per point.
    fn dims(&self) -> usize;
    /// Squared distance between `a` and `b` (both at least `dims()` long).
    fn d2(&self, a: &[f64], b: &[f64]) -> f64;
}

/// A metric for exactly `D` coordinates (the loops unroll).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fixed<const D: usize>;

impl<const D: usize> Metric for Fixed<D> {
    #[inline(always)]
    fn dims(&self) -> usize {
        D
    }
    #[inline(always)]
    fn d2(&self, a: &[f64], b: &[f64]) -> f64 {
        let a: &[f64; D] = a[..D].try_into().expect("D coordinates");
        let b: &[f64; D] = b[..D].try_into().expect("D coordinates");
        let mut s = 0.0;
        for i in 0..D {
            let t = a[i] - b[i];
            s += t * t;
        }
        s
    }
}

/// A metric for any number of coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dyn(pub(crate) usize);

impl Metric for Dyn {
    #[inline]
    fn dims(&self) -> usize {
        self.0
    }
    #[inline]
    fn d2(&self, a: &[f64], b: &[f64]) -> f64 {
        a[..self.0]
            .iter()
            .zip(&b[..self.0])
            .map(|(x, y)| (x - y) * (x - y))
            .sum()
    }
}

/// Above this `k`, [`KBest`] keeps a binary max-heap instead of a sorted array.
const HEAP_K: usize = 48;

/// The `k` best candidates so far by `(d², index)`: a sorted array (insertion, fast for small
/// `k`) or, for large `k`, a binary max-heap sorted by [`KBest::finish`].
#[derive(Debug, Default)]
pub(crate) struct KBest {
    k: usize,
    len: usize,
    heap: bool,
    /// Position of the worst candidate once full (`k - 1` sorted, `0` heap).
    worst: usize,
    /// The worst `d²` once full, `inf` before: a candidate farther than this never enters.
    bound: f64,
    d: Vec<f64>,
    i: Vec<u32>,
    /// Scratch for sorting a heap.
    tmp: Vec<(f64, u32)>,
}

/// `(d², index)` order: nearer first, ties by lower index.
#[inline(always)]
fn before(d1: f64, i1: u32, d2: f64, i2: u32) -> bool {
    d1 < d2 || (d1 == d2 && i1 < i2)
}

impl KBest {
    /// Empty buffer for `k` candidates (the caller caps `k` at the number of candidates).
    pub(crate) fn reset(&mut self, k: usize) {
        self.k = k;
        self.len = 0;
        self.heap = k > HEAP_K;
        self.worst = if self.heap { 0 } else { k.saturating_sub(1) };
        self.bound = if k == 0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        if self.d.len() < k {
            self.d.resize(k, 0.0);
            self.i.resize(k, 0);
        }
    }

    /// Current `k`-th squared distance (`inf` while not full).
    #[inline(always)]
    pub(crate) fn bound(&self) -> f64 {
        self.bound
    }

    /// Whether `(d2, idx)` would enter the buffer (anything enters while it is not full, even
    /// an overflowed `d2 = inf`).
    #[inline(always)]
    pub(crate) fn accepts(&self, d2: f64, idx: u32) -> bool {
        d2 < self.bound || (d2 == self.bound && (self.len < self.k || idx < self.i[self.worst]))
    }

    /// Insert a candidate that [`KBest::accepts`].
    #[inline(always)]
    pub(crate) fn push(&mut self, d2: f64, idx: u32) {
        if self.k == 0 {
            return;
        }
        if self.heap {
            self.push_heap(d2, idx);
            return;
        }
        let k = self.k;
        let (d, ix) = (&mut self.d[..k], &mut self.i[..k]);
        let mut p = if self.len == k {
            k - 1
        } else {
            self.len += 1;
            self.len - 1
        };
        while p > 0 && before(d2, idx, d[p - 1], ix[p - 1]) {
            d[p] = d[p - 1];
            ix[p] = ix[p - 1];
            p -= 1;
        }
        d[p] = d2;
        ix[p] = idx;
        if self.len == k {
            self.bound = d[k - 1];
        }
    }

    /// Fill the empty buffer from candidates with distinct indices at once: the same result
    /// as offering them one by one, but in the sorted mode each candidate's place is its rank
    /// (a count over all pairs, without data-dependent branches) instead of an insertion whose
    /// shifts mispredict.
    #[inline(always)]
    pub(crate) fn fill(&mut self, d2: &[f64], idx: &[u32]) {
        debug_assert_eq!(self.len, 0, "fill an empty buffer");
        let n = d2.len().min(idx.len());
        let (d2, idx) = (&d2[..n], &idx[..n]);
        if self.heap || self.k == 0 {
            for (&x, &j) in d2.iter().zip(idx) {
                if self.accepts(x, j) {
                    self.push(x, j);
                }
            }
            return;
        }
        let k = self.k;
        for (&x, &xi) in d2.iter().zip(idx) {
            // candidates before (x, xi) in (d², index) order; indices are distinct
            let mut r = 0u32;
            for (&y, &yi) in d2.iter().zip(idx) {
                r += u32::from((y < x) | ((y == x) & (yi < xi)));
            }
            let r = r as usize;
            if r < k {
                self.d[r] = x;
                self.i[r] = xi;
            }
        }
        self.len = n.min(k);
        if self.len == k {
            self.bound = self.d[k - 1];
        }
    }

    fn push_heap(&mut self, d2: f64, idx: u32) {
        let k = self.k;
        let (d, ix) = (&mut self.d[..k], &mut self.i[..k]);
        if self.len < k {
            // sift up from the end
            let mut p = self.len;
            self.len += 1;
            while p > 0 {
                let up = (p - 1) / 2;
                if before(d[up], ix[up], d2, idx) {
                    d[p] = d[up];
                    ix[p] = ix[up];
                    p = up;
                } else {
                    break;
                }
            }
            d[p] = d2;
            ix[p] = idx;
        } else {
            // replace the worst (the root) and sift down
            let mut p = 0;
            loop {
                let mut c = 2 * p + 1;
                if c >= k {
                    break;
                }
                if c + 1 < k && before(d[c], ix[c], d[c + 1], ix[c + 1]) {
                    c += 1;
                }
                if before(d2, idx, d[c], ix[c]) {
                    d[p] = d[c];
                    ix[p] = ix[c];
                    p = c;
                } else {
                    break;
                }
            }
            d[p] = d2;
            ix[p] = idx;
        }
        if self.len == k {
            self.bound = d[0];
        }
    }

    /// Put the candidates in order (a no-op for the sorted array). Call before
    /// [`KBest::items`]; the buffer then accepts no more candidates until [`KBest::reset`].
    pub(crate) fn finish(&mut self) {
        if !self.heap || self.len < 2 {
            return;
        }
        let n = self.len;
        self.tmp.clear();
        self.tmp
            .extend(self.d[..n].iter().copied().zip(self.i[..n].iter().copied()));
        self.tmp
            .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (p, &(d, i)) in self.tmp.iter().enumerate() {
            self.d[p] = d;
            self.i[p] = i;
        }
        self.k = 0;
        self.bound = f64::NEG_INFINITY;
    }

    /// Number of candidates held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The candidates held (nearest first after [`KBest::finish`]): squared distances and
    /// indices.
    #[inline]
    pub(crate) fn items(&self) -> (&[f64], &[u32]) {
        (&self.d[..self.len], &self.i[..self.len])
    }
}

/// Upper bound on `d²` for a radius search: anything at or below passes the cheap test; the
/// exact rule (`sqrt(d²) <= radius`) is checked afterwards so reported distances agree with it.
pub(crate) fn radius_bound(radius: f64) -> f64 {
    let r2 = radius * radius;
    if r2 == 0.0 {
        // sqrt(x) <= 0 only for x == 0; keep subnormal squares out.
        return 0.0;
    }
    r2 * (1.0 + 8.0 * f64::EPSILON)
}

/// Sort radius candidates by `(d², index)`, keep those within `radius` (exactly:
/// `sqrt(d²) <= radius`), and append their `d²` and indices; returns how many.
pub(crate) fn finish_radius(
    cand: &mut [(f64, u32)],
    radius: f64,
    d2s: &mut Vec<f64>,
    js: &mut Vec<u32>,
) -> usize {
    cand.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut n = 0;
    for &(d2, j) in cand.iter() {
        if d2.sqrt() <= radius {
            d2s.push(d2);
            js.push(j);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kbest_keeps_k_smallest_with_index_ties() {
        let mut b = KBest::default();
        b.reset(3);
        for (d, i) in [(5.0, 0), (1.0, 1), (1.0, 2), (0.5, 3), (1.0, 4), (7.0, 5)] {
            if b.accepts(d, i) {
                b.push(d, i);
            }
        }
        assert_eq!(b.items().1, &[3, 1, 2]);
        assert_eq!(b.len(), 3);
        // an equal distance with a lower index enters; a higher one does not
        assert!(b.accepts(1.0, 0));
        assert!(!b.accepts(1.0, 9));
    }

    #[test]
    fn kbest_heap_mode_matches_sorting() {
        // pseudo-random candidates on a coarse grid: many ties
        let mut s: u64 = 7;
        let cands: Vec<(f64, u32)> = (0..2000u32)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (((s >> 40) % 50) as f64, i)
            })
            .collect();
        for k in [1usize, 16, HEAP_K, HEAP_K + 1, 300, 2000, 2500] {
            let mut b = KBest::default();
            b.reset(k.min(2000));
            for &(d, i) in &cands {
                if d <= b.bound() && b.accepts(d, i) {
                    b.push(d, i);
                }
            }
            b.finish();
            let mut want = cands.clone();
            want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            want.truncate(k);
            let got: Vec<(f64, u32)> = b
                .items()
                .0
                .iter()
                .copied()
                .zip(b.items().1.iter().copied())
                .collect();
            assert_eq!(got, want, "k {k}");
        }
    }

    #[test]
    fn kbest_fill_matches_pushing_one_by_one() {
        // distinct indices in scrambled order, distances with many ties (and an overflow)
        let mut s: u64 = 3;
        for n in [0usize, 1, 2, 5, 16, 17, 40, 90] {
            let mut cands: Vec<(f64, u32)> = (0..n as u32)
                .map(|i| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let d = ((s >> 40) % 6) as f64;
                    (if i == 3 { f64::INFINITY } else { d }, (i * 7919) % 1000)
                })
                .collect();
            cands.rotate_left(n / 3);
            for k in [0usize, 1, 4, 16, 17, HEAP_K, HEAP_K + 1, 100] {
                let (mut a, mut b) = (KBest::default(), KBest::default());
                a.reset(k);
                b.reset(k);
                let d: Vec<f64> = cands.iter().map(|c| c.0).collect();
                let i: Vec<u32> = cands.iter().map(|c| c.1).collect();
                a.fill(&d, &i);
                for &(x, j) in &cands {
                    if b.accepts(x, j) {
                        b.push(x, j);
                    }
                }
                assert_eq!(a.bound(), b.bound(), "n {n} k {k}");
                a.finish();
                b.finish();
                assert_eq!(a.items(), b.items(), "n {n} k {k}");
                assert_eq!(a.len(), n.min(k));
            }
        }
    }

    #[test]
    fn kbest_zero_k_accepts_nothing_kept() {
        let mut b = KBest::default();
        b.reset(0);
        b.push(1.0, 1);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn metrics_agree() {
        let a = [1.0, 2.0, 3.0];
        let c = [4.0, 6.0, 3.0];
        assert_eq!(Fixed::<3>.d2(&a, &c), 25.0);
        assert_eq!(Dyn(3).d2(&a, &c), 25.0);
    }

    #[test]
    fn radius_is_inclusive() {
        let mut c = vec![(1.0, 2), (0.25, 1), (1.0 + 1e-12, 3)];
        let (mut d, mut i) = (Vec::new(), Vec::new());
        let n = finish_radius(&mut c, 1.0, &mut d, &mut i);
        assert_eq!(n, 2);
        assert_eq!(i, vec![1, 2]);
        assert_eq!(d, vec![0.25, 1.0]);
        assert!(radius_bound(1.0) >= 1.0);
    }
}
