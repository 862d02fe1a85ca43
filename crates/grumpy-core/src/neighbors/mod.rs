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
//! Groups (and the queries of large groups) run in parallel on the current Rayon pool. Small
//! groups use a brute-force scan ([`brute`]); large ones a kd-tree ([`kdtree`]).
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

mod brute;
mod input;
mod kdtree;
mod output;
mod run;
mod select;

use crate::array::Array;
use crate::buffer::Native;
use crate::error::{Code, Result};
use crate::layout::Layout;
use crate::{bail, ensure};

/// Options of a neighbour search (exactly one of `k` / `radius`).
#[derive(Clone, Debug, PartialEq)]
pub struct NeighborOpts {
    /// Number of nearest neighbours (`>= 0`).
    pub k: Option<i64>,
    /// Inclusive search radius (finite, `>= 0`).
    pub radius: Option<f64>,
    /// The point axis (negative counts from the innermost axis).
    pub dim: i64,
    /// Keep self pairs when `query` is `data` (`loop=True`).
    pub self_loops: bool,
    /// `query` and `data` are the same object (set by bindings; aliasing arrays are detected
    /// here too).
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
    /// Keep (`true`) or drop (`false`) self pairs when query is data.
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
    /// Zero-based offsets of the axes above the group axis (outermost first).
    pub(crate) outer: Vec<Vec<i64>>,
    /// Whether the points sit below a group axis (`dim >= 1`).
    pub(crate) grouped: bool,
    /// Query point offsets per group.
    pub(crate) query_groups: Vec<i64>,
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
/// out of range, nulls, non-finite coordinates, ragged coordinate sizes, and query/data whose
/// groups or coordinate sizes differ.
pub fn neighbors(query: &Array, data: &Array, opts: &NeighborOpts) -> Result<NeighborResult> {
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
    let exclude_self = same && !opts.self_loops;
    let found = run::search(&q, d, dims, mode, exclude_self);
    Ok(NeighborResult {
        outer: q.outer.clone(),
        grouped: dq >= 1,
        query_groups: q.groups.clone(),
        data_groups: d.groups.clone(),
        offsets: found.offsets,
        index: found.index,
        dist: found.dist,
    })
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
    Ok(neighbors(batch, batch, &opts)?.pairs())
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
