//! The fast path of `x[key] = value`: which leaf positions a key selects, as *runs* of
//! consecutive positions, found by walking the offsets of a list-chain array (no per-element
//! position arrays).
//!
//! ```text
//!   x = [[a b c] [d e] [f]]      offsets [0, 3, 5, 6], leaf [a b c d e f]
//!   x[:]      → runs [0..6]               one run, whatever the number of rows
//!   x[:, 0]   → runs [0..1, 3..4, 5..6]   one run per row
//!   x[1:]     → runs [3..6]
//!   x[x > c]  → runs [3..6]               a jagged mask, merged into runs
//! ```
//!
//! Only the common case is handled here: a list chain (no unions) without null lists, and keys
//! whose semantics are plain per-row selection. Anything else — including every key that
//! fails — returns `None`, and the caller takes the general path, which also produces the
//! error message. The selection order matches [`get`](super::get) exactly, so the k-th
//! selected position is the k-th leaf of `x[key]`.

use super::select::{resolve, slice_range};
use super::Index;
use crate::buffer::Values;
use crate::kernels::cast::cast_values;
use crate::layout::{Layout, Leaf};
use std::ops::Range;

/// Leaf positions, in target order, as ranges (adjacent ranges are merged).
pub(super) type Runs = Vec<Range<usize>>;

fn push(runs: &mut Runs, r: Range<usize>) {
    if r.is_empty() {
        return;
    }
    if let Some(last) = runs.last_mut() {
        if last.end == r.start {
            last.end = r.end;
            return;
        }
    }
    runs.push(r);
}

/// A list chain seen as its offsets (outermost first) and its leaf.
struct Chain<'a> {
    levels: Vec<&'a [i64]>,
    leaf: &'a Leaf,
}

impl Chain<'_> {
    /// Number of positions at level 0 (rows of the array).
    fn rows(&self) -> usize {
        self.levels
            .first()
            .map_or(self.leaf.len(), |o| o.len().saturating_sub(1))
    }
}

/// `l` as a chain, if it is a list chain without null lists.
fn chain(l: &Layout) -> Option<Chain<'_>> {
    let mut levels = Vec::new();
    let mut cur = l;
    loop {
        match cur {
            Layout::Leaf(leaf) => return Some(Chain { levels, leaf }),
            Layout::List(x) if x.validity.is_none() => {
                levels.push(x.offsets.as_slice());
                cur = &x.child;
            }
            _ => return None,
        }
    }
}

/// Map runs of positions at level `from` down to leaf positions.
fn to_leaf(c: &Chain<'_>, mut runs: Runs, from: usize) -> Runs {
    for off in &c.levels[from..] {
        let mut next = Vec::with_capacity(runs.len());
        for r in runs {
            push(&mut next, off[r.start] as usize..off[r.end] as usize);
        }
        runs = next;
    }
    runs
}

/// Select with `ix` inside the group `g` (the children of one selected row).
fn select(ix: &Index, g: Range<usize>, out: &mut Runs) -> Option<()> {
    let n = g.len();
    match ix {
        Index::All => push(out, g),
        Index::Int(j) => {
            let p = g.start + resolve(*j, n).ok()?;
            push(out, p..p + 1);
        }
        Index::Slice { start, stop, step } => {
            let (a, s, c) = slice_range(*start, *stop, *step, n).ok()?;
            if s == 1 {
                let a = g.start + a as usize;
                push(out, a..a + c);
            } else {
                for k in 0..c as i64 {
                    let p = g.start + (a + k * s) as usize;
                    push(out, p..p + 1);
                }
            }
        }
        Index::Ints(v) => {
            for &i in v {
                let p = g.start + resolve(i, n).ok()?;
                push(out, p..p + 1);
            }
        }
        Index::Mask(m) => {
            if m.len() != n {
                return None;
            }
            for (k, _) in m.iter().enumerate().filter(|&(_, &b)| b) {
                push(out, g.start + k..g.start + k + 1);
            }
        }
        Index::Jagged(_) => return None,
    }
    Some(())
}

/// A boolean selection of one contiguous leaf range: position `start + i` is selected when
/// `flags[fstart + i]` is true and valid (`x[mask] = v` on a flat array, `x[x > c] = v` with a
/// mask as deep as `x`). Filling it needs no runs at all.
pub(super) struct Masked<'a> {
    pub(super) start: usize,
    pub(super) len: usize,
    pub(super) flags: &'a [bool],
    pub(super) fstart: usize,
    pub(super) valid: Option<&'a crate::buffer::Bitmap>,
}

impl Masked<'_> {
    /// Whether leaf position `start + i` is selected.
    #[inline]
    pub(super) fn selected(&self, i: usize) -> bool {
        let q = self.fstart + i;
        self.flags[q] && self.valid.is_none_or(|v| v.get(q))
    }
}

