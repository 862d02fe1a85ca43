//! Defences against hostile or corrupt stores: nothing a store's metadata declares is trusted
//! before it is checked against what is actually on disk.
//!
//! - [`LocalStore`]: a read-only filesystem store that refuses every key reached through a
//!   symbolic link *inside* the store (the store's own path may be or contain a symlink). A
//!   store from elsewhere could otherwise point `node1-data/c/0` at `~/.ssh/id_rsa` and, with
//!   its checksum codec removed from the array metadata, read it as data.
//! - `check_buffer`: a declared chunk length must be sane ([`MAX_CHUNK_BYTES`]) and the chunk
//!   holding the last recorded element must exist, so a `zarr.json` claiming 10^15 elements
//!   fails at open with a `StoreError` instead of allocating petabytes.
//! - [`alloc`]: output vectors are allocated fallibly (a `StoreError`, never an abort).
//! - `refuse_symlinks`: appends never write into a directory reached through a symlink.
//!
//! ```
//! use grumpy_zarr::guard::alloc;
//! assert_eq!(alloc::<u8>(3).unwrap(), vec![0, 0, 0]);
//! assert!(alloc::<u64>(usize::MAX / 4).is_err());
//! ```

use crate::error::{store_error, Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::{
    byte_range::ByteRangeIterator, MaybeBytesIterator, ReadableStorageTraits, StorageError,
    StoreKey,
};

/// Largest decoded chunk a reader accepts (bytes). `gr.save` writes ~1 MiB chunks; a
/// `chunk_size=` large enough to pass this would need gigabytes per chunk to write.
pub const MAX_CHUNK_BYTES: u64 = 1 << 30;

pub(crate) fn symlink_error(path: &Path) -> Error {
    store_error(
        format!("the store contains a symbolic link at {}", path.display()),
        "grumpy never reads or writes through symbolic links inside a store (a store from \
         elsewhere could point them at files outside it)",
        "replace the link with a copy of the data, or save the store again with gr.save",
    )
}

/// A read-only local store that refuses keys reached through a symlink below its root.
pub struct LocalStore {
    root: PathBuf,
    inner: FilesystemStore,
    /// Directories (relative key prefixes) already checked not to be symlinks.
    checked: Mutex<HashSet<String>>,
}

impl LocalStore {
    /// Open the directory `root` (which itself may be reached through symlinks).
    pub fn new(root: &Path) -> Result<LocalStore> {
        let inner =
            FilesystemStore::new(root).map_err(|e| crate::error::io_error(root.display(), e))?;
        Ok(LocalStore {
            root: root.to_path_buf(),
            inner,
            checked: Mutex::new(HashSet::new()),
        })
    }

    /// Check every component of `key` below the root with `lstat` (directories once).
    fn check(&self, key: &StoreKey) -> std::result::Result<(), StorageError> {
        let parts: Vec<&str> = key.as_str().split('/').collect();
        let mut rel = String::new();
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() || *part == "." || *part == ".." {
                return Err(StorageError::Other(format!(
                    "key {:?} escapes the store directory",
                    key.as_str()
                )));
            }
            if !rel.is_empty() {
                rel.push('/');
            }
            rel.push_str(part);
            let last = i + 1 == parts.len();
            if !last && self.lock().contains(&rel) {
                continue;
            }
            let p = self.root.join(&rel);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StorageError::Other(symlink_error(&p).to_string()))
                }
                Ok(m) if !last && m.is_dir() => {
                    self.lock().insert(rel.clone());
                }
                // Missing keys are the inner store's business (a missing chunk, a missing array).
                _ => {}
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.checked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ReadableStorageTraits for LocalStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        self.check(key)?;
        self.inner.get_partial_many(key, byte_ranges)
    }

    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        self.check(key)?;
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

/// Check an opened buffer before anything is allocated for it: its chunk length is sane and
/// the chunk holding element `len - 1` exists (`exists(key)` asks the store).
pub(crate) fn check_buffer(
    name: &str,
    len: u64,
    chunk_len: u64,
    itemsize: u64,
    last_chunk_exists: impl FnOnce(u64) -> Result<bool>,
) -> Result<()> {
    let bytes = chunk_len.saturating_mul(itemsize);
    if bytes > MAX_CHUNK_BYTES {
        return Err(store_error(
            format!("buffer {name} declares chunks of {bytes} bytes"),
            format!(
                "a chunk of {chunk_len} elements is larger than the {MAX_CHUNK_BYTES} bytes a \
                 reader accepts"
            ),
            "the store is damaged or hostile; save the data again with gr.save (default chunks)",
        ));
    }
    if len > 0 && !last_chunk_exists((len - 1) / chunk_len.max(1))? {
        return Err(store_error(
            format!("buffer {name} is truncated"),
            format!(
                "{len} elements are recorded but the chunk holding the last one ({}) is missing",
                (len - 1) / chunk_len.max(1)
            ),
            "the store was damaged or truncated; save the data again with gr.save",
        ));
    }
    Ok(())
}

