//! Awkward Array's buffers protocol (`ak.to_buffers` / `ak.from_buffers`) ⇄ layouts.
//!
//! Export uses the store's form conventions ([`crate::layout::form`]): keys `node{k}`, buffers
//! `node{k}-{role}`. Import reads any form `ak.to_buffers` commonly produces:
//!
//! | Awkward node                              | grumpy                                           |
//! |-------------------------------------------|--------------------------------------------------|
//! | `NumpyArray` (bool, ints, floats)         | leaf (zero copy); `inner_shape` → regular lists |
//! | `ListOffsetArray` i32/u32/i64             | list (i64 offsets zero copy)                     |
//! | `ListArray`, `RegularArray`               | list (offsets built; gathered when not contiguous) |
//! | `__array__: "string"` lists of `char`     | string leaf (i64 offsets and bytes zero copy)    |
//! | `IndexedOptionArray`, `ByteMaskedArray`, `BitMaskedArray`, `UnmaskedArray` | nulls (LSB bitmaps valid-when-1 zero copy) |
//! | `IndexedArray`                            | rows gathered                                    |
//! | `UnionArray` of one scalar and one list   | union                                            |
//! | `EmptyArray`                              | empty float64 leaf                               |
//! | `RecordArray`, other unions, other dtypes | `Unsupported` error (records → `gr.dataframe`)   |
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_core::interop::awkward::{from_buffers, to_buffers};
//! let a = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let (form, len, bufs) = to_buffers(&a.layout);
//! assert_eq!(form["class"], "ListOffsetArray");
//! let back = from_buffers(&form, len, &bufs).unwrap();
//! assert_eq!(back.to_item(), a.to_item());
//! ```

use super::nulls::{mask_rows, take_with_nulls};
use super::union_of;
use crate::array::validate_offsets;
use crate::buffer::{Bitmap, Buf, Native, StrValues, Values};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::form::layout_buffers;
use crate::layout::{Layout, Leaf, List};
use crate::with_values;
use serde_json::Value;
use std::collections::HashMap;

/// `(form JSON, length, buffers)` for `ak.from_buffers` (leaf buffers shared, not copied).
pub fn to_buffers(layout: &Layout) -> (Value, usize, HashMap<String, Values>) {
    let (form, bufs) = layout_buffers(layout);
    (form.to_json(), layout.len(), bufs)
}

/// Rebuild a layout from `ak.to_buffers` output (see the module docs for what converts).
pub fn from_buffers(
    form: &Value,
    length: usize,
    buffers: &HashMap<String, Values>,
) -> Result<Layout> {
    Reader { buffers }.node(form, length)
}

fn unsupported(what: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        "this Awkward array cannot be converted to a grumpy array",
        what,
        fix,
    )
}

fn bad(cause: impl Into<String>) -> Error {
    Error::new(
        Code::Argument,
        "inconsistent Awkward buffers",
        cause,
        "pass the output of ak.to_buffers(array) unchanged",
    )
}

struct Reader<'a> {
    buffers: &'a HashMap<String, Values>,
}

fn key(v: &Value) -> Result<&str> {
    v["form_key"]
        .as_str()
        .ok_or_else(|| bad(format!("a {} node has no form_key", v["class"])))
}

fn max_plus_one(idx: &[i64]) -> usize {
    idx.iter()
        .copied()
        .max()
        .map_or(0, |m| (m + 1).max(0) as usize)
}

