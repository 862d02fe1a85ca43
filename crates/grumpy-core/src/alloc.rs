//! [`BufferAlloc`], a global allocator for programs that run grumpy kernels (the Python
//! extension installs it): a base allocator, plus a small cache of freed blocks and
//! `madvise(MADV_HUGEPAGE)` on large ones (as NumPy does for its data buffers).
//!
//! The base is the system allocator; with the `mimalloc` feature (the Python extension turns
//! it on) blocks under 64 KiB come from mimalloc instead. A stream's batches and results are
//! made on reader threads and freed on the consumer's, and glibc frees a block under the lock
//! of the arena (thread) that made it: in a compiled stream epoch of small batches the threads
//! waited on each other's arena locks for 14% of the CPU time. mimalloc hands a block freed by
//! another thread back to its owner without a lock; the same epoch ran 4-32% faster with it
//! (4 interleaved process pairs, the larger gains when the host was slow). Large blocks stay with the
//! system, which returns freed ones to the kernel at once: with every block from mimalloc,
//! which keeps freed memory for reuse, `gr.load`'s peak memory went from 1.07 to 1.30 times
//! the data.
//!
//! Ragged kernels and stream batches produce a fresh buffer of a few hundred KiB to a few
//! hundred MiB per operation. Handed straight to the system allocator, each one costs page
//! faults and kernel zeroing of its pages: glibc maps blocks above its (moving) threshold
//! afresh, and trims its heap back to the system whenever the freed space at its top passes
//! twice that threshold, which a stream of similar-sized temporaries does on every batch. At a
//! batch of 64 proteins (400 KB temporaries) that made `((b * 0.01) + 1.0).mean(dim=1)` three
//! times slower than at 32 or 128.
//!
//! So blocks from 64 KiB to 128 MiB are requested rounded up to a size class (eight per
//! doubling: at most 12.5% more address space, and untouched tail pages are never made
//! resident), and a freed one is kept in a small cache (at most 16 blocks and 256 MiB) that
//! serves the next allocation of the same class and alignment: the next batch's temporaries,
//! of a slightly different size, land in memory already mapped. The cache is taken with
//! `try_lock` only, so an allocation never waits (and a forked child whose parent held the
//! lock simply bypasses it).
//!
//! Cacheable blocks also start on a page boundary, whatever alignment was asked for. glibc
//! hands out large blocks 16 bytes past one, and on our AMD EPYC hosts the kernel copies a
//! cached file page into a destination 8 or 16 bytes off its alignment at a third of the speed
//! (`pread` of a store's chunk files: 1.7 against 4.7 GB/s). The system's zeroed allocation
//! cannot align to a page, so `alloc_zeroed` takes such a block (a kept one when it can) and
//! clears it.
//!
//! The invariant that makes reuse safe: every live block whose layout size is cacheable was
//! obtained from the system with the rounded size of its class (by `alloc`, `alloc_zeroed` or
//! `realloc`), so any block of that class can serve any layout of that class.

use std::alloc::{GlobalAlloc, Layout, System};

/// Where blocks under [`CACHE_MIN`] come from: mimalloc with the `mimalloc` feature (see the
/// module doc), else the system allocator. Larger blocks always come from the system.
#[cfg(feature = "mimalloc")]
use mimalloc::MiMalloc as Small;
#[cfg(not(feature = "mimalloc"))]
use std::alloc::System as Small;

/// Whether a block of this (layout or real) size comes from [`Small`] rather than the system:
/// the same answer for a block's layout and its real layout, so alloc, realloc and dealloc
/// agree on where it lives.
fn small(size: usize) -> bool {
    size < CACHE_MIN
}

/// The base allocation for a real layout (see [`small`]).
///
/// # Safety
/// `GlobalAlloc::alloc`'s contract.
unsafe fn base_alloc(l: Layout) -> *mut u8 {
    // SAFETY: forwarded contract.
    unsafe {
        if small(l.size()) {
            Small.alloc(l)
        } else {
            System.alloc(l)
        }
    }
}

/// The base allocator's zeroed allocation for a real layout (see [`small`]).
///
/// # Safety
/// `GlobalAlloc::alloc_zeroed`'s contract.
unsafe fn base_alloc_zeroed(l: Layout) -> *mut u8 {
    // SAFETY: forwarded contract.
    unsafe {
        if small(l.size()) {
            Small.alloc_zeroed(l)
        } else {
            System.alloc_zeroed(l)
        }
    }
}

