//! The output buffers of a search, allocated once in their final format and split into
//! disjoint per-task [`Slab`]s that the kernels write directly (no per-query vectors, no copy
//! afterwards).
//!
//! ```text
//!   Form::Index      main = [j, j, j, ...]                      (E values, local neighbour)
//!   Form::Pairs      main = [q, j, q, j, ...]                   (2E values, local indices)
//!   Form::EdgeIndex  main = [src ... src | dst ... dst]         (2E values, global indices)
//!   dist (optional)       = [d, d, d, ...]                      (E Euclidean distances)
//!   task t writes edges cuts[t]..cuts[t+1] of every buffer
//! ```

use crate::error::{Code, Error, Result};

/// What the search writes per edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// The neighbour's index local to its group.
    Index,
    /// Interleaved `[query, neighbour]` pairs, both local to the group.
    Pairs,
    /// PyG `edge_index`: row 0 the global neighbour index, row 1 the global query index.
    EdgeIndex,
}

/// Output buffers in their final format.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) form: Form,
    pub(crate) main: Vec<i64>,
    pub(crate) dist: Option<Vec<f64>>,
}

/// Plain numbers for which all-zero bytes are a valid value.
pub(crate) trait Zeroable: Copy {}
impl Zeroable for i64 {}
impl Zeroable for f64 {}

/// Bytes per edge of the final result (main buffer, distances, pair offsets).
fn bytes_per_edge(form: Form, with_dist: bool) -> usize {
    let main = match form {
        Form::Index => 8,
        Form::Pairs => 16 + 8, // pairs and their offsets
        Form::EdgeIndex => 16,
    };
    main + if with_dist { 8 } else { 0 }
}

/// The error for a result that does not fit in memory.
pub(crate) fn too_big(edges: usize, form: Form, with_dist: bool) -> Error {
    let bytes = edges as f64 * bytes_per_edge(form, with_dist) as f64;
    Error::new(
        Code::Value,
        "gr.neighbors: the result does not fit in memory",
        format!(
            "{edges} neighbour pairs or more, needing about {:.1} GB",
            bytes / 1e9
        ),
        "use a smaller k or radius, or search fewer points at a time",
    )
}

/// The largest number of edges whose result fits in the memory available now (unbounded
/// when the platform does not say).
pub(crate) fn edge_budget(form: Form, with_dist: bool) -> usize {
    available_memory().map_or(usize::MAX, |m| m / bytes_per_edge(form, with_dist))
}

