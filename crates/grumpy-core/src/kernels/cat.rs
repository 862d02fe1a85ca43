//! `gr.cat(arrays, dim)`: concatenation along any axis.
//!
//! `dim = 0` appends rows ([`concat_layouts`]). `dim = 1` joins row `i` of every part:
//!
//! ```text
//!   cat([[[1], [2]], [[3], [4, 5]]], dim=1)  →  [[1, 3], [2, 4, 5]]
//! ```
//! Deeper `dim`s recurse: the outer levels must have identical row lengths. A row that is null
//! in any part is null in the result (nulls propagate). Negative `dim` counts from the innermost.
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::kernels::cat::cat;
//! let a = Array::from_item(&vec![vec![1i64], vec![2]].into(), None).unwrap();
//! let b = Array::from_item(&vec![vec![3i64], vec![4, 5]].into(), None).unwrap();
//! assert_eq!(cat(&[&a, &b], 1).unwrap().to_item(), vec![vec![1i64, 3], vec![2, 4, 5]].into());
//! ```

use crate::array::Array;
use crate::buffer::{normalize, Bitmap, Buf};
use crate::error::{Code, Error, Result};
use crate::kernels::concat::concat_layouts;
use crate::layout::{Layout, List};

fn as_list(l: &Layout, dim: usize) -> Result<List> {
    match l {
        Layout::List(x) => Ok(x.clone()),
        Layout::Union(u) => u.to_list(),
        Layout::Leaf(_) => Err(Error::new(
            Code::Argument,
            format!("cannot concatenate along dim {dim}"),
            "an array has fewer dimensions than that",
            "pass a dim below every array's ndim",
        )),
    }
}

fn cat_layouts(parts: &[&Layout], dim: usize) -> Result<Layout> {
    if dim == 0 {
        return concat_layouts(parts);
    }
    let lists = parts
        .iter()
        .map(|p| as_list(p, dim))
        .collect::<Result<Vec<_>>>()?;
    let n = lists.first().map_or(0, List::len);
    if let Some(bad) = lists.iter().position(|l| l.len() != n) {
        return Err(Error::new(
            Code::Shape,
            format!("cannot concatenate along dim {dim}: outer lengths differ"),
            format!("array 0 has {n} rows, array {bad} has {}", lists[bad].len()),
            "concatenate arrays with the same number of rows (or use dim=0)",
        ));
    }
    let valid: Vec<bool> = (0..n)
        .map(|i| lists.iter().all(|l| !l.is_null(i)))
        .collect();
    let validity = normalize(Some(Bitmap::from_bools(&valid)));
    let views: Vec<Layout> = lists.iter().map(List::child_view).collect();
    if dim >= 2 {
        let first = lists[0].lengths();
        if let Some(bad) = lists.iter().position(|l| l.lengths() != first) {
            return Err(Error::new(
                Code::Shape,
                format!("cannot concatenate along dim {dim}: row lengths differ"),
                format!("array 0 and array {bad} have different row lengths above dim {dim}"),
                "the axes before dim must match exactly",
            ));
        }
        let refs: Vec<&Layout> = views.iter().collect();
        let child = cat_layouts(&refs, dim - 1)?;
        return Ok(Layout::List(List::new(
            lists[0].zero_based_offsets(),
            validity,
            child,
        )));
    }
    let refs: Vec<&Layout> = views.iter().collect();
    let joined = concat_layouts(&refs)?;
    let bases: Vec<i64> = lists
        .iter()
        .scan(0i64, |acc, l| {
            let b = *acc;
            *acc += l.child_view().len() as i64;
            Some(b)
        })
        .collect();
    let mut offsets = Vec::with_capacity(n + 1);
    let mut gather = Vec::new();
    offsets.push(0i64);
    for (i, &ok) in valid.iter().enumerate() {
        if ok {
            for (l, &b) in lists.iter().zip(&bases) {
                let o0 = l.offsets[0];
                let (s, e) = (l.offsets[i] - o0 + b, l.offsets[i + 1] - o0 + b);
                gather.extend(s as usize..e as usize);
            }
        }
        offsets.push(gather.len() as i64);
    }
    Ok(Layout::List(List::new(
        Buf::from_vec(offsets),
        validity,
        joined.take(&gather),
    )))
}

/// Concatenate arrays along `dim` (see the module docs).
pub fn cat(parts: &[&Array], dim: i64) -> Result<Array> {
    let ndim = parts.iter().map(|a| a.ndim()).min().unwrap_or(1) as i64;
    let d = if dim < 0 { dim + ndim } else { dim };
    if d < 0 || d >= ndim.max(1) {
        return Err(Error::new(
            Code::Argument,
            format!("dim {dim} is out of range"),
            format!("the arrays have {ndim} dimension(s)"),
            format!("pass a dim in [{}, {})", -ndim, ndim),
        ));
    }
    let ls: Vec<&Layout> = parts.iter().map(|a| &a.layout).collect();
    Ok(Array::new(cat_layouts(&ls, d as usize)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }

    #[test]
    fn inner_and_deep() {
        let a = arr(vec![vec![vec![1i64], vec![2]], vec![vec![3]]].into());
        let b = arr(vec![vec![vec![4i64, 5], vec![]], vec![vec![6]]].into());
        assert_eq!(
            cat(&[&a, &b], 2).unwrap().to_item(),
            vec![vec![vec![1i64, 4, 5], vec![2]], vec![vec![3, 6]]].into()
        );
        assert_eq!(
            cat(&[&a, &b], -2).unwrap().to_item(),
            vec![
                vec![vec![1i64], vec![2], vec![4, 5], vec![]],
                vec![vec![3], vec![6]]
            ]
            .into()
        );
        assert_eq!(cat(&[&a, &b], 0).unwrap().len(), 4);
        assert_eq!(cat(&[&a, &b], 3).unwrap_err().code(), Code::Argument);
        let short = arr(vec![vec![1i64]].into());
        assert_eq!(cat(&[&a, &short], 1).unwrap_err().code(), Code::Shape);
        let sliced = b.slice(1, 1);
        let a1 = a.slice(0, 1);
        assert_eq!(
            cat(&[&a1, &sliced], 1).unwrap().to_item(),
            vec![vec![vec![1i64], vec![2], vec![6]]].into()
        );
        let n = arr(Item::list(vec![Item::Null, vec![1i64].into()]));
        let m = arr(vec![vec![2i64], vec![3]].into());
        assert_eq!(
            cat(&[&n, &m], 1).unwrap().to_item(),
            Item::list(vec![Item::Null, vec![1i64, 3].into()])
        );
    }
}
