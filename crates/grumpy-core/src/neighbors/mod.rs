//! kNN and radius graphs over ragged point groups.
//!
//! Points are the entries of axis `dim`; the last axis holds their coordinates; the axes above
//! `dim` are independent groups (`dim = 1` on proteins × residues × xyz searches each protein's
//! residues on their own). Distances are Euclidean, results sorted by distance with ties broken
//! by the lower index, `radius` is inclusive, and a group with fewer candidates than `k` returns
//! what it has (no padding).
//!
//! ```text
//!   query  [[p0 p1 p2] [p3 p4]]        (dim = 1: two groups)
//!   result offsets per query ─► [(q, n), (q, n), ...]   local indices within the group
//!   pairs   (groups, points, k, 2) ragged        edge_index (2, E) with global indices
//! ```
//!
//! Coordinates are converted to float64 (integers beyond 2^53 lose precision; float32 inputs
//! get float64 distances), and `d²` is computed the same way by every kernel, so results are
//! exactly those of a float64 reference that ranks by `(d², index)`.
//!
//! `self_loops = false` (Python `loop=False`) drops the pair `(i, i)` within each group, by
//! position: query and data must then have the same number of points per group (PyTorch
//! Geometric's `knn_graph(loop=False)` semantics; never decided by object identity).
//!
//! Groups (and the queries of large groups) run in parallel on the current Rayon pool. Groups
//! of up to 4096 points with 1–4 coordinates use bounding boxes over blocks of 8 points
//! (`blocks`); larger ones a kd-tree (`kdtree`); points with more coordinates a brute-force
//! scan (`brute`). Results are written straight into their final buffers (`sink`).
//!
//! ```
//! use grumpy_core::array::Array;
//! use grumpy_core::layout::Item;
//! use grumpy_core::neighbors::{neighbors, NeighborOpts};
//! let pts = Array::from_item(&vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![5.0, 0.0]].into(), None).unwrap();
//! let r = neighbors(&pts, &pts, &NeighborOpts::knn(1).self_loops(false).same(true)).unwrap();
//! assert_eq!(r.pairs().to_item(), Item::from(vec![vec![vec![0i64, 1]], vec![vec![1, 0]], vec![vec![2, 1]]]));
//! assert_eq!(r.edge_index(), vec![1, 0, 1, 0, 1, 2]);
//! ```

mod blocks;
mod brute;
mod input;
mod kdtree;
mod output;
mod run;
mod select;
mod sink;

use crate::array::Array;
use crate::buffer::Native;
use crate::error::{Code, Result};
use crate::layout::Layout;
use crate::{bail, ensure};
use output::Nesting;
use run::Spec;
use sink::Form;

/// Options of a neighbour search (exactly one of `k` / `radius`).
///
/// ```
/// use grumpy_core::neighbors::NeighborOpts;
/// let o = NeighborOpts::knn(16).dim(1).self_loops(false);
/// assert_eq!((o.k, o.dim, o.self_loops), (Some(16), 1, false));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NeighborOpts {
    /// Number of nearest neighbours (`>= 0`; capped at the group's candidates).
    pub k: Option<i64>,
    /// Inclusive search radius (finite, `>= 0`).
    pub radius: Option<f64>,
    /// The point axis (negative counts from the innermost axis).
    pub dim: i64,
    /// Keep (`true`) or drop (`false`) the pairs `(i, i)` of a point set with itself: with
    /// `false`, query point `i` of a group never gets data point `i` of the same group, and
    /// query and data must have the same number of points in every group (PyTorch Geometric's
    /// `loop=False`). Decided by position, never by object identity.
    pub self_loops: bool,
    /// `query` and `data` are the same points (set by bindings when `query is data`; aliasing
    /// arrays are detected here too). Only saves flattening the data a second time.
    pub same: bool,
}

impl Default for NeighborOpts {
    fn default() -> Self {
        NeighborOpts {
            k: None,
            radius: None,
            dim: 0,
            self_loops: true,
            same: false,
        }
    }
}

