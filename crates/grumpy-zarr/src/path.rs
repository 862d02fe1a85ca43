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
//! A writer killed mid-save (SIGKILL, the OOM killer) leaves its hidden directory behind; the
//! next save to the same path removes such leftovers once their process is gone
//! (`sweep_stale`).
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
        sweep_stale(target, STALE_AFTER);
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

/// A hidden sibling of a dead writer is removed once untouched this long (a writer in another
/// PID namespace sharing the directory looks dead; this keeps its save safe unless it stalls
/// for that long).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Remove the hidden siblings of `target` (`.<name>.grumpy-tmp-<pid>-…`, `.grumpy-old-…`) that
/// a killed writer left behind: a SIGKILL, the OOM killer or a power cut skips the cleanup
/// that an error or an exception gets. Only directories whose writer process no longer exists
/// and that were untouched for `min_age` go; anything else (a live save, another process's
/// files) is left alone. Best effort: failures are ignored.
pub(crate) fn sweep_stale(target: &Path, min_age: std::time::Duration) {
    let (Some(name), Some(parent)) = (target.file_name(), target.parent()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!(".{}.grumpy-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(rest) = rest
            .strip_prefix("tmp-")
            .or_else(|| rest.strip_prefix("old-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let old_enough = e
            .metadata()
            .ok()
            .filter(|m| m.is_dir())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= min_age);
        if old_enough && pid != std::process::id() && !process_exists(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process `pid` exists (`kill(pid, 0)`; permission denied means it does).
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true // cannot tell: keep everything
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Only the hidden directories of this target whose writer is dead (and that are old
    /// enough) are removed; live writers, this process, other targets and files stay.
    #[test]
    fn sweep_removes_only_dead_writers_leftovers() {
        let dir = std::env::temp_dir().join(format!("grumpy-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("s.zarr");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        let dirs = [
            (format!(".s.zarr.grumpy-tmp-{dead}-0-1"), false),
            (format!(".s.zarr.grumpy-old-{dead}-3-9"), false),
            (format!(".s.zarr.grumpy-tmp-{me}-0-1"), true), // this process: maybe in use
            (".s.zarr.grumpy-tmp-1-0-1".to_string(), true), // pid 1 is alive
            (format!(".t.zarr.grumpy-tmp-{dead}-0-1"), true), // another target
            (format!(".s.zarr.grumpy-new-{dead}-0-1"), true), // not a name grumpy writes
        ];
        for (name, _) in &dirs {
            std::fs::create_dir(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("zarr.json"), "{}").unwrap();
        }
        let file = format!(".s.zarr.grumpy-tmp-{dead}-7-7");
        std::fs::write(dir.join(&file), "not a directory").unwrap();
        sweep_stale(&target, Duration::from_secs(3600)); // all too recent
        for (name, _) in &dirs {
            assert!(dir.join(name).is_dir(), "{name} removed while recent");
        }
        sweep_stale(&target, Duration::ZERO);
        for (name, kept) in &dirs {
            assert_eq!(dir.join(name).is_dir(), *kept, "{name}");
        }
        assert!(dir.join(&file).is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
