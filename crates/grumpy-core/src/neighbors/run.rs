//! The parallel driver: picks an algorithm per group, splits the queries of every group into
//! tasks, and runs the tasks on the current Rayon pool.
//!
//! For `k` searches every query's neighbour count is known up front
//! (`min(k, candidates)`), so the output is allocated once and each task writes its own
//! disjoint slice. Radius searches collect per task and concatenate.

use super::brute::{self, Soa3};
use super::input::Points;
use super::kdtree::KdTree;
use super::select::{finish_radius, radius_bound, Dyn, Fixed, KBest, Metric};
use super::Mode;
use rayon::prelude::*;

/// Groups with at most this many data points are searched by brute force.
const BRUTE_MAX: usize = 640;
/// Target work (distance evaluations) per brute-force task.
const BRUTE_WORK: usize = 1 << 16;
/// Queries per task in a kd-tree group.
const TREE_CHUNK: usize = 512;

/// Flat search results in query order.
pub(crate) struct Found {
    pub(crate) offsets: Vec<i64>,
    pub(crate) index: Vec<i64>,
    pub(crate) dist: Vec<f64>,
}

#[derive(Clone, Copy, Debug)]
struct Task {
    group: usize,
    q0: usize,
    q1: usize,
}

/// Run the search with the metric specialised for `dims`.
pub(crate) fn search(q: &Points, d: &Points, dims: usize, mode: Mode, excl: bool) -> Found {
    match dims {
        1 => search_m(Fixed::<1>, q, d, mode, excl),
        2 => search_m(Fixed::<2>, q, d, mode, excl),
        3 => search_m(Fixed::<3>, q, d, mode, excl),
        4 => search_m(Fixed::<4>, q, d, mode, excl),
        n => search_m(Dyn(n), q, d, mode, excl),
    }
}

struct Ctx<'a, M> {
    m: M,
    q: &'a Points,
    d: &'a Points,
    trees: Vec<Option<KdTree>>,
    excl: bool,
}

impl<M: Metric> Ctx<'_, M> {
    fn data(&self, g: usize) -> (&[f64], usize, usize) {
        let dm = self.m.dims();
        let (a, b) = (self.d.groups[g] as usize, self.d.groups[g + 1] as usize);
        (&self.d.coords[a * dm..b * dm], a, b - a)
    }
    fn query(&self, qi: usize) -> &[f64] {
        let dm = self.m.dims();
        &self.q.coords[qi * dm..qi * dm + dm]
    }
    /// Local self index to skip for global query `qi` of group `g`.
    fn skip(&self, g: usize, qi: usize) -> usize {
        if self.excl {
            qi - self.q.groups[g] as usize
        } else {
            usize::MAX
        }
    }
    /// Neighbours returned per query of group `g` in a `k` search.
    fn count(&self, g: usize, k: usize) -> usize {
        let n = (self.d.groups[g + 1] - self.d.groups[g]) as usize;
        let cand = if self.excl { n.saturating_sub(1) } else { n };
        k.min(cand)
    }
}

fn search_m<M: Metric>(m: M, q: &Points, d: &Points, mode: Mode, excl: bool) -> Found {
    let g = q.n_groups();
    let nd = |g: usize| (d.groups[g + 1] - d.groups[g]) as usize;
    let nq = |g: usize| (q.groups[g + 1] - q.groups[g]) as usize;
    let use_tree = |g: usize| nd(g) > BRUTE_MAX && nq(g) > 8 && m.dims() > 0;
    let trees: Vec<Option<KdTree>> = (0..g)
        .into_par_iter()
        .map(|i| {
            use_tree(i).then(|| {
                let dm = m.dims();
                let (a, b) = (d.groups[i] as usize, d.groups[i + 1] as usize);
                KdTree::build(&d.coords[a * dm..b * dm], dm)
            })
        })
        .collect();
    let mut tasks = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        let (q0, q1) = (q.groups[i] as usize, q.groups[i + 1] as usize);
        let chunk = if tree.is_some() {
            TREE_CHUNK
        } else {
            (BRUTE_WORK / nd(i).max(1)).max(16)
        };
        let mut s = q0;
        while s < q1 {
            let e = (s + chunk).min(q1);
            tasks.push(Task {
                group: i,
                q0: s,
                q1: e,
            });
            s = e;
        }
    }
    let ctx = Ctx {
        m,
        q,
        d,
        trees,
        excl,
    };
    match mode {
        Mode::Knn(k) => knn_all(&ctx, &tasks, k),
        Mode::Radius(r) => radius_all(&ctx, &tasks, r),
    }
}

