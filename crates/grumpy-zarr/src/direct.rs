//! Direct reads of a local store's chunk files: for a buffer stored with grumpy's plain chain
//! (`bytes` [+ `zstd`] + `crc32c`, see [`crate::plain`]) a chunk is read with `pread` straight
//! into its destination (the caller's output or a cache entry) and its checksum verified over
//! the destination; a zstd or blosc chunk is read into a reusable per-thread buffer and
//! decompressed into the destination (zstd by a per-thread decompressor). No allocation per
//! chunk, no copy beyond the kernel's.
//!
//! ```text
//!   store/node3-data/c/17   --pread-->  out[17 * cl ..][.. cl]   crc32c(out) == last 4 bytes
//!   store/node1-offsets/c/2 --pread-->  scratch (per thread) --zstd--> out[2 * cl ..]
//! ```
//!
//! The chunk directory (`<buffer>/c`) is opened once per reader with `O_NOFOLLOW` at every
//! component below the store root, and each chunk file with `openat(.., O_NOFOLLOW)` under it,
//! so no key is ever read through a symbolic link inside the store (as [`crate::guard`]'s
//! `LocalStore` guarantees for the zarrs path). Sharded buffers, other codec chains, other
//! chunk-key encodings and URLs keep the `zarrs` path.
//!
//! ```
//! use grumpy_core::Array;
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-direct-{}", std::process::id()));
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![], vec![3.0]].into(), None).unwrap();
//! grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
//! let r = grumpy_zarr::StoreReader::open_with_cache(&dir, 0).unwrap();
//! assert!(r.direct_buffers() > 0);       // every plain-chain buffer reads directly
//! assert_eq!(r.read_all().unwrap(), a);
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::error::{corrupt, store_error, Error, Result};
use crate::plain::{Plain, PlainElem};
use std::cell::RefCell;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use zarrs::array::Array;

/// Per-thread scratch larger than this is released after use (a store with huge chunks must
/// not pin that much memory per thread).
const KEEP_SCRATCH: usize = 32 << 20;

/// The bytes of a raw chunk outside the part wanted pass through a per-thread buffer this
/// large, for its checksum ([`Direct::read_raw_part`]).
const PART_PIECE: usize = 64 << 10;

