//! The store's group attributes ⇄ [`Meta`]: kind, length, schema, the parts (array or
//! columns) with their forms, and the logical length of every buffer.
//!
//! The root group's attributes are the single source of truth (an append rewrites them last,
//! so readers see the old or the new rows, never a mix); column sub-groups repeat their own
//! `form` and `length` for `ak.from_buffers`:
//!
//! ```text
//!   array:      {"grumpy": {format, kind: "array", version, length, dtype, layout, schema: null,
//!                           codec, buffers: {path: len}, regular: {path: step}},
//!                "form": {...}, "length": N}
//!   dataframe:  {"grumpy": {format, kind: "dataframe", version, length, schema: [...], codec,
//!                           buffers: {path: len}, regular: {path: step},
//!                           columns: [{name, level, dtype, layout, form}]},
//!                "length": N}
//!   column:     {"grumpy": {format, kind: "column", name, level, dtype, layout}, "form", "length"}
//! ```
//!
//! `regular` names the offsets buffers whose rows all have `step` elements (xyz triples,
//! fixed-size embeddings). The buffer is still written, for zarr-python and Awkward; grumpy's
//! reader builds those offsets from the step instead of reading and checking them, after
//! checking the step against the recorded lengths (`(len - 1) * step` must be the length of
//! what the offsets point into).
//!
//! ```
//! use grumpy_core::Array;
//! use grumpy_zarr::{group::Data, meta::Meta};
//! let a = Array::from_item(&vec![vec![1.0], vec![]].into(), None).unwrap();
//! let (meta, _bufs) = Meta::split(&Data::Array(a), "zstd").unwrap();
//! let back = Meta::parse(&meta.root_attrs()).unwrap();
//! assert_eq!(back.length, 2);
//! assert_eq!(back.parts, meta.parts);
//! ```

use crate::error::{store_error, Error, Result};
use crate::form::{BufferSpec, Role};
use crate::group::{check_column_name, Data, Part};
use crate::read::FORMAT_VERSION;
use crate::write::layout_buffers;
use grumpy_core::buffer::{arithmetic_step, Values};
use grumpy_core::Frame;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Parsed store attributes (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// `"array"` or `"dataframe"`.
    pub kind: String,
    /// Outer rows.
    pub length: usize,
    /// Schema level names (dataframes; empty for arrays).
    pub schema: Vec<String>,
    /// One part for an array, one per column (in column order) for a dataframe.
    pub parts: Vec<Part>,
    /// Logical length of every buffer, by Zarr path.
    pub lens: BTreeMap<String, usize>,
    /// Codec name (`"zstd"`, `"gzip:9"`, `"none"`, ...).
    pub codec: String,
    /// Offsets buffers (by path) whose rows all have the same length: that length.
    pub regular: BTreeMap<String, i64>,
}

/// `Some(step)` when `o` (offsets starting at 0, at least one row) rises by the same
/// non-negative step at every row.
///
/// ```
/// use grumpy_zarr::meta::regular_step;
/// assert_eq!(regular_step(&[0, 3, 6]), Some(3));
/// assert_eq!(regular_step(&[0, 3, 5]), None);
/// assert_eq!(regular_step(&[0]), None);
/// ```
pub fn regular_step(o: &[i64]) -> Option<i64> {
    arithmetic_step(o).filter(|&step| o[0] == 0 && step >= 0)
}

fn bad(summary: impl Into<String>, cause: impl Into<String>) -> Error {
    store_error(
        summary,
        cause,
        "the store is damaged or was modified by another tool; save the data again with gr.save",
    )
}

impl Meta {
    /// True for a dataframe store.
    pub fn is_frame(&self) -> bool {
        self.kind == "dataframe"
    }

    /// Every buffer of every part, named by path, each shared buffer once.
    pub fn specs(&self) -> Vec<BufferSpec> {
        let mut seen = std::collections::HashSet::new();
        self.parts
            .iter()
            .flat_map(Part::specs)
            .filter(|s| seen.insert(s.name.clone()))
            .collect()
    }

    /// Split `data` into its metadata and buffers (by path), ready to write.
    pub fn split(data: &Data, codec: &str) -> Result<(Meta, HashMap<String, Values>)> {
        let mut bufs = HashMap::new();
        let mut parts = Vec::new();
        let schema = match data {
            Data::Array(a) => {
                let (form, b) = layout_buffers(&a.layout);
                let part = Part {
                    column: None,
                    level: 0,
                    form,
                };
                bufs.extend(b);
                parts.push(part);
                Vec::new()
            }
            Data::Frame(f) => {
                for c in f.columns() {
                    check_column_name(&c.name)?;
                    let (form, b) = layout_buffers(&c.array.layout);
                    let part = Part {
                        column: Some(c.name.clone()),
                        level: c.level,
                        form,
                    };
                    for s in part.form.buffers() {
                        if let Some(v) = b.get(&s.name) {
                            bufs.entry(part.path(s.id, s.role))
                                .or_insert_with(|| v.clone());
                        }
                    }
                    parts.push(part);
                }
                f.schema().to_vec()
            }
        };
        let mut meta = Meta {
            kind: data.kind().into(),
            length: data.len(),
            schema,
            parts,
            lens: BTreeMap::new(),
            codec: codec.into(),
            regular: BTreeMap::new(),
        };
        let specs = meta.specs();
        meta.lens = specs
            .iter()
            .map(|s| (s.name.clone(), bufs.get(&s.name).map_or(0, Values::len)))
            .collect();
        meta.regular = specs
            .iter()
            .filter(|s| s.role == Role::Offsets)
            .filter_map(|s| {
                let o = bufs.get(&s.name)?.as_slice::<i64>()?;
                Some((s.name.clone(), regular_step(o)?))
            })
            .collect();
        Ok((meta, bufs))
    }

