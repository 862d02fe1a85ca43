//! [`Builder`]: builds a layout from a stream of nulls, scalars and lists in one pass,
//! discovering the structure (list-chain, union, nulls) and the dtype as it goes. The Python
//! converter walks nested lists once and feeds this.
//!
//! Dtype inference (the same rules whether the values sit in one leaf or in the two contents
//! of a union):
//! - strings give `string`; a string and a number (bool, int or float) anywhere in the same
//!   array is a `DTypeError`;
//! - numbers widen bool < int < float; integers take `int64` when every integer fits in it,
//!   else `uint64` when every integer fits in that (non-negative, below 2**64), else no integer
//!   dtype holds them: an `ArgumentError` unless a float is present (then `float64`) or
//!   `dtype=` names a type that holds them;
//! - with `dtype=` an integer target must hold every integer that was pushed (like NumPy 2:
//!   "Python integer 300 out of bounds for int8"), floats are cast as `astype` does.
//!
//! Nesting deeper than [`MAX_DEPTH`] levels is refused by the walkers that feed the builder.
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
//!
//! let mut b = Builder::new();
//! b.push_str("a").unwrap();
//! assert!(b.push_f64(1.5).is_err()); // strings and numbers do not mix
//! ```

use super::{Layout, Leaf, List, Union};
use crate::buffer::{Bitmap, Buf, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};

/// Deepest nesting (`ndim`) an array may have. Builders are fed by recursive walks and layouts
/// are processed recursively, so the depth is bounded to keep every walk far from the end of
/// the stack (NumPy allows 64 dimensions).
///
/// ```
/// assert!(grumpy_core::layout::MAX_DEPTH >= 64);
/// ```
pub const MAX_DEPTH: usize = 256;

/// The error for input nested deeper than [`MAX_DEPTH`].
///
/// ```
/// use grumpy_core::{error::Code, layout::too_deep};
/// assert_eq!(too_deep().code(), Code::Argument);
/// ```
pub fn too_deep() -> Error {
    Error::new(
        Code::Argument,
        format!("input is nested more than {MAX_DEPTH} levels deep"),
        "a list inside a list inside ... goes deeper than grumpy arrays may (or it contains itself)",
        format!(
            "flatten the data to at most {MAX_DEPTH} levels (e.g. keep inner levels as flat \
             values plus offsets and use gr.from_offsets)"
        ),
    )
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Bool,
    /// Integers stored as `i64`.
    Int,
    /// Integers stored as `u64` bit patterns in `ints` (some value is above `i64::MAX`).
    UInt,
    Float,
    Str,
}

/// What a subtree of leaves holds: enough to pick the dtype for all of them together.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    any_bool: bool,
    any_float: bool,
    any_str: bool,
    /// Smallest and largest integer pushed (bools excluded).
    ints: Option<(i128, i128)>,
}