thread_local! {
    /// Compressed chunk files (zstd chains).
    static FILE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Decoded chunks (or blosc blocks) still shuffled.
    static SHUFFLED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Whole decoded chunks of which only a part is wanted.
    static CHUNK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// One zstd decompression context per thread.
    static ZSTD: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Direct access to the chunk files of one buffer (see the module docs).
pub(crate) struct Direct {
    /// The buffer's chunk directory (`<buffer>/c`).
    dir: OwnedFd,
    /// Its path, for messages.
    shown: PathBuf,
    how: Plain,
    /// The buffer's Zarr path (`/node1-data`), as the zarrs path names it in errors.
    name: String,
}

fn cstr(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// `openat(dir, name, flags | O_CLOEXEC)` (`dir` `None`: relative to nothing, `name` absolute
/// or relative to the working directory).
fn open_at(dir: Option<&OwnedFd>, name: &[u8], flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    let at = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `c` is a NUL-terminated path, `at` a live directory fd or AT_FDCWD; the returned
    // fd (when >= 0) is owned by nobody else.
    let fd = unsafe { libc::openat(at, c.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is not owned elsewhere.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Direct {
    /// Direct access to the chunks of `arr` (the buffer `name` of the store at `root`), or
    /// `None` when its chunks must go through `zarrs` (another chain or key encoding, no chunk
    /// directory, or a component that is not a plain directory: the zarrs path reports it).
    pub(crate) fn open<S: ?Sized>(root: &Path, name: &str, arr: &Array<S>) -> Option<Direct> {
        let how = crate::plain::chain(arr)?;
        if arr.chunk_key(&[7]).as_str() != format!("{name}/c/7") {
            return None;
        }
        let flags = libc::O_RDONLY | libc::O_DIRECTORY;
        let mut dir = open_at(None, root.as_os_str().as_bytes(), flags).ok()?;
        for part in name.split('/').chain(["c"]) {
            if part.is_empty() || part == "." || part == ".." {
                return None;
            }
            dir = open_at(Some(&dir), part.as_bytes(), flags | libc::O_NOFOLLOW).ok()?;
        }
        Some(Direct {
            dir,
            shown: root.join(name).join("c"),
            how,
            name: arr.path().to_string(),
        })
    }

    fn bad(&self, c: u64, why: impl std::fmt::Display) -> Error {
        corrupt(&self.name, format!("chunk {c}: {why}"))
    }

    /// Open chunk file `c` (never through a symlink) and return it with its size.
    fn file(&self, c: u64) -> Result<(File, u64)> {
        let fd = open_at(
            Some(&self.dir),
            c.to_string().as_bytes(),
            libc::O_RDONLY | libc::O_NOFOLLOW,
        )
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => store_error(
                format!("buffer {} is missing chunk {c}", self.name),
                "a chunk inside the recorded length is not in the store",
                "the store was truncated or damaged; save the data again with gr.save",
            ),
            Some(libc::ELOOP) => crate::guard::symlink_error(&self.shown.join(c.to_string())),
            _ => self.bad(c, e),
        })?;
        let file = File::from(fd);
        let meta = file.metadata().map_err(|e| self.bad(c, e))?;
        if !meta.is_file() {
            return Err(self.bad(c, "not a regular file"));
        }
        Ok((file, meta.len()))
    }

    fn read_exact(&self, c: u64, file: &File, dst: &mut [u8], at: u64) -> Result<()> {
        file.read_exact_at(dst, at).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                self.bad(c, "the file is shorter than it was a moment ago")
            } else {
                self.bad(c, e)
            }
        })
    }

    fn check_crc(&self, c: u64, payload: &[u8], tail: &[u8]) -> Result<()> {
        self.check_sum(c, crc32c::crc32c(payload), tail)
    }

    /// Compare a chunk's checksum `actual` with the one recorded in its last 4 bytes `tail`.
    fn check_sum(&self, c: u64, actual: u32, tail: &[u8]) -> Result<()> {
        let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        if stored != actual {
            return Err(self.bad(
                c,
                format!("checksum mismatch (crc32c {actual:#010x}, recorded {stored:#010x})"),
            ));
        }
        Ok(())
    }

    /// Decode chunk `c` into `dst`, exactly one chunk of bytes.
    fn read_bytes(&self, c: u64, dst: &mut [u8]) -> Result<()> {
        let (file, size) = self.file(c)?;
        if size < 4 {
            return Err(self.bad(c, format!("{size} bytes, too short for its checksum")));
        }
        let payload = size - 4;
        match self.how {
            Plain::Raw => {
                if payload != dst.len() as u64 {
                    return Err(
                        self.bad(c, format!("{payload} bytes stored, {} expected", dst.len()))
                    );
                }
                let mut tail = [0u8; 4];
                self.read_exact(c, &file, dst, 0)?;
                self.read_exact(c, &file, &mut tail, payload)?;
                self.check_crc(c, dst, &tail)
            }
            Plain::Zstd => self.read_zstd(c, &file, size, dst),
            Plain::Blosc(_) => self.read_blosc(c, &file, size, dst),
            Plain::ShuffledZstd(k) => with_scratch(&SHUFFLED, dst.len(), |shuffled| {
                self.read_zstd(c, &file, size, shuffled)?;
                crate::shuffle::unshuffle(shuffled, dst, k);
                Ok(())
            }),
        }
    }

    /// Read the compressed chunk file `file` (`size` bytes, checksum included) of chunk `c`
    /// into this thread's scratch, check its checksum, and run `decode` on the frame.
    fn with_checked_file<R>(
        &self,
        c: u64,
        file: &File,
        size: usize,
        decode: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<R> {
        with_scratch(&FILE, size, |buf| {
            self.read_exact(c, file, buf, 0)?;
            let (body, tail) = buf.split_at(size - 4);
            self.check_crc(c, body, tail)?;
            decode(body)
        })
    }

    /// Read the zstd chunk file `file` (`size` bytes, checksum included) of chunk `c` and
    /// decompress it into `dst`, exactly one chunk of bytes.
    fn read_zstd(&self, c: u64, file: &File, size: u64, dst: &mut [u8]) -> Result<()> {
        let size = usize::try_from(size).map_err(|e| self.bad(c, e))?;
        if size > dst.len().saturating_mul(2).saturating_add(1 << 16) {
            // a zstd frame never grows data by that much: the file is not our chunk
            return Err(self.bad(c, format!("{size} bytes, too large for its chunk")));
        }
        self.with_checked_file(c, file, size, |body| {
            let n = with_zstd(|d| d.decompress_to_buffer(body, dst))
                .map_err(|e| self.bad(c, format!("zstd: {e}")))?;
            if n != dst.len() {
                return Err(self.bad(c, format!("{n} bytes decoded, {} expected", dst.len())));
            }
            Ok(())
        })
    }

    /// Read the blosc chunk file `file` (`size` bytes, checksum included) of chunk `c` and
    /// decompress it into `dst`, exactly one chunk of bytes.
    fn read_blosc(&self, c: u64, file: &File, size: u64, dst: &mut [u8]) -> Result<()> {
        let size = usize::try_from(size).map_err(|e| self.bad(c, e))?;
        let most = dst.len() + blosc_src::BLOSC_MAX_OVERHEAD as usize + 4;
        if size > most {
            // a blosc frame is never larger than its data plus a header
            return Err(self.bad(c, format!("{size} bytes, too large for its chunk")));
        }
        self.with_checked_file(c, file, size, |body| {
            let blosc = crate::blosc::Header::parse(body).filter(|h| h.zstd_blocks());
            let Some(h) = blosc else {
                return crate::blosc::decompress_into(body, dst).map_err(|e| self.bad(c, e));
            };
            // the default chain's frames: decoded here with this thread's zstd context and
            // block buffer (c-blosc would allocate both for every chunk)
            let block = h.blocksize.min(dst.len());
            with_scratch(&SHUFFLED, block, |tmp| {
                with_zstd(|d| {
                    Ok(crate::blosc::decode_zstd_blocks(
                        body,
                        &h,
                        dst,
                        tmp,
                        |src, out| {
                            d.decompress_to_buffer(src, out)
                                .map_err(|e| format!("zstd: {e}"))
                        },
                    ))
                })
                .map_err(|e| self.bad(c, format!("zstd: {e}")))?
                .map_err(|e| self.bad(c, e))
            })
        })
    }

    /// Bytes `[at, at + dst.len())` of the uncompressed chunk `c` (`whole` bytes) read with
    /// `pread` straight into `dst`; the bytes around them pass through a small per-thread
    /// buffer, [`PART_PIECE`] at a time, for the checksum over the whole chunk. A buffer's last
    /// chunk is padded to full length on disk, so a full load reads its few used rows this way
    /// instead of decoding the whole chunk into a chunk-sized scratch buffer per thread.
    fn read_raw_part(&self, c: u64, whole: usize, at: usize, dst: &mut [u8]) -> Result<()> {
        let (file, size) = self.file(c)?;
        if size != whole as u64 + 4 {
            let stored = size.saturating_sub(4);
            return Err(self.bad(c, format!("{stored} bytes stored, {whole} expected")));
        }
        let end = at + dst.len();
        let mut crc = 0u32;
        let skim = |from: usize, to: usize, crc: &mut u32| -> Result<()> {
            with_scratch(&FILE, PART_PIECE.min(to - from), |buf| {
                let mut pos = from;
                while pos < to {
                    let piece = &mut buf[..PART_PIECE.min(to - pos)];
                    self.read_exact(c, &file, piece, pos as u64)?;
                    *crc = crc32c::crc32c_append(*crc, piece);
                    pos += piece.len();
                }
                Ok(())
            })
        };
        if at > 0 {
            skim(0, at, &mut crc)?;
        }
        self.read_exact(c, &file, dst, at as u64)?;
        crc = crc32c::crc32c_append(crc, dst);
        if end < whole {
            skim(end, whole, &mut crc)?;
        }
        let mut tail = [0u8; 4];
        self.read_exact(c, &file, &mut tail, whole as u64)?;
        self.check_sum(c, crc, &tail)
    }

    /// Decode the whole chunk `c` into `out` (`cl` elements). `Ok(false)`: `T` is not a plain
    /// element type (bool): use `zarrs`.
    pub(crate) fn read<T: PlainElem>(&self, c: u64, out: &mut [T]) -> Result<bool> {
        let Some(dst) = T::bytes_mut(out) else {
            return Ok(false);
        };
        self.read_bytes(c, dst).map(|()| true)
    }

    /// Elements `[lo, lo + out.len())` of chunk `c` (of `cl` elements) into `out`: the chunk
    /// is decoded (and checked) whole in a per-thread scratch buffer, then the part copied.
    pub(crate) fn read_part<T: PlainElem>(
        &self,
        c: u64,
        cl: usize,
        lo: usize,
        out: &mut [T],
    ) -> Result<bool> {
        let size = std::mem::size_of::<T>();
        let Some(dst) = T::bytes_mut(out) else {
            return Ok(false);
        };
        let whole = cl
            .checked_mul(size)
            .ok_or_else(|| self.bad(c, "chunk too large"))?;
        if self.how == Plain::Raw {
            self.read_raw_part(c, whole, lo * size, dst)?;
            return Ok(true);
        }
        with_scratch(&CHUNK, whole, |chunk| {
            self.read_bytes(c, chunk)?;
            dst.copy_from_slice(&chunk[lo * size..lo * size + dst.len()]);
            Ok(true)
        })
    }
}

/// Run `f` with this thread's zstd decompressor (created on first use).
fn with_zstd<R>(
    f: impl FnOnce(&mut zstd::bulk::Decompressor<'static>) -> io::Result<R>,
) -> io::Result<R> {
    ZSTD.with(|z| {
        let mut z = z.borrow_mut();
        let d = match z.as_mut() {
            Some(d) => d,
            None => z.insert(zstd::bulk::Decompressor::new()?),
        };
        f(d)
    })
}

/// Run `f` on the first `n` bytes of a per-thread scratch buffer (grown as needed, never
/// zeroed again; released afterwards when larger than [`KEEP_SCRATCH`]).
fn with_scratch<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<u8>>>,
    n: usize,
    f: impl FnOnce(&mut [u8]) -> Result<R>,
) -> Result<R> {
    key.with(|cell| {
        // A re-entrant use on this thread (cannot happen today) gets a buffer of its own.
        let mut own = Vec::new();
        let mut guard = cell.try_borrow_mut().ok();
        let buf = guard.as_deref_mut().unwrap_or(&mut own);
        if buf.len() < n {
            buf.clear();
            buf.try_reserve_exact(n).map_err(|e| {
                store_error(
                    format!("cannot allocate {n} bytes to read a chunk"),
                    e.to_string(),
                    "the store declares chunks larger than fit in memory; save it again with \
                     gr.save (default chunks)",
                )
            })?;
            buf.resize(n, 0);
        }
        let out = f(&mut buf[..n]);
        if buf.len() > KEEP_SCRATCH {
            *buf = Vec::new();
        }
        out
    })
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;