    /// The root group's attributes.
    pub fn root_attrs(&self) -> Map<String, Value> {
        let mut g = json!({
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "version": env!("CARGO_PKG_VERSION"),
            "length": self.length,
            "codec": self.codec,
            "buffers": self.lens,
        });
        if !self.regular.is_empty() {
            g["regular"] = json!(self.regular);
        }
        let mut attrs = Map::new();
        if self.is_frame() {
            g["schema"] = json!(self.schema);
            g["columns"] = self
                .parts
                .iter()
                .map(|p| {
                    json!({"name": p.column, "level": p.level, "dtype": p.form.dtype().name(),
                           "layout": p.form.kind(), "form": p.form_json()})
                })
                .collect();
        } else {
            let form = &self.parts[0].form;
            g["schema"] = Value::Null;
            g["dtype"] = json!(form.dtype().name());
            g["layout"] = json!(form.kind());
            attrs.insert("form".into(), form.to_json());
        }
        attrs.insert("grumpy".into(), g);
        attrs.insert("length".into(), json!(self.length));
        attrs
    }

    /// The attributes of a column's sub-group (for `ak.from_buffers`; readers use the root's).
    pub fn column_attrs(&self, part: &Part) -> Map<String, Value> {
        let mut attrs = Map::new();
        attrs.insert(
            "grumpy".into(),
            json!({"format": FORMAT_VERSION, "kind": "column", "name": part.column,
                   "level": part.level, "dtype": part.form.dtype().name(),
                   "layout": part.form.kind()}),
        );
        attrs.insert("form".into(), part.form_json());
        attrs.insert("length".into(), json!(self.length));
        attrs
    }

    /// Parse and validate root attributes (format version checked by the caller).
    pub fn parse(attrs: &Map<String, Value>) -> Result<Meta> {
        // `Map[...]` panics on a missing key: a store without "grumpy" is an error, not a panic.
        let g = attrs.get("grumpy").unwrap_or(&Value::Null);
        let kind = g["kind"].as_str().unwrap_or("").to_owned();
        let length = g["length"]
            .as_u64()
            .filter(|&n| attrs.get("length").and_then(Value::as_u64) == Some(n))
            .ok_or_else(|| {
                bad(
                    "the store's length is missing or inconsistent",
                    "attributes \"length\" and grumpy.length must be equal integers",
                )
            })? as usize;
        let (schema, parts) = match kind.as_str() {
            "array" => {
                let form = crate::form::from_json(attrs.get("form").unwrap_or(&Value::Null))?;
                let part = Part {
                    column: None,
                    level: 0,
                    form,
                };
                (Vec::new(), vec![part])
            }
            "dataframe" => parse_frame(g)?,
            other => {
                return Err(bad(
                    format!("unknown kind of grumpy store {other:?}"),
                    "grumpy.kind must be \"array\" or \"dataframe\"",
                ))
            }
        };
        let lens: BTreeMap<String, usize> = match g["buffers"].as_object() {
            Some(m) => m
                .iter()
                .map(|(k, v)| {
                    let n = v.as_u64().ok_or_else(|| {
                        bad(
                            format!("buffer {k} has no recorded length"),
                            format!("grumpy.buffers[{k:?}] = {v}"),
                        )
                    })?;
                    Ok((k.clone(), n as usize))
                })
                .collect::<Result<_>>()?,
            None => {
                return Err(bad(
                    "grumpy.buffers is missing",
                    "no buffer lengths recorded",
                ))
            }
        };
        let regular = parse_regular(g, &lens)?;
        let meta = Meta {
            kind,
            length,
            schema,
            parts,
            lens,
            codec: g["codec"].as_str().unwrap_or("zstd").to_owned(),
            regular,
        };
        meta.check_buffers()?;
        Ok(meta)
    }

    /// The recorded buffers must be exactly the form's: a form edited to drop a mask (or a
    /// buffer list edited to drop one) would otherwise read wrong data silently.
    fn check_buffers(&self) -> Result<()> {
        let want: std::collections::BTreeSet<String> =
            self.specs().into_iter().map(|s| s.name).collect();
        let have: std::collections::BTreeSet<String> = self.lens.keys().cloned().collect();
        if want != have {
            let missing: Vec<&String> = want.difference(&have).collect();
            let extra: Vec<&String> = have.difference(&want).collect();
            return Err(bad(
                "the store's form and buffer list disagree",
                format!("the form needs {missing:?} (not recorded); recorded but not in the form: {extra:?}"),
            ));
        }
        Ok(())
    }

