//! The byte shuffle of `numcodecs.shuffle` (Zarr v3 name; zarrs and zarr-python 3 implement
//! it): the first byte of every element, then the second byte of every element, and so on.
//!
//! ```text
//!   elements (int64 LE):  [a0 a1 .. a7][b0 b1 .. b7][c0 ..]
//!   shuffled:             a0 b0 c0 .. | a1 b1 c1 .. | .. | a7 b7 c7 ..
//! ```
//! With `codec="zstd+shuffle"` grumpy writes multi-byte integer buffers (offsets above all)
//! shuffled before zstd: the high bytes of offsets are long runs of equal bytes, so zstd stores
//! them as a few long matches instead of one short literal and one short match per element.
//! The chunk is a fifth smaller and decodes several times faster; undoing the shuffle is one
//! pass in cache. Stores written with it by zarr-python (or another tool) read the same way.
//!
//! ```
//! use grumpy_zarr::shuffle::{shuffle, unshuffle};
//! let v: Vec<u8> = (0u16..4).flat_map(|x| (x * 257 + 1).to_le_bytes()).collect();
//! let mut s = vec![0; v.len()];
//! shuffle(&v, &mut s, 2);
//! assert_eq!(s, [1, 2, 3, 4, 0, 1, 2, 3]);
//! let mut back = vec![0; v.len()];
//! unshuffle(&s, &mut back, 2);
//! assert_eq!(back, v);
//! ```

/// Elements handled per tile: `K` streams of this many bytes transposed at once.
const TILE: usize = 16;

/// Shuffle `src` (elements of `k` bytes; `src.len()` a multiple of `k`) into `dst`.
pub fn shuffle(src: &[u8], dst: &mut [u8], k: usize) {
    assert!(k > 0 && src.len() == dst.len() && src.len().is_multiple_of(k));
    let n = src.len() / k;
    for (j, e) in src.chunks_exact(k).enumerate() {
        for (i, &b) in e.iter().enumerate() {
            dst[i * n + j] = b;
        }
    }
}

/// Undo [`shuffle`]: `dst[j * k + i] = src[i * n + j]` for `n = src.len() / k` elements.
pub fn unshuffle(src: &[u8], dst: &mut [u8], k: usize) {
    assert!(k > 0 && src.len() == dst.len() && src.len().is_multiple_of(k));
    match k {
        8 => {
            let done = unshuffle8_simd(src, dst);
            unshuffle_tail::<8>(src, dst, done);
        }
        4 => unshuffle_k::<4>(src, dst),
        2 => unshuffle_k::<2>(src, dst),
        1 => dst.copy_from_slice(src),
        _ => {
            let n = src.len() / k;
            for (j, e) in dst.chunks_exact_mut(k).enumerate() {
                for (i, b) in e.iter_mut().enumerate() {
                    *b = src[i * n + j];
                }
            }
        }
    }
}

/// Elements `[from, n)` of [`unshuffle`] for `K`-byte elements, one at a time.
fn unshuffle_tail<const K: usize>(src: &[u8], dst: &mut [u8], from: usize) {
    let n = src.len() / K;
    for (j, e) in dst[from * K..].chunks_exact_mut(K).enumerate() {
        for (i, b) in e.iter_mut().enumerate() {
            *b = src[i * n + from + j];
        }
    }
}

