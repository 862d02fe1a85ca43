//! Awkward form JSON ⇄ grumpy's layout tree: the naming used by stores (grumpy-zarr) and by
//! `to_awkward` (the buffers protocol of `ak.from_buffers`).
//!
//! Every grumpy node (leaf, list, union) gets one form key `node{k}` (pre-order); its buffers
//! are `node{k}-{role}` with roles `data`, `offsets`, `mask`, `tags`, `index`:
//!
//! ```text
//!   List (nullable)          BitMaskedArray   node0-mask  ┐ same key: the mask wraps the node
//!    └ Leaf f64              └ ListOffsetArray node0-offsets
//!                               └ NumpyArray  node1-data  (float64)
//! ```
//! A string leaf is a `ListOffsetArray` (`__array__: "string"`) over `uint8` (`__array__:
//! "char"`), as Awkward and Arrow store them. Awkward requires the contents of a union to be all
//! option types or none: when only one content has a mask, the other is wrapped in an
//! `UnmaskedArray` (no buffers, same key).
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_core::layout::form::Form;
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let f = Form::from_layout(&a.layout);
//! let json = f.to_json();
//! assert_eq!(json["class"], "ListOffsetArray");
//! assert_eq!(Form::from_json(&json).unwrap(), f);
//! assert_eq!(f.buffers().iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["node0-offsets", "node1-data"]);
//! ```

use crate::buffer::{Buf, Values};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::Layout;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One node of a stored layout (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// Leaf values (`nodeK-data`; strings also `nodeK-offsets`).
    Leaf {
        /// Form key number.
        id: usize,
        /// Element dtype.
        dtype: DType,
        /// Has a validity mask (`nodeK-mask`).
        masked: bool,
    },
    /// Lists (`nodeK-offsets`).
    List {
        /// Form key number.
        id: usize,
        /// Has a validity mask (`nodeK-mask`).
        masked: bool,
        /// The list contents.
        child: Box<Form>,
    },
    /// Scalar-or-list rows (`nodeK-tags`, `nodeK-index`).
    Union {
        /// Form key number.
        id: usize,
        /// Content 0 (a leaf).
        scalar: Box<Form>,
        /// Content 1 (a list).
        list: Box<Form>,
    },
}

/// What a buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Leaf values (or string bytes).
    Data,
    /// `i64` offsets, n+1 entries.
    Offsets,
    /// Validity bits, `uint8`, LSB first.
    Mask,
    /// Union tags, `i8`.
    Tags,
    /// Union index, `i64`.
    Index,
}

impl Role {
    /// The role's name in buffer keys.
    pub fn name(self) -> &'static str {
        match self {
            Role::Data => "data",
            Role::Offsets => "offsets",
            Role::Mask => "mask",
            Role::Tags => "tags",
            Role::Index => "index",
        }
    }
}

/// One stored buffer: name, role, element dtype and the nesting depth of its node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferSpec {
    /// `node{k}-{role}`.
    pub name: String,
    /// Node number.
    pub id: usize,
    /// Role.
    pub role: Role,
    /// Element dtype of the Zarr array.
    pub dtype: DType,
    /// Depth of the rows this buffer describes (0 = outer rows); data of lists is one deeper.
    pub depth: usize,
}

/// Name of a buffer.
pub fn buffer_name(id: usize, role: Role) -> String {
    format!("node{id}-{}", role.name())
}

fn bad_form(cause: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        "the form is not one grumpy writes",
        cause,
        "read forms written by grumpy (gr.save); convert other Awkward arrays with gr.from_awkward",
    )
}

impl Form {
    /// The form of a layout (form keys in pre-order; masks where validity is present).
    pub fn from_layout(layout: &Layout) -> Form {
        let mut next = 0;
        Self::build(layout, &mut next)
    }

    fn build(layout: &Layout, next: &mut usize) -> Form {
        let id = *next;
        *next += 1;
        match layout {
            Layout::Leaf(l) => Form::Leaf {
                id,
                dtype: l.values.dtype(),
                masked: l.validity.is_some(),
            },
            Layout::List(l) => Form::List {
                id,
                masked: l.validity.is_some(),
                child: Box::new(Self::build(&l.child, next)),
            },
            Layout::Union(u) => Form::Union {
                id,
                scalar: Box::new(Self::build(&u.scalar, next)),
                list: Box::new(Self::build(&u.list, next)),
            },
        }
    }

    /// Node number of this node.
    pub fn id(&self) -> usize {
        match self {
            Form::Leaf { id, .. } | Form::List { id, .. } | Form::Union { id, .. } => *id,
        }
    }

