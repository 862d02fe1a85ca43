//! The traversals behind [`super::reduce`]: how the values of a list-chain are routed to result
//! slots for each kind of axis.
//!
//! ```text
//!  dim = None        one fold over the leaf (parallel chunks, merged in order)
//!  dim = innermost   segmented fold over the last offsets (parallel over segments)
//!  dim = ndim - 2    "two-level": per group, member j-th values add into slot j of the
//!                    group's block (no index arrays; parallel over groups) — the
//!                    proteins × residues × xyz `mean(dim=1)` hot case
//!  any other dim     level by level below the axis, a result-slot id per element; result
//!                    node r gets length max(len(e)) over its members, children get start[r] + j
//! ```
//! All take a `map` from the stored element type to the accumulator's input, so a fused
//! executor can apply an elementwise chain while reducing (identity for plain reductions).

use super::accum::Acc;
use super::map::{Mapper, BLOCK};
use crate::buffer::{normalize, Bitmap, Buf, Native};
use crate::error::Result;
use crate::layout::{Layout, Leaf, List, Union};
use rayon::prelude::*;
use std::ops::Range;

/// Inputs with at least this many leaf values are reduced in parallel.
pub(super) const PAR_MIN: usize = 1 << 16;

/// A list-chain as views: `lists[d]` holds the rows at depth `d` (each a list of depth `d + 1`
/// elements), `leaf` the values at depth `ndim - 1`. Every view covers exactly the elements the
/// level above reaches, so `lists[d]` offsets minus their first entry index `lists[d + 1]`.
pub(super) struct Chain {
    pub(super) lists: smallvec::SmallVec<[List; 4]>,
    pub(super) leaf: Leaf,
}

/// Replace every union by its list form (a scalar row is a length-1 list), at any depth.
fn without_unions(l: &Layout) -> Result<Layout> {
    Ok(match l {
        Layout::Leaf(_) => l.clone(),
        Layout::List(x) if !x.child.has_union() => l.clone(),
        Layout::List(x) => Layout::List(List {
            offsets: x.offsets.clone(),
            validity: x.validity.clone(),
            child: std::sync::Arc::new(without_unions(&x.child)?),
        }),
        Layout::Union(u) => without_unions(&Layout::List(union_as_list(u)?))?,
    })
}

/// A union's rows as lists: a scalar row is a length-1 list, and a null row (null scalar or
/// null list) is a null, empty list, so it contributes nothing, like a null list elsewhere.
fn union_as_list(u: &Union) -> Result<List> {
    let l = u.to_list()?;
    let null_scalar = |i: usize| u.tags[i] == 0 && u.scalar.is_null(u.index[i] as usize);
    if !(0..u.len()).any(null_scalar) {
        return Ok(l);
    }
    let mut keep = Vec::with_capacity(l.child.len());
    let mut offsets = Vec::with_capacity(l.len() + 1);
    let mut valid = Vec::with_capacity(l.len());
    offsets.push(0i64);
    for i in 0..l.len() {
        if null_scalar(i) {
            valid.push(false);
        } else {
            keep.extend(l.row_range(i));
            valid.push(!l.is_null(i));
        }
        offsets.push(keep.len() as i64);
    }
    Ok(List::new(
        Buf::from_vec(offsets),
        normalize(Some(Bitmap::from_bools(&valid))),
        l.child.take(&keep),
    ))
}

impl Chain {
    pub(super) fn new(layout: &Layout) -> Result<Chain> {
        let mut cur = without_unions(layout)?;
        let mut lists = smallvec::SmallVec::new();
        loop {
            match cur {
                Layout::List(l) => {
                    let child = l.child_view();
                    lists.push(l);
                    cur = child;
                }
                Layout::Leaf(leaf) => return Ok(Chain { lists, leaf }),
                Layout::Union(_) => unreachable!("unions were converted to lists above"),
            }
        }
    }

    pub(super) fn ndim(&self) -> usize {
        self.lists.len() + 1
    }
}

/// Leaf values with their validity.
pub(super) struct Src<'a, T> {
    pub(super) vals: &'a [T],
    pub(super) valid: Option<&'a Bitmap>,
}

#[inline(always)]
fn span(o: &[i64], base: i64, i: usize) -> Range<usize> {
    (o[i] - base) as usize..(o[i + 1] - base) as usize
}