/// [`unshuffle`] of 8-byte elements, 16 at a time with SSE2 (every x86-64 has it): 16 bytes of
/// each of the 8 byte streams in, 16 elements out, by interleaving bytes, then pairs, then
/// quads. Returns how many elements it did (a multiple of 16); the rest is left to the caller.
#[cfg(target_arch = "x86_64")]
fn unshuffle8_simd(src: &[u8], dst: &mut [u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_unpackhi_epi16, _mm_unpackhi_epi32,
        _mm_unpackhi_epi8, _mm_unpacklo_epi16, _mm_unpacklo_epi32, _mm_unpacklo_epi8,
    };
    assert_eq!(src.len(), dst.len());
    let n = src.len() / 8;
    let whole = n / 16 * 16;
    for t in (0..whole).step_by(16) {
        // SAFETY: stream i's bytes t..t + 16 lie in src[i * n + t..][..16] (t + 16 <= n), and
        // elements t..t + 16 in dst[t * 8..][..128] (t + 16 <= n, dst.len() == 8 * n);
        // unaligned loads and stores; SSE2 is part of x86-64.
        unsafe {
            let s = |i: usize| _mm_loadu_si128(src.as_ptr().add(i * n + t).cast::<__m128i>());
            let (s0, s1, s2, s3) = (s(0), s(1), s(2), s(3));
            let (s4, s5, s6, s7) = (s(4), s(5), s(6), s(7));
            // bytes (0,1), (2,3), (4,5), (6,7) of elements 0-7 (lo) and 8-15 (hi)
            let (a01l, a01h) = (_mm_unpacklo_epi8(s0, s1), _mm_unpackhi_epi8(s0, s1));
            let (a23l, a23h) = (_mm_unpacklo_epi8(s2, s3), _mm_unpackhi_epi8(s2, s3));
            let (a45l, a45h) = (_mm_unpacklo_epi8(s4, s5), _mm_unpackhi_epi8(s4, s5));
            let (a67l, a67h) = (_mm_unpacklo_epi8(s6, s7), _mm_unpackhi_epi8(s6, s7));
            // bytes 0-3 (b) and 4-7 (c) of elements 0-3, 4-7, 8-11, 12-15
            let b = [
                _mm_unpacklo_epi16(a01l, a23l),
                _mm_unpackhi_epi16(a01l, a23l),
                _mm_unpacklo_epi16(a01h, a23h),
                _mm_unpackhi_epi16(a01h, a23h),
            ];
            let c = [
                _mm_unpacklo_epi16(a45l, a67l),
                _mm_unpackhi_epi16(a45l, a67l),
                _mm_unpacklo_epi16(a45h, a67h),
                _mm_unpackhi_epi16(a45h, a67h),
            ];
            let out = dst.as_mut_ptr().add(t * 8);
            for q in 0..4 {
                // elements 4q, 4q + 1 then 4q + 2, 4q + 3: whole 8-byte elements
                let lo = _mm_unpacklo_epi32(b[q], c[q]);
                let hi = _mm_unpackhi_epi32(b[q], c[q]);
                _mm_storeu_si128(out.add(32 * q).cast::<__m128i>(), lo);
                _mm_storeu_si128(out.add(32 * q + 16).cast::<__m128i>(), hi);
            }
        }
    }
    whole
}

/// Other targets: no vector path, the tail does everything.
#[cfg(not(target_arch = "x86_64"))]
fn unshuffle8_simd(_src: &[u8], _dst: &mut [u8]) -> usize {
    0
}

/// [`unshuffle`] for `K`-byte elements, [`TILE`] elements at a time (a `K × TILE` byte
/// transpose the compiler turns into vector shuffles).
fn unshuffle_k<const K: usize>(src: &[u8], dst: &mut [u8]) {
    let n = src.len() / K;
    let streams: [&[u8]; K] = std::array::from_fn(|i| &src[i * n..(i + 1) * n]);
    let whole = n / TILE * TILE;
    for (t, out) in dst[..whole * K].chunks_exact_mut(TILE * K).enumerate() {
        let mut tile = [[0u8; TILE]; K];
        for (row, s) in tile.iter_mut().zip(&streams) {
            row.copy_from_slice(&s[t * TILE..(t + 1) * TILE]);
        }
        for (j, e) in out.chunks_exact_mut(K).enumerate() {
            for (i, b) in e.iter_mut().enumerate() {
                *b = tile[i][j];
            }
        }
    }
    unshuffle_tail::<K>(src, dst, whole);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round trips for every element size and lengths around the tile size, against the
    /// definition written out element by element.
    #[test]
    fn round_trips_and_matches_the_definition() {
        for k in [1usize, 2, 3, 4, 8, 16] {
            for n in [0usize, 1, 15, 16, 17, 31, 32, 33, 1000, 1003] {
                let src: Vec<u8> = (0..n * k).map(|x| (x * 7 + x / 5) as u8).collect();
                let mut s = vec![0u8; src.len()];
                shuffle(&src, &mut s, k);
                for j in 0..n {
                    for i in 0..k {
                        assert_eq!(s[i * n + j], src[j * k + i], "k={k} n={n}");
                    }
                }
                let mut back = vec![0u8; src.len()];
                unshuffle(&s, &mut back, k);
                assert_eq!(back, src, "k={k} n={n}");
            }
        }
    }
}
