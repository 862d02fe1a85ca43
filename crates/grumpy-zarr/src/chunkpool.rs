//! Recycled chunk vectors. A reader's decoded-chunk cache holds one vector per chunk (or per
//! run of chunks read ahead together); fresh memory costs a page fault per 4 KiB on first
//! touch (the kernel zeroing each page), which costs more than reading the chunk file itself.
//! When the last cached chunk of a vector leaves the cache (evicted, or its reader dropped)
//! and nothing else holds it (no batch still views it), the vector comes here, and the next
//! chunk (or run) of the same type and length, of any reader, is read into it. A new
//! reader per epoch (`gr.open(path)` in a loop, a new `gr.stream`) then reads into memory that
//! is already mapped.
//!
//! The pool holds at most [`POOL_BYTES`] (the default cache size) in [`POOL_VECS`] vectors,
//! oldest dropped first, and is only ever taken with `try_lock` (an allocation never waits, and
//! a forked child whose parent held the lock simply bypasses it).
//!
//! ```text
//!   reader A cache: [c0][c1][c2]  --drop A-->  pool: [c0][c1][c2]
//!   reader B reads chunk 0:  pool.take() -> pread into it -> B's cache
//! ```

use grumpy_core::buffer::Buf;
use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

/// Bytes the pool keeps at most.
pub(crate) const POOL_BYTES: usize = 64 << 20;
/// Vectors the pool keeps at most.
pub(crate) const POOL_VECS: usize = 512;

/// A cached chunk: a `Buf<T>` behind `Any`.
pub(crate) type Chunk = Arc<dyn Any + Send + Sync>;

struct Kept {
    ty: TypeId,
    len: usize,
    bytes: usize,
    vec: Box<dyn Any + Send>,
}

struct Pool {
    kept: Vec<Kept>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    kept: Vec::new(),
    bytes: 0,
});

/// A kept vector of exactly `len` elements of `T` (stale contents: the caller overwrites all
/// of it), if any.
pub(crate) fn take<T: 'static>(len: usize) -> Option<Vec<T>> {
    let mut p = POOL.try_lock().ok()?;
    let ty = TypeId::of::<T>();
    let i = p.kept.iter().rposition(|k| k.ty == ty && k.len == len)?;
    let k = p.kept.swap_remove(i);
    p.bytes -= k.bytes;
    k.vec.downcast::<Vec<T>>().ok().map(|v| *v)
}

/// Keep the vector under `chunk` (a `Buf<T>`, maybe a slice of a vector holding several
/// chunks read together) when this is its last view; otherwise drop this reference.
pub(crate) fn give<T: Clone + Send + Sync + 'static>(chunk: Chunk) {
    let Ok(buf) = chunk.downcast::<Buf<T>>() else {
        return;
    };
    let Ok(buf) = Arc::try_unwrap(buf) else {
        return;
    };
    let Some(vec) = buf.into_storage() else {
        return; // a batch or another cached chunk still views it (or it is not owned memory)
    };
    keep(vec);
}

/// Keep a vector nothing views any more (the recycler of the buffers chunks are read into,
/// see [`Buf::from_vec_recycled`]: a chunk a batch still viewed when its reader was dropped
/// comes back when that batch is dropped).
pub(crate) fn keep<T: Send + 'static>(vec: Vec<T>) {
    let bytes = std::mem::size_of_val(vec.as_slice());
    if bytes == 0 || bytes > POOL_BYTES {
        return;
    }
    let Ok(mut p) = POOL.try_lock() else {
        return;
    };
    while !p.kept.is_empty() && (p.bytes + bytes > POOL_BYTES || p.kept.len() >= POOL_VECS) {
        let old = p.kept.remove(0);
        p.bytes -= old.bytes;
    }
    p.bytes += bytes;
    p.kept.push(Kept {
        ty: TypeId::of::<T>(),
        len: vec.len(),
        bytes,
        vec: Box::new(vec),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors come back by type and length, only when unshared, and the pool stays bounded.
    #[test]
    fn recycles_unshared_vectors_within_its_bound() {
        // (other tests may use the pool concurrently: every check here tolerates a miss)
        let n = 1234 + std::process::id() as usize % 7;
        let chunk = |v: Vec<f64>| -> Chunk { Arc::new(Buf::from_vec(v)) };
        give::<f64>(chunk(vec![1.5; n]));
        if let Some(v) = take::<f64>(n) {
            assert_eq!(v.len(), n);
            assert_eq!(v[n - 1], 1.5);
        }
        assert!(take::<i64>(n).is_none(), "another type never matches");
        // a chunk still viewed by a batch is not taken from it
        let b = Buf::from_vec(vec![2.0f64; n + 1]);
        let view = b.slice(1, 3);
        give::<f64>(Arc::new(b));
        assert_eq!(view.as_slice(), &[2.0, 2.0, 2.0]);
        // bounded
        for _ in 0..8 {
            give::<u8>(chunk_u8(POOL_BYTES / 4));
        }
        let p = POOL.lock().unwrap();
        assert!(p.bytes <= POOL_BYTES && p.kept.len() <= POOL_VECS);
        assert_eq!(p.bytes, p.kept.iter().map(|k| k.bytes).sum::<usize>());
    }

    /// A chunk read into a recycled buffer comes back when its last view goes, even when a
    /// batch outlives the cache that held it.
    #[test]
    fn a_recycled_chunk_comes_back_after_its_last_view() {
        // (another test may hold the pool's lock at the moment it comes back: then it is
        // dropped instead, so only the negative check is strict)
        let n = 4321 + std::process::id() as usize % 7;
        let b = Buf::from_vec_recycled(vec![3.5f64; n], keep::<f64>);
        let view = b.slice(1, 2);
        give::<f64>(Arc::new(b)); // the cache lets go first
        assert!(
            take::<f64>(n).is_none(),
            "a viewed chunk is never handed out"
        );
        assert_eq!(view.as_slice(), &[3.5, 3.5]);
        drop(view);
        if let Some(v) = take::<f64>(n) {
            assert_eq!((v.len(), v[0]), (n, 3.5));
        }
    }

    fn chunk_u8(n: usize) -> Chunk {
        Arc::new(Buf::from_vec(vec![0u8; n]))
    }
}
