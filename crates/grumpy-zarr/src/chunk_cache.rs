//! A reader's decoded-chunk cache: least-recently-used chunks up to a byte budget, one load per
//! chunk however many threads ask for it, and read-ahead for scans in order.
//!
//! ```text
//!   thread 1: chunk 4 ──miss──> mark 4 loading ──load──> insert 4, wake waiters
//!   thread 2: chunk 4 ──────────────── loading: wait ──> hit
//!   scan:     miss 5 right after miss 4 ──> load 5, 6, 7, 8 together (Rayon), insert all
//! ```
//!
//! Waiting cannot deadlock: a chunk is marked loading only by a thread that loads it at once
//! (for read-ahead, in a parallel loop over the chunks that it enters at once), a load never
//! waits for another chunk, and only threads outside Rayon pools wait: a pool thread that finds
//! a chunk loading loads it too, since the load it would wait for may be a job queued behind
//! it. A load that fails or panics unmarks its chunks, so waiters load them themselves (and
//! meet the error themselves).

use crate::chunkpool::{self, Chunk};
use crate::error::Result;
use bytemuck::Zeroable;
use grumpy_core::buffer::{Buf, WeakBuf};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Chunks a scan in order reads beyond the one it needs, in parallel with it (a run is this
/// plus one chunk). Runs of 8 rather than 4 keep the pool busy through more of a scan (fewer
/// runs end with one thread idle while the other finishes): an open scan of the protein store
/// took 7.75 instead of 8.6 ms per epoch (mean of 8 alternating runs), and its first stream
/// epoch ran faster in 4 of 4 pairs.
const READ_AHEAD: u64 = 7;

/// Where a cached chunk belongs: (buffer slot, chunk index).
type Key = (usize, u64);

/// A cache entry: the chunk (a `Buf<T>` behind `Any`; reads within one chunk are zero-copy
/// slices of it), its bytes, its last use, and what returns its vector to the pool.
type Entry = (Chunk, usize, u64, fn(Chunk));

#[derive(Default)]
struct Lru {
    map: HashMap<Key, Entry>,
    /// Chunks some thread is loading now, with the loading process's id: a child forked
    /// while a parent thread was loading inherits the mark but not the thread, so it ignores
    /// marks of another process instead of waiting for them forever.
    loading: HashMap<Key, u32>,
    bytes: usize,
    tick: u64,
}

impl Drop for Lru {
    /// Chunks no batch still views go back to the [`chunkpool`] for the next reader.
    fn drop(&mut self) {
        for (_, (chunk, _, _, give)) in self.map.drain() {
            give(chunk);
        }
    }
}

/// Per-buffer scan state.
pub(crate) struct ScanState {
    /// The chunk the buffer last had to load (`u64::MAX`: none yet).
    last: AtomicU64,
    /// The end of the chunks a scan has read ahead so far, in the foreground or the
    /// background (0: no scan yet).
    ahead: AtomicU64,
}

impl Default for ScanState {
    fn default() -> Self {
        ScanState {
            last: AtomicU64::new(u64::MAX),
            ahead: AtomicU64::new(0),
        }
    }
}

/// The cache of one reader (see the module docs).
pub(crate) struct ChunkCache {
    lru: Mutex<Lru>,
    loaded: Condvar,
    cap: usize,
    /// This cache among all the process has made (the key of the threads' [`MEMO`]s: an
    /// address could be reused by a later cache).
    id: u64,
}

/// Caches made so far in this process.
static CACHES: AtomicU64 = AtomicU64::new(0);

/// Slots of a thread's [`MEMO`].
const MEMO_SLOTS: usize = 4;

thread_local! {
    /// The chunks this thread last found in a cache, held weakly ([`WeakBuf`]): the next batch
    /// of a stream usually reads the same chunks on the same thread, and finding them here
    /// skips the cache's lock (for which the reader threads queued: 10-15% of a cached
    /// compiled epoch in the host's slow minutes). Getting one back is one atomic increment on
    /// the chunk's storage, the one a clone makes anyway; the two threads of a compiled epoch
    /// read the same chunks, so every extra increment there is a cache line passed between
    /// cores. Nothing here keeps chunk memory alive: once the cache drops a chunk's storage it
    /// is not found (a chunk evicted while the rest of its read-ahead run stays cached is still
    /// found: the data is the same). Hits do not count as uses for the LRU order.
    static MEMO: RefCell<[Option<(u64, Key, Box<dyn Any>)>; MEMO_SLOTS]> =
        const { RefCell::new([const { None }; MEMO_SLOTS]) };
}

/// Chunk `key` of cache `id`, if this thread found it there before and it is still held.
fn memo_get<T: 'static>(id: u64, key: Key) -> Option<Buf<T>> {
    MEMO.with_borrow(|m| {
        let (_, _, w) = m.iter().flatten().find(|(i, k, _)| *i == id && *k == key)?;
        w.downcast_ref::<WeakBuf<T>>()?.upgrade()
    })
}

