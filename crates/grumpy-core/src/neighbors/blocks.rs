//! The search for small and medium groups: the group's points, split by axis, in blocks of
//! [`B`] with one bounding box per block.
//!
//! ```text
//!   slots   0 1 2 3 4 5 6 7 | 8 9 ...           points in chain order (or kd order, see below)
//!   x       x x x x x x x x | x x ...           one array per axis (SoA)
//!   boxes   [lo, hi] per axis per block          lower bound of d² from q to any point inside
//! ```
//!
//! A k-nearest query first fills its [`KBest`] from the blocks around a seed slot (the query's
//! own slot when it is a data point: for chains such as protein backbones the index neighbours
//! are spatial neighbours, so the bound is tight at once), then visits only the blocks whose box
//! lower bound is within the current `k`-th distance. Consecutive chain points make compact
//! boxes; when the input order does not (a random cloud), the points are put in kd order first
//! (median splits down to single blocks). Results never depend on the order: candidates are
//! ranked by `(d², index)` and the box bounds are exact lower bounds in floating point (every
//! step of `d²` is monotone under rounding, and the sums run in the same order).
//!
//! Along a chain, consecutive queries are a few Å apart, so the next query starts from the
//! previous one and its neighbours instead ([`Blocks::knn_hinted`]): a tighter first bound,
//! and the buffer filled by ranking instead of by insertions that mispredict.

use super::select::KBest;

/// Points per block.
pub(crate) const B: usize = 8;

/// Below this ratio of (mean block extent) / (group extent) the input order is kept.
const ORDER_OK: f64 = 0.45;

/// A group of points with `D` coordinates, blocked, with per-block boxes.
#[derive(Debug)]
pub(crate) struct Blocks<const D: usize> {
    n: usize,
    /// Coordinates by axis in slot order, padded to whole blocks.
    xs: [Vec<f64>; D],
    /// Original index of every slot.
    idx: Vec<u32>,
    /// Slot of every original index.
    slot: Vec<u32>,
    /// Whether the points were put in kd order (else `idx` is the identity).
    reordered: bool,
    /// Block boxes by axis.
    lo: [Vec<f64>; D],
    hi: [Vec<f64>; D],
    /// Per-query scratch: lower bound of `d²` per block.
    lb: Vec<f64>,
    /// Per-query scratch: `d²` of the seed window's blocks.
    wd: Vec<f64>,
    /// Per-query scratch: the slots already offered from a hint list, one bit per slot of
    /// each block (all zero between queries).
    seen: Vec<u8>,
    /// Per-query scratch: `d²` and original index of the hinted points.
    hd: Vec<f64>,
    hj: Vec<u32>,
}

impl<const D: usize> Default for Blocks<D> {
    fn default() -> Self {
        Blocks {
            n: 0,
            xs: std::array::from_fn(|_| Vec::new()),
            idx: Vec::new(),
            slot: Vec::new(),
            reordered: false,
            lo: std::array::from_fn(|_| Vec::new()),
            hi: std::array::from_fn(|_| Vec::new()),
            lb: Vec::new(),
            wd: Vec::new(),
            seen: Vec::new(),
            hd: Vec::new(),
            hj: Vec::new(),
        }
    }
}

impl<const D: usize> Blocks<D> {
    /// Load a group from flat row-major coordinates (`n * D` values), reusing the buffers.
    pub(crate) fn load(&mut self, data: &[f64]) {
        let n = data.len() / D;
        self.n = n;
        self.idx.clear();
        self.idx.extend(0..n as u32);
        self.fill(data);
        self.reordered = n > 2 * B && self.spread() > ORDER_OK;
        if self.reordered {
            kd_order::<D>(data, &mut self.idx);
            self.fill(data);
        }
        self.slot.resize(n, 0);
        for (s, &i) in self.idx.iter().enumerate() {
            self.slot[i as usize] = s as u32;
        }
    }

