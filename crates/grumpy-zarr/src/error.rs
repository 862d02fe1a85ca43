//! Store errors: everything here is a [`grumpy_core::Error`] with [`Code::Store`], so the
//! Python layer maps it to `grumpy.StoreError` (an `OSError`).
//!
//! ```
//! use grumpy_zarr::error::store_error;
//! let e = store_error("store is corrupt", "chunk 3 is missing", "save the data again");
//! assert_eq!(e.code(), grumpy_core::Code::Store);
//! ```

pub use grumpy_core::{Code, Error, Result};
use std::fmt::Display;

/// Build a [`Code::Store`] error.
pub fn store_error(
    summary: impl Into<String>,
    cause: impl Into<String>,
    fix: impl Into<String>,
) -> Error {
    Error::new(Code::Store, summary, cause, fix)
}

/// Map an I/O or zarrs error met while touching `what` (a path or buffer name).
pub(crate) fn io_error(what: impl Display, e: impl Display) -> Error {
    store_error(
        format!("cannot access the store at {what}"),
        e.to_string(),
        "check that the path exists, is readable/writable, and holds a store written by gr.save",
    )
}

/// Map a decoding failure of `buffer` (bad checksum, truncated chunk, wrong size).
pub(crate) fn corrupt(buffer: impl Display, e: impl Display) -> Error {
    store_error(
        format!("buffer {buffer} is corrupt"),
        e.to_string(),
        "the store was damaged or truncated; save the data again with gr.save",
    )
}
