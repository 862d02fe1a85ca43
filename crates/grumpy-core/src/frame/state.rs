//! A [`Frame`] or an [`Array`] as one byte string and back: what `pickle` (and so
//! `copy.deepcopy`, `multiprocessing` and PyTorch `DataLoader` workers) carries.
//!
//! ```text
//!   array   = "GRUMPYA1" | node
//!   frame   = "GRUMPYF1" | schema: u32 n, n × str | nrows: u64 | columns: u32 n, n × column
//!   column  = name: str | level: u32 | node
//!   node    = 0 leaf  | dtype: str | len: u64 | validity | values
//!           | 1 list  | len: u64 | validity | offsets: (len+1) × i64 from 0 | node (child)
//!           | 2 union | len: u64 | tags: len × i8 | index: len × i64 | node (scalar) | node (list)
//!   validity = 0 | 1, ceil(len/8) packed bytes (LSB first)
//!   values  = numbers: len × little-endian | strings: (len+1) × i64 from 0, u64 n, n bytes
//!   str     = u32 n, n UTF-8 bytes
//! ```
//! Only what a view covers is written (sliced offsets are rebased, children cut to the
//! covered range), so the state of `df[i]` is as small as that row. Decoding checks every
//! length, offset, tag and index, and rebuilds the frame through [`Frame::from_columns`]
//! (one offsets buffer per level again): a corrupt state is an `ArgumentError`, not a panic.
//!
//! ```
//! use grumpy_core::{Array, Frame};
//! let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
//! let df = Frame::new(&["mol", "res"], vec![("x".into(), x.clone())], &[]).unwrap();
//! let back = Frame::from_state(&df.to_state()).unwrap();
//! assert_eq!(back, df);
//! assert!(Frame::from_state(b"nonsense").is_err());
//! let row = x.slice(1, 1); // a view pickles only what it covers
//! assert_eq!(Array::from_state(&row.to_state()).unwrap().to_item(), row.to_item());
//! assert!(row.to_state().len() < x.to_state().len());
//! ```

use super::{Column, Frame};
use crate::array::{validate_offsets, Array};
use crate::buffer::{Bitmap, Buf, StrValues, Values};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List, Union};

const MAGIC: &[u8; 8] = b"GRUMPYF1";
const ARRAY_MAGIC: &[u8; 8] = b"GRUMPYA1";

fn corrupt(cause: impl Into<String>) -> Error {
    Error::new(
        Code::Argument,
        "corrupt pickled grumpy state",
        cause,
        "unpickle only states written by pickling a DataFrame or GrumpyArray with a compatible grumpy",
    )
}

/// Little-endian numbers in and out of the state (whole slices are copied as bytes on
/// little-endian machines).
trait Le: bytemuck::Pod {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
        }
    )*};
}
le!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

fn put_all<T: Le>(xs: &[T], out: &mut Vec<u8>) {
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(xs));
        return;
    }
    out.reserve(xs.len() * T::SIZE);
    for &x in xs {
        x.put(out);
    }
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    (s.len() as u32).put(out);
    out.extend_from_slice(s.as_bytes());
}

/// Offsets rebased to start at 0.
fn put_offsets(o: &[i64], out: &mut Vec<u8>) {
    let base = o.first().copied().unwrap_or(0);
    if base == 0 {
        return put_all(o, out);
    }
    out.reserve(o.len() * 8);
    for &x in o {
        (x - base).put(out);
    }
}

fn put_validity(v: Option<&Bitmap>, out: &mut Vec<u8>) {
    match v {
        None => out.push(0),
        Some(m) => {
            out.push(1);
            out.extend_from_slice(&m.to_packed());
        }
    }
}

fn put_values(v: &Values, out: &mut Vec<u8>) {
    match v {
        Values::Bool(b) => out.extend(b.iter().map(|&x| u8::from(x))),
        Values::I8(b) => put_all(b, out),
        Values::I16(b) => put_all(b, out),
        Values::I32(b) => put_all(b, out),
        Values::I64(b) => put_all(b, out),
        Values::U8(b) => out.extend_from_slice(b),
        Values::U16(b) => put_all(b, out),
        Values::U32(b) => put_all(b, out),
        Values::U64(b) => put_all(b, out),
        Values::F32(b) => put_all(b, out),
        Values::F64(b) => put_all(b, out),
        Values::Str(s) => {
            put_offsets(&s.offsets, out);
            let (a, z) = (
                s.offsets[0] as usize,
                s.offsets[s.offsets.len() - 1] as usize,
            );
            ((z - a) as u64).put(out);
            out.extend_from_slice(&s.bytes[a..z]);
        }
    }
}