/// A zeroed vector of `n` elements, or a `StoreError` when it cannot be allocated.
pub fn alloc<T: Default + Clone>(n: usize) -> Result<Vec<T>> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(n).map_err(|e| {
        store_error(
            format!("cannot allocate {n} elements to read the store"),
            e.to_string(),
            "the store declares more data than fits in memory; read it in row ranges \
             (gr.open(path)[a:b] or gr.stream)",
        )
    })?;
    v.resize(n, T::default());
    Ok(v)
}

/// [`alloc`] for element types whose all-zero bytes are a value: the memory comes zeroed from
/// the allocator (`calloc`), so a large read output is not written twice (fresh pages are
/// zero already; the read then fills them once).
///
/// ```
/// use grumpy_zarr::guard::alloc_zeroed;
/// assert_eq!(alloc_zeroed::<f64>(3).unwrap(), vec![0.0; 3]);
/// assert!(alloc_zeroed::<u64>(usize::MAX / 4).is_err());
/// ```
pub fn alloc_zeroed<T: bytemuck::Zeroable>(n: usize) -> Result<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(n).map_err(|e| too_big(n, e))?;
    if layout.size() == 0 {
        return Ok((0..n).map(|_| T::zeroed()).collect());
    }
    // SAFETY: `layout` has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if p.is_null() {
        return Err(too_big(n, "out of memory"));
    }
    // SAFETY: `p` was allocated by the global allocator with the layout of `n` `T`s (what a
    // `Vec<T>` of capacity `n` frees with), and all-zero bytes are a valid `T` (`Zeroable`).
    Ok(unsafe { Vec::from_raw_parts(p, n, n) })
}

fn too_big(n: usize, e: impl std::fmt::Display) -> Error {
    store_error(
        format!("cannot allocate {n} elements to read the store"),
        e.to_string(),
        "the store declares more data than fits in memory; read it in row ranges \
         (gr.open(path)[a:b] or gr.stream)",
    )
}

/// Refuse to write below `dir` when a component of one of the relative paths `rels` (the
/// directories an append writes into) is a symlink. Writes themselves go to a fresh temporary
/// key renamed over the target, which replaces a symlinked file rather than writing through it.
pub(crate) fn refuse_symlinks<S: AsRef<str>>(dir: &Path, rels: &[S]) -> Result<()> {
    for rel in rels {
        let mut p = dir.to_path_buf();
        for part in rel.as_ref().split('/') {
            p.push(part);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => return Err(symlink_error(&p)),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_and_length_checks() {
        assert!(check_buffer("b", 10, 4, 8, |c| Ok(c == 2)).is_ok());
        assert!(check_buffer("b", 0, 4, 8, |_| Ok(false)).is_ok());
        let e = check_buffer("b", 1_000_000_000_000_000, 4, 8, |_| Ok(false)).unwrap_err();
        assert_eq!(e.code(), crate::error::Code::Store);
        assert!(check_buffer("b", 1, 1 << 40, 8, |_| Ok(true)).is_err());
        assert!(check_buffer("b", 1, u64::MAX, u64::MAX, |_| Ok(true)).is_err());
    }

    #[test]
    fn keys_through_symlinks_are_refused() {
        let dir = std::env::temp_dir().join(format!("grumpy-guard-{}", std::process::id()));
        let outside = dir.join("outside");
        let root = dir.join("store");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), b"x").unwrap();
        std::fs::write(root.join("a/ok"), b"y").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("a/link")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("d")).unwrap();
        let s = LocalStore::new(&root).unwrap();
        let key = |k: &str| StoreKey::new(k).unwrap();
        assert_eq!(s.get(&key("a/ok")).unwrap().unwrap().as_ref(), b"y");
        assert!(s.get(&key("a/link")).is_err());
        assert!(s.get(&key("d/secret")).is_err());
        assert!(s.size_key(&key("a/../d/secret")).is_err());
        assert!(s.get(&key("a/missing")).unwrap().is_none());
        assert!(refuse_symlinks(&root, &["d/c"]).is_err());
        assert!(refuse_symlinks(&root, &["a/link"]).is_err());
        assert!(refuse_symlinks(&root, &["a/c", "new/c"]).is_ok());
        std::fs::remove_file(root.join("a/link")).unwrap();
        std::fs::remove_file(root.join("d")).unwrap();
        assert!(refuse_symlinks(&root, &["d/c", "a/link"]).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
