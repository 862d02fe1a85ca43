//! Arrow's C Data Interface ⇄ layouts, through arrow-rs's FFI structs (`arrow-schema` and
//! `arrow-data` with their `ffi` feature: the structs, release callbacks and format strings,
//! without the heavy `arrow-array` crate).
//!
//! | grumpy                        | Arrow                                               |
//! |-------------------------------|-----------------------------------------------------|
//! | numeric leaf                  | primitive array (values buffer shared)              |
//! | bool leaf                     | boolean (bytes ⇄ bits: copied)                      |
//! | string leaf                   | `large_string` (offsets and bytes shared)           |
//! | list (i64 offsets)            | `large_list<item>` (offsets shared)                 |
//! | union (scalar or list rows)   | `dense_union<0: scalar, 1: large_list>` (tags shared, indices → i32) |
//! | validity bitmap (LSB)         | validity bitmap (shared when byte-aligned)          |
//!
//! Import also reads `string`/`list` (32-bit offsets, converted), `fixed_size_list`, sparse
//! unions and the `null` type (when empty); records, dictionaries and other types are
//! `Unsupported`. All fields are exported nullable (pyarrow's default), so batches of one
//! array concatenate in Arrow whether or not they hold nulls.
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_core::interop::arrow::{export, import};
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let (schema, array) = export(&a.layout).unwrap();
//! assert_eq!(schema.format(), "+L");
//! // SAFETY: `array` was just exported with `schema`.
//! let back = unsafe { import(&schema, array) }.unwrap();
//! assert_eq!(back.to_item(), a.to_item());
//! ```

mod export;
mod import;

/// The C Data Interface structs (re-exported so bindings use the same arrow-rs version).
pub use arrow_data::ffi::FFI_ArrowArray;
pub use arrow_schema::ffi::FFI_ArrowSchema;
pub use export::{data_type, export};
pub use import::import;

use arrow_schema::{DataType, Field, UnionFields};
use std::sync::Arc;

/// `large_list<item: dt>` (nullable item).
fn large_list(dt: DataType) -> DataType {
    DataType::LargeList(Arc::new(Field::new("item", dt, true)))
}

/// Fields of a grumpy union: type id 0 = scalar, 1 = list (named "0" and "1" like Awkward).
fn union_fields(scalar: DataType, list: DataType) -> UnionFields {
    UnionFields::try_new(
        [0i8, 1],
        [Field::new("0", scalar, true), Field::new("1", list, true)],
    )
    .expect("two distinct type ids")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Item, Layout};

    fn cases() -> Vec<Item> {
        vec![
            vec![1.0, 2.0].into(),
            Item::list(vec![vec![1i64, 2].into(), Item::Null, Item::list(vec![])]),
            Item::list(vec![
                Item::list(vec![true.into(), Item::Null]),
                vec![false].into(),
            ]),
            Item::list(vec!["ab".into(), Item::Null, "".into()]),
            Item::list(vec![
                1.0.into(),
                Item::list(vec![2.0.into(), Item::Null]),
                Item::Null,
            ]),
            Item::list(vec![vec![vec![1.0], vec![]].into(), Item::list(vec![])]),
        ]
    }

    #[test]
    fn round_trips_through_the_c_interface() {
        for it in cases() {
            let l = Layout::from_item(&it, None).unwrap();
            for (a, n) in [(0, l.len()), (1, l.len().saturating_sub(1))] {
                let view = l.slice(a, n);
                let (s, arr) = export(&view).unwrap();
                // SAFETY: exported just above with this schema.
                let back = unsafe { import(&s, arr) }.unwrap();
                assert_eq!(back.to_item(), view.to_item(), "{it}");
            }
        }
    }

    #[test]
    fn exported_values_are_shared() {
        let l = Layout::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
        let leaf_ptr = match &l {
            Layout::List(x) => x
                .child
                .as_leaf()
                .unwrap()
                .values
                .as_slice::<f64>()
                .unwrap()
                .as_ptr(),
            _ => unreachable!(),
        };
        let (s, arr) = export(&l).unwrap();
        assert_eq!(arr.child(0).buffer(1), leaf_ptr.cast());
        // SAFETY: exported just above with this schema.
        let back = unsafe { import(&s, arr) }.unwrap();
        let Layout::List(b) = back else {
            unreachable!()
        };
        assert_eq!(
            b.child
                .as_leaf()
                .unwrap()
                .values
                .as_slice::<f64>()
                .unwrap()
                .as_ptr(),
            leaf_ptr
        );
    }
}
