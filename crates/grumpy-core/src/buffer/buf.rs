//! [`Buf<T>`]: an `Arc`-shared, sliceable, copy-on-write typed buffer.
//!
//! ```text
//!   Buf { store ─► Arc<Storage: [a b c d e f g]>, start: 2, len: 3 }   views [c d e]
//! ```
//! Slicing shares the storage; writing through [`Buf::make_mut`] copies only when the
//! storage is shared or foreign (e.g. memory owned by a NumPy array).
//!
//! ```
//! use grumpy_core::buffer::Buf;
//! let a = Buf::from_vec(vec![1i64, 2, 3, 4]);
//! let b = a.slice(1, 2);
//! assert_eq!(b.as_slice(), &[2, 3]);
//! assert!(a.shares_storage(&b));
//! let mut c = b.clone();
//! c.make_mut()[0] = 20;           // copy-on-write: `a` is untouched
//! assert_eq!(a.as_slice(), &[1, 2, 3, 4]);
//! assert_eq!(c.as_slice(), &[20, 3]);
//! ```

use std::any::Any;
use std::fmt;
use std::sync::Arc;

enum Storage<T> {
    Owned(Vec<T>),
    Foreign {
        ptr: *const T,
        len: usize,
        _owner: Box<dyn Any + Send + Sync>,
    },
}

// SAFETY: `Foreign` memory is immutable while shared and kept alive by `_owner`, which is
// itself Send + Sync; `Owned` is a plain Vec. Raw pointers are only read through `as_slice`.
unsafe impl<T: Send + Sync> Send for Storage<T> {}
// SAFETY: see above; no interior mutability is reachable through `&Storage`.
unsafe impl<T: Send + Sync> Sync for Storage<T> {}

impl<T> Storage<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Storage::Owned(v) => v,
            // SAFETY: `from_foreign`'s contract guarantees `ptr` is valid for `len` reads,
            // properly aligned, and unchanged while `_owner` lives (it lives as long as self).
            Storage::Foreign { ptr, len, .. } => unsafe {
                if *len == 0 {
                    &[]
                } else {
                    std::slice::from_raw_parts(*ptr, *len)
                }
            },
        }
    }
}

/// A typed, immutable-by-default, shareable buffer (see the module docs).
pub struct Buf<T> {
    store: Arc<Storage<T>>,
    start: usize,
    len: usize,
}

impl<T> Clone for Buf<T> {
    fn clone(&self) -> Self {
        Buf {
            store: Arc::clone(&self.store),
            start: self.start,
            len: self.len,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice().iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for Buf<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T> Default for Buf<T> {
    fn default() -> Self {
        Buf::from_vec(Vec::new())
    }
}

impl<T> From<Vec<T>> for Buf<T> {
    fn from(v: Vec<T>) -> Self {
        Buf::from_vec(v)
    }
}

impl<T> Buf<T> {
    /// Take ownership of a vector (no copy).
    pub fn from_vec(v: Vec<T>) -> Self {
        let len = v.len();
        Buf {
            store: Arc::new(Storage::Owned(v)),
            start: 0,
            len,
        }
    }

    /// Wrap memory owned by someone else (e.g. a NumPy array) without copying.
    ///
    /// # Safety
    /// `ptr` must be non-null, aligned for `T`, valid for `len` reads of initialised `T`s, and
    /// the memory must stay valid and unmodified for as long as `owner` is alive.
    pub unsafe fn from_foreign(
        ptr: *const T,
        len: usize,
        owner: Box<dyn Any + Send + Sync>,
    ) -> Self {
        Buf {
            store: Arc::new(Storage::Foreign {
                ptr,
                len,
                _owner: owner,
            }),
            start: 0,
            len,
        }
    }

    /// Number of elements in this view.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the view is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements of this view.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.store.as_slice()[self.start..self.start + self.len]
    }

    /// A zero-copy sub-view `[start, start + len)` of this view.
    ///
    /// # Panics
    /// If the range is out of bounds (callers validate ranges first).
    pub fn slice(&self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.len, "Buf::slice out of range");
        Buf {
            store: Arc::clone(&self.store),
            start: self.start + start,
            len,
        }
    }

    /// True when both views point into the same storage.
    pub fn shares_storage(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store)
    }