impl Stats {
    fn merge(self, o: Stats) -> Stats {
        Stats {
            any_bool: self.any_bool || o.any_bool,
            any_float: self.any_float || o.any_float,
            any_str: self.any_str || o.any_str,
            ints: match (self.ints, o.ints) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (x, None) | (None, x) => x,
            },
        }
    }

    fn any_number(&self) -> bool {
        self.any_bool || self.any_float || self.ints.is_some()
    }

    /// The dtype these values take without `dtype=` (None: only nulls / empty lists).
    fn infer(&self) -> Result<Option<DType>> {
        if self.any_str {
            if self.any_number() {
                return Err(mixed_error());
            }
            return Ok(Some(DType::String));
        }
        if self.any_float {
            return Ok(Some(DType::Float64));
        }
        if let Some((lo, hi)) = self.ints {
            return match int_dtype(lo, hi) {
                Some(d) => Ok(Some(d)),
                None => Err(overflow_error(lo, hi)),
            };
        }
        Ok(self.any_bool.then_some(DType::Bool))
    }

    /// Check that an explicit integer `dtype` holds every integer (NumPy 2 rule).
    fn check_target(&self, d: DType) -> Result<()> {
        if let (Some((lo, hi)), Some((min, max))) = (self.ints, int_bounds(d)) {
            for v in [lo, hi] {
                if v < min || v > max {
                    return Err(Error::new(
                        Code::Argument,
                        format!("Python integer {} out of bounds for {d}", fmt_big(v)),
                        format!("{d} holds integers in [{min}, {max}]"),
                        "pass a wider dtype= (e.g. gr.int64), or drop dtype= to infer one",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The range of an integer dtype.
fn int_bounds(d: DType) -> Option<(i128, i128)> {
    Some(match d {
        DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DType::UInt8 => (0, u8::MAX.into()),
        DType::UInt16 => (0, u16::MAX.into()),
        DType::UInt32 => (0, u32::MAX.into()),
        DType::UInt64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// `int64` if `[lo, hi]` fits it, else `uint64` if it fits that, else None.
fn int_dtype(lo: i128, hi: i128) -> Option<DType> {
    if lo >= i128::from(i64::MIN) && hi <= i128::from(i64::MAX) {
        Some(DType::Int64)
    } else if lo >= 0 && hi <= i128::from(u64::MAX) {
        Some(DType::UInt64)
    } else {
        None
    }
}

fn mixed_error() -> Error {
    Error::new(
        Code::DType,
        "cannot mix strings and numbers in one array",
        "the data holds both str values and numbers (bool, int or float)",
        "make every leaf the same kind: convert numbers with str(), or strings with float()",
    )
}

fn overflow_error(lo: i128, hi: i128) -> Error {
    let (lo, hi) = (fmt_big(lo), fmt_big(hi));
    Error::new(
        Code::Argument,
        "integers too large for any integer dtype",
        format!(
            "the integers span [{lo}, {hi}]: int64 holds [-2**63, 2**63) and uint64 holds \
             [0, 2**64)"
        ),
        "pass dtype=gr.float64 to store them as (rounded) floats, or split the data",
    )
}

/// Integers beyond `i128` were clamped on the way in; say so instead of printing the clamp.
fn fmt_big(v: i128) -> String {
    match v {
        i128::MAX => "> 2**127".into(),
        i128::MIN => "< -2**127".into(),
        v => v.to_string(),
    }
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
    stats: Stats,
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

    /// Move the stored values to kind `k` (numbers only widen; strings never mix).
    fn set_kind(&mut self, k: Kind) -> Result<()> {
        let cur = self.kind;
        if cur == Some(k) {
            return Ok(());
        }
        if cur == Some(Kind::Str) || (k == Kind::Str && cur.is_some()) {
            return Err(mixed_error());
        }
        match (cur, k) {
            (_, Kind::Str) => {
                // only nulls so far
                let n = self.ints.len();
                self.ints.clear();
                self.str_offsets = vec![0; n + 1];
            }
            (Some(Kind::UInt), Kind::Float) => {
                self.floats = self.ints.drain(..).map(|x| x as u64 as f64).collect();
            }
            (_, Kind::Float) => {
                self.floats = self.ints.drain(..).map(|x| x as f64).collect();
            }
            // Int → UInt happens only when every integer so far is non-negative, so the
            // stored bit patterns are already right; bools are 0/1 either way.
            _ => {}
        }
        if cur.is_none_or(|c| k > c) {
            self.kind = Some(k);
        }
        Ok(())
    }

    fn push_f64(&mut self, x: f64) -> Result<()> {
        self.set_kind(Kind::Float)?;
        self.stats.any_float = true;
        self.floats.push(x);
        self.mark_valid(true);
        Ok(())
    }

    fn push_bool(&mut self, x: bool) -> Result<()> {
        self.set_kind(Kind::Bool)?;
        self.stats.any_bool = true;
        match self.kind {
            Some(Kind::Float) => self.floats.push(f64::from(u8::from(x))),
            _ => self.ints.push(i64::from(x)),
        }
        self.mark_valid(true);
        Ok(())
    }

    /// Push an integer; `approx` is its float value when `x` is a clamp (beyond `i128`).
    fn push_int(&mut self, x: i128, approx: Option<f64>) -> Result<()> {
        if self.kind == Some(Kind::Str) {
            return Err(mixed_error());
        }
        let (lo, hi) = self
            .stats
            .ints
            .map_or((x, x), |(a, b)| (a.min(x), b.max(x)));
        self.stats.ints = Some((lo, hi));
        let need = match int_dtype(lo, hi) {
            Some(DType::Int64) => Kind::Int,
            Some(_) => Kind::UInt,
            // No integer dtype holds them: keep them as floats; `finish` reports the overflow
            // unless a float or an explicit dtype makes floats the answer.
            None => Kind::Float,
        };
        self.set_kind(need)?;
        match self.kind {
            Some(Kind::Float) => self.floats.push(approx.unwrap_or(x as f64)),
            Some(Kind::UInt) => self.ints.push(x as u64 as i64),
            _ => self.ints.push(x as i64),
        }
        self.mark_valid(true);
        Ok(())
    }

    fn push_str(&mut self, s: &str) -> Result<()> {
        self.set_kind(Kind::Str)?;
        self.stats.any_str = true;
        if self.str_offsets.is_empty() {
            self.str_offsets.push(0);
        }
        self.str_bytes.extend_from_slice(s.as_bytes());
        self.str_offsets.push(self.str_bytes.len() as i64);
        self.mark_valid(true);
        Ok(())
    }

    /// Build the leaf as `dtype` (an explicit `dtype=`, or the dtype inferred for the whole
    /// array; None only when nothing but nulls was pushed anywhere).
    fn finish(self, dtype: Option<DType>) -> Result<Leaf> {
        if let Some(d) = dtype {
            self.stats.check_target(d)?;
        }
        let validity = self.valid.map(|v| Bitmap::from_bools(&v));
        let values = match self.kind {
            None => {
                if validity.is_some() && dtype.is_none() {
                    return Err(all_null_error());
                }
                Values::zeros(dtype.unwrap_or(DType::Float64), self.len)
            }
            Some(Kind::Bool) => {
                Values::from(self.ints.iter().map(|&x| x != 0).collect::<Vec<bool>>())
            }
            Some(Kind::Int) => Values::from(self.ints),
            Some(Kind::UInt) => Values::from(
                self.ints
                    .into_iter()
                    .map(|x| x as u64)
                    .collect::<Vec<u64>>(),
            ),
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
        let child = self.child.finish_as(dtype)?;
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
/// [`push_scalar`]/[`push_f64`]/[`push_i64`]/[`push_int`], or [`begin_list`] + items into
/// [`child`] + [`end_list`]; then [`finish`].
///
/// [`push_null`]: Builder::push_null
/// [`push_scalar`]: Builder::push_scalar
/// [`push_f64`]: Builder::push_f64
/// [`push_i64`]: Builder::push_i64
/// [`push_int`]: Builder::push_int
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

    /// Push a float scalar row (fails after a string: strings and numbers do not mix).
    #[inline]
    pub fn push_f64(&mut self, x: f64) -> Result<()> {
        if let Node::Leaf(l) = &mut self.node {
            if l.kind == Some(Kind::Float) && l.stats.any_float && l.valid.is_none() {
                l.floats.push(x);
                l.len += 1;
                return Ok(());
            }
        }
        self.leaf().push_f64(x)
    }

    /// Push an integer scalar row.
    #[inline]
    pub fn push_i64(&mut self, x: i64) -> Result<()> {
        self.leaf().push_int(i128::from(x), None)
    }

    /// Push an integer of up to 128 bits (beyond that, see [`Builder::push_huge_int`]). The
    /// dtype is decided at [`Builder::finish`] from the range of all integers (see the module
    /// docs).
    ///
    /// ```
    /// use grumpy_core::{layout::Builder, dtype::DType};
    /// let mut b = Builder::new();
    /// b.push_int(u64::MAX.into()).unwrap();
    /// b.push_int(1).unwrap();
    /// assert_eq!(b.finish(None).unwrap().dtype(), DType::UInt64);
    /// ```
    pub fn push_int(&mut self, x: i128) -> Result<()> {
        self.leaf().push_int(x, None)
    }

    /// Push an integer beyond the range of `i128` given as its float value (`±inf` beyond
    /// f64). No integer dtype holds it: `finish` asks for a float dtype unless a float is in
    /// the data.
    ///
    /// ```
    /// use grumpy_core::{layout::Builder, dtype::DType};
    /// let mut b = Builder::new();
    /// b.push_huge_int(1e40).unwrap();
    /// assert!(b.finish(None).is_err());
    /// let mut b = Builder::new();
    /// b.push_huge_int(1e40).unwrap();
    /// assert_eq!(b.finish(Some(DType::Float64)).unwrap().to_item(), vec![1e40].into());
    /// ```
    pub fn push_huge_int(&mut self, x: f64) -> Result<()> {
        let clamp = if x < 0.0 { i128::MIN } else { i128::MAX };
        self.leaf().push_int(clamp, Some(x))
    }

    /// Push a bool scalar row.
    pub fn push_bool(&mut self, x: bool) -> Result<()> {
        self.leaf().push_bool(x)
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
            Scalar::UInt(u) => self.push_int(i128::from(*u)),
            Scalar::Float(f) => self.push_f64(*f),
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

    /// Build the layout; `dtype` casts the leaves (and types all-null or empty data). Without
    /// it the dtype is inferred from every leaf (see the module docs).
    pub fn finish(self, dtype: Option<DType>) -> Result<Layout> {
        let stats = self.stats();
        if stats.any_str && stats.any_number() {
            // even with dtype=: the two contents of a union were typed separately
            return Err(mixed_error());
        }
        let target = match dtype {
            Some(d) => Some(d),
            None => stats.infer()?,
        };
        self.finish_as(target)
    }

    /// Build with the dtype already decided (None: nothing but nulls and empty lists).
    fn finish_as(self, dtype: Option<DType>) -> Result<Layout> {
        Ok(match self.node {
            Node::Unknown(n) => Layout::Leaf(LeafB::with_nulls(n).finish(dtype)?),
            Node::Leaf(l) => Layout::Leaf(l.finish(dtype)?),
            Node::List(l) => Layout::List(l.finish(dtype)?),
            Node::Union(u) => {
                // Both contents hold values of one array: they share the dtype.
                let target = dtype.ok_or_else(all_null_error)?;
                Layout::Union(Union {
                    tags: Buf::from_vec(u.tags),
                    index: Buf::from_vec(u.index),
                    scalar: std::sync::Arc::new(Layout::Leaf(u.leaf.finish(Some(target))?)),
                    list: std::sync::Arc::new(Layout::List(u.list.finish(Some(target))?)),
                })
            }
        })
    }

    /// What every leaf below holds.
    fn stats(&self) -> Stats {
        match &self.node {
            Node::Unknown(_) => Stats::default(),
            Node::Leaf(l) => l.stats,
            Node::List(l) => l.child.stats(),
            Node::Union(u) => u.leaf.stats.merge(u.list.child.stats()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i128], dtype: Option<DType>) -> Result<Layout> {
        let mut b = Builder::new();
        for &x in xs {
            b.push_int(x)?;
        }
        b.finish(dtype)
    }

    #[test]
    fn strings_and_numbers_never_mix() {
        let mut b = Builder::new();
        b.push_str("a").unwrap();
        assert_eq!(b.push_f64(1.5).unwrap_err().code(), Code::DType);
        assert_eq!(b.push_i64(1).unwrap_err().code(), Code::DType);
        assert_eq!(b.push_bool(true).unwrap_err().code(), Code::DType);
        let mut b = Builder::new();
        b.push_f64(1.5).unwrap();
        assert_eq!(b.push_str("a").unwrap_err().code(), Code::DType);
        // across the two contents of a union: ['a', [1]]
        let mut b = Builder::new();
        b.push_str("a").unwrap();
        b.begin_list();
        b.child().push_i64(1).unwrap();
        b.end_list();
        assert_eq!(b.finish(None).unwrap_err().code(), Code::DType);
    }

    #[test]
    fn integer_inference_and_bounds() {
        let big = i128::from(u64::MAX);
        assert_eq!(ints(&[big, 1], None).unwrap().dtype(), DType::UInt64);
        let l = ints(&[1, big], None).unwrap();
        // to_item gives values that fit an i64 as Int (Python ints have one type)
        assert_eq!(
            l.to_item(),
            Item::list(vec![
                Item::Scalar(Scalar::Int(1)),
                Item::Scalar(Scalar::UInt(u64::MAX))
            ])
        );
        assert_eq!(ints(&[-1, 2], None).unwrap().dtype(), DType::Int64);
        assert_eq!(ints(&[-1, big], None).unwrap_err().code(), Code::Argument);
        assert_eq!(ints(&[big + 1], None).unwrap_err().code(), Code::Argument);
        assert_eq!(
            ints(&[-1, big], Some(DType::Float64)).unwrap().dtype(),
            DType::Float64
        );
        assert_eq!(
            ints(&[300], Some(DType::Int8)).unwrap_err().code(),
            Code::Argument
        );
        assert_eq!(
            ints(&[-1], Some(DType::UInt8)).unwrap_err().code(),
            Code::Argument
        );
        assert_eq!(
            ints(&[255], Some(DType::UInt8)).unwrap().dtype(),
            DType::UInt8
        );
        // a float makes float64 the answer, like NumPy
        let mut b = Builder::new();
        b.push_int(-1).unwrap();
        b.push_int(big).unwrap();
        b.push_f64(0.5).unwrap();
        assert_eq!(b.finish(None).unwrap().dtype(), DType::Float64);
    }

    #[test]
    fn union_contents_share_integer_inference() {
        // [[-1], 2**64 - 1] holds integers no single integer dtype covers
        let mut b = Builder::new();
        b.begin_list();
        b.child().push_i64(-1).unwrap();
        b.end_list();
        b.push_int(i128::from(u64::MAX)).unwrap();
        assert_eq!(b.finish(None).unwrap_err().code(), Code::Argument);
        // [[1], 2**64 - 1] is uint64 on both sides
        let mut b = Builder::new();
        b.begin_list();
        b.child().push_i64(1).unwrap();
        b.end_list();
        b.push_int(i128::from(u64::MAX)).unwrap();
        let l = b.finish(None).unwrap();
        assert_eq!(l.dtype(), DType::UInt64);
        assert_eq!(l.kind(), "union");
    }

    #[test]
    fn bools_widen_with_numbers() {
        let mut b = Builder::new();
        b.push_bool(true).unwrap();
        b.push_i64(2).unwrap();
        assert_eq!(b.finish(None).unwrap().dtype(), DType::Int64);
        let mut b = Builder::new();
        b.push_f64(0.5).unwrap();
        b.push_bool(true).unwrap();
        let l = b.finish(None).unwrap();
        assert_eq!(l.to_item(), Item::from(vec![0.5, 1.0]));
    }

    use crate::layout::Item;
}