impl Reader<'_> {
    fn buffer(&self, v: &Value, role: &str) -> Result<&Values> {
        let name = format!("{}-{role}", key(v)?);
        self.buffers
            .get(&name)
            .ok_or_else(|| bad(format!("buffer {name:?} is missing")))
    }

    /// An index-like buffer (`i8/u8/i32/u32/i64`) as i64 (shared when already i64), `len` long.
    fn index(&self, v: &Value, role: &str, len: usize) -> Result<Buf<i64>> {
        let b = self.buffer(v, role)?;
        if b.len() < len {
            return Err(bad(format!(
                "{}-{role} has {} entries, {len} needed",
                key(v)?,
                b.len()
            )));
        }
        Ok(match b {
            Values::I64(x) => x.slice(0, len),
            Values::Str(_) | Values::F32(_) | Values::F64(_) | Values::Bool(_) => {
                return Err(bad(format!("{}-{role} is not an integer buffer", key(v)?)))
            }
            other => with_values!(other, x, T => {
                Buf::from_vec(x[..len].iter().map(|e| e.to_i64()).collect())
            }, _s => unreachable!("strings rejected above")),
        })
    }

    fn node(&self, v: &Value, len: usize) -> Result<Layout> {
        let class = v["class"].as_str().unwrap_or("");
        match class {
            "EmptyArray" => {
                if len > 0 {
                    return Err(bad(format!("an EmptyArray cannot have {len} rows")));
                }
                Ok(Layout::Leaf(Leaf::valid(Values::empty(DType::Float64))))
            }
            "NumpyArray" => self.numpy(v, len),
            "ListOffsetArray" => {
                let offsets = self.index(v, "offsets", len + 1)?;
                let n = offsets.last().map_or(0, |&x| x.max(0) as usize);
                let child = self.node(&v["content"], n)?;
                validate_offsets(&offsets, child.len(), 0)?;
                list_or_string(v, offsets, child)
            }
            "ListArray" => {
                let starts = self.index(v, "starts", len)?;
                let stops = self.index(v, "stops", len)?;
                let n = max_plus_one(&stops).saturating_sub(1);
                let child = self.node(&v["content"], n)?;
                let (offsets, child) = ranges_to_offsets(&starts, &stops, &child)?;
                list_or_string(v, offsets, child)
            }
            "RegularArray" => {
                let size = v["size"]
                    .as_u64()
                    .ok_or_else(|| bad("a RegularArray has no size"))? as usize;
                let child = self.node(&v["content"], len * size)?;
                let offsets: Vec<i64> = (0..=len).map(|i| (i * size) as i64).collect();
                list_or_string(v, Buf::from_vec(offsets), child)
            }
            "IndexedOptionArray" | "IndexedArray" => {
                let index = self.index(v, "index", len)?;
                if class == "IndexedArray" && index.iter().any(|&i| i < 0) {
                    return Err(bad("an IndexedArray has a negative index"));
                }
                let content = self.node(&v["content"], max_plus_one(&index))?;
                if index.iter().any(|&i| i >= content.len() as i64) {
                    return Err(bad("an index points past its content"));
                }
                take_with_nulls(&content, &index)
            }
            "ByteMaskedArray" => {
                let mask = self.buffer(v, "mask")?;
                let flags = mask.as_slice::<i8>().map(|m| m.iter().map(|&x| x != 0).collect::<Vec<_>>())
                    .or_else(|| mask.as_slice::<u8>().map(|m| m.iter().map(|&x| x != 0).collect()))
                    .or_else(|| mask.as_slice::<bool>().map(<[bool]>::to_vec))
                    .ok_or_else(|| bad("a ByteMaskedArray mask must be int8"))?;
                if flags.len() < len {
                    return Err(bad("a ByteMaskedArray mask is too short"));
                }
                let when = v["valid_when"].as_bool().unwrap_or(true);
                let valid: Vec<bool> = flags[..len].iter().map(|&f| f == when).collect();
                let content = self.node(&v["content"], len)?;
                mask_rows(&content, Bitmap::from_bools(&valid))
            }
            "BitMaskedArray" => {
                let Values::U8(bytes) = self.buffer(v, "mask")? else {
                    return Err(bad("a BitMaskedArray mask must be uint8"));
                };
                if bytes.len() * 8 < len {
                    return Err(bad("a BitMaskedArray mask is too short"));
                }
                let when = v["valid_when"].as_bool().unwrap_or(true);
                let lsb = v["lsb_order"].as_bool().unwrap_or(true);
                let raw = Bitmap::from_bytes(bytes.clone(), bytes.len() * 8).slice(0, len);
                let valid = if when && lsb {
                    raw
                } else {
                    let bits: Vec<bool> = (0..len)
                        .map(|i| {
                            let bit = if lsb {
                                raw.get(i)
                            } else {
                                bytes[i / 8] >> (7 - i % 8) & 1 == 1
                            };
                            bit == when
                        })
                        .collect();
                    Bitmap::from_bools(&bits)
                };
                let content = self.node(&v["content"], len)?;
                mask_rows(&content, valid)
            }
            "UnmaskedArray" => self.node(&v["content"], len),
            "UnionArray" => self.union(v, len),
            "RecordArray" => Err(unsupported(
                "the array holds records (RecordArray)",
                "convert each field and build a dataframe: gr.dataframe({f: gr.from_awkward(a[f]) for f in a.fields})",
            )),
            other => Err(unsupported(
                format!("Awkward layout {other:?} has no grumpy equivalent"),
                "convert it to lists of numbers or strings first (e.g. ak.to_packed, ak.values_astype)",
            )),
        }
    }

    fn numpy(&self, v: &Value, len: usize) -> Result<Layout> {
        let prim = v["primitive"].as_str().unwrap_or("");
        let dtype = DType::parse(prim)
            .ok()
            .filter(|d| *d != DType::String && (d.name() == prim || prim == "bool"))
            .ok_or_else(|| {
                unsupported(
                    format!("dtype {prim:?} has no grumpy equivalent"),
                    "cast first, e.g. ak.values_astype(a, np.float64)",
                )
            })?;
        let inner: Vec<usize> = v["inner_shape"]
            .as_array()
            .map(|s| s.iter().map(|d| d.as_u64().unwrap_or(0) as usize).collect())
            .unwrap_or_default();
        let per_row: usize = inner.iter().product();
        let data = self.buffer(v, "data")?;
        if data.dtype() != dtype {
            return Err(bad(format!(
                "{}-data holds {}, the form says {prim}",
                key(v)?,
                data.dtype()
            )));
        }
        let total = len * per_row;
        if data.len() < total {
            return Err(bad(format!(
                "{}-data has {} values, {total} needed",
                key(v)?,
                data.len()
            )));
        }
        let mut layout = Layout::Leaf(Leaf::valid(data.slice(0, total)));
        let mut rows = total;
        for &d in inner.iter().rev() {
            rows = rows.checked_div(d).unwrap_or(0);
            let offsets: Vec<i64> = (0..=rows).map(|i| (i * d) as i64).collect();
            layout = Layout::List(List::new(Buf::from_vec(offsets), None, layout));
        }
        Ok(layout)
    }

    fn union(&self, v: &Value, len: usize) -> Result<Layout> {
        let contents = v["contents"].as_array().cloned().unwrap_or_default();
        let Values::I8(tags) = self.buffer(v, "tags")? else {
            return Err(bad("UnionArray tags must be int8"));
        };
        if tags.len() < len {
            return Err(bad("UnionArray tags are too short"));
        }
        let tags = tags.slice(0, len);
        let index = self.index(v, "index", len)?;
        let mut parts = Vec::new();
        for (k, c) in contents.iter().enumerate() {
            let rows: Vec<i64> = (0..len)
                .filter(|&i| tags[i] as usize == k)
                .map(|i| index[i])
                .collect();
            parts.push(self.node(c, max_plus_one(&rows))?);
        }
        let n = parts.len();
        union_of(
            parts,
            &tags,
            |c| usize::try_from(c).ok().filter(|&k| k < n),
            index,
        )
    }
}

