//! The parallel driver: picks a kernel per group, splits the queries of every group into
//! tasks, and runs the tasks on the current Rayon pool, writing straight into the final
//! output buffers ([`super::sink`]).
//!
//! ```text
//!   group size      ≤ 4 coordinates           more coordinates
//!   ≤ BLOCK_MAX     blocks (per task)         brute force (≤ BRUTE_MAX)
//!   larger          kd-tree (built once, shared by the group's tasks)
//! ```
//! For `k` searches every query's neighbour count is known up front (`min(k, candidates)`),
//! so the output is allocated once and each task writes its own disjoint slab. Radius
//! searches collect per task, then write the final buffers in parallel.

use super::blocks::Blocks;
use super::brute;
use super::input::Points;
use super::kdtree::KdTree;
use super::select::{finish_radius, radius_bound, Dyn, Fixed, KBest, Metric};
use super::sink::{too_big, Form, Out, Slab};
use super::Mode;
use crate::error::Result;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Groups with more data points than this use a kd-tree (when they have enough queries).
const BLOCK_MAX: usize = 4096;
/// The same for points with more than 4 coordinates (brute force below).
const BRUTE_MAX: usize = 640;
/// Target work (distance evaluations) per brute-force task.
const BRUTE_WORK: usize = 1 << 16;
/// Queries per task in a kd-tree group.
const TREE_CHUNK: usize = 512;
/// Minimum queries per task in a blocks group (loading the group is amortised over them).
const BLOCK_CHUNK: usize = 512;

/// What a search computes and writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    pub(crate) mode: Mode,
    /// Drop pairs whose query and data index (within the group) are equal.
    pub(crate) excl: bool,
    /// Query point `i` is data point `i` of its group (a seed for the search).
    pub(crate) same: bool,
    pub(crate) form: Form,
    pub(crate) with_dist: bool,
    /// The most edges the result may have (it must fit in memory).
    pub(crate) budget: usize,
}

/// Search results: neighbour offsets per query point and the filled output buffers.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) offsets: Vec<i64>,
    pub(crate) out: Out,
}

/// The kernel of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Points without coordinates: every distance is 0.
    Zero,
    Blocks,
    Brute,
    Tree,
}

#[derive(Clone, Copy, Debug)]
struct Task {
    group: usize,
    q0: usize,
    q1: usize,
}

/// Run the search with the kernels specialised for `dims` coordinates.
pub(crate) fn search(q: &Points, d: &Points, dims: usize, spec: Spec) -> Result<Found> {
    match dims {
        1 => Ctx::<_, 1>::new(Fixed::<1>, q, d, spec).run(),
        2 => Ctx::<_, 2>::new(Fixed::<2>, q, d, spec).run(),
        3 => Ctx::<_, 3>::new(Fixed::<3>, q, d, spec).run(),
        4 => Ctx::<_, 4>::new(Fixed::<4>, q, d, spec).run(),
        n => Ctx::<_, 0>::new(Dyn(n), q, d, spec).run(),
    }
}

/// A `u32` skip index as `usize` (`u32::MAX`, none, maps to `usize::MAX`).
fn wide(skip: u32) -> usize {
    if skip == u32::MAX {
        usize::MAX
    } else {
        skip as usize
    }
}

/// Everything a task needs; `D` is the blocks dimension (0: no blocks kernel).
struct Ctx<'a, M, const D: usize> {
    m: M,
    q: &'a Points,
    d: &'a Points,
    spec: Spec,
    kinds: Vec<Kind>,
    trees: Vec<Option<KdTree>>,
    tasks: Vec<Task>,
}

/// Per-thread scratch.
struct Scratch<const D: usize> {
    best: KBest,
    blocks: Blocks<D>,
    off: Vec<f64>,
    cand: Vec<(f64, u32)>,
    /// The previous query of the task (local index) and its neighbours: the next query's
    /// hint along a chain (empty: none).
    hint: Vec<u32>,
}

