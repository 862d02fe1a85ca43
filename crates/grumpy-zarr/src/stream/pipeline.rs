//! [`map_ordered`]: run `f` over a stream of items on a Rayon pool, at most `window` in flight,
//! results yielded in input order. The hook a compiled plan uses to run per batch on a pool of
//! `cpu` threads while batches arrive from a [`super::Prefetcher`].
//!
//! ```
//! use grumpy_zarr::stream::map_ordered;
//! let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
//! let out: Vec<i32> = map_ordered((0..6).map(Ok), 3, &pool, |x: i32| Ok(x * x))
//!     .map(|r| r.unwrap())
//!     .collect();
//! assert_eq!(out, vec![0, 1, 4, 9, 16, 25]);
//! ```

use super::prefetch::panic_to_error;
use grumpy_core::{Code, Error, Result};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// The iterator returned by [`map_ordered`].
pub struct MapOrdered<'p, I, F, U> {
    items: I,
    pending: VecDeque<Receiver<Result<U>>>,
    window: usize,
    pool: &'p rayon::ThreadPool,
    f: Arc<F>,
}

/// Apply `f` to every `Ok` item on `pool`, keeping at most `window` (≥ 1) items in flight, and
/// yield the results in input order. An `Err` item passes through as that position's result.
/// Dropping the iterator stops submitting; jobs already running finish and are discarded.
pub fn map_ordered<'p, T, U, I, F>(
    items: I,
    window: usize,
    pool: &'p rayon::ThreadPool,
    f: F,
) -> MapOrdered<'p, I, F, U>
where
    T: Send + 'static,
    U: Send + 'static,
    I: Iterator<Item = Result<T>>,
    F: Fn(T) -> Result<U> + Send + Sync + 'static,
{
    MapOrdered {
        items,
        pending: VecDeque::new(),
        window: window.max(1),
        pool,
        f: Arc::new(f),
    }
}

impl<T, U, I, F> MapOrdered<'_, I, F, U>
where
    T: Send + 'static,
    U: Send + 'static,
    I: Iterator<Item = Result<T>>,
    F: Fn(T) -> Result<U> + Send + Sync + 'static,
{
    fn fill(&mut self) {
        while self.pending.len() < self.window {
            let Some(item) = self.items.next() else {
                return;
            };
            let (tx, rx) = sync_channel(1);
            match item {
                Ok(t) => {
                    let f = Arc::clone(&self.f);
                    self.pool.spawn(move || {
                        let r = catch_unwind(AssertUnwindSafe(|| f(t)))
                            .unwrap_or_else(|p| Err(panic_to_error(p)));
                        let _ = tx.send(r);
                    });
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
            self.pending.push_back(rx);
        }
    }
}

impl<T, U, I, F> Iterator for MapOrdered<'_, I, F, U>
where
    T: Send + 'static,
    U: Send + 'static,
    I: Iterator<Item = Result<T>>,
    F: Fn(T) -> Result<U> + Send + Sync + 'static,
{
    type Item = Result<U>;

    fn next(&mut self) -> Option<Result<U>> {
        self.fill();
        let rx = self.pending.pop_front()?;
        let r = rx.recv().unwrap_or_else(|_| {
            Err(Error::new(
                Code::Unsupported,
                "a pipeline job ended without a result",
                "the worker thread stopped",
                "this is a bug: please report it",
            ))
        });
        self.fill();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn pool(n: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    }

    #[test]
    fn ordered_despite_uneven_work() {
        let p = pool(3);
        let out: Vec<usize> = map_ordered((0..30).map(Ok), 4, &p, |i: usize| {
            std::thread::sleep(Duration::from_micros(((30 - i) * 50) as u64));
            Ok(i + 1)
        })
        .map(|r| r.unwrap())
        .collect();
        assert_eq!(out, (1..31).collect::<Vec<_>>());
    }

    #[test]
    fn bounded_window() {
        let p = pool(2);
        let live = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (l2, p2) = (Arc::clone(&live), Arc::clone(&peak));
        let n = map_ordered((0..20).map(Ok), 2, &p, move |i: usize| {
            let now = l2.fetch_add(1, Ordering::SeqCst) + 1;
            p2.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            l2.fetch_sub(1, Ordering::SeqCst);
            Ok(i)
        })
        .count();
        assert_eq!(n, 20);
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn errors_pass_through_in_place() {
        let p = pool(2);
        let items = vec![
            Ok(1),
            Err(Error::new(Code::Store, "x", "y", "z")),
            Ok(3),
            Ok(4),
        ];
        let out: Vec<Result<i32>> = map_ordered(items.into_iter(), 3, &p, |x: i32| {
            if x == 4 {
                panic!("four");
            }
            Ok(x)
        })
        .collect();
        assert_eq!(out[0], Ok(1));
        assert_eq!(out[1].as_ref().unwrap_err().code(), Code::Store);
        assert_eq!(out[2], Ok(3));
        assert!(out[3].as_ref().unwrap_err().cause().contains("four"));
    }
}
