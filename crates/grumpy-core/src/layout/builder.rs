//! [`Builder`]: builds a layout from a stream of nulls, scalars and lists in one pass,
//! discovering the structure (list-chain, union, nulls) and the dtype (bool < int < float,
//! or string) as it goes. The Python converter walks nested lists once and feeds this.
//!
//! ```
//! use grumpy_core::layout::Builder;
//! use grumpy_core::dtype::{DType, Scalar};
//! let mut b = Builder::new();
//! b.begin_list();
//! b.child().push_scalar(&Scalar::Int(1)).unwrap();
//! b.child().push_scalar(&Scalar::Float(2.5)).unwrap();
//! b.end_list();
//! b.push_null();
//! let l = b.finish(None).unwrap();
//! assert_eq!(l.dtype(), DType::Float64);
//! assert_eq!(l.len(), 2);
//! assert!(l.is_null(1));
//! ```

use super::{Layout, Leaf, List, Union};
use crate::buffer::{Bitmap, Buf, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

#[derive(Default, Debug)]
struct LeafB {
    kind: Option<Kind>,
    ints: Vec<i64>,
    floats: Vec<f64>,
    str_offsets: Vec<i64>,
    str_bytes: Vec<u8>,
    valid: Option<Vec<bool>>,
    len: usize,
}

impl LeafB {
    fn with_nulls(n: usize) -> LeafB {
        let mut b = LeafB::default();
        for _ in 0..n {
            b.push_null();
        }
        b
    }

    fn mark_valid(&mut self, v: bool) {
        if let Some(m) = &mut self.valid {
            m.push(v);
        } else if !v {
            let mut m = vec![true; self.len];
            m.push(false);
            self.valid = Some(m);
        }
        self.len += 1;
    }

    fn push_null(&mut self) {
        match self.kind {
            Some(Kind::Float) => self.floats.push(0.0),
            Some(Kind::Str) => self.str_offsets.push(self.str_bytes.len() as i64),
            _ => self.ints.push(0),
        }
        self.mark_valid(false);
    }

    fn set_kind(&mut self, k: Kind) -> Result<()> {
        match self.kind {
            None => {
                if k == Kind::Float {
                    self.floats = self.ints.drain(..).map(|x| x as f64).collect();
                } else if k == Kind::Str {
                    let n = self.ints.len();
                    self.ints.clear();
                    self.str_offsets = vec![0; n + 1];
                }
                self.kind = Some(k);
            }
            Some(cur) if cur == k => {}
            Some(cur) if cur == Kind::Str || k == Kind::Str => {
                return Err(Error::new(
                    Code::DType,
                    "cannot mix strings and numbers in one array",
                    "a leaf level holds both str and number values",
                    "make every leaf the same kind, or convert numbers with str()",
                ))
            }
            Some(cur) if k > cur => {
                if k == Kind::Float {
                    self.floats = self.ints.drain(..).map(|x| x as f64).collect();
                }
                self.kind = Some(k);
            }
            Some(_) => {}
        }
        Ok(())
    }

    #[inline]
    fn push_f64(&mut self, x: f64) {
        if self.kind != Some(Kind::Float) {
            // set_kind cannot fail from numeric kinds
            let _ = self.set_kind(Kind::Float);
        }
        self.floats.push(x);
        self.mark_valid(true);
    }

    #[inline]
    fn push_i64(&mut self, x: i64, k: Kind) -> Result<()> {
        match self.kind {
            Some(Kind::Float) => self.floats.push(x as f64),
            Some(Kind::Str) => self.set_kind(k)?,
            _ => {
                self.set_kind(k)?;
                self.ints.push(x);
            }
        }
        self.mark_valid(true);
        Ok(())
    }

    fn push_str(&mut self, s: &str) -> Result<()> {
        self.set_kind(Kind::Str)?;
        if self.str_offsets.is_empty() {
            self.str_offsets.push(0);
        }
        self.str_bytes.extend_from_slice(s.as_bytes());
        self.str_offsets.push(self.str_bytes.len() as i64);
        self.mark_valid(true);
        Ok(())
    }

    fn finish(self, dtype: Option<DType>) -> Result<Leaf> {
        let validity = self.valid.map(|v| Bitmap::from_bools(&v));
        let values = match self.kind {
            None => {
                if validity.is_some() && dtype.is_none() {
                    return Err(all_null_error());
                }
                let d = dtype.unwrap_or(DType::Float64);
                Values::zeros(d, self.len)
            }
            Some(Kind::Bool) => {
                Values::from(self.ints.iter().map(|&x| x != 0).collect::<Vec<bool>>())
            }
            Some(Kind::Int) => Values::from(self.ints),
            Some(Kind::Float) => Values::from(self.floats),
            Some(Kind::Str) => {
                let mut offs = self.str_offsets;
                if offs.is_empty() {
                    offs.push(0);
                }
                Values::Str(crate::buffer::StrValues {
                    offsets: Buf::from_vec(offs),
                    bytes: Buf::from_vec(self.str_bytes),
                })
            }
        };
        let leaf = Leaf::new(values, validity);
        match dtype {
            Some(d) if d != leaf.values.dtype() => crate::kernels::cast::cast_leaf(&leaf, d),
            _ => Ok(leaf),
        }
    }
}

#[derive(Debug)]
struct ListB {
    offsets: Vec<i64>,
    valid: Option<Vec<bool>>,
    child: Box<Builder>,
}

impl ListB {
    fn with_nulls(n: usize) -> ListB {
        let mut valid = None;
        if n > 0 {
            valid = Some(vec![false; n]);
        }
        ListB {
            offsets: vec![0; n + 1],
            valid,
            child: Box::new(Builder::new()),
        }
    }
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }
    fn push_null(&mut self) {
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last);
        match &mut self.valid {
            Some(v) => v.push(false),
            None => {
                let mut v = vec![true; self.len() - 1];
                v.push(false);
                self.valid = Some(v);
            }
        }
    }
    fn end(&mut self) {
        self.offsets.push(self.child.len() as i64);
        if let Some(v) = &mut self.valid {
            v.push(true);
        }
    }
    fn finish(self, dtype: Option<DType>) -> Result<List> {
        let child = self.child.finish(dtype)?;
        Ok(List::new(
            Buf::from_vec(self.offsets),
            self.valid.map(|v| Bitmap::from_bools(&v)),
            child,
        ))
    }
}

