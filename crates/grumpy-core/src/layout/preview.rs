//! Text previews of layouts (`repr`/`str` of arrays), in bounded time.
//!
//! A preview reads only the elements it shows: each list is filled from both ends within a
//! width budget and elided in the middle at element boundaries, the way Awkward Array and
//! NumPy print (`[[1.0, 2.0, ..., 9.0], [4.0, 5.0], ..., [7.0]]`). Values print as Python
//! prints them (`1.0`, `1e-05`, `True`, `None`, `'text'`), so a preview of a small array reads
//! like its `to_list()`.
//!
//! ```
//! use grumpy_core::layout::{Item, Layout};
//! let rows: Item = vec![vec![1.5, 2.0], vec![3.0]].into();
//! let l = Layout::from_item(&rows, None).unwrap();
//! assert_eq!(l.preview(80, 6, 1, 0), "[[1.5, 2.0], [3.0]]");
//!
//! let long = Layout::from_item(&(0..1000i64).collect::<Vec<_>>().into(), None).unwrap();
//! assert_eq!(long.preview(30, 6, 1, 0), "[0, 1, 2, ..., 997, 998, 999]");
//! ```

use super::Layout;
use crate::buffer::Values;
use crate::dtype::{format_float, format_float32};

/// Text of ", ..." — kept free in a budget while elements remain to be shown.
const ELLIPSIS: usize = 5;

impl Layout {
    /// A preview of the rows fitting lines of `width` characters.
    ///
    /// The caller prints `indent - 1` characters before the opening bracket (e.g.
    /// `"gr.array("`) and `tail` characters after the closing one (e.g. `", dtype=int64)"`);
    /// continuation lines are indented by `indent` spaces. The rows go on one line when they
    /// all fit there completely (a flat array always uses one line, elided in the middle);
    /// otherwise one row per line, each elided to fit, showing the first and last
    /// `max_rows / 2` rows around a `...` line. Time and output size do not depend on the
    /// data size.
    ///
    /// ```
    /// use grumpy_core::layout::{Item, Layout};
    /// let rows: Item = (0..10i64).map(|i| vec![i; 40]).collect::<Vec<_>>().into();
    /// let text = Layout::from_item(&rows, None).unwrap().preview(40, 4, 1, 0);
    /// assert_eq!(text.lines().count(), 5);
    /// assert!(text.starts_with("[[0, 0, 0, 0, 0, 0, ..., 0, 0, 0, 0, 0],\n [1, 1,"));
    /// assert!(text.contains("\n ...,\n"));
    /// ```
    pub fn preview(&self, width: usize, max_rows: usize, indent: usize, tail: usize) -> String {
        let n = self.len();
        let mut f = Fmt { elided: false };
        let one_line = f.seq(
            self,
            0..n,
            width.saturating_sub(indent.saturating_sub(1) + tail),
        );
        if !f.elided || matches!(self, Layout::Leaf(_)) {
            return one_line.unwrap_or_else(|| "[...]".into());
        }
        let row_width = width.saturating_sub(indent + 1).max(8);
        let last_width = row_width.saturating_sub(tail).max(8);
        let half = (max_rows / 2).max(1);
        let shown: Vec<Option<usize>> = if n <= 2 * half {
            (0..n).map(Some).collect()
        } else {
            (0..half)
                .map(Some)
                .chain(std::iter::once(None))
                .chain((n - half..n).map(Some))
                .collect()
        };
        let last = shown.len() - 1;
        let lines: Vec<String> = shown
            .into_iter()
            .enumerate()
            .map(|(k, row)| {
                let w = if k == last { last_width } else { row_width };
                match row {
                    Some(i) => f.item(self, i, w).unwrap_or_else(|| "...".into()),
                    None => "...".into(),
                }
            })
            .collect();
        format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent))))
    }
}

struct Fmt {
    /// Whether anything was left out so far.
    elided: bool,
}