impl NeighborOpts {
    /// k-nearest-neighbour search.
    pub fn knn(k: i64) -> Self {
        NeighborOpts {
            k: Some(k),
            ..Self::default()
        }
    }
    /// Radius search.
    pub fn radius(r: f64) -> Self {
        NeighborOpts {
            radius: Some(r),
            ..Self::default()
        }
    }
    /// Set the point axis.
    #[must_use]
    pub fn dim(mut self, dim: i64) -> Self {
        self.dim = dim;
        self
    }
    /// Keep (`true`) or drop (`false`) the self pairs `(i, i)`.
    #[must_use]
    pub fn self_loops(mut self, on: bool) -> Self {
        self.self_loops = on;
        self
    }
    /// Declare that query and data are the same array.
    #[must_use]
    pub fn same(mut self, same: bool) -> Self {
        self.same = same;
        self
    }
}

/// The neighbour lists of every query point, in query order (see [`NeighborResult::pairs`],
/// [`NeighborResult::edge_index`], [`NeighborResult::distances`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NeighborResult {
    pub(crate) nesting: Nesting,
    /// Data point offsets per group.
    pub(crate) data_groups: Vec<i64>,
    /// Neighbour offsets per query point (`n_queries + 1`).
    pub(crate) offsets: Vec<i64>,
    /// Neighbour index local to the group, per edge.
    pub(crate) index: Vec<i64>,
    /// Euclidean distance per edge.
    pub(crate) dist: Vec<f64>,
}

/// Search `data` for the neighbours of every point of `query` (see the module docs).
///
/// Errors: both or neither of `k`/`radius`, `k < 0`, a negative or non-finite radius, `dim`
/// out of range, nulls, non-finite coordinates, ragged coordinate sizes, query/data whose
/// groups or coordinate sizes differ, `self_loops = false` with different point counts, and
/// a result too large for memory.
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::neighbors::{neighbors, NeighborOpts};
/// let pts = Array::from_item(&vec![vec![0.0], vec![1.0], vec![3.0]].into(), None).unwrap();
/// let r = neighbors(&pts, &pts, &NeighborOpts::knn(2)).unwrap();
/// assert_eq!(r.neighbor_index(), &[0, 1, 1, 0, 2, 1]);
/// assert_eq!(r.distance_values(), &[0.0, 1.0, 0.0, 1.0, 0.0, 2.0]);
/// ```
pub fn neighbors(query: &Array, data: &Array, opts: &NeighborOpts) -> Result<NeighborResult> {
    let (nesting, data_groups, found) = search(query, data, opts, Form::Index, true)?;
    Ok(NeighborResult {
        nesting,
        data_groups,
        offsets: found.offsets,
        index: found.out.main,
        dist: found.out.dist.unwrap_or_default(),
    })
}

/// Which final format [`neighbor_graph`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphOutput {
    /// Ragged int64 `[query, neighbour]` pairs nested like the query points.
    Pairs,
    /// PyTorch Geometric `edge_index` `(2, E)` with global indices.
    EdgeIndex,
}

/// A search result in its final format (see [`neighbor_graph`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Graph {
    /// Pairs (`dim = 0` → `(n_q, k, 2)`, `dim = 1` → `(groups, points, k, 2)`) and optional
    /// distances nested like them without the last axis.
    Pairs {
        /// int64 pairs, indices local to the group.
        pairs: Array,
        /// float64 Euclidean distances.
        distances: Option<Array>,
    },
    /// Row-major `(2, E)`: row 0 the neighbour (source), row 1 the query point (target), both
    /// global over the batch; optional distances per edge.
    EdgeIndex {
        /// `2 * E` values.
        edge_index: Vec<i64>,
        /// `E` Euclidean distances.
        distances: Option<Vec<f64>>,
    },
}

