//! Flat buffers: [`Buf`] (shared, sliceable, copy-on-write), [`Bitmap`] (validity) and
//! [`Values`] (a typed leaf buffer).

mod bitmap;
mod buf;
mod values;

pub use bitmap::{and_validity, normalize, Bitmap};
pub use buf::{Buf, Deferred};
pub use values::{Native, StrValues, Values};