impl Fmt {
    /// Element `i` of `l` in at most `budget` characters (None when it cannot fit).
    fn item(&mut self, l: &Layout, i: usize, budget: usize) -> Option<String> {
        if l.is_null(i) {
            return fit("None".into(), budget);
        }
        match l {
            Layout::Leaf(leaf) => self.value(&leaf.values, i, budget),
            Layout::List(list) => self.seq(&list.child, list.row_range(i), budget),
            Layout::Union(u) => {
                let j = u.index[i] as usize;
                if u.tags[i] == 0 {
                    self.item(&u.scalar, j, budget)
                } else {
                    self.item(&u.list, j, budget)
                }
            }
        }
    }

    fn value(&mut self, v: &Values, i: usize, budget: usize) -> Option<String> {
        let text = match v {
            Values::Bool(b) => (if b[i] { "True" } else { "False" }).to_owned(),
            Values::I8(b) => b[i].to_string(),
            Values::I16(b) => b[i].to_string(),
            Values::I32(b) => b[i].to_string(),
            Values::I64(b) => b[i].to_string(),
            Values::U8(b) => b[i].to_string(),
            Values::U16(b) => b[i].to_string(),
            Values::U32(b) => b[i].to_string(),
            Values::U64(b) => b[i].to_string(),
            Values::F32(b) => format_float32(b[i]),
            Values::F64(b) => format_float(b[i]),
            Values::Str(_) => return self.string(v.str_at(i), budget),
        };
        fit(text, budget)
    }

    /// A Python-style string literal, cut inside the quotes (`'abc...'`) when too long;
    /// escapes are never split.
    fn string(&mut self, s: &str, budget: usize) -> Option<String> {
        let q = if s.contains('\'') && !s.contains('"') {
            '"'
        } else {
            '\''
        };
        let mut out = String::new();
        out.push(q);
        // (bytes, chars) of every escaped piece pushed, to back off whole pieces
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut used = 1;
        for c in s.chars() {
            let piece = escape(c, q);
            let w = piece.chars().count();
            if used + w + 1 > budget {
                // the shortest cut literal is '...' (5 characters)
                if budget < 5 {
                    return None;
                }
                while used + 4 > budget {
                    let (bytes, chars) = pieces.pop()?;
                    out.truncate(out.len() - bytes);
                    used -= chars;
                }
                self.elided = true;
                out.push_str("...");
                out.push(q);
                return Some(out);
            }
            out.push_str(&piece);
            pieces.push((piece.len(), w));
            used += w;
        }
        out.push(q);
        fit(out, budget)
    }

    /// Elements `range` of `l` as `[a, b, ..., y, z]` in at most `budget` characters.
    fn seq(&mut self, l: &Layout, range: std::ops::Range<usize>, budget: usize) -> Option<String> {
        if budget < 2 {
            return None;
        }
        let avail = budget - 2;
        let (mut lo, mut hi) = (range.start, range.end);
        let mut front: Vec<String> = Vec::new();
        let mut back: Vec<String> = Vec::new();
        let mut used = 0usize;
        while lo < hi {
            let from_front = front.len() <= back.len();
            let idx = if from_front { lo } else { hi - 1 };
            let sep = if front.is_empty() && back.is_empty() {
                0
            } else {
                2
            };
            let reserve = if hi - lo > 1 { ELLIPSIS } else { 0 };
            let room = avail.saturating_sub(used + sep + reserve);
            let Some(s) = self.item(l, idx, room) else {
                break;
            };
            used += sep + s.chars().count();
            if from_front {
                front.push(s);
                lo += 1;
            } else {
                back.push(s);
                hi -= 1;
            }
        }
        if lo < hi {
            self.elided = true;
            if front.is_empty() && back.is_empty() {
                return (budget >= 5).then(|| "[...]".to_owned());
            }
            front.push("...".into());
        }
        front.extend(back.into_iter().rev());
        Some(format!("[{}]", front.join(", ")))
    }
}

