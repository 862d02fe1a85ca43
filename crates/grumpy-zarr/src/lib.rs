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
//! A dataframe store is the same one level down: a sub-group per column, the offsets of each
//! shared schema level stored once in the root group (see [`group`]).
//!
//! Tour: [`form`] (form JSON ⇄ layout), [`group`] ([`Data`], column parts and paths), [`meta`]
//! (attributes), [`write`](mod@write) ([`save`], [`save_frame`], [`StoreWriter`]), [`append`](mod@append)
//! ([`append()`], [`append_frame`]), [`conform`] (fitting a batch to the store's form),
//! [`read`] ([`StoreReader`], [`load`], [`load_frame`]), [`path`] (atomic temp dir + rename),
//! [`durable`] (when written bytes reach the disk: `GRUMPY_FSYNC`),
//! [`remote`] (http(s), s3, gs behind cargo features), [`error`], and [`stream`] (ordered,
//! prefetched batches from any [`stream::BatchSource`]: a store reader or an in-memory array).
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
pub mod append;
pub mod blosc;
mod chunk_cache;
mod chunk_write;
mod chunkpool;
pub mod conform;
mod direct;
pub mod durable;
pub mod error;
pub mod form;
#[doc(hidden)]
pub mod fuzz;
pub mod group;
pub mod guard;
#[cfg(feature = "http")]
mod http_store;
pub mod meta;
#[cfg(feature = "object-store")]
mod object_backend;
pub mod path;
mod plain;
pub mod read;
pub mod remote;
pub mod shuffle;
pub mod stream;
pub mod write;
mod write_store;
mod zio;

pub use append::{append, append_data, append_frame};
pub use group::Data;
pub use read::{StoreReader, FORMAT_VERSION};
pub use write::{save, save_data, save_frame, ChunkDim, SaveOptions, StoreWriter};
pub use zio::Codec;

use grumpy_core::{Array, Frame, Result};
use std::path::Path;

/// Read a whole array store (chunks decoded in parallel straight into the result, no cache).
pub fn load(path: impl AsRef<Path>) -> Result<Array> {
    StoreReader::open_with_cache(path, 0)?.read_all()
}

/// Read a whole dataframe store.
pub fn load_frame(path: impl AsRef<Path>) -> Result<Frame> {
    StoreReader::open_with_cache(path, 0)?.read_frame_rows_all()
}

/// Read a whole store of either kind.
pub fn load_data(path: impl AsRef<Path>) -> Result<Data> {
    StoreReader::open_with_cache(path, 0)?.read_all_data()
}

/// Open a store lazily: reads the metadata only; rows are read on demand.
pub fn open(path: impl AsRef<Path>) -> Result<StoreReader> {
    StoreReader::open(path)
}