#[inline(always)]
fn fold_range<T: Copy, A: Acc, M: Mapper<T, Out = A::In>>(
    acc: &mut A,
    src: &Src<'_, T>,
    r: Range<usize>,
    m: &M,
) {
    match src.valid {
        None if r.len() >= 32 => fold_slice(acc, &src.vals[r], m),
        None => src.vals[r].iter().for_each(|&x| acc.push(m.one(x))),
        Some(v) => {
            for i in r {
                if v.get(i) {
                    acc.push(m.one(src.vals[i]));
                }
            }
        }
    }
}

/// Add the values of `r` into `dst[0..]`, value j into slot j.
#[inline(always)]
fn scatter_row<T: Copy, A: Acc, M: Mapper<T, Out = A::In>>(
    dst: &mut [A],
    src: &Src<'_, T>,
    r: Range<usize>,
    m: &M,
) {
    match src.valid {
        None if M::BLOCKED && r.len() >= 8 => {
            let mut buf = [A::In::default(); BLOCK];
            for (d, c) in dst.chunks_mut(BLOCK).zip(src.vals[r].chunks(BLOCK)) {
                let b = &mut buf[..c.len()];
                m.map_block(c, b);
                d.iter_mut().zip(b.iter()).for_each(|(a, &x)| a.push(x));
            }
        }
        None => dst
            .iter_mut()
            .zip(&src.vals[r])
            .for_each(|(a, &x)| a.push(m.one(x))),
        Some(v) => {
            for (a, i) in dst.iter_mut().zip(r) {
                if v.get(i) {
                    a.push(m.one(src.vals[i]));
                }
            }
        }
    }
}

/// Fold every valid leaf value into one accumulator (deterministic chunked merge when parallel).
pub(super) fn fold_all<T: Copy + Sync, A: Acc, M: Mapper<T, Out = A::In>>(
    src: &Src<'_, T>,
    m: &M,
) -> A {
    let n = src.vals.len();
    let mut acc = A::empty();
    if n < PAR_MIN {
        fold_range(&mut acc, src, 0..n, m);
        return acc;
    }
    // The same chunks, merged in the same order, whether they run in parallel or not.
    let part = |c: usize| {
        let mut a = A::empty();
        fold_range(&mut a, src, c * PAR_MIN..((c + 1) * PAR_MIN).min(n), m);
        a
    };
    let chunks = 0..n.div_ceil(PAR_MIN);
    let parts: Vec<A> = if crate::pool::is_serial() {
        chunks.map(part).collect()
    } else {
        chunks.into_par_iter().map(part).collect()
    };
    parts.iter().for_each(|p| acc.merge(p));
    acc
}

/// Innermost axis: one result per row of `rows` (the list just above the leaf).
pub(super) fn innermost<T: Copy + Sync, A: Acc, M: Mapper<T, Out = A::In>>(
    rows: &List,
    src: &Src<'_, T>,
    m: &M,
) -> Leaf {
    let o = rows.offsets.as_slice();
    let base = o[0];
    if let (Some(w), None) = (rows.regular_size().filter(|&w| w > 0), src.valid) {
        // Every row has w > 0 values, none null (a null row is empty): fold w-wide chunks of
        // the leaf straight into results, which are all valid.
        let vals = &src.vals[..rows.len() * w];
        return Leaf::valid(A::Out::wrap(Buf::from_vec(regular_rows::<T, A, M>(
            vals, w, m,
        ))));
    }
    let mut out = vec![A::empty(); rows.len()];
    let body = |(i, a): (usize, &mut A)| fold_range(a, src, span(o, base, i), m);
    if crate::pool::worth_splitting(src.vals.len(), PAR_MIN) {
        out.par_iter_mut()
            .enumerate()
            .with_min_len(64)
            .for_each(body);
    } else {
        out.iter_mut().enumerate().for_each(body);
    }
    super::finish(&out, rows.validity.as_ref())
}

