//! [`ChunkCache`]: a thread-safe, byte-bounded LRU cache of decoded chunks, so that batches
//! sharing a chunk (neighbouring row ranges, a chunk straddling two batches) decode it once.
//! A store reader keys it by `(buffer, chunk index)`.
//!
//! ```
//! use grumpy_zarr::stream::ChunkCache;
//! let cache: ChunkCache<(u32, u64), Vec<u8>> = ChunkCache::new(10);
//! let a = cache.get_or_load((0, 0), |v| v.len(), || Ok(vec![1u8; 6])).unwrap();
//! let b = cache.get_or_load((0, 0), |v| v.len(), || unreachable!()).unwrap();
//! assert!(std::sync::Arc::ptr_eq(&a, &b));
//! cache.get_or_load((0, 1), |v| v.len(), || Ok(vec![2u8; 6])).unwrap(); // evicts (0, 0)
//! assert_eq!(cache.bytes(), 6);
//! ```

use grumpy_core::Result;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

struct Entry<V> {
    value: Arc<V>,
    bytes: usize,
    used: u64,
}

struct Inner<K, V> {
    map: HashMap<K, Entry<V>>,
    bytes: usize,
    tick: u64,
}

/// A byte-bounded least-recently-used cache (see the module docs).
pub struct ChunkCache<K, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V> ChunkCache<K, V> {
    /// A cache holding at most `capacity` bytes (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        ChunkCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                tick: 0,
            }),
            capacity,
        }
    }

    /// Bytes currently held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value for `key`, or `load()` it (outside the lock) and cache it; `size`
    /// gives a value's bytes. Values larger than the capacity are returned but not kept.
    pub fn get_or_load(
        &self,
        key: K,
        size: impl Fn(&V) -> usize,
        load: impl FnOnce() -> Result<V>,
    ) -> Result<Arc<V>> {
        {
            let mut g = self.lock();
            g.tick += 1;
            let t = g.tick;
            if let Some(e) = g.map.get_mut(&key) {
                e.used = t;
                return Ok(Arc::clone(&e.value));
            }
        }
        let value = Arc::new(load()?);
        let bytes = size(&value);
        if bytes > self.capacity {
            return Ok(value);
        }
        let mut g = self.lock();
        g.tick += 1;
        let t = g.tick;
        if let Some(e) = g.map.get_mut(&key) {
            // another thread loaded it meanwhile: keep one copy
            e.used = t;
            return Ok(Arc::clone(&e.value));
        }
        while g.bytes + bytes > self.capacity {
            let Some(old) = g
                .map
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = g.map.remove(&old) {
                g.bytes -= e.bytes;
            }
        }
        g.bytes += bytes;
        g.map.insert(
            key,
            Entry {
                value: Arc::clone(&value),
                bytes,
                used: t,
            },
        );
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grumpy_core::{Code, Error};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn lru_eviction_and_bound() {
        let c: ChunkCache<u32, Vec<u8>> = ChunkCache::new(30);
        let loads = AtomicUsize::new(0);
        let get = |k: u32| {
            c.get_or_load(
                k,
                |v| v.len(),
                || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![k as u8; 10])
                },
            )
            .unwrap()
        };
        get(1);
        get(2);
        get(3);
        get(1); // 1 is now most recent
        get(4); // evicts 2
        assert_eq!(loads.load(Ordering::SeqCst), 4);
        get(1);
        get(3);
        assert_eq!(loads.load(Ordering::SeqCst), 4);
        get(2);
        assert_eq!(loads.load(Ordering::SeqCst), 5);
        assert!(c.bytes() <= 30 && c.len() == 3);
    }

    #[test]
    fn oversized_and_errors_not_cached() {
        let c: ChunkCache<u32, Vec<u8>> = ChunkCache::new(5);
        assert_eq!(
            c.get_or_load(1, |v| v.len(), || Ok(vec![0; 9]))
                .unwrap()
                .len(),
            9
        );
        assert!(c.is_empty());
        let e = c
            .get_or_load(
                2,
                |v| v.len(),
                || Err(Error::new(Code::Store, "gone", "x", "y")),
            )
            .unwrap_err();
        assert_eq!(e.code(), Code::Store);
        assert!(c.is_empty());
        let z: ChunkCache<u32, Vec<u8>> = ChunkCache::new(0);
        z.get_or_load(1, |v| v.len(), || Ok(vec![1])).unwrap();
        assert!(z.is_empty());
    }

    #[test]
    fn shared_across_threads() {
        let c = Arc::new(ChunkCache::<u32, Vec<u8>>::new(1000));
        let loads = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (c, l) = (Arc::clone(&c), Arc::clone(&loads));
                std::thread::spawn(move || {
                    for k in 0..20 {
                        c.get_or_load(
                            k,
                            |v| v.len(),
                            || {
                                l.fetch_add(1, Ordering::SeqCst);
                                Ok(vec![0; 10])
                            },
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.len(), 20);
        assert!(loads.load(Ordering::SeqCst) >= 20);
    }
}
