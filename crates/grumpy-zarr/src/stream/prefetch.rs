//! [`Prefetcher`]: `workers` reader threads fill an ordered window of at most `prefetch`
//! results while the consumer takes them in order.
//!
//! ```text
//!   consumer ◄── next ── [ 5 ][ 6 ✓][ 7 ✓][ 8 … ]  ◄── workers claim 9, 10 … once the window frees
//! ```
//! A job is claimed only while fewer than `prefetch` results are claimed but not yet taken
//! and, for a prefetcher made with [`Prefetcher::with_byte_budget`], while the results
//! waiting to be taken weigh less than its budget, so memory stays bounded. Each job's error
//! (or panic) is returned as that job's `Err`, never a hang. Dropping the prefetcher stops
//! the workers (each finishes at most its current job) and waits for those that have started:
//! one whose thread has not taken its task yet holds the shared state (and the job) only
//! weakly, and returns at once when it does start. The workers run on
//! lingering threads ([`super::workers`]): a thread whose prefetcher is done serves the next
//! one for a moment instead of exiting, so an epoch does not start with thread creation.
//!
//! Hand-offs between threads are the cost to keep down: waking a sleeping thread is a system
//! call, and on a virtual machine an interrupt to another CPU, several microseconds each — as
//! much as reading a cached batch. So:
//! - a consumer whose next result is not ready runs the next unclaimed job in the window itself
//!   (often the very one it waits for) instead of sleeping until a worker brings it;
//! - workers that found the window full are woken only once it has drained to half, all at
//!   once, rather than one wake-up per result taken;
//! - made with [`Prefetcher::with_reserve`], the consumer counts as one of the `workers`
//!   while it keeps coming back for results: of `workers` ≥ 2, one (the reserve) starts only
//!   when the consumer finds its next result not ready after being away longer than a job
//!   takes or than [`BUSY_AWAY`]. A consumer in a tight loop then shares the CPUs with
//!   `workers - 1` threads instead of competing with `workers` of them (3 threads on 2 cores
//!   made the compiled pool epoch about 7% slower), and a consumer busy elsewhere (a training
//!   step) still gets all `workers`. (A plain stream's loop is no such consumer: making each
//!   batch's Python object takes as long as reading it from the cache, and a warm epoch was
//!   30% slower with one worker in reserve.)
//!
//! ```
//! use grumpy_zarr::stream::Prefetcher;
//! let p = Prefetcher::new(5, 2, 3, |i| Ok(i * 10));
//! let got: Vec<usize> = p.map(|r| r.unwrap()).collect();
//! assert_eq!(got, vec![0, 10, 20, 30, 40]);
//! ```

use super::workers::{self, Done};
use grumpy_core::{Code, Error, Result};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

struct State<T> {
    next_claim: usize,
    next_take: usize,
    /// Results waiting to be taken, with their weight in bytes: entry `j` is job
    /// `next_take + j` (every claimed job lies in the window), `None` while it runs. A ring
    /// rather than a map: filing and taking a result allocate nothing.
    ready: VecDeque<Option<(Result<T>, usize)>>,
    /// Bytes of the results in `ready` (0 without a budget).
    ready_bytes: usize,
    stopped: bool,
    /// Whether the consumer sleeps waiting for `next_take` (wake it only for that result).
    consumer_waits: bool,
    /// Workers sleeping until the window frees.
    workers_waiting: usize,
    /// Which workers have started (their thread took the task): only those are waited for
    /// when the prefetcher is dropped.
    started: Vec<bool>,
    /// How long a job takes, smoothed (0 until one has run).
    job_nanos: u64,
}

impl<T> State<T> {
    /// Count a job's duration, if it was timed, into [`State::job_nanos`].
    fn timed(&mut self, took: Option<Duration>) {
        let Some(took) = took else { return };
        let t = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.job_nanos = match self.job_nanos {
            0 => t,
            j => (j - j / 8).saturating_add(t / 8).max(1),
        };
    }
}