    /// Copy the coordinates in `idx` order into the axis arrays and compute the boxes.
    fn fill(&mut self, data: &[f64]) {
        let nb = self.n.div_ceil(B);
        #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
        for a in 0..D {
            let xs = &mut self.xs[a];
            xs.clear();
            xs.extend(self.idx.iter().map(|&i| data[i as usize * D + a]));
            // padding slots are never reported; repeat a real value so boxes stay tight
            let pad = xs.last().copied().unwrap_or(0.0);
            xs.resize(nb * B, pad);
            let (lo, hi) = (&mut self.lo[a], &mut self.hi[a]);
            lo.clear();
            hi.clear();
            for c in xs.chunks_exact(B) {
                let (mut l, mut h) = (c[0], c[0]);
                for &x in &c[1..] {
                    l = if x < l { x } else { l };
                    h = if x > h { x } else { h };
                }
                lo.push(l);
                hi.push(h);
            }
        }
        self.lb.resize(nb, 0.0);
        self.seen.clear();
        self.seen.resize(nb, 0);
    }

    /// Mean block extent over the group extent (summed over axes): small for compact blocks.
    fn spread(&self) -> f64 {
        let nb = self.lo[0].len();
        let (mut blocks, mut whole) = (0.0, 0.0);
        #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
        for a in 0..D {
            let (lo, hi) = (&self.lo[a], &self.hi[a]);
            blocks += hi.iter().zip(lo).map(|(h, l)| h - l).sum::<f64>() / nb as f64;
            let gl = lo.iter().copied().fold(f64::INFINITY, f64::min);
            let gh = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            whole += gh - gl;
        }
        if whole > 0.0 {
            blocks / whole
        } else {
            0.0
        }
    }

    /// Number of points.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Lower bounds of `d²` from `q` to every block, into `self.lb`.
    #[inline(always)]
    fn bounds(&mut self, q: &[f64; D]) {
        let lb = &mut self.lb[..];
        lb.fill(0.0);
        #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
        for a in 0..D {
            let (lo, hi) = (&self.lo[a][..lb.len()], &self.hi[a][..lb.len()]);
            let x = q[a];
            for ((o, &l), &h) in lb.iter_mut().zip(lo).zip(hi) {
                let below = l - x;
                let above = x - h;
                let g = if below > above { below } else { above };
                let g = if g > 0.0 { g } else { 0.0 };
                *o += g * g;
            }
        }
    }

    /// Squared distances from `q` to the points of block `b` (same arithmetic as
    /// `Fixed::<D>::d2`: `(q - p)²` summed over axes in order).
    #[inline(always)]
    fn block_d2(&self, b: usize, q: &[f64; D]) -> [f64; B] {
        let mut d = [0.0; B];
        #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
        for a in 0..D {
            let xs: &[f64; B] = self.xs[a][b * B..b * B + B]
                .try_into()
                .expect("whole block");
            for t in 0..B {
                let v = q[a] - xs[t];
                d[t] += v * v;
            }
        }
        d
    }

    /// Bit mask of the real (not padding) slots of block `b`.
    #[inline(always)]
    fn valid(&self, b: usize) -> u32 {
        let end = (self.n - b * B).min(B);
        (1u32 << end) - 1
    }

    /// Offer the points of block `b` to `best`: one vector pass for the distances, then only
    /// the slots within the current bound (a mask) are looked at one by one.
    #[inline(always)]
    fn scan(&self, b: usize, q: &[f64; D], skip: u32, best: &mut KBest) {
        self.scan_except(b, q, skip, 0, best);
    }

    /// [`Blocks::scan`] without the slots whose bits are set in `except`.
    #[inline(always)]
    fn scan_except(&self, b: usize, q: &[f64; D], skip: u32, except: u8, best: &mut KBest) {
        let d = self.block_d2(b, q);
        let bound = best.bound();
        let mut m = 0u32;
        for (t, &v) in d.iter().enumerate() {
            m |= u32::from(v <= bound) << t;
        }
        m &= self.valid(b) & !u32::from(except);
        while m != 0 {
            let t = m.trailing_zeros() as usize;
            m &= m - 1;
            let j = self.idx[b * B + t];
            if j != skip && best.accepts(d[t], j) {
                best.push(d[t], j);
            }
        }
    }

    /// The start of every query: `best` emptied for `k`, the block lower bounds for `q`;
    /// `false` when there is nothing to search (`k == 0` or no points).
    #[inline(always)]
    fn start(&mut self, q: &[f64; D], k: usize, best: &mut KBest) -> bool {
        best.reset(k);
        if k == 0 || self.n == 0 {
            return false;
        }
        self.bounds(q);
        true
    }

