//! The worker pool for parallel kernels, safe across `fork()`.
//!
//! Rayon's global pool does not survive `fork()`: the child inherits the pool's bookkeeping but
//! not its threads, so the first parallel call in the child waits forever. PyTorch's DataLoader
//! forks its workers on Linux, after the parent has usually run a parallel save, load or kernel.
//! Every parallel entry point therefore runs inside [`install`]: in the process that first
//! called it, that is a plain call (Rayon's global pool, no overhead); in a forked child it runs
//! on a pool of the child's own, built on first use. Nested Rayon calls (ours and zarrs' codecs)
//! run on the current pool.
//!
//! ```
//! use rayon::prelude::*;
//! let total: u64 = grumpy_core::pool::install(|| (0..1000u64).into_par_iter().sum());
//! assert_eq!(total, 499_500);
//! assert!(grumpy_core::pool::threads() >= 1);
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

static POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
/// The process that first ran parallel work through [`install`] (its global pool is alive).
static FIRST_PID: OnceLock<u32> = OnceLock::new();

/// This process's id (see [`pid`]); 0 until cached, and again in a forked child.
static PID: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached: `getpid` is a system call, and the fork checks ask for it on
/// every batch. A forked child forgets the parent's value (a `pthread_atfork` handler), so it
/// reads its own on first use.
///
/// ```
/// assert_eq!(grumpy_core::pool::pid(), std::process::id());
/// ```
pub fn pid() -> u32 {
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    let p = std::process::id();
    if forgotten_at_fork() {
        PID.store(p, Ordering::Relaxed);
    }
    p
}

/// Whether a forked child resets [`PID`] (else the id must not be cached): registers the
/// `pthread_atfork` handler on first use. It is registered before any value is cached, so a
/// cached value never outlives a fork. Never blocks: a thread that finds the registration
/// under way (or a child forked meanwhile) just does not cache.
#[cfg(all(unix, not(miri)))]
fn forgotten_at_fork() -> bool {
    use std::sync::atomic::AtomicU8;
    const NONE: u8 = 0;
    const BUSY: u8 = 1;
    const DONE: u8 = 2;
    const FAILED: u8 = 3;
    static STATE: AtomicU8 = AtomicU8::new(NONE);
    extern "C" fn forget() {
        PID.store(0, Ordering::Relaxed);
    }
    match STATE.compare_exchange(NONE, BUSY, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            // SAFETY: `forget` is a plain `extern "C" fn` that only stores to an atomic (no
            // allocation, no lock), as the child side of `pthread_atfork` requires.
            let ok = unsafe { libc::pthread_atfork(None, None, Some(forget)) } == 0;
            STATE.store(if ok { DONE } else { FAILED }, Ordering::Release);
            ok
        }
        Err(state) => state == DONE,
    }
}

/// No `fork` here: the id can be cached for good. (Miri has neither `fork` nor
/// `pthread_atfork`; it gets no cache, so that the same code paths run.)
#[cfg(not(all(unix, not(miri))))]
fn forgotten_at_fork() -> bool {
    !cfg!(miri)
}

/// A pool owned by this process (built on first use, rebuilt after a fork). `RAYON_NUM_THREADS`
/// sets its size, as for Rayon's own global pool.
pub fn current() -> Arc<rayon::ThreadPool> {
    let pid = pid();
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, pool)) = slot.as_ref() {
        if *p == pid {
            return Arc::clone(pool);
        }
        // A forked child: the parent's pool has no threads here. Leak it rather than drop it
        // (dropping would try to stop threads that do not exist in this process).
        std::mem::forget(slot.take());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("grumpy-{i}"))
        .build()
        .map(Arc::new)
        .or_else(|_| {
            // Cannot start that many threads (e.g. a hard limit): one worker thread.
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map(Arc::new)
        })
        .expect("cannot start a worker thread");
    *slot = Some((pid, Arc::clone(&pool)));
    pool
}

/// Run `f` where its Rayon calls have live threads: directly in the first process (Rayon's
/// global pool), on [`current`] in a forked child.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let pid = pid();
    if *FIRST_PID.get_or_init(|| pid) == pid || rayon::current_thread_index().is_some() {
        // The global pool is ours, or we are already on a pool thread (nested call).
        return f();
    }
    current().install(f)
}

/// Run `f` in the background on the pool [`install`] would use (Rayon's global pool in the
/// first process, [`current`] in a forked child) and return at once. `f` must not panic
/// (Rayon aborts the process on a panic in a spawned job): catch what it may raise.
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel();
/// grumpy_core::pool::spawn(move || tx.send(6 * 7).unwrap());
/// assert_eq!(rx.recv().unwrap(), 42);
/// ```
pub fn spawn(f: impl FnOnce() + Send + 'static) {
    let pid = pid();
    if *FIRST_PID.get_or_init(|| pid) == pid {
        rayon::spawn(f);
    } else {
        current().spawn(f);
    }
}

/// Number of threads parallel kernels use in this process.
pub fn threads() -> usize {
    install(rayon::current_num_threads)
}

thread_local! {
    /// Whether this thread's kernels run serially (see [`serial`]).
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with this thread's kernels serial: none of them splits its work over the pool.
///
/// For callers that are already parallel over independent pieces of work, such as a compiled
/// stream's pipeline, where each of `cpu` threads runs whole batches. A kernel that split a
/// batch there would hand its pieces to the pool's threads and wait for them: more threads
/// than `cpu` competing for the cores, and a hand-off between threads for every batch (on a
/// 2-core VM, batches of 96 proteins ran at half the speed of batches of 64). Restores the
/// previous setting when `f` returns or unwinds.
///
/// ```
/// use grumpy_core::pool::{serial, worth_splitting};
/// assert!(worth_splitting(1 << 20, 1 << 16));
/// serial(|| assert!(!worth_splitting(1 << 20, 1 << 16)));
/// assert!(worth_splitting(1 << 20, 1 << 16));
/// ```
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SERIAL.with(|s| s.replace(true)));
    f()
}