/// Hand-offs wake only a thread that is waiting for exactly that event: `notify_*` on a Linux
/// condvar is a system call even with nobody waiting, and waking every thread for every result
/// cost more than a small batch's work.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// The consumer waits here for the next result in order.
    ready_cv: Condvar,
    /// Workers wait here for room in the window.
    room_cv: Condvar,
    n: usize,
    window: usize,
    budget: Option<Budget<T>>,
    /// `f`; it lives here so that it is dropped with the shared state, which a worker that has
    /// not started holds only weakly.
    job: Box<Job<T>>,
}

/// A bound on the bytes of the results waiting to be taken.
struct Budget<T> {
    max_bytes: usize,
    weigh: Box<dyn Fn(&T) -> usize + Send + Sync>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A poisoned lock only means a worker panicked while holding it; the state is still
        // consistent (every mutation is a single assignment or map insert).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another job may be claimed: the window and the byte budget have room.
    fn room(&self, st: &State<T>) -> bool {
        st.next_claim - st.next_take < self.window
            && self
                .budget
                .as_ref()
                .is_none_or(|b| st.ready_bytes < b.max_bytes)
    }

    /// The bytes result `r` counts against the budget (0 without one, or for an error);
    /// weighed before the lock is taken.
    fn weight(&self, r: &Result<T>) -> usize {
        match (&self.budget, r) {
            (Some(b), Ok(v)) => (b.weigh)(v),
            _ => 0,
        }
    }

    /// File result `i` (of weight `w`) as ready.
    fn file(&self, st: &mut State<T>, i: usize, r: Result<T>, w: usize) {
        st.ready_bytes += w;
        let j = i - st.next_take;
        if st.ready.len() <= j {
            st.ready.resize_with(j + 1, || None);
        }
        st.ready[j] = Some((r, w));
    }
}

/// A consumer away this long between results is busy elsewhere, however long a job takes.
pub(crate) const BUSY_AWAY: Duration = Duration::from_millis(1);

/// Whether a consumer that was `away` since its last result (`None`: this is its first) is
/// busy elsewhere rather than a helper to count on: away longer than a job takes (`job_nanos`,
/// 0 when no job has been timed yet) or than [`BUSY_AWAY`].
fn busy(away: Option<Duration>, job_nanos: u64) -> bool {
    let job = match job_nanos {
        0 => BUSY_AWAY,
        j => Duration::from_nanos(j).min(BUSY_AWAY),
    };
    away.is_some_and(|a| a > job)
}

/// An ordered, bounded, multi-threaded iterator over `f(0), f(1), …, f(n - 1)` (see the
/// module docs).
pub struct Prefetcher<T: Send + 'static> {
    shared: Arc<Shared<T>>,
    threads: Vec<Done>,
    /// Workers not started yet (the reserve, see the module docs), and how to start one.
    reserve: usize,
    spawn: Box<dyn FnMut(workers::Task) -> Done + Send + Sync>,
    /// When [`Iterator::next`] last returned (kept while the reserve has not started): how
    /// long the consumer has been away since.
    returned: Option<Instant>,
}

type Job<T> = dyn Fn(usize) -> Result<T> + Send + Sync;

/// Run job `i`: on this process's pool (fork-safe; see grumpy_core::pool), a panic as an error.
fn run_job<T: Send>(f: &Job<T>, i: usize) -> Result<T> {
    catch_unwind(AssertUnwindSafe(|| grumpy_core::pool::install(|| f(i))))
        .unwrap_or_else(|p| Err(panic_to_error(p)))
}

/// Jobs timed for [`State::job_nanos`]: one in this many (a clock read costs about 30 ns
/// here, a cached batch's whole pipeline under a microsecond).
const TIME_EVERY: usize = 8;

/// [`run_job`], timed when `i` is one of the jobs to time.
fn run_timed<T: Send>(f: &Job<T>, i: usize) -> (Result<T>, Option<Duration>) {
    if !i.is_multiple_of(TIME_EVERY) {
        return (run_job(f, i), None);
    }
    let t0 = Instant::now();
    let r = run_job(f, i);
    (r, Some(t0.elapsed()))
}

