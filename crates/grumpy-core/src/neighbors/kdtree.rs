//! A kd-tree for large groups: median splits on the widest axis, points copied into leaf
//! buckets in tree order, and searches that track the per-axis offsets from the query to each
//! cell (as in Arya & Mount) to prune subtrees. The cell bound is recomputed as the sum of
//! the squared offsets in axis order (not updated incrementally), so it is an exact lower
//! bound of every `d²` inside the cell in floating point and pruning never changes a result.
//!
//! ```text
//!   node: split axis/value, children     leaf: bucket [lo, hi) of `pts` (tree order)
//!   pts  [x y z | x y z | ...]  idx [original local index per bucket slot]
//! ```
//! Points equal to the split value may sit on either side; the search bounds stay exact
//! because each side holds only points on its side of (or on) the plane.

use super::select::{KBest, Metric};

/// Points per leaf bucket.
const LEAF: usize = 12;

#[derive(Clone, Copy, Debug)]
struct Node {
    /// Bucket range in tree order.
    lo: u32,
    hi: u32,
    /// Split axis (`u32::MAX` for a leaf).
    axis: u32,
    /// Right child (the left child is the next node).
    right: u32,
    split: f64,
}

/// A kd-tree over `n` points.
#[derive(Debug)]
pub(crate) struct KdTree {
    dims: usize,
    pts: Vec<f64>,
    idx: Vec<u32>,
    nodes: Vec<Node>,
}

impl KdTree {
    /// Build over flat `data` (`n * dims` coordinates).
    pub(crate) fn build(data: &[f64], dims: usize) -> KdTree {
        let n = data.len().checked_div(dims).unwrap_or(0);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        let mut nodes = Vec::with_capacity(2 * n / LEAF + 2);
        if n > 0 {
            build_rec(data, dims, &mut perm, 0, &mut nodes);
        }
        let mut pts = Vec::with_capacity(n * dims);
        for &p in &perm {
            let p = p as usize;
            pts.extend_from_slice(&data[p * dims..p * dims + dims]);
        }
        KdTree {
            dims,
            pts,
            idx: perm,
            nodes,
        }
    }

    /// The `best.k` nearest points to `q` (skipping index `skip`), into `best`.
    pub(crate) fn knn<M: Metric>(
        &self,
        m: M,
        q: &[f64],
        k: usize,
        skip: usize,
        off: &mut [f64],
        best: &mut KBest,
    ) {
        best.reset(k);
        if self.nodes.is_empty() || k == 0 {
            return;
        }
        off.fill(0.0);
        self.knn_rec(m, 0, q, skip as u32, off, best);
    }

    #[allow(clippy::too_many_arguments)]
    fn knn_rec<M: Metric>(
        &self,
        m: M,
        node: usize,
        q: &[f64],
        skip: u32,
        off: &mut [f64],
        best: &mut KBest,
    ) {
        let nd = self.nodes[node];
        if nd.axis == u32::MAX {
            let d = self.dims;
            for s in nd.lo as usize..nd.hi as usize {
                let dd = m.d2(q, &self.pts[s * d..s * d + d]);
                if dd <= best.bound() {
                    let j = self.idx[s];
                    if j != skip && best.accepts(dd, j) {
                        best.push(dd, j);
                    }
                }
            }
            return;
        }
        let a = nd.axis as usize;
        let diff = q[a] - nd.split;
        let (near, far) = if diff < 0.0 {
            (node + 1, nd.right as usize)
        } else {
            (nd.right as usize, node + 1)
        };
        self.knn_rec(m, near, q, skip, off, best);
        let old = off[a];
        off[a] = diff;
        if cell_bound(off) <= best.bound() {
            self.knn_rec(m, far, q, skip, off, best);
        }
        off[a] = old;
    }

    /// Every point within `d² <= r2` of `q` (skipping `skip`), appended to `cand` unsorted.
    pub(crate) fn within<M: Metric>(
        &self,
        m: M,
        q: &[f64],
        r2: f64,
        skip: usize,
        off: &mut [f64],
        cand: &mut Vec<(f64, u32)>,
    ) {
        cand.clear();
        if self.nodes.is_empty() {
            return;
        }
        off.fill(0.0);
        self.within_rec(m, 0, q, r2, skip as u32, off, cand);
    }