    /// Number of rows of node `id` of `part` (from the recorded lengths).
    pub fn node_rows(&self, part: &Part, id: usize) -> usize {
        if id == 0 {
            return self.length;
        }
        let len = |role: Role| self.lens.get(&part.path(id, role)).copied();
        if let Some(n) = len(Role::Tags) {
            return n;
        }
        if let Some(n) = len(Role::Offsets) {
            return n.saturating_sub(1);
        }
        len(Role::Data).unwrap_or(0)
    }
}

/// `grumpy.regular` (absent in stores without regular levels): every entry must name a
/// recorded offsets buffer with a non-negative step (the step is checked against the lengths by
/// the reader, which knows what each buffer points into).
fn parse_regular(g: &Value, lens: &BTreeMap<String, usize>) -> Result<BTreeMap<String, i64>> {
    let Some(m) = g.get("regular").filter(|v| !v.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let m = m
        .as_object()
        .ok_or_else(|| bad("grumpy.regular is not a mapping", format!("{m}")))?;
    m.iter()
        .map(|(k, v)| {
            let step = v.as_i64().filter(|s| *s >= 0);
            match step {
                Some(s) if k.ends_with("-offsets") && lens.contains_key(k) => Ok((k.clone(), s)),
                _ => Err(bad(
                    format!("grumpy.regular[{k:?}] is not valid"),
                    format!("{k:?}: {v} must name a recorded offsets buffer with a step >= 0"),
                )),
            }
        })
        .collect()
}

fn parse_frame(g: &Value) -> Result<(Vec<String>, Vec<Part>)> {
    let schema: Vec<String> = g["schema"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .ok_or_else(|| {
            bad(
                "a dataframe store has no schema",
                "grumpy.schema is missing",
            )
        })?;
    let cols = g["columns"].as_array().ok_or_else(|| {
        bad(
            "a dataframe store has no columns",
            "grumpy.columns is missing",
        )
    })?;
    let mut parts = Vec::with_capacity(cols.len());
    for c in cols {
        let name = c["name"]
            .as_str()
            .ok_or_else(|| bad("a column has no name", format!("{c}")))?;
        // A name like "../x" would address buffers outside the store.
        check_column_name(name).map_err(|e| bad(e.summary().to_owned(), e.cause().to_owned()))?;
        let level = c["level"]
            .as_u64()
            .filter(|&l| (l as usize) < schema.len())
            .ok_or_else(|| bad(format!("column {name:?} has a bad level"), format!("{c}")))?
            as usize;
        let form = Part::parse_form(&c["form"], level)?;
        parts.push(Part {
            column: Some(name.to_owned()),
            level,
            form,
        });
    }
    Ok((schema, parts))
}

/// The frame's columns as `(name, level)` pairs (used to check appends).
pub(crate) fn frame_columns(f: &Frame) -> Vec<(String, usize)> {
    f.columns()
        .iter()
        .map(|c| (c.name.clone(), c.level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use grumpy_core::Array;

    fn xyz_rows() -> Data {
        let rows: Vec<Vec<Vec<f64>>> = vec![vec![vec![1.0; 3]; 2], vec![], vec![vec![2.0; 3]]];
        Data::Array(Array::from_item(&rows.into(), None).unwrap())
    }

    #[test]
    fn split_records_regular_levels_and_parse_reads_them_back() {
        let (meta, _) = Meta::split(&xyz_rows(), "zstd").unwrap();
        assert_eq!(meta.regular, BTreeMap::from([("node1-offsets".into(), 3)]));
        let back = Meta::parse(&meta.root_attrs()).unwrap();
        assert_eq!(back.regular, meta.regular);
    }

    #[test]
    fn regular_step_needs_one_even_non_negative_step_from_zero() {
        assert_eq!(regular_step(&[0, 0, 0]), Some(0));
        assert_eq!(regular_step(&[0, 2, 4, 6]), Some(2));
        assert_eq!(regular_step(&[1, 3, 5]), None);
        assert_eq!(regular_step(&[0, 2, 4, 7]), None);
        assert_eq!(regular_step(&[0, -2, -4]), None);
        assert_eq!(regular_step(&[]), None);
    }

    #[test]
    fn bad_regular_records_are_store_errors() {
        let (meta, _) = Meta::split(&xyz_rows(), "zstd").unwrap();
        for bad in [
            json!({"node1-offsets": -1}),
            json!({"node1-offsets": "3"}),
            json!({"node1-data": 3}),
            json!({"node7-offsets": 3}),
            json!([3]),
        ] {
            let mut attrs = meta.root_attrs();
            attrs.get_mut("grumpy").unwrap()["regular"] = bad.clone();
            let e = Meta::parse(&attrs).unwrap_err();
            assert_eq!(e.code(), grumpy_core::Code::Store, "{bad}");
        }
    }
}