/// Turn a caught panic into an error.
pub(crate) fn panic_to_error(p: Box<dyn std::any::Any + Send>) -> Error {
    let msg = p
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(
        Code::Unsupported,
        "internal error while producing a batch",
        msg,
        "this is a bug: please report it with the data that triggered it",
    )
}

impl<T: Send + 'static> Prefetcher<T> {
    /// Start `workers` threads (≥ 1) computing `f(i)` for `i < n`, at most `window` (≥ 1)
    /// results ahead of the consumer.
    pub fn new(
        n: usize,
        workers: usize,
        window: usize,
        f: impl Fn(usize) -> Result<T> + Send + Sync + 'static,
    ) -> Self {
        Self::start(n, workers, window, None, false, f, workers::spawn)
    }

    /// Like [`Prefetcher::new`], but workers also stop claiming jobs while the results waiting
    /// to be taken weigh `max_bytes` or more (`weigh` gives a result's bytes; errors weigh
    /// nothing). Small results can then run far ahead in a long window while large ones stay
    /// few. At most one result per thread is computed beyond the budget.
    ///
    /// ```
    /// use grumpy_zarr::stream::Prefetcher;
    /// // a window of 100, but at most about 3 vectors of 1,000 bytes waiting
    /// let p = Prefetcher::with_byte_budget(20, 2, 100, 3_000, |v: &Vec<u8>| v.len(), |i| {
    ///     Ok(vec![i as u8; 1_000])
    /// });
    /// let firsts: Vec<u8> = p.map(|r| r.unwrap()[0]).collect();
    /// assert_eq!(firsts, (0..20).collect::<Vec<u8>>());
    /// ```
    pub fn with_byte_budget(
        n: usize,
        workers: usize,
        window: usize,
        max_bytes: usize,
        weigh: impl Fn(&T) -> usize + Send + Sync + 'static,
        f: impl Fn(usize) -> Result<T> + Send + Sync + 'static,
    ) -> Self {
        let budget = Budget {
            max_bytes,
            weigh: Box::new(weigh),
        };
        Self::start(n, workers, window, Some(budget), false, f, workers::spawn)
    }

    /// Like [`Prefetcher::with_byte_budget`] (no budget when `max_bytes` is `None`), but one of
    /// `workers` ≥ 2 is held in reserve while the consumer keeps coming back (see the module
    /// docs): for a consumer whose own work between results is short next to a job, such as
    /// the loop over a compiled stream's results.
    ///
    /// ```
    /// use grumpy_zarr::stream::Prefetcher;
    /// let p = Prefetcher::with_reserve(20, 2, 8, None, |_: &usize| 0, |i| Ok(i * 2));
    /// let got: Vec<usize> = p.map(|r| r.unwrap()).collect();
    /// assert_eq!(got, (0..20).map(|i| i * 2).collect::<Vec<_>>());
    /// ```
    pub fn with_reserve(
        n: usize,
        workers: usize,
        window: usize,
        max_bytes: Option<usize>,
        weigh: impl Fn(&T) -> usize + Send + Sync + 'static,
        f: impl Fn(usize) -> Result<T> + Send + Sync + 'static,
    ) -> Self {
        let budget = max_bytes.map(|max_bytes| Budget {
            max_bytes,
            weigh: Box::new(weigh) as Box<dyn Fn(&T) -> usize + Send + Sync>,
        });
        Self::start(n, workers, window, budget, true, f, workers::spawn)
    }

    /// Start the workers, their tasks given to `spawn` (the lingering threads of
    /// [`workers::spawn`]; tests hold tasks back).
    fn start(
        n: usize,
        workers: usize,
        window: usize,
        budget: Option<Budget<T>>,
        reserve: bool,
        f: impl Fn(usize) -> Result<T> + Send + Sync + 'static,
        spawn: impl FnMut(workers::Task) -> Done + Send + Sync + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                next_claim: 0,
                next_take: 0,
                ready: VecDeque::with_capacity(window.clamp(1, 1024)),
                ready_bytes: 0,
                stopped: false,
                consumer_waits: false,
                workers_waiting: 0,
                started: Vec::new(),
                job_nanos: 0,
            }),
            ready_cv: Condvar::new(),
            room_cv: Condvar::new(),
            n,
            window: window.max(1),
            budget,
            job: Box::new(f),
        });
        let nthreads = workers.max(1).min(n.max(1));
        shared.lock().started = vec![false; nthreads];
        let mut p = Prefetcher {
            shared,
            threads: Vec::with_capacity(nthreads),
            reserve: usize::from(reserve && nthreads > 1),
            spawn: Box::new(spawn),
            returned: None,
        };
        for _ in p.reserve..nthreads {
            p.start_worker();
        }
        p
    }

    /// Start the next worker (its index: the number started before it).
    fn start_worker(&mut self) {
        let (weak, k) = (Arc::downgrade(&self.shared), self.threads.len());
        let done = (self.spawn)(Box::new(move || worker(&weak, k)));
        self.threads.push(done);
    }

    /// Number of results not yet taken.
    pub fn remaining(&self) -> usize {
        self.shared.n - self.shared.lock().next_take
    }

    /// Count the result in order as taken (`weight`: its bytes); wake the workers waiting for
    /// room once the window, and the budget, have drained to half (all of them: there is room
    /// for each).
    fn taken(&self, mut st: MutexGuard<'_, State<T>>, weight: usize) {
        st.ready.pop_front();
        st.next_take += 1;
        st.ready_bytes -= weight;
        let sh = &self.shared;
        let wake = st.workers_waiting > 0
            && st.next_claim - st.next_take <= sh.window / 2
            && sh
                .budget
                .as_ref()
                .is_none_or(|b| st.ready_bytes <= b.max_bytes / 2);
        drop(st);
        if wake {
            self.shared.room_cv.notify_all();
        }
    }

    /// Number of workers still running (0 once finished or dropped).
    pub fn live_threads(&self) -> usize {
        self.threads.iter().filter(|t| !t.is_finished()).count()
    }
}