    #[allow(clippy::too_many_arguments)]
    fn within_rec<M: Metric>(
        &self,
        m: M,
        node: usize,
        q: &[f64],
        r2: f64,
        skip: u32,
        off: &mut [f64],
        cand: &mut Vec<(f64, u32)>,
    ) {
        let nd = self.nodes[node];
        if nd.axis == u32::MAX {
            let d = self.dims;
            for s in nd.lo as usize..nd.hi as usize {
                let dd = m.d2(q, &self.pts[s * d..s * d + d]);
                let j = self.idx[s];
                if dd <= r2 && j != skip {
                    cand.push((dd, j));
                }
            }
            return;
        }
        let a = nd.axis as usize;
        let diff = q[a] - nd.split;
        let (near, far) = if diff < 0.0 {
            (node + 1, nd.right as usize)
        } else {
            (nd.right as usize, node + 1)
        };
        self.within_rec(m, near, q, r2, skip, off, cand);
        let old = off[a];
        off[a] = diff;
        if cell_bound(off) <= r2 {
            self.within_rec(m, far, q, r2, skip, off, cand);
        }
        off[a] = old;
    }
}

/// Squared distance from the query to a cell given its per-axis offsets, summed in axis order
/// like the metrics so that it never exceeds the `d²` of a point inside.
#[inline]
fn cell_bound(off: &[f64]) -> f64 {
    let mut s = 0.0;
    for &o in off {
        s += o * o;
    }
    s
}

fn build_rec(data: &[f64], d: usize, perm: &mut [u32], base: usize, nodes: &mut Vec<Node>) {
    let n = perm.len();
    let me = nodes.len();
    nodes.push(Node {
        lo: base as u32,
        hi: (base + n) as u32,
        axis: u32::MAX,
        right: 0,
        split: 0.0,
    });
    if n <= LEAF || d == 0 {
        return;
    }
    // Widest axis of the bounding box.
    let (mut axis, mut spread) = (0, -1.0);
    for a in 0..d {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &p in perm.iter() {
            let x = data[p as usize * d + a];
            lo = lo.min(x);
            hi = hi.max(x);
        }
        if hi - lo > spread {
            spread = hi - lo;
            axis = a;
        }
    }
    if spread <= 0.0 {
        // all points identical: keep one (large) bucket, nothing to split on
        return;
    }
    let mid = n / 2;
    perm.select_nth_unstable_by(mid, |&x, &y| {
        data[x as usize * d + axis].total_cmp(&data[y as usize * d + axis])
    });
    let split = data[perm[mid] as usize * d + axis];
    let (l, r) = perm.split_at_mut(mid);
    build_rec(data, d, l, base, nodes);
    let right = nodes.len();
    build_rec(data, d, r, base + mid, nodes);
    nodes[me].axis = axis as u32;
    nodes[me].right = right as u32;
    nodes[me].split = split;
}

#[cfg(test)]
mod tests {
    use super::super::brute;
    use super::super::select::{Dyn, Fixed};
    use super::*;

    fn cloud(n: usize, d: usize) -> Vec<f64> {
        // deterministic pseudo-random, with duplicates and ties on a coarse grid
        let mut s: u64 = 12345;
        (0..n * d)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % 17) as f64
            })
            .collect()
    }

    #[test]
    fn knn_matches_brute_force() {
        for d in [1usize, 3, 5] {
            let data = cloud(700, d);
            let t = KdTree::build(&data, d);
            let mut off = vec![0.0; d];
            let (mut a, mut b) = (KBest::default(), KBest::default());
            for qi in (0..700).step_by(37) {
                let q = &data[qi * d..qi * d + d];
                for (k, skip) in [(1, usize::MAX), (16, qi), (699, qi), (900, usize::MAX)] {
                    t.knn(Dyn(d), q, k, skip, &mut off, &mut a);
                    brute::knn(Dyn(d), &data, q, k, skip, qi, &mut b);
                    a.finish();
                    b.finish();
                    assert_eq!(a.items(), b.items(), "d {d} q {qi} k {k}");
                }
            }
        }
    }

    #[test]
    fn within_matches_brute_force() {
        let data = cloud(500, 3);
        let t = KdTree::build(&data, 3);
        let mut off = vec![0.0; 3];
        let mut c = Vec::new();
        for qi in (0..500).step_by(41) {
            let q = &data[qi * 3..qi * 3 + 3];
            t.within(Fixed::<3>, q, 9.0, qi, &mut off, &mut c);
            let mut got: Vec<u32> = c.iter().map(|x| x.1).collect();
            got.sort_unstable();
            let want: Vec<u32> = (0..500u32)
                .filter(|&j| {
                    j as usize != qi && Fixed::<3>.d2(q, &data[j as usize * 3..][..3]) <= 9.0
                })
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn identical_points_and_empty_tree() {
        let data = vec![1.0; 300];
        let t = KdTree::build(&data, 3);
        let mut off = vec![0.0; 3];
        let mut b = KBest::default();
        t.knn(Fixed::<3>, &[1.0, 1.0, 1.0], 4, 0, &mut off, &mut b);
        assert_eq!(b.items().1, &[1, 2, 3, 4]);
        let e = KdTree::build(&[], 3);
        e.knn(Fixed::<3>, &[0.0; 3], 4, usize::MAX, &mut off, &mut b);
        assert_eq!(b.len(), 0);
    }
}
