//! `x[key] = value`: in-place assignment with left-aligned (Awkward-style) broadcasting and
//! copy-on-write buffers.
//!
//! Two paths give the same result:
//!
//! * **Fast** (numeric list chains without null lists — the common case): the key is turned
//!   into runs of leaf positions by walking offsets ([`super::runs`]); a scalar is then filled
//!   into those runs and an array value copied, in place when the leaf buffer is not shared
//!   (no per-element dispatch; `x[:] = 0` is one parallel fill). A boolean mask shaped like
//!   the leaf (`x[x > 0] = 0`, or `x[mask]` on a flat array) is applied directly.
//! * **General** (unions, null lists, strings, coordinate pairs, and every failing key): every
//!   leaf value of `x` is replaced by its position, the key is applied to that with [`get`], and
//!   the result — the target positions, shaped like `x[key]` — is broadcast against the value.
//!
//! Either way writes go through [`Buf::make_mut`](crate::buffer::Buf::make_mut), which copies
//! buffers shared with other arrays first, so views taken earlier (`y = x[0:2]`) never change.
//! Python-like range checks apply to scalar values ([`check_scalar_fits`]).

use super::runs::{masked, runs};
use super::write::{check_scalar_fits, copy, fill, fill_masked};
use super::{get, Got, Index};
use crate::array::Array;
use crate::buffer::{normalize, Bitmap, Values};
use crate::dtype::{DType, Scalar};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_leaf;
use crate::kernels::concat::concat_layouts;
use crate::layout::{Layout, Leaf};
use crate::with_values;
use std::ops::Range;
use std::sync::Arc;

/// The right-hand side of an assignment.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    /// A scalar filling every target element (`Scalar::Null` sets nulls).
    Scalar(&'a Scalar),
    /// An array broadcast against the target.
    Array(&'a Array),
}

/// Replace every leaf value by its global position (leaves numbered in tree order).
fn positions(l: &Layout) -> Layout {
    let mut next = 0i64;
    let r: Result<Layout> = l.map_leaves(&mut |leaf: &Leaf| {
        let n = leaf.len() as i64;
        let v: Vec<i64> = (next..next + n).collect();
        next += n;
        Ok(Leaf::valid(Values::from(v)))
    });
    r.unwrap_or_else(|_| l.clone())
}

/// One row seen through a positions layout.
enum Row<'a> {
    Null,
    Pos(usize),
    List(&'a Layout, Range<usize>),
}

fn row_of(l: &Layout, i: usize) -> Row<'_> {
    if l.is_null(i) {
        return Row::Null;
    }
    match l {
        Layout::Leaf(leaf) => Row::Pos(leaf.values.as_slice::<i64>().map_or(0, |s| s[i] as usize)),
        Layout::List(lst) => Row::List(&lst.child, lst.row_range(i)),
        Layout::Union(u) => {
            let j = u.index[i] as usize;
            if u.tags[i] == 0 {
                row_of(&u.scalar, j)
            } else {
                row_of(&u.list, j)
            }
        }
    }
}

fn shape_err(cause: String) -> Error {
    Error::new(
        Code::Shape,
        "the value does not fit the selected elements",
        cause,
        "give a scalar, or a value with the same (ragged) row lengths as x[key] (length-1 rows broadcast)",
    )
}

/// Every (non-null) leaf position under rows `range` of `t` gets source `q`.
fn fill_all(t: &Layout, range: Range<usize>, q: usize, out: &mut Vec<(usize, usize)>) {
    if let Layout::Leaf(leaf) = t {
        if let Some(s) = leaf.values.as_slice::<i64>() {
            out.extend(
                range
                    .filter(|&i| !leaf.is_null(i))
                    .map(|i| (s[i] as usize, q)),
            );
        }
        return;
    }
    for i in range {
        match row_of(t, i) {
            Row::Null => {}
            Row::Pos(p) => out.push((p, q)),
            Row::List(c, r) => fill_all(c, r, q, out),
        }
    }
}