/// `idx` as a [`Masked`] selection of `l`'s leaf, when it is one.
pub(super) fn masked<'a>(l: &Layout, idx: &'a [Index]) -> Option<Masked<'a>> {
    let c = chain(l)?;
    match idx {
        [Index::Mask(m)] if c.levels.is_empty() && m.len() == c.leaf.len() => Some(Masked {
            start: 0,
            len: m.len(),
            flags: m,
            fstart: 0,
            valid: None,
        }),
        [Index::Jagged(m), rest @ ..] if rest.iter().all(|i| *i == Index::All) => {
            let mc = chain(&m.layout)?;
            if mc.levels.len() != c.levels.len() || mc.levels.is_empty() {
                return None;
            }
            let flags = mc.leaf.values.as_slice::<bool>()?;
            let (mut xs, mut ms) = (0..c.rows(), 0..mc.rows());
            if xs.len() != ms.len() {
                return None;
            }
            for (xo, mo) in c.levels.iter().zip(&mc.levels) {
                let (xo, mo) = (&xo[xs.start..=xs.end], &mo[ms.start..=ms.end]);
                let (x0, m0) = (xo[0], mo[0]);
                if xo.iter().zip(mo).any(|(a, b)| a - x0 != b - m0) {
                    return None;
                }
                xs = x0 as usize..xo[xo.len() - 1] as usize;
                ms = m0 as usize..mo[mo.len() - 1] as usize;
            }
            Some(Masked {
                start: xs.start,
                len: xs.len(),
                flags,
                fstart: ms.start,
                valid: mc.leaf.validity.as_ref(),
            })
        }
        _ => None,
    }
}

/// The leaf positions `idx` selects in `l`, or `None` when the general path must run (see
/// the module docs).
pub(super) fn runs(l: &Layout, idx: &[Index]) -> Option<Runs> {
    let c = chain(l)?;
    if let Some(Index::Jagged(m)) = idx.first() {
        if idx[1..].iter().any(|i| *i != Index::All) {
            return None;
        }
        return jagged(&c, &m.layout);
    }
    let n_adv = idx.iter().filter(|i| i.is_advanced()).count();
    let pairing =
        idx.first().is_some_and(Index::is_advanced) && matches!(idx.get(1), Some(Index::Ints(_)));
    if idx.len() > c.levels.len() + 1 || n_adv > 1 || pairing {
        return None;
    }
    let mut sel: Runs = vec![0..c.rows()];
    for (d, ix) in idx.iter().enumerate() {
        // One run per selected group at most for an integer (`x[:, 0]`: one per row): sized
        // once, not grown by doubling through fresh memory.
        let mut next = match ix {
            Index::Int(_) if d > 0 => Vec::with_capacity(sel.iter().map(|r| r.len()).sum()),
            _ => Vec::new(),
        };
        if d == 0 {
            select(ix, 0..c.rows(), &mut next)?;
        } else {
            // `ix` applies inside every position selected at level d - 1.
            let off = c.levels[d - 1];
            if *ix == Index::All {
                for r in &sel {
                    push(&mut next, off[r.start] as usize..off[r.end] as usize);
                }
            } else {
                for r in &sel {
                    for p in r.clone() {
                        select(ix, off[p] as usize..off[p + 1] as usize, &mut next)?;
                    }
                }
            }
        }
        sel = next;
    }
    Some(to_leaf(&c, sel, idx.len().saturating_sub(1)))
}