#[derive(Debug)]
struct UnionB {
    tags: Vec<i8>,
    index: Vec<i64>,
    leaf: LeafB,
    list: ListB,
}

#[derive(Debug)]
enum Node {
    Unknown(usize),
    Leaf(LeafB),
    List(ListB),
    Union(UnionB),
}

/// One-pass layout builder (see the module docs). Feed rows with [`push_null`],
/// [`push_scalar`]/[`push_f64`]/[`push_i64`], or [`begin_list`] + items into [`child`] +
/// [`end_list`]; then [`finish`].
///
/// [`push_null`]: Builder::push_null
/// [`push_scalar`]: Builder::push_scalar
/// [`push_f64`]: Builder::push_f64
/// [`push_i64`]: Builder::push_i64
/// [`begin_list`]: Builder::begin_list
/// [`child`]: Builder::child
/// [`end_list`]: Builder::end_list
/// [`finish`]: Builder::finish
#[derive(Debug)]
pub struct Builder {
    node: Node,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Builder {
        Builder {
            node: Node::Unknown(0),
        }
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        match &self.node {
            Node::Unknown(n) => *n,
            Node::Leaf(l) => l.len,
            Node::List(l) => l.len(),
            Node::Union(u) => u.tags.len(),
        }
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Push a null row.
    pub fn push_null(&mut self) {
        match &mut self.node {
            Node::Unknown(n) => *n += 1,
            Node::Leaf(l) => l.push_null(),
            Node::List(l) => l.push_null(),
            Node::Union(u) => {
                u.tags.push(0);
                u.index.push(u.leaf.len as i64);
                u.leaf.push_null();
            }
        }
    }

    fn leaf(&mut self) -> &mut LeafB {
        if let Node::Unknown(n) = self.node {
            self.node = Node::Leaf(LeafB::with_nulls(n));
        }
        if matches!(self.node, Node::List(_)) {
            let Node::List(list) = std::mem::replace(&mut self.node, Node::Unknown(0)) else {
                unreachable!()
            };
            let n = list.len();
            self.node = Node::Union(UnionB {
                tags: vec![1; n],
                index: (0..n as i64).collect(),
                leaf: LeafB::default(),
                list,
            });
        }
        match &mut self.node {
            Node::Leaf(l) => l,
            Node::Union(u) => {
                u.tags.push(0);
                u.index.push(u.leaf.len as i64);
                &mut u.leaf
            }
            _ => unreachable!(),
        }
    }

    /// Push a float scalar row.
    #[inline]
    pub fn push_f64(&mut self, x: f64) {
        if let Node::Leaf(l) = &mut self.node {
            if l.kind == Some(Kind::Float) && l.valid.is_none() {
                l.floats.push(x);
                l.len += 1;
                return;
            }
        }
        self.leaf().push_f64(x);
    }

    /// Push an integer scalar row.
    #[inline]
    pub fn push_i64(&mut self, x: i64) -> Result<()> {
        self.leaf().push_i64(x, Kind::Int)
    }

    /// Push a bool scalar row.
    pub fn push_bool(&mut self, x: bool) -> Result<()> {
        self.leaf().push_i64(i64::from(x), Kind::Bool)
    }

    /// Push a string scalar row.
    pub fn push_str(&mut self, s: &str) -> Result<()> {
        self.leaf().push_str(s)
    }

    /// Push any scalar.
    pub fn push_scalar(&mut self, s: &Scalar) -> Result<()> {
        match s {
            Scalar::Bool(b) => self.push_bool(*b),
            Scalar::Int(i) => self.push_i64(*i),
            Scalar::UInt(u) => match i64::try_from(*u) {
                Ok(i) => self.push_i64(i),
                Err(_) => {
                    self.push_f64(*u as f64);
                    Ok(())
                }
            },
            Scalar::Float(f) => {
                self.push_f64(*f);
                Ok(())
            }
            Scalar::Str(s) => self.push_str(s),
            Scalar::Null => {
                self.push_null();
                Ok(())
            }
        }
    }

    /// Start a list row; push its items into [`Builder::child`], then call [`Builder::end_list`].
    pub fn begin_list(&mut self) {
        if let Node::Unknown(n) = self.node {
            self.node = Node::List(ListB::with_nulls(n));
        }
        if matches!(self.node, Node::Leaf(_)) {
            let Node::Leaf(leaf) = std::mem::replace(&mut self.node, Node::Unknown(0)) else {
                unreachable!()
            };
            let n = leaf.len;
            self.node = Node::Union(UnionB {
                tags: vec![0; n],
                index: (0..n as i64).collect(),
                leaf,
                list: ListB::with_nulls(0),
            });
        }
        if let Node::Union(u) = &mut self.node {
            u.tags.push(1);
            u.index.push(u.list.len() as i64);
        }
    }

    /// The builder for the items of the list being built.
    #[inline]
    pub fn child(&mut self) -> &mut Builder {
        match &mut self.node {
            Node::List(l) => &mut l.child,
            Node::Union(u) => &mut u.list.child,
            _ => panic!("Builder::child called outside begin_list/end_list"),
        }
    }

    /// Finish the current list row.
    #[inline]
    pub fn end_list(&mut self) {
        match &mut self.node {
            Node::List(l) => l.end(),
            Node::Union(u) => u.list.end(),
            _ => panic!("Builder::end_list without begin_list"),
        }
    }

    /// Build the layout; `dtype` casts the leaves (and types all-null or empty data).
    pub fn finish(self, dtype: Option<DType>) -> Result<Layout> {
        Ok(match self.node {
            Node::Unknown(n) => Layout::Leaf(LeafB::with_nulls(n).finish(dtype)?),
            Node::Leaf(l) => Layout::Leaf(l.finish(dtype)?),
            Node::List(l) => Layout::List(l.finish(dtype)?),
            Node::Union(u) => {
                // Both contents must agree on one dtype: promote the kinds seen on each side.
                let target = match dtype {
                    Some(d) => d,
                    None => match (
                        LeafKindPreview::dtype(&u.leaf),
                        u.list.child.inferred_dtype(),
                    ) {
                        (Some(a), Some(b)) => crate::dtype::promote(a, b),
                        (Some(a), None) | (None, Some(a)) => a,
                        (None, None) => return Err(all_null_error()),
                    },
                };
                let leaf = u.leaf.finish(Some(target))?;
                let list = u.list.finish(Some(target))?;
                Layout::Union(Union {
                    tags: Buf::from_vec(u.tags),
                    index: Buf::from_vec(u.index),
                    scalar: Box::new(Layout::Leaf(leaf)),
                    list: Box::new(Layout::List(list)),
                })
            }
        })
    }
}

fn all_null_error() -> Error {
    Error::new(
        Code::DType,
        "cannot infer a dtype from data that is all null",
        "every leaf value is None",
        "pass dtype=, e.g. gr.array(data, dtype=gr.float64)",
    )
}

impl Builder {
    /// The dtype the leaves would get without `dtype=` (None when only nulls/empties so far).
    fn inferred_dtype(&self) -> Option<DType> {
        match &self.node {
            Node::Unknown(_) => None,
            Node::Leaf(l) => LeafKindPreview::dtype(l),
            Node::List(l) => l.child.inferred_dtype(),
            Node::Union(u) => match (
                LeafKindPreview::dtype(&u.leaf),
                u.list.child.inferred_dtype(),
            ) {
                (Some(a), Some(b)) => Some(crate::dtype::promote(a, b)),
                (a, b) => a.or(b),
            },
        }
    }
}

struct LeafKindPreview;
impl LeafKindPreview {
    fn dtype(l: &LeafB) -> Option<DType> {
        l.kind.map(|k| match k {
            Kind::Bool => DType::Bool,
            Kind::Int => DType::Int64,
            Kind::Float => DType::Float64,
            Kind::Str => DType::String,
        })
    }
}
