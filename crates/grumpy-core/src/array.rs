//! [`Array`]: the public Rust entry point — a layout tree with its dtype.
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::layout::Item;
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! assert_eq!(a.len(), 2);
//! assert_eq!(a.ndim(), 2);
//! assert_eq!(a.slice(1, 1).to_item(), Item::list(vec![vec![3.0].into()]));
//! ```

use crate::buffer::{Buf, Native, Values};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::{Item, Layout, Leaf, List};

/// A ragged, nested array (cheap to clone: buffers are shared).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// The layout tree.
    pub layout: Layout,
}

impl From<Layout> for Array {
    fn from(layout: Layout) -> Self {
        Array { layout }
    }
}

impl Array {
    /// Wrap a layout.
    pub fn new(layout: Layout) -> Array {
        Array { layout }
    }

    /// A flat array from a vector (no copy).
    pub fn from_vec<T: Native>(v: Vec<T>) -> Array {
        Array::new(Layout::Leaf(Leaf::valid(Values::from(v))))
    }

    /// Build from nested [`Item`]s (rows of an `Item::List`).
    pub fn from_item(rows: &Item, dtype: Option<DType>) -> Result<Array> {
        Ok(Array::new(Layout::from_item(rows, dtype)?))
    }

    /// Rows as an [`Item::List`].
    pub fn to_item(&self) -> Item {
        self.layout.to_item()
    }

    /// Build from flat values and offsets, outermost first; every offsets buffer is validated
    /// (starts anywhere, non-decreasing, last entry within the next level).
    ///
    /// ```
    /// use grumpy_core::{array::Array, buffer::{Buf, Values}};
    /// let a = Array::from_offsets(Values::from(vec![1.0, 2.0, 3.0]), None, vec![Buf::from_vec(vec![0i64, 2, 3])]).unwrap();
    /// assert_eq!(a.to_item(), vec![vec![1.0, 2.0], vec![3.0]].into());
    /// ```
    pub fn from_offsets(
        values: Values,
        validity: Option<crate::buffer::Bitmap>,
        offsets: Vec<Buf<i64>>,
    ) -> Result<Array> {
        if let Some(v) = &validity {
            if v.len() != values.len() {
                return Err(Error::new(
                    Code::Shape,
                    "validity length does not match values",
                    format!("{} validity bits for {} values", v.len(), values.len()),
                    "pass one validity flag per value",
                ));
            }
        }
        let mut layout = Layout::Leaf(Leaf::new(values, validity));
        for (level, o) in offsets.into_iter().enumerate().rev() {
            validate_offsets(&o, layout.len(), level)?;
            layout = Layout::List(List::new(o, None, layout));
        }
        Ok(Array::new(layout))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.layout.len()
    }
    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.layout.is_empty()
    }
    /// Element dtype.
    pub fn dtype(&self) -> DType {
        self.layout.dtype()
    }
    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.layout.ndim()
    }
    /// Number of leaf values.
    pub fn size(&self) -> usize {
        self.layout.size()
    }
    /// `"leaf"`, `"list"` or `"union"`.
    pub fn layout_kind(&self) -> &'static str {
        self.layout.kind()
    }
    /// Zero-copy row slice (`start + len <= self.len()`).
    pub fn slice(&self, start: usize, len: usize) -> Array {
        Array::new(self.layout.slice(start, len))
    }
    /// Cast the leaves; the layout is shared.
    pub fn astype(&self, dtype: DType) -> Result<Array> {
        Ok(Array::new(crate::kernels::cast::cast_layout(
            &self.layout,
            dtype,
        )?))
    }
    /// Concatenate rows.
    pub fn cat(parts: &[&Array]) -> Result<Array> {
        let ls: Vec<&Layout> = parts.iter().map(|a| &a.layout).collect();
        Ok(Array::new(crate::kernels::concat::concat_layouts(&ls)?))
    }
}

/// Check an offsets buffer for `n` child elements.
pub fn validate_offsets(o: &[i64], child_len: usize, level: usize) -> Result<()> {
    let bad = |cause: String| {
        Err(Error::new(
            Code::Shape,
            format!("invalid offsets at level {level}"),
            cause,
            "offsets must be non-decreasing, non-negative, with n+1 entries within the data",
        ))
    };
    if o.is_empty() {
        return bad("offsets are empty (need at least [0])".into());
    }
    if o[0] < 0 {
        return bad(format!("first offset is {}", o[0]));
    }
    if let Some(i) = o.windows(2).position(|w| w[1] < w[0]) {
        return bad(format!(
            "offsets decrease at position {}: {} > {}",
            i,
            o[i],
            o[i + 1]
        ));
    }
    if o[o.len() - 1] as usize > child_len {
        return bad(format!(
            "last offset {} points past the {} elements below",
            o[o.len() - 1],
            child_len
        ));
    }
    Ok(())
}