    /// Number of dimensions of the arrays of this form (like [`Layout::ndim`]): 1 for a leaf,
    /// one more per list level, a union counts as its list side.
    ///
    /// ```
    /// use grumpy_core::{layout::form::Form, Array};
    /// let a = Array::from_item(&vec![vec![vec![1.0, 2.0]], vec![]].into(), None).unwrap();
    /// assert_eq!(Form::from_layout(&a.layout).ndim(), a.ndim());
    /// ```
    pub fn ndim(&self) -> usize {
        match self {
            Form::Leaf { .. } => 1,
            Form::List { child, .. } => 1 + child.ndim(),
            Form::Union { list, .. } => list.ndim(),
        }
    }

    /// Leaf dtype.
    pub fn dtype(&self) -> DType {
        match self {
            Form::Leaf { dtype, .. } => *dtype,
            Form::List { child, .. } => child.dtype(),
            Form::Union { scalar, .. } => scalar.dtype(),
        }
    }

    /// `"leaf"`, `"list"` or `"union"` (like `Layout::kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Form::Leaf { .. } => "leaf",
            Form::List { child, .. } => match child.kind() {
                "union" => "union",
                _ => "list",
            },
            Form::Union { .. } => "union",
        }
    }

    /// Same structure and dtype (masks ignored): what `append` requires.
    pub fn same_shape(&self, other: &Form) -> bool {
        match (self, other) {
            (Form::Leaf { dtype: a, .. }, Form::Leaf { dtype: b, .. }) => a == b,
            (Form::List { child: a, .. }, Form::List { child: b, .. }) => a.same_shape(b),
            (
                Form::Union {
                    scalar: s1,
                    list: l1,
                    ..
                },
                Form::Union {
                    scalar: s2,
                    list: l2,
                    ..
                },
            ) => s1.same_shape(s2) && l1.same_shape(l2),
            _ => false,
        }
    }

    /// A short structural description, e.g. `list<list<float64>>`.
    pub fn describe(&self) -> String {
        match self {
            Form::Leaf { dtype, masked, .. } => {
                format!("{}{}", if *masked { "?" } else { "" }, dtype.name())
            }
            Form::List { masked, child, .. } => {
                format!(
                    "{}list<{}>",
                    if *masked { "?" } else { "" },
                    child.describe()
                )
            }
            Form::Union { scalar, list, .. } => {
                format!("union<{}, {}>", scalar.describe(), list.describe())
            }
        }
    }

    /// Every buffer of the tree, in pre-order.
    pub fn buffers(&self) -> Vec<BufferSpec> {
        let mut out = Vec::new();
        self.collect(0, &mut out);
        out
    }

    fn collect(&self, depth: usize, out: &mut Vec<BufferSpec>) {
        let mut push = |id: usize, role: Role, dtype: DType, depth: usize| {
            out.push(BufferSpec {
                name: buffer_name(id, role),
                id,
                role,
                dtype,
                depth,
            })
        };
        match self {
            Form::Leaf { id, dtype, masked } => {
                if *dtype == DType::String {
                    push(*id, Role::Offsets, DType::Int64, depth);
                    push(*id, Role::Data, DType::UInt8, depth + 1);
                } else {
                    push(*id, Role::Data, *dtype, depth);
                }
                if *masked {
                    push(*id, Role::Mask, DType::UInt8, depth);
                }
            }
            Form::List { id, masked, child } => {
                push(*id, Role::Offsets, DType::Int64, depth);
                if *masked {
                    push(*id, Role::Mask, DType::UInt8, depth);
                }
                child.collect(depth + 1, out);
            }
            Form::Union { id, scalar, list } => {
                push(*id, Role::Tags, DType::Int8, depth);
                push(*id, Role::Index, DType::Int64, depth);
                scalar.collect(depth, out);
                list.collect(depth, out);
            }
        }
    }

    /// Awkward form JSON.
    pub fn to_json(&self) -> Value {
        let key = |id: usize| format!("node{id}");
        let (inner, masked, id) = match self {
            Form::Leaf { id, dtype, masked } => {
                let v = if *dtype == DType::String {
                    json!({"class": "ListOffsetArray", "offsets": "i64",
                        "content": {"class": "NumpyArray", "primitive": "uint8", "inner_shape": [],
                                    "parameters": {"__array__": "char"}, "form_key": key(*id)},
                        "parameters": {"__array__": "string"}, "form_key": key(*id)})
                } else {
                    json!({"class": "NumpyArray", "primitive": dtype.name(), "inner_shape": [],
                        "parameters": {}, "form_key": key(*id)})
                };
                (v, *masked, *id)
            }
            Form::List { id, masked, child } => (
                json!({"class": "ListOffsetArray", "offsets": "i64", "content": child.to_json(),
                    "parameters": {}, "form_key": key(*id)}),
                *masked,
                *id,
            ),
            Form::Union { id, scalar, list } => (
                json!({"class": "UnionArray", "tags": "i8", "index": "i64",
                    "contents": [scalar.option_json(list), list.option_json(scalar)],
                    "parameters": {}, "form_key": key(*id)}),
                false,
                *id,
            ),
        };
        if masked {
            json!({"class": "BitMaskedArray", "mask": "u8", "valid_when": true, "lsb_order": true,
                "content": inner, "parameters": {}, "form_key": key(id)})
        } else {
            inner
        }
    }

    /// Whether the node carries a validity mask.
    pub fn masked(&self) -> bool {
        match self {
            Form::Leaf { masked, .. } | Form::List { masked, .. } => *masked,
            Form::Union { .. } => false,
        }
    }

    /// JSON of a union content: wrapped in `UnmaskedArray` when it has no mask but its sibling
    /// has one (Awkward wants all union contents optional, or none).
    fn option_json(&self, sibling: &Form) -> Value {
        let inner = self.to_json();
        if self.masked() || !sibling.masked() {
            return inner;
        }
        json!({"class": "UnmaskedArray", "content": inner, "parameters": {},
            "form_key": format!("node{}", self.id())})
    }

    /// Parse Awkward form JSON written by [`Form::to_json`] (strictly: other forms → error).
    pub fn from_json(v: &Value) -> Result<Form> {
        Self::parse(v, false)
    }

    fn parse(v: &Value, masked: bool) -> Result<Form> {
        let class = v["class"]
            .as_str()
            .ok_or_else(|| bad_form(format!("a form node has no \"class\": {v}")))?;
        let id = parse_key(v)?;
        let params = &v["parameters"];
        match class {
            "BitMaskedArray" => {
                if masked {
                    return Err(bad_form("nested BitMaskedArray"));
                }
                let ok = v["mask"] == "u8" && v["valid_when"] == true && v["lsb_order"] == true;
                if !ok {
                    return Err(bad_form(
                        "BitMaskedArray must have mask u8, valid_when true, lsb_order true",
                    ));
                }
                let inner = Self::parse(&v["content"], true)?;
                if inner.id() != id || matches!(inner, Form::Union { .. }) {
                    return Err(bad_form(
                        "BitMaskedArray must wrap a list or leaf of its key",
                    ));
                }
                Ok(inner)
            }
            "UnmaskedArray" => {
                let inner = Self::parse(&v["content"], false)?;
                if masked || inner.id() != id || matches!(inner, Form::Union { .. }) {
                    return Err(bad_form(
                        "UnmaskedArray must wrap an unmasked list or leaf of its key",
                    ));
                }
                Ok(inner)
            }
            "NumpyArray" => {
                let p = v["primitive"].as_str().unwrap_or("");
                let dtype = DType::parse(p)
                    .ok()
                    .filter(|d| *d != DType::String && d.name() == p)
                    .ok_or_else(|| bad_form(format!("unknown primitive {p:?}")))?;
                Ok(Form::Leaf { id, dtype, masked })
            }
            "ListOffsetArray" => {
                if v["offsets"] != "i64" {
                    return Err(bad_form("ListOffsetArray offsets must be i64"));
                }
                if params["__array__"] == "string" {
                    let c = &v["content"];
                    let ok = c["class"] == "NumpyArray"
                        && c["primitive"] == "uint8"
                        && c["parameters"]["__array__"] == "char"
                        && parse_key(c)? == id;
                    if !ok {
                        return Err(bad_form("a string list must hold uint8 chars of its key"));
                    }
                    return Ok(Form::Leaf {
                        id,
                        dtype: DType::String,
                        masked,
                    });
                }
                let child = Box::new(Self::parse(&v["content"], false)?);
                Ok(Form::List { id, masked, child })
            }
            "UnionArray" => {
                if v["tags"] != "i8" || v["index"] != "i64" {
                    return Err(bad_form("UnionArray needs tags i8 and index i64"));
                }
                let contents = v["contents"]
                    .as_array()
                    .filter(|c| c.len() == 2)
                    .ok_or_else(|| bad_form("UnionArray must have two contents"))?;
                let scalar = Self::parse(&contents[0], false)?;
                let list = Self::parse(&contents[1], false)?;
                if !matches!(scalar, Form::Leaf { .. }) || !matches!(list, Form::List { .. }) {
                    return Err(bad_form("UnionArray contents must be [leaf, list]"));
                }
                Ok(Form::Union {
                    id,
                    scalar: Box::new(scalar),
                    list: Box::new(list),
                })
            }
            other => Err(bad_form(format!("unsupported form class {other:?}"))),
        }
    }
}

