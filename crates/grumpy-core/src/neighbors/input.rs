//! Flattening a ragged point array into groups of points with `D` f64 coordinates each.
//!
//! ```text
//!   proteins × residues × xyz, dim = 1
//!   List offsets [0, 2, 5]            ← groups (point offsets per group)
//!    └ List offsets [0,3,6,...,15]    ← points (each exactly D = 3 coordinates)
//!       └ Leaf [x y z x y z ...]      → copied once into f64, checked finite
//! ```
//! Axes above the group axis (for `dim >= 2`) are kept as `outer` offsets so results can be
//! nested back exactly like the query points.

use crate::array::Array;
use crate::buffer::{Bitmap, Native};
use crate::dtype::DType;
use crate::error::{Code, Error, Result};
use crate::layout::Layout;
use crate::{bail, with_values};

/// Points of one array, flattened.
#[derive(Debug, Clone)]
pub(crate) struct Points {
    /// Offsets (zero based) of the levels above the group level, outermost first.
    pub(crate) outer: Vec<Vec<i64>>,
    /// Point offsets per group (`groups + 1` entries, zero based).
    pub(crate) groups: Vec<i64>,
    /// Coordinates per point, or `None` when there are no points.
    pub(crate) dims: Option<usize>,
    /// Flat coordinates, `n_points * dims` values, row-major.
    pub(crate) coords: Vec<f64>,
}

impl Points {
    /// Number of groups.
    pub(crate) fn n_groups(&self) -> usize {
        self.groups.len() - 1
    }
    /// Total number of points.
    pub(crate) fn n_points(&self) -> usize {
        self.groups[self.groups.len() - 1] as usize
    }
}

fn check_nulls(v: Option<&Bitmap>, what: &str, level: usize) -> Result<()> {
    if let Some(b) = v {
        if b.null_count() > 0 {
            let first = (0..b.len()).find(|&i| !b.get(i)).unwrap_or(0);
            bail!(
                Code::Value,
                format!("gr.neighbors: {what} contains nulls"),
                format!("null at level {level}, position {first}"),
                "drop or fill null points and coordinates before computing neighbours"
            );
        }
    }
    Ok(())
}

/// Normalize `dim` against `ndim` and check that points sit at `dim` with coordinates below.
pub(crate) fn resolve_dim(dim: i64, ndim: usize, what: &str) -> Result<usize> {
    let nd = ndim as i64;
    let d = if dim < 0 { dim + nd } else { dim };
    if d < 0 || d + 2 > nd {
        bail!(
            Code::Argument,
            format!("gr.neighbors: dim {dim} is out of range for {what}"),
            format!(
                "{what} has {ndim} dimension(s); the point axis needs one coordinate axis below it"
            ),
            format!(
                "pass dim = {} (the axis just above the coordinates) or reshape the input",
                nd.saturating_sub(2).max(0)
            )
        );
    }
    if d + 2 < nd {
        bail!(
            Code::Shape,
            format!("gr.neighbors: points at dim {dim} are not flat coordinate lists"),
            format!(
                "{what} has {ndim} dimensions, so each point at axis {d} still has {} nested axes",
                nd - d - 1
            ),
            format!(
                "pass dim = {} or flatten each point to one coordinate list",
                nd - 2
            )
        );
    }
    Ok(d as usize)
}

/// Flatten `a` (validated: points at `dim`, coordinates on the last axis).
pub(crate) fn flatten(a: &Array, dim: usize, what: &str) -> Result<Points> {
    let layout = a.layout.unions_as_lists()?.compact();
    let mut outer = Vec::new();
    let mut groups = None;
    let mut cur = layout;
    // Walk the list levels down to the point level.
    for level in 0..dim {
        let Layout::List(l) = cur else {
            bail!(
                Code::Shape,
                format!("gr.neighbors: {what} has no list at level {level}"),
                "expected nested lists down to the coordinates",
                "pass lists of points (… × points × coordinates)"
            );
        };
        check_nulls(l.validity.as_ref(), what, level)?;
        let o = l.zero_based_offsets().as_slice().to_vec();
        if level + 1 == dim {
            groups = Some(o);
        } else {
            outer.push(o);
        }
        cur = l.child_view().compact();
    }
    let Layout::List(pts) = cur else {
        bail!(
            Code::Shape,
            format!("gr.neighbors: {what} has no coordinate lists"),
            "each point must be a list of coordinates",
            "pass points as lists like [x, y, z]"
        );
    };
    check_nulls(pts.validity.as_ref(), what, dim)?;
    let n_points = pts.len();
    let groups = groups.unwrap_or_else(|| vec![0, n_points as i64]);
    let dims = if n_points == 0 {
        None
    } else {
        match pts.regular_size() {
            Some(d) => Some(d),
            None => {
                let lens = pts.lengths();
                let bad = lens.iter().position(|&l| l != lens[0]).unwrap_or(0);
                bail!(
                    Code::Value,
                    format!("gr.neighbors: {what} has points with different coordinate sizes"),
                    format!(
                        "point 0 has {} coordinates but point {bad} has {}",
                        lens[0], lens[bad]
                    ),
                    "give every point the same number of coordinates"
                );
            }
        }
    };
    let child = pts.child_view().compact();
    let Layout::Leaf(leaf) = child else {
        bail!(
            Code::Shape,
            format!("gr.neighbors: {what} coordinates are nested lists"),
            "the last axis must hold plain numbers",
            "pass dim = ndim - 2 with numeric coordinates"
        );
    };
    check_nulls(leaf.validity.as_ref(), what, dim + 1)?;
    let dt = leaf.values.dtype();
    if matches!(dt, DType::Bool | DType::String) {
        bail!(
            Code::DType,
            format!("gr.neighbors: {what} coordinates have dtype {}", dt.name()),
            "coordinates must be numbers",
            "cast to float64 with .astype(gr.float64)"
        );
    }
    let coords: Vec<f64> = with_values!(&leaf.values, b, T => b.as_slice().iter().map(|x| x.to_f64()).collect(), _s => Vec::new());
    if let Some(i) = coords.iter().position(|x| !x.is_finite()) {
        let d = dims.unwrap_or(1).max(1);
        return Err(Error::new(
            Code::Value,
            format!("gr.neighbors: {what} has a non-finite coordinate"),
            format!("point {} has coordinate {}", i / d, coords[i]),
            "drop or fix NaN/inf coordinates before computing neighbours",
        ));
    }
    Ok(Points {
        outer,
        groups,
        dims,
        coords,
    })
}