fn fit(text: String, budget: usize) -> Option<String> {
    (text.chars().count() <= budget).then_some(text)
}

/// Python's escaping of one character inside a `q`-quoted literal.
fn escape(c: char, q: char) -> String {
    match c {
        '\\' => "\\\\".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        c if c == q => format!("\\{c}"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("\\x{:02x}", c as u32),
        c if c.is_control() => {
            if (c as u32) <= 0xff {
                format!("\\x{:02x}", c as u32)
            } else {
                format!("\\u{:04x}", c as u32)
            }
        }
        c => c.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::buffer::Values;
    use crate::layout::{Item, Layout, Leaf};

    fn lay(it: Item) -> Layout {
        Layout::from_item(&it, None).unwrap()
    }

    #[test]
    fn small_arrays_print_like_python_lists() {
        let x = lay(Item::list(vec![
            Item::list(vec![1i64.into(), Item::Null]),
            Item::Null,
            Item::list(vec![]),
        ]));
        assert_eq!(x.preview(80, 6, 1, 0), "[[1, None], None, []]");
        let u = lay(Item::list(vec![
            1.0.into(),
            vec![2.0, 3.0].into(),
            4.0.into(),
        ]));
        assert_eq!(u.preview(80, 6, 1, 0), "[1.0, [2.0, 3.0], 4.0]");
        let s = lay(vec!["a", "it's", "b\\n"].into());
        assert_eq!(s.preview(80, 6, 1, 0), r#"['a', "it's", 'b\\n']"#);
        let b = lay(vec![true, false].into());
        assert_eq!(b.preview(80, 6, 1, 0), "[True, False]");
        let f = Layout::Leaf(Leaf::valid(Values::from(vec![0.1f32, 1e-5])));
        assert_eq!(f.preview(80, 6, 1, 0), "[0.1, 1e-05]");
        assert_eq!(lay(Item::list(vec![])).preview(80, 6, 1, 0), "[]");
    }

    #[test]
    fn elides_at_element_boundaries_within_the_width() {
        let rows: Item = vec![
            (0..1000).map(f64::from).collect::<Vec<_>>(),
            vec![4.0, 5.0],
            vec![7.0],
        ]
        .into();
        let x = lay(rows);
        let text = x.preview(40, 6, 1, 0);
        for line in text.lines() {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
        assert_eq!(
            text,
            "[[0.0, 1.0, 2.0, ..., 998.0, 999.0],\n [4.0, 5.0],\n [7.0]]"
        );
        // rows are elided in the middle
        let many: Item = (0..100i64).map(|i| vec![i]).collect::<Vec<_>>().into();
        let text = lay(many).preview(30, 4, 2, 0);
        assert_eq!(text, "[[0],\n  [1],\n  ...,\n  [98],\n  [99]]");
    }

    #[test]
    fn long_strings_keep_their_quotes() {
        let long = "x".repeat(500);
        let s = lay(vec![long.as_str(), "b"].into());
        let text = s.preview(30, 6, 1, 0);
        assert!(text.chars().count() <= 30, "{text}");
        assert!(text.starts_with("['xxx"), "{text}");
        assert!(text.contains("...'"), "{text}");
        assert!(text.ends_with(']'), "{text}");
        let esc = lay(vec!["\n".repeat(100).as_str()].into());
        let text = esc.preview(20, 6, 1, 0);
        assert!(text.starts_with("['\\n\\n"), "{text}");
        assert!(text.ends_with("\\n...']"), "{text}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut it: Item = vec![1.0].into();
        for _ in 0..200 {
            it = Item::list(vec![it]);
        }
        let x = lay(Item::list(vec![it]));
        let text = x.preview(40, 6, 1, 0);
        assert!(text.len() <= 40, "{text}");
        assert!(text.contains("..."), "{text}");
    }
}