fn knn_all<M: Metric>(ctx: &Ctx<'_, M>, tasks: &[Task], k: usize) -> Found {
    let nq = ctx.q.n_points();
    let mut offsets = Vec::with_capacity(nq + 1);
    offsets.push(0i64);
    let mut total = 0i64;
    for gi in 0..ctx.q.n_groups() {
        let c = ctx.count(gi, k) as i64;
        for _ in ctx.q.groups[gi]..ctx.q.groups[gi + 1] {
            total += c;
            offsets.push(total);
        }
    }
    let mut index = vec![0i64; total as usize];
    let mut dist = vec![0f64; total as usize];
    // Split the outputs into per-task slices (tasks are in query order).
    let mut parts = Vec::with_capacity(tasks.len());
    let (mut ri, mut rd) = (index.as_mut_slice(), dist.as_mut_slice());
    for t in tasks {
        let n = (offsets[t.q1] - offsets[t.q0]) as usize;
        let (a, b) = std::mem::take(&mut ri).split_at_mut(n);
        let (c, e) = std::mem::take(&mut rd).split_at_mut(n);
        parts.push((t, a, c));
        ri = b;
        rd = e;
    }
    parts.into_par_iter().for_each_init(
        || (KBest::default(), vec![0.0; ctx.m.dims()], Soa3::default()),
        |(best, off, soa), (t, idx, dst)| {
            let g = t.group;
            let c = ctx.count(g, k);
            let (data, _, n) = ctx.data(g);
            let soa3 = ctx.m.dims() == 3 && ctx.trees[g].is_none();
            if soa3 {
                soa.load(data);
            }
            let qbase = ctx.q.groups[g] as usize;
            let nqg = (ctx.q.groups[g + 1] as usize - qbase).max(1);
            for (s, qi) in (t.q0..t.q1).enumerate() {
                let skip = ctx.skip(g, qi);
                if ctx.m.dims() == 0 {
                    brute::knn_zero_dims(n, c, skip, best);
                } else if let Some(tree) = &ctx.trees[g] {
                    tree.knn(ctx.m, ctx.query(qi), c, skip, off, best);
                } else {
                    let hint = if ctx.excl {
                        qi - qbase
                    } else {
                        (qi - qbase) * n / nqg
                    };
                    if soa3 {
                        soa.knn(ctx.query(qi), c, skip, hint, best);
                    } else {
                        brute::knn(ctx.m, data, ctx.query(qi), c, skip, hint, best);
                    }
                }
                best.write(&mut idx[s * c..s * c + c], &mut dst[s * c..s * c + c]);
            }
        },
    );
    Found {
        offsets,
        index,
        dist,
    }
}

fn radius_all<M: Metric>(ctx: &Ctx<'_, M>, tasks: &[Task], r: f64) -> Found {
    let r2 = radius_bound(r);
    let parts: Vec<(Vec<i64>, Vec<i64>, Vec<f64>)> = tasks
        .par_iter()
        .map_init(
            || (Vec::new(), vec![0.0; ctx.m.dims()]),
            |(cand, off), t| {
                let g = t.group;
                let (data, _, n) = ctx.data(g);
                let mut counts = Vec::with_capacity(t.q1 - t.q0);
                let (mut idx, mut dist) = (Vec::new(), Vec::new());
                for qi in t.q0..t.q1 {
                    let skip = ctx.skip(g, qi);
                    let c = if let Some(tree) = &ctx.trees[g] {
                        tree.within(ctx.m, ctx.query(qi), r2, skip, off, cand);
                        finish_radius(cand, r, &mut idx, &mut dist)
                    } else {
                        brute::radius(
                            ctx.m,
                            data,
                            n,
                            ctx.query(qi),
                            r,
                            r2,
                            skip,
                            cand,
                            &mut idx,
                            &mut dist,
                        )
                    };
                    counts.push(c as i64);
                }
                (counts, idx, dist)
            },
        )
        .collect();
    let total: usize = parts.iter().map(|p| p.1.len()).sum();
    let mut offsets = Vec::with_capacity(ctx.q.n_points() + 1);
    let (mut index, mut dist) = (Vec::with_capacity(total), Vec::with_capacity(total));
    offsets.push(0i64);
    let mut acc = 0i64;
    for (counts, i, d) in parts {
        for c in counts {
            acc += c;
            offsets.push(acc);
        }
        index.extend_from_slice(&i);
        dist.extend_from_slice(&d);
    }
    Found {
        offsets,
        index,
        dist,
    }
}