/// Worker `k`'s loop. It holds the shared state weakly until it starts: a prefetcher dropped
/// before its thread ran (a short epoch the consumer ran alone) need not wait for it.
fn worker<T: Send>(weak: &Weak<Shared<T>>, k: usize) {
    let Some(shared) = weak.upgrade() else { return };
    {
        let mut st = shared.lock();
        if st.stopped {
            return;
        }
        st.started[k] = true;
    }
    let f = &*shared.job;
    loop {
        let i = {
            let mut st = shared.lock();
            loop {
                if st.stopped || st.next_claim >= shared.n {
                    return;
                }
                if shared.room(&st) {
                    break;
                }
                st.workers_waiting += 1;
                st = shared.room_cv.wait(st).unwrap_or_else(|p| p.into_inner());
                st.workers_waiting -= 1;
            }
            st.next_claim += 1;
            st.next_claim - 1
        };
        let (r, took) = run_timed(f, i);
        let w = shared.weight(&r);
        let mut st = shared.lock();
        if st.stopped {
            return;
        }
        st.timed(took);
        shared.file(&mut st, i, r, w);
        let wake = st.consumer_waits && i == st.next_take;
        drop(st);
        if wake {
            shared.ready_cv.notify_one();
        }
    }
}

impl<T: Send + 'static> Iterator for Prefetcher<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let r = self.take();
        if self.reserve > 0 {
            self.returned = Some(Instant::now());
        }
        r
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let r = self.remaining();
        (r, Some(r))
    }
}

