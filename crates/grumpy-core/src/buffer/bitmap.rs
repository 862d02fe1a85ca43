//! Validity bitmaps in Arrow's layout: bit `i` (LSB first) is 1 when element `i` is valid.
//!
//! ```text
//!   values  [7, _, 9, 4]      bits 0b0000_1101  (element 1 is null)
//! ```
//!
//! ```
//! use grumpy_core::buffer::Bitmap;
//! let m = Bitmap::from_bools(&[true, false, true, true]);
//! assert!(!m.get(1));
//! assert_eq!(m.null_count(), 1);
//! let s = m.slice(1, 2);
//! assert_eq!(s.to_bools(), vec![false, true]);
//! ```

use super::Buf;

/// A view of `len` validity bits starting at bit `offset` of a shared byte buffer.
#[derive(Clone, Debug)]
pub struct Bitmap {
    bits: Buf<u8>,
    offset: usize,
    len: usize,
}

impl PartialEq for Bitmap {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && (0..self.len).all(|i| self.get(i) == other.get(i))
    }
}

impl Bitmap {
    /// Pack booleans (true = valid).
    pub fn from_bools(valid: &[bool]) -> Self {
        let mut bytes = vec![0u8; valid.len().div_ceil(8)];
        for (i, &v) in valid.iter().enumerate() {
            if v {
                bytes[i / 8] |= 1 << (i % 8);
            }
        }
        Bitmap {
            bits: Buf::from_vec(bytes),
            offset: 0,
            len: valid.len(),
        }
    }

    /// Wrap packed bytes (LSB first) holding at least `len` bits.
    pub fn from_bytes(bits: Buf<u8>, len: usize) -> Self {
        assert!(bits.len() * 8 >= len, "Bitmap::from_bytes: too few bytes");
        Bitmap {
            bits,
            offset: 0,
            len,
        }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether element `i` is valid.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        let j = self.offset + i;
        self.bits[j / 8] >> (j % 8) & 1 == 1
    }

    /// A zero-copy sub-view.
    pub fn slice(&self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.len, "Bitmap::slice out of range");
        Bitmap {
            bits: self.bits.clone(),
            offset: self.offset + start,
            len,
        }
    }

    /// The packed bytes and the bit where this view starts (for zero-copy export).
    pub fn raw_parts(&self) -> (&Buf<u8>, usize) {
        (&self.bits, self.offset)
    }

    /// Count of invalid (null) elements.
    pub fn null_count(&self) -> usize {
        (0..self.len).filter(|&i| !self.get(i)).count()
    }

    /// Unpack to booleans.
    pub fn to_bools(&self) -> Vec<bool> {
        (0..self.len).map(|i| self.get(i)).collect()
    }

    /// Packed bytes starting at bit 0 (copies only when the view is not byte-aligned at 0).
    pub fn to_packed(&self) -> Buf<u8> {
        if self.offset == 0 {
            self.bits.slice(0, self.len.div_ceil(8))
        } else {
            Bitmap::from_bools(&self.to_bools()).bits
        }
    }

    /// Gather bits at `idx`.
    pub fn take(&self, idx: impl Iterator<Item = usize>) -> Bitmap {
        let v: Vec<bool> = idx.map(|i| self.get(i)).collect();
        Bitmap::from_bools(&v)
    }
}

/// Combine two optional validity masks with AND (null if either is null).
pub fn and_validity(a: Option<&Bitmap>, b: Option<&Bitmap>) -> Option<Bitmap> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (Some(x), Some(y)) => {
            let v: Vec<bool> = (0..x.len()).map(|i| x.get(i) && y.get(i)).collect();
            Some(Bitmap::from_bools(&v))
        }
    }
}

/// Drop a mask that marks nothing as null.
pub fn normalize(m: Option<Bitmap>) -> Option<Bitmap> {
    m.filter(|b| b.null_count() > 0)
}
