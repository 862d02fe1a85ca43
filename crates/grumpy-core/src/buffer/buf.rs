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
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Values computed on first access: the source of a deferred buffer ([`Buf::deferred`]).
///
/// `compute` must be a pure function of immutable inputs (e.g. other grumpy buffers, which are
/// copy-on-write), must not fail and must return exactly `len()` values: a deferred buffer is
/// then indistinguishable from one computed eagerly, except in when the work happens.
pub trait Deferred<T>: Send + Sync {
    /// Number of values `compute` returns.
    fn len(&self) -> usize;
    /// True when `len()` is 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The values.
    fn compute(&self) -> Vec<T>;
    /// The concrete source, for consumers that can use it without computing the values (a
    /// reduction fusing the computation into its own pass).
    fn as_any(&self) -> &dyn Any;
}

enum Storage<T> {
    Owned(Vec<T>),
    /// Owned memory handed back to its pool once the last view is dropped.
    Recycled(Recycle<T>),
    Foreign {
        ptr: *const T,
        len: usize,
        _owner: Box<dyn Any + Send + Sync>,
    },
    /// Computed on first access, at most once kept: `src` is dropped once `cell` is set.
    Lazy {
        len: usize,
        src: Mutex<Option<Arc<dyn Deferred<T>>>>,
        cell: OnceLock<Vec<T>>,
    },
}

/// A vector that goes to `give` (a pool of buffers to read into again) when dropped.
struct Recycle<T> {
    vec: Vec<T>,
    give: fn(Vec<T>),
}

impl<T> Drop for Recycle<T> {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.vec);
        if v.capacity() > 0 {
            (self.give)(v);
        }
    }
}

// SAFETY: `Foreign` memory is immutable while shared and kept alive by `_owner`, which is
// itself Send + Sync; `Owned` is a plain Vec, and `Recycled` a plain Vec with a `fn` pointer.
// Raw pointers are only read through `as_slice`.
unsafe impl<T: Send + Sync> Send for Storage<T> {}
// SAFETY: see above; no interior mutability is reachable through `&Storage`.
unsafe impl<T: Send + Sync> Sync for Storage<T> {}

impl<T> Storage<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Storage::Owned(v) => v,
            Storage::Recycled(r) => &r.vec,
            // SAFETY: `from_foreign`'s contract guarantees `ptr` is valid for `len` reads,
            // properly aligned, and unchanged while `_owner` lives (it lives as long as self).
            Storage::Foreign { ptr, len, .. } => unsafe {
                if *len == 0 {
                    &[]
                } else {
                    std::slice::from_raw_parts(*ptr, *len)
                }
            },
            Storage::Lazy { cell, .. } => match cell.get() {
                Some(v) => v,
                None => self.materialize(),
            },
        }
    }

    /// Compute a lazy storage's values (no lock is held while computing, so a computation
    /// that runs on the Rayon pool cannot deadlock against another reader; two racing readers
    /// may both compute, and the first result is kept).
    #[cold]
    fn materialize(&self) -> &[T] {
        let Storage::Lazy { len, src, cell } = self else {
            return self.as_slice();
        };
        let source = src.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(s) = source {
            let v = s.compute();
            assert_eq!(v.len(), *len, "Deferred::compute returned the wrong length");
            let _ = cell.set(v);
            *src.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        cell.get()
            .map(Vec::as_slice)
            .expect("a lazy buffer's source is dropped only after its values are set")
    }

    /// The pending source of a lazy storage that has not been computed yet.
    fn pending(&self) -> Option<Arc<dyn Deferred<T>>> {
        match self {
            Storage::Lazy { src, cell, .. } if cell.get().is_none() => {
                src.lock().unwrap_or_else(|e| e.into_inner()).clone()
            }
            _ => None,
        }
    }
}

/// The shared part of a [`Buf`]: the storage, plus facts about all of it computed at most once
/// (the storage never changes while shared; a unique owner that writes resets them).
struct Shared<T> {
    data: Storage<T>,
    /// `Some(s)` when the whole storage is an arithmetic progression with step `s` (offsets of
    /// regular lists); only ever computed for `i64` buffers.
    step: OnceLock<Option<i64>>,
}

