//! [`Values`]: a typed leaf buffer (one variant per dtype) and the [`Native`] trait tying Rust
//! element types to [`DType`]s.
//!
//! Strings are stored Arrow-style: `offsets` (n+1 byte positions) into one UTF-8 byte buffer.
//!
//! ```text
//!   Str { offsets: [0, 3, 3, 5], bytes: "abcde" }   ->   ["abc", "", "de"]
//! ```
//!
//! ```
//! use grumpy_core::buffer::Values;
//! use grumpy_core::dtype::DType;
//! let v = Values::from(vec![1.5f64, 2.5]);
//! assert_eq!(v.dtype(), DType::Float64);
//! assert_eq!(v.len(), 2);
//! let s = Values::from_strs(&["ab", "c"]);
//! assert_eq!(s.str_at(1), "c");
//! ```

use super::Buf;
use crate::dtype::{DType, Scalar};

/// Rust element types that back a numeric dtype.
pub trait Native:
    Copy + Send + Sync + PartialOrd + PartialEq + Default + std::fmt::Debug + 'static
{
    /// The matching dtype.
    const DTYPE: DType;
    /// Lossy conversion to f64 (NumPy `astype` semantics).
    fn to_f64(self) -> f64;
    /// Conversion from f64 (truncating / saturating like `as`).
    fn from_f64(x: f64) -> Self;
    /// Conversion to i64 (wrapping like `as`).
    fn to_i64(self) -> i64;
    /// Conversion from i64 (wrapping like `as`).
    fn from_i64(x: i64) -> Self;
    /// Conversion from u64 (wrapping like `as`).
    fn from_u64(x: u64) -> Self;
    /// As a Python-facing scalar.
    fn to_scalar(self) -> Scalar;
    /// Wrap a buffer of this type in [`Values`].
    fn wrap(buf: Buf<Self>) -> Values;
    /// Borrow the buffer if `v` holds this type.
    fn unwrap(v: &Values) -> Option<&Buf<Self>>;
}

macro_rules! native_int {
    ($t:ty, $d:ident, $var:ident, $scalar:expr) => {
        impl Native for $t {
            const DTYPE: DType = DType::$d;
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline]
            fn from_i64(x: i64) -> Self {
                x as $t
            }
            #[inline]
            fn from_u64(x: u64) -> Self {
                x as $t
            }
            fn to_scalar(self) -> Scalar {
                #[allow(clippy::redundant_closure_call)]
                ($scalar)(self)
            }
            fn wrap(buf: Buf<Self>) -> Values {
                Values::$var(buf)
            }
            fn unwrap(v: &Values) -> Option<&Buf<Self>> {
                match v {
                    Values::$var(b) => Some(b),
                    _ => None,
                }
            }
        }
    };
}

native_int!(i8, Int8, I8, |x: i8| Scalar::Int(i64::from(x)));
native_int!(i16, Int16, I16, |x: i16| Scalar::Int(i64::from(x)));
native_int!(i32, Int32, I32, |x: i32| Scalar::Int(i64::from(x)));
native_int!(i64, Int64, I64, Scalar::Int);
native_int!(u8, UInt8, U8, |x: u8| Scalar::Int(i64::from(x)));
native_int!(u16, UInt16, U16, |x: u16| Scalar::Int(i64::from(x)));
native_int!(u32, UInt32, U32, |x: u32| Scalar::Int(i64::from(x)));
native_int!(u64, UInt64, U64, |x: u64| match i64::try_from(x) {
    Ok(i) => Scalar::Int(i),
    Err(_) => Scalar::UInt(x),
});
native_int!(f32, Float32, F32, |x: f32| Scalar::Float(f64::from(x)));
native_int!(f64, Float64, F64, Scalar::Float);

