//! Fitting an appended batch into a store's form: the rule is "can these rows be represented
//! in the form the store already has" (same nesting and dtype; masks may be added).
//!
//! | store form      | batch                                   | becomes                          |
//! |-----------------|-----------------------------------------|----------------------------------|
//! | any             | same shape and dtype                    | itself                           |
//! | any node        | empty (no rows)                         | an empty node of the form        |
//! | any node        | every row null (e.g. `[None, None]`)    | null rows of the form            |
//! | union           | only lists (`[[1], [2, 3]]`)            | union rows tagged "list"         |
//! | union           | only scalars (`[1, 2]`)                 | union rows tagged "scalar"       |
//! | anything else   |                                         | `None` (the caller's StoreError) |
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_zarr::form::Form;
//! let store = Array::from_item(&vec![grumpy_core::layout::Item::from(1i64),
//!     vec![2i64, 3].into()].into(), None).unwrap();
//! let form = Form::from_layout(&store.layout);                    // union<int64, list<int64>>
//! let lists = Array::from_item(&vec![vec![4i64], vec![]].into(), None).unwrap();
//! let fitted = grumpy_zarr::conform::conform(&lists.layout, &form).unwrap();
//! assert_eq!(fitted.kind(), "union");
//! assert_eq!(Array::new(fitted).to_item(), lists.to_item());
//! ```

use crate::form::Form;
use grumpy_core::buffer::{Bitmap, Buf, Values};
use grumpy_core::layout::{Layout, Leaf, List, Union};

/// `layout` rebuilt in the shape of `form`, or `None` when it cannot be (see the module docs).
pub fn conform(layout: &Layout, form: &Form) -> Option<Layout> {
    if layout.is_empty() {
        return Some(empty_of(form));
    }
    if all_null(layout) {
        return Some(nulls_of(form, layout.len()));
    }
    match (form, layout) {
        (Form::Leaf { dtype, .. }, Layout::Leaf(l)) => {
            (l.values.dtype() == *dtype).then(|| layout.clone())
        }
        (Form::List { child, .. }, Layout::List(l)) => {
            let c = conform(&l.child, child)?;
            Some(Layout::List(List::new(
                l.offsets.clone(),
                l.validity.clone(),
                c,
            )))
        }
        (Form::Union { scalar, list, .. }, Layout::Union(u)) => Some(Layout::Union(Union {
            tags: u.tags.clone(),
            index: u.index.clone(),
            scalar: std::sync::Arc::new(conform(&u.scalar, scalar)?),
            list: std::sync::Arc::new(conform(&u.list, list)?),
        })),
        (Form::Union { list, scalar, .. }, Layout::List(_)) => {
            let li = conform(layout, list)?;
            Some(tagged(1, li, empty_of(scalar)))
        }
        (Form::Union { scalar, list, .. }, Layout::Leaf(_)) => {
            let sc = conform(layout, scalar)?;
            Some(tagged(0, sc, empty_of(list)))
        }
        _ => None,
    }
}

/// A union whose every row is row `i` of `content` with tag `tag`.
fn tagged(tag: i8, content: Layout, other: Layout) -> Layout {
    let n = content.len();
    let (scalar, list) = if tag == 0 {
        (content, other)
    } else {
        (other, content)
    };
    Layout::Union(Union {
        tags: Buf::from_vec(vec![tag; n]),
        index: Buf::from_vec((0..n as i64).collect()),
        scalar: std::sync::Arc::new(scalar),
        list: std::sync::Arc::new(list),
    })
}

fn all_null(layout: &Layout) -> bool {
    layout
        .validity()
        .is_some_and(|v| v.null_count() == layout.len())
}

/// An empty node of `form`'s shape.
pub fn empty_of(form: &Form) -> Layout {
    match form {
        Form::Leaf { dtype, .. } => Layout::Leaf(Leaf::new(Values::empty(*dtype), None)),
        Form::List { child, .. } => {
            Layout::List(List::new(Buf::from_vec(vec![0]), None, empty_of(child)))
        }
        Form::Union { scalar, list, .. } => Layout::Union(Union {
            tags: Buf::from_vec(Vec::new()),
            index: Buf::from_vec(Vec::new()),
            scalar: std::sync::Arc::new(empty_of(scalar)),
            list: std::sync::Arc::new(empty_of(list)),
        }),
    }
}

/// `n` null rows of `form`'s shape.
fn nulls_of(form: &Form, n: usize) -> Layout {
    let none = || Some(Bitmap::from_bools(&vec![false; n]));
    match form {
        Form::Leaf { dtype, .. } => Layout::Leaf(Leaf::new(Values::zeros(*dtype, n), none())),
        Form::List { child, .. } => Layout::List(List::new(
            Buf::from_vec(vec![0; n + 1]),
            none(),
            empty_of(child),
        )),
        Form::Union { scalar, list, .. } => tagged(0, nulls_of(scalar, n), empty_of(list)),
    }
}