fn bc_rows(
    t: &Layout,
    tr: Range<usize>,
    v: &Layout,
    vr: Range<usize>,
    out: &mut Vec<(usize, usize)>,
) -> Result<()> {
    let (n, m) = (tr.len(), vr.len());
    if m != n && m != 1 {
        return Err(shape_err(format!(
            "the value has {m} entries where the target has {n}"
        )));
    }
    for (k, i) in tr.enumerate() {
        let j = if m == 1 { vr.start } else { vr.start + k };
        bc(row_of(t, i), row_of(v, j), out)?;
    }
    Ok(())
}

fn bc(t: Row<'_>, v: Row<'_>, out: &mut Vec<(usize, usize)>) -> Result<()> {
    match (t, v) {
        (Row::Null, _) => Ok(()),
        (_, Row::Null) => Err(shape_err(
            "the value has a null list where the target has values".into(),
        )),
        (Row::Pos(p), Row::Pos(q)) => {
            out.push((p, q));
            Ok(())
        }
        (Row::Pos(p), Row::List(c, r)) if r.len() == 1 => bc(Row::Pos(p), row_of(c, r.start), out),
        (Row::Pos(_), Row::List(_, r)) => Err(shape_err(format!(
            "the value has a list of length {} where the target has a single element",
            r.len()
        ))),
        (Row::List(c, r), Row::Pos(q)) => {
            fill_all(c, r, q, out);
            Ok(())
        }
        (Row::List(tc, tr), Row::List(vc, vr)) => bc_rows(tc, tr, vc, vr, out),
    }
}

/// The value as one flat source leaf (cast to `dtype`) plus its positions layout.
fn source(value: Value<'_>, dtype: DType) -> Result<(Leaf, Option<Layout>)> {
    match value {
        Value::Scalar(s) => {
            let leaf = match s {
                Scalar::Null => {
                    Leaf::new(Values::zeros(dtype, 1), Some(Bitmap::from_bools(&[false])))
                }
                s => {
                    let l = Layout::from_item(
                        &crate::layout::Item::list(vec![crate::layout::Item::Scalar(s.clone())]),
                        None,
                    )?;
                    match l {
                        Layout::Leaf(x) => x,
                        _ => return Err(shape_err("a scalar value became a list".into())),
                    }
                }
            };
            Ok((cast_leaf(&leaf, dtype)?, None))
        }
        Value::Array(a) => {
            let leaves: Vec<Layout> = a
                .layout
                .leaves()
                .into_iter()
                .map(|l| Ok(Layout::Leaf(cast_leaf(l, dtype)?)))
                .collect::<Result<_>>()?;
            let refs: Vec<&Layout> = leaves.iter().collect();
            let flat = match concat_layouts(&refs)? {
                Layout::Leaf(x) => x,
                _ => return Err(shape_err("the value's leaves did not flatten".into())),
            };
            Ok((cast_leaf(&flat, dtype)?, Some(positions(&a.layout))))
        }
    }
}

fn leaves_mut<'a>(l: &'a mut Layout, out: &mut Vec<&'a mut Leaf>) {
    match l {
        Layout::Leaf(x) => out.push(x),
        Layout::List(x) => leaves_mut(Arc::make_mut(&mut x.child), out),
        Layout::Union(u) => {
            leaves_mut(Arc::make_mut(&mut u.scalar), out);
            leaves_mut(Arc::make_mut(&mut u.list), out);
        }
    }
}

