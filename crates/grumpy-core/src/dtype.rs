//! Data types, scalars and NumPy 2 type promotion (with weak Python scalars).
//!
//! ```
//! use grumpy_core::dtype::{DType, promote, promote_weak, Scalar};
//! assert_eq!(promote(DType::Int32, DType::UInt32), DType::Int64);
//! assert_eq!(promote(DType::Int64, DType::Float32), DType::Float64);
//! // A Python float is "weak": float32 * 2.5 stays float32, int * 2.5 becomes float64.
//! assert_eq!(promote_weak(DType::Float32, &Scalar::Float(2.5)).unwrap(), DType::Float32);
//! assert_eq!(promote_weak(DType::Int16, &Scalar::Float(2.5)).unwrap(), DType::Float64);
//! ```

use crate::error::{Code, Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The element type of a leaf buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// `bool_`
    Bool,
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `uint8`
    UInt8,
    /// `uint16`
    UInt16,
    /// `uint32`
    UInt32,
    /// `uint64`
    UInt64,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// UTF-8 `string`
    String,
}

/// Every dtype, in a stable order.
pub const ALL_DTYPES: [DType; 12] = [
    DType::Bool,
    DType::Int8,
    DType::Int16,
    DType::Int32,
    DType::Int64,
    DType::UInt8,
    DType::UInt16,
    DType::UInt32,
    DType::UInt64,
    DType::Float32,
    DType::Float64,
    DType::String,
];

impl DType {
    /// The canonical name (`"float64"`, `"bool"`, `"string"`, ...), as NumPy spells it.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt8 => "uint8",
            DType::UInt16 => "uint16",
            DType::UInt32 => "uint32",
            DType::UInt64 => "uint64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::String => "string",
        }
    }

    /// Parse a dtype name (`"float64"`, `"f8"`, `"bool_"`, `"int"`, `"str"` ...).
    ///
    /// ```
    /// # use grumpy_core::dtype::DType;
    /// assert_eq!(DType::parse("f4").unwrap(), DType::Float32);
    /// assert!(DType::parse("complex64").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<DType> {
        Ok(match name {
            "bool" | "bool_" | "?" | "b1" => DType::Bool,
            "int8" | "i1" | "b" => DType::Int8,
            "int16" | "i2" | "h" => DType::Int16,
            "int32" | "i4" | "i" => DType::Int32,
            "int64" | "i8" | "int" | "l" | "q" => DType::Int64,
            "uint8" | "u1" | "B" => DType::UInt8,
            "uint16" | "u2" | "H" => DType::UInt16,
            "uint32" | "u4" | "I" => DType::UInt32,
            "uint64" | "u8" | "L" | "Q" => DType::UInt64,
            "float32" | "f4" | "f" => DType::Float32,
            "float64" | "f8" | "float" | "d" => DType::Float64,
            "string" | "str" | "U" | "unicode" => DType::String,
            other => {
                return Err(Error::new(
                    Code::DType,
                    format!("unknown dtype {other:?}"),
                    "grumpy supports bool, int8..int64, uint8..uint64, float32, float64 and string",
                    "pass one of gr.bool_, gr.int64, gr.float64, gr.string, ... or its name",
                ))
            }
        })
    }

    /// Bytes per element (strings: 1 per byte of UTF-8 data).
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::Int8 | DType::UInt8 | DType::String => 1,
            DType::Int16 | DType::UInt16 => 2,
            DType::Int32 | DType::UInt32 | DType::Float32 => 4,
            DType::Int64 | DType::UInt64 | DType::Float64 => 8,
        }
    }

    /// Signed or unsigned integer.
    pub fn is_integer(self) -> bool {
        self.is_signed() || self.is_unsigned()
    }
    /// Signed integer.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64
        )
    }
    /// Unsigned integer.
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64
        )
    }
    /// float32 or float64.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }
    /// Any non-string type (bool counts as numeric for arithmetic).
    pub fn is_numeric(self) -> bool {
        self != DType::String
    }

    fn int_bits(self) -> u32 {
        match self {
            DType::Int8 | DType::UInt8 => 8,
            DType::Int16 | DType::UInt16 => 16,
            DType::Int32 | DType::UInt32 => 32,
            DType::Int64 | DType::UInt64 => 64,
            _ => 0,
        }
    }

    fn signed_of_bits(bits: u32) -> DType {
        match bits {
            8 => DType::Int8,
            16 => DType::Int16,
            32 => DType::Int32,
            _ => DType::Int64,
        }
    }

    /// The float type that holds this dtype's values the way NumPy promotes it.
    fn float_for(self) -> DType {
        match self {
            DType::Float32
            | DType::Bool
            | DType::Int8
            | DType::UInt8
            | DType::Int16
            | DType::UInt16 => DType::Float32,
            _ => DType::Float64,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// NumPy 2 `promote_types` for two array dtypes (strings only promote with strings).
///
/// ```
/// # use grumpy_core::dtype::{DType, promote};
/// assert_eq!(promote(DType::UInt8, DType::Int8), DType::Int16);
/// assert_eq!(promote(DType::UInt64, DType::Int64), DType::Float64);
/// assert_eq!(promote(DType::Int16, DType::Float32), DType::Float32);
/// ```
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    match (a, b) {
        (String, _) | (_, String) => String,
        (Bool, x) | (x, Bool) => x,
        (x, y) if x.is_float() || y.is_float() => {
            let fx = if x.is_float() { x } else { x.float_for() };
            let fy = if y.is_float() { y } else { y.float_for() };
            if fx == Float64 || fy == Float64 {
                Float64
            } else {
                Float32
            }
        }
        (x, y) if x.is_signed() == y.is_signed() => {
            if x.int_bits() >= y.int_bits() {
                x
            } else {
                y
            }
        }
        (x, y) => {
            let (s, u) = if x.is_signed() { (x, y) } else { (y, x) };
            if s.int_bits() > u.int_bits() {
                s
            } else if u.int_bits() == 64 {
                Float64
            } else {
                DType::signed_of_bits(u.int_bits() * 2)
            }
        }
    }
}

/// A single value: a Python scalar operand, or a reduction result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// A signed integer (Python `int`).
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A missing value.
    Null,
}