/// Remember chunk `key` of cache `id` (replacing the oldest slot).
fn memo_put<T: 'static>(id: u64, key: Key, chunk: &Buf<T>) {
    MEMO.with_borrow_mut(|m| {
        m.rotate_right(1);
        m[0] = Some((id, key, Box::new(chunk.downgrade())));
    });
}

/// Unmarks chunks as loading when dropped (after a load, a failed load or a panic) and wakes
/// the threads waiting for them.
struct Loading<'a> {
    cache: &'a ChunkCache,
    keys: Vec<Key>,
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        let mut lru = self.cache.lock();
        for k in &self.keys {
            lru.loading.remove(k);
        }
        drop(lru);
        self.cache.loaded.notify_all();
    }
}

impl ChunkCache {
    /// An empty cache holding at most about `cap` bytes (always at least one chunk).
    pub(crate) fn new(cap: usize) -> ChunkCache {
        ChunkCache {
            lru: Mutex::new(Lru::default()),
            loaded: Condvar::new(),
            cap,
            id: CACHES.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes of the chunks held now.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Chunk `c` of the buffer in `slot` (of `chunks` chunks), from the cache, from the thread
    /// already loading it, or loaded here with `load`. A miss right after a miss on chunk
    /// `c - 1` of the same buffer (or on the last chunk it read ahead) is a scan in order: the
    /// next [`READ_AHEAD`] chunks are loaded at the same time, with `load_run(c, m)` (chunks
    /// `c..c + m` read in parallel into one vector, returned as its `m` slices, so a read
    /// across two of them is still one zero-copy view; `Ok(None)` when it cannot), else with
    /// `load` in a parallel loop, on the Rayon pool.
    pub(crate) fn get<T, F, R>(
        &self,
        slot: usize,
        scan: &ScanState,
        chunks: u64,
        c: u64,
        load: F,
        load_run: R,
    ) -> Result<Buf<T>>
    where
        T: Zeroable + Default + Clone + Send + Sync + 'static,
        F: Fn(u64) -> Result<Buf<T>> + Sync,
        R: Fn(u64, usize) -> Result<Option<Vec<Buf<T>>>>,
    {
        let key = (slot, c);
        if let Some(v) = memo_get::<T>(self.id, key) {
            return Ok(v);
        }
        let me = grumpy_core::pool::pid();
        let mut lru = self.lock();
        let sequential = loop {
            lru.tick += 1;
            let tick = lru.tick;
            if let Some(entry) = lru.map.get_mut(&key) {
                entry.2 = tick;
                if let Some(v) = entry.0.downcast_ref::<Buf<T>>() {
                    let v = v.clone();
                    memo_put(self.id, key, &v);
                    return Ok(v);
                }
            }
            if lru.loading.get(&key) != Some(&me) {
                break scan.last.swap(c, Ordering::Relaxed) == c.wrapping_sub(1) && c > 0;
            }
            if rayon::current_thread_index().is_some() {
                // a pool thread never waits: the load it would wait for may be a job queued
                // behind it in the same pool; it loads the chunk alongside instead
                drop(lru);
                let v = load(c)?;
                self.insert(key, &v);
                return Ok(v);
            }
            lru = self.loaded.wait(lru).unwrap_or_else(|p| p.into_inner());
        };
        let mut keys = vec![key];
        if sequential {
            for k in c + 1..(c + 1 + READ_AHEAD).min(chunks) {
                let nk = (slot, k);
                if lru.map.contains_key(&nk) || lru.loading.get(&nk) == Some(&me) {
                    break;
                }
                keys.push(nk);
            }
            scan.last
                .store(c + keys.len() as u64 - 1, Ordering::Relaxed);
            scan.ahead.store(c + keys.len() as u64, Ordering::Relaxed);
        }
        lru.loading.extend(keys.iter().map(|&k| (k, me)));
        drop(lru);
        let _loading = Loading {
            cache: self,
            keys: keys.clone(),
        };
        if keys.len() == 1 {
            let v = load(c)?;
            self.insert(key, &v);
            return Ok(v);
        }
        let mut loaded: Vec<Result<Buf<T>>> = match load_run(c, keys.len()) {
            Ok(Some(run)) if run.len() == keys.len() => run.into_iter().map(Ok).collect(),
            Ok(_) => keys.par_iter().map(|&(_, k)| load(k)).collect(),
            // (a chunk read ahead is bad: load the one asked for alone; the bad one reports
            // its error when a read needs it)
            Err(_) => vec![load(c)],
        };
        for (&k, w) in keys.iter().zip(&loaded).skip(1) {
            // (an error there is met again, and reported, when a read needs that chunk)
            if let Ok(w) = w {
                self.insert(k, w);
            }
        }
        let v = loaded.swap_remove(0)?;
        self.insert(key, &v);
        Ok(v)
    }

    /// Keep a scan one run ahead: when chunk `c` (just read) is in the last run read ahead
    /// for this buffer, start loading the next [`READ_AHEAD`]` + 1` chunks in the background
    /// with `run(first, m)` (see [`ChunkCache::get`]) and return at once. The chunks are marked
    /// loading, so a reader that needs one waits for it instead of reading it again. Random
    /// access (a chunk outside that run) starts nothing.
    pub(crate) fn read_ahead_in_background<T, R>(
        self: &Arc<Self>,
        slot: usize,
        scan: &ScanState,
        chunks: u64,
        c: u64,
        run: R,
    ) where
        T: Zeroable + Default + Clone + Send + Sync + 'static,
        R: FnOnce(u64, usize) -> Result<Option<Vec<Buf<T>>>> + Send + 'static,
    {
        let end = scan.ahead.load(Ordering::Relaxed);
        if end <= c || end > c + READ_AHEAD + 1 || end >= chunks {
            return;
        }
        let me = grumpy_core::pool::pid();
        let mut lru = self.lock();
        if scan.ahead.load(Ordering::Relaxed) != end {
            return; // another thread started it
        }
        // (chunks cached already, e.g. by an earlier scan, move the frontier for free)
        let limit = (end + READ_AHEAD + 1).min(chunks);
        let first = (end..limit)
            .find(|&k| !lru.map.contains_key(&(slot, k)))
            .unwrap_or(limit);
        let keys: Vec<Key> = (first..(first + READ_AHEAD + 1).min(chunks))
            .map(|k| (slot, k))
            .take_while(|k| !lru.map.contains_key(k) && !lru.loading.contains_key(k))
            .collect();
        scan.ahead
            .store(first + keys.len() as u64, Ordering::Relaxed);
        if keys.is_empty() {
            return;
        }
        lru.loading.extend(keys.iter().map(|&k| (k, me)));
        drop(lru);
        let m = keys.len();
        self.load_marked(keys, move || run(first, m));
    }

    /// Load the chunks `keys`, which the caller has just marked loading, on the pool with
    /// `load` (their buffers in order), insert them and unmark them. A failure or a panic
    /// keeps nothing: the reader that needs a chunk meets the error again.
    fn load_marked<T, F>(self: &Arc<Self>, keys: Vec<Key>, load: F)
    where
        T: Zeroable + Default + Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<Option<Vec<Buf<T>>>> + Send + 'static,
    {
        let cache = Arc::clone(self);
        grumpy_core::pool::spawn(move || {
            let _loading = Loading {
                cache: &cache,
                keys: keys.clone(),
            };
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
            if let Ok(Ok(Some(bufs))) = loaded {
                for (&k, b) in keys.iter().zip(&bufs) {
                    cache.insert(k, b);
                }
            }
        });
    }

    /// Start loading chunk `c` of the buffer in `slot` in the background with `load` (`None`:
    /// it cannot, the reader that needs it loads it itself), unless it is cached or loading;
    /// return at once. The chunk is marked loading, so a reader that needs it waits for this
    /// load instead of starting its own, and it counts as that reader's miss on `c` (a scan
    /// that goes on to `c + 1` still reads ahead).
    pub(crate) fn load_in_background<T, F>(
        self: &Arc<Self>,
        slot: usize,
        scan: &ScanState,
        c: u64,
        load: F,
    ) where
        T: Zeroable + Default + Clone + Send + Sync + 'static,
        F: FnOnce(u64) -> Result<Option<Buf<T>>> + Send + 'static,
    {
        let key = (slot, c);
        let me = grumpy_core::pool::pid();
        let mut lru = self.lock();
        if lru.map.contains_key(&key) || lru.loading.get(&key) == Some(&me) {
            return;
        }
        lru.loading.insert(key, me);
        scan.last.store(c, Ordering::Relaxed);
        drop(lru);
        self.load_marked(vec![key], move || Ok(load(c)?.map(|b| vec![b])));
    }

    /// Block until no chunk is being loaded (background read-ahead included).
    pub(crate) fn wait_idle(&self) {
        let me = grumpy_core::pool::pid();
        let mut lru = self.lock();
        while lru.loading.values().any(|&p| p == me) {
            lru = self.loaded.wait(lru).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Put a chunk in the cache, evicting the least recently used chunks over the budget.
    fn insert<T: Zeroable + Default + Clone + Send + Sync + 'static>(&self, key: Key, v: &Buf<T>) {
        let size = v.len() * std::mem::size_of::<T>();
        let mut evicted = Vec::new();
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        let entry: Entry = (Arc::new(v.clone()), size, tick, chunkpool::give::<T>);
        if let Some(old) = lru.map.insert(key, entry) {
            lru.bytes -= old.1;
            evicted.push(old);
        }
        lru.bytes += size;
        while lru.bytes > self.cap && lru.map.len() > 1 {
            let Some(oldest) = lru.map.iter().min_by_key(|(_, e)| e.2).map(|(k, _)| *k) else {
                break;
            };
            if let Some(e) = lru.map.remove(&oldest) {
                lru.bytes -= e.1;
                evicted.push(e);
            }
        }
        drop(lru);
        for (chunk, _, _, give) in evicted {
            give(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Chunks read ahead past the one asked for.
    const R: usize = READ_AHEAD as usize;

    fn chunk(c: u64) -> Buf<f64> {
        Buf::from_vec(vec![c as f64; 4])
    }

    /// A buffer without runs read into one vector (chunks read ahead one by one).
    fn no_run(_c: u64, _m: usize) -> Result<Option<Vec<Buf<f64>>>> {
        Ok(None)
    }

    /// Chunk `c` (of 10) loaded without failure: its length.
    fn get_ok(cache: &ChunkCache, scan: &ScanState, c: u64) -> usize {
        cache
            .get(0, scan, 10, c, |c| Ok(chunk(c)), no_run)
            .unwrap()
            .len()
    }

    #[test]
    fn threads_asking_for_one_chunk_load_it_once() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let loads = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let v = cache
                        .get(
                            0,
                            &scan,
                            10,
                            3,
                            |c| {
                                loads.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_millis(20));
                                Ok(chunk(c))
                            },
                            no_run,
                        )
                        .unwrap();
                    assert_eq!(v.as_slice(), &[3.0; 4]);
                });
            }
        });
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    /// A thread finds a chunk it found before without the cache's lock, until the chunk is
    /// evicted: then it loads it again.
    #[test]
    fn a_thread_finds_its_last_chunks_without_the_lock_until_they_are_evicted() {
        let cache = Arc::new(ChunkCache::new(64)); // two chunks of 32 bytes
        let loads_of_3 = Arc::new(AtomicUsize::new(0));
        let (c2, l2) = (Arc::clone(&cache), Arc::clone(&loads_of_3));
        let (to_test, from_thread) = std::sync::mpsc::channel();
        let (to_thread, from_test) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let scan = ScanState::default();
            let get = |c: u64| {
                let load = |c| {
                    if c == 3 {
                        l2.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(chunk(c))
                };
                c2.get(0, &scan, 10, c, load, no_run).unwrap()
            };
            get(3); // loaded
            get(3); // found under the lock: remembered
            to_test.send(-1.0).unwrap();
            from_test.recv().unwrap(); // the test now holds the lock
            to_test.send(get(3)[0]).unwrap();
            from_test.recv().unwrap(); // lock released
            get(8);
            get(9); // (chunk 3 evicted)
            to_test.send(get(3)[0]).unwrap();
        });
        let wait = std::time::Duration::from_secs(10);
        assert_eq!(from_thread.recv_timeout(wait), Ok(-1.0));
        let guard = cache.lock();
        to_thread.send(()).unwrap();
        assert_eq!(
            from_thread.recv_timeout(wait),
            Ok(3.0),
            "blocked on the lock"
        );
        drop(guard);
        assert_eq!(loads_of_3.load(Ordering::SeqCst), 1);
        to_thread.send(()).unwrap();
        assert_eq!(from_thread.recv_timeout(wait), Ok(3.0));
        assert_eq!(
            loads_of_3.load(Ordering::SeqCst),
            2,
            "an evicted chunk was served"
        );
    }

    #[test]
    fn marks_of_another_process_are_not_waited_for() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        // as after a fork: a mark left by a thread of the parent process
        cache
            .lock()
            .loading
            .insert((0, 3), std::process::id().wrapping_add(1));
        assert_eq!(get_ok(&cache, &scan, 3), 4);
    }

    #[test]
    fn pool_threads_never_wait_for_a_load() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        // a load that will never finish (as if queued behind this very thread)
        cache.lock().loading.insert((0, 3), std::process::id());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| get_ok(&cache, &scan, 3)), 4);
    }

    #[test]
    fn a_failed_load_lets_the_next_thread_try() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let fail = |_c: u64| -> Result<Buf<f64>> {
            Err(crate::error::store_error("bad chunk", "test", "none"))
        };
        assert!(cache.get(0, &scan, 10, 2, fail, no_run).is_err());
        assert_eq!(get_ok(&cache, &scan, 2), 4);
        assert_eq!(cache.bytes(), 32);
    }

    #[test]
    fn a_panicking_load_does_not_strand_waiters() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = cache.get(
                0,
                &scan,
                10,
                1,
                |_c| -> Result<Buf<f64>> { panic!("boom") },
                no_run,
            );
        }));
        assert!(r.is_err());
        assert_eq!(get_ok(&cache, &scan, 1), 4);
    }

    #[test]
    fn a_failed_read_ahead_is_not_cached() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let load = |c: u64| {
            if c == 6 {
                Err(crate::error::store_error("bad chunk", "test", "none"))
            } else {
                Ok(chunk(c))
            }
        };
        cache.get(0, &scan, 40, 4, load, no_run).unwrap();
        cache.get(0, &scan, 40, 5, load, no_run).unwrap(); // scan: 5..=5 + R, 6 fails quietly
        assert_eq!(cache.bytes(), (R + 1) * 32); // 4 and 5..=5 + R but 6
        assert!(cache.get(0, &scan, 40, 6, load, no_run).is_err());
    }

    /// Chunks `c..c + m` of 4 values each, read into one vector.
    fn run(c: u64, m: usize) -> Result<Option<Vec<Buf<f64>>>> {
        let v: Vec<f64> = (0..m * 4).map(|i| (c + i as u64 / 4) as f64).collect();
        let all = Buf::from_vec(v);
        Ok(Some((0..m).map(|i| all.slice(i * 4, 4)).collect()))
    }

    #[test]
    fn chunks_read_ahead_together_are_neighbours_in_one_vector() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let load = |c: u64| Ok(chunk(c));
        let last = 5 + READ_AHEAD;
        cache.get(0, &scan, 40, 4, load, run).unwrap();
        let five = cache.get(0, &scan, 40, 5, load, run).unwrap(); // scan: 5..=last at once
        let six = cache
            .get(0, &scan, 40, 6, |_| panic!("cached"), run)
            .unwrap();
        let end = cache
            .get(0, &scan, 40, last, |_| panic!("cached"), run)
            .unwrap();
        assert_eq!(six.as_slice(), &[6.0; 4]);
        assert_eq!(end.as_slice(), &[last as f64; 4]);
        let both = five
            .joined(&six)
            .expect("5 and 6 are neighbours in one vector");
        assert_eq!(both.as_slice(), &[5.0, 5.0, 5.0, 5.0, 6.0, 6.0, 6.0, 6.0]);
        assert_eq!(cache.bytes(), (R + 2) * 32);
    }

    #[test]
    fn a_failed_run_loads_the_chunk_asked_for_alone() {
        let cache = ChunkCache::new(1 << 20);
        let scan = ScanState::default();
        let bad_run = |_c: u64, _m: usize| -> Result<Option<Vec<Buf<f64>>>> {
            Err(crate::error::store_error("bad chunk", "test", "none"))
        };
        let load = |c: u64| Ok(chunk(c));
        cache.get(0, &scan, 10, 0, load, bad_run).unwrap();
        let one = cache.get(0, &scan, 10, 1, load, bad_run).unwrap();
        assert_eq!(one.as_slice(), &[1.0; 4]);
        assert_eq!(cache.bytes(), 2 * 32); // 0 and 1 only
    }

    #[test]
    fn a_scan_stays_one_run_ahead_in_the_background() {
        let cache = Arc::new(ChunkCache::new(1 << 20));
        let scan = ScanState::default();
        let load = |c: u64| Ok(chunk(c));
        cache.get(0, &scan, 40, 0, load, run).unwrap();
        cache.get(0, &scan, 40, 1, load, run).unwrap(); // 1..=1 + R
        let outside = 2 * READ_AHEAD + 3;
        cache.read_ahead_in_background::<f64, _>(0, &scan, 40, outside, run); // not in that run
        cache.wait_idle();
        assert_eq!(cache.bytes(), (R + 2) * 32);
        cache.read_ahead_in_background::<f64, _>(0, &scan, 40, 1, run); // in it: the next R + 1
        cache.read_ahead_in_background::<f64, _>(0, &scan, 40, 2, run); // started already
        cache.wait_idle();
        assert_eq!(cache.bytes(), (2 * R + 3) * 32);
        let c = 3 + READ_AHEAD;
        let got = cache.get(0, &scan, 40, c, |_| panic!("read ahead"), run);
        assert_eq!(got.unwrap().as_slice(), &[c as f64; 4]);
    }

    #[test]
    fn a_panicking_background_read_leaves_its_chunks_to_readers() {
        let cache = Arc::new(ChunkCache::new(1 << 20));
        let scan = ScanState::default();
        let load = |c: u64| Ok(chunk(c));
        cache.get(0, &scan, 40, 0, load, no_run).unwrap();
        cache.get(0, &scan, 40, 1, load, no_run).unwrap(); // 1..=1 + R, one by one
        cache.read_ahead_in_background::<f64, _>(0, &scan, 40, 2, |_c, _m| panic!("boom"));
        cache.wait_idle();
        assert_eq!(cache.bytes(), (R + 2) * 32);
        let next = cache.get(0, &scan, 40, 2 + READ_AHEAD, load, no_run);
        assert_eq!(next.unwrap().len(), 4);
    }

    #[test]
    fn background_read_ahead_skips_chunks_cached_already() {
        let cache = Arc::new(ChunkCache::new(1 << 20));
        let scan = ScanState::default();
        let load = |c: u64| Ok(chunk(c));
        let (a, b) = (READ_AHEAD + 3, READ_AHEAD + 2);
        for c in [a, b, 0, 1] {
            cache.get(0, &scan, 40, c, load, run).unwrap(); // a, b, 0 alone; then 1..=1 + R
        }
        assert_eq!(cache.bytes(), (R + 4) * 32);
        // the next run starts after a and b: a + 1..=a + 1 + R
        cache.read_ahead_in_background::<f64, _>(0, &scan, 40, 2, run);
        cache.wait_idle();
        assert_eq!(cache.bytes(), (2 * R + 5) * 32);
        let last = a + 1 + READ_AHEAD;
        let got = cache.get(0, &scan, 40, last, |_| panic!("read ahead"), run);
        assert_eq!(got.unwrap().as_slice(), &[last as f64; 4]);
    }
}
