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

/// Output formats of `sra plan` and `sra show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
