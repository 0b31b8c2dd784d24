//! Byte-offset spans into the input line.
//!
//! Why byte offsets: every consumer (highlighter, completer, error renderer)
//! slices the original `&str`, and byte offsets make that O(1). Columns shown
//! to the *user* are computed from spans on demand (see [`char_column`]),
//! because users count characters, not UTF-8 bytes.

/// A half-open byte range `start..end` into the line that was lexed/parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// Empty span at `pos` (used for "unexpected end of line").
    pub const fn at(pos: usize) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }

    /// Smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The text covered by the span, or `""` if it does not fit `src`
    /// (never panics, even on non-char boundaries).
    pub fn slice(self, src: &str) -> &str {
        src.get(self.start..self.end).unwrap_or("")
    }
}

/// Largest char boundary `<= pos` (clamped to `s.len()`).
pub fn floor_boundary(s: &str, pos: usize) -> usize {
    let mut p = pos.min(s.len());
    while p > 0 && !s.is_char_boundary(p) {
        p -= 1;
    }
    p
}

/// 1-based (line, column) of byte offset `pos`, counting *characters*.
pub fn line_col(s: &str, pos: usize) -> (usize, usize) {
    let pos = floor_boundary(s, pos);
    let before = &s[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, s[line_start..pos].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_chars() {
        assert_eq!(line_col("héllo", 3), (1, 3));
        assert_eq!(line_col("a\nbé c", 6), (2, 4));
        assert_eq!(line_col("é", 1), (1, 1)); // inside a char: floored
        assert_eq!(line_col("ab", 99), (1, 3));
        assert_eq!(Span::new(1, 3).to(Span::new(5, 6)), Span::new(1, 6));
        assert_eq!(Span::new(1, 2).slice("é"), "");
    }
}