impl<T: Send + 'static> Prefetcher<T> {
    /// The next result in order.
    fn take(&mut self) -> Option<Result<T>> {
        let mut st = self.shared.lock();
        if st.next_take >= self.shared.n {
            return None;
        }
        // Whether the consumer's time away is still to be judged: once, on arriving (the time
        // it then spends helping here is not time away).
        let mut arriving = self.reserve > 0;
        loop {
            let k = st.next_take;
            if let Some(Some((r, w))) = st.ready.front_mut().map(Option::take) {
                self.taken(st, w);
                return Some(r);
            }
            if std::mem::take(&mut arriving)
                && st.next_claim < self.shared.n
                && busy(self.returned.map(|t| t.elapsed()), st.job_nanos)
            {
                // Its result is not ready and the consumer was busy elsewhere: it is not a
                // helper to count on, so the reserve worker starts.
                drop(st);
                self.reserve -= 1;
                self.start_worker();
                st = self.shared.lock();
                continue;
            }
            if st.next_claim < self.shared.n && self.shared.room(&st) {
                // Help rather than sleep: run the next unclaimed job here.
                let j = st.next_claim;
                st.next_claim += 1;
                drop(st);
                let (r, took) = run_timed(&*self.shared.job, j);
                let w = if j == k { 0 } else { self.shared.weight(&r) };
                st = self.shared.lock();
                st.timed(took);
                if j == k {
                    self.taken(st, 0);
                    return Some(r);
                }
                self.shared.file(&mut st, j, r, w);
                continue;
            }
            if self.threads.iter().all(|t| t.is_finished()) {
                // Cannot happen unless a worker died outside `f`; answer instead of hanging.
                st.ready.pop_front();
                st.next_take += 1;
                return Some(Err(Error::new(
                    Code::Unsupported,
                    "batch reader stopped unexpectedly",
                    format!("no reader thread is left to produce batch {k}"),
                    "this is a bug: please report it",
                )));
            }
            st.consumer_waits = true;
            st = self
                .shared
                .ready_cv
                .wait_timeout(st, Duration::from_millis(200))
                .unwrap_or_else(|p| p.into_inner())
                .0;
            st.consumer_waits = false;
        }
    }
}