/// Free a base block of real layout `l` (see [`small`]).
///
/// # Safety
/// `GlobalAlloc::dealloc`'s contract, for a block [`base_alloc`] made with `l`.
unsafe fn base_dealloc(p: *mut u8, l: Layout) {
    // SAFETY: forwarded contract.
    unsafe {
        if small(l.size()) {
            Small.dealloc(p, l)
        } else {
            System.dealloc(p, l)
        }
    }
}

/// Resize a base block of real layout `old` to `new_size` bytes (see [`small`]): in place in
/// its allocator, or moved to the other one when the size crosses [`CACHE_MIN`].
///
/// # Safety
/// `GlobalAlloc::realloc`'s contract, for a block [`base_alloc`] made with `old`.
unsafe fn base_realloc(p: *mut u8, old: Layout, new_size: usize) -> *mut u8 {
    // SAFETY: forwarded contract; when moving, both blocks are live and distinct and the
    // smaller size lies within both.
    unsafe {
        match (small(old.size()), small(new_size)) {
            (true, true) => Small.realloc(p, old, new_size),
            (false, false) => System.realloc(p, old, new_size),
            _ => {
                let q = base_alloc(Layout::from_size_align_unchecked(new_size, old.align()));
                if !q.is_null() {
                    std::ptr::copy_nonoverlapping(p, q, old.size().min(new_size));
                    base_dealloc(p, old);
                }
                q
            }
        }
    }
}
use std::sync::Mutex;

/// Blocks at least this large are rounded to a size class and may be kept for reuse.
const CACHE_MIN: usize = 64 << 10;
/// Blocks larger than this are left to the system allocator as they are.
const CACHE_MAX: usize = 128 << 20;
/// Size classes per doubling, as a power of two (2^3 = 8).
const CLASS_BITS: u32 = 3;
/// Number of blocks the cache holds at most.
const SLOTS: usize = 16;
/// Bytes the cache holds at most.
const CACHE_BYTES: usize = 256 << 20;

/// Whether blocks of this size are rounded to a class and cached.
fn cacheable(size: usize) -> bool {
    (CACHE_MIN..=CACHE_MAX).contains(&size)
}

/// The size class of a cacheable size: rounded up to a multiple of 1/8 of its power of two.
fn class(size: usize) -> usize {
    let log = usize::BITS - 1 - size.leading_zeros();
    let step = 1usize << (log - CLASS_BITS);
    size.div_ceil(step) * step
}

/// Cacheable blocks start on a page boundary (or the layout's own larger alignment).
const BLOCK_ALIGN: usize = 4096;

/// The layout actually requested from the system for `layout`.
fn real(layout: &Layout) -> Layout {
    if cacheable(layout.size()) {
        // SAFETY: the alignment is a power of two (the layout's own or a page), and a class is
        // at most 2 * CACHE_MAX, so rounding it up to that alignment cannot pass isize::MAX.
        unsafe {
            Layout::from_size_align_unchecked(class(layout.size()), layout.align().max(BLOCK_ALIGN))
        }
    } else {
        *layout
    }
}

/// A kept block: address, real size, alignment (null = empty slot).
#[derive(Clone, Copy)]
struct Slot {
    ptr: *mut u8,
    size: usize,
    align: usize,
}

struct Cache {
    slots: [Slot; SLOTS],
    bytes: usize,
    /// Next slot to evict when full (oldest first).
    next: usize,
}

// SAFETY: a kept block is owned by the cache alone (freed by its owner, not yet handed out
// again), so moving its address between threads shares nothing.
unsafe impl Send for Slot {}

const EMPTY: Slot = Slot {
    ptr: std::ptr::null_mut(),
    size: 0,
    align: 0,
};

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    slots: [EMPTY; SLOTS],
    bytes: 0,
    next: 0,
});

/// A kept block of exactly this real layout, if any.
fn take(real: &Layout) -> Option<*mut u8> {
    let mut c = CACHE.try_lock().ok()?;
    let i = c
        .slots
        .iter()
        .position(|s| !s.ptr.is_null() && s.size == real.size() && s.align == real.align())?;
    let s = std::mem::replace(&mut c.slots[i], EMPTY);
    c.bytes -= s.size;
    Some(s.ptr)
}

