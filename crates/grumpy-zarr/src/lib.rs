//! # grumpy-zarr
//!
//! Native Zarr v3 storage of grumpy arrays (format: `shared/FORMAT.md`), written and read with
//! [`zarrs`]. A store is a Zarr group whose attributes hold an Awkward form plus the length,
//! and whose 1-D arrays are the layout's flat buffers (`node{k}-{role}`):
//!
//! ```text
//!   proteins.zarr/
//!     zarr.json        attributes: grumpy {format, kind, length, dtype, buffers...}, form, length
//!     node0-offsets/   i64, n+1          (proteins → residues)
//!     node1-offsets/   i64               (residues → atoms)
//!     node2-data/      f64 leaf values   (chunked ~1 MiB, zstd + crc32c)
//! ```
//!
//! Tour: [`form`] (form JSON ⇄ layout), [`write`] ([`save`], [`StoreWriter`]),
//! [`append`](mod@append) ([`append()`]), [`read`] ([`StoreReader`], [`load`]), [`path`]
//! (atomic temp dir + rename), [`error`], and [`stream`] (ordered, prefetched batches from any
//! [`stream::BatchSource`]: a store reader or an in-memory array).
//!
//! ```
//! use grumpy_core::Array;
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-lib-{}", std::process::id()));
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
//! let r = grumpy_zarr::open(&dir).unwrap();          // metadata only
//! assert_eq!(r.read_rows(1, 2).unwrap().to_item(), a.slice(1, 1).to_item());
//! assert_eq!(grumpy_zarr::load(&dir).unwrap(), a);
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Dataframes (later): a dataframe store is the same group layout one level down — one
//! sub-group per column written by [`write::write_group`]-style helpers, with the offsets
//! shared by a schema level stored once at the frame group.

pub mod append;
pub mod error;
pub mod form;
pub mod path;
pub mod read;
pub mod stream;
pub mod write;
mod zio;

pub use append::append;
pub use read::{StoreReader, FORMAT_VERSION};
pub use write::{save, SaveOptions, StoreWriter};
pub use zio::Codec;

use grumpy_core::{Array, Result};
use std::path::Path;

/// Read a whole store (chunks decoded in parallel, no cache).
pub fn load(path: impl AsRef<Path>) -> Result<Array> {
    StoreReader::open_with_cache(path, 0)?.read_all()
}

/// Open a store lazily: reads the metadata only; rows are read on demand.
pub fn open(path: impl AsRef<Path>) -> Result<StoreReader> {
    StoreReader::open(path)
}