/// One result per `w`-wide row of `vals` (no nulls). A blocked mapper maps whole rows a
/// block at a time.
fn regular_rows<T: Copy + Sync, A: Acc, M: Mapper<T, Out = A::In>>(
    vals: &[T],
    w: usize,
    m: &M,
) -> Vec<A::Out> {
    let nrows = vals.len() / w;
    let mut out = vec![A::Out::default(); nrows];
    let fold = |x: &[A::In]| {
        let mut a = A::empty();
        x.iter().for_each(|&v| a.push(v));
        a.finish().unwrap_or_default()
    };
    // Rows per task: whole rows of about BLOCK values (at least one row).
    let per = (BLOCK / w).max(1);
    let body = |(dst, c): (&mut [A::Out], &[T])| {
        if M::BLOCKED && w <= BLOCK {
            let mut buf = [A::In::default(); BLOCK];
            let b = &mut buf[..c.len()];
            m.map_block(c, b);
            for (d, r) in dst.iter_mut().zip(b.chunks_exact(w)) {
                *d = fold(r);
            }
        } else {
            for (d, r) in dst.iter_mut().zip(c.chunks_exact(w)) {
                let mut a = A::empty();
                push_all(&mut a, r, m);
                *d = a.finish().unwrap_or_default();
            }
        }
    };
    if crate::pool::worth_splitting(vals.len(), PAR_MIN) {
        out.par_chunks_mut(per)
            .zip(vals.par_chunks(per * w))
            .with_min_len((1024 / per).max(1))
            .for_each(body);
    } else {
        out.chunks_mut(per).zip(vals.chunks(per * w)).for_each(body);
    }
    out
}

/// Push every value of `vals`, in order, into one accumulator.
#[inline(always)]
fn push_all<T: Copy, A: Acc, M: Mapper<T, Out = A::In>>(a: &mut A, vals: &[T], m: &M) {
    if M::BLOCKED {
        let mut buf = [A::In::default(); BLOCK];
        for c in vals.chunks(BLOCK) {
            let b = &mut buf[..c.len()];
            m.map_block(c, b);
            b.iter().for_each(|&x| a.push(x));
        }
    } else {
        vals.iter().for_each(|&x| a.push(m.one(x)));
    }
}

/// `S`-wide rows packed in `block`: column j folds into `dst[j]`, with the accumulators held
/// in registers (the xyz case: S = 3). Four interleaved sets of accumulators (rows 4i, 4i+1,
/// ...) break the add latency chain; they are merged in a fixed order, so results are
/// deterministic. A blocked mapper maps `BLOCK` values (a multiple of `4 * S`) at a time, so
/// every value meets the same accumulator as without blocking.
#[inline(always)]
fn regular_block<T: Copy, A: Acc, M: Mapper<T, Out = A::In>, const S: usize>(
    dst: &mut [A],
    block: &[T],
    m: &M,
) {
    if A::F64_SUM {
        return regular_block_sums::<T, A, M, S>(dst, block, m);
    }
    let mut acc = [[A::empty(); S]; 4];
    if M::BLOCKED {
        let mut buf = [A::In::default(); BLOCK];
        for c in block.chunks(BLOCK) {
            let b = &mut buf[..c.len()];
            m.map_block(c, b);
            regular_quads::<A::In, A, S>(&mut acc, b, |x| x);
        }
    } else {
        regular_quads::<T, A, S>(&mut acc, block, |x| m.one(x));
    }
    for set in &acc {
        for (d, a) in dst.iter_mut().zip(set) {
            d.merge(a);
        }
    }
}

/// [`regular_block`] for [`Acc::F64_SUM`] accumulators: the same four interleaved sets of
/// `S` column sums, as plain `f64`s (4·S independent lanes the compiler vectorises), turned
/// back into accumulators with [`Acc::from_sum`] and merged in the same order. On x86-64
/// CPUs with AVX2 the loop is compiled for 256-bit vectors (the same IEEE additions and
/// multiplications per lane — no FMA contraction — so the results are identical).
#[inline(always)]
fn regular_block_sums<T: Copy, A: Acc, M: Mapper<T, Out = A::In>, const S: usize>(
    dst: &mut [A],
    block: &[T],
    m: &M,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { regular_block_sums_avx2::<T, A, M, S>(dst, block, m) };
    }
    regular_block_sums_impl::<T, A, M, S>(dst, block, m);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn regular_block_sums_avx2<T: Copy, A: Acc, M: Mapper<T, Out = A::In>, const S: usize>(
    dst: &mut [A],
    block: &[T],
    m: &M,
) {
    regular_block_sums_impl::<T, A, M, S>(dst, block, m);
}

