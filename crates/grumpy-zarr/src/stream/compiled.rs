//! [`PlanRun`]: a compiled plan over a stream's batches, on `cpu` threads, results in batch
//! order (the Rust scheduler of `st.apply`).
//!
//! ```text
//!   jobs:     [ 0 1 2 ][ 3 4 5 ][ 6 7 8 ] …   runs of consecutive small batches
//!   a job:    read rows of 0..3 at once ─► plan ─► slice the output at the batch bounds
//!   results:  0, 1, 2, 3, …                   one per batch, in order
//! ```
//!
//! Each job runs on one thread with its kernels serial ([`grumpy_core::pool::serial`]): the
//! threads are parallel over batches already. When the plan is row-local
//! ([`Plan::row_local`]), the batches are arrays whose rows follow each other in the source, and
//! a batch is small (under [`RUN_BYTES`] on average), a job reads and runs several batches at
//! once and slices the output back into batches: what a batch costs besides its data (reading
//! it from the cache, validating and running the plan, handing the result over) is then paid
//! once per job. On the benchmark's 197 KB batches that was a third of a compiled epoch. A run
//! whose plan fails or does not apply is redone batch by batch, so every error and fallback
//! belongs to its own batch, as without runs. Each slice is compacted (offsets from 0, no data
//! outside the batch), so a result looks exactly as the batch's own would; a run whose output
//! has nulls (or a union) could not promise that (a slice without nulls would keep a validity),
//! so it and every later job of the stream go batch by batch.

use super::{Prefetcher, Stream};
use crate::group::Data;
use grumpy_core::layout::Layout;
use grumpy_core::plan::{FrameRef, Outcome, Plan, Value};
use grumpy_core::{Array, Result};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Batches whose average size is under this many bytes run together, up to about this many
/// bytes per job (a run stays within the L2 cache of the core that runs it).
pub const RUN_BYTES: usize = 768 << 10;
/// At most this many batches per job.
pub const MAX_RUN: usize = 8;

/// Results of a compiled plan over a stream, one per batch, in batch order (see the module
/// docs).
///
/// ```
/// use std::sync::Arc;
/// use grumpy_core::{plan::{Outcome, Plan, Value}, Array};
/// use grumpy_zarr::stream::{MemorySource, PlanRun, Stream, StreamOptions};
/// use grumpy_zarr::Data;
/// let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0], vec![], vec![4.0]].into(), None).unwrap();
/// let src = MemorySource::new(Data::Array(a), 1, Vec::new());
/// let st = Stream::new(Arc::new(src), StreamOptions { batch_size: 1, ..Default::default() }).unwrap();
/// let plan = Plan::from_json(r#"{"ops": [
///     {"op": "reduce", "kind": "sum", "src": 0, "dim": 1}], "output": 1}"#).unwrap();
/// let sums: Vec<_> = PlanRun::new(st, Arc::new(plan), 2, 8, None)
///     .map(|r| match r.unwrap() {
///         Outcome::Done(Value::Array(s), _) => s.to_item(),
///         _ => unreachable!(),
///     })
///     .collect();
/// assert_eq!(sums, [vec![3.0].into(), vec![3.0].into(), vec![0.0].into(), vec![4.0].into()]);
/// ```
pub struct PlanRun {
    inner: Prefetcher<Vec<Result<Outcome>>>,
    /// Results of the current job not yet handed out.
    pending: VecDeque<Result<Outcome>>,
    /// Batches per job.
    runs: Arc<Vec<(usize, usize)>>,
    /// Jobs taken.
    taken: usize,
    /// Results not yet handed out.
    left: usize,
}

impl PlanRun {
    /// Run `plan` over the batches of `st` on `cpu` threads, at most about `window` batches
    /// in flight and, with `max_bytes`, results waiting to be taken under that many bytes.
    pub fn new(
        st: Stream<Data>,
        plan: Arc<Plan>,
        cpu: usize,
        window: usize,
        max_bytes: Option<usize>,
    ) -> PlanRun {
        let n = st.len();
        let runs = Arc::new(runs(&st, &plan, cpu, window.max(1)));
        let per = runs.first().map_or(1, |r| r.1);
        let jobs = Arc::clone(&runs);
        // cleared once a run's output has nulls: the rest go batch by batch
        let together = AtomicBool::new(true);
        let job = move |j: usize| {
            let (first, count) = jobs[j];
            Ok(grumpy_core::pool::serial(|| {
                run_batches(&st, &plan, first, count, &together)
            }))
        };
        let weigh = |v: &Vec<Result<Outcome>>| {
            v.iter()
                .map(|r| r.as_ref().map_or(0, outcome_bytes))
                .sum::<usize>()
        };
        // The loop over the results does little per result: it counts as one of the threads
        // (see `Prefetcher::with_reserve`).
        // runs of `per` ≤ `window` batches: at most `window` batches in flight, as without runs
        let window = (window / per).max(1);
        PlanRun {
            inner: Prefetcher::with_reserve(runs.len(), cpu, window, max_bytes, weigh, job),
            pending: VecDeque::new(),
            runs,
            taken: 0,
            left: n,
        }
    }

