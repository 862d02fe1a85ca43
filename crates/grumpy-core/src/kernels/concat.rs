//! Concatenation of layouts along the row axis (`gr.cat(arrays, dim=0)`).
//!
//! ```
//! use grumpy_core::array::Array;
//! let a = Array::from_vec(vec![1i64, 2]);
//! let b = Array::from_vec(vec![3i64]);
//! let c = Array::cat(&[&a, &b]).unwrap();
//! assert_eq!(c.layout.to_item(), vec![1i64, 2, 3].into());
//! ```

use crate::buffer::{Bitmap, Buf, Values};
use crate::dtype::{promote, DType};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_values;
use crate::layout::{Layout, Leaf, List, Union};

fn concat_validity(parts: &[Option<&Bitmap>], lens: &[usize]) -> Option<Bitmap> {
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let mut v = Vec::with_capacity(lens.iter().sum());
    for (p, &n) in parts.iter().zip(lens) {
        match p {
            Some(b) => v.extend(b.to_bools()),
            None => v.extend(std::iter::repeat_n(true, n)),
        }
    }
    Some(Bitmap::from_bools(&v))
}

fn mismatch() -> Error {
    Error::new(
        Code::Shape,
        "cannot concatenate arrays of different nesting",
        "the arrays have different layouts (depth or union structure)",
        "concatenate arrays with the same ndim and layout",
    )
}

/// The dtype concatenated values share: NumPy promotion, except that strings and numbers never
/// mix (NumPy has no common dtype for them either; turning numbers into text silently would
/// lose the numbers).
fn common_dtype(a: DType, b: DType) -> Result<DType> {
    if (a == DType::String) != (b == DType::String) {
        return Err(Error::new(
            Code::DType,
            format!("cannot concatenate {a} with {b}"),
            "strings and numbers do not share a dtype",
            "convert one side first, e.g. x.astype(gr.string) or x.astype(gr.float64)",
        ));
    }
    Ok(promote(a, b))
}

fn concat_leaves(parts: &[&Leaf]) -> Result<Leaf> {
    let mut dtypes = parts.iter().map(|l| l.values.dtype());
    let first = dtypes.next().ok_or_else(mismatch)?;
    let dtype = dtypes.try_fold(first, common_dtype)?;
    let casted: Vec<Values> = parts
        .iter()
        .map(|l| cast_values(&l.values, dtype))
        .collect::<Result<_>>()?;
    let refs: Vec<&Values> = casted.iter().collect();
    let lens: Vec<usize> = parts.iter().map(|l| l.len()).collect();
    let validity = concat_validity(
        &parts
            .iter()
            .map(|l| l.validity.as_ref())
            .collect::<Vec<_>>(),
        &lens,
    );
    Ok(Leaf::new(Values::concat(&refs, dtype), validity))
}

fn concat_lists(parts: &[&List]) -> Result<List> {
    let mut offsets = vec![0i64];
    let mut children = Vec::with_capacity(parts.len());
    for l in parts {
        let base = *offsets.last().unwrap_or(&0);
        let o = l.offsets.as_slice();
        offsets.extend(o[1..].iter().map(|x| x - o[0] + base));
        children.push(l.child_view());
    }
    let lens: Vec<usize> = parts.iter().map(|l| l.len()).collect();
    let validity = concat_validity(
        &parts
            .iter()
            .map(|l| l.validity.as_ref())
            .collect::<Vec<_>>(),
        &lens,
    );
    let child = concat_layouts(&children.iter().collect::<Vec<_>>())?;
    Ok(List::new(Buf::from_vec(offsets), validity, child))
}

