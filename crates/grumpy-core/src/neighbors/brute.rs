//! Brute-force kernels for small groups of points with many coordinates (groups of 1 to 4
//! coordinates use [`super::blocks`]): one tight pass over the group's points per query.
//!
//! The k-nearest search first fills its [`KBest`] buffer from a window of points whose indices
//! are near `hint` (for chain-like data such as protein backbones these are spatial neighbours
//! too, so the bound is tight from the start) and then scans everything else, rejecting most
//! candidates with one comparison. Results do not depend on the scan order: candidates are
//! ranked by `(d², index)`.

use super::select::{KBest, Metric};

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

/// The first `k` indices (all distances 0) for zero-dimensional points.
pub(crate) fn knn_zero_dims(n: usize, k: usize, skip: usize, best: &mut KBest) {
    best.reset(k);
    for j in (0..n).filter(|&j| j != skip).take(k) {
        best.push(0.0, j as u32);
    }
}

/// Every point of `data` with `d² <= r2` of `q` (skipping `skip`), appended to `cand` unsorted.
pub(crate) fn radius<M: Metric>(
    m: M,
    data: &[f64],
    n: usize,
    q: &[f64],
    r2: f64,
    skip: usize,
    cand: &mut Vec<(f64, u32)>,
) {
    let d = m.dims();
    cand.clear();
    for j in 0..n {
        let dd = if d == 0 {
            0.0
        } else {
            m.d2(q, &data[j * d..j * d + d])
        };
        if dd <= r2 && j != skip {
            cand.push((dd, j as u32));
        }
    }
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
                    best.finish();
                    let idx: Vec<i64> = best.items().1.iter().map(|&j| i64::from(j)).collect();
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
                    best.finish();
                    let idx2: Vec<i64> = best.items().1.iter().map(|&j| i64::from(j)).collect();
                    assert_eq!(idx2, idx);
                }
            }
        }
    }

    #[test]
    fn radius_sorted_and_inclusive() {
        let flat = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0];
        let (mut c, mut i, mut d) = (Vec::new(), Vec::new(), Vec::new());
        let r2 = super::super::select::radius_bound(1.0);
        radius(Fixed::<2>, &flat, 4, &[0.0, 0.0], r2, usize::MAX, &mut c);
        let n = super::super::select::finish_radius(&mut c, 1.0, &mut d, &mut i);
        assert_eq!(n, 3);
        assert_eq!(i, vec![0, 1, 2]);
        assert_eq!(d, vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn zero_dims_takes_first_indices() {
        let mut b = KBest::default();
        knn_zero_dims(5, 3, 0, &mut b);
        assert_eq!(b.items().1, &[1, 2, 3]);
    }
}