    /// The `k` nearest points to `q` (skipping original index `skip`, `u32::MAX` for none)
    /// into `best`. `seed` is the original index of a point likely near `q` (the query itself
    /// when it is a data point); without one, the block nearest to `q` is used.
    #[inline(always)]
    pub(crate) fn knn(
        &mut self,
        q: &[f64; D],
        k: usize,
        skip: u32,
        seed: Option<u32>,
        best: &mut KBest,
    ) {
        if !self.start(q, k, best) {
            return;
        }
        let n = self.n;
        let s0 = match seed {
            Some(i) if (i as usize) < n => self.slot[i as usize] as usize,
            _ => {
                let mut m = 0;
                for (b, &v) in self.lb.iter().enumerate() {
                    if v < self.lb[m] {
                        m = b;
                    }
                }
                m * B
            }
        };
        // The blocks covering the k + 1 slots around the seed, offered nearest slot first
        // (s0, s0 + 1, s0 - 1, ...): along a chain that is roughly nearest first, so most
        // insertions into `best` append instead of shifting.
        let w = (k + 1).min(n);
        let first = s0.saturating_sub(w / 2).min(n - w);
        let (b0, b1) = (first / B, (first + w - 1) / B);
        let (lo, hi) = (b0 * B, ((b1 + 1) * B).min(n));
        self.wd.resize((b1 + 1 - b0) * B, 0.0);
        for b in b0..=b1 {
            let d = self.block_d2(b, q);
            self.wd[(b - b0) * B..(b - b0 + 1) * B].copy_from_slice(&d);
        }
        self.offer(s0, lo, skip, best);
        for step in 1..hi - lo {
            let (up, down) = (s0 + step, s0.checked_sub(step).filter(|&s| s >= lo));
            if up >= hi && down.is_none() {
                break;
            }
            if up < hi {
                self.offer(up, lo, skip, best);
            }
            if let Some(s) = down {
                self.offer(s, lo, skip, best);
            }
        }
        for b in (0..b0).chain(b1 + 1..self.lb.len()) {
            if self.lb[b] <= best.bound() {
                self.scan(b, q, skip, best);
            }
        }
    }

    /// Whether the points kept their input order (it makes compact blocks): then consecutive
    /// points are near each other, and one query's neighbours are a good [`Blocks::knn_hinted`]
    /// hint for the next.
    pub(crate) fn in_input_order(&self) -> bool {
        !self.reordered
    }

    /// Like [`Blocks::knn`], but first fills `best` with the points of `hint` at once (original
    /// indices: the previous query along a chain and its neighbours), which sets a tight bound
    /// without one insertion per point; then every block within the bound is scanned, without
    /// the hinted points.
    /// Duplicates, `skip` and out-of-range entries in `hint` are ignored; the result is the
    /// same as [`Blocks::knn`]'s for any hint.
    #[inline(always)]
    pub(crate) fn knn_hinted(
        &mut self,
        q: &[f64; D],
        k: usize,
        skip: u32,
        hint: &[u32],
        best: &mut KBest,
    ) {
        if !self.start(q, k, best) {
            return;
        }
        let n = self.n;
        self.hd.clear();
        self.hj.clear();
        for &j in hint {
            if j as usize >= n || j == skip {
                continue;
            }
            let s = self.slot[j as usize] as usize;
            let bit = 1u8 << (s % B);
            if self.seen[s / B] & bit != 0 {
                continue;
            }
            self.seen[s / B] |= bit;
            // the arithmetic of `block_d2`, for one slot
            let mut dd = 0.0;
            #[allow(clippy::needless_range_loop)] // q and the axis arrays in lockstep
            for a in 0..D {
                let v = q[a] - self.xs[a][s];
                dd += v * v;
            }
            self.hd.push(dd);
            self.hj.push(j);
        }
        best.fill(&self.hd, &self.hj);
        for b in 0..self.lb.len() {
            if self.lb[b] <= best.bound() {
                self.scan_except(b, q, skip, self.seen[b], best);
            }
        }
        for &j in hint {
            if (j as usize) < n {
                self.seen[self.slot[j as usize] as usize / B] = 0;
            }
        }
    }