/// Write `src[q]` into `leaf[p]` for every pair (positions local to the leaf).
fn write_leaf(leaf: &mut Leaf, src: &Leaf, pairs: &[(usize, usize)]) -> Result<()> {
    let src = cast_leaf(src, leaf.values.dtype())?;
    if leaf.values.dtype() == DType::String {
        let mut items: Vec<String> = (0..leaf.len())
            .map(|i| leaf.values.str_at(i).to_owned())
            .collect();
        for &(p, q) in pairs {
            src.values.str_at(q).clone_into(&mut items[p]);
        }
        leaf.values = Values::from_strs(&items);
    } else {
        with_values!(&mut leaf.values, b, T => {
            let s = src.values.as_slice::<T>().ok_or_else(|| shape_err("dtype mismatch after cast".into()))?;
            let d = b.make_mut();
            for &(p, q) in pairs {
                d[p] = s[q];
            }
        }, _s => {});
    }
    if leaf.validity.is_some() || src.validity.is_some() {
        let mut valid = leaf
            .validity
            .as_ref()
            .map_or_else(|| vec![true; leaf.len()], Bitmap::to_bools);
        for &(p, q) in pairs {
            valid[p] = !src.is_null(q);
        }
        leaf.validity = normalize(Some(Bitmap::from_bools(&valid)));
    }
    Ok(())
}

/// The leaf of a list chain, for writing.
fn chain_leaf(l: &mut Layout) -> Option<&mut Leaf> {
    match l {
        Layout::Leaf(x) => Some(x),
        Layout::List(x) => chain_leaf(Arc::make_mut(&mut x.child)),
        Layout::Union(_) => None,
    }
}

/// True when `a` and `b` have the same nesting and row lengths (no null lists, no unions).
fn same_shape(a: &Layout, b: &Layout) -> bool {
    match (a, b) {
        (Layout::Leaf(x), Layout::Leaf(y)) => x.len() == y.len(),
        (Layout::List(x), Layout::List(y)) => {
            x.validity.is_none()
                && y.validity.is_none()
                && x.len() == y.len()
                && x.offsets
                    .windows(2)
                    .zip(y.offsets.windows(2))
                    .all(|(p, q)| p[1] - p[0] == q[1] - q[0])
                && same_shape(&x.child_view(), &y.child_view())
        }
        _ => false,
    }
}

/// The leaf values a list chain's rows cover, in order (zero copy).
fn covered_leaf(l: &Layout) -> Option<Leaf> {
    match l {
        Layout::Leaf(x) => Some(x.clone()),
        Layout::List(x) => covered_leaf(&x.child_view()),
        Layout::Union(_) => None,
    }
}

/// Fast path for an array value; `Ok(false)` hands over to the general path.
fn set_array_fast(a: &mut Array, idx: &[Index], runs: &[Range<usize>], v: &Array) -> Result<bool> {
    let Got::Array(t) = get(a, idx)? else {
        return Ok(false);
    };
    let t = t.layout.compact();
    let m: usize = runs.iter().map(ExactSizeIterator::len).sum();
    let (src, order) = if same_shape(&t, &v.layout) {
        match covered_leaf(&v.layout) {
            Some(l) => (l, None),
            None => return Ok(false),
        }
    } else {
        let (src, vpos) = source(Value::Array(v), a.dtype())?;
        let Some(vpos) = vpos else { return Ok(false) };
        let mut pairs = Vec::with_capacity(m);
        bc_rows(&positions(&t), 0..t.len(), &vpos, 0..vpos.len(), &mut pairs)?;
        let mut order = vec![0usize; m];
        if pairs.len() != m {
            return Ok(false);
        }
        for (k, q) in pairs {
            order[k] = q;
        }
        (src, Some(order))
    };
    if order.is_none() && src.len() != m {
        return Ok(false);
    }
    match chain_leaf(&mut a.layout) {
        Some(leaf) => copy(leaf, runs, &src, order.as_deref()).map(|()| true),
        None => Ok(false),
    }
}

