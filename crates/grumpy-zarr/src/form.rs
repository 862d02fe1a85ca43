//! The Awkward form JSON of a store ⇄ grumpy's layout tree. The form logic lives in
//! [`grumpy_core::layout::form`] (shared with `to_awkward`); this module re-exports it and reads
//! a store's form strictly, reporting a foreign form as a [`Code::Store`](crate::error::Code)
//! error.
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_zarr::form::{from_json, Form};
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let f = Form::from_layout(&a.layout);
//! assert_eq!(from_json(&f.to_json()).unwrap(), f);
//! assert_eq!(f.buffers().iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["node0-offsets", "node1-data"]);
//! ```

pub use grumpy_core::layout::form::{buffer_name, layout_buffers, BufferSpec, Form, Role};

use crate::error::{store_error, Result};
use serde_json::Value;

/// Parse a store's form (written by [`Form::to_json`]); any other form is a store error.
pub fn from_json(v: &Value) -> Result<Form> {
    Form::from_json(v).map_err(|e| {
        store_error(
            "the store's form is not one grumpy can read",
            e.cause(),
            "open stores written by gr.save; other Awkward layouts are not supported",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_foreign_forms() {
        for bad in [
            json!({"class": "RecordArray", "form_key": "node0"}),
            json!({"class": "NumpyArray", "primitive": "complex64", "form_key": "node0"}),
            json!({"class": "NumpyArray", "primitive": "int64", "form_key": "x"}),
            json!({"class": "ListOffsetArray", "offsets": "i32", "form_key": "node0"}),
        ] {
            let e = from_json(&bad).unwrap_err();
            assert_eq!(e.code(), grumpy_core::Code::Store);
        }
    }
}
