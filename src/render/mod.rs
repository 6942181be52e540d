//! Renderings of a plan. Pure: values in, text out.

pub mod human;

/// Whether to colour output: never when `NO_COLOR` is set (any value) or
/// `--no-color` is given; otherwise only on a terminal.
pub fn use_color(no_color_flag: bool, no_color_env: Option<std::ffi::OsString>, is_terminal: bool) -> bool {
    !no_color_flag && no_color_env.is_none_or(|v| v.is_empty()) && is_terminal
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
