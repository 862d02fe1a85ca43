//! Batch streaming for training loops (`gr.stream`).
//!
//! ```text
//!  BatchSource (store reader | MemorySource)  ──read_rows(a, b)──►  Prefetcher (workers, window)
//!        ▲ plan.rs decides the ranges per (batch_size, batch_on, shuffle, seed, epoch, rank)   │
//!        └──────────────────────────── Stream ◄── ordered batches ───────────────────────────┘
//! ```
//! A batch is an [`grumpy_core::Array`], a [`grumpy_core::Frame`] or a [`crate::Data`] (either;
//! what a store yields), see [`Rows`]. A [`Stream`] is a view: its batches are computed from metadata (length, and offsets for
//! `batch_on`), selections (`select`) compose, and iteration reads each batch's rows in
//! reader threads at most `prefetch` batches ahead. [`map_ordered`] runs per-batch work on a
//! Rayon pool in batch order.
//!
//! ```
//! use std::sync::Arc;
//! use grumpy_core::Array;
//! use grumpy_zarr::stream::{MemorySource, Stream, StreamOptions};
//! let a = Array::from_vec((0..10i64).collect());
//! let st = Stream::new(Arc::new(MemorySource::from_array(a)), StreamOptions { batch_size: 4, ..Default::default() }).unwrap();
//! assert_eq!(st.len(), 3);
//! let sizes: Vec<usize> = st.iter().map(|b| b.unwrap().len()).collect();
//! assert_eq!(sizes, vec![4, 4, 2]);
//! assert_eq!(st.select(&[2]).unwrap().get(0).unwrap().to_item(), vec![8i64, 9].into());
//! ```

mod cache;
mod compiled;
mod core;
mod frame_rows;
mod options;
pub mod pipeline;
pub mod plan;
mod prefetch;
pub mod source;
mod store_source;
mod workers;

pub use self::core::Stream;
pub use cache::ChunkCache;
pub use compiled::{outcome_bytes, PlanRun, MAX_RUN, RUN_BYTES};
pub use options::{count_arg, resolve_level, LevelRef, Shuffle, StreamOptions};
pub use pipeline::{map_ordered, MapOrdered};
pub use prefetch::Prefetcher;
pub use source::{BatchSource, MemorySource, Rows};