fn as_union(l: &Layout) -> Option<Union> {
    match l {
        Layout::Union(u) => Some(u.clone()),
        Layout::Leaf(leaf) => {
            let n = leaf.len();
            let child_empty = Layout::Leaf(Leaf::valid(Values::empty(leaf.values.dtype())));
            Some(Union {
                tags: Buf::from_vec(vec![0; n]),
                index: Buf::from_vec((0..n as i64).collect()),
                scalar: std::sync::Arc::new(l.clone()),
                list: std::sync::Arc::new(Layout::List(List::new(
                    Buf::from_vec(vec![0]),
                    None,
                    child_empty,
                ))),
            })
        }
        Layout::List(list) if list.child.as_leaf().is_some() => {
            let n = list.len();
            Some(Union {
                tags: Buf::from_vec(vec![1; n]),
                index: Buf::from_vec((0..n as i64).collect()),
                scalar: std::sync::Arc::new(Layout::Leaf(Leaf::valid(Values::empty(
                    list.child.dtype(),
                )))),
                list: std::sync::Arc::new(l.clone()),
            })
        }
        Layout::List(_) => None,
    }
}

/// Concatenate rows of layouts with the same structure; dtypes are promoted. Mixing a flat
/// leaf with a depth-1 list (or a union) gives a union.
pub fn concat_layouts(parts: &[&Layout]) -> Result<Layout> {
    if parts.is_empty() {
        return Err(Error::new(
            Code::Argument,
            "nothing to concatenate",
            "the list of arrays is empty",
            "pass at least one array",
        ));
    }
    if let Some(leaves) = parts
        .iter()
        .map(|p| p.as_leaf())
        .collect::<Option<Vec<_>>>()
    {
        return Ok(Layout::Leaf(concat_leaves(&leaves)?));
    }
    if let Some(lists) = parts
        .iter()
        .map(|p| p.as_list())
        .collect::<Option<Vec<_>>>()
    {
        return Ok(Layout::List(concat_lists(&lists)?));
    }
    let unions = parts
        .iter()
        .map(|p| as_union(p))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(mismatch)?;
    let mut tags = Vec::new();
    let mut index = Vec::new();
    let (mut scalars, mut lists) = (Vec::new(), Vec::new());
    let (mut sbase, mut lbase) = (0i64, 0i64);
    for u in &unions {
        let c = u.compact_union();
        tags.extend_from_slice(c.tags.as_slice());
        index.extend(c.tags.iter().zip(c.index.iter()).map(|(&t, &i)| {
            if t == 0 {
                i + sbase
            } else {
                i + lbase
            }
        }));
        sbase += c.scalar.len() as i64;
        lbase += c.list.len() as i64;
        scalars.push(std::sync::Arc::unwrap_or_clone(c.scalar));
        lists.push(std::sync::Arc::unwrap_or_clone(c.list));
    }
    let scalar = concat_layouts(&scalars.iter().collect::<Vec<_>>())?;
    let list = concat_layouts(&lists.iter().collect::<Vec<_>>())?;
    let dtype = common_dtype(scalar.dtype(), list.dtype())?;
    Ok(Layout::Union(Union {
        tags: Buf::from_vec(tags),
        index: Buf::from_vec(index),
        scalar: std::sync::Arc::new(crate::kernels::cast::cast_layout(&scalar, dtype)?),
        list: std::sync::Arc::new(crate::kernels::cast::cast_layout(&list, dtype)?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn layout(it: Item) -> Layout {
        Layout::from_item(&it, None).unwrap()
    }

    #[test]
    fn numbers_promote_strings_do_not_mix() {
        let i = layout(vec![1i64, 2].into());
        let f = layout(vec![0.5].into());
        let s = layout(vec!["a"].into());
        let c = concat_layouts(&[&i, &f]).unwrap();
        assert_eq!(c.to_item(), vec![1.0, 2.0, 0.5].into());
        assert_eq!(concat_layouts(&[&s, &s]).unwrap().len(), 2);
        assert_eq!(concat_layouts(&[&s, &i]).unwrap_err().code(), Code::DType);
        assert_eq!(concat_layouts(&[&i, &s]).unwrap_err().code(), Code::DType);
        // a flat leaf with a depth-1 list makes a union; strings still do not mix
        let l = layout(vec![vec![1i64]].into());
        assert_eq!(concat_layouts(&[&s, &l]).unwrap_err().code(), Code::DType);
        assert_eq!(concat_layouts(&[&i, &l]).unwrap().kind(), "union");
    }
}