impl Native for bool {
    const DTYPE: DType = DType::Bool;
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    #[inline]
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    #[inline]
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
    #[inline]
    fn from_i64(x: i64) -> Self {
        x != 0
    }
    #[inline]
    fn from_u64(x: u64) -> Self {
        x != 0
    }
    fn to_scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    fn wrap(buf: Buf<Self>) -> Values {
        Values::Bool(buf)
    }
    fn unwrap(v: &Values) -> Option<&Buf<Self>> {
        match v {
            Values::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// UTF-8 strings: `offsets` (n+1, i64) into `bytes`.
#[derive(Clone, Debug, PartialEq)]
pub struct StrValues {
    /// Byte offsets, n+1 entries (need not start at 0 for sliced views).
    pub offsets: Buf<i64>,
    /// UTF-8 data.
    pub bytes: Buf<u8>,
}

/// A typed leaf buffer.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// bool
    Bool(Buf<bool>),
    /// int8
    I8(Buf<i8>),
    /// int16
    I16(Buf<i16>),
    /// int32
    I32(Buf<i32>),
    /// int64
    I64(Buf<i64>),
    /// uint8
    U8(Buf<u8>),
    /// uint16
    U16(Buf<u16>),
    /// uint32
    U32(Buf<u32>),
    /// uint64
    U64(Buf<u64>),
    /// float32
    F32(Buf<f32>),
    /// float64
    F64(Buf<f64>),
    /// string
    Str(StrValues),
}

/// Run `$body` with `$b` bound to the typed numeric buffer of `$v` (type alias `$T`); the
/// `Str` case runs `$str`.
///
/// ```
/// use grumpy_core::{with_values, buffer::{Values, Native}};
/// let v = Values::from(vec![1i32, 2, 3]);
/// let total: f64 = with_values!(&v, b, T => b.iter().map(|x| x.to_f64()).sum(), _s => 0.0);
/// assert_eq!(total, 6.0);
/// ```
#[macro_export]
macro_rules! with_values {
    ($v:expr, $b:ident, $T:ident => $body:expr, $s:ident => $str:expr) => {
        match $v {
            $crate::buffer::Values::Bool($b) => {
                #[allow(dead_code)]
                type $T = bool;
                $body
            }
            $crate::buffer::Values::I8($b) => {
                #[allow(dead_code)]
                type $T = i8;
                $body
            }
            $crate::buffer::Values::I16($b) => {
                #[allow(dead_code)]
                type $T = i16;
                $body
            }
            $crate::buffer::Values::I32($b) => {
                #[allow(dead_code)]
                type $T = i32;
                $body
            }
            $crate::buffer::Values::I64($b) => {
                #[allow(dead_code)]
                type $T = i64;
                $body
            }
            $crate::buffer::Values::U8($b) => {
                #[allow(dead_code)]
                type $T = u8;
                $body
            }
            $crate::buffer::Values::U16($b) => {
                #[allow(dead_code)]
                type $T = u16;
                $body
            }
            $crate::buffer::Values::U32($b) => {
                #[allow(dead_code)]
                type $T = u32;
                $body
            }
            $crate::buffer::Values::U64($b) => {
                #[allow(dead_code)]
                type $T = u64;
                $body
            }
            $crate::buffer::Values::F32($b) => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::buffer::Values::F64($b) => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
            $crate::buffer::Values::Str($s) => $str,
        }
    };
}

/// Call `$body` with `$T` bound to the Rust type of numeric dtype `$d` (string runs `$str`).
///
/// ```
/// use grumpy_core::{with_dtype, dtype::DType};
/// let size = with_dtype!(DType::Int16, T => std::mem::size_of::<T>(), 0);
/// assert_eq!(size, 2);
/// ```
#[macro_export]
macro_rules! with_dtype {
    ($d:expr, $T:ident => $body:expr, $str:expr) => {
        match $d {
            $crate::dtype::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::dtype::DType::Int8 => {
                type $T = i8;
                $body
            }
            $crate::dtype::DType::Int16 => {
                type $T = i16;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::dtype::DType::UInt16 => {
                type $T = u16;
                $body
            }
            $crate::dtype::DType::UInt32 => {
                type $T = u32;
                $body
            }
            $crate::dtype::DType::UInt64 => {
                type $T = u64;
                $body
            }
            $crate::dtype::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $T = f64;
                $body
            }
            $crate::dtype::DType::String => $str,
        }
    };
}

impl<T: Native> From<Vec<T>> for Values {
    fn from(v: Vec<T>) -> Self {
        T::wrap(Buf::from_vec(v))
    }
}

impl Values {
    /// Build string values from `&str`s.
    pub fn from_strs<S: AsRef<str>>(items: &[S]) -> Values {
        let mut offsets = Vec::with_capacity(items.len() + 1);
        let mut bytes = Vec::new();
        offsets.push(0i64);
        for s in items {
            bytes.extend_from_slice(s.as_ref().as_bytes());
            offsets.push(bytes.len() as i64);
        }
        Values::Str(StrValues {
            offsets: Buf::from_vec(offsets),
            bytes: Buf::from_vec(bytes),
        })
    }

    /// An empty buffer of `dtype`.
    pub fn empty(dtype: DType) -> Values {
        with_dtype!(dtype, T => Values::from(Vec::<T>::new()), Values::from_strs::<&str>(&[]))
    }

    /// `n` default values (zeros / false / empty strings) of `dtype`.
    pub fn zeros(dtype: DType, n: usize) -> Values {
        with_dtype!(dtype, T => Values::from(vec![T::default(); n]), {
            Values::Str(StrValues { offsets: Buf::from_vec(vec![0; n + 1]), bytes: Buf::default() })
        })
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        with_values!(self, _b, T => T::DTYPE, _s => DType::String)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_values!(self, b, T => b.len(), s => s.offsets.len().saturating_sub(1))
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of element data in this view.
    pub fn nbytes(&self) -> usize {
        with_values!(self, b, T => b.len() * std::mem::size_of::<T>(), s => {
            let o = s.offsets.as_slice();
            let data = if o.is_empty() { 0 } else { (o[o.len() - 1] - o[0]) as usize };
            data + o.len() * 8
        })
    }

    /// Zero-copy sub-view of elements `[start, start + len)`.
    pub fn slice(&self, start: usize, len: usize) -> Values {
        with_values!(self, b, T => T::wrap(b.slice(start, len)), s => {
            Values::Str(StrValues { offsets: s.offsets.slice(start, len + 1), bytes: s.bytes.clone() })
        })
    }

    /// String element `i` (panics on non-string values; callers check the dtype).
    pub fn str_at(&self, i: usize) -> &str {
        match self {
            Values::Str(s) => {
                let a = s.offsets[i] as usize;
                let b = s.offsets[i + 1] as usize;
                std::str::from_utf8(&s.bytes[a..b]).unwrap_or("\u{fffd}")
            }
            _ => panic!("str_at on non-string values"),
        }
    }

    /// Element `i` as a scalar.
    pub fn scalar_at(&self, i: usize) -> Scalar {
        with_values!(self, b, T => b[i].to_scalar(), _s => Scalar::Str(self.str_at(i).to_owned()))
    }

    /// Gather elements at `idx` into a new buffer.
    pub fn take(&self, idx: &[usize]) -> Values {
        with_values!(self, b, T => {
            let src = b.as_slice();
            T::wrap(Buf::from_vec(idx.iter().map(|&i| src[i]).collect()))
        }, _s => {
            let items: Vec<&str> = idx.iter().map(|&i| self.str_at(i)).collect();
            Values::from_strs(&items)
        })
    }

    /// Borrow as a typed slice, if this holds `T`.
    pub fn as_slice<T: Native>(&self) -> Option<&[T]> {
        T::unwrap(self).map(|b| b.as_slice())
    }

    /// Concatenate buffers of one dtype.
    pub fn concat(parts: &[&Values], dtype: DType) -> Values {
        with_dtype!(dtype, T => {
            let mut out: Vec<T> = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
            for p in parts {
                out.extend_from_slice(p.as_slice::<T>().expect("concat: dtype mismatch"));
            }
            Values::from(out)
        }, {
            let mut items: Vec<&str> = Vec::new();
            for p in parts {
                for i in 0..p.len() {
                    items.push(p.str_at(i));
                }
            }
            Values::from_strs(&items)
        })
    }
}