impl<T> Shared<T> {
    fn new(data: Storage<T>) -> Arc<Shared<T>> {
        Arc::new(Shared {
            data,
            step: OnceLock::new(),
        })
    }
}

/// A typed, immutable-by-default, shareable buffer (see the module docs).
pub struct Buf<T> {
    store: Arc<Shared<T>>,
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

/// A view of a [`Buf`] that does not keep its storage alive ([`Buf::downgrade`]): it gives the
/// view back while something else holds the storage. For caches that remember where data was
/// without holding it (getting the view back is one atomic increment, as a clone is).
///
/// ```
/// use grumpy_core::buffer::Buf;
/// let a = Buf::from_vec(vec![1, 2, 3]);
/// let w = a.slice(1, 2).downgrade();
/// assert_eq!(w.upgrade().unwrap().as_slice(), &[2, 3]);
/// drop(a);
/// assert!(w.upgrade().is_none());
/// ```
pub struct WeakBuf<T> {
    store: Weak<Shared<T>>,
    start: usize,
    len: usize,
}

impl<T> WeakBuf<T> {
    /// The view, while its storage is alive.
    pub fn upgrade(&self) -> Option<Buf<T>> {
        Some(Buf {
            store: self.store.upgrade()?,
            start: self.start,
            len: self.len,
        })
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
            store: Shared::new(Storage::Owned(v)),
            start: 0,
            len,
        }
    }

    /// Take ownership of a vector that goes to `give` once the last view of it is dropped,
    /// instead of being freed: a reader's pool of chunk buffers gets its memory back even when
    /// a batch outlived the reader. Writes through [`Buf::make_mut`] copy it first, like
    /// shared memory; [`Buf::into_storage`] and [`Buf::into_vec`] take it back out.
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// use std::sync::Mutex;
    /// static POOL: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());
    /// let give = |v: Vec<f64>| POOL.lock().unwrap().push(v);
    /// let a = Buf::from_vec_recycled(vec![1.0, 2.0, 3.0], give);
    /// let view = a.slice(1, 2);
    /// drop(a);
    /// assert!(POOL.lock().unwrap().is_empty()); // `view` still reads it
    /// assert_eq!(view.as_slice(), &[2.0, 3.0]);
    /// drop(view);
    /// assert_eq!(POOL.lock().unwrap().pop(), Some(vec![1.0, 2.0, 3.0]));
    /// ```
    pub fn from_vec_recycled(v: Vec<T>, give: fn(Vec<T>)) -> Self {
        let len = v.len();
        Buf {
            store: Shared::new(Storage::Recycled(Recycle { vec: v, give })),
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
            store: Shared::new(Storage::Foreign {
                ptr,
                len,
                _owner: owner,
            }),
            start: 0,
            len,
        }
    }

    /// A buffer whose values `src` computes on first access (see [`Deferred`]). Until then,
    /// [`Buf::pending`] hands the source to consumers that can fuse the computation into their
    /// own pass; any other access computes the values once and keeps them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use grumpy_core::buffer::{Buf, Deferred};
    /// struct Squares(usize);
    /// impl Deferred<u64> for Squares {
    ///     fn len(&self) -> usize { self.0 }
    ///     fn compute(&self) -> Vec<u64> { (0..self.0 as u64).map(|i| i * i).collect() }
    ///     fn as_any(&self) -> &dyn std::any::Any { self }
    /// }
    /// let b = Buf::deferred(Arc::new(Squares(4)));
    /// let s = b.slice(1, 2);
    /// assert!(s.pending().is_some());       // nothing computed yet
    /// assert_eq!(s.as_slice(), &[1, 4]);    // first access computes
    /// assert!(b.pending().is_none());
    /// assert_eq!(b.as_slice(), &[0, 1, 4, 9]);
    /// ```
    pub fn deferred(src: Arc<dyn Deferred<T>>) -> Self {
        let len = src.len();
        Buf {
            store: Shared::new(Storage::Lazy {
                len,
                src: Mutex::new(Some(src)),
                cell: OnceLock::new(),
            }),
            start: 0,
            len,
        }
    }

    /// The source of a deferred buffer whose values have not been computed yet, with this
    /// view's range in it (`start`, `len`); `None` for every other buffer.
    pub fn pending(&self) -> Option<(Arc<dyn Deferred<T>>, usize, usize)> {
        self.store.data.pending().map(|s| (s, self.start, self.len))
    }