impl Scalar {
    /// The value as f64 (bools as 0/1); `None` for strings and null.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Scalar::Bool(b) => Some(f64::from(u8::from(b))),
            Scalar::Int(i) => Some(i as f64),
            Scalar::UInt(u) => Some(u as f64),
            Scalar::Float(f) => Some(f),
            _ => None,
        }
    }
    /// The value as i64 if it is an exact integer (or bool).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Scalar::Bool(b) => Some(i64::from(b)),
            Scalar::Int(i) => Some(i),
            Scalar::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }
    /// The dtype a scalar takes when it stands alone (Python int → int64, ...).
    pub fn default_dtype(&self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::Int64,
            Scalar::UInt(_) => DType::UInt64,
            Scalar::Float(_) | Scalar::Null => DType::Float64,
            Scalar::Str(_) => DType::String,
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::UInt(u) => write!(f, "{u}"),
            Scalar::Float(x) => write!(f, "{}", format_float(*x)),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Null => write!(f, "None"),
        }
    }
}

/// Format a float exactly as Python's `repr(float)` does: the shortest digits that round-trip,
/// positional between 1e-4 and 1e16, scientific (`1e-05`, `1.5e+16`) outside.
///
/// ```
/// use grumpy_core::dtype::format_float;
/// assert_eq!(format_float(1.0), "1.0");
/// assert_eq!(format_float(0.1), "0.1");
/// assert_eq!(format_float(1e16), "1e+16");
/// assert_eq!(format_float(1e-5), "1e-05");
/// assert_eq!(format_float(-0.0), "-0.0");
/// assert_eq!(format_float(f64::NAN), "nan");
/// ```
pub fn format_float(x: f64) -> String {
    if !x.is_finite() {
        return nonfinite(x);
    }
    python_float_text(&format!("{x:e}"))
}

