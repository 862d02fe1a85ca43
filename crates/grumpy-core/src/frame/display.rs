//! The text of a [`Frame`]: a small table whose size is bounded whatever the data size.
//!
//! ```text
//!   gr.DataFrame: 3 molecule × 5 columns, schema molecule → residue → atom
//!      name    resname           ...  coords
//!      molecule  residue              atom
//!      string  string                 float64
//!   0  '1abc'  ['ALA', 'GLY']    ...  [[[0.0, 0.5, -1.0], [1.0, ...
//!   ...
//! ```
//! The first rows are the column names, levels and dtypes. At most [`TableStyle::max_rows`]
//! rows (first and last halves around a `...` row) and as many columns as fit in
//! [`TableStyle::max_width`] characters (first and last around a `...` column) are shown, and
//! every cell is cut to [`TableStyle::max_cell`] characters. A cell is printed from the shown
//! elements only (a row of two million atoms costs as much as a row of ten), so printing is
//! O(rows × columns × cell width).
//!
//! ```
//! use grumpy_core::{Array, Frame};
//! use grumpy_core::frame::TableStyle;
//! let x = Array::from_item(&vec![vec![1.5, 2.0], vec![]].into(), None).unwrap();
//! let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
//! let text = df.table(&TableStyle::default());
//! assert_eq!(text.lines().nth(4).unwrap(), "0  [1.5, 2.0]");
//! ```

use super::Frame;
use crate::buffer::Values;
use crate::dtype::{format_float, Scalar};
use crate::layout::Layout;
use std::fmt;

/// Bounds of [`Frame::table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableStyle {
    /// Most data rows shown (first and last halves around a `...` row).
    pub max_rows: usize,
    /// Most characters in a line (columns are dropped from the middle to fit).
    pub max_width: usize,
    /// Most characters in a cell (longer cells end in `...`).
    pub max_cell: usize,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            max_rows: 10,
            max_width: 100,
            max_cell: 30,
        }
    }
}

/// Writes Python-like text of one row, stopping once `limit` characters are written.
struct Preview {
    out: String,
    /// Characters written so far.
    chars: usize,
    limit: usize,
}

impl Preview {
    fn full(&self) -> bool {
        self.chars > self.limit
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
        self.chars += s.chars().count();
    }

    fn row(&mut self, layout: &Layout, i: usize) {
        if self.full() {
            return;
        }
        if layout.is_null(i) {
            return self.push("None");
        }
        match layout {
            Layout::Leaf(l) => self.value(&l.values, i),
            Layout::List(l) => {
                self.push("[");
                for (k, j) in l.row_range(i).enumerate() {
                    if self.full() {
                        return;
                    }
                    if k > 0 {
                        self.push(", ");
                    }
                    self.row(&l.child, j);
                }
                self.push("]");
            }
            Layout::Union(u) => {
                let j = u.index[i] as usize;
                if u.tags[i] == 0 {
                    self.row(&u.scalar, j);
                } else {
                    self.row(&u.list, j);
                }
            }
        }
    }

    fn value(&mut self, v: &Values, i: usize) {
        match v {
            Values::Str(_) => {
                // Only the part of a long string that can be shown is copied.
                let s: String = v.str_at(i).chars().take(self.limit + 1).collect();
                self.push(&py_str(&s));
            }
            _ => match v.scalar_at(i) {
                Scalar::Float(x) => self.push(&format_float(x)),
                other => self.push(&other.to_string()),
            },
        }
    }

    /// The text, cut to the limit with a trailing `...`.
    fn finish(self) -> String {
        cut(self.out, self.limit)
    }
}

