//! Shaping search results: ragged pairs nested like the query points, distances, and the
//! PyTorch Geometric `edge_index`.
//!
//! ```text
//!   dim = 1, two groups of 2 and 1 query points, k = 1
//!   List offsets [0, 2, 3]                  ← groups (the query nesting)
//!    └ List offsets [0, 1, 2, 3]            ← neighbours per query point
//!       └ List offsets [0, 2, 4, 6]         ← one [query, neighbour] pair per edge
//!          └ Leaf int64 [0 1 1 0 0 0]        (the search writes this buffer directly)
//! ```

use super::sink::{Form, Out};
use super::{Graph, NeighborResult};
use crate::array::Array;
use crate::buffer::{Buf, Values};
use crate::error::{Code, Error, Result};
use crate::layout::{Layout, Leaf, List};
use rayon::prelude::*;

/// Below this many values, buffers are filled on one thread.
const PAR_MIN: usize = 1 << 16;

/// How query points are nested above the point axis.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Nesting {
    /// Zero-based offsets of the axes above the group axis (outermost first).
    pub(crate) outer: Vec<Vec<i64>>,
    /// Whether the points sit below a group axis (`dim >= 1`).
    pub(crate) grouped: bool,
    /// Query point offsets per group.
    pub(crate) query_groups: Vec<i64>,
}

impl Nesting {
    /// Wrap a per-query layout in the group axis and the outer axes.
    pub(crate) fn nest(&self, mut layout: Layout) -> Array {
        if self.grouped {
            layout = Layout::List(List::new(
                Buf::from_vec(self.query_groups.clone()),
                None,
                layout,
            ));
        }
        for o in self.outer.iter().rev() {
            layout = Layout::List(List::new(Buf::from_vec(o.clone()), None, layout));
        }
        Array::new(layout)
    }

    /// Pairs array from interleaved `[query, neighbour]` values and per-query offsets.
    pub(crate) fn pairs(&self, offsets: Vec<i64>, flat: Vec<i64>) -> Result<Array> {
        let e = flat.len() / 2;
        // Written once, without zero-filling first (a fresh buffer per batch in a stream).
        let mut pair_offsets: Vec<i64> = Vec::new();
        pair_offsets.try_reserve_exact(e + 1).map_err(|_| {
            Error::new(
                Code::Value,
                "gr.neighbors: the result does not fit in memory",
                format!("{e} neighbour pairs"),
                "use a smaller k or radius, or search fewer points at a time",
            )
        })?;
        if !crate::pool::worth_splitting(e, PAR_MIN) {
            pair_offsets.extend((0..=e).map(|i| 2 * i as i64));
        } else {
            (0..e + 1)
                .into_par_iter()
                .with_min_len(PAR_MIN)
                .map(|i| 2 * i as i64)
                .collect_into_vec(&mut pair_offsets);
        }
        let leaf = Layout::Leaf(Leaf::valid(Values::from(flat)));
        let pairs = Layout::List(List::new(Buf::from_vec(pair_offsets), None, leaf));
        let per_query = Layout::List(List::new(Buf::from_vec(offsets), None, pairs));
        Ok(self.nest(per_query))
    }

    /// Distances nested like the pairs without their last axis.
    pub(crate) fn distances(&self, offsets: Vec<i64>, dist: Vec<f64>) -> Array {
        let leaf = Layout::Leaf(Leaf::valid(Values::from(dist)));
        self.nest(Layout::List(List::new(Buf::from_vec(offsets), None, leaf)))
    }

    /// The final result of a search written in `out`'s form (`Pairs` or `EdgeIndex`).
    pub(crate) fn graph(&self, offsets: Vec<i64>, out: Out) -> Result<Graph> {
        Ok(match out.form {
            Form::EdgeIndex => Graph::EdgeIndex {
                edge_index: out.main,
                distances: out.dist,
            },
            Form::Pairs | Form::Index => {
                let distances = out.dist.map(|d| self.distances(offsets.clone(), d));
                Graph::Pairs {
                    pairs: self.pairs(offsets, out.main)?,
                    distances,
                }
            }
        })
    }
}

impl NeighborResult {
    /// Number of query points.
    pub fn num_queries(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of edges (query, neighbour) found.
    pub fn num_edges(&self) -> usize {
        self.index.len()
    }

    /// Neighbour offsets per query point (`num_queries() + 1` entries).
    pub fn offsets(&self) -> &[i64] {
        &self.offsets
    }

    /// Neighbour index local to its group, per edge (nearest first within a query).
    pub fn neighbor_index(&self) -> &[i64] {
        &self.index
    }

    /// Euclidean distance per edge.
    pub fn distance_values(&self) -> &[f64] {
        &self.dist
    }

    /// The edges rewritten in `form` (no distances), in parallel over chunks of queries.
    fn reformat(&self, form: Form) -> Out {
        const CHUNK: usize = 4096;
        let nq = self.num_queries();
        let starts: Vec<usize> = (0..nq).step_by(CHUNK).collect();
        let mut cuts: Vec<usize> = starts.iter().map(|&q| self.offsets[q] as usize).collect();
        cuts.push(self.num_edges());
        let mut out = Out::new(form, self.num_edges(), false).expect("the edges already fit");
        let slabs = out.slabs(&cuts);
        let groups = &self.nesting.query_groups;
        let pieces: Vec<_> = starts.iter().zip(slabs).collect();
        crate::pool::for_each_init(
            pieces,
            || (),
            |_, (&q0, mut slab)| {
                let base = self.offsets[q0] as usize;
                let mut g = groups.partition_point(|&x| x as usize <= q0) - 1;
                for q in q0..(q0 + CHUNK).min(nq) {
                    while groups[g + 1] as usize <= q {
                        g += 1;
                    }
                    let (a, b) = (self.offsets[q] as usize, self.offsets[q + 1] as usize);
                    let local = (q - groups[g] as usize) as i64;
                    let doff = self.data_groups[g];
                    slab.put(a - base, local, q as i64, doff, &[], &self.index[a..b]);
                }
            },
        );
        out
    }

    /// int64 `[query, neighbour]` pairs (indices local to the group), nested like the query
    /// points: `dim = 0` → `(n_q, k, 2)`, `dim = 1` → `(groups, points, k, 2)`, ragged.
    pub fn pairs(&self) -> Array {
        let flat = self.reformat(Form::Pairs).main;
        self.nesting
            .pairs(self.offsets.clone(), flat)
            .expect("the edges already fit in memory")
    }

    /// float64 distances nested like [`NeighborResult::pairs`] without its last axis.
    pub fn distances(&self) -> Array {
        self.nesting
            .distances(self.offsets.clone(), self.dist.clone())
    }

    /// PyTorch Geometric `edge_index`, row-major `(2, E)`: row 0 the neighbour (source), row 1
    /// the query point (target), both global over the whole batch (group offsets added).
    pub fn edge_index(&self) -> Vec<i64> {
        self.reformat(Form::EdgeIndex).main
    }
}