fn put_node(layout: &Layout, out: &mut Vec<u8>) {
    match layout {
        Layout::Leaf(l) => {
            out.push(0);
            put_str(l.values.dtype().name(), out);
            (l.len() as u64).put(out);
            put_validity(l.validity.as_ref(), out);
            put_values(&l.values, out);
        }
        Layout::List(l) => {
            out.push(1);
            (l.len() as u64).put(out);
            put_validity(l.validity.as_ref(), out);
            put_offsets(&l.offsets, out);
            put_node(&l.child_view(), out);
        }
        Layout::Union(u) => {
            out.push(2);
            (u.len() as u64).put(out);
            put_all(&u.tags, out);
            put_all(&u.index, out);
            put_node(&u.scalar, out);
            put_node(&u.list, out);
        }
    }
}

/// A checked cursor over a state.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| corrupt(format!("the state ends early (at byte {})", self.pos)))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn num<T: Le>(&mut self) -> Result<T> {
        Ok(T::get(self.bytes(T::SIZE)?))
    }

    fn len(&mut self) -> Result<usize> {
        let n: u64 = self.num()?;
        // Every element takes at least one byte, so a length past the state is corrupt.
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.b.len())
            .ok_or_else(|| corrupt(format!("length {n} is larger than the state")))
    }

    fn many<T: Le>(&mut self, n: usize) -> Result<Vec<T>> {
        let size = n
            .checked_mul(T::SIZE)
            .ok_or_else(|| corrupt("length overflow"))?;
        let b = self.bytes(size)?;
        if cfg!(target_endian = "little") {
            let mut v = vec![<T as bytemuck::Zeroable>::zeroed(); n];
            bytemuck::cast_slice_mut::<T, u8>(&mut v).copy_from_slice(b);
            return Ok(v);
        }
        Ok(b.chunks_exact(T::SIZE).map(T::get).collect())
    }

    fn string(&mut self) -> Result<String> {
        let n: u32 = self.num()?;
        let b = self.bytes(n as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| corrupt("a name is not UTF-8"))
    }

    /// `n + 1` offsets from 0, non-decreasing (checked against the child once it is read).
    fn offsets(&mut self, n: usize) -> Result<Buf<i64>> {
        let o: Vec<i64> = self.many(n + 1)?;
        if o[0] != 0 {
            return Err(corrupt("offsets do not start at 0"));
        }
        validate_offsets(&o, usize::MAX, 0).map_err(|e| corrupt(e.cause().to_owned()))?;
        Ok(Buf::from_vec(o))
    }

    fn validity(&mut self, n: usize) -> Result<Option<Bitmap>> {
        match self.num::<u8>()? {
            0 => Ok(None),
            1 => {
                let bits = self.bytes(n.div_ceil(8))?.to_vec();
                Ok(Some(Bitmap::from_bytes(Buf::from_vec(bits), n)))
            }
            f => Err(corrupt(format!("bad validity flag {f}"))),
        }
    }

    fn values(&mut self, dtype: DType, n: usize) -> Result<Values> {
        Ok(match dtype {
            DType::Bool => Values::from(self.bytes(n)?.iter().map(|&x| x != 0).collect::<Vec<_>>()),
            DType::Int8 => Values::from(self.many::<i8>(n)?),
            DType::Int16 => Values::from(self.many::<i16>(n)?),
            DType::Int32 => Values::from(self.many::<i32>(n)?),
            DType::Int64 => Values::from(self.many::<i64>(n)?),
            DType::UInt8 => Values::from(self.bytes(n)?.to_vec()),
            DType::UInt16 => Values::from(self.many::<u16>(n)?),
            DType::UInt32 => Values::from(self.many::<u32>(n)?),
            DType::UInt64 => Values::from(self.many::<u64>(n)?),
            DType::Float32 => Values::from(self.many::<f32>(n)?),
            DType::Float64 => Values::from(self.many::<f64>(n)?),
            DType::String => {
                let o: Vec<i64> = self.many(n + 1)?;
                let nbytes = self.len()?;
                if o[0] != 0 {
                    return Err(corrupt("string offsets do not start at 0"));
                }
                validate_offsets(&o, nbytes, 0).map_err(|e| corrupt(e.cause().to_owned()))?;
                let bytes = self.bytes(nbytes)?.to_vec();
                Values::Str(StrValues {
                    offsets: Buf::from_vec(o),
                    bytes: Buf::from_vec(bytes),
                })
            }
        })
    }

    fn node(&mut self, depth: usize) -> Result<Layout> {
        if depth > 64 {
            return Err(corrupt("the layout nests more than 64 levels"));
        }
        match self.num::<u8>()? {
            0 => {
                let dtype =
                    DType::parse(&self.string()?).map_err(|e| corrupt(e.summary().to_owned()))?;
                let n = self.len()?;
                let validity = self.validity(n)?;
                let values = self.values(dtype, n)?;
                Ok(Layout::Leaf(Leaf::new(values, validity)))
            }
            1 => {
                let n = self.len()?;
                let validity = self.validity(n)?;
                let offsets = self.offsets(n)?;
                let child = self.node(depth + 1)?;
                validate_offsets(&offsets, child.len(), 0)
                    .map_err(|e| corrupt(e.cause().to_owned()))?;
                Ok(Layout::List(List::new(offsets, validity, child)))
            }
            2 => {
                let n = self.len()?;
                let tags: Vec<i8> = self.many(n)?;
                let index: Vec<i64> = self.many(n)?;
                let scalar = self.node(depth + 1)?;
                let list = self.node(depth + 1)?;
                if !matches!(scalar, Layout::Leaf(_)) || !matches!(list, Layout::List(_)) {
                    return Err(corrupt("a union needs a leaf and a list content"));
                }
                for (&t, &j) in tags.iter().zip(&index) {
                    let len = match t {
                        0 => scalar.len(),
                        1 => list.len(),
                        _ => return Err(corrupt(format!("bad union tag {t}"))),
                    };
                    if j < 0 || j as usize >= len {
                        return Err(corrupt(format!("union index {j} out of range")));
                    }
                }
                Ok(Layout::Union(Union {
                    tags: Buf::from_vec(tags),
                    index: Buf::from_vec(index),
                    scalar: std::sync::Arc::new(scalar),
                    list: std::sync::Arc::new(list),
                }))
            }
            t => Err(corrupt(format!("bad node tag {t}"))),
        }
    }
}