    /// True when both views are the same range of the same storage.
    pub fn same_view(&self, other: &Self) -> bool {
        self.shares_storage(other) && self.start == other.start && self.len == other.len
    }

    /// Pointer to the first element (for zero-copy export).
    pub fn as_ptr(&self) -> *const T {
        self.as_slice().as_ptr()
    }

    /// Mutable access without copying: `Some` only when this view is the whole of a uniquely
    /// owned buffer (where [`Buf::make_mut`] would not copy either).
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// let mut a = Buf::from_vec(vec![1, 2]);
    /// a.get_mut().unwrap()[0] = 5;
    /// let b = a.clone();
    /// assert!(a.get_mut().is_none()); // shared with `b`
    /// assert_eq!(b.as_slice(), &[5, 2]);
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut [T]> {
        let len = self.len;
        if self.start != 0 {
            return None;
        }
        match Arc::get_mut(&mut self.store) {
            Some(Storage::Owned(v)) if v.len() == len => Some(v.as_mut_slice()),
            _ => None,
        }
    }
}

impl<T: Clone> Buf<T> {
    /// Mutable access, copying first when the storage is shared, foreign or a sub-view.
    pub fn make_mut(&mut self) -> &mut [T] {
        let unique_full = matches!(&*self.store, Storage::Owned(v) if v.len() == self.len && self.start == 0)
            && Arc::get_mut(&mut self.store).is_some();
        if !unique_full {
            let v = self.as_slice().to_vec();
            *self = Buf::from_vec(v);
        }
        match Arc::get_mut(&mut self.store) {
            Some(Storage::Owned(v)) => v.as_mut_slice(),
            _ => unreachable!("make_mut: storage was just made unique and owned"),
        }
    }

    /// The elements as a Vec (moves out without copying when uniquely owned and whole).
    pub fn into_vec(self) -> Vec<T> {
        let Buf { store, start, len } = self;
        match Arc::try_unwrap(store) {
            Ok(Storage::Owned(v)) if start == 0 && v.len() == len => v,
            Ok(s) => s.as_slice()[start..start + len].to_vec(),
            Err(shared) => shared.as_slice()[start..start + len].to_vec(),
        }
    }
}

impl<T> std::ops::Deref for Buf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_memory_is_shared_and_copied_on_write() {
        let backing: Arc<Vec<f64>> = Arc::new(vec![1.0, 2.0, 3.0]);
        let ptr = backing.as_ptr();
        // SAFETY: the Arc keeps the Vec alive and nobody mutates it.
        let mut b = unsafe { Buf::from_foreign(ptr, 3, Box::new(Arc::clone(&backing))) };
        assert_eq!(b.as_ptr(), ptr);
        b.make_mut()[0] = 9.0;
        assert_eq!(backing[0], 1.0);
        assert_eq!(b.as_slice(), &[9.0, 2.0, 3.0]);
    }

    #[test]
    fn unique_owned_is_mutated_in_place() {
        let mut b = Buf::from_vec(vec![1, 2, 3]);
        let p = b.as_ptr();
        b.make_mut()[1] = 7;
        assert_eq!(b.as_ptr(), p);
        assert_eq!(b.into_vec(), vec![1, 7, 3]);
    }

    #[test]
    fn empty_foreign() {
        // SAFETY: len 0 never dereferences the pointer.
        let b: Buf<u8> =
            unsafe { Buf::from_foreign(std::ptr::NonNull::dangling().as_ptr(), 0, Box::new(())) };
        assert!(b.is_empty());
        assert_eq!(b.as_slice(), &[] as &[u8]);
    }
}