impl<'a, M: Metric, const D: usize> Ctx<'a, M, D> {
    fn new(m: M, q: &'a Points, d: &'a Points, spec: Spec) -> Self {
        let g = q.n_groups();
        let nd = |g: usize| (d.groups[g + 1] - d.groups[g]) as usize;
        let nq = |g: usize| (q.groups[g + 1] - q.groups[g]) as usize;
        let kinds: Vec<Kind> = (0..g)
            .map(|i| {
                let big = nq(i) > 8 && nd(i) > if D > 0 { BLOCK_MAX } else { BRUTE_MAX };
                match () {
                    _ if m.dims() == 0 => Kind::Zero,
                    _ if big => Kind::Tree,
                    _ if D > 0 => Kind::Blocks,
                    _ => Kind::Brute,
                }
            })
            .collect();
        let trees: Vec<Option<KdTree>> = crate::pool::map_init(
            (0..g).collect(),
            || (),
            |_, i: usize| {
                (kinds[i] == Kind::Tree).then(|| {
                    let dm = m.dims();
                    let (a, b) = (d.groups[i] as usize, d.groups[i + 1] as usize);
                    KdTree::build(&d.coords[a * dm..b * dm], dm)
                })
            },
        );
        let mut tasks = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            let (q0, q1) = (q.groups[i] as usize, q.groups[i + 1] as usize);
            let chunk = match kind {
                Kind::Tree => TREE_CHUNK,
                Kind::Blocks => BLOCK_CHUNK.max(nd(i) / 2),
                Kind::Brute => (BRUTE_WORK / nd(i).max(1)).max(16),
                Kind::Zero => 4096,
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
        Ctx {
            m,
            q,
            d,
            spec,
            kinds,
            trees,
            tasks,
        }
    }

    fn run(&self) -> Result<Found> {
        match self.spec.mode {
            Mode::Knn(k) => self.knn_all(k),
            Mode::Radius(r) => self.radius_all(r),
        }
    }

    fn data(&self, g: usize) -> &[f64] {
        let dm = self.m.dims();
        let (a, b) = (self.d.groups[g] as usize, self.d.groups[g + 1] as usize);
        &self.d.coords[a * dm..b * dm]
    }

    fn query(&self, qi: usize) -> &[f64] {
        let dm = self.m.dims();
        &self.q.coords[qi * dm..qi * dm + dm]
    }

    /// Number of data points of group `g`.
    fn nd(&self, g: usize) -> usize {
        (self.d.groups[g + 1] - self.d.groups[g]) as usize
    }

    /// Local index of global query `qi` of group `g`.
    fn local(&self, g: usize, qi: usize) -> usize {
        qi - self.q.groups[g] as usize
    }

    /// Local data index to skip for global query `qi` of group `g` (`u32::MAX`: none).
    fn skip(&self, g: usize, qi: usize) -> u32 {
        if self.spec.excl {
            self.local(g, qi) as u32
        } else {
            u32::MAX
        }
    }

    /// Neighbours returned per query of group `g` in a `k` search.
    fn count(&self, g: usize, k: usize) -> usize {
        let n = self.nd(g);
        let cand = if self.spec.excl {
            n.saturating_sub(1)
        } else {
            n
        };
        k.min(cand)
    }

    fn scratch(&self) -> Scratch<D> {
        Scratch {
            best: KBest::default(),
            blocks: Blocks::default(),
            off: vec![0.0; self.m.dims()],
            cand: Vec::new(),
            hint: Vec::new(),
        }
    }

    /// Prepare the per-task state of task `t`'s group.
    fn load(&self, t: &Task, s: &mut Scratch<D>) {
        if self.kinds[t.group] == Kind::Blocks {
            s.blocks.load(self.data(t.group));
        }
    }

    /// The `c` nearest neighbours of global query `qi` into `s.best` (sorted).
    #[inline(always)]
    fn knn_one(&self, t: &Task, qi: usize, c: usize, s: &mut Scratch<D>) {
        let g = t.group;
        let skip = self.skip(g, qi);
        let q = self.query(qi);
        match self.kinds[g] {
            Kind::Zero => brute::knn_zero_dims(self.nd(g), c, wide(skip), &mut s.best),
            Kind::Blocks => {
                let qa: &[f64; D] = q.try_into().expect("D coordinates");
                let seed = (self.spec.same || self.spec.excl).then(|| self.local(g, qi) as u32);
                if seed.is_some() && !s.hint.is_empty() {
                    s.blocks.knn_hinted(qa, c, skip, &s.hint, &mut s.best);
                } else {
                    s.blocks.knn(qa, c, skip, seed, &mut s.best);
                }
            }
            Kind::Brute => {
                let nq = (self.q.groups[g + 1] - self.q.groups[g]) as usize;
                let local = self.local(g, qi);
                let hint = if self.spec.same || self.spec.excl {
                    local
                } else {
                    local * self.nd(g) / nq.max(1)
                };
                brute::knn(self.m, self.data(g), q, c, wide(skip), hint, &mut s.best);
            }
            Kind::Tree => {
                let tree = self.trees[g].as_ref().expect("tree built");
                tree.knn(self.m, q, c, wide(skip), &mut s.off, &mut s.best);
            }
        }
        s.best.finish();
    }

    /// Every neighbour of global query `qi` with `d² <= r2` into `s.cand` (unsorted).
    fn within_one(&self, t: &Task, qi: usize, r2: f64, s: &mut Scratch<D>) {
        let g = t.group;
        let skip = self.skip(g, qi);
        let q = self.query(qi);
        match self.kinds[g] {
            Kind::Zero | Kind::Brute => {
                brute::radius(
                    self.m,
                    self.data(g),
                    self.nd(g),
                    q,
                    r2,
                    wide(skip),
                    &mut s.cand,
                );
            }
            Kind::Blocks => {
                let qa: &[f64; D] = q.try_into().expect("D coordinates");
                s.blocks.within(qa, r2, skip, &mut s.cand);
            }
            Kind::Tree => {
                let tree = self.trees[g].as_ref().expect("tree built");
                tree.within(self.m, q, r2, wide(skip), &mut s.off, &mut s.cand);
            }
        }
    }

    /// Write one query's neighbours (`d2s`, `js`) at edge position `e` of its task's slab.
    #[inline]
    fn put(&self, slab: &mut Slab<'_>, e: usize, g: usize, qi: usize, d2s: &[f64], js: &[u32]) {
        let ql = self.local(g, qi) as i64;
        slab.put(e, ql, qi as i64, self.d.groups[g], d2s, js);
    }

    fn knn_all(&self, k: usize) -> Result<Found> {
        let nq = self.q.n_points();
        let mut offsets = Vec::with_capacity(nq + 1);
        offsets.push(0i64);
        let mut total = 0i64;
        for g in 0..self.q.n_groups() {
            let c = self.count(g, k) as i64;
            for _ in self.q.groups[g]..self.q.groups[g + 1] {
                total += c;
                offsets.push(total);
            }
        }
        if total as usize > self.spec.budget {
            return Err(too_big(total as usize, self.spec.form, self.spec.with_dist));
        }
        let mut out = Out::new(self.spec.form, total as usize, self.spec.with_dist)?;
        let cuts = self.cuts(&offsets);
        let slabs = out.slabs(&cuts);
        crate::pool::for_each_init(
            self.tasks.iter().zip(slabs).collect(),
            || self.scratch(),
            |s, (t, mut slab)| self.knn_task(t, k, &offsets, s, &mut slab),
        );
        Ok(Found { offsets, out })
    }

    /// One kNN task; the blocks kernel runs in a copy compiled for AVX2 where the CPU has it
    /// (plain arithmetic only: no FMA, so distances are bit-identical to the other kernels).
    fn knn_task(
        &self,
        t: &Task,
        k: usize,
        offsets: &[i64],
        s: &mut Scratch<D>,
        slab: &mut Slab<'_>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.kinds[t.group] == Kind::Blocks && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { self.knn_task_avx2(t, k, offsets, s, slab) };
            return;
        }
        self.knn_task_body(t, k, offsets, s, slab);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn knn_task_avx2(
        &self,
        t: &Task,
        k: usize,
        offsets: &[i64],
        s: &mut Scratch<D>,
        slab: &mut Slab<'_>,
    ) {
        self.knn_task_body(t, k, offsets, s, slab);
    }

    #[inline(always)]
    fn knn_task_body(
        &self,
        t: &Task,
        k: usize,
        offsets: &[i64],
        s: &mut Scratch<D>,
        slab: &mut Slab<'_>,
    ) {
        self.load(t, s);
        let c = self.count(t.group, k);
        let base = offsets[t.q0] as usize;
        // Query i is data point i and the points are in chain order: hint each query with
        // the previous one and its neighbours (see `Blocks::knn_hinted`).
        let chain = self.kinds[t.group] == Kind::Blocks
            && (self.spec.same || self.spec.excl)
            && s.blocks.in_input_order();
        s.hint.clear();
        #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
        for qi in t.q0..t.q1 {
            self.knn_one(t, qi, c, s);
            let (d2s, js) = s.best.items();
            self.put(slab, offsets[qi] as usize - base, t.group, qi, d2s, js);
            if chain {
                s.hint.clear();
                s.hint.push(self.local(t.group, qi) as u32);
                s.hint.extend_from_slice(js);
            }
        }
    }

    /// Edge offset of the start of every task, then the total.
    fn cuts(&self, offsets: &[i64]) -> Vec<usize> {
        let mut cuts: Vec<usize> = self.tasks.iter().map(|t| offsets[t.q0] as usize).collect();
        cuts.push(offsets.last().copied().unwrap_or(0) as usize);
        cuts
    }

    fn radius_all(&self, r: f64) -> Result<Found> {
        let r2 = radius_bound(r);
        // Every pair of a group is the worst case; when even that fits next to the per-task
        // lists, search once and collect, else count first (no memory) and then write.
        let worst = (0..self.q.n_groups()).fold(0usize, |acc, g| {
            let nq = (self.q.groups[g + 1] - self.q.groups[g]) as usize;
            acc.saturating_add(nq.saturating_mul(self.nd(g)))
        });
        if worst <= self.spec.budget / 2 {
            self.radius_collect(r, r2)
        } else {
            self.radius_two_pass(r, r2)
        }
    }

    /// Radius search, one pass: per-task lists, then copied into the final buffers.
    fn radius_collect(&self, r: f64, r2: f64) -> Result<Found> {
        // per task: neighbour count per query, then d² and local index per edge
        let parts: Vec<(Vec<u32>, Vec<f64>, Vec<u32>)> = crate::pool::map_init(
            self.tasks.iter().collect(),
            || self.scratch(),
            |s, t| {
                self.load(t, s);
                let mut counts = Vec::with_capacity(t.q1 - t.q0);
                let (mut d2s, mut js) = (Vec::new(), Vec::new());
                for qi in t.q0..t.q1 {
                    self.within_one(t, qi, r2, s);
                    let c = finish_radius(&mut s.cand, r, &mut d2s, &mut js);
                    counts.push(c as u32);
                }
                (counts, d2s, js)
            },
        );
        let counts = parts.iter().flat_map(|p| p.0.iter().copied());
        let (offsets, mut out) = self.allocate(counts)?;
        let cuts = self.cuts(&offsets);
        let slabs = out.slabs(&cuts);
        crate::pool::for_each_init(
            self.tasks.iter().zip(parts).zip(slabs).collect(),
            || (),
            |_, ((t, (_, d2s, js)), mut slab)| {
                let base = offsets[t.q0] as usize;
                #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
                for qi in t.q0..t.q1 {
                    let (a, b) = (offsets[qi] as usize - base, offsets[qi + 1] as usize - base);
                    self.put(&mut slab, a, t.group, qi, &d2s[a..b], &js[a..b]);
                }
            },
        );
        Ok(Found { offsets, out })
    }

    /// Radius search for possibly huge results: count every query's neighbours (stopping
    /// with an error once the total cannot fit), allocate, then search again writing directly.
    fn radius_two_pass(&self, r: f64, r2: f64) -> Result<Found> {
        let found = AtomicUsize::new(0);
        let over = || {
            too_big(
                self.spec.budget.saturating_add(1),
                self.spec.form,
                self.spec.with_dist,
            )
        };
        let counts: Vec<Vec<u32>> = crate::pool::map_init(
            self.tasks.iter().collect(),
            || (self.scratch(), Vec::new(), Vec::new()),
            |(s, d2s, js), t| {
                self.load(t, s);
                let mut counts = Vec::with_capacity(t.q1 - t.q0);
                for qi in t.q0..t.q1 {
                    self.within_one(t, qi, r2, s);
                    d2s.clear();
                    js.clear();
                    let c = finish_radius(&mut s.cand, r, d2s, js);
                    if found.fetch_add(c, Ordering::Relaxed) + c > self.spec.budget {
                        return Err(over());
                    }
                    counts.push(c as u32);
                }
                Ok(counts)
            },
        )
        .into_iter()
        .collect::<Result<_>>()?;
        let (offsets, mut out) = self.allocate(counts.iter().flatten().copied())?;
        let cuts = self.cuts(&offsets);
        let slabs = out.slabs(&cuts);
        crate::pool::for_each_init(
            self.tasks.iter().zip(slabs).collect(),
            || (self.scratch(), Vec::new(), Vec::new()),
            |(s, d2s, js), (t, mut slab)| {
                self.load(t, s);
                let base = offsets[t.q0] as usize;
                #[allow(clippy::needless_range_loop)] // several arrays indexed in lockstep
                for qi in t.q0..t.q1 {
                    self.within_one(t, qi, r2, s);
                    d2s.clear();
                    js.clear();
                    finish_radius(&mut s.cand, r, d2s, js);
                    self.put(&mut slab, offsets[qi] as usize - base, t.group, qi, d2s, js);
                }
            },
        );
        Ok(Found { offsets, out })
    }

    /// Offsets from per-query counts, and the output buffers for them.
    fn allocate(&self, counts: impl Iterator<Item = u32>) -> Result<(Vec<i64>, Out)> {
        let mut offsets = Vec::with_capacity(self.q.n_points() + 1);
        offsets.push(0i64);
        let mut acc = 0i64;
        for c in counts {
            acc += i64::from(c);
            offsets.push(acc);
        }
        let edges = acc as usize;
        if edges > self.spec.budget {
            return Err(too_big(edges, self.spec.form, self.spec.with_dist));
        }
        let out = Out::new(self.spec.form, edges, self.spec.with_dist)?;
        Ok((offsets, out))
    }
}
