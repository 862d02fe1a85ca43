//! Brute-force kernels for small groups: one tight pass over the group's points per query.
//!
//! The k-nearest search first fills its [`KBest`] buffer from a window of points whose indices
//! are near `hint` (for chain-like data such as protein backbones these are spatial neighbours
//! too, so the bound is tight from the start) and then scans everything else, rejecting most
//! candidates with one comparison. Results do not depend on the scan order: candidates are
//! ranked by `(d², index)`.

use super::select::{finish_radius, KBest, Metric};

/// The `k` nearest points of `data` (`n` points, flat) to `q`, skipping index `skip`
/// (`usize::MAX` for none). `hint` is the index where to start looking.
#[inline]
pub(crate) fn knn<M: Metric>(
    m: M,
    data: &[f64],
    q: &[f64],
    k: usize,
    skip: usize,
    hint: usize,
    best: &mut KBest,
) {
    let d = m.dims();
    // zero-dimensional points are handled by `knn_zero_dims`
    let n = data.len().checked_div(d).unwrap_or(0);
    best.reset(k);
    if k == 0 || n == 0 {
        return;
    }
    let w = (k + 1).min(n);
    let lo = hint.saturating_sub(w / 2).min(n - w);
    let hi = lo + w;
    let visit = |j: usize, best: &mut KBest| {
        let dd = m.d2(q, &data[j * d..j * d + d]);
        if dd <= best.bound() && j != skip && best.accepts(dd, j as u32) {
            best.push(dd, j as u32);
        }
    };
    for j in lo..hi {
        visit(j, best);
    }
    for j in (0..lo).chain(hi..n) {
        visit(j, best);
    }
}

/// Group coordinates split by axis (x, y, z) for the 3-D kernel.
#[derive(Debug, Default)]
pub(crate) struct Soa3 {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    d2: Vec<f64>,
}

impl Soa3 {
    /// Load a group's flat xyz coordinates.
    pub(crate) fn load(&mut self, data: &[f64]) {
        let n = data.len() / 3;
        for v in [&mut self.x, &mut self.y, &mut self.z] {
            v.clear();
            v.reserve(n);
        }
        for p in data.chunks_exact(3) {
            self.x.push(p[0]);
            self.y.push(p[1]);
            self.z.push(p[2]);
        }
        self.d2.resize(n, 0.0);
    }

    /// The 3-D brute-force kNN: all squared distances in one vectorised pass, then a blocked
    /// scan that skips 8 candidates at a time when none can enter. Same results as [`knn`].
    pub(crate) fn knn(&mut self, q: &[f64], k: usize, skip: usize, hint: usize, best: &mut KBest) {
        best.reset(k);
        let n = self.x.len();
        if k == 0 || n == 0 {
            return;
        }
        let q = [q[0], q[1], q[2]];
        d2_dispatch(&self.x, &self.y, &self.z, q, &mut self.d2);
        let d = &self.d2[..n];
        let w = (k + 1).min(n);
        let lo = hint.saturating_sub(w / 2).min(n - w);
        let hi = lo + w;
        for (j, &dd) in d.iter().enumerate().take(hi).skip(lo) {
            consider(dd, j, skip, best);
        }
        scan(&d[..lo], 0, skip, best);
        scan(&d[hi..], hi, skip, best);
    }
}

#[inline(always)]
fn consider(dd: f64, j: usize, skip: usize, best: &mut KBest) {
    if dd <= best.bound() && j != skip && best.accepts(dd, j as u32) {
        best.push(dd, j as u32);
    }
}

#[inline(always)]
fn scan(d: &[f64], base: usize, skip: usize, best: &mut KBest) {
    let mut blocks = d.chunks_exact(8);
    let mut j = base;
    for c in &mut blocks {
        let mut m = c[0];
        for &v in &c[1..] {
            m = if v < m { v } else { m };
        }
        if m <= best.bound() {
            for (t, &v) in c.iter().enumerate() {
                consider(v, j + t, skip, best);
            }
        }
        j += 8;
    }
    for (t, &v) in blocks.remainder().iter().enumerate() {
        consider(v, j + t, skip, best);
    }
}

/// Squared distances from `q` to every point; the sum order matches [`Metric::d2`] for
/// `Fixed<3>` so both kernels rank ties identically.
#[inline(always)]
fn d2_all(x: &[f64], y: &[f64], z: &[f64], q: [f64; 3], out: &mut [f64]) {
    let n = out.len();
    let (x, y, z) = (&x[..n], &y[..n], &z[..n]);
    for j in 0..n {
        let dx = x[j] - q[0];
        let dy = y[j] - q[1];
        let dz = z[j] - q[2];
        out[j] = dx * dx + dy * dy + dz * dz;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn d2_all_avx2(x: &[f64], y: &[f64], z: &[f64], q: [f64; 3], out: &mut [f64]) {
    d2_all(x, y, z, q, out);
}

fn d2_dispatch(x: &[f64], y: &[f64], z: &[f64], q: [f64; 3], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { d2_all_avx2(x, y, z, q, out) };
            return;
        }
    }
    d2_all(x, y, z, q, out);
}

