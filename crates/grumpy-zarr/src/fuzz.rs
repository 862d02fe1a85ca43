//! The body of the `store` fuzz target (`fuzz/fuzz_targets/store.rs`), kept here so a stable
//! `cargo test` replays the committed corpus (`fuzz/corpus/store/`).
//!
//! An input is sections separated by [`SEP`]: section 0 is the root group's attributes (JSON;
//! anything else is written verbatim as the group's `zarr.json`), then one section per buffer
//! the attributes name (in [`Meta::specs`] order): either an array `zarr.json` written verbatim
//! (a section starting with `{`) or `[chunk length byte][raw little-endian elements...]`
//! written as an uncompressed, unchecksummed array so the fuzzer reaches the semantic checks.
//! The store is then loaded, opened, sliced and gathered: every outcome must be data or a
//! grumpy error, never a panic, an abort or a huge allocation.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-fuzz-{}", std::process::id()));
//! let a = grumpy_core::Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! grumpy_zarr::save(&a, &dir, &Default::default()).unwrap();
//! let seed = grumpy_zarr::fuzz::seed_from_store(&dir).unwrap();
//! assert_eq!(grumpy_zarr::fuzz::store_bytes(&seed), Some(2)); // the seed rebuilds the store
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::meta::Meta;
use grumpy_core::buffer::Values;
use grumpy_core::{with_values, DType, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Section separator.
pub const SEP: &[u8] = b"\n%%\n";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..i]);
        rest = &rest[i + SEP.len()..];
    }
    out.push(rest);
    out
}

fn scratch() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let t = std::thread::current().id();
    base.join(format!("grumpy-fuzz-{}-{t:?}", std::process::id()).replace(['(', ')'], ""))
}

fn array_meta(dtype: &str, len: usize, chunk: usize) -> Value {
    json!({
        "zarr_format": 3, "node_type": "array", "shape": [len], "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [chunk]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": if dtype == "bool" { json!(false) } else { json!(0) },
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
    })
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(p) = path.parent() {
        let _ = std::fs::create_dir_all(p);
    }
    let _ = std::fs::write(path, bytes);
}

/// Build the store an input describes into `dir` (emptied first).
pub fn build_store(data: &[u8], dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::create_dir_all(dir);
    let sections = split(data);
    let attrs: Option<serde_json::Map<String, Value>> = serde_json::from_slice(sections[0]).ok();
    let Some(attrs) = attrs else {
        write(&dir.join("zarr.json"), sections[0]);
        return;
    };
    let group = json!({"zarr_format": 3, "node_type": "group", "attributes": attrs});
    write(&dir.join("zarr.json"), group.to_string().as_bytes());
    let Ok(meta) = Meta::parse(&attrs) else {
        return;
    };
    for (spec, sec) in meta.specs().iter().zip(sections.iter().skip(1)) {
        if spec
            .name
            .split('/')
            .any(|c| c.is_empty() || c.starts_with('.'))
        {
            continue; // never let the harness itself write outside the scratch directory
        }
        let adir = dir.join(&spec.name);
        if sec.first() == Some(&b'{') {
            write(&adir.join("zarr.json"), sec);
            continue;
        }
        let item = spec.dtype.itemsize().max(1);
        let cl = sec.first().map_or(1, |&b| 1 + (b as usize % 8));
        let body = sec.get(1..).unwrap_or(&[]);
        let len = meta.lens.get(&spec.name).copied().unwrap_or(0);
        let dtype = match spec.dtype {
            DType::String => "uint8",
            d => d.name(),
        };
        let m = array_meta(dtype, len, cl);
        write(&adir.join("zarr.json"), m.to_string().as_bytes());
        for (k, chunk) in body.chunks(cl * item).enumerate() {
            let mut whole = chunk.to_vec();
            whole.resize(cl * item, 0); // a short last chunk is padded, as zarrs writes it
            write(&adir.join(format!("c/{k}")), &whole);
        }
    }
}

/// Exercise every read path on the store an input describes. Returns the number of rows
/// loaded, or `None` when the store was rejected (a grumpy error).
pub fn store_bytes(data: &[u8]) -> Option<usize> {
    let dir = scratch();
    build_store(data, &dir);
    let n = exercise(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    n
}

fn exercise(dir: &Path) -> Option<usize> {
    let loaded = crate::load_data(dir);
    let r = crate::open(dir).ok()?;
    let len = r.len();
    for (a, b) in [
        (0, len),
        (0, len.min(1)),
        (len / 2, len),
        (len.saturating_sub(1), len),
    ] {
        let _ = r.read_data_rows(a, b);
    }
    let rows: Vec<usize> = (0..len.min(4)).rev().collect();
    let _ = r.take_data_rows(&rows);
    let _ = r.take_data_rows(&[len]); // out of range: an error
    loaded.ok().map(|d| d.len())
}

/// Turn a store written by `gr.save` into a fuzz input (its attributes plus every buffer's
/// decoded elements, 4 per chunk): the committed corpus seeds are made this way.
pub fn seed_from_store(dir: &Path) -> Result<Vec<u8>> {
    let r = crate::StoreReader::open_with_cache(dir, 0)?;
    let mut out = serde_json::to_vec(r.attributes()).unwrap_or_default();
    let data = r.read_all_data()?;
    let (meta, bufs) = Meta::split(&data, &r.meta().codec)?;
    for spec in meta.specs() {
        out.extend_from_slice(SEP);
        out.push(3); // chunk length 4
        if let Some(v) = bufs.get(&spec.name) {
            out.extend(le_bytes(v));
        }
    }
    Ok(out)
}

fn le_bytes(v: &Values) -> Vec<u8> {
    with_values!(v, b, T => {
        let mut out = Vec::with_capacity(b.len() * std::mem::size_of::<T>());
        for x in b.as_slice() {
            out.extend_from_slice(&LeBytes::le(*x));
        }
        out
    }, s => s.bytes.as_slice().to_vec())
}

/// Little-endian bytes of a native element.
trait LeBytes {
    fn le(self) -> Vec<u8>;
}

macro_rules! le {
    ($($t:ty),*) => {$(impl LeBytes for $t { fn le(self) -> Vec<u8> { self.to_le_bytes().to_vec() } })*};
}
le!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl LeBytes for bool {
    fn le(self) -> Vec<u8> {
        vec![u8::from(self)]
    }
}
