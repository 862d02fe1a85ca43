//! Flat buffers: [`Buf`] (shared, sliceable, copy-on-write), [`Bitmap`] (validity) and
//! [`Values`] (a typed leaf buffer), and offsets helpers for hot read paths
//! ([`regular_offsets`], [`is_non_decreasing`]).

mod bitmap;
mod buf;
mod offsets;
mod values;

pub use bitmap::{and_validity, normalize, Bitmap};
pub use buf::{arithmetic_step, Buf, Deferred, WeakBuf};
pub use offsets::{is_non_decreasing, regular_offsets};
pub use values::{Native, StrValues, Values};
