//! Shaping a [`NeighborResult`]: ragged pairs nested like the query points, distances, and
//! the PyTorch Geometric `edge_index`.

use super::NeighborResult;
use crate::array::Array;
use crate::buffer::{Buf, Values};
use crate::layout::{Layout, Leaf, List};
use rayon::prelude::*;

/// Below this many edges the outputs are filled on one thread.
const PAR_EDGES: usize = 1 << 16;

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

    /// Index of each query point within its group.
    fn local_query_index(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(self.num_queries());
        for w in self.query_groups.windows(2) {
            out.extend(0..w[1] - w[0]);
        }
        out
    }

    /// Group of each query point.
    fn query_group(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.num_queries());
        for (g, w) in self.query_groups.windows(2).enumerate() {
            out.extend(std::iter::repeat_n(g, (w[1] - w[0]) as usize));
        }
        out
    }

    /// Fill `2` values per edge from `f(query, edge)`, in parallel over queries when large.
    fn per_edge_pairs(&self, f: impl Fn(usize, usize) -> [i64; 2] + Sync) -> Vec<i64> {
        let mut out = vec![0i64; 2 * self.num_edges()];
        let fill = |q0: usize, chunk: &mut [i64], nq: usize| {
            let base = self.offsets[q0] as usize;
            for q in q0..q0 + nq {
                for e in self.offsets[q] as usize..self.offsets[q + 1] as usize {
                    let v = f(q, e);
                    chunk[2 * (e - base)] = v[0];
                    chunk[2 * (e - base) + 1] = v[1];
                }
            }
        };
        if self.num_edges() < PAR_EDGES {
            fill(0, &mut out, self.num_queries());
            return out;
        }
        let step = 4096;
        let mut parts = Vec::new();
        let mut rest = out.as_mut_slice();
        let mut q0 = 0;
        while q0 < self.num_queries() {
            let q1 = (q0 + step).min(self.num_queries());
            let n = 2 * (self.offsets[q1] - self.offsets[q0]) as usize;
            let (a, b) = std::mem::take(&mut rest).split_at_mut(n);
            parts.push((q0, a, q1 - q0));
            rest = b;
            q0 = q1;
        }
        parts
            .into_par_iter()
            .for_each(|(q0, chunk, nq)| fill(q0, chunk, nq));
        out
    }

    /// Wrap a per-query layout in the group axis and the outer axes.
    fn nest(&self, mut layout: Layout) -> Array {
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

    /// int64 `[query, neighbour]` pairs (indices local to the group), nested like the query
    /// points: `dim = 0` → `(n_q, k, 2)`, `dim = 1` → `(groups, points, k, 2)`, ragged.
    pub fn pairs(&self) -> Array {
        let local = self.local_query_index();
        let flat = self.per_edge_pairs(|q, e| [local[q], self.index[e]]);
        let e = self.num_edges() as i64;
        let pair_offsets: Vec<i64> = (0..=e).map(|i| 2 * i).collect();
        let leaf = Layout::Leaf(Leaf::valid(Values::from(flat)));
        let pairs = Layout::List(List::new(Buf::from_vec(pair_offsets), None, leaf));
        let per_query = Layout::List(List::new(Buf::from_vec(self.offsets.clone()), None, pairs));
        self.nest(per_query)
    }

    /// float64 distances nested like [`NeighborResult::pairs`] without its last axis.
    pub fn distances(&self) -> Array {
        let leaf = Layout::Leaf(Leaf::valid(Values::from(self.dist.clone())));
        let per_query = Layout::List(List::new(Buf::from_vec(self.offsets.clone()), None, leaf));
        self.nest(per_query)
    }

    /// PyTorch Geometric `edge_index`, row-major `(2, E)`: row 0 the neighbour (source), row 1
    /// the query point (target), both global over the whole batch (group offsets added).
    pub fn edge_index(&self) -> Vec<i64> {
        let e = self.num_edges();
        let groups = self.query_group();
        let mut out = vec![0i64; 2 * e];
        let (src, dst) = out.split_at_mut(e);
        let fill = |q: usize, s: &mut [i64], t: &mut [i64], base: usize| {
            let off = self.data_groups[groups[q]];
            for i in self.offsets[q] as usize..self.offsets[q + 1] as usize {
                s[i - base] = off + self.index[i];
                t[i - base] = q as i64;
            }
        };
        if e < PAR_EDGES {
            for q in 0..self.num_queries() {
                fill(q, src, dst, 0);
            }
            return out;
        }
        let step = 4096;
        let mut parts = Vec::new();
        let (mut rs, mut rt) = (src, dst);
        let mut q0 = 0;
        while q0 < self.num_queries() {
            let q1 = (q0 + step).min(self.num_queries());
            let n = (self.offsets[q1] - self.offsets[q0]) as usize;
            let (a, b) = std::mem::take(&mut rs).split_at_mut(n);
            let (c, d) = std::mem::take(&mut rt).split_at_mut(n);
            parts.push((q0, q1, a, c));
            rs = b;
            rt = d;
            q0 = q1;
        }
        parts.into_par_iter().for_each(|(q0, q1, s, t)| {
            let base = self.offsets[q0] as usize;
            for q in q0..q1 {
                fill(q, s, t, base);
            }
        });
        out
    }
}
