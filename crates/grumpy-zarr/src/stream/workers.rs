//! Reader threads that linger: a [`super::Prefetcher`]'s worker that has finished waits a
//! moment ([`LINGER`]) for the next prefetcher's work instead of exiting, so the next epoch
//! (or the next stream, or the next `st.apply`) does not start by creating and joining its
//! threads. On a virtual machine that cost about 90 µs per epoch, as much as reading twenty
//! cached batches.
//!
//! ```text
//!   spawn(task) ──► an idle thread?  yes: hand it the task (a channel send)
//!                                    no:  std::thread::spawn
//!   thread: run task ─► mark it done ─► idle for up to LINGER ─► next task, or exit
//! ```
//!
//! A task's [`Done`] says when it has returned (its captures dropped): what a prefetcher waits
//! for where it used to join its threads. Idle threads are bounded ([`MAX_IDLE`]), gone
//! [`LINGER`] after their last task, and never shared with a forked child: the idle list
//! belongs to the process that built it (see [`grumpy_core::pool::pid`]), and is only taken
//! with `try_lock`, so a child whose parent held it at the fork spawns fresh threads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, TryLockError};
use std::time::Duration;

/// How long a thread waits for new work after its task before it exits.
pub(crate) const LINGER: Duration = Duration::from_millis(200);
/// Idle threads kept at most (beyond that a finished thread exits at once).
pub(crate) const MAX_IDLE: usize = 16;

/// Work handed to a thread.
pub(crate) type Task = Box<dyn FnOnce() + Send + 'static>;

struct Idle {
    /// The process the list belongs to (0: none yet).
    pid: u32,
    /// Senders of the idle threads, with each thread's id.
    threads: Vec<(u64, SyncSender<Task>)>,
    next_id: u64,
}

/// A set of lingering threads (the process has one, [`POOL`]; tests make their own).
pub(crate) struct Pool {
    idle: Mutex<Idle>,
    linger: Duration,
    max_idle: usize,
}

/// The prefetchers' threads.
static POOL: Pool = Pool::new(LINGER, MAX_IDLE);

/// Run `f` on an idle lingering thread of the process, or on a new one.
pub(crate) fn spawn(f: impl FnOnce() + Send + 'static) -> Done {
    POOL.spawn(f)
}

impl Pool {
    pub(crate) const fn new(linger: Duration, max_idle: usize) -> Pool {
        Pool {
            idle: Mutex::new(Idle {
                pid: 0,
                threads: Vec::new(),
                next_id: 0,
            }),
            linger,
            max_idle,
        }
    }

    /// The idle list of this process, if it can be had without waiting long (a few tries: the
    /// lock is only ever held for a push or a pop).
    fn idle(&self) -> Option<std::sync::MutexGuard<'_, Idle>> {
        for _ in 0..64 {
            match self.idle.try_lock() {
                Ok(mut g) => {
                    let pid = grumpy_core::pool::pid();
                    if g.pid != pid {
                        // Built by a parent process: its threads do not exist here. Their senders
                        // are leaked rather than dropped (a parent thread may have been inside the
                        // channel at the fork).
                        std::mem::forget(std::mem::take(&mut g.threads));
                        g.pid = pid;
                    }
                    return Some(g);
                }
                Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => std::thread::yield_now(),
            }
        }
        None
    }

    /// Run `f` on an idle lingering thread of this pool, or on a new one.
    pub(crate) fn spawn(&'static self, f: impl FnOnce() + Send + 'static) -> Done {
        let (done, mut task) = deferred(Box::new(f));
        loop {
            let tx = self.idle().and_then(|mut g| g.threads.pop());
            let Some((_, tx)) = tx else { break };
            // A listed thread is alive and its one-slot channel empty: it removes itself from
            // the list before exiting, and is listed again only after taking its task.
            match tx.try_send(task) {
                Ok(()) => return done,
                Err(e) => {
                    task = match e {
                        TrySendError::Full(t) | TrySendError::Disconnected(t) => t,
                    }
                }
            }
        }
        std::thread::spawn(move || self.serve(task));
        done
    }

    /// The idle thread `id`'s next task, or `None` when it should exit: nothing came within
    /// `linger` and it took itself off the list.
    fn next_task(&self, rx: &Receiver<Task>, id: u64) -> Option<Task> {
        loop {
            match rx.recv_timeout(self.linger) {
                Ok(t) => return Some(t),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {}
            }
            // Cannot take the list: stay listed and wait another round.
            let Some(mut g) = self.idle() else { continue };
            match g.threads.iter().position(|(i, _)| *i == id) {
                Some(p) => {
                    g.threads.swap_remove(p);
                    return None;
                }
                // Taken off the list by `spawn`, which is handing this thread a task.
                None => {
                    drop(g);
                    return rx.recv().ok();
                }
            }
        }
    }

    /// A worker thread's life: run tasks, waiting up to `linger` between them.
    fn serve(&self, first: Task) {
        let (tx, rx) = sync_channel::<Task>(1);
        let mut task = first;
        loop {
            // The prefetcher's jobs catch their own panics; this only keeps the thread usable.
            let _ = catch_unwind(AssertUnwindSafe(task));
            let id = {
                let Some(mut g) = self.idle() else { return };
                if g.threads.len() >= self.max_idle {
                    return;
                }
                let id = g.next_id;
                g.next_id += 1;
                g.threads.push((id, tx.clone()));
                id
            };
            task = match self.next_task(&rx, id) {
                Some(t) => t,
                None => return,
            };
        }
    }
}