impl Array {
    /// The array as bytes (see the module docs); a view writes only what it covers.
    pub fn to_state(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.layout.nbytes());
        out.extend_from_slice(ARRAY_MAGIC);
        put_node(&self.layout, &mut out);
        out
    }

    /// Rebuild an array from [`Array::to_state`] bytes, checking every length, offset, tag and
    /// index (a corrupt state is an `ArgumentError`).
    pub fn from_state(bytes: &[u8]) -> Result<Array> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.bytes(ARRAY_MAGIC.len()).ok() != Some(&ARRAY_MAGIC[..]) {
            return Err(corrupt(
                "the state does not start with the GrumpyArray marker",
            ));
        }
        let layout = r.node(0)?;
        if r.pos != bytes.len() {
            return Err(corrupt("trailing bytes after the array"));
        }
        Ok(Array::new(layout))
    }
}

impl Frame {
    /// The frame as bytes (see the module docs); a view writes only what it covers.
    pub fn to_state(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + self
                .columns
                .iter()
                .map(|c| c.array.layout.nbytes())
                .sum::<usize>(),
        );
        out.extend_from_slice(MAGIC);
        (self.schema.len() as u32).put(&mut out);
        for s in &self.schema {
            put_str(s, &mut out);
        }
        (self.nrows as u64).put(&mut out);
        (self.columns.len() as u32).put(&mut out);
        for c in &self.columns {
            put_str(&c.name, &mut out);
            (c.level as u32).put(&mut out);
            put_node(&c.array.layout, &mut out);
        }
        out
    }

    /// Rebuild a frame from [`Frame::to_state`] bytes, checking everything.
    pub fn from_state(bytes: &[u8]) -> Result<Frame> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.bytes(MAGIC.len()).ok() != Some(&MAGIC[..]) {
            return Err(corrupt(
                "the state does not start with the DataFrame marker",
            ));
        }
        let n_schema: u32 = r.num()?;
        let schema = (0..n_schema)
            .map(|_| r.string())
            .collect::<Result<Vec<_>>>()?;
        // Not bounded by the state size: a frame without columns can still have rows.
        let nrows = usize::try_from(r.num::<u64>()?).map_err(|_| corrupt("row count overflow"))?;
        let n_cols: u32 = r.num()?;
        let mut columns = Vec::new();
        for _ in 0..n_cols {
            let name = r.string()?;
            let level = r.num::<u32>()? as usize;
            let array = Array::new(r.node(0)?);
            if array.len() != nrows {
                return Err(corrupt(format!(
                    "column {name:?} has {} rows, not {nrows}",
                    array.len()
                )));
            }
            columns.push(Column { name, level, array });
        }
        if r.pos != bytes.len() {
            return Err(corrupt("trailing bytes after the last column"));
        }
        let mut f =
            Frame::from_columns(schema, columns).map_err(|e| corrupt(e.summary().to_owned()))?;
        f.nrows = nrows;
        Ok(f)
    }
}