/// Keep a freed block of real layout `real`; returns the block to free instead (the evicted
/// oldest one, or this one when the cache cannot take it).
fn keep(ptr: *mut u8, real: &Layout) -> Option<(*mut u8, Layout)> {
    let Ok(mut c) = CACHE.try_lock() else {
        return Some((ptr, *real));
    };
    let slot = Slot {
        ptr,
        size: real.size(),
        align: real.align(),
    };
    if let Some(i) = c.slots.iter().position(|s| s.ptr.is_null()) {
        if c.bytes + slot.size <= CACHE_BYTES {
            c.slots[i] = slot;
            c.bytes += slot.size;
            return None;
        }
    }
    // Full (by count or bytes): replace the oldest block if that makes room.
    let i = c.next % SLOTS;
    c.next = c.next.wrapping_add(1);
    let old = c.slots[i];
    if old.ptr.is_null() || c.bytes - old.size + slot.size > CACHE_BYTES {
        return Some((ptr, *real));
    }
    c.slots[i] = slot;
    c.bytes = c.bytes - old.size + slot.size;
    // SAFETY: the slot was filled from a live block of exactly this size and alignment.
    let old_layout = unsafe { Layout::from_size_align_unchecked(old.size, old.align) };
    Some((old.ptr, old_layout))
}

/// Blocks at least this large are advised to use huge pages.
#[cfg(all(target_os = "linux", not(miri)))]
const HUGE_MIN: usize = 4 << 20;
#[cfg(all(target_os = "linux", not(miri)))]
const HUGE_PAGE: usize = 2 << 20;

/// The base allocators (see the module doc) with a size-class cache for buffer-sized blocks and huge-page advice
/// for large ones (see the module doc). Install it in a program that runs grumpy kernels over
/// streams of batches:
///
/// ```
/// #[global_allocator]
/// static ALLOC: grumpy_core::alloc::BufferAlloc = grumpy_core::alloc::BufferAlloc;
///
/// let v = vec![1.0f64; 50_000]; // 400 KB: a cached size class
/// assert_eq!(v.iter().sum::<f64>(), 50_000.0);
/// ```
pub struct BufferAlloc;

#[cfg(all(target_os = "linux", not(miri)))]
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
            let at = ptr.add(start - ptr as usize).cast::<libc::c_void>();
            libc::madvise(at, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(all(target_os = "linux", not(miri))))]
fn advise(_ptr: *mut u8, _size: usize) {}