/// A zero-filled vector of `n` values, or `None` when the memory is not available (never an
/// abort). Like `vec![0; n]` it asks the global allocator for zeroed memory: fresh zero pages
/// from the system allocator, or under [`crate::alloc::BufferAlloc`] a kept (already mapped)
/// block cleared once.
pub(crate) fn zeroed<T: Zeroable>(n: usize) -> Option<Vec<T>> {
    if n == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(n).ok()?;
    // SAFETY: `layout` has a non-zero size (n > 0 and T is a non-zero-sized number).
    let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` comes from the global allocator with the layout of `n` values of T (so
    // capacity `n`), and all-zero bytes are a valid `T` (`Zeroable`), so all `n` are initialised.
    Some(unsafe { Vec::from_raw_parts(p, n, n) })
}

/// Memory available for new allocations in bytes (Linux: `MemAvailable` plus free swap from
/// `/proc/meminfo`); `None` where the platform does not say.
fn available_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| -> Option<usize> {
        let line = info.lines().find(|l| l.starts_with(name))?;
        let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kb.checked_mul(1024)
    };
    let mem = field("MemAvailable:").or_else(|| field("MemTotal:"))?;
    Some(mem.saturating_add(field("SwapFree:").unwrap_or(0)))
}

impl Out {
    /// Allocate the buffers for `edges` edges (the caller checks them against
    /// [`edge_budget`] first, so an overcommitting OS does not hand out memory it would later
    /// kill the process for); a failed allocation is an error, not an abort.
    pub(crate) fn new(form: Form, edges: usize, with_dist: bool) -> Result<Out> {
        let fail = || too_big(edges, form, with_dist);
        let width = if form == Form::Index { 1 } else { 2 };
        let main = zeroed::<i64>(edges.checked_mul(width).ok_or_else(fail)?).ok_or_else(fail)?;
        let dist = if with_dist {
            Some(zeroed::<f64>(edges).ok_or_else(fail)?)
        } else {
            None
        };
        Ok(Out { form, main, dist })
    }

    /// Split into one slab per task; task `t` owns edges `cuts[t]..cuts[t + 1]`.
    pub(crate) fn slabs(&mut self, cuts: &[usize]) -> Vec<Slab<'_>> {
        let form = self.form;
        let edges = cuts.last().copied().unwrap_or(0);
        let (mut a, mut b): (&mut [i64], &mut [i64]) = match form {
            Form::Index | Form::Pairs => (self.main.as_mut_slice(), &mut []),
            Form::EdgeIndex => self.main.split_at_mut(edges),
        };
        let wa = if form == Form::Pairs { 2 } else { 1 };
        let wb = usize::from(form == Form::EdgeIndex);
        let mut d: Option<&mut [f64]> = self.dist.as_deref_mut();
        let mut out = Vec::with_capacity(cuts.len().saturating_sub(1));
        for w in cuts.windows(2) {
            let n = w[1] - w[0];
            let (ha, ta) = std::mem::take(&mut a).split_at_mut(n * wa);
            let (hb, tb) = std::mem::take(&mut b).split_at_mut(n * wb);
            let (hd, td) = match d.take() {
                Some(x) => {
                    let (h, t) = x.split_at_mut(n);
                    (Some(h), Some(t))
                }
                None => (None, None),
            };
            a = ta;
            b = tb;
            d = td;
            out.push(Slab {
                form,
                a: ha,
                b: hb,
                dist: hd,
            });
        }
        out
    }
}

/// The edges one task writes (positions are relative to the task's first edge).
#[derive(Debug)]
pub(crate) struct Slab<'a> {
    form: Form,
    a: &'a mut [i64],
    b: &'a mut [i64],
    dist: Option<&'a mut [f64]>,
}

impl Slab<'_> {
    /// Write the neighbours `js` (local indices, squared distances `d2`) of one query at edge
    /// position `e`: `ql` is the query's index in its group, `qg` its global index and `doff`
    /// the global index of its group's first data point.
    #[inline]
    pub(crate) fn put<J: Copy + Into<i64>>(
        &mut self,
        e: usize,
        ql: i64,
        qg: i64,
        doff: i64,
        d2: &[f64],
        js: &[J],
    ) {
        let n = js.len();
        match self.form {
            Form::Index => {
                for (o, &j) in self.a[e..e + n].iter_mut().zip(js) {
                    *o = j.into();
                }
            }
            Form::Pairs => {
                for (o, &j) in self.a[2 * e..2 * (e + n)].chunks_exact_mut(2).zip(js) {
                    o[0] = ql;
                    o[1] = j.into();
                }
            }
            Form::EdgeIndex => {
                for (o, &j) in self.a[e..e + n].iter_mut().zip(js) {
                    *o = doff + j.into();
                }
                self.b[e..e + n].fill(qg);
            }
        }
        if let Some(d) = self.dist.as_deref_mut() {
            for (o, &x) in d[e..e + n].iter_mut().zip(d2) {
                *o = x.sqrt();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slabs_write_every_form() {
        for form in [Form::Index, Form::Pairs, Form::EdgeIndex] {
            let mut out = Out::new(form, 3, true).unwrap();
            {
                let mut s = out.slabs(&[0, 2, 3]);
                s[0].put(0, 0, 5, 10, &[1.0, 4.0], &[1, 2]);
                s[1].put(0, 1, 6, 10, &[9.0], &[0]);
            }
            let want: Vec<i64> = match form {
                Form::Index => vec![1, 2, 0],
                Form::Pairs => vec![0, 1, 0, 2, 1, 0],
                Form::EdgeIndex => vec![11, 12, 10, 5, 5, 6],
            };
            assert_eq!(out.main, want);
            assert_eq!(out.dist, Some(vec![1.0, 2.0, 3.0]));
        }
    }

    #[test]
    fn impossible_sizes_are_errors() {
        let e = Out::new(Form::Pairs, usize::MAX / 4, false).unwrap_err();
        assert_eq!(e.code(), Code::Value);
        assert!(Out::new(Form::Index, 0, false).unwrap().main.is_empty());
    }
}
