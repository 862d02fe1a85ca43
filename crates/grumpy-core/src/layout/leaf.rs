//! [`Leaf`]: typed values plus optional validity.
//!
//! ```
//! use grumpy_core::layout::Leaf;
//! use grumpy_core::buffer::{Bitmap, Values};
//! let l = Leaf::new(Values::from(vec![1i64, 2, 3]), Some(Bitmap::from_bools(&[true, false, true])));
//! assert!(l.is_null(1));
//! assert_eq!(l.slice(1, 2).len(), 2);
//! ```

use crate::buffer::{Bitmap, Values};

/// Typed leaf values with an optional validity bitmap (same length as the values).
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    /// The values (a null slot holds an arbitrary value).
    pub values: Values,
    /// Validity, `None` when every value is valid.
    pub validity: Option<Bitmap>,
}

impl Leaf {
    /// Build a leaf.
    pub fn new(values: Values, validity: Option<Bitmap>) -> Leaf {
        debug_assert!(validity.as_ref().is_none_or(|v| v.len() == values.len()));
        Leaf { values, validity }
    }

    /// Leaf with no nulls.
    pub fn valid(values: Values) -> Leaf {
        Leaf {
            values,
            validity: None,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether value `i` is null.
    #[inline]
    pub fn is_null(&self, i: usize) -> bool {
        self.validity.as_ref().is_some_and(|v| !v.get(i))
    }

    /// Zero-copy slice.
    pub fn slice(&self, start: usize, len: usize) -> Leaf {
        Leaf {
            values: self.values.slice(start, len),
            validity: self.validity.as_ref().map(|v| v.slice(start, len)),
        }
    }

    /// Gather values.
    pub fn take(&self, idx: &[usize]) -> Leaf {
        Leaf {
            values: self.values.take(idx),
            validity: crate::buffer::normalize(
                self.validity.as_ref().map(|v| v.take(idx.iter().copied())),
            ),
        }
    }
}
