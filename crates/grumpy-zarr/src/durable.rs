//! When written bytes reach the disk (`fsync`).
//!
//! grumpy's atomicity never depends on `fsync`: a store is written completely into a hidden
//! temporary directory and renamed into place ([`crate::path`]), and an append writes every
//! key to a temporary name and renames it over the old one, then the root attributes last
//! ([`mod@crate::append`]). A killed process (SIGKILL, an exception, a full disk) therefore
//! leaves the old store or the new one: the kernel keeps every byte a dead process wrote.
//!
//! `fsync` matters only if the **machine** stops (power loss, kernel crash) before the kernel
//! has written its cache back (within ~30 s on Linux). With the environment variable
//! `GRUMPY_FSYNC=1` every save and append is also durable against that:
//!
//! | step                   | `GRUMPY_FSYNC` unset (default)  | `GRUMPY_FSYNC=1`                             |
//! |------------------------|---------------------------------|----------------------------------------------|
//! | chunk and metadata files | written, not synced           | all synced in one parallel pass before the commit |
//! | save commit (rename)   | rename                          | rename, then the parent directory synced     |
//! | append: replaced key   | temp key + rename               | temp key synced, then renamed                |
//! | append commit (root)   | root `zarr.json` replaced       | every written file synced first, then the root, then its directory |
//!
//! Without it, a power loss soon after a save can leave the new store with short or empty
//! chunk files (reads then fail with a checksum `StoreError`, never wrong values) — what most
//! array writers (NumPy, zarr-python, HDF5) give too. With it, each save costs one disk flush
//! of its bytes (about 30 ms for 36 MB on the development VM).
//!
//! ```
//! std::env::remove_var("GRUMPY_FSYNC");
//! assert!(!grumpy_zarr::durable::fsync_enabled());
//! ```

use crate::error::{io_error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// True when `GRUMPY_FSYNC` is set to anything but `""`, `"0"`, `"false"` or `"no"`.
pub fn fsync_enabled() -> bool {
    std::env::var("GRUMPY_FSYNC").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no")
    })
}

/// At most this many `fsync` calls wait at once (they wait on the disk, not the CPU).
const SYNC_THREADS: usize = 16;

/// `fsync` every path (files or directories), many at a time.
pub(crate) fn sync_paths(paths: &[PathBuf]) -> Result<()> {
    let next = AtomicUsize::new(0);
    let work = || -> Result<()> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(p) = paths.get(i) else {
                return Ok(());
            };
            sync_one(p)?;
        }
    };
    let threads = SYNC_THREADS.min(paths.len());
    if threads <= 1 {
        return work();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect::<Result<Vec<()>>>()
    })
    .map(|_| ())
}

/// `fsync` one file or directory.
pub(crate) fn sync_one(p: &Path) -> Result<()> {
    std::fs::File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(p.display(), e))
}

/// `fsync` every file and directory under `dir`, and `dir` itself.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    let mut k = 0;
    while k < dirs.len() {
        let rd = std::fs::read_dir(&dirs[k]).map_err(|e| io_error(dirs[k].display(), e))?;
        for e in rd {
            let e = e.map_err(|e| io_error(dir.display(), e))?;
            let t = e
                .file_type()
                .map_err(|err| io_error(e.path().display(), err))?;
            if t.is_dir() {
                dirs.push(e.path());
            } else if t.is_file() {
                files.push(e.path());
            }
        }
        k += 1;
    }
    sync_paths(&files)?;
    sync_paths(&dirs)
}

/// The directory holding `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_a_tree_and_reports_missing_paths() {
        let dir = std::env::temp_dir().join(format!("grumpy-durable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/c")).unwrap();
        for i in 0..40 {
            std::fs::write(dir.join(format!("a/c/{i}")), [i as u8; 10]).unwrap();
        }
        sync_tree(&dir).unwrap();
        let e = sync_paths(&[dir.join("a/c/0"), dir.join("nope")]).unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Store);
        assert!(e.summary().contains("nope"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_switch_reads_the_environment() {
        // one test owns the variable (tests run in threads of one process)
        for (v, on) in [
            ("1", true),
            ("yes", true),
            ("0", false),
            ("", false),
            ("No", false),
        ] {
            std::env::set_var("GRUMPY_FSYNC", v);
            assert_eq!(fsync_enabled(), on, "{v:?}");
        }
        std::env::remove_var("GRUMPY_FSYNC");
        assert!(!fsync_enabled());
    }
}