/// Like [`neighbors`], but the search writes straight into the requested final format (no
/// intermediate index lists), optionally with distances: the fast path of `gr.neighbors`.
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::neighbors::{neighbor_graph, Graph, GraphOutput, NeighborOpts};
/// let pts = Array::from_item(&vec![vec![0.0], vec![1.0], vec![3.0]].into(), None).unwrap();
/// let opts = NeighborOpts::knn(1).self_loops(false);
/// let Graph::EdgeIndex { edge_index, distances } =
///     neighbor_graph(&pts, &pts, &opts, GraphOutput::EdgeIndex, true).unwrap()
/// else { unreachable!() };
/// assert_eq!(edge_index, vec![1, 0, 1, 0, 1, 2]);
/// assert_eq!(distances, Some(vec![1.0, 1.0, 2.0]));
/// ```
pub fn neighbor_graph(
    query: &Array,
    data: &Array,
    opts: &NeighborOpts,
    output: GraphOutput,
    with_distances: bool,
) -> Result<Graph> {
    let form = match output {
        GraphOutput::Pairs => Form::Pairs,
        GraphOutput::EdgeIndex => Form::EdgeIndex,
    };
    let (nesting, _, found) = search(query, data, opts, form, with_distances)?;
    nesting.graph(found.offsets, found.out)
}

/// The compiled-plan entry point `gr.neighbors(batch, batch, k=, dim=, loop=)`: the kNN pairs
/// of a batch against itself, nested like its points.
///
/// ```
/// use grumpy_core::array::Array;
/// use grumpy_core::neighbors::knn_graph;
/// let b = Array::from_item(&vec![vec![vec![0.0], vec![2.0], vec![3.0]]].into(), None).unwrap();
/// let p = knn_graph(&b, 1, 1, false).unwrap();
/// assert_eq!(p.len(), 1);
/// assert_eq!(p.size(), 6); // 3 points × 1 neighbour × [src, dst]
/// ```
pub fn knn_graph(batch: &Array, k: i64, dim: i64, self_loops: bool) -> Result<Array> {
    let opts = NeighborOpts::knn(k)
        .dim(dim)
        .self_loops(self_loops)
        .same(true);
    match neighbor_graph(batch, batch, &opts, GraphOutput::Pairs, false)? {
        Graph::Pairs { pairs, .. } => Ok(pairs),
        Graph::EdgeIndex { .. } => unreachable!("asked for pairs"),
    }
}

/// Validate, flatten and search; returns the query nesting, the data group offsets and the
/// written result.
fn search(
    query: &Array,
    data: &Array,
    opts: &NeighborOpts,
    form: Form,
    with_dist: bool,
) -> Result<(Nesting, Vec<i64>, run::Found)> {
    let budget = sink::edge_budget(form, with_dist);
    search_within(query, data, opts, form, with_dist, budget)
}