#[inline(always)]
fn regular_block_sums_impl<T: Copy, A: Acc, M: Mapper<T, Out = A::In>, const S: usize>(
    dst: &mut [A],
    block: &[T],
    m: &M,
) {
    let mut sums = [[0.0f64; S]; 4];
    if M::BLOCKED {
        let mut buf = [A::In::default(); BLOCK];
        for c in block.chunks(BLOCK) {
            let b = &mut buf[..c.len()];
            m.map_block(c, b);
            sum_quads::<A::In, S>(&mut sums, b, |x| x.to_f64());
        }
    } else {
        sum_quads::<T, S>(&mut sums, block, |x| m.one(x).to_f64());
    }
    // Rows 4i + r went to set r; the rows after the last whole quad went to set 0.
    let rows = (block.len() / S) as u64;
    let (quads, rest) = (rows / 4, rows % 4);
    for (r, set) in sums.iter().enumerate() {
        let n = quads + if r == 0 { rest } else { 0 };
        for (d, &s) in dst.iter_mut().zip(set) {
            d.merge(&A::from_sum(s, n));
        }
    }
}

#[inline(always)]
fn sum_quads<X: Copy, const S: usize>(sums: &mut [[f64; S]; 4], vals: &[X], f: impl Fn(X) -> f64) {
    let quads = vals.chunks_exact(4 * S);
    let rest = quads.remainder();
    for q in quads {
        for (r, set) in sums.iter_mut().enumerate() {
            for j in 0..S {
                set[j] += f(q[r * S + j]);
            }
        }
    }
    for row in rest.chunks_exact(S) {
        for j in 0..S {
            sums[0][j] += f(row[j]);
        }
    }
}

#[inline(always)]
fn regular_quads<X: Copy, A: Acc, const S: usize>(
    acc: &mut [[A; S]; 4],
    vals: &[X],
    f: impl Fn(X) -> A::In,
) {
    let quads = vals.chunks_exact(4 * S);
    let rest = quads.remainder();
    for q in quads {
        for (r, set) in acc.iter_mut().enumerate() {
            for j in 0..S {
                set[j].push(f(q[r * S + j]));
            }
        }
    }
    for row in rest.chunks_exact(S) {
        for j in 0..S {
            acc[0][j].push(f(row[j]));
        }
    }
}

/// Fold a slice with four interleaved accumulators (see [`regular_block`]).
#[inline(always)]
fn fold_slice<T: Copy, A: Acc, M: Mapper<T, Out = A::In>>(acc: &mut A, vals: &[T], m: &M) {
    let mut p = [A::empty(); 4];
    if M::BLOCKED {
        let mut buf = [A::In::default(); BLOCK];
        for c in vals.chunks(BLOCK) {
            let b = &mut buf[..c.len()];
            m.map_block(c, b);
            fold_quads(&mut p, b, |x| x);
        }
    } else {
        fold_quads(&mut p, vals, |x| m.one(x));
    }
    p.iter().for_each(|q| acc.merge(q));
}

#[inline(always)]
fn fold_quads<X: Copy, A: Acc>(p: &mut [A; 4], vals: &[X], f: impl Fn(X) -> A::In) {
    let quads = vals.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        for (a, &x) in p.iter_mut().zip(q) {
            a.push(f(x));
        }
    }
    rest.iter().for_each(|&x| p[0].push(f(x)));
}

/// Prefix sums of `lens` as i64 offsets starting at 0.
fn prefix(lens: &[i64]) -> Vec<i64> {
    let mut out = Vec::with_capacity(lens.len() + 1);
    let mut acc = 0i64;
    out.push(0);
    for &l in lens {
        acc += l;
        out.push(acc);
    }
    out
}

/// Per group (members `member_range(g)` of the member offsets `mo`): the longest member, and
/// whether every member has that length.
fn member_stats(
    ngroups: usize,
    mo: &[i64],
    member_range: &(impl Fn(usize) -> Range<usize> + Sync),
) -> (Vec<i64>, Vec<bool>) {
    let stats = |g: usize| {
        let r = member_range(g);
        if r.is_empty() {
            return (0, true);
        }
        let w = &mo[r.start..=r.end];
        let s = w[1] - w[0];
        // Branch-free check (vectorises): every member as long as the first.
        let same = w[1..]
            .iter()
            .zip(w)
            .fold(true, |ok, (b, a)| ok & (b - a == s));
        if same {
            (s, true)
        } else {
            let hi = w[1..].iter().zip(w).map(|(b, a)| b - a).max().unwrap_or(0);
            (hi, false)
        }
    };
    if crate::pool::worth_splitting(mo.len(), PAR_MIN / 4) {
        (0..ngroups)
            .into_par_iter()
            .with_min_len(64)
            .map(stats)
            .unzip()
    } else {
        (0..ngroups).map(stats).unzip()
    }
}

