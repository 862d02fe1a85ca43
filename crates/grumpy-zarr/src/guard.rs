//! Defences against hostile or corrupt stores: nothing a store's metadata declares is trusted
//! before it is checked against what is actually on disk.
//!
//! - [`LocalStore`]: a read-only filesystem store that refuses every key reached through a
//!   symbolic link *inside* the store (the store's own path may be or contain a symlink). A
//!   store from elsewhere could otherwise point `node1-data/c/0` at `~/.ssh/id_rsa` and, with
//!   its checksum codec removed from the array metadata, read it as data. Keys are opened by
//!   [`open_nofollow`] (`openat` + `O_NOFOLLOW` component by component), so a symlink swapped
//!   in while the store is read is refused too, not followed.
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
use std::path::{Path, PathBuf};
use zarrs::storage::{
    byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError},
    Bytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

/// Largest decoded chunk a reader accepts (bytes). `gr.save` writes ~1 MiB chunks, and
/// refuses a `chunk_size=` that would make larger ones than this.
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
///
/// Every read opens its key with [`open_nofollow`] (each component below the root opened
/// relative to its parent with `O_NOFOLLOW`), so there is no window between a check and the
/// open in which a swapped-in symlink could be followed.
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Open the directory `root` (which itself may be reached through symlinks).
    pub fn new(root: &Path) -> Result<LocalStore> {
        if !root.is_dir() {
            return Err(crate::error::io_error(
                root.display(),
                "not a directory (or not readable)",
            ));
        }
        Ok(LocalStore {
            root: root.to_path_buf(),
        })
    }

    fn open(&self, key: &StoreKey) -> std::result::Result<Option<std::fs::File>, StorageError> {
        open_nofollow(&self.root, key.as_str()).map_err(|e| StorageError::Other(e.to_string()))
    }
}

/// Where `range` starts and how long it is in a value of `size` bytes.
fn span(range: ByteRange, size: u64) -> std::result::Result<(u64, u64), StorageError> {
    let (start, len) = match range {
        ByteRange::FromStart(start, None) => (start, size.checked_sub(start)),
        ByteRange::FromStart(start, Some(len)) => (start, Some(len)),
        ByteRange::Suffix(len) => (size.saturating_sub(len), Some(len.min(size))),
    };
    match len {
        Some(len) if start.checked_add(len).is_some_and(|end| end <= size) => Ok((start, len)),
        _ => Err(InvalidByteRangeError::new(range, size).into()),
    }
}