impl<T: Send + 'static> Drop for Prefetcher<T> {
    /// Stop the workers and wait for those that have started (each finishes at most its
    /// current job). One whose thread has not taken its task yet is not waited for: it finds
    /// the prefetcher gone (or stopped) and returns at once. Waiting for it cost a short epoch
    /// two thread wake-ups, 40 µs on a virtual machine: most of an epoch of one batch.
    fn drop(&mut self) {
        let (started, sleeping) = {
            let mut st = self.shared.lock();
            st.stopped = true;
            st.ready.clear();
            st.ready_bytes = 0;
            (std::mem::take(&mut st.started), st.workers_waiting > 0)
        };
        // (nobody waits on ready_cv: the consumer is the one dropping)
        if sleeping {
            self.shared.room_cv.notify_all();
        }
        for (t, started) in self.threads.drain(..).zip(started) {
            if started {
                t.wait();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn ordered_with_uneven_work() {
        let p = Prefetcher::new(40, 4, 5, |i| {
            std::thread::sleep(Duration::from_micros(((i * 7919) % 13) as u64 * 100));
            Ok(i)
        });
        let got: Vec<usize> = p.map(|r| r.unwrap()).collect();
        assert_eq!(got, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn window_is_bounded() {
        let started = Arc::new(AtomicUsize::new(0));
        let s2 = Arc::clone(&started);
        let mut p = Prefetcher::new(100, 3, 4, move |i| {
            s2.fetch_add(1, Ordering::SeqCst);
            Ok(i)
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(started.load(Ordering::SeqCst) <= 4);
        assert_eq!(p.next().unwrap().unwrap(), 0);
        std::thread::sleep(Duration::from_millis(50));
        assert!(started.load(Ordering::SeqCst) <= 5);
    }

    /// With a byte budget, workers stop once the waiting results weigh the budget (however
    /// long the window), resume once it has drained to half, and every result still arrives
    /// once, in order; without one, the same window lets them run far ahead.
    #[test]
    fn byte_budget_bounds_waiting_results() {
        let job = |s: Arc<AtomicUsize>| {
            move |i: usize| {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(vec![i as u8; 1_000])
            }
        };
        let started = Arc::new(AtomicUsize::new(0));
        let weigh = |v: &Vec<u8>| v.len();
        let mut p =
            Prefetcher::with_byte_budget(100, 2, 100, 3_000, weigh, job(Arc::clone(&started)));
        std::thread::sleep(Duration::from_millis(50));
        // three results fill the budget; each worker may have claimed one more before that
        let n = started.load(Ordering::SeqCst);
        assert!((3..=5).contains(&n), "{n} started");
        assert_eq!(p.next().unwrap().unwrap()[0], 0);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            started.load(Ordering::SeqCst),
            n,
            "woken before half drained"
        );
        let rest: Vec<u8> = p.map(|r| r.unwrap()[0]).collect();
        assert_eq!(rest, (1..100).collect::<Vec<u8>>());
        assert_eq!(started.load(Ordering::SeqCst), 100);

        let unbounded = Arc::new(AtomicUsize::new(0));
        let p = Prefetcher::new(100, 2, 100, job(Arc::clone(&unbounded)));
        std::thread::sleep(Duration::from_millis(50));
        assert!(unbounded.load(Ordering::SeqCst) > 50);
        drop(p);
    }

    #[test]
    fn errors_and_panics_are_results() {
        let p = Prefetcher::new(4, 2, 2, |i| match i {
            1 => Err(Error::new(Code::Store, "gone", "deleted", "restore")),
            2 => panic!("boom"),
            _ => Ok(i),
        });
        let got: Vec<Result<usize>> = p.collect();
        assert_eq!(got[0], Ok(0));
        assert_eq!(got[1].as_ref().unwrap_err().code(), Code::Store);
        assert!(got[2].as_ref().unwrap_err().cause().contains("boom"));
        assert_eq!(got[3], Ok(3));
    }

    #[test]
    fn drop_stops_and_joins() {
        let done = Arc::new(AtomicUsize::new(0));
        let d2 = Arc::clone(&done);
        let mut p = Prefetcher::new(1_000_000, 2, 4, move |i| {
            std::thread::sleep(Duration::from_millis(1));
            d2.fetch_add(1, Ordering::SeqCst);
            Ok(i)
        });
        p.next();
        let shared = Arc::downgrade(&p.shared);
        let t = std::time::Instant::now();
        drop(p);
        assert!(t.elapsed() < Duration::from_millis(500));
        // every worker has exited and released its handle on the shared state
        assert!(shared.upgrade().is_none());
        let n = done.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(done.load(Ordering::SeqCst), n, "no work after drop");
    }

    /// A worker whose thread has not started is not waited for, never held the job (its
    /// captures go with the prefetcher), and runs nothing once it does start.
    #[test]
    fn drop_does_not_wait_for_workers_that_have_not_started() {
        let ran = Arc::new(AtomicUsize::new(0));
        let r2 = Arc::clone(&ran);
        let held: Arc<Mutex<Vec<workers::Task>>> = Arc::default();
        let h2 = Arc::clone(&held);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let job = move |i| {
                r2.fetch_add(1, Ordering::SeqCst);
                Ok(i)
            };
            // the worker's thread never gets to run it: the task is held back
            let p = Prefetcher::start(1, 1, 1, None, false, job, move |task| {
                let (done, task) = workers::deferred(task);
                h2.lock().unwrap().push(task);
                done
            });
            let got: Vec<Result<usize>> = p.collect(); // the consumer runs job 0; then drop
            tx.send(got).unwrap();
        });
        let got = rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(
            got,
            Ok(vec![Ok(0)]),
            "drop waited for a worker that never started"
        );
        assert_eq!(
            Arc::strong_count(&ran),
            1,
            "the job's captures went with the prefetcher"
        );
        let task = held.lock().unwrap().pop().unwrap();
        task(); // the worker starts late: nothing to do
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn consumer_runs_jobs_instead_of_sleeping() {
        // Job 0 finishes only after job 1 has run. The one worker takes job 0 (or the
        // consumer does); either way the other job must be run by the other thread, so a
        // consumer that only slept while waiting for job 0 would never see it.
        let one_done = Arc::new((Mutex::new(false), Condvar::new()));
        let d = Arc::clone(&one_done);
        let p = Prefetcher::new(2, 1, 2, move |i| {
            let (flag, cv) = &*d;
            if i == 1 {
                *flag.lock().unwrap() = true;
                cv.notify_all();
                return Ok(i);
            }
            let g = flag.lock().unwrap();
            let (g, _) = cv
                .wait_timeout_while(g, Duration::from_secs(5), |done| !*done)
                .unwrap();
            if *g {
                Ok(i)
            } else {
                Err(Error::new(Code::Store, "job 1 never ran", "", ""))
            }
        });
        let got: Vec<Result<usize>> = p.collect();
        assert_eq!(got, vec![Ok(0), Ok(1)]);
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(Prefetcher::new(0, 2, 2, Ok).count(), 0);
        let mut p = Prefetcher::new(1, 8, 8, Ok);
        assert_eq!(p.size_hint(), (1, Some(1)));
        assert_eq!(p.next(), Some(Ok(0)));
        assert_eq!(p.next(), None);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(p.live_threads(), 0);
    }

    #[test]
    fn a_consumer_is_busy_elsewhere_when_away_longer_than_a_job_or_a_millisecond() {
        let us = Duration::from_micros;
        assert!(!busy(None, 0), "the first result: nothing to go by");
        assert!(!busy(Some(us(2)), 0), "no job timed yet");
        assert!(
            busy(Some(us(1_500)), 0),
            "no job timed yet, away over a millisecond"
        );
        assert!(!busy(Some(us(2)), 5_000), "a tight loop over 5 µs jobs");
        assert!(busy(Some(us(8)), 5_000), "away longer than a job");
        assert!(!busy(Some(us(900)), 50_000_000), "under a millisecond");
        assert!(
            busy(Some(us(1_500)), 50_000_000),
            "a training step between 50 ms jobs"
        );
    }

    /// The threads that ran jobs, the consumer's own apart.
    fn job_threads(
        jobs: usize,
        (workers, reserve): (usize, bool),
        job: Duration,
        away: Duration,
    ) -> (Vec<usize>, std::collections::HashSet<std::thread::ThreadId>) {
        let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let s2 = Arc::clone(&seen);
        let f = move |i| {
            s2.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(job);
            Ok(i)
        };
        let p = match reserve {
            true => Prefetcher::with_reserve(jobs, workers, jobs, None, |_: &usize| 0, f),
            false => Prefetcher::new(jobs, workers, jobs, f),
        };
        let got = p
            .map(|r| {
                std::thread::sleep(away);
                r.unwrap()
            })
            .collect();
        let mut seen = std::mem::take(&mut *seen.lock().unwrap());
        seen.remove(&std::thread::current().id());
        (got, seen)
    }

    #[test]
    fn the_reserve_worker_starts_for_a_consumer_busy_elsewhere() {
        // 10 ms jobs, 2 ms of the consumer's own work per result: one worker falls behind
        let (got, threads) = job_threads(
            12,
            (2, true),
            Duration::from_millis(10),
            Duration::from_millis(2),
        );
        assert_eq!(got, (0..12).collect::<Vec<_>>());
        assert_eq!(threads.len(), 2, "both workers ran jobs");
    }

    #[test]
    fn a_consumer_in_a_tight_loop_helps_instead_of_the_reserve() {
        // The consumer comes straight back, so it runs jobs itself; one worker runs besides.
        // A pause of the consumer over a millisecond (a loaded machine) starts the reserve
        // too, so one run in three must do without it.
        let runs: Vec<usize> = (0..3)
            .map(|_| {
                let (got, threads) =
                    job_threads(12, (2, true), Duration::from_millis(3), Duration::ZERO);
                assert_eq!(got, (0..12).collect::<Vec<_>>());
                threads.len()
            })
            .collect();
        assert!(runs.contains(&1), "worker threads per run: {runs:?}");
        let (got, threads) = job_threads(12, (1, true), Duration::from_millis(3), Duration::ZERO);
        assert_eq!(got, (0..12).collect::<Vec<_>>());
        assert_eq!(threads.len(), 1, "one worker has no reserve");
        // without a reserve both workers start at once, and the window is long: both run jobs
        let (got, threads) = job_threads(12, (2, false), Duration::from_millis(3), Duration::ZERO);
        assert_eq!(got, (0..12).collect::<Vec<_>>());
        assert_eq!(threads.len(), 2, "Prefetcher::new starts every worker");
    }
}