/// Like [`format_float`] with the shortest digits that round-trip a `float32` (as NumPy prints
/// float32 values: `0.1`, not `0.10000000149011612`).
///
/// ```
/// use grumpy_core::dtype::format_float32;
/// assert_eq!(format_float32(0.1), "0.1");
/// assert_eq!(format_float32(3.0), "3.0");
/// ```
pub fn format_float32(x: f32) -> String {
    if !x.is_finite() {
        return nonfinite(f64::from(x));
    }
    python_float_text(&format!("{x:e}"))
}

fn nonfinite(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// Turn Rust's shortest scientific text (`-1.25e-7`) into Python's repr layout.
fn python_float_text(sci: &str) -> String {
    let (sign, rest) = match sci.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", sci),
    };
    let (mant, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len() as i32;
    // the value is 0.DIGITS * 10**decpt
    let decpt = exp + 1;
    let body = if !(-4 < decpt && decpt <= 16) {
        let tail = if n > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{}{tail}e{esign}{:02}", &digits[..1], exp.abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (a, b) = digits.split_at(decpt as usize);
        format!("{a}.{b}")
    };
    format!("{sign}{body}")
}

/// NumPy's casting rules for `astype(dtype, casting=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Casting {
    /// Only the same dtype.
    No,
    /// Only the same dtype (byte order does not exist in grumpy).
    Equiv,
    /// Only casts that keep every value (`int16 → float32`, `uint8 → int16`, numbers → string).
    Safe,
    /// Safe casts, or casts within a kind or to a higher kind (`float64 → float32`,
    /// `int64 → int8`, `uint64 → int8`), never down a kind (`float → int`, `int → uint`).
    SameKind,
    /// Anything.
    Unsafe,
}

impl Casting {
    /// Parse NumPy's names: `"no"`, `"equiv"`, `"safe"`, `"same_kind"`, `"unsafe"`.
    ///
    /// ```
    /// use grumpy_core::dtype::Casting;
    /// assert_eq!(Casting::parse("same_kind").unwrap(), Casting::SameKind);
    /// assert!(Casting::parse("lossy").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Casting> {
        Ok(match name {
            "no" => Casting::No,
            "equiv" => Casting::Equiv,
            "safe" => Casting::Safe,
            "same_kind" => Casting::SameKind,
            "unsafe" => Casting::Unsafe,
            other => {
                return Err(Error::new(
                    Code::Argument,
                    format!("unknown casting {other:?}"),
                    "casting is one of 'no', 'equiv', 'safe', 'same_kind', 'unsafe' (as in NumPy)",
                    "pass e.g. casting=\"same_kind\"",
                ))
            }
        })
    }

    /// NumPy's name of the rule.
    pub fn name(self) -> &'static str {
        match self {
            Casting::No => "no",
            Casting::Equiv => "equiv",
            Casting::Safe => "safe",
            Casting::SameKind => "same_kind",
            Casting::Unsafe => "unsafe",
        }
    }
}

/// Kind order used by "same_kind": bool < unsigned < signed < float < string.
fn kind_rank(d: DType) -> u8 {
    match d {
        DType::Bool => 0,
        x if x.is_unsigned() => 1,
        x if x.is_signed() => 2,
        x if x.is_float() => 3,
        _ => 4,
    }
}

