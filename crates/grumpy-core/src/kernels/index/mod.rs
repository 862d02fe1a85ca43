//! Indexing: `x[key]` ([`get`]) and `x[key] = value` ([`set`]) with NumPy/Awkward semantics on
//! ragged layouts.
//!
//! A key is a list of [`Index`]es, one per level, outermost first (a Python tuple key):
//!
//! ```text
//!   x = [[1, 2, 3], [], [4, 5]]
//!   x[0]          → [1, 2, 3]            Int: a row (a scalar at the last level)
//!   x[0, -1]      → 3                    a tuple walks levels; negatives count from the row's end
//!   x[::2]        → [[1, 2, 3], [4, 5]]  Slice (step 1 is zero copy)
//!   x[[2, 0, 2]]  → [[4, 5], [1,2,3], [4, 5]]          Ints: rows, repeats allowed
//!   x[[True, False, True]] → [[1, 2, 3], [4, 5]]       Mask of len(x)
//!   x[:, 1:]      → [[2, 3], [], [5]]    an index after a slice applies inside every row
//!   x[[0, 2], 0]  → [1, 4]               coordinate: element 0 of rows 0 and 2
//!   x[x > 2]      → [[3], [], [4, 5]]    Jagged: a ragged mask filters inside rows
//!   x[[[0, 0], [], [-1]]] → [[1, 1], [], [5]]        Jagged ints pick inside rows
//! ```
//!
//! Errors name the row in the caller's coordinates: `x[1, 0]` fails with "index 0 is out of
//! range for row 1 (length 0)", `x[:, 2]` with "... for row 2 (length 2)".
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::dtype::Scalar;
//! use grumpy_core::kernels::index::{get, Got, Index};
//! let x = Array::from_item(&vec![vec![1i64, 2, 3], vec![], vec![4, 5]].into(), None).unwrap();
//! assert_eq!(get(&x, &[Index::Int(2), Index::Int(-1)]).unwrap(), Got::Scalar(Scalar::Int(5)));
//! let Got::Array(firsts) = get(&x, &[Index::Int(0)]).unwrap() else { unreachable!() };
//! assert_eq!(firsts.to_item(), vec![1i64, 2, 3].into());
//! // x[:, 0] fails on the empty row 1 and names it:
//! let e = get(&x, &[Index::All, Index::Int(0)]).unwrap_err();
//! assert!(e.cause().contains("row 1"));
//! ```

mod get;
mod runs;
mod select;
mod set;
mod write;

pub use get::{get, take_rows};
pub use set::{set, Value};
pub use write::{check_literal_fits, check_scalar_fits};

use crate::array::Array;
use crate::dtype::Scalar;

/// One component of an indexing key.
#[derive(Clone, Debug, PartialEq)]
pub enum Index {
    /// A single position (negative counts from the end of the row).
    Int(i64),
    /// A Python slice `start:stop:step` (each part optional; step 0 is an error).
    Slice {
        /// First position (default: the start in the direction of `step`).
        start: Option<i64>,
        /// End position, exclusive.
        stop: Option<i64>,
        /// Stride (default 1; negative walks backwards).
        step: Option<i64>,
    },
    /// Several positions (fancy indexing; repeats allowed, negatives count from the end).
    Ints(Vec<i64>),
    /// A boolean mask with one flag per element.
    Mask(Vec<bool>),
    /// A nested (ragged) bool or int array with one row per row of the array: Awkward's
    /// jagged indexing. Its last level selects inside the matching rows (bools: one flag per
    /// element, null = false; ints: positions); the levels above must match row for row.
    Jagged(Array),
    /// `:` — every element.
    All,
}

impl Index {
    /// The full slice `a:b:c` as an [`Index`].
    pub fn slice(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Index {
        Index::Slice { start, stop, step }
    }

    /// True for array-like indices (`Ints`, `Mask`, `Jagged`), which NumPy calls "advanced".
    pub fn is_advanced(&self) -> bool {
        matches!(self, Index::Ints(_) | Index::Mask(_) | Index::Jagged(_))
    }
}

/// The result of [`get`]: a scalar (a leaf value, or `Null` for a null row) or an array.
#[derive(Clone, Debug, PartialEq)]
pub enum Got {
    /// A single value (`Scalar::Null` for a null row).
    Scalar(Scalar),
    /// A (possibly zero-copy) sub-array.
    Array(Array),
}
