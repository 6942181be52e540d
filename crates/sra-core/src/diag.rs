//! Located problems in a plan file, rendered like a compiler's diagnostics.

use std::fmt::Write as _;
use std::ops::Range;

/// One problem found in a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte range in the source the problem points at.
    pub span: Range<usize>,
    /// Dotted key path, e.g. `accounts.log_archive.email` (empty for the whole file).
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { span, key: key.into(), message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Render diagnostics as `file:line:col`, the key, the source line and a hint.
pub fn render(path: &str, src: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags.iter().take(MAX_SHOWN) {
        let (line, col) = line_col(src, d.span.start);
        let _ = writeln!(out, "error: {}", d.message);
        let _ = writeln!(out, "  --> {path}:{line}:{col}");
        if !d.key.is_empty() {
            let _ = writeln!(out, "   = key: {}", d.key);
        }
        if let Some(text) = src.lines().nth(line - 1) {
            let gutter = line.to_string();
            let pad = " ".repeat(gutter.len());
            let start = floor_char_boundary(src, d.span.start.min(src.len()));
            let end = floor_char_boundary(src, d.span.end.min(src.len()));
            let width = src[start..end].lines().next().map_or(1, |s| s.chars().count().max(1));
            let width = width.min(text.chars().count().saturating_sub(col - 1).max(1));
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{gutter} | {text}");
            let _ = writeln!(out, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(width));
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(out, "   = hint: {h}");
        }
        out.push('\n');
    }
    let n = diags.len();
    if n > MAX_SHOWN {
        let _ = writeln!(out, "... and {} more problems, not shown: fix these first", n - MAX_SHOWN);
    }
    let _ = writeln!(out, "{path}: {n} problem{} found", if n == 1 { "" } else { "s" });
    out
}

/// How many problems [`render`] shows: past that, one broken line tends to be the
/// cause of the rest.
pub const MAX_SHOWN: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 9), (2, 4));
        assert_eq!(line_col(src, 999), (3, 1));
    }

    #[test]
    fn render_shows_the_first_problems_and_counts_the_rest() {
        let src = "a = 1\n";
        let d = Diagnostic { span: 0..1, key: "a".into(), message: "bad".into(), hint: None };
        let out = render("p.toml", src, &vec![d; MAX_SHOWN + 5]);
        assert_eq!(out.matches("error: bad").count(), MAX_SHOWN);
        assert!(out.contains("... and 5 more problems, not shown"), "{out}");
        assert!(out.ends_with(&format!("p.toml: {} problems found\n", MAX_SHOWN + 5)), "{out}");
    }

    #[test]
    fn render_points_at_the_span() {
        let src = "version = 1\nemial = \"x\"\n";
        let d = Diagnostic::new(12..17, "accounts.emial", "unknown key `emial`").hint("did you mean `email`?");
        let out = render("p.toml", src, &[d]);
        assert!(out.contains("--> p.toml:2:1"), "{out}");
        assert!(out.contains("2 | emial = \"x\""), "{out}");
        assert!(out.contains("  | ^^^^^\n"), "{out}");
        assert!(out.contains("hint: did you mean `email`?"), "{out}");
        assert!(out.ends_with("p.toml: 1 problem found\n"), "{out}");
    }
}