/// Axis `ndim - 2`: the members of each group (`groups` rows, or one group of every member when
/// `groups` is `None`) are rows of `members` over the leaf; returns the result offsets (one
/// row per group, of length max member length) and the accumulators.
pub(super) fn two_level<T: Copy + Sync, A: Acc, M: Mapper<T, Out = A::In>>(
    groups: Option<&List>,
    members: &List,
    src: &Src<'_, T>,
    m: &M,
) -> (Vec<i64>, Vec<A>) {
    let mo = members.offsets.as_slice();
    let mb = mo[0];
    let member_range = |g: usize| -> Range<usize> {
        match groups {
            Some(gl) => span(gl.offsets.as_slice(), gl.offsets[0], g),
            None => 0..members.len(),
        }
    };
    let ngroups = groups.map_or(1, List::len);
    // Every member of every group has length s (cached for regular offsets such as the xyz
    // level of proteins × residues × xyz): the member offsets need not be read, and each
    // non-empty group is one regular block of s results.
    let step = members.offsets.regular_step();
    let (starts, regular) = match step {
        Some(s) => {
            let mut starts = Vec::with_capacity(ngroups + 1);
            let mut end = 0i64;
            starts.push(end);
            for g in 0..ngroups {
                end += if member_range(g).is_empty() { 0 } else { s };
                starts.push(end);
            }
            (starts, None)
        }
        None => {
            let (lens, regular) = member_stats(ngroups, mo, &member_range);
            (prefix(&lens), Some(regular))
        }
    };
    let mut out = vec![A::empty(); *starts.last().unwrap_or(&0) as usize];
    let body = |g: usize, dst: &mut [A]| {
        let mr = member_range(g);
        if regular.as_ref().is_none_or(|r| r[g]) && src.valid.is_none() && !mr.is_empty() {
            // Members of one length s are one contiguous block of s-wide chunks. With regular
            // offsets its bounds are known without reading them (each read would be a cache
            // miss: the member offsets are as long as the data).
            let (lo, hi) = match step {
                Some(s) => (mr.start * s as usize, mr.end * s as usize),
                None => ((mo[mr.start] - mb) as usize, (mo[mr.end] - mb) as usize),
            };
            let block = &src.vals[lo..hi];
            match dst.len() {
                1 => regular_block::<T, A, M, 1>(dst, block, m),
                2 => regular_block::<T, A, M, 2>(dst, block, m),
                3 => regular_block::<T, A, M, 3>(dst, block, m),
                4 => regular_block::<T, A, M, 4>(dst, block, m),
                _ => mr.for_each(|e| scatter_row(dst, src, span(mo, mb, e), m)),
            }
            return;
        }
        for e in mr {
            scatter_row(dst, src, span(mo, mb, e), m);
        }
    };
    // Group g's results are out[starts[g]..starts[g + 1]].
    let mut rest: &mut [A] = &mut out;
    if crate::pool::worth_splitting(src.vals.len(), PAR_MIN) && ngroups > 1 {
        let mut blocks: Vec<&mut [A]> = Vec::with_capacity(ngroups);
        for w in starts.windows(2) {
            let (head, tail) = rest.split_at_mut((w[1] - w[0]) as usize);
            blocks.push(head);
            rest = tail;
        }
        blocks
            .par_iter_mut()
            .enumerate()
            .with_min_len(8)
            .for_each(|(g, dst)| body(g, dst));
    } else {
        for (g, w) in starts.windows(2).enumerate() {
            let (head, tail) = rest.split_at_mut((w[1] - w[0]) as usize);
            body(g, head);
            rest = tail;
        }
    }
    (starts, out)
}