    /// True when the values live in memory owned by someone else (e.g. a NumPy array), which
    /// its owner may change: a computation that must see today's values cannot be deferred.
    pub fn is_foreign(&self) -> bool {
        matches!(self.store.data, Storage::Foreign { .. })
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
        &self.store.data.as_slice()[self.start..self.start + self.len]
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

    /// [`Buf::slice`] of a view no longer needed: the same sub-view without touching the
    /// storage's reference count (which threads reading one buffer would contend for).
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// assert_eq!(Buf::from_vec(vec![1, 2, 3, 4]).into_slice(1, 2).as_slice(), &[2, 3]);
    /// ```
    ///
    /// # Panics
    /// If the range is out of bounds (callers validate ranges first).
    pub fn into_slice(self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.len, "Buf::into_slice out of range");
        Buf {
            store: self.store,
            start: self.start + start,
            len,
        }
    }

    /// A view that does not keep the storage alive (see [`WeakBuf`]).
    pub fn downgrade(&self) -> WeakBuf<T> {
        WeakBuf {
            store: Arc::downgrade(&self.store),
            start: self.start,
            len: self.len,
        }
    }

    /// A uniquely held, whole deferred buffer becomes an owned one (computing its values if
    /// needed, without copying them), so writers can update it in place.
    fn own_lazy(&mut self) {
        let whole = matches!(&self.store.data, Storage::Lazy { len, .. } if *len == self.len)
            && self.start == 0;
        if !whole {
            return;
        }
        if let Some(sh) = Arc::get_mut(&mut self.store) {
            sh.data.as_slice();
            if let Storage::Lazy { cell, .. } = &mut sh.data {
                if let Some(v) = cell.take() {
                    sh.data = Storage::Owned(v);
                }
            }
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

    /// One view over `self` followed by `next`, without copying, when `next` starts in the same
    /// storage exactly where `self` ends (two neighbouring slices of one buffer); else `None`.
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// let a = Buf::from_vec(vec![1, 2, 3, 4, 5]);
    /// let (x, y) = (a.slice(0, 2), a.slice(2, 2));
    /// assert_eq!(x.joined(&y).unwrap().as_slice(), &[1, 2, 3, 4]);
    /// assert!(y.joined(&x).is_none()); // not in that order
    /// assert!(x.joined(&Buf::from_vec(vec![3, 4])).is_none()); // another storage
    /// ```
    pub fn joined(&self, next: &Buf<T>) -> Option<Buf<T>> {
        (self.shares_storage(next) && self.start + self.len == next.start).then(|| Buf {
            store: Arc::clone(&self.store),
            start: self.start,
            len: self.len + next.len,
        })
    }

    /// The whole vector under this view (not only the viewed range) when this is its last
    /// view and it is owned memory; else `None`, and the view is dropped. For recycling
    /// buffers (a cache returning memory to a pool once nothing views it).
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// let a = Buf::from_vec(vec![1, 2, 3]);
    /// let (x, y) = (a.slice(0, 1), a.slice(1, 2));
    /// drop(a);
    /// assert!(x.into_storage().is_none()); // `y` still views it
    /// assert_eq!(y.into_storage(), Some(vec![1, 2, 3]));
    /// ```
    pub fn into_storage(self) -> Option<Vec<T>> {
        match Arc::try_unwrap(self.store).ok()?.data {
            Storage::Owned(v) => Some(v),
            Storage::Recycled(mut r) => Some(std::mem::take(&mut r.vec)),
            _ => None,
        }
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
        self.own_lazy();
        let len = self.len;
        if self.start != 0 {
            return None;
        }
        match Arc::get_mut(&mut self.store) {
            Some(Shared {
                data: Storage::Owned(v),
                step,
            }) if v.len() == len => {
                // The caller may write: forget what was known about the old contents.
                *step = OnceLock::new();
                Some(v.as_mut_slice())
            }
            _ => None,
        }
    }
}

impl<T: Clone> Buf<T> {
    /// Mutable access, copying first when the storage is shared, foreign or a sub-view.
    pub fn make_mut(&mut self) -> &mut [T] {
        self.own_lazy();
        let unique_full = matches!(&self.store.data, Storage::Owned(v) if v.len() == self.len && self.start == 0)
            && Arc::get_mut(&mut self.store).is_some();
        if !unique_full {
            let v = self.as_slice().to_vec();
            *self = Buf::from_vec(v);
        }
        match Arc::get_mut(&mut self.store) {
            Some(Shared {
                data: Storage::Owned(v),
                step,
            }) => {
                *step = OnceLock::new();
                v.as_mut_slice()
            }
            _ => unreachable!("make_mut: storage was just made unique and owned"),
        }
    }

    /// The elements as a Vec (moves out without copying when uniquely owned and whole).
    pub fn into_vec(mut self) -> Vec<T> {
        self.own_lazy();
        let Buf { store, start, len } = self;
        match Arc::try_unwrap(store).map(|s| s.data) {
            Ok(Storage::Owned(v)) if start == 0 && v.len() == len => v,
            Ok(Storage::Recycled(mut r)) if start == 0 && r.vec.len() == len => {
                std::mem::take(&mut r.vec)
            }
            Ok(s) => s.as_slice()[start..start + len].to_vec(),
            Err(shared) => shared.data.as_slice()[start..start + len].to_vec(),
        }
    }
}

/// `Some(s)` when every consecutive difference of `v` is `s` (`None` below two values): the
/// step of arithmetic offsets (rows of one length).
///
/// ```
/// use grumpy_core::buffer::arithmetic_step;
/// assert_eq!(arithmetic_step(&[0, 3, 6, 9]), Some(3));
/// assert_eq!(arithmetic_step(&[5, 4]), Some(-1));
/// assert_eq!(arithmetic_step(&[0, 3, 5]), None);
/// assert_eq!(arithmetic_step(&[0]), None);
/// ```
pub fn arithmetic_step(v: &[i64]) -> Option<i64> {
    if v.len() < 2 {
        return None;
    }
    let s = v[1].wrapping_sub(v[0]);
    // Every difference equals the first: branch-free (vectorised) within blocks of 256, and
    // stopping at the first block that breaks it (irregular offsets are seldom read whole).
    let mut start = 0;
    while start + 1 < v.len() {
        let w = &v[start..v.len().min(start + 257)];
        let same = w[1..]
            .iter()
            .zip(w)
            .fold(true, |ok, (b, a)| ok & (b.wrapping_sub(*a) == s));
        if !same {
            return None;
        }
        start += 256;
    }
    Some(s)
}

/// Arithmetic offsets with at least this many values are computed on first access: kernels that
/// know a list is regular (its `regular_step`) never need them, so a loaded or converted
/// `(n, 3)` array does not pay 8 bytes per row for offsets nobody reads.
const LAZY_ARITHMETIC: usize = 1 << 16;

/// The values of [`Buf::arithmetic`], computed when first read.
struct Arithmetic {
    n: usize,
    step: i64,
}

impl Deferred<i64> for Arithmetic {
    fn len(&self) -> usize {
        self.n + 1
    }
    fn compute(&self) -> Vec<i64> {
        (0..=self.n as i64).map(|i| i * self.step).collect()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Buf<i64> {
    /// `0, step, 2 * step, ..., n * step` (the offsets of `n` regular lists of length `step`),
    /// known to be regular without a scan. From 65,536 values on they are computed on first
    /// access, so code that only asks `regular_step()` never allocates them.
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// let o = Buf::arithmetic(3, 2);
    /// assert_eq!(o.as_slice(), &[0, 2, 4, 6]);
    /// assert_eq!(o.regular_step(), Some(2));
    /// let big = Buf::arithmetic(1 << 20, 3);
    /// assert_eq!(big.regular_step(), Some(3));
    /// assert!(big.pending().is_some()); // not computed yet
    /// assert_eq!(big.as_slice()[1 << 20], 3 << 20);
    /// ```
    pub fn arithmetic(n: usize, step: i64) -> Buf<i64> {
        let b = if n >= LAZY_ARITHMETIC {
            Buf::deferred(Arc::new(Arithmetic { n, step }))
        } else {
            Buf::from_vec((0..=n as i64).map(|i| i * step).collect())
        };
        let _ = b.store.step.set(Some(step));
        b
    }

    /// `Some(s)` when this view holds at least two values and the whole underlying storage
    /// is an arithmetic progression with step `s`, as regular list offsets are. The storage is
    /// scanned once and the answer cached with it, so repeated calls (on any view of it) cost
    /// nothing; a view of an irregular storage answers `None` even where it is regular.
    ///
    /// ```
    /// use grumpy_core::buffer::Buf;
    /// let o = Buf::from_vec(vec![0i64, 3, 6, 9]);
    /// assert_eq!(o.slice(1, 2).regular_step(), Some(3));
    /// assert_eq!(Buf::from_vec(vec![0i64, 3, 5]).regular_step(), None);
    /// ```
    pub fn regular_step(&self) -> Option<i64> {
        if self.len < 2 {
            return None;
        }
        *self
            .store
            .step
            .get_or_init(|| arithmetic_step(self.store.data.as_slice()))
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
    fn recycled_memory_goes_back_once_and_is_copied_on_write() {
        use std::sync::Mutex;
        static KEPT: Mutex<Vec<Vec<i32>>> = Mutex::new(Vec::new());
        let give = |v: Vec<i32>| KEPT.lock().unwrap().push(v);
        let taken = || std::mem::take(&mut *KEPT.lock().unwrap());
        // the last view, whichever it is, gives the whole vector back
        let a = Buf::from_vec_recycled(vec![1, 2, 3], give);
        let mut w = a.slice(0, 2);
        let p = a.as_ptr();
        w.make_mut()[0] = 9; // a copy: the recycled memory is never written through a view
        assert_eq!((w.as_slice(), a.as_slice()), (&[9, 2][..], &[1, 2, 3][..]));
        assert!(!a.is_foreign());
        drop(w);
        assert!(taken().is_empty());
        drop(a);
        let back = taken();
        assert_eq!(back, vec![vec![1, 2, 3]]);
        assert_eq!(back[0].as_ptr(), p);
        // taken out whole: nothing is given back afterwards
        let b = Buf::from_vec_recycled(vec![4, 5], give);
        assert_eq!(b.clone().into_storage(), None);
        assert_eq!(b.into_storage(), Some(vec![4, 5]));
        assert_eq!(Buf::from_vec_recycled(vec![6], give).into_vec(), vec![6]);
        let c = Buf::from_vec_recycled(vec![7, 8], give);
        assert_eq!(c.slice(1, 1).into_vec(), vec![8]); // a part: copied out
        drop(c);
        assert_eq!(taken(), vec![vec![7, 8]]);
        // empty vectors are not given back
        drop(Buf::from_vec_recycled(Vec::new(), give));
        assert!(taken().is_empty());
    }

    #[test]
    fn arithmetic_step_sees_a_break_anywhere() {
        for n in [2usize, 3, 256, 257, 258, 513, 1000] {
            let v: Vec<i64> = (0..n as i64).map(|i| 7 + 3 * i).collect();
            assert_eq!(arithmetic_step(&v), Some(3), "n = {n}");
            for at in [1, n / 2, 255, 256, 257, 512, n - 1] {
                if at == 0 || at >= n || n < 3 {
                    continue;
                }
                let mut w = v.clone();
                w[at] += 1;
                assert_eq!(arithmetic_step(&w), None, "n = {n}, break at {at}");
            }
        }
    }

    #[test]
    fn regular_step_is_cached_and_reset_by_writes() {
        let mut b = Buf::from_vec(vec![0i64, 3, 6, 9]);
        assert_eq!(b.regular_step(), Some(3));
        assert_eq!(b.slice(2, 2).regular_step(), Some(3));
        assert_eq!(b.slice(2, 1).regular_step(), None);
        b.get_mut().unwrap()[3] = 10;
        assert_eq!(b.regular_step(), None);
        b.make_mut()[3] = 9;
        assert_eq!(b.regular_step(), Some(3));
        let shared = b.clone();
        assert_eq!(shared.regular_step(), Some(3));
        b.make_mut()[0] = 1; // copy-on-write: the shared view keeps its answer
        assert_eq!(b.regular_step(), None);
        assert_eq!(shared.regular_step(), Some(3));
        assert_eq!(Buf::arithmetic(0, 5).regular_step(), None);
        assert_eq!(Buf::from_vec(vec![4i64, 4, 4]).regular_step(), Some(0));
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
