//! Conversions between grumpy layouts and other libraries' memory layouts: Awkward's buffers
//! protocol ([`awkward`]), Arrow's C Data Interface ([`arrow`], feature `arrow`), and the
//! shared handling of other libraries' null conventions ([`nulls`]). Padding to dense blocks
//! (for NumPy / torch) is a kernel: [`crate::kernels::pad`].

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod awkward;
pub mod nulls;

use crate::buffer::Buf;
use crate::dtype::{promote, DType};
use crate::error::{Code, Error, Result};
use crate::kernels::cast::cast_layout;
use crate::layout::{Layout, Union};

/// A grumpy union from another library's union of `parts`: row `i` is row `index[i]` of part
/// `part_of(codes[i])`. Exactly one part must be scalar (a leaf) and one a list; their dtypes
/// are promoted to a common one. The tags buffer is shared when `codes` already are 0 = scalar,
/// 1 = list.
///
/// ```
/// use grumpy_core::buffer::Buf;
/// use grumpy_core::interop::union_of;
/// use grumpy_core::layout::{Item, Layout};
/// let list = Layout::from_item(&vec![vec![2.0, 3.0]].into(), None).unwrap();
/// let scalar = Layout::from_item(&vec![1.0].into(), None).unwrap();
/// let u = union_of(vec![list, scalar], &Buf::from_vec(vec![1i8, 0]), |c| Some(c as usize),
///                  Buf::from_vec(vec![0, 0])).unwrap();
/// assert_eq!(u.to_item(), Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]));
/// ```
pub fn union_of(
    parts: Vec<Layout>,
    codes: &Buf<i8>,
    part_of: impl Fn(i8) -> Option<usize>,
    index: Buf<i64>,
) -> Result<Layout> {
    let unsupported = |cause: String| {
        Error::new(
            Code::Unsupported,
            "this union cannot be converted to a grumpy array",
            cause,
            "grumpy unions hold one scalar type and one list type; convert the rows to lists first",
        )
    };
    let is_list = |p: &Layout| matches!(p, Layout::List(_));
    if parts.len() != 2 || parts.iter().any(|p| matches!(p, Layout::Union(_))) {
        return Err(unsupported(format!(
            "the union has {} contents",
            parts.len()
        )));
    }
    let l = match (is_list(&parts[0]), is_list(&parts[1])) {
        (false, true) => 1,
        (true, false) => 0,
        _ => {
            return Err(unsupported(
                "both contents are lists, or both scalars".into(),
            ))
        }
    };
    let mut parts = parts;
    let mut list = parts.remove(l);
    let mut scalar = parts.remove(0);
    let (ds, dl) = (scalar.dtype(), list.dtype());
    if ds != dl {
        if ds == DType::String || dl == DType::String {
            return Err(unsupported("the union mixes strings and numbers".into()));
        }
        let d = promote(ds, dl);
        scalar = cast_layout(&scalar, d)?;
        list = cast_layout(&list, d)?;
    }
    let mut tags = Vec::with_capacity(codes.len());
    for (i, &c) in codes.iter().enumerate() {
        let p =
            part_of(c).ok_or_else(|| unsupported(format!("row {i} has unknown type code {c}")))?;
        let t = i8::from(p == l);
        let size = if t == 0 { scalar.len() } else { list.len() };
        if index[i] < 0 || index[i] as usize >= size {
            return Err(Error::new(
                Code::Argument,
                "invalid union",
                format!(
                    "row {i} points at row {} of a content of {size} rows",
                    index[i]
                ),
                "pass a valid array",
            ));
        }
        tags.push(t);
    }
    let tags = if tags.as_slice() == codes.as_slice() {
        codes.clone()
    } else {
        Buf::from_vec(tags)
    };
    Ok(Layout::Union(Union {
        tags,
        index,
        scalar: std::sync::Arc::new(scalar),
        list: std::sync::Arc::new(list),
    }))
}