/// `a[idx] = value`, in place (see the module docs for the two paths and copy-on-write).
///
/// The value is cast to `a`'s dtype like NumPy's `__setitem__` ("unsafe": 2.7 → 2 in an int
/// array), except that a scalar must fit an integer dtype (`int8_array[0] = 300` is a
/// `Code::Value` error, as NumPy 2 raises); `Scalar::Null` stores nulls. A value whose ragged
/// shape does not fit → `Code::Shape`.
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::dtype::Scalar;
/// use grumpy_core::kernels::index::{set, Index, Value};
/// let mut x = Array::from_item(&vec![vec![1i64, 2, 3], vec![4, 5]].into(), None).unwrap();
/// let view = x.slice(0, 1);
/// set(&mut x, &[Index::All, Index::Int(0)], Value::Scalar(&Scalar::Float(9.7))).unwrap();
/// assert_eq!(x.to_item(), vec![vec![9i64, 2, 3], vec![9, 5]].into());
/// assert_eq!(view.to_item(), vec![vec![1i64, 2, 3]].into()); // copy-on-write
/// assert!(set(&mut x, &[Index::Int(0)], Value::Scalar(&Scalar::Int(1 << 40))).is_ok());
/// let mut small = x.astype(grumpy_core::dtype::DType::Int8).unwrap();
/// assert!(set(&mut small, &[Index::Int(0)], Value::Scalar(&Scalar::Int(300))).is_err());
/// ```
pub fn set(a: &mut Array, idx: &[Index], value: Value<'_>) -> Result<()> {
    if let Value::Scalar(s) = value {
        check_scalar_fits(s, a.dtype())?;
    }
    if let (true, Value::Scalar(s)) = (a.dtype().is_numeric(), value) {
        if let Some(t) = masked(&a.layout, idx) {
            if let Some(leaf) = chain_leaf(&mut a.layout) {
                return fill_masked(leaf, &t, s);
            }
        }
    }
    if a.dtype().is_numeric() {
        if let Some(runs) = runs(&a.layout, idx) {
            match value {
                Value::Scalar(s) => {
                    if let Some(leaf) = chain_leaf(&mut a.layout) {
                        return fill(leaf, &runs, s);
                    }
                }
                Value::Array(v) => {
                    if set_array_fast(a, idx, &runs, v)? {
                        return Ok(());
                    }
                }
            }
        }
    }
    set_general(a, idx, value)
}

