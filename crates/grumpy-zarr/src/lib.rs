//! # grumpy-zarr
//!
//! Native Zarr v3 storage and batch streaming for grumpy ragged arrays. [`stream`] turns any
//! [`stream::BatchSource`] (a store reader or an in-memory array) into ordered, prefetched
//! batches for training loops.

pub mod stream;