/// Whether a kernel over `n` items, parallel from `min` items on, should split its work over
/// the pool: `n >= min`, outside [`serial`].
///
/// ```
/// assert!(!grumpy_core::pool::worth_splitting(10, 1_000));
/// assert!(grumpy_core::pool::worth_splitting(1_000, 1_000));
/// ```
pub fn worth_splitting(n: usize, min: usize) -> bool {
    n >= min && !is_serial()
}

/// Whether this thread runs inside [`serial`].
pub fn is_serial() -> bool {
    SERIAL.with(std::cell::Cell::get)
}

/// `f(state, item)` for every item: over the pool, with a state from `init` per piece of work
/// (as Rayon's `for_each_init`), or in order on this thread with one state inside [`serial`].
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// let total = AtomicUsize::new(0);
/// grumpy_core::pool::for_each_init(vec![1, 2, 3], || 10, |s, i| {
///     total.fetch_add(*s * i, Ordering::Relaxed);
/// });
/// assert_eq!(total.into_inner(), 60);
/// ```
pub fn for_each_init<I: Send, S>(
    items: Vec<I>,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, I) + Sync + Send,
) {
    if is_serial() {
        let mut s = init();
        items.into_iter().for_each(|i| f(&mut s, i));
    } else {
        use rayon::prelude::*;
        items.into_par_iter().for_each_init(init, f);
    }
}

/// `f(state, item)` for every item, the results in item order: over the pool, with a state
/// from `init` per piece of work (as Rayon's `map_init`), or in order on this thread with one
/// state inside [`serial`].
///
/// ```
/// let v = grumpy_core::pool::map_init(vec![1, 2, 3], Vec::new, |seen: &mut Vec<i32>, i| {
///     seen.push(i);
///     i * 2
/// });
/// assert_eq!(v, [2, 4, 6]);
/// ```
pub fn map_init<I: Send, S, R: Send>(
    items: Vec<I>,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, I) -> R + Sync + Send,
) -> Vec<R> {
    if is_serial() {
        let mut s = init();
        items.into_iter().map(|i| f(&mut s, i)).collect()
    } else {
        use rayon::prelude::*;
        items.into_par_iter().map_init(init, f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn nested_installs_run_inline() {
        let v: Vec<u64> = install(|| {
            (0..8u64)
                .into_par_iter()
                .map(|i| install(|| (0..i).into_par_iter().sum::<u64>()))
                .collect()
        });
        assert_eq!(v, [0, 0, 1, 3, 6, 10, 15, 21]);
    }

    /// A forked child reads its own id, not the parent's cached one.
    #[test]
    #[cfg(unix)]
    #[cfg_attr(miri, ignore)] // no fork under Miri
    fn a_forked_child_has_its_own_pid() {
        let parent = pid();
        assert_eq!(parent, std::process::id());
        // SAFETY: the child only reads atomics, makes system calls and `_exit`s: it runs no
        // code that could wait for a lock held by a thread that does not exist in it.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork failed");
        if child == 0 {
            // SAFETY: getpid has no preconditions.
            let ok = pid() == unsafe { libc::getpid() } as u32 && pid() != parent;
            // SAFETY: `_exit` ends the child without running the parent's atexit handlers.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above; `status` is a valid out pointer.
        let waited = unsafe { libc::waitpid(child, &mut status, 0) };
        assert_eq!(waited, child);
        assert!(libc::WIFEXITED(status), "the child did not exit: {status}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the child saw the parent's pid"
        );
        assert_eq!(pid(), parent);
    }

    #[test]
    fn serial_runs_kernels_on_this_thread_and_restores_the_setting() {
        let here = std::thread::current().id();
        let threads = serial(|| {
            assert!(is_serial() && !worth_splitting(usize::MAX, 1));
            map_init((0..64).collect(), || (), |_, _| std::thread::current().id())
        });
        assert!(threads.iter().all(|t| *t == here));
        assert!(!is_serial() && worth_splitting(1, 1));
        // restored when `f` unwinds too
        let r = std::panic::catch_unwind(|| serial(|| panic!("inside")));
        assert!(r.is_err());
        assert!(!is_serial());
        // nested: the inner call leaves the outer one serial
        serial(|| {
            serial(|| ());
            assert!(is_serial());
        });
    }

    #[test]
    fn helpers_visit_every_item_in_both_modes() {
        for s in [false, true] {
            let run = || {
                let sum = std::sync::atomic::AtomicU64::new(0);
                for_each_init(
                    (1..=100u64).collect(),
                    || 0u64,
                    |n, i| {
                        *n += 1;
                        sum.fetch_add(i, Ordering::Relaxed);
                    },
                );
                let doubled = map_init((0..100u64).collect(), || (), |_, i| i * 2);
                (sum.into_inner(), doubled)
            };
            let (sum, doubled) = if s { serial(run) } else { run() };
            assert_eq!(sum, 5050);
            assert_eq!(doubled, (0..100u64).map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn same_pool_within_a_process() {
        assert!(Arc::ptr_eq(&current(), &current()));
    }
}