/// Runs for a jagged index `m` (a list chain of bools or ints, as in [`super::get`]).
fn jagged(c: &Chain<'_>, m: &Layout) -> Option<Runs> {
    let mc = chain(m)?;
    let k = mc.levels.len();
    if k == 0 || k > c.levels.len() {
        return None;
    }
    let (mut xs, mut ms) = (0..c.rows(), 0..mc.rows());
    if xs.len() != ms.len() {
        return None;
    }
    // Levels above the last must match row for row.
    for d in 0..k - 1 {
        let (xo, mo) = (c.levels[d], mc.levels[d]);
        for i in 0..xs.len() {
            let (x0, m0) = (xs.start + i, ms.start + i);
            if xo[x0 + 1] - xo[x0] != mo[m0 + 1] - mo[m0] {
                return None;
            }
        }
        xs = xo[xs.start] as usize..xo[xs.end] as usize;
        ms = mo[ms.start] as usize..mo[ms.end] as usize;
    }
    let (xo, mo) = (c.levels[k - 1], mc.levels[k - 1]);
    let leaf = mc.leaf;
    let mut out = Vec::new();
    match &leaf.values {
        Values::Bool(b) => {
            for i in 0..xs.len() {
                let (x0, m0) = (xs.start + i, ms.start + i);
                let (xr, mr) = (xo[x0] as usize..xo[x0 + 1] as usize, mo[m0]..mo[m0 + 1]);
                if xr.len() as i64 != mr.end - mr.start {
                    return None;
                }
                for q in mr.start as usize..mr.end as usize {
                    if b[q] && !leaf.is_null(q) {
                        let p = xr.start + (q - mr.start as usize);
                        push(&mut out, p..p + 1);
                    }
                }
            }
        }
        v if v.dtype().is_integer() => {
            if leaf.validity.is_some() {
                return None;
            }
            let ints = cast_values(v, crate::dtype::DType::Int64).ok()?;
            let ints = ints.as_slice::<i64>()?;
            for i in 0..xs.len() {
                let (x0, m0) = (xs.start + i, ms.start + i);
                let xr = xo[x0] as usize..xo[x0 + 1] as usize;
                for &j in &ints[mo[m0] as usize..mo[m0 + 1] as usize] {
                    let p = xr.start + resolve(j, xr.len()).ok()?;
                    push(&mut out, p..p + 1);
                }
            }
        }
        _ => return None,
    }
    Some(to_leaf(c, out, k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::Array;
    use crate::layout::Item;

    fn arr(it: Item) -> Array {
        Array::from_item(&it, None).unwrap()
    }

    #[test]
    fn runs_follow_the_key() {
        let x = arr(vec![vec![1i64, 2, 3], vec![4, 5], vec![6]].into());
        let r = |idx: &[Index]| runs(&x.layout, idx);
        assert_eq!(r(&[Index::All]), Some(vec![0..6]));
        assert_eq!(r(&[]), Some(vec![0..6]));
        assert_eq!(
            r(&[Index::All, Index::Int(0)]),
            Some(vec![0..1, 3..4, 5..6])
        );
        assert_eq!(r(&[Index::All, Index::Int(-1)]), Some(vec![2..3, 4..6]));
        assert_eq!(r(&[Index::slice(Some(1), None, None)]), Some(vec![3..6]));
        assert_eq!(r(&[Index::Int(1)]), Some(vec![3..5]));
        assert_eq!(
            r(&[Index::Int(0), Index::Ints(vec![2, 0])]),
            Some(vec![2..3, 0..1])
        );
        assert_eq!(
            r(&[Index::Mask(vec![true, false, true]), Index::All]),
            Some(vec![0..3, 5..6])
        );
        // Errors and pairing go to the general path.
        assert_eq!(r(&[Index::All, Index::Int(1)]), None);
        assert_eq!(r(&[Index::Ints(vec![0]), Index::Ints(vec![0])]), None);
        assert_eq!(r(&[Index::Int(0), Index::Int(0), Index::Int(0)]), None);
        let flat = arr(vec![1.0, 2.0, 3.0].into());
        assert_eq!(
            runs(&flat.layout, &[Index::slice(None, None, Some(-2))]),
            Some(vec![2..3, 0..1])
        );
        let nulls = arr(Item::list(vec![vec![1i64].into(), Item::Null]));
        assert_eq!(runs(&nulls.layout, &[Index::All]), None);
        let m = arr(vec![vec![false, true, true], vec![true, false], vec![true]].into());
        assert_eq!(runs(&x.layout, &[Index::Jagged(m)]), Some(vec![1..4, 5..6]));
        let picks = arr(vec![vec![-1i64], vec![], vec![0, 0]].into());
        assert_eq!(
            runs(&x.layout, &[Index::Jagged(picks)]),
            Some(vec![2..3, 5..6, 5..6])
        );
    }

    #[test]
    fn masks_shaped_like_the_leaf_need_no_runs() {
        let x = arr(vec![vec![1i64, 2, 3], vec![4, 5], vec![6]].into());
        let m = arr(vec![vec![false, true, true], vec![true, false], vec![true]].into());
        let idx = [Index::Jagged(m)];
        let t = masked(&x.layout, &idx).unwrap();
        let sel: Vec<usize> = (0..t.len)
            .filter(|&i| t.selected(i))
            .map(|i| t.start + i)
            .collect();
        assert_eq!(sel, vec![1, 2, 3, 5]);
        let view = x.slice(1, 2); // rows [4, 5], [6]: leaf positions 3..6
        let m = arr(vec![vec![false, true], vec![true]].into());
        let idx = [Index::Jagged(m)];
        let t = masked(&view.layout, &idx).unwrap();
        assert_eq!((t.start, t.len), (3, 3));
        let bad = arr(vec![vec![true, true], vec![true]].into());
        assert!(masked(&x.layout, &[Index::Jagged(bad)]).is_none());
        let shallow = arr(vec![true, false, true].into());
        assert!(masked(&x.layout, &[Index::Jagged(shallow)]).is_none());
        let flat = arr(vec![1.0, 2.0].into());
        let idx = [Index::Mask(vec![false, true])];
        assert!(masked(&flat.layout, &idx).is_some_and(|t| !t.selected(0) && t.selected(1)));
    }
}
