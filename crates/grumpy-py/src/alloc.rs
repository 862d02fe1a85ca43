//! The extension's global allocator: the system allocator, plus `madvise(MADV_HUGEPAGE)` on
//! large blocks (as NumPy does for its data buffers). Ragged kernels produce fresh multi-MB
//! buffers per operation; with 4 KiB pages every such buffer costs thousands of page faults on
//! first touch, with transparent huge pages a few dozen.
//!
//! A small pool keeps the last few freed large blocks (at most [`POOL_SLOTS`] blocks and
//! [`POOL_BYTES`] bytes in all) and hands one back to an allocation of exactly its size and
//! alignment: an eager expression such as `(x * 2 + 1) * 3` frees and allocates same-sized
//! temporaries over and over, and with the pool they land in memory that is already mapped
//! instead of faulting in (and the kernel zeroing) fresh pages every time. The pool is taken
//! with `try_lock` only, so an allocation never waits (and a forked child whose parent held
//! the lock simply bypasses it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;

/// Freed blocks at least this large may be kept for reuse.
const POOL_MIN: usize = 4 << 20;
/// Blocks larger than this are returned to the system at once.
const POOL_MAX_BLOCK: usize = 128 << 20;
/// Number of blocks the pool holds at most.
const POOL_SLOTS: usize = 4;
/// Bytes the pool holds at most.
const POOL_BYTES: usize = 256 << 20;

/// A kept block: address, size, alignment (address 0 = empty slot).
#[derive(Clone, Copy)]
struct Slot {
    ptr: usize,
    size: usize,
    align: usize,
}

struct Pool {
    slots: [Slot; POOL_SLOTS],
    bytes: usize,
    /// Next slot to evict when full (oldest first).
    next: usize,
}

const EMPTY: Slot = Slot {
    ptr: 0,
    size: 0,
    align: 0,
};

static POOL: Mutex<Pool> = Mutex::new(Pool {
    slots: [EMPTY; POOL_SLOTS],
    bytes: 0,
    next: 0,
});

fn poolable(layout: &Layout) -> bool {
    (POOL_MIN..=POOL_MAX_BLOCK).contains(&layout.size())
}

/// A kept block of exactly this layout, if any.
fn take(layout: &Layout) -> Option<*mut u8> {
    let mut p = POOL.try_lock().ok()?;
    let i = p
        .slots
        .iter()
        .position(|s| s.ptr != 0 && s.size == layout.size() && s.align == layout.align())?;
    let s = std::mem::replace(&mut p.slots[i], EMPTY);
    p.bytes -= s.size;
    Some(s.ptr as *mut u8)
}

/// Keep a freed block; returns the block to free instead (the evicted oldest one, or this one
/// when the pool cannot take it).
fn keep(ptr: *mut u8, layout: &Layout) -> Option<(*mut u8, Layout)> {
    let Ok(mut p) = POOL.try_lock() else {
        return Some((ptr, *layout));
    };
    let slot = Slot {
        ptr: ptr as usize,
        size: layout.size(),
        align: layout.align(),
    };
    if let Some(i) = p.slots.iter().position(|s| s.ptr == 0) {
        if p.bytes + slot.size <= POOL_BYTES {
            p.slots[i] = slot;
            p.bytes += slot.size;
            return None;
        }
    }
    // Full (by count or bytes): replace the oldest block if that makes room.
    let i = p.next % POOL_SLOTS;
    p.next = p.next.wrapping_add(1);
    let old = p.slots[i];
    if old.ptr == 0 || p.bytes - old.size + slot.size > POOL_BYTES {
        return Some((ptr, *layout));
    }
    p.slots[i] = slot;
    p.bytes = p.bytes - old.size + slot.size;
    // SAFETY: the slot was filled from a live block of exactly this size and alignment.
    let old_layout = unsafe { Layout::from_size_align_unchecked(old.size, old.align) };
    Some((old.ptr as *mut u8, old_layout))
}

/// Blocks at least this large are advised to use huge pages.
const HUGE_MIN: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

pub(crate) struct HugePageAlloc;

#[cfg(target_os = "linux")]
fn advise(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size < HUGE_MIN {
        return;
    }
    // Round the start up to a huge-page boundary; advise only whole huge pages inside.
    let start = (ptr as usize).div_ceil(HUGE_PAGE) * HUGE_PAGE;
    let end = (ptr as usize + size) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        // SAFETY: [start, end) lies inside the block just returned by the system allocator,
        // and MADV_HUGEPAGE only changes how the kernel backs those pages (no data change).
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *mut u8, _size: usize) {}

// SAFETY: every method forwards to `System` with the same arguments and only adds an advisory
// `madvise` on the returned block, so the GlobalAlloc contract is `System`'s.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if poolable(&layout) {
            if let Some(p) = take(&layout) {
                return p;
            }
        }
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if poolable(&layout) {
            if let Some((p, l)) = keep(ptr, &layout) {
                // SAFETY: `p` is a live System block of layout `l` (this one, or an evicted
                // one that was kept with its layout).
                unsafe { System.dealloc(p, l) }
            }
            return;
        }
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_reuses_exact_layouts_and_stays_bounded() {
        let l = Layout::from_size_align(POOL_MIN + 64, 16).unwrap();
        let a = HugePageAlloc;
        // SAFETY: plain alloc/dealloc pairs of one layout; blocks are written before reuse.
        unsafe {
            let p = a.alloc(l);
            assert!(!p.is_null());
            p.write_bytes(7, l.size());
            a.dealloc(p, l);
            let q = a.alloc(l);
            // Another thread may have taken it; when ours, it is the same block.
            if q == p {
                assert_eq!(*q.add(l.size() - 1), 7);
            }
            a.dealloc(q, l);
            let many: Vec<*mut u8> = (0..POOL_SLOTS + 3).map(|_| a.alloc(l)).collect();
            for &m in &many {
                a.dealloc(m, l);
            }
        }
        let p = POOL.lock().unwrap();
        assert!(p.bytes <= POOL_BYTES);
        assert_eq!(
            p.bytes,
            p.slots.iter().map(|s| s.size).sum::<usize>(),
            "byte count matches the kept blocks"
        );
    }

    #[test]
    fn big_and_small_blocks_round_trip() {
        let mut v = vec![1u8; 9 << 20];
        v[(9 << 20) - 1] = 7;
        assert_eq!(
            v.iter().map(|&x| u64::from(x)).sum::<u64>(),
            (9 << 20) - 1 + 7
        );
        let s = [3u32; 10];
        assert_eq!(s.len(), 10);
    }
}