// SAFETY: every method forwards to the base allocators (`Small` below `CACHE_MIN`, the
// system from there; see `small`), with cacheable sizes rounded up to their class
// (the real layout, used for the block's whole life: see the module doc), and adds an advisory
// `madvise`; a kept block is only handed out again for a layout of its class and alignment,
// which it is large enough for.
unsafe impl GlobalAlloc for BufferAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let real = real(&layout);
        if cacheable(layout.size()) {
            if let Some(p) = take(&real) {
                return p;
            }
        }
        // SAFETY: forwarded contract (`real` is at least as large, same alignment).
        let p = unsafe { base_alloc(real) };
        advise(p, real.size());
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !cacheable(layout.size()) {
            // SAFETY: forwarded contract.
            let p = unsafe { base_alloc_zeroed(layout) };
            advise(p, layout.size());
            return p;
        }
        // The system's zeroed allocation cannot align to a page, so a page-aligned block (a
        // kept one when there is one: its pages are mapped already) is cleared here.
        // SAFETY: forwarded contract.
        let p = unsafe { self.alloc(layout) };
        if !p.is_null() {
            // SAFETY: `p` is a live block of at least `layout.size()` bytes.
            unsafe { std::ptr::write_bytes(p, 0, layout.size()) };
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let real = real(&layout);
        if cacheable(layout.size()) {
            if let Some((p, l)) = keep(ptr, &real) {
                // SAFETY: `p` is a live base block of real layout `l` (this one, or an
                // evicted one that was kept with its real layout).
                unsafe { base_dealloc(p, l) }
            }
            return;
        }
        // SAFETY: forwarded contract.
        unsafe { base_dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = real(&layout);
        // SAFETY: the caller guarantees `new_size` is a valid size for this alignment.
        let new = real(&unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if new.size() == old.size() && cacheable(new_size) == cacheable(layout.size()) {
            // Same class (or same exact size): the block already has room.
            return ptr;
        }
        if cacheable(new_size) {
            // Growing (or shrinking) into another class: a kept block of that class saves the
            // system fresh pages (a vector grown by doubling reaches each class in turn). From
            // a system block into a class with none kept: a fresh block, because the system's
            // realloc would keep the old block's alignment, and every block of a class must
            // start on a page.
            let moved = match take(&new) {
                Some(p) => p,
                None if !cacheable(layout.size()) => {
                    // SAFETY: `new` has a non-zero size (it is cacheable).
                    let p = unsafe { base_alloc(new) };
                    if p.is_null() {
                        return p;
                    }
                    advise(p, new.size());
                    p
                }
                None => std::ptr::null_mut(),
            };
            if !moved.is_null() {
                // SAFETY: both blocks are live and distinct (a kept one was freed by its
                // owner); the smaller of the two sizes lies within both.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                return moved;
            }
        }
        // SAFETY: forwarded contract, with the block's real layout and the new real size (a
        // block of a class keeps its page alignment: the system reallocates over-aligned
        // blocks by allocating with the old alignment).
        let p = unsafe { base_realloc(ptr, old, new.size()) };
        advise(p, new.size());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests share the one cache: they take turns, so one cannot take or evict a block
    /// another expects (only these tests use `BufferAlloc` in this crate's test binary).
    static TURN: Mutex<()> = Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        TURN.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn classes_round_up_by_at_most_an_eighth() {
        let mut last = 0;
        for size in (CACHE_MIN..=CACHE_MAX)
            .step_by(4093)
            .chain([CACHE_MIN, CACHE_MAX])
        {
            let c = class(size);
            assert!(c >= size && c - size <= size / 8, "{size} -> {c}");
            assert_eq!(class(c), c, "a class is its own class");
            if size > last {
                assert!(c >= class(last.max(CACHE_MIN)), "monotone");
                last = size;
            }
        }
        assert_eq!(class(CACHE_MIN), CACHE_MIN);
        assert_eq!(class(CACHE_MIN + 1), CACHE_MIN + (CACHE_MIN >> 3));
    }

    #[test]
    fn a_freed_block_serves_the_next_size_of_its_class() {
        let _turn = turn();
        let a = BufferAlloc;
        let l1 = Layout::from_size_align(400_000, 16).unwrap();
        let l2 = Layout::from_size_align(401_000, 16).unwrap();
        assert_eq!(class(l1.size()), class(l2.size()));
        // SAFETY: alloc/dealloc pairs with their own layouts; every byte read was written.
        unsafe {
            let p = a.alloc(l1);
            assert!(!p.is_null());
            p.write_bytes(7, l1.size());
            a.dealloc(p, l1);
            let q = a.alloc(l2);
            assert_eq!(q, p, "the kept block of the class");
            q.write_bytes(9, l2.size());
            assert_eq!(*q.add(l2.size() - 1), 9);
            a.dealloc(q, l2);
            let many: Vec<*mut u8> = (0..SLOTS + 3).map(|_| a.alloc(l1)).collect();
            for &m in &many {
                a.dealloc(m, l1);
            }
        }
        let c = CACHE.lock().unwrap();
        assert!(c.bytes <= CACHE_BYTES);
        assert!(
            c.slots.iter().all(|s| !s.ptr.is_null()),
            "full after SLOTS + 3 frees"
        );
        assert_eq!(
            c.bytes,
            c.slots.iter().map(|s| s.size).sum::<usize>(),
            "byte count matches the kept blocks"
        );
        assert!(c
            .slots
            .iter()
            .all(|s| s.ptr.is_null() || s.size == class(s.size)));
    }

    #[test]
    fn realloc_keeps_contents_across_classes_and_in_place_within_one() {
        let _turn = turn();
        let a = BufferAlloc;
        let l = Layout::from_size_align(100_000, 8).unwrap();
        // SAFETY: each realloc gets the block's current layout; reads stay within written data.
        unsafe {
            let p = a.alloc(l);
            for i in 0..l.size() {
                *p.add(i) = (i % 251) as u8;
            }
            // Same class: the block has room already.
            let q = a.realloc(p, l, 100_100);
            assert_eq!(q, p);
            let lq = Layout::from_size_align(100_100, 8).unwrap();
            // Up to another class, then past the cached range, then down below it.
            let r = a.realloc(q, lq, 1_000_000);
            let lr = Layout::from_size_align(1_000_000, 8).unwrap();
            r.add(999_999).write(1);
            let s = a.realloc(r, lr, CACHE_MAX + 4096);
            let ls = Layout::from_size_align(CACHE_MAX + 4096, 8).unwrap();
            let t = a.realloc(s, ls, 50_000);
            for i in 0..50_000 {
                assert_eq!(*t.add(i), (i % 251) as u8);
            }
            a.dealloc(t, Layout::from_size_align(50_000, 8).unwrap());
        }
    }

    #[test]
    fn realloc_into_a_class_reuses_a_kept_block() {
        let _turn = turn();
        let a = BufferAlloc;
        // a class no other test uses, so no parallel test takes the kept block
        let big = Layout::from_size_align(5_300_000, 8).unwrap();
        let small = Layout::from_size_align(70_000, 8).unwrap();
        // SAFETY: each realloc/dealloc gets the block's current layout; reads stay within
        // written data.
        unsafe {
            let kept = a.alloc(big);
            a.dealloc(kept, big);
            let p = a.alloc(small);
            p.write_bytes(3, small.size());
            let q = a.realloc(p, small, big.size());
            assert_eq!(q, kept, "the kept block of the new class");
            assert!((0..small.size()).all(|i| *q.add(i) == 3));
            q.add(big.size() - 1).write(4);
            a.dealloc(q, big);
        }
    }

    #[test]
    fn zeroed_and_overaligned_blocks() {
        let _turn = turn();
        let a = BufferAlloc;
        // SAFETY: plain alloc/dealloc pairs; the zeroed block is only read within its layout.
        unsafe {
            let l = Layout::from_size_align(300_000, 4096).unwrap();
            for _ in 0..3 {
                let p = a.alloc(l);
                assert_eq!(p.align_offset(4096), 0);
                p.write_bytes(5, l.size());
                a.dealloc(p, l);
            }
            let z = a.alloc_zeroed(l);
            assert_eq!(z.align_offset(4096), 0);
            assert!((0..l.size()).all(|i| *z.add(i) == 0));
            a.dealloc(z, l);
        }
    }

    #[test]
    fn cacheable_blocks_start_on_a_page() {
        let _turn = turn();
        let a = BufferAlloc;
        // SAFETY: plain alloc/dealloc pairs; every block is only touched within its layout.
        unsafe {
            for (size, align) in [(CACHE_MIN, 1), (100_000, 8), (1 << 20, 16), (5 << 20, 64)] {
                let l = Layout::from_size_align(size, align).unwrap();
                let p = a.alloc(l);
                assert_eq!(p.align_offset(BLOCK_ALIGN), 0, "alloc {size}");
                p.write_bytes(9, size);
                // grown into the next class: still on a page, contents kept
                let q = a.realloc(p, l, size * 2);
                assert_eq!(q.align_offset(BLOCK_ALIGN), 0, "realloc {size}");
                assert_eq!(*q.add(size - 1), 9);
                a.dealloc(q, Layout::from_size_align(size * 2, align).unwrap());
                // a kept block of the class (written with 9s before) comes back cleared
                let z = a.alloc_zeroed(l);
                assert_eq!(z.align_offset(BLOCK_ALIGN), 0, "alloc_zeroed {size}");
                assert!((0..size).step_by(997).all(|i| *z.add(i) == 0));
                assert_eq!(*z.add(size - 1), 0);
                a.dealloc(z, l);
            }
            // a small system block grown into a class moves to a page, contents kept; once
            // freed, it may serve a request that needs the page alignment
            let small = Layout::from_size_align(1000, 8).unwrap();
            let p = a.alloc(small);
            p.write_bytes(4, 1000);
            let q = a.realloc(p, small, 200_000);
            assert_eq!(q.align_offset(BLOCK_ALIGN), 0, "small grown into a class");
            assert!((0..1000).all(|i| *q.add(i) == 4));
            a.dealloc(q, Layout::from_size_align(200_000, 8).unwrap());
            let paged = Layout::from_size_align(200_000, 4096).unwrap();
            let r = a.alloc(paged);
            assert_eq!(r.align_offset(4096), 0);
            a.dealloc(r, paged);
            // below the cache's range the system's alignment is left alone (no page rounding)
            assert_eq!(real(&Layout::from_size_align(1000, 8).unwrap()).align(), 8);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)] // 9 MiB summed byte by byte: minutes under Miri
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