/// The general path (see the module docs).
fn set_general(a: &mut Array, idx: &[Index], value: Value<'_>) -> Result<()> {
    let pos = Array::new(positions(&a.layout));
    let target = get(&pos, idx)?;
    let (src, vpos) = source(value, a.dtype())?;
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    match (&target, &vpos) {
        (Got::Scalar(Scalar::Null), _) => {
            return Err(shape_err(
                "the selected row is None (a null list); it holds no elements to assign".into(),
            ))
        }
        (Got::Scalar(s), None) => pairs.push((s.as_i64().unwrap_or(0) as usize, 0)),
        (Got::Scalar(s), Some(v)) => {
            if v.len() != 1 {
                return Err(shape_err(format!(
                    "the value has {} entries where the target is a single element",
                    v.len()
                )));
            }
            bc(
                Row::Pos(s.as_i64().unwrap_or(0) as usize),
                row_of(v, 0),
                &mut pairs,
            )?;
        }
        (Got::Array(t), None) => fill_all(&t.layout, 0..t.len(), 0, &mut pairs),
        (Got::Array(t), Some(v)) => bc_rows(&t.layout, 0..t.len(), v, 0..v.len(), &mut pairs)?,
    }
    if pairs.is_empty() {
        return Ok(());
    }
    let mut leaves = Vec::new();
    leaves_mut(&mut a.layout, &mut leaves);
    let mut start = 0usize;
    for leaf in leaves {
        let end = start + leaf.len();
        let mine: Vec<(usize, usize)> = pairs
            .iter()
            .filter(|(p, _)| (start..end).contains(p))
            .map(|&(p, q)| (p - start, q))
            .collect();
        if !mine.is_empty() {
            write_leaf(leaf, &src, &mine)?;
        }
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }

    #[test]
    fn scalar_fill_and_cow() {
        let mut x = arr(vec![vec![1i64, 2, 3], vec![4, 5]].into());
        let y = x.slice(0, 2);
        set(&mut x, &[Index::Int(0)], Value::Scalar(&Scalar::Int(100))).unwrap();
        assert_eq!(x.to_item(), vec![vec![100i64, 100, 100], vec![4, 5]].into());
        assert_eq!(y.to_item(), vec![vec![1i64, 2, 3], vec![4, 5]].into());
        set(
            &mut x,
            &[Index::Int(1), Index::Int(-1)],
            Value::Scalar(&Scalar::Null),
        )
        .unwrap();
        assert_eq!(
            x.to_item(),
            Item::list(vec![
                vec![100i64, 100, 100].into(),
                Item::list(vec![4i64.into(), Item::Null])
            ])
        );
        set(
            &mut x,
            &[Index::Int(1), Index::Int(-1)],
            Value::Scalar(&Scalar::Int(7)),
        )
        .unwrap();
        assert_eq!(x.to_item(), vec![vec![100i64, 100, 100], vec![4, 7]].into());
    }

    #[test]
    fn array_values_broadcast_left_aligned() {
        let mut x = arr(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0]].into());
        let v = arr(vec![10.0, 20.0].into());
        set(&mut x, &[Index::All], Value::Array(&v)).unwrap();
        assert_eq!(
            x.to_item(),
            vec![vec![10.0, 10.0, 10.0], vec![20.0, 20.0]].into()
        );
        let v = arr(vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0]].into());
        set(&mut x, &[Index::slice(None, None, None)], Value::Array(&v)).unwrap();
        assert_eq!(
            x.to_item(),
            vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0]].into()
        );
        let bad = arr(vec![vec![1.0, 2.0], vec![4.0, 5.0]].into());
        let e = set(&mut x, &[Index::All], Value::Array(&bad)).unwrap_err();
        assert_eq!(e.code(), Code::Shape);
        let row = arr(vec![7.0, 8.0, 9.0].into());
        set(&mut x, &[Index::Int(0)], Value::Array(&row)).unwrap();
        assert_eq!(
            x.to_item(),
            vec![vec![7.0, 8.0, 9.0], vec![4.0, 5.0]].into()
        );
        assert!(set(&mut x, &[Index::Int(1)], Value::Array(&row)).is_err());
    }

    #[test]
    fn unions_strings_and_masks() {
        let mut u = arr(Item::list(vec![
            1.0.into(),
            vec![2.0, 3.0].into(),
            4.0.into(),
        ]));
        set(
            &mut u,
            &[Index::Mask(vec![false, true, true])],
            Value::Scalar(&Scalar::Int(0)),
        )
        .unwrap();
        assert_eq!(
            u.to_item(),
            Item::list(vec![1.0.into(), vec![0.0, 0.0].into(), 0.0.into()])
        );
        let mut s = arr(vec![vec!["a", "b"], vec!["c"]].into());
        set(
            &mut s,
            &[Index::All, Index::Int(0)],
            Value::Scalar(&Scalar::Str("z".into())),
        )
        .unwrap();
        assert_eq!(s.to_item(), vec![vec!["z", "b"], vec!["z"]].into());
        let mut n = arr(Item::list(vec![vec![1i64].into(), Item::Null]));
        assert_eq!(
            set(&mut n, &[Index::Int(1)], Value::Scalar(&Scalar::Int(1)))
                .unwrap_err()
                .code(),
            Code::Shape
        );
        // Null rows hold no elements: x[:, 0] = 5 leaves them null.
        set(
            &mut n,
            &[Index::All, Index::Int(0)],
            Value::Scalar(&Scalar::Int(5)),
        )
        .unwrap();
        assert_eq!(n.to_item(), Item::list(vec![vec![5i64].into(), Item::Null]));
    }
}