impl ReadableStorageTraits for LocalStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> std::result::Result<MaybeBytesIterator<'a>, StorageError> {
        use std::io::{Read, Seek, SeekFrom};
        let Some(mut file) = self.open(key)? else {
            return Ok(None);
        };
        let size = file.metadata()?.len();
        let mut out = Vec::new();
        for range in byte_ranges {
            let (start, len) = span(range, size)?;
            let mut buf = Vec::new();
            buf.try_reserve_exact(len as usize)
                .map_err(|e| StorageError::Other(e.to_string()))?;
            file.seek(SeekFrom::Start(start))?;
            (&mut file).take(len).read_to_end(&mut buf)?;
            if buf.len() as u64 != len {
                return Err(StorageError::Other(format!(
                    "{}: {} bytes read of the {len} requested (the file shrank while it was read)",
                    key.as_str(),
                    buf.len()
                )));
            }
            out.push(Ok(Bytes::from(buf)));
        }
        Ok(Some(Box::new(out.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> std::result::Result<Option<u64>, StorageError> {
        match self.open(key)? {
            Some(file) => Ok(Some(file.metadata()?.len())),
            None => Ok(None),
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

fn escape_error(root: &Path, rel: &str) -> Error {
    store_error(
        format!("the key {rel:?} escapes the store {}", root.display()),
        "keys must be relative paths without empty, `.` or `..` components",
        "the store is damaged or hostile; save the data again with gr.save",
    )
}

/// Open the regular file `rel` (a `/`-separated path) below the directory `root` for reading,
/// following no symbolic link at or below `root`: `Ok(None)` when it does not exist, a
/// `StoreError` when a component is a symlink (or `.`/`..`/empty) or the file is not a
/// regular file (a FIFO or device would block or read endless data).
///
/// `root` itself may be or go through a symlink. On Unix each component below it is opened
/// relative to the descriptor of its parent with `O_NOFOLLOW` (`openat`), so a directory or
/// file swapped for a symlink after any earlier check is still never followed: there is no
/// time-of-check/time-of-use window. This is the function to open a chunk file with when
/// grumpy reads a local store without going through zarrs (e.g. a direct chunk reader).
///
/// ```
/// use grumpy_zarr::guard::open_nofollow;
/// use std::io::Read;
/// let dir = std::env::temp_dir().join(format!("grumpy-doc-nofollow-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("a/c")).unwrap();
/// std::fs::write(dir.join("a/c/0"), b"chunk").unwrap();
/// let mut s = String::new();
/// open_nofollow(&dir, "a/c/0").unwrap().unwrap().read_to_string(&mut s).unwrap();
/// assert_eq!(s, "chunk");
/// assert!(open_nofollow(&dir, "a/c/1").unwrap().is_none());
/// std::os::unix::fs::symlink(dir.join("a/c/0"), dir.join("a/c/2")).unwrap();
/// assert!(open_nofollow(&dir, "a/c/2").is_err());
/// assert!(open_nofollow(&dir, "a/../a/c/0").is_err());
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn open_nofollow(root: &Path, rel: &str) -> Result<Option<std::fs::File>> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(escape_error(root, rel));
    }
    let failed = |upto: usize, e: std::io::Error| -> Result<Option<std::fs::File>> {
        let p = root.join(parts[..=upto].join("/"));
        // (`O_DIRECTORY | O_NOFOLLOW` on a link fails with ENOTDIR on Linux: the `lstat` only
        // picks the message, the open has already refused the link)
        let link = || std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        match e.kind() {
            std::io::ErrorKind::NotFound => Ok(None),
            _ if nofollow::is_symlink_error(&e) || link() => Err(symlink_error(&p)),
            _ => Err(crate::error::io_error(p.display(), e)),
        }
    };
    let mut dir = match nofollow::open_root(root) {
        Ok(d) => d,
        Err(e) => return Err(crate::error::io_error(root.display(), e)),
    };
    let last = parts.len() - 1;
    for (i, part) in parts[..last].iter().enumerate() {
        dir = match nofollow::open_dir(&dir, part) {
            Ok(d) => d,
            Err(e) => return failed(i, e),
        };
    }
    let file = match nofollow::open_file(&dir, parts[last]) {
        Ok(f) => f,
        Err(e) => return failed(last, e),
    };
    let meta = file
        .metadata()
        .map_err(|e| crate::error::io_error(root.join(rel).display(), e))?;
    if !meta.is_file() {
        return Err(store_error(
            format!("{} is not a regular file", root.join(rel).display()),
            format!(
                "a store holds only directories and files, found {:?}",
                meta.file_type()
            ),
            "the store is damaged or hostile; save the data again with gr.save",
        ));
    }
    Ok(Some(file))
}

/// The system calls behind [`open_nofollow`].
#[cfg(unix)]
mod nofollow {
    use std::ffi::CString;
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    /// `O_NOFOLLOW` on a symlink fails with `ELOOP` (Linux, macOS) or `EMLINK` (FreeBSD).
    pub(super) fn is_symlink_error(e: &io::Error) -> bool {
        let code = e.raw_os_error();
        code == Some(libc::ELOOP)
            || (cfg!(any(target_os = "freebsd", target_os = "dragonfly"))
                && code == Some(libc::EMLINK))
    }

    /// The root directory (following symlinks: the store's own path may be a link).
    pub(super) fn open_root(root: &Path) -> io::Result<OwnedFd> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(root)?;
        Ok(OwnedFd::from(f))
    }

    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC)`.
    fn openat(dir: &OwnedFd, name: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        let name = CString::new(std::ffi::OsStr::new(name).as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let flags = flags | libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: `dir` is an open descriptor borrowed for the duration of the call, `name`
        // is a NUL-terminated string that outlives it, and no mode argument is needed (no
        // O_CREAT). openat only reads these arguments.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by a successful openat, so it is an open descriptor
        // that nothing else owns; the OwnedFd closes it exactly once.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The directory `name` inside `dir`, refusing a symlink.
    pub(super) fn open_dir(dir: &OwnedFd, name: &str) -> io::Result<OwnedFd> {
        openat(dir, name, libc::O_DIRECTORY)
    }

    /// The file `name` inside `dir`, refusing a symlink; `O_NONBLOCK` so a FIFO planted in the
    /// store cannot block the open (regular files ignore the flag).
    pub(super) fn open_file(dir: &OwnedFd, name: &str) -> io::Result<File> {
        openat(dir, name, libc::O_NONBLOCK).map(File::from)
    }
}

/// Without `openat`/`O_NOFOLLOW` (non-Unix): `lstat` each component, then open by path. A
/// symlink swapped in between the `lstat` and the open would be followed there.
#[cfg(not(unix))]
mod nofollow {
    use std::fs::File;
    use std::io;
    use std::path::{Path, PathBuf};

    const LINK: &str = "is a symbolic link";

    pub(super) fn is_symlink_error(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.to_string() == LINK)
    }

    pub(super) fn open_root(root: &Path) -> io::Result<PathBuf> {
        Ok(root.to_path_buf())
    }

    fn child(dir: &Path, name: &str) -> io::Result<PathBuf> {
        let p = dir.join(name);
        if std::fs::symlink_metadata(&p)?.file_type().is_symlink() {
            return Err(io::Error::other(LINK));
        }
        Ok(p)
    }

    pub(super) fn open_dir(dir: &Path, name: &str) -> io::Result<PathBuf> {
        child(dir, name)
    }

    pub(super) fn open_file(dir: &Path, name: &str) -> io::Result<File> {
        File::open(child(dir, name)?)
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
    let mut v = with_capacity::<T>(n)?;
    v.resize(n, T::default());
    Ok(v)
}

/// An empty vector with room for `n` elements, or a `StoreError` when it cannot be allocated.
///
/// ```
/// use grumpy_zarr::guard::with_capacity;
/// assert!(with_capacity::<f64>(3).unwrap().capacity() >= 3);
/// assert!(with_capacity::<u64>(usize::MAX / 4).is_err());
/// ```
pub fn with_capacity<T>(n: usize) -> Result<Vec<T>> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(n).map_err(|e| {
        store_error(
            format!("cannot allocate {n} elements to read the store"),
            e.to_string(),
            "the store declares more data than fits in memory; read it in row ranges \
             (gr.open(path)[a:b] or gr.stream)",
        )
    })?;
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

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("grumpy-guard-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("store/a/c")).unwrap();
        std::fs::create_dir_all(dir.join("outside/c")).unwrap();
        std::fs::write(dir.join("store/a/c/0"), b"inside").unwrap();
        std::fs::write(dir.join("outside/c/0"), b"SECRET").unwrap();
        dir
    }

    #[test]
    fn byte_ranges_match_the_file() {
        let dir = scratch("ranges");
        let s = LocalStore::new(&dir.join("store")).unwrap();
        let key = StoreKey::new("a/c/0").unwrap();
        let got = |r: Vec<ByteRange>| -> std::result::Result<Vec<Vec<u8>>, StorageError> {
            s.get_partial_many(&key, Box::new(r.into_iter()))?
                .unwrap()
                .map(|b| b.map(|b| b.to_vec()))
                .collect()
        };
        let r = got(vec![
            ByteRange::FromStart(0, None),
            ByteRange::FromStart(1, Some(3)),
            ByteRange::Suffix(2),
            ByteRange::FromStart(6, None),
            ByteRange::Suffix(9),
        ])
        .unwrap();
        let want: Vec<&[u8]> = vec![b"inside", b"nsi", b"de", b"", b"inside"];
        assert_eq!(r, want);
        assert_eq!(s.size_key(&key).unwrap(), Some(6));
        assert!(got(vec![ByteRange::FromStart(7, None)]).is_err());
        assert!(got(vec![ByteRange::FromStart(4, Some(3))]).is_err());
        assert!(got(vec![ByteRange::FromStart(u64::MAX, Some(2))]).is_err());
        let missing = StoreKey::new("a/c/9").unwrap();
        assert_eq!(s.size_key(&missing).unwrap(), None);
        assert!(s
            .get(&StoreKey::new("nope/c/0").unwrap())
            .unwrap()
            .is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn links_swapped_in_after_a_read_are_refused() {
        let dir = scratch("swap");
        let root = dir.join("store");
        let s = LocalStore::new(&root).unwrap();
        let key = StoreKey::new("a/c/0").unwrap();
        assert_eq!(s.get(&key).unwrap().unwrap().as_ref(), b"inside");
        // the chunk file becomes a link to a file outside the store
        std::fs::rename(root.join("a/c/0"), dir.join("saved")).unwrap();
        std::os::unix::fs::symlink(dir.join("outside/c/0"), root.join("a/c/0")).unwrap();
        let e = s.get(&key).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(s.size_key(&key).is_err());
        let e = open_nofollow(&root, "a/c/0").unwrap_err();
        assert_eq!(e.code(), crate::error::Code::Store);
        // a directory already read through becomes a link to a directory outside
        std::fs::remove_file(root.join("a/c/0")).unwrap();
        std::fs::rename(root.join("a/c"), dir.join("saved-c")).unwrap();
        std::os::unix::fs::symlink(dir.join("outside/c"), root.join("a/c")).unwrap();
        assert!(s
            .get(&key)
            .unwrap_err()
            .to_string()
            .contains("symbolic link"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = scratch("fifo");
        let root = dir.join("store");
        let fifo =
            std::ffi::CString::new(root.join("a/c/1").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `fifo` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let s = LocalStore::new(&root).unwrap();
        let e = s.get(&StoreKey::new("a/c/1").unwrap()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = open_nofollow(&root, "a/c").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(open_nofollow(&root, "a/c/0/x").is_err());
        for bad in ["", "a//c", "./a", "a/../a/c/0", "/a/c/0"] {
            assert!(open_nofollow(&root, bad).is_err(), "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A thread keeps swapping the chunk between the real file and a symlink to an outside
    /// file (atomic renames) while reads run: each read gets the real bytes or a symlink
    /// error, never the outside file. A check-then-open (lstat, then a path open) loses this
    /// race now and then.
    #[test]
    fn racing_symlink_swaps_are_never_followed() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = scratch("race");
        let root = dir.join("store");
        std::fs::hard_link(root.join("a/c/0"), dir.join("real")).unwrap();
        let stop = AtomicBool::new(false);
        let s = LocalStore::new(&root).unwrap();
        let key = StoreKey::new("a/c/0").unwrap();
        let (mut real, mut refused, mut wrong) = (0, 0, Vec::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let target = root.join("a/c/0");
                while !stop.load(Ordering::Relaxed) {
                    for src in ["real", "link"] {
                        // a fresh name to rename over the chunk (rename consumes it)
                        let tmp = dir.join(format!("{src}.tmp"));
                        let _ = std::fs::remove_file(&tmp);
                        if src == "real" {
                            std::fs::hard_link(dir.join("real"), &tmp).unwrap();
                        } else {
                            std::os::unix::fs::symlink(dir.join("outside/c/0"), &tmp).unwrap();
                        }
                        std::fs::rename(&tmp, &target).unwrap();
                    }
                }
            });
            // (no assert in here: a panic would leave the swapping thread running forever)
            let t0 = std::time::Instant::now();
            while t0.elapsed() < std::time::Duration::from_millis(1500) {
                match s.get(&key) {
                    Ok(Some(b)) if b.as_ref() == b"inside" => real += 1,
                    Err(e) if e.to_string().contains("symbolic link") => refused += 1,
                    other => wrong.push(format!("{other:?}")),
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        assert!(
            wrong.is_empty(),
            "{} wrong reads, e.g. {:?}",
            wrong.len(),
            &wrong[..1]
        );
        assert!(
            real > 0 && refused > 0,
            "{real} real reads, {refused} refused"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