/// [`search`] with at most `budget` edges in the result.
fn search_within(
    query: &Array,
    data: &Array,
    opts: &NeighborOpts,
    form: Form,
    with_dist: bool,
    budget: usize,
) -> Result<(Nesting, Vec<i64>, run::Found)> {
    let mode = validate(opts)?;
    let dq = input::resolve_dim(opts.dim, query.ndim(), "query")?;
    let dd = input::resolve_dim(opts.dim, data.ndim(), "data")?;
    ensure!(
        dq == dd,
        Code::Shape,
        "gr.neighbors: query and data have different numbers of dimensions",
        format!(
            "query has {} dimensions, data {}",
            query.ndim(),
            data.ndim()
        ),
        "pass query and data with the same nesting (… × points × coordinates)"
    );
    let same = opts.same || aliases(&query.layout, &data.layout);
    let q = input::flatten(query, dq, "query")?;
    let d_owned;
    let d = if same {
        &q
    } else {
        d_owned = input::flatten(data, dd, "data")?;
        &d_owned
    };
    if q.outer != d.outer || q.n_groups() != d.n_groups() {
        bail!(
            Code::Shape,
            "gr.neighbors: query and data have different groups",
            format!(
                "query has {} groups and data {} (or their outer axes differ)",
                q.n_groups(),
                d.n_groups()
            ),
            "pass query and data with the same rows above the point axis"
        );
    }
    let dims = match (q.dims, d.dims) {
        (Some(a), Some(b)) if a != b => bail!(
            Code::Value,
            "gr.neighbors: query and data points have different coordinate sizes",
            format!("query points have {a} coordinates, data points {b}"),
            "give query and data points the same number of coordinates"
        ),
        (a, b) => a.or(b).unwrap_or(0),
    };
    if !opts.self_loops && q.groups != d.groups {
        let g = (0..q.n_groups())
            .find(|&g| q.groups[g + 1] - q.groups[g] != d.groups[g + 1] - d.groups[g])
            .unwrap_or(0);
        bail!(
            Code::Argument,
            "gr.neighbors: loop=False needs query and data to be the same points",
            format!(
                "loop=False drops the pairs (i, i) of a point set with itself, but group {g} has {} query and {} data points",
                q.groups[g + 1] - q.groups[g],
                d.groups[g + 1] - d.groups[g]
            ),
            "pass the same array as query and data, or loop=True"
        );
    }
    if let Some(g) = d
        .groups
        .windows(2)
        .position(|w| w[1] - w[0] >= i64::from(u32::MAX))
    {
        bail!(
            Code::Unsupported,
            "gr.neighbors: a group has too many points",
            format!("group {g} has {} points", d.groups[g + 1] - d.groups[g]),
            "split the group into groups of fewer than 2^32 points"
        );
    }
    let spec = Spec {
        mode,
        excl: !opts.self_loops,
        same,
        form,
        with_dist,
        budget,
    };
    let found = run::search(&q, d, dims, spec)?;
    let nesting = Nesting {
        outer: q.outer.clone(),
        grouped: dq >= 1,
        query_groups: q.groups.clone(),
    };
    Ok((nesting, d.groups.clone(), found))
}

/// What to search for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    Knn(usize),
    Radius(f64),
}

fn validate(o: &NeighborOpts) -> Result<Mode> {
    match (o.k, o.radius) {
        (Some(_), Some(_)) | (None, None) => bail!(
            Code::Argument,
            "gr.neighbors needs exactly one of k or radius",
            if o.k.is_some() {
                "both k and radius were given"
            } else {
                "neither k nor radius was given"
            },
            "pass k=<int> for k-nearest neighbours or radius=<float> for a radius graph"
        ),
        (Some(k), None) => {
            ensure!(
                k >= 0,
                Code::Argument,
                "gr.neighbors: k must be >= 0",
                format!("k = {k}"),
                "pass a non-negative number of neighbours"
            );
            Ok(Mode::Knn(usize::try_from(k).unwrap_or(usize::MAX)))
        }
        (None, Some(r)) => {
            ensure!(
                r.is_finite() && r >= 0.0,
                Code::Argument,
                "gr.neighbors: radius must be a finite number >= 0",
                format!("radius = {r}"),
                "pass a non-negative, finite radius"
            );
            Ok(Mode::Radius(r))
        }
    }
}

/// Whether two layouts view the very same buffers (so `query is data` in effect).
fn aliases(a: &Layout, b: &Layout) -> bool {
    match (a, b) {
        (Layout::Leaf(x), Layout::Leaf(y)) => {
            x.validity == y.validity
                && crate::with_values!(&x.values, bx, T => {
                    T::unwrap(&y.values).is_some_and(|by| bx.same_view(by))
                }, _s => false)
        }
        (Layout::List(x), Layout::List(y)) => {
            x.offsets.same_view(&y.offsets)
                && x.validity == y.validity
                && aliases(&x.child, &y.child)
        }
        (Layout::Union(x), Layout::Union(y)) => {
            x.tags.same_view(&y.tags)
                && x.index.same_view(&y.index)
                && aliases(&x.scalar, &y.scalar)
                && aliases(&x.list, &y.list)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