/// Python's `repr` of a string: single quotes unless the text holds one and no double quote.
fn py_str(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Cut `s` to at most `limit` characters, ending in `...` when something was dropped.
fn cut(s: String, limit: usize) -> String {
    if s.chars().count() <= limit {
        return s;
    }
    let keep = limit.saturating_sub(3);
    s.chars().take(keep).collect::<String>() + "..."
}

/// Row `i` of `layout` as Python-like text of at most `limit` characters, reading only the
/// elements that are shown.
///
/// ```
/// use grumpy_core::Array;
/// use grumpy_core::frame::preview_row;
/// let a = Array::from_item(&vec![vec!["ALA", "GLY"], vec![]].into(), None).unwrap();
/// assert_eq!(preview_row(&a.layout, 0, 30), "['ALA', 'GLY']");
/// let long = Array::from_item(&vec![(0..1_000_000).map(f64::from).collect::<Vec<_>>()].into(), None).unwrap();
/// assert_eq!(preview_row(&long.layout, 0, 16), "[0.0, 1.0, 2....");
/// ```
pub fn preview_row(layout: &Layout, i: usize, limit: usize) -> String {
    let mut p = Preview {
        out: String::new(),
        chars: 0,
        limit,
    };
    p.row(layout, i);
    p.finish()
}

/// Which of `n` items to show at most `max` of: `Some(i)` or `None` for the `...` marker.
fn pick(n: usize, max: usize) -> Vec<Option<usize>> {
    if n <= max {
        return (0..n).map(Some).collect();
    }
    let head = max.div_ceil(2);
    let tail = max - head;
    (0..head)
        .map(Some)
        .chain([None])
        .chain((n - tail..n).map(Some))
        .collect()
}

impl Frame {
    /// The frame as a bounded text table (see the module docs).
    pub fn table(&self, style: &TableStyle) -> String {
        let rows = pick(self.nrows, style.max_rows.max(1));
        let width = |col: &[String]| col.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let index: Vec<String> = ["", "", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .chain(
                rows.iter()
                    .map(|r| r.map_or("...".to_owned(), |i| i.to_string())),
            )
            .collect();
        let cells: Vec<Vec<String>> = self
            .columns
            .iter()
            .map(|c| {
                let head = [
                    cut(c.name.clone(), style.max_cell),
                    cut(self.schema[c.level].clone(), style.max_cell),
                    c.array.dtype().name().to_owned(),
                ];
                let body = rows.iter().map(|r| match r {
                    Some(i) => preview_row(&c.array.layout, *i, style.max_cell),
                    None => "...".to_owned(),
                });
                head.into_iter().chain(body).collect()
            })
            .collect();
        // Columns: all that fit, else alternately from the front and the back around "...".
        let sep = 2;
        let mut budget = style.max_width.saturating_sub(width(&index));
        let widths: Vec<usize> = cells.iter().map(|c| width(c)).collect();
        let total: usize = widths.iter().map(|w| w + sep).sum();
        let shown: Vec<Option<usize>> = if total <= budget {
            (0..cells.len()).map(Some).collect()
        } else {
            budget = budget.saturating_sub(3 + sep);
            let (mut front, mut back) = (Vec::new(), Vec::new());
            let (mut lo, mut hi) = (0usize, cells.len());
            let mut from_front = true;
            while lo < hi {
                let k = if from_front { lo } else { hi - 1 };
                if widths[k] + sep > budget {
                    break;
                }
                budget -= widths[k] + sep;
                if from_front {
                    front.push(Some(k));
                    lo += 1;
                } else {
                    back.push(Some(k));
                    hi -= 1;
                }
                from_front = !from_front;
            }
            back.reverse();
            front.into_iter().chain([None]).chain(back).collect()
        };
        let dots: Vec<String> = vec!["...".to_owned(); index.len()];
        let grid: Vec<&Vec<String>> = std::iter::once(&index)
            .chain(shown.iter().map(|s| s.map_or(&dots, |k| &cells[k])))
            .collect();
        let grid_widths: Vec<usize> = grid.iter().map(|c| width(c)).collect();
        let mut lines = vec![format!(
            "gr.DataFrame: {} {} × {} columns, schema {}",
            self.nrows,
            self.schema[0],
            self.columns.len(),
            self.schema.join(" → ")
        )];
        for r in 0..index.len() {
            let line: Vec<String> = grid
                .iter()
                .zip(&grid_widths)
                .map(|(col, w)| {
                    // The "..." column is marked on the name row and on the data rows.
                    let s = if (r == 1 || r == 2) && std::ptr::eq(*col, &dots) {
                        ""
                    } else {
                        col[r].as_str()
                    };
                    format!("{s:<w$}")
                })
                .collect();
            lines.push(line.join("  ").trim_end().to_owned());
        }
        lines.join("\n")
    }
}

impl fmt::Display for Frame {
    /// [`Frame::table`] with the default [`TableStyle`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table(&TableStyle::default()))
    }
}