/// NumPy's `np.can_cast(from, to, casting)` for grumpy's dtypes (string behaves like NumPy's
/// `str`: every number casts to it safely, it casts to nothing else but itself).
///
/// ```
/// use grumpy_core::dtype::{can_cast, Casting, DType};
/// assert!(can_cast(DType::Int16, DType::Float32, Casting::Safe));
/// assert!(!can_cast(DType::Int32, DType::Float32, Casting::Safe));
/// assert!(can_cast(DType::Float64, DType::Float32, Casting::SameKind));
/// assert!(!can_cast(DType::Float64, DType::Int64, Casting::SameKind));
/// assert!(can_cast(DType::Float64, DType::Int8, Casting::Unsafe));
/// ```
pub fn can_cast(from: DType, to: DType, casting: Casting) -> bool {
    match casting {
        Casting::No | Casting::Equiv => from == to,
        Casting::Safe => {
            from == to || to == DType::String || (from != DType::String && promote(from, to) == to)
        }
        Casting::SameKind => kind_rank(from) <= kind_rank(to),
        Casting::Unsafe => true,
    }
}

/// NEP 50 promotion of an array dtype with a weak Python scalar.
///
/// Python bools and ints adopt the array's kind when it can hold them; floats adopt a float
/// array's precision and turn integer arrays into float64.
pub fn promote_weak(array: DType, scalar: &Scalar) -> Result<DType> {
    use DType::*;
    Ok(match (array, scalar) {
        (String, Scalar::Str(_)) => String,
        (String, _) | (_, Scalar::Str(_)) => {
            return Err(Error::new(
                Code::DType,
                format!("cannot combine a {array} array with {scalar}"),
                "strings only combine with strings",
                "convert with .astype(...) first",
            ))
        }
        (_, Scalar::Null) => array,
        (a, Scalar::Bool(_)) => a,
        (Bool, Scalar::Int(_)) => Int64,
        (Bool, Scalar::UInt(_)) => UInt64,
        (a, Scalar::Int(_) | Scalar::UInt(_)) => a,
        (a, Scalar::Float(_)) if a.is_float() => a,
        (_, Scalar::Float(_)) => Float64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_matches_numpy_table() {
        use DType::*;
        let cases = [
            (Int8, UInt8, Int16),
            (Int16, UInt16, Int32),
            (Int32, UInt32, Int64),
            (Int64, UInt64, Float64),
            (Int64, UInt8, Int64),
            (UInt16, Int8, Int32),
            (Int8, Float32, Float32),
            (Int32, Float32, Float64),
            (UInt16, Float32, Float32),
            (Bool, Int8, Int8),
            (Bool, Float32, Float32),
            (Float32, Float64, Float64),
            (UInt32, UInt64, UInt64),
        ];
        for (a, b, want) in cases {
            assert_eq!(promote(a, b), want, "{a} {b}");
            assert_eq!(promote(b, a), want, "{b} {a}");
        }
    }

    #[test]
    fn weak_scalars() {
        use DType::*;
        assert_eq!(promote_weak(Int8, &Scalar::Int(3)).unwrap(), Int8);
        assert_eq!(promote_weak(Bool, &Scalar::Int(3)).unwrap(), Int64);
        assert_eq!(promote_weak(Bool, &Scalar::Bool(true)).unwrap(), Bool);
        assert_eq!(promote_weak(Float32, &Scalar::Float(1.5)).unwrap(), Float32);
        assert_eq!(promote_weak(UInt8, &Scalar::Float(1.5)).unwrap(), Float64);
        assert!(promote_weak(String, &Scalar::Int(1)).is_err());
    }

    #[test]
    fn floats_print_like_python() {
        let cases = [
            (0.0, "0.0"),
            (1.5, "1.5"),
            (-2.0, "-2.0"),
            (123456.789, "123456.789"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-1.25e-7, "-1.25e-07"),
            (1e300, "1e+300"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (x, want) in cases {
            assert_eq!(format_float(x), want, "{x:e}");
        }
        assert_eq!(format_float32(0.1), "0.1");
        assert_eq!(format_float32(1e20), "1e+20");
    }

    #[test]
    fn parse_names() {
        for d in ALL_DTYPES {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
        }
    }
}
