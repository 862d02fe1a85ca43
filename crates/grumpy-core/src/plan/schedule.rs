//! The batch scheduler: run a plan over a stream of batches on a Rayon pool of `cpu` threads,
//! at most `window` batches in flight, results delivered in batch order as soon as each is
//! ready.
//!
//! ```text
//!  reader threads ──batches──► driver ──spawn──► Rayon pool (cpu threads): plan.run(batch)
//!                                 │ ◄── per-batch result slots (in order) ◄──┘
//!                                 └──► bounded channel ──► consumer (Python __next__)
//! ```
//!
//! ```
//! use grumpy_core::{array::Array, plan::{Plan, Value, schedule::{pool, run_ordered}}};
//! let plan = std::sync::Arc::new(Plan::from_json(r#"{"ops": [{"op": "binary", "kind": "add",
//!     "lhs": {"reg": 0}, "rhs": {"scalar": 1}}], "output": 1}"#).unwrap());
//! let batches = (0..5i64).map(|i| Ok(Value::Array(Array::from_vec(vec![i]))));
//! let out: Vec<_> = run_ordered(batches, plan, pool(2).unwrap(), 3).collect();
//! assert_eq!(out.len(), 5);
//! let Ok(Value::Array(last)) = &out[4] else { panic!() };
//! assert_eq!(last.to_item(), vec![5i64].into());
//! ```

use super::{Plan, Value};
use crate::error::{Code, Error, Result};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

/// The shared Rayon pool with `threads` threads (built once per size, then cached).
pub fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let threads = threads.max(1);
    let mut map = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = map.get(&threads) {
        return Ok(Arc::clone(p));
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("grumpy-plan-{threads}-{i}"))
        .build()
        .map_err(|e| {
            Error::new(
                Code::Argument,
                "cannot start the worker pool",
                e.to_string(),
                "lower cpu=",
            )
        })?;
    let p = Arc::new(p);
    map.insert(threads, Arc::clone(&p));
    Ok(p)
}

/// Ordered results of a plan over batches (an iterator; dropping it stops the driver).
pub struct Ordered {
    rx: Receiver<Result<Value>>,
    stop: Arc<AtomicBool>,
    driver: Option<std::thread::JoinHandle<()>>,
}

impl Iterator for Ordered {
    type Item = Result<Value>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rx.recv().ok()
    }
}

impl Drop for Ordered {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Drain so a driver blocked on a full channel wakes up and sees `stop`.
        while self.rx.try_recv().is_ok() {}
        if let Some(h) = self.driver.take() {
            // The receiver is dropped right after this; the driver exits at its next send.
            drop(std::mem::replace(&mut self.rx, mpsc::sync_channel(0).1));
            let _ = h.join();
        }
    }
}

/// Run `plan` on every batch (in order of `batches`), `window` (≥ 1) batches in flight on
/// `pool`. Errors are delivered at their batch's position; iteration ends after the last batch.
pub fn run_ordered<I>(
    batches: I,
    plan: Arc<Plan>,
    pool: Arc<rayon::ThreadPool>,
    window: usize,
) -> Ordered
where
    I: Iterator<Item = Result<Value>> + Send + 'static,
{
    let window = window.max(1);
    let (tx, rx) = mpsc::sync_channel::<Result<Value>>(window);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let driver = std::thread::Builder::new()
        .name("grumpy-plan-driver".into())
        .spawn(move || drive(batches, &plan, &pool, window, &tx, &stop2))
        .ok();
    Ordered { rx, stop, driver }
}

fn drive<I>(
    batches: I,
    plan: &Arc<Plan>,
    pool: &rayon::ThreadPool,
    window: usize,
    tx: &SyncSender<Result<Value>>,
    stop: &AtomicBool,
) where
    I: Iterator<Item = Result<Value>>,
{
    let mut pending: VecDeque<Receiver<Result<Value>>> = VecDeque::new();
    let deliver = |r: Receiver<Result<Value>>| -> bool {
        let res = r.recv().unwrap_or_else(|_| {
            Err(Error::new(
                Code::Unsupported,
                "a batch job was lost",
                "the worker thread stopped",
                "report this bug",
            ))
        });
        tx.send(res).is_ok()
    };
    for batch in batches {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (otx, orx) = mpsc::sync_channel(1);
        match batch {
            Err(e) => {
                let _ = otx.send(Err(e));
            }
            Ok(v) => {
                let plan = Arc::clone(plan);
                pool.spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.run(v)))
                        .unwrap_or_else(|_| {
                            Err(Error::new(
                                Code::Unsupported,
                                "a plan panicked",
                                "internal error",
                                "report this bug",
                            ))
                        });
                    let _ = otx.send(r);
                });
            }
        }
        pending.push_back(orx);
        while pending.len() >= window {
            let Some(front) = pending.pop_front() else {
                break;
            };
            if !deliver(front) {
                return;
            }
        }
    }
    while let Some(front) = pending.pop_front() {
        if stop.load(Ordering::SeqCst) || !deliver(front) {
            return;
        }
    }
}
