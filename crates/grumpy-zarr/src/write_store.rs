//! The directory store every writer uses: `zarrs`' `FilesystemStore` for reads and listings,
//! its own file writes for `set`.
//!
//! `FilesystemStore::set` calls `fsync` after every file. A save writes tens to thousands of
//! files into a hidden temporary directory and publishes them with one rename, so a sync per
//! file buys nothing for atomicity and costs a disk flush each (~1–4 ms on the development VM:
//! 0.4 GB/s for a whole save). Here files are written without it; [`crate::durable`] decides
//! whether and when they are synced (one parallel pass before the commit).
//!
//! In **atomic** mode (appends to a visible store) every key is written to a temporary
//! sibling and renamed over its final name, so a killed append never leaves a half-written
//! chunk or metadata document where a reader looks.
//!
//! ```text
//!   put(key, parts)   plain:  create key, write parts (one writev), close
//!                     atomic: create key.grumpy-tmp-<pid>-<n>, write, [fsync], rename → key
//! ```

use crate::error::{io_error, Result};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

static TMP: AtomicU64 = AtomicU64::new(0);

/// A local store directory written without a sync per file (see the module docs).
pub(crate) struct WriteStore {
    fs: FilesystemStore,
    root: PathBuf,
    atomic: bool,
    /// Atomic and `GRUMPY_FSYNC` on: sync replaced keys before their rename, and record every
    /// written file for [`WriteStore::sync_written`]. (A non-atomic store is a temporary
    /// directory: the commit syncs it whole.)
    durable: bool,
    written: Mutex<Vec<PathBuf>>,
}

impl WriteStore {
    /// A store over `root`; `atomic`: temp key + rename for every write.
    pub(crate) fn new(root: &Path, atomic: bool) -> Result<WriteStore> {
        Ok(WriteStore {
            fs: FilesystemStore::new(root).map_err(|e| io_error(root.display(), e))?,
            root: root.to_path_buf(),
            atomic,
            durable: atomic && crate::durable::fsync_enabled(),
            written: Mutex::new(Vec::new()),
        })
    }

    fn path(&self, key: &StoreKey) -> PathBuf {
        self.root.join(key.as_str().trim_start_matches('/'))
    }

    /// Write the concatenation of `parts` as the value of `key`.
    pub(crate) fn put(&self, key: &StoreKey, parts: &[&[u8]]) -> Result<()> {
        let path = self.path(key);
        self.put_path(&path, parts)
            .map_err(|e| io_error(path.display(), e))
    }

    fn put_path(&self, path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
        if !self.atomic {
            write_file(path, parts, false)?;
        } else {
            let n = TMP.fetch_add(1, Ordering::Relaxed);
            let mut name = path.file_name().unwrap_or_default().to_os_string();
            name.push(format!(".grumpy-tmp-{}-{n}", std::process::id()));
            let tmp = path.with_file_name(name);
            // a replaced key must be on disk before the rename makes it the only copy
            let replacing = self.durable && path.exists();
            if let Err(e) =
                write_file(&tmp, parts, replacing).and_then(|()| std::fs::rename(&tmp, path))
            {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        if self.durable {
            self.written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(path.to_path_buf());
        }
        Ok(())
    }

    /// With `GRUMPY_FSYNC` on: sync every file written so far and the directories holding
    /// them (one parallel pass). A no-op otherwise.
    pub(crate) fn sync_written(&self) -> Result<()> {
        if !self.durable {
            return Ok(());
        }
        let mut files = std::mem::take(
            &mut *self
                .written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        files.sort();
        files.dedup();
        let mut dirs: Vec<PathBuf> = files
            .iter()
            .map(|f| crate::durable::parent_dir(f))
            .collect();
        dirs.sort();
        dirs.dedup();
        crate::durable::sync_paths(&files)?;
        crate::durable::sync_paths(&dirs)
    }
}

/// Create (or truncate) `path` and write `parts` with vectored writes, creating the parent
/// directories when missing; `sync`: `fsync` before closing.
fn write_file(path: &Path, parts: &[&[u8]], sync: bool) -> std::io::Result<()> {
    let mut file = match std::fs::File::create(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::File::create(path)?
        }
        r => r?,
    };
    let mut slices: Vec<IoSlice<'_>> = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| IoSlice::new(p))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if sync {
        file.sync_all()?;
    }
    Ok(())
}

impl ReadableStorageTraits for WriteStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        self.fs.get_partial_many(key, byte_ranges)
    }
    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        self.fs.size_key(key)
    }
    fn supports_get_partial(&self) -> bool {
        self.fs.supports_get_partial()
    }
}

impl ListableStorageTraits for WriteStore {
    fn list(&self) -> std::result::Result<StoreKeys, StorageError> {
        self.fs.list()
    }
    fn list_prefix(&self, prefix: &StorePrefix) -> std::result::Result<StoreKeys, StorageError> {
        self.fs.list_prefix(prefix)
    }
    fn list_dir(
        &self,
        prefix: &StorePrefix,
    ) -> std::result::Result<StoreKeysPrefixes, StorageError> {
        self.fs.list_dir(prefix)
    }
    fn size_prefix(&self, prefix: &StorePrefix) -> std::result::Result<u64, StorageError> {
        self.fs.size_prefix(prefix)
    }
}

impl WritableStorageTraits for WriteStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> std::result::Result<(), StorageError> {
        let path = self.path(key);
        self.put_path(&path, &[&value]).map_err(StorageError::from)
    }
    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> std::result::Result<(), StorageError> {
        // never called: partial writes are declined below (every write replaces a whole key)
        let _ = offset_values;
        Err(StorageError::Other(format!(
            "{}: partial writes are not supported",
            key.as_str()
        )))
    }
    fn erase(&self, key: &StoreKey) -> std::result::Result<(), StorageError> {
        self.fs.erase(key)
    }
    fn erase_prefix(&self, prefix: &StorePrefix) -> std::result::Result<(), StorageError> {
        self.fs.erase_prefix(prefix)
    }
    fn supports_set_partial(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("grumpy-wstore-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Parts land concatenated, parent directories are created, a rewrite replaces the whole
    /// value, and the atomic mode leaves no temporary file behind.
    #[test]
    fn writes_parts_and_replaces() {
        for atomic in [false, true] {
            let d = dir(&format!("{atomic}"));
            let s = WriteStore::new(&d, atomic).unwrap();
            let key = StoreKey::new("a/c/0").unwrap();
            s.put(&key, &[b"abc", b"", b"defg"]).unwrap();
            assert_eq!(std::fs::read(d.join("a/c/0")).unwrap(), b"abcdefg");
            s.set(&key, Bytes::from_static(b"xy")).unwrap();
            assert_eq!(s.get(&key).unwrap().unwrap().as_ref(), b"xy");
            let names: Vec<_> = std::fs::read_dir(d.join("a/c")).unwrap().collect();
            assert_eq!(names.len(), 1, "a temporary file was left behind");
            assert!(!s.supports_set_partial());
            s.sync_written().unwrap();
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    /// A write that cannot happen is a StoreError naming the path.
    #[test]
    fn a_failed_write_is_a_store_error() {
        let d = dir("fail");
        std::fs::write(d.join("file"), b"x").unwrap();
        let s = WriteStore::new(&d, true).unwrap();
        let e = s
            .put(&StoreKey::new("file/c/0").unwrap(), &[b"abc"])
            .unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Store);
        assert!(e.summary().contains("file"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