/// Split a layout into its form and named buffers (`node{k}-{role}` → values). The layout is
/// compacted first (offsets start at 0); leaf values are shared, not copied.
///
/// ```
/// use grumpy_core::Array;
/// use grumpy_core::layout::form::layout_buffers;
/// let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
/// let (form, bufs) = layout_buffers(&a.layout);
/// assert_eq!(form.describe(), "list<float64>");
/// assert_eq!(bufs["node0-offsets"].as_slice::<i64>().unwrap(), &[0, 2, 3]);
/// ```
pub fn layout_buffers(layout: &Layout) -> (Form, HashMap<String, Values>) {
    let layout = layout.compact();
    let form = Form::from_layout(&layout);
    let mut out = HashMap::new();
    collect(&layout, &form, &mut out);
    (form, out)
}

fn collect(layout: &Layout, form: &Form, out: &mut HashMap<String, Values>) {
    use buffer_name as name;
    let id = form.id();
    if let Some(v) = layout.validity() {
        out.insert(name(id, Role::Mask), Values::U8(v.to_packed()));
    }
    match (layout, form) {
        (Layout::Leaf(l), _) => match &l.values {
            Values::Str(s) => {
                let o = s.offsets.as_slice();
                let (lo, hi) = (o[0], o[o.len() - 1]);
                let offsets = if lo == 0 {
                    s.offsets.clone()
                } else {
                    Buf::from_vec(o.iter().map(|x| x - lo).collect())
                };
                out.insert(name(id, Role::Offsets), Values::I64(offsets));
                let bytes = s.bytes.slice(lo as usize, (hi - lo) as usize);
                out.insert(name(id, Role::Data), Values::U8(bytes));
            }
            v => {
                out.insert(name(id, Role::Data), v.clone());
            }
        },
        (Layout::List(l), Form::List { child, .. }) => {
            out.insert(name(id, Role::Offsets), Values::I64(l.offsets.clone()));
            collect(&l.child, child, out);
        }
        (Layout::Union(u), Form::Union { scalar, list, .. }) => {
            out.insert(name(id, Role::Tags), Values::I8(u.tags.clone()));
            out.insert(name(id, Role::Index), Values::I64(u.index.clone()));
            collect(&u.scalar, scalar, out);
            collect(&u.list, list, out);
        }
        _ => unreachable!("form built from this layout"),
    }
}