    /// Results not yet handed out.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Batches per job, in order (1 each when batches do not run together).
    pub fn runs(&self) -> &[(usize, usize)] {
        &self.runs
    }
}

impl Iterator for PlanRun {
    type Item = Result<Outcome>;

    fn next(&mut self) -> Option<Result<Outcome>> {
        if self.pending.is_empty() {
            let job = self.inner.next()?;
            let count = self.runs.get(self.taken).map_or(1, |r| r.1);
            self.taken += 1;
            match job {
                Ok(results) => self.pending.extend(results),
                Err(e) => {
                    // (the job itself failed, e.g. a panic: its batches end with the error)
                    self.left = self.left.saturating_sub(count - 1);
                    self.pending.push_back(Err(e));
                }
            }
        }
        let r = self.pending.pop_front()?;
        self.left = self.left.saturating_sub(1);
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The jobs: `(first batch, batch count)`, runs of several batches (at most `window`) where
/// they may run together (see the module docs), else one batch each.
fn runs(st: &Stream<Data>, plan: &Plan, cpu: usize, window: usize) -> Vec<(usize, usize)> {
    let n = st.len();
    let src = st.source();
    let rows: usize = (0..n).map(|i| st.row_range(i).len()).sum();
    let per = per_run(n, src.len(), src.nbytes(), rows / n.max(1), cpu);
    let arrays = src.level_names().is_empty() && plan.row_local(src.nesting() + 1);
    let per = if arrays { per.min(window) } else { 1 };
    (0..n)
        .step_by(per)
        .map(|first| (first, per.min(n - first)))
        .collect()
}

/// Batches per job: as many batches of `batch_rows` rows as fit in [`RUN_BYTES`] at the
/// source's average row size (at most [`MAX_RUN`]), while every thread still gets four jobs or
/// more.
fn per_run(
    batches: usize,
    rows: usize,
    bytes: Option<usize>,
    batch_rows: usize,
    cpu: usize,
) -> usize {
    let Some(bytes) = bytes.filter(|_| rows > 0) else {
        return 1;
    };
    let batch_bytes = (bytes as f64 / rows as f64 * batch_rows as f64).max(1.0);
    let fit = (RUN_BYTES as f64 / batch_bytes) as usize;
    let spread = batches / (4 * cpu.max(1));
    fit.min(spread).clamp(1, MAX_RUN)
}

/// Run the plan on batches `first..first + count`: together when they form one run of rows
/// and the output slices back into them, else one by one.
fn run_batches(
    st: &Stream<Data>,
    plan: &Plan,
    first: usize,
    count: usize,
    together: &AtomicBool,
) -> Vec<Result<Outcome>> {
    if count > 1 {
        if let Some(out) = run_together(st, plan, first, count, together) {
            return out;
        }
    }
    (first..first + count)
        .map(|i| run_one(st, plan, i))
        .collect()
}

/// The plan on batch `i` (a frame batch enters the plan as frame 0 of its table, seen from
/// level 0).
fn run_one(st: &Stream<Data>, plan: &Plan, i: usize) -> Result<Outcome> {
    let (v, frames) = match st.get(i)? {
        Data::Array(a) => (Value::Array(a), Vec::new()),
        Data::Frame(f) => (Value::Frame(FrameRef { root: 0, level: 0 }), vec![f]),
    };
    plan.run_outcome(v, frames)
}

/// The plan on batches `first..first + count` read as one array, its output sliced at the
/// batches' bounds; `None` when that does not apply (not one run of rows, not an array, an
/// error, a fallback, or an output of another length).
fn run_together(
    st: &Stream<Data>,
    plan: &Plan,
    first: usize,
    count: usize,
    together: &AtomicBool,
) -> Option<Vec<Result<Outcome>>> {
    if !together.load(Ordering::Relaxed) {
        return None;
    }
    let Ok(Some(Data::Array(a))) = st.get_run(first, count) else {
        return None;
    };
    let rows = a.len();
    let Ok(Outcome::Done(Value::Array(out), frames)) =
        plan.run_outcome(Value::Array(a), Vec::new())
    else {
        return None;
    };
    if out.len() != rows || !frames.is_empty() {
        return None;
    }
    if has_nulls_or_unions(&out.layout) {
        // A slice would keep a validity where the batch's own result has none (every value
        // valid), which NumPy export tells apart; such outputs come batch by batch.
        together.store(false, Ordering::Relaxed);
        return None;
    }
    let base = st.row_range(first).start;
    Some(
        (first..first + count)
            .map(|i| {
                let r = st.row_range(i);
                // offsets from 0 and no data outside the batch: as its own result would be
                let part = out.slice(r.start - base, r.len()).layout.compact();
                Ok(Outcome::Done(Value::Array(Array::new(part)), Vec::new()))
            })
            .collect(),
    )
}

/// Whether a layout has a validity at some level, or a union.
fn has_nulls_or_unions(l: &Layout) -> bool {
    match l {
        Layout::Leaf(leaf) => leaf.validity.is_some(),
        Layout::List(list) => list.validity.is_some() || has_nulls_or_unions(&list.child),
        Layout::Union(_) => true,
    }
}

/// Bytes a plan result reaches (its array, or the columns of its frame table): what a waiting
/// result holds on to, counting buffers it shares with the store's chunk cache.
pub fn outcome_bytes(o: &Outcome) -> usize {
    let (Outcome::Done(v, frames) | Outcome::Fallback(v, frames, _)) = o;
    let own = match v {
        Value::Array(a) => a.layout.nbytes(),
        _ => 0,
    };
    let columns = frames.iter().flat_map(|f| f.columns());
    own + columns.map(|c| c.array.layout.nbytes()).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{MemorySource, StreamOptions};
    use grumpy_core::layout::Item;
    use grumpy_core::Array;

    /// 400 proteins of 0..6 residues of xyz (`nan_at`: a NaN coordinate in that protein).
    fn stream(nan_at: Option<usize>) -> Stream<Data> {
        let rows: Vec<Item> = (0..400)
            .map(|i| {
                let res = (0..i % 7)
                    .map(|j| {
                        let x = if nan_at == Some(i) {
                            f64::NAN
                        } else {
                            (i * 7 + j) as f64
                        };
                        Item::list(vec![x.into(), (j as f64).into(), 0.5.into()])
                    })
                    .collect();
                Item::list(res)
            })
            .collect();
        let a = Array::from_item(&Item::list(rows), None).unwrap();
        let src = MemorySource::new(Data::Array(a), 2, Vec::new());
        let opts = StreamOptions {
            batch_size: 4,
            ..Default::default()
        };
        Stream::new(Arc::new(src), opts).unwrap()
    }

    fn plan(ops: &str, out: usize) -> Arc<Plan> {
        Arc::new(Plan::from_json(&format!(r#"{{"ops": [{ops}], "output": {out}}}"#)).unwrap())
    }

    /// The offsets of every level and where validities are: what a result looks like beyond
    /// its values.
    fn shape(l: &Layout) -> String {
        match l {
            Layout::Leaf(leaf) => format!("leaf {}", leaf.validity.is_some()),
            Layout::List(list) => format!(
                "{:?} {} / {}",
                list.offsets.as_slice(),
                list.validity.is_some(),
                shape(&list.child)
            ),
            Layout::Union(_) => "union".into(),
        }
    }

    /// Each result as an item and its shape (errors as their code), in order.
    fn items(
        r: impl Iterator<Item = Result<Outcome>>,
    ) -> Vec<std::result::Result<(Item, String), String>> {
        r.map(|o| match o {
            Ok(Outcome::Done(Value::Array(a), _)) => Ok((a.to_item(), shape(&a.layout))),
            Ok(Outcome::Done(v, _)) => Err(format!("{v:?}")),
            Ok(Outcome::Fallback(..)) => Err("fallback".into()),
            Err(e) => Err(format!("{:?}", e.code())),
        })
        .collect()
    }

    fn one_by_one(st: &Stream<Data>, p: &Plan) -> Vec<std::result::Result<(Item, String), String>> {
        items((0..st.len()).map(|i| run_one(st, p, i)))
    }

    const POOL: &str = r#"{"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 0.5}},
        {"op": "reduce", "kind": "mean", "src": 1, "dim": 1}"#;
    const KNN: &str = r#"{"op": "neighbors", "query": 0, "data": 0, "k": 2, "dim": 1}"#;
    const TOTAL: &str = r#"{"op": "reduce", "kind": "sum", "src": 0, "dim": null}"#;

    #[test]
    fn runs_of_batches_give_what_each_batch_gives() {
        let st = stream(None);
        for (ops, out, together) in [(POOL, 2, true), (KNN, 1, true), (TOTAL, 1, false)] {
            let p = plan(ops, out);
            let run = PlanRun::new(st.clone(), Arc::clone(&p), 2, 64, None);
            assert_eq!(run.runs().iter().any(|r| r.1 > 1), together, "{ops}");
            assert_eq!(run.remaining(), 100);
            assert_eq!(items(run), one_by_one(&st, &p), "{ops}");
            // an explicit window bounds a run too (prefetch=N: at most N batches in flight)
            for window in [1, 3] {
                let run = PlanRun::new(st.clone(), Arc::clone(&p), 2, window, None);
                assert!(run.runs().iter().all(|r| r.1 <= window));
                assert_eq!(items(run), one_by_one(&st, &p), "{ops}");
            }
            // a slice of the stream runs together too; batches out of order go one by one
            let slice: Vec<usize> = (10..60).collect();
            let shuffled: Vec<usize> = (0..60).map(|i| (i * 7) % 60).collect();
            for pos in [slice, shuffled] {
                let view = st.select(&pos).unwrap();
                let run = PlanRun::new(view.clone(), Arc::clone(&p), 2, 64, None);
                assert_eq!(run.runs()[0].1 > 1, together);
                assert_eq!(items(run), one_by_one(&view, &p), "{ops}");
            }
        }
    }

    #[test]
    fn outputs_with_nulls_come_batch_by_batch() {
        // rows of 1..4 values, a null in row 50 only: the runs' outputs have a validity, and
        // a slice would keep one where the batch's own result has none
        let rows: Vec<Item> = (0..200)
            .map(|i| {
                let v = (0..1 + i % 4)
                    .map(|j| {
                        if i == 50 && j == 0 {
                            Item::Null
                        } else {
                            ((i + j) as f64).into()
                        }
                    })
                    .collect();
                Item::list(v)
            })
            .collect();
        let a = Array::from_item(&Item::list(rows), None).unwrap();
        let src = MemorySource::new(Data::Array(a), 1, Vec::new());
        let opts = StreamOptions {
            batch_size: 2,
            ..Default::default()
        };
        let st = Stream::new(Arc::new(src), opts).unwrap();
        let p = plan(
            r#"{"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}}"#,
            1,
        );
        let run = PlanRun::new(st.clone(), Arc::clone(&p), 2, 64, None);
        assert!(run.runs()[0].1 > 1);
        assert_eq!(items(run), one_by_one(&st, &p));
    }

    #[test]
    fn an_error_stays_with_its_batch() {
        // protein 41 (batch 10) has a NaN coordinate: gr.neighbors raises there only
        let st = stream(Some(41));
        let p = plan(KNN, 1);
        let run = PlanRun::new(st.clone(), Arc::clone(&p), 2, 64, None);
        assert!(run.runs().iter().any(|r| r.1 > 1));
        let got = items(run);
        assert_eq!(got, one_by_one(&st, &p));
        let bad: Vec<usize> = (0..got.len()).filter(|&i| got[i].is_err()).collect();
        assert_eq!(bad, [10]);
    }

    #[test]
    fn runs_fit_the_bytes_and_leave_every_thread_work() {
        // 4096 rows of 6 KB in batches of 32 (197 KB): 4 per job
        assert_eq!(per_run(128, 4096, Some(4096 * 6144), 32, 2), 4);
        assert_eq!(per_run(128, 4096, Some(4096 * 8192), 32, 2), 3);
        // tiny batches: at most MAX_RUN, and at least 4 jobs per thread
        assert_eq!(per_run(1000, 1000, Some(8000), 1, 2), MAX_RUN);
        assert_eq!(per_run(16, 16, Some(128), 1, 2), 2);
        assert_eq!(per_run(7, 7, Some(56), 1, 2), 1);
        // large batches, unknown sizes, empty sources: one each
        assert_eq!(per_run(100, 100_000, Some(1 << 30), 1000, 1), 1);
        assert_eq!(per_run(100, 100, None, 1, 1), 1);
        assert_eq!(per_run(0, 0, Some(0), 1, 1), 1);
    }
}