/// `f` as a task to run later, and its [`Done`] (set once the task has run or been dropped).
pub(crate) fn deferred(f: Task) -> (Done, Task) {
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let guard = SetOnDrop(Arc::clone(&done));
    let task: Task = Box::new(move || {
        let _set = guard;
        f();
    });
    (Done(done), task)
}

/// Completion of a task given to [`spawn`].
pub(crate) struct Done(Arc<(Mutex<bool>, Condvar)>);

impl Done {
    /// Whether the task has returned (or unwound), its captures dropped.
    pub(crate) fn is_finished(&self) -> bool {
        *self.0 .0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until the task has returned.
    pub(crate) fn wait(&self) {
        let (flag, cv) = &*self.0;
        let mut g = flag.lock().unwrap_or_else(|p| p.into_inner());
        while !*g {
            g = cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Sets the flag when dropped: after the task and everything it captured.
struct SetOnDrop(Arc<(Mutex<bool>, Condvar)>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        let (flag, cv) = &*self.0;
        *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pool(linger_ms: u64, max_idle: usize) -> &'static Pool {
        Box::leak(Box::new(Pool::new(
            Duration::from_millis(linger_ms),
            max_idle,
        )))
    }

    fn tid() -> String {
        format!("{:?}", std::thread::current().id())
    }

    #[test]
    fn a_finished_thread_takes_the_next_task() {
        let p = pool(2_000, 4);
        let (tx, rx) = std::sync::mpsc::channel();
        let t1 = tx.clone();
        p.spawn(move || t1.send(tid()).unwrap()).wait();
        // the thread lists itself as idle just after marking the task done
        std::thread::sleep(Duration::from_millis(50));
        p.spawn(move || tx.send(tid()).unwrap()).wait();
        let (a, b) = (rx.recv().unwrap(), rx.recv().unwrap());
        assert_eq!(a, b, "the second task ran on a new thread");
    }

    #[test]
    fn idle_threads_exit_after_the_linger() {
        let p = pool(30, 4);
        p.spawn(|| ()).wait();
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(p.idle().unwrap().threads.len(), 1);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(p.idle().unwrap().threads.len(), 0);
    }

    #[test]
    fn done_waits_for_the_task_and_its_captures() {
        let token = Arc::new(());
        let weak = Arc::downgrade(&token);
        let ran = Arc::new(AtomicUsize::new(0));
        let r2 = Arc::clone(&ran);
        let d = pool(100, 2).spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let _keep = &token;
            r2.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!d.is_finished());
        d.wait();
        assert!(d.is_finished());
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(weak.upgrade().is_none(), "captures dropped before done");
    }

    #[test]
    fn a_panicking_task_is_done_and_its_thread_reusable() {
        let p = pool(1_000, 2);
        let d = p.spawn(|| panic!("boom"));
        d.wait();
        let ok = Arc::new(AtomicUsize::new(0));
        let o2 = Arc::clone(&ok);
        p.spawn(move || {
            o2.fetch_add(1, Ordering::SeqCst);
        })
        .wait();
        assert_eq!(ok.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn many_tasks_at_once_all_run() {
        let p = pool(200, 3);
        let n = Arc::new(AtomicUsize::new(0));
        let done: Vec<Done> = (0..40)
            .map(|_| {
                let n = Arc::clone(&n);
                p.spawn(move || {
                    std::thread::sleep(Duration::from_millis(2));
                    n.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        done.iter().for_each(Done::wait);
        assert_eq!(n.load(Ordering::SeqCst), 40);
        std::thread::sleep(Duration::from_millis(50));
        assert!(p.idle().unwrap().threads.len() <= 3);
    }
}
