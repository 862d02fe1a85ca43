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

/// The `k` best candidates so far, sorted by `(d², index)`.
#[derive(Debug, Default)]
pub(crate) struct KBest {
    k: usize,
    len: usize,
    /// `d[k-1]` once full, `inf` before: a candidate farther than this never enters.
    bound: f64,
    d: Vec<f64>,
    i: Vec<u32>,
}

impl KBest {
    /// Empty buffer for `k` candidates.
    pub(crate) fn reset(&mut self, k: usize) {
        self.k = k;
        self.len = 0;
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

    /// Whether `(d2, idx)` would enter the buffer.
    #[inline(always)]
    pub(crate) fn accepts(&self, d2: f64, idx: u32) -> bool {
        d2 < self.bound || (d2 == self.bound && self.len == self.k && idx < self.i[self.k - 1])
    }

    /// Insert a candidate that [`KBest::accepts`].
    #[inline]
    pub(crate) fn push(&mut self, d2: f64, idx: u32) {
        let k = self.k;
        if k == 0 {
            return;
        }
        let (d, ix) = (&mut self.d[..k], &mut self.i[..k]);
        let mut p = if self.len == k {
            k - 1
        } else {
            self.len += 1;
            self.len - 1
        };
        while p > 0 {
            let pd = d[p - 1];
            if pd > d2 || (pd == d2 && ix[p - 1] > idx) {
                d[p] = pd;
                ix[p] = ix[p - 1];
                p -= 1;
            } else {
                break;
            }
        }
        d[p] = d2;
        ix[p] = idx;
        if self.len == k {
            self.bound = d[k - 1];
        }
    }

    /// Number of candidates held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Write the candidates (nearest first) as indices and Euclidean distances.
    pub(crate) fn write(&self, idx: &mut [i64], dist: &mut [f64]) {
        for (n, (&d, &i)) in self.d[..self.len]
            .iter()
            .zip(&self.i[..self.len])
            .enumerate()
        {
            idx[n] = i64::from(i);
            dist[n] = d.sqrt();
        }
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

/// Sort radius candidates by `(d², index)`, keep those within `radius`, and append them.
pub(crate) fn finish_radius(
    cand: &mut [(f64, u32)],
    radius: f64,
    idx: &mut Vec<i64>,
    dist: &mut Vec<f64>,
) -> usize {
    cand.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut n = 0;
    for &(d2, i) in cand.iter() {
        let d = d2.sqrt();
        if d <= radius {
            idx.push(i64::from(i));
            dist.push(d);
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
        let mut idx = [0i64; 3];
        let mut dist = [0f64; 3];
        b.write(&mut idx, &mut dist);
        assert_eq!(idx, [3, 1, 2]);
        assert_eq!(b.len(), 3);
        // an equal distance with a lower index enters; a higher one does not
        assert!(b.accepts(1.0, 0));
        assert!(!b.accepts(1.0, 9));
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
        let (mut i, mut d) = (Vec::new(), Vec::new());
        let n = finish_radius(&mut c, 1.0, &mut i, &mut d);
        assert_eq!(n, 2);
        assert_eq!(i, vec![1, 2]);
        assert!(radius_bound(1.0) >= 1.0);
    }
}