/// `starts`/`stops` rows → offsets over a (possibly gathered) child.
fn ranges_to_offsets(starts: &[i64], stops: &[i64], child: &Layout) -> Result<(Buf<i64>, Layout)> {
    let n = starts.len();
    for i in 0..n {
        if starts[i] < 0 || stops[i] < starts[i] || stops[i] as usize > child.len() {
            return Err(bad(format!(
                "ListArray row {i} has starts {} and stops {}",
                starts[i], stops[i]
            )));
        }
    }
    let contiguous = (1..n).all(|i| starts[i] == stops[i - 1]);
    if contiguous {
        let mut o: Vec<i64> = starts.to_vec();
        o.push(stops.last().copied().unwrap_or(0));
        return Ok((Buf::from_vec(o), child.clone()));
    }
    let mut o = Vec::with_capacity(n + 1);
    let mut gather = Vec::new();
    o.push(0i64);
    for i in 0..n {
        gather.extend(starts[i] as usize..stops[i] as usize);
        o.push(gather.len() as i64);
    }
    Ok((Buf::from_vec(o), child.take(&gather)))
}

/// A list node, or a string leaf when the node is `__array__: "string"` over `char` bytes.
fn list_or_string(v: &Value, offsets: Buf<i64>, child: Layout) -> Result<Layout> {
    match v["parameters"]["__array__"].as_str() {
        Some("string") => match child {
            Layout::Leaf(Leaf {
                values: Values::U8(bytes),
                validity: None,
            }) => {
                let o = offsets.as_slice();
                let (lo, hi) = (o[0] as usize, o[o.len() - 1] as usize);
                if std::str::from_utf8(&bytes[lo..hi]).is_err() {
                    return Err(bad("a string is not valid UTF-8"));
                }
                Ok(Layout::Leaf(Leaf::valid(Values::Str(StrValues {
                    offsets,
                    bytes,
                }))))
            }
            _ => Err(bad("a string list must hold uint8 chars")),
        },
        Some("bytestring") => Err(unsupported(
            "the array holds byte strings",
            "decode them to str first",
        )),
        _ => Ok(Layout::List(List::new(offsets, None, child))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Item;
    use serde_json::json;

    #[test]
    fn round_trips_grumpy_forms() {
        let items = [
            Item::list(vec![vec![1i64, 2].into(), Item::Null, Item::list(vec![])]),
            Item::list(vec!["ab".into(), Item::Null]),
            Item::list(vec![1.0.into(), Item::Null, Item::list(vec![2.0.into()])]),
        ];
        for it in items {
            let l = Layout::from_item(&it, None).unwrap();
            let (form, n, bufs) = to_buffers(&l);
            assert_eq!(from_buffers(&form, n, &bufs).unwrap().to_item(), it);
        }
    }

    #[test]
    fn reads_list_arrays_and_options() {
        let bufs: HashMap<String, Values> = [
            ("n0-starts", Values::from(vec![2i32, 0])),
            ("n0-stops", Values::from(vec![3i32, 2])),
            ("n1-index", Values::from(vec![0i64, -1, 1])),
            ("n2-data", Values::from(vec![1.5, 2.5])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let form = json!({"class": "ListArray", "starts": "i32", "stops": "i32", "form_key": "n0",
            "content": {"class": "IndexedOptionArray", "index": "i64", "form_key": "n1",
                "content": {"class": "NumpyArray", "primitive": "float64", "form_key": "n2"}}});
        let l = from_buffers(&form, 2, &bufs).unwrap();
        assert_eq!(
            l.to_item(),
            Item::list(vec![
                Item::list(vec![2.5.into()]),
                Item::list(vec![1.5.into(), Item::Null])
            ])
        );
        let rec = json!({"class": "RecordArray", "contents": [], "form_key": "n0"});
        assert_eq!(
            from_buffers(&rec, 0, &bufs).unwrap_err().code(),
            Code::Unsupported
        );
        let missing = json!({"class": "NumpyArray", "primitive": "int64", "form_key": "zz"});
        assert_eq!(
            from_buffers(&missing, 1, &bufs).unwrap_err().code(),
            Code::Argument
        );
    }
}