    /// Offer slot `s` of the seed window (whose distances start at slot `lo`) to `best`. A
    /// method, not a closure: closures do not inherit the caller's `target_feature`, so the
    /// closure could not be inlined into the AVX2 copy of the search.
    #[inline(always)]
    fn offer(&self, s: usize, lo: usize, skip: u32, best: &mut KBest) {
        let dd = self.wd[s - lo];
        if dd <= best.bound() {
            let j = self.idx[s];
            if j != skip && best.accepts(dd, j) {
                best.push(dd, j);
            }
        }
    }

    /// Every point with `d² <= r2` of `q` (skipping `skip`), appended to `cand` unsorted.
    pub(crate) fn within(&mut self, q: &[f64; D], r2: f64, skip: u32, cand: &mut Vec<(f64, u32)>) {
        cand.clear();
        if self.n == 0 {
            return;
        }
        self.bounds(q);
        for b in 0..self.lb.len() {
            if self.lb[b] <= r2 {
                let d = self.block_d2(b, q);
                let end = (self.n - b * B).min(B);
                for (t, &dd) in d[..end].iter().enumerate() {
                    let j = self.idx[b * B + t];
                    if dd <= r2 && j != skip {
                        cand.push((dd, j));
                    }
                }
            }
        }
    }
}

