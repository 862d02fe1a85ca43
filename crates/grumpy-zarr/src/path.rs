//! Atomic replacement of a store directory: write into a sibling temporary directory, then
//! rename it over the target.
//!
//! ```text
//!   data/.prot.zarr.grumpy-tmp-<pid>-<n>   ← written completely
//!   Linux, target exists:   exchange the two names in one renameat2(RENAME_EXCHANGE)
//!                           → data/prot.zarr is the new store, the temp name the old one
//!   otherwise:              data/prot.zarr → data/.prot.zarr.grumpy-old-<pid>-<n>,
//!                           then data/.prot.zarr.grumpy-tmp-… → data/prot.zarr
//!   remove the old copy
//! ```
//! A crash before the commit leaves the old store untouched (the temporary directory is hidden
//! and never loaded). On Linux, replacing a store is one atomic exchange: at every instant the
//! path holds the old or the new store, never nothing, even for a process killed mid-commit or
//! a reader in another process. Where the exchange is unavailable (other systems, or a file
//! system that refuses it) the commit falls back to two renames, with a window two syscalls
//! long in which the path is missing. Files
//! are not synced one by one; whether the commit waits for the disk is [`crate::durable`]'s
//! policy (`GRUMPY_FSYNC`).
//!
//! Only a grumpy store (a `zarr.json` whose attributes have a `grumpy` entry) or an empty
//! directory is ever replaced: any other file, directory or Zarr store is the user's data.
//!
//! Paths containing `://` are URLs: readable through [`crate::remote`] (behind the `http` /
//! `object-store` cargo features), never written.
//!
//! ```
//! use grumpy_zarr::path::{is_url, local};
//! assert!(is_url("https://example.org/p.zarr"));
//! assert!(local("s3://bucket/p.zarr".as_ref()).is_err());
//! ```

use crate::error::{io_error, store_error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// True when `path` is a URL (`scheme://...`).
pub fn is_url(path: &str) -> bool {
    path.contains("://")
}

/// A local path to write to, or `Unsupported` for a URL (stores at URLs are read-only).
pub fn local(path: &Path) -> Result<PathBuf> {
    let s = path.to_string_lossy();
    if is_url(&s) {
        return Err(crate::error::Error::new(
            grumpy_core::Code::Unsupported,
            format!("cannot write a store at the URL {s:?}"),
            "stores at URLs (http(s)://, s3://, gs://) are read-only in grumpy: an object \
             store has no atomic rename for the temp-dir + rename commit",
            "save to a local directory, then upload it with your storage tool",
        ));
    }
    Ok(path.to_path_buf())
}

/// True when `dir/zarr.json` is a grumpy store's root metadata.
pub(crate) fn is_grumpy_store(dir: &Path) -> bool {
    std::fs::read(dir.join("zarr.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v["attributes"]["grumpy"].is_object())
}

fn sibling(target: &Path, tag: &str) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        store_error(
            format!("{} is not a valid store path", target.display()),
            "the path has no final component",
            "pass a directory path such as data/proteins.zarr",
        )
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let file = format!(
        ".{}.grumpy-{tag}-{}-{n}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(target.with_file_name(file))
}

/// A hidden temporary directory next to a target; removed on drop unless committed.
pub struct TempStore {
    dir: PathBuf,
    target: PathBuf,
    done: bool,
}

impl TempStore {
    /// Create the temporary directory next to `target` (the parent must exist). With
    /// `overwrite = false` an existing target is an error.
    pub fn new(target: &Path, overwrite: bool) -> Result<TempStore> {
        check_target(target, overwrite)?;
        let dir = sibling(target, "tmp")?;
        std::fs::create_dir(&dir).map_err(|e| io_error(dir.display(), e))?;
        Ok(TempStore {
            dir,
            target: target.to_path_buf(),
            done: false,
        })
    }

    /// The directory to write into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Move the finished store over the target. With `GRUMPY_FSYNC` on, every file and
    /// directory of the store is synced first (one parallel pass) and the parent directory
    /// after the rename (see [`crate::durable`]).
    pub fn commit(mut self, overwrite: bool) -> Result<()> {
        check_target(&self.target, overwrite)?;
        let durable = crate::durable::fsync_enabled();
        if durable {
            crate::durable::sync_tree(&self.dir)?;
        }
        if self.target.exists() && exchange(&self.dir, &self.target).is_ok() {
            // the temporary name now holds the old store
            self.done = true;
            let synced = if durable {
                crate::durable::sync_one(&crate::durable::parent_dir(&self.target))
            } else {
                Ok(())
            };
            let _ = std::fs::remove_dir_all(&self.dir);
            return synced;
        }
        let old = if self.target.exists() {
            let old = sibling(&self.target, "old")?;
            std::fs::rename(&self.target, &old).map_err(|e| io_error(self.target.display(), e))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&self.dir, &self.target) {
            if let Some(old) = &old {
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(io_error(self.target.display(), e));
        }
        self.done = true;
        let synced = if durable {
            crate::durable::sync_one(&crate::durable::parent_dir(&self.target))
        } else {
            Ok(())
        };
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        synced
    }
}

/// Swap the names `a` and `b` in one step (`renameat2(RENAME_EXCHANGE)`). An error (an old
/// kernel, a file system without the flag) lets the caller fall back to two renames.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

impl Drop for TempStore {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Refuse to replace something that is not a store (never delete a user's unrelated files).
fn check_target(target: &Path, overwrite: bool) -> Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(store_error(
            format!("cannot write a store at {}", target.display()),
            format!("the parent directory {} does not exist", parent.display()),
            "create the parent directory first",
        ));
    }
    if target.exists() {
        if !overwrite {
            return Err(store_error(
                format!("{} already exists", target.display()),
                "overwrite=False was passed",
                "pass overwrite=True, choose another path, or use gr.append",
            ));
        }
        let empty_dir =
            target.is_dir() && std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_none());
        if !is_grumpy_store(target) && !empty_dir {
            let what = if target.join("zarr.json").is_file() || target.join(".zgroup").is_file() {
                "it is a Zarr store not written by grumpy"
            } else if target.is_dir() {
                "it is a non-empty directory that is not a grumpy store"
            } else {
                "it is a file"
            };
            return Err(store_error(
                format!("refusing to overwrite {}", target.display()),
                format!("{what}; overwrite=True only replaces grumpy stores"),
                "remove it yourself or choose another path",
            ));
        }
    }
    Ok(())
}
