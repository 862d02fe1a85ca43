//! The store's group attributes ⇄ [`Meta`]: kind, length, schema, the parts (array or
//! columns) with their forms, and the logical length of every buffer.
//!
//! The root group's attributes are the single source of truth (an append rewrites them last,
//! so readers see the old or the new rows, never a mix); column sub-groups repeat their own
//! `form` and `length` for `ak.from_buffers`:
//!
//! ```text
//!   array:      {"grumpy": {format, kind: "array", version, length, dtype, layout, schema: null,
//!                           codec, buffers: {path: len}}, "form": {...}, "length": N}
//!   dataframe:  {"grumpy": {format, kind: "dataframe", version, length, schema: [...], codec,
//!                           buffers: {path: len}, columns: [{name, level, dtype, layout, form}]},
//!                "length": N}
//!   column:     {"grumpy": {format, kind: "column", name, level, dtype, layout}, "form", "length"}
//! ```
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
use grumpy_core::buffer::Values;
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
        };
        meta.lens = meta
            .specs()
            .iter()
            .map(|s| (s.name.clone(), bufs.get(&s.name).map_or(0, Values::len)))
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
        let meta = Meta {
            kind,
            length,
            schema,
            parts,
            lens,
            codec: g["codec"].as_str().unwrap_or("zstd").to_owned(),
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