/// Reorder `idx` so that every run of [`B`] consecutive entries is spatially compact: median
/// splits on the widest axis, with left halves of whole blocks (only the last block is partial).
fn kd_order<const D: usize>(data: &[f64], idx: &mut [u32]) {
    let n = idx.len();
    if n <= B {
        return;
    }
    let mut axis = 0;
    let mut spread = f64::NEG_INFINITY;
    for a in 0..D {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &i in idx.iter() {
            let x = data[i as usize * D + a];
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if hi - lo > spread {
            spread = hi - lo;
            axis = a;
        }
    }
    let left = n.div_ceil(B) / 2 * B;
    idx.select_nth_unstable_by(left, |&x, &y| {
        data[x as usize * D + axis].total_cmp(&data[y as usize * D + axis])
    });
    let (l, r) = idx.split_at_mut(left);
    kd_order::<D>(data, l);
    kd_order::<D>(data, r);
}

#[cfg(test)]
mod tests {
    use super::super::brute;
    use super::super::select::{Fixed, Metric};
    use super::*;

    fn cloud(n: usize, d: usize, grid: u64) -> Vec<f64> {
        let mut s: u64 = 987654321;
        (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % grid) as f64
            })
            .collect()
    }

    fn chain(n: usize) -> Vec<f64> {
        let steps = cloud(n, 3, 7);
        let mut p = [0.0; 3];
        let mut out = Vec::with_capacity(3 * n);
        for s in steps.chunks(3) {
            for a in 0..3 {
                p[a] += s[a] - 3.0;
            }
            out.extend_from_slice(&p);
        }
        out
    }

    fn ids(b: &KBest) -> Vec<u32> {
        b.items().1.to_vec()
    }

    #[test]
    fn knn_matches_brute_force_in_both_orders() {
        for (data, ordered) in [(chain(300), false), (cloud(300, 3, 9), true)] {
            let mut blk = Blocks::<3>::default();
            blk.load(&data);
            assert_eq!(
                blk.idx.iter().enumerate().any(|(s, &i)| s != i as usize),
                ordered
            );
            let (mut a, mut b) = (KBest::default(), KBest::default());
            for qi in (0..300).step_by(7) {
                let q: &[f64; 3] = data[qi * 3..qi * 3 + 3].try_into().unwrap();
                for (k, skip) in [
                    (1, u32::MAX),
                    (16, qi as u32),
                    (299, qi as u32),
                    (400, u32::MAX),
                ] {
                    for seed in [Some(qi as u32), None, Some(5)] {
                        blk.knn(q, k, skip, seed, &mut a);
                        let sk = if skip == u32::MAX { usize::MAX } else { qi };
                        brute::knn(Fixed::<3>, &data, q, k, sk, 0, &mut b);
                        a.finish();
                        b.finish();
                        assert_eq!(ids(&a), ids(&b), "q {qi} k {k} seed {seed:?}");
                        assert_eq!(a.items().0, b.items().0);
                    }
                }
            }
        }
    }

    #[test]
    fn hinted_knn_matches_brute_force_for_any_hint() {
        // chains (input order kept) and a cloud on a coarse grid (kd order, many ties)
        for (data, reordered) in [(chain(300), false), (cloud(300, 3, 5), true)] {
            let mut blk = Blocks::<3>::default();
            blk.load(&data);
            assert_eq!(blk.in_input_order(), !reordered);
            let (mut a, mut b) = (KBest::default(), KBest::default());
            let mut prev: Vec<u32> = Vec::new();
            for qi in 0..300usize {
                let q: &[f64; 3] = data[qi * 3..qi * 3 + 3].try_into().unwrap();
                let far = [299u32, 0, 150, 7, 7, 7];
                let odd = [qi as u32, 999, u32::MAX, 3, 3];
                for (k, skip) in [
                    (16, qi as u32),
                    (1, qi as u32),
                    (40, u32::MAX),
                    (299, qi as u32),
                ] {
                    for hint in [&prev[..], &far[..], &odd[..], &[][..]] {
                        blk.knn_hinted(q, k, skip, hint, &mut a);
                        let sk = if skip == u32::MAX { usize::MAX } else { qi };
                        brute::knn(Fixed::<3>, &data, q, k, sk, 0, &mut b);
                        a.finish();
                        b.finish();
                        assert_eq!(ids(&a), ids(&b), "q {qi} k {k} hint {hint:?}");
                        assert_eq!(a.items().0, b.items().0);
                    }
                }
                // as the driver does: the previous query and its 16 neighbours
                blk.knn_hinted(q, 16, qi as u32, &prev, &mut a);
                a.finish();
                prev.clear();
                prev.push(qi as u32);
                prev.extend_from_slice(a.items().1);
            }
            assert!(blk.seen.iter().all(|&m| m == 0), "hint marks are cleared");
        }
    }

    #[test]
    fn hinted_knn_handles_tiny_groups_and_duplicates() {
        for n in [1usize, 2, 8, 9, 17] {
            // every point twice: equal distances everywhere, ties broken by index
            let mut data = cloud(n, 2, 3);
            data.extend_from_within(..);
            let m = 2 * n;
            let mut blk = Blocks::<2>::default();
            blk.load(&data);
            let (mut a, mut b) = (KBest::default(), KBest::default());
            for qi in 0..m {
                let q: &[f64; 2] = data[qi * 2..qi * 2 + 2].try_into().unwrap();
                let hint: Vec<u32> = (0..m as u32).rev().collect();
                for k in [1, 3, m - 1] {
                    blk.knn_hinted(q, k, qi as u32, &hint, &mut a);
                    brute::knn(Fixed::<2>, &data, q, k, qi, 0, &mut b);
                    a.finish();
                    b.finish();
                    assert_eq!(ids(&a), ids(&b), "n {n} q {qi} k {k}");
                }
            }
        }
    }

    #[test]
    fn within_matches_brute_force_and_small_groups() {
        for n in [0usize, 1, 7, 8, 9, 200] {
            let data = cloud(n, 2, 5);
            let mut blk = Blocks::<2>::default();
            blk.load(&data);
            assert_eq!(blk.len(), n);
            let mut c = Vec::new();
            for qi in 0..n.min(20) {
                let q: &[f64; 2] = data[qi * 2..qi * 2 + 2].try_into().unwrap();
                blk.within(q, 2.0, qi as u32, &mut c);
                let mut got: Vec<u32> = c.iter().map(|x| x.1).collect();
                got.sort_unstable();
                let want: Vec<u32> = (0..n as u32)
                    .filter(|&j| {
                        j as usize != qi && Fixed::<2>.d2(q, &data[j as usize * 2..][..2]) <= 2.0
                    })
                    .collect();
                assert_eq!(got, want, "n {n} q {qi}");
            }
        }
    }

    #[test]
    fn overflowing_distances_still_fill_k() {
        let data = [0.0, 1e300, -1e300];
        let mut blk = Blocks::<1>::default();
        blk.load(&data);
        let mut b = KBest::default();
        blk.knn(&[0.0], 3, u32::MAX, None, &mut b);
        b.finish();
        assert_eq!(ids(&b), vec![0, 1, 2]);
        assert_eq!(b.items().0[1], f64::INFINITY);
    }
}
