//! # grumpy-core
//!
//! Ragged and nested numerical arrays. An [`array::Array`] is a tree of flat buffers:
//!
//! ```text
//!   proteins → residues → xyz          List ── offsets [0, 2, 3]        (proteins)
//!                                       └ List ── offsets [0,3,6,9]   (residues)
//!                                          └ Leaf f64 [x y z x y z x y z]
//! ```
//! Buffers are `Arc`-shared ([`buffer::Buf`]); slicing and views never copy. Kernels walk the
//! flat buffers. See [`layout`] for list, union and null layouts.
//!
//! ```
//! use grumpy_core::array::Array;
//! let a = Array::from_item(&vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0]].into(), None).unwrap();
//! assert_eq!(a.len(), 2);
//! assert_eq!(a.size(), 5);
//! ```

pub mod alloc;
pub mod array;
pub mod buffer;
pub mod dtype;
pub mod error;
pub mod frame;
pub mod interop;
pub mod kernels;
pub mod layout;
pub mod neighbors;
pub mod plan;
pub mod pool;

pub use array::Array;
pub use dtype::{DType, Scalar};
pub use error::{Code, Error, Result};
pub use frame::Frame;
