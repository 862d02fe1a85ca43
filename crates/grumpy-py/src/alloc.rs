//! The extension's global allocator: the system allocator, plus `madvise(MADV_HUGEPAGE)` on
//! large blocks (as NumPy does for its data buffers). Ragged kernels produce fresh multi-MB
//! buffers per operation; with 4 KiB pages every such buffer costs thousands of page faults on
//! first touch, with transparent huge pages a few dozen.

use std::alloc::{GlobalAlloc, Layout, System};

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