/// Any axis `k < ndim - 1` (sequential): result offsets for the result levels `0..ndim-1-k`
/// (level 0 has one row per group) and the accumulators of the bottom level.
pub(super) fn general<T: Copy + Sync, A: Acc, M: Mapper<T, Out = A::In>>(
    chain: &Chain,
    k: usize,
    src: &Src<'_, T>,
    m: &M,
) -> (Vec<Vec<i64>>, Vec<A>) {
    let n = chain.ndim();
    debug_assert!(k + 2 <= n);
    // Result slot of every element at depth k: its group.
    let (mut slot, mut nres): (Vec<usize>, usize) = if k == 0 {
        (vec![0; chain.lists[0].len()], 1)
    } else {
        let g = &chain.lists[k - 1];
        let o = g.offsets.as_slice();
        let mut s = vec![0usize; (o[o.len() - 1] - o[0]) as usize];
        for i in 0..g.len() {
            s[span(o, o[0], i)].fill(i);
        }
        (s, g.len())
    };
    let mut levels = Vec::with_capacity(n - 1 - k);
    for d in k..n - 1 {
        let l = &chain.lists[d];
        let o = l.offsets.as_slice();
        let base = o[0];
        let mut lens = vec![0i64; nres];
        for (e, &s) in slot.iter().enumerate() {
            lens[s] = lens[s].max(o[e + 1] - o[e]);
        }
        let starts = prefix(&lens);
        let total = *starts.last().unwrap_or(&0) as usize;
        if d == n - 2 {
            let mut out = vec![A::empty(); total];
            for (e, &s) in slot.iter().enumerate() {
                let st = starts[s] as usize;
                scatter_row(&mut out[st..], src, span(o, base, e), m);
            }
            levels.push(starts);
            return (levels, out);
        }
        let mut next = vec![0usize; (o[o.len() - 1] - base) as usize];
        for (e, &s) in slot.iter().enumerate() {
            let st = starts[s] as usize;
            for (j, c) in span(o, base, e).enumerate() {
                next[c] = st + j;
            }
        }
        levels.push(starts);
        slot = next;
        nres = total;
    }
    unreachable!("the loop returns at depth ndim - 2")
}

#[cfg(test)]
mod tests {
    use super::super::accum::{Mean, SumF};
    use super::super::map::FnMap;
    use super::*;

    /// The accumulators of pushing value by value in the interleaved order of
    /// `regular_quads` (row 4i + r into set r, leftover rows into set 0), sets merged in order.
    fn by_hand<A: Acc<In = f64>, const S: usize>(vals: &[f64], f: impl Fn(f64) -> f64) -> [A; S] {
        let mut sets = [[A::empty(); S]; 4];
        let rows: Vec<&[f64]> = vals.chunks_exact(S).collect();
        let whole = rows.len() / 4 * 4;
        for (i, row) in rows.iter().enumerate() {
            let set = if i < whole { i % 4 } else { 0 };
            for j in 0..S {
                sets[set][j].push(f(row[j]));
            }
        }
        let mut out = [A::empty(); S];
        for set in &sets {
            for (d, a) in out.iter_mut().zip(set) {
                d.merge(a);
            }
        }
        out
    }

    fn bits<A: Acc<Out = f64>>(a: &[A]) -> Vec<Option<u64>> {
        a.iter().map(|x| x.finish().map(f64::to_bits)).collect()
    }

    fn check<const S: usize>(vals: &[f64]) {
        let f = |x: f64| x * 0.5 - 3.0;
        let m = FnMap(f);
        let mut mean = [Mean::<f64, f64>::empty(); S];
        regular_block::<f64, Mean<f64, f64>, _, S>(&mut mean, vals, &m);
        assert_eq!(
            bits(&mean),
            bits(&by_hand::<Mean<f64, f64>, S>(vals, f)),
            "mean S={S} n={}",
            vals.len()
        );
        let mut sum = [SumF::<f64>::empty(); S];
        regular_block::<f64, SumF<f64>, _, S>(&mut sum, vals, &m);
        assert_eq!(
            bits(&sum),
            bits(&by_hand::<SumF<f64>, S>(vals, f)),
            "sum S={S} n={}",
            vals.len()
        );
    }

    #[test]
    fn plain_sum_loops_match_value_by_value_pushes() {
        let vals: Vec<f64> = (0..4 * 4000)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.731 - 300.0)
            .collect();
        for rows in [0, 1, 3, 4, 5, 17, 256, 1000, 3207] {
            check::<1>(&vals[..rows]);
            check::<2>(&vals[..rows * 2]);
            check::<3>(&vals[..rows * 3]);
            check::<4>(&vals[..rows * 4]);
        }
    }
}
