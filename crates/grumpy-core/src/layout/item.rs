//! [`Item`]: a plain nested value (null, scalar or list) — the Rust analogue of a Python
//! nested list, used to build arrays in tests and examples and to read them back.
//!
//! ```
//! use grumpy_core::layout::{Item, Layout};
//! let it = Item::list(vec![Item::list(vec![1i64.into(), Item::Null]), Item::list(vec![])]);
//! let l = Layout::from_item(&it, None).unwrap();
//! assert_eq!(l.to_item(), it);
//! ```

use super::{too_deep, Builder, Layout, MAX_DEPTH};
use crate::dtype::{DType, Scalar};
use crate::error::Result;

/// A nested value.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// None.
    Null,
    /// A leaf value.
    Scalar(Scalar),
    /// A list of items.
    List(Vec<Item>),
}

impl Item {
    /// Shorthand for `Item::List`.
    pub fn list(items: Vec<Item>) -> Item {
        Item::List(items)
    }
}

impl From<f64> for Item {
    fn from(x: f64) -> Item {
        Item::Scalar(Scalar::Float(x))
    }
}
impl From<i64> for Item {
    fn from(x: i64) -> Item {
        Item::Scalar(Scalar::Int(x))
    }
}
impl From<bool> for Item {
    fn from(x: bool) -> Item {
        Item::Scalar(Scalar::Bool(x))
    }
}
impl From<&str> for Item {
    fn from(x: &str) -> Item {
        Item::Scalar(Scalar::Str(x.to_owned()))
    }
}
impl From<u64> for Item {
    fn from(x: u64) -> Item {
        Item::Scalar(Scalar::UInt(x))
    }
}
impl From<String> for Item {
    fn from(x: String) -> Item {
        Item::Scalar(Scalar::Str(x))
    }
}
impl<T: Into<Item>> From<Vec<T>> for Item {
    fn from(v: Vec<T>) -> Item {
        Item::List(v.into_iter().map(Into::into).collect())
    }
}

fn push(b: &mut Builder, it: &Item, depth: usize) -> Result<()> {
    match it {
        Item::Null => b.push_null(),
        Item::Scalar(s) => b.push_scalar(s)?,
        Item::List(items) => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            b.begin_list();
            for x in items {
                push(b.child(), x, depth + 1)?;
            }
            b.end_list();
        }
    }
    Ok(())
}

impl Layout {
    /// Build a layout from an [`Item::List`] of rows (`dtype` casts the leaves). Items nested
    /// deeper than [`MAX_DEPTH`] are refused with an `Argument` error.
    pub fn from_item(rows: &Item, dtype: Option<DType>) -> Result<Layout> {
        let mut b = Builder::new();
        match rows {
            Item::List(items) => {
                for x in items {
                    push(&mut b, x, 1)?;
                }
            }
            other => push(&mut b, other, 1)?,
        }
        b.finish(dtype)
    }

    /// Row `i` as an [`Item`].
    pub fn row_item(&self, i: usize) -> Item {
        if self.is_null(i) {
            return Item::Null;
        }
        match self {
            Layout::Leaf(l) => Item::Scalar(l.values.scalar_at(i)),
            Layout::List(l) => Item::List(l.row_range(i).map(|j| l.child.row_item(j)).collect()),
            Layout::Union(u) => {
                let j = u.index[i] as usize;
                if u.tags[i] == 0 {
                    u.scalar.row_item(j)
                } else {
                    u.list.row_item(j)
                }
            }
        }
    }

    /// All rows as an [`Item::List`].
    pub fn to_item(&self) -> Item {
        Item::List((0..self.len()).map(|i| self.row_item(i)).collect())
    }
}

impl std::fmt::Display for Item {
    /// Python-like text: `[[1.0, 2.0], None]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Null => f.write_str("None"),
            Item::Scalar(s) => write!(f, "{s}"),
            Item::List(items) => {
                f.write_str("[")?;
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
        }
    }
}
