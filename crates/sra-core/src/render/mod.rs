//! Renderings of a plan. Pure: values in, text out. All renderings start from the
//! one public [`document::PlanDocument`].

pub mod document;
pub mod human;
pub mod markdown;

/// Whether to colour output: never when `NO_COLOR` is set (any value) or
/// `--no-color` is given; otherwise only on a terminal.
pub fn use_color(no_color_flag: bool, no_color_env: Option<std::ffi::OsString>, is_terminal: bool) -> bool {
    !no_color_flag && no_color_env.is_none_or(|v| v.is_empty()) && is_terminal
}

/// A value as plan output shows it: in double quotes, escaped as JSON escapes
/// strings (never Rust's Debug escaping).
pub fn quoted(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

/// Text that reads like Rust's Debug output rather than words: `Some(…)`, `None`,
/// `Variant { field: … }` or `Variant(…)`. Returns the offending word.
pub fn debug_text(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    if words.contains(&"None") {
        return Some("None".into());
    }
    for (i, _) in text.match_indices(['(', '{']) {
        let before = text[..i].trim_end_matches(' ');
        let word = before.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or_default();
        let glued = before.len() == text[..i].len();
        let capitalized = word.starts_with(|c: char| c.is_ascii_uppercase());
        if capitalized && (glued || text[i..].starts_with("{ ")) {
            return Some(format!("{word}{}", &text[i..i + 1]));
        }
    }
    None
}

/// An operation's CamelCase name standing alone (`EnableAdmin`), where a step
/// should say in words what it does. Returns the word. Product names written in
/// CamelCase (GuardDuty, CloudTrail, CloudWatch) are words.
pub fn identifier_text(text: &str) -> Option<String> {
    const NAMES: &[&str] = &["GuardDuty", "CloudTrail", "CloudWatch"];
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| is_camel(w) && !NAMES.contains(w))
        .map(str::to_string)
}

/// A lowercase letter followed by an uppercase one: `PutRecorder`, `LogArchive`.
fn is_camel(word: &str) -> bool {
    word.as_bytes().windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

/// A checked-in JSON Schema (`docs/<name>`) is what readers of a JSON output
/// rely on: the test it backs fails when `now` differs from it, and
/// `SRA_UPDATE_SCHEMA=1` rewrites it instead.
#[cfg(test)]
pub(crate) fn assert_schema_fresh(name: &str, now: &str) {
    let path = format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("SRA_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, now).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(checked_in == now, "{path} is stale: run `SRA_UPDATE_SCHEMA=1 cargo test -p sra-core checked_in_schema`");
}

/// Output formats of `sra plan` and `sra show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// Render a plan document in a format.
pub fn render(doc: &document::PlanDocument, format: Format, style: human::Style) -> String {
    match format {
        Format::Human => human::plan(doc, style),
        Format::Json => serde_json::to_string_pretty(doc).expect("documents serialize") + "\n",
        Format::Markdown => markdown::plan(doc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins() {
        assert!(use_color(false, None, true));
        assert!(!use_color(true, None, true));
        assert!(!use_color(false, Some("1".into()), true));
        assert!(use_color(false, Some("".into()), true));
        assert!(!use_color(false, None, false));
    }
}