fn parse_key(v: &Value) -> Result<usize> {
    v["form_key"]
        .as_str()
        .and_then(|k| k.strip_prefix("node"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad_form(format!("form key {} is not node<N>", v["form_key"])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;

    fn form_of(item: Item) -> Form {
        Form::from_layout(&Layout::from_item(&item, None).unwrap())
    }

    #[test]
    fn round_trips_union_strings_masks() {
        let u = form_of(Item::list(vec![
            1.0.into(),
            Item::list(vec![2.0.into(), Item::Null]),
        ]));
        assert_eq!(u.kind(), "union");
        assert_eq!(Form::from_json(&u.to_json()).unwrap(), u);
        // A null scalar row masks content 0 only: content 1 is wrapped in UnmaskedArray.
        let n = form_of(Item::list(vec![
            1.0.into(),
            Item::Null,
            Item::list(vec![2.0.into()]),
        ]));
        let j = n.to_json();
        assert_eq!(j["contents"][0]["class"], "BitMaskedArray");
        assert_eq!(j["contents"][1]["class"], "UnmaskedArray");
        assert_eq!(Form::from_json(&j).unwrap(), n);
        let s = form_of(Item::list(vec![Item::list(vec!["ab".into()]), Item::Null]));
        let j = s.to_json();
        assert_eq!(j["class"], "BitMaskedArray");
        assert_eq!(j["content"]["content"]["parameters"]["__array__"], "string");
        assert_eq!(Form::from_json(&j).unwrap(), s);
    }

    #[test]
    fn rejects_foreign_forms() {
        for bad in [
            json!({"class": "RecordArray", "form_key": "node0"}),
            json!({"class": "NumpyArray", "primitive": "complex64", "form_key": "node0"}),
            json!({"class": "NumpyArray", "primitive": "int64", "form_key": "x"}),
            json!({"class": "ListOffsetArray", "offsets": "i32", "form_key": "node0"}),
        ] {
            let e = Form::from_json(&bad).unwrap_err();
            assert_eq!(e.code(), Code::Unsupported);
        }
    }
}