/// The first `k` indices (all distances 0) for zero-dimensional points.
pub(crate) fn knn_zero_dims(n: usize, k: usize, skip: usize, best: &mut KBest) {
    best.reset(k);
    for j in (0..n).filter(|&j| j != skip).take(k) {
        best.push(0.0, j as u32);
    }
}

/// Every point of `data` within `radius` of `q` (`d2 <= r2_bound` prefilter), sorted, appended
/// to `idx`/`dist`; returns how many.
pub(crate) fn radius<M: Metric>(
    m: M,
    data: &[f64],
    n: usize,
    q: &[f64],
    radius: f64,
    r2_bound: f64,
    skip: usize,
    cand: &mut Vec<(f64, u32)>,
    idx: &mut Vec<i64>,
    dist: &mut Vec<f64>,
) -> usize {
    let d = m.dims();
    cand.clear();
    for j in 0..n {
        let dd = if d == 0 {
            0.0
        } else {
            m.d2(q, &data[j * d..j * d + d])
        };
        if dd <= r2_bound && j != skip {
            cand.push((dd, j as u32));
        }
    }
    finish_radius(cand, radius, idx, dist)
}

#[cfg(test)]
mod tests {
    use super::super::select::{Dyn, Fixed};
    use super::*;

    fn naive(data: &[[f64; 2]], q: [f64; 2], k: usize, skip: usize) -> Vec<i64> {
        let mut v: Vec<(f64, usize)> = data
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != skip)
            .map(|(j, p)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2), j))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        v.into_iter().take(k).map(|x| x.1 as i64).collect()
    }

    #[test]
    fn knn_matches_naive_for_any_hint() {
        let pts: Vec<[f64; 2]> = (0..40)
            .map(|i| [((i * 7) % 11) as f64, ((i * 5) % 3) as f64])
            .collect();
        let flat: Vec<f64> = pts.iter().flatten().copied().collect();
        let mut best = KBest::default();
        for qi in [0usize, 5, 39] {
            for hint in [0usize, 20, 39] {
                for k in [0usize, 1, 4, 39, 60] {
                    knn(
                        Fixed::<2>,
                        &flat,
                        &flat[qi * 2..qi * 2 + 2],
                        k,
                        qi,
                        hint,
                        &mut best,
                    );
                    let mut idx = vec![0; best.len()];
                    let mut dist = vec![0.0; best.len()];
                    best.write(&mut idx, &mut dist);
                    assert_eq!(idx, naive(&pts, pts[qi], k, qi), "q {qi} hint {hint} k {k}");
                    knn(
                        Dyn(2),
                        &flat,
                        &flat[qi * 2..qi * 2 + 2],
                        k,
                        qi,
                        hint,
                        &mut best,
                    );
                    let mut idx2 = vec![0; best.len()];
                    best.write(&mut idx2, &mut dist);
                    assert_eq!(idx2, idx);
                }
            }
        }
    }

    #[test]
    fn soa3_matches_generic() {
        let pts: Vec<f64> = (0..300).map(|i| ((i * 7919) % 23) as f64 * 0.5).collect();
        let mut soa = Soa3::default();
        soa.load(&pts);
        let (mut a, mut b) = (KBest::default(), KBest::default());
        for qi in [0usize, 17, 99] {
            for k in [1usize, 5, 16, 99, 150] {
                let q = &pts[qi * 3..qi * 3 + 3];
                soa.knn(q, k, qi, qi, &mut a);
                knn(Fixed::<3>, &pts, q, k, qi, 50, &mut b);
                let (mut ia, mut ib) = (vec![0; a.len()], vec![0; b.len()]);
                let mut d = vec![0.0; 200];
                a.write(&mut ia, &mut d);
                b.write(&mut ib, &mut d);
                assert_eq!(ia, ib, "q {qi} k {k}");
            }
        }
    }

    #[test]
    fn radius_sorted_and_inclusive() {
        let flat = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0];
        let (mut c, mut i, mut d) = (Vec::new(), Vec::new(), Vec::new());
        let n = radius(
            Fixed::<2>,
            &flat,
            4,
            &[0.0, 0.0],
            1.0,
            super::super::select::radius_bound(1.0),
            usize::MAX,
            &mut c,
            &mut i,
            &mut d,
        );
        assert_eq!(n, 3);
        assert_eq!(i, vec![0, 1, 2]);
        assert_eq!(d, vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn zero_dims_takes_first_indices() {
        let mut b = KBest::default();
        knn_zero_dims(5, 3, 0, &mut b);
        let mut i = vec![0; 3];
        let mut d = vec![0.0; 3];
        b.write(&mut i, &mut d);
        assert_eq!(i, vec![1, 2, 3]);
    }
}
