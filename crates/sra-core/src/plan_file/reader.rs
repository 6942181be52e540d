//! A walker over a spanned TOML tree that collects every problem instead of
//! stopping at the first. Each table remembers which keys the loader asked for;
//! the keys it never asked for are reported as unknown, with a did-you-mean.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::Diagnostic;

pub type Value<'i> = Spanned<DeValue<'i>>;

/// A table being read, with its dotted path and the keys read so far.
pub struct Table<'t, 'i> {
    pub path: String,
    pub span: Range<usize>,
    table: &'t DeTable<'i>,
    asked: Vec<&'static str>,
}

impl<'t, 'i> Table<'t, 'i> {
    pub fn new(path: impl Into<String>, span: Range<usize>, table: &'t DeTable<'i>) -> Self {
        Table { path: path.into(), span, table, asked: Vec::new() }
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    /// The value under `key`, marking the key as known.
    pub fn get(&mut self, key: &'static str) -> Option<&'t Value<'i>> {
        self.asked.push(key);
        self.table.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(_, v)| v)
    }

    /// Keys present in the file, with their spans, in file order.
    pub fn keys(&self) -> Vec<(String, Range<usize>)> {
        let mut keys: Vec<(String, Range<usize>)> =
            self.table.iter().map(|(k, _)| (k.get_ref().to_string(), k.span())).collect();
        keys.sort_by_key(|(_, span)| span.start);
        keys
    }
}

/// Collects diagnostics while reading.
#[derive(Default)]
pub struct Reader {
    pub diags: Vec<Diagnostic>,
}

impl Reader {
    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn type_error(&mut self, t: &Table, key: &str, v: &Value, want: &str) {
        let got = v.get_ref().type_str();
        let key_path = t.key_path(key);
        self.error(
            Diagnostic::new(v.span(), key_path.clone(), format!("`{key_path}` must be {want}, found {got}"))
                .hint(format!("write it as {}", example_of(want))),
        );
    }

    pub fn string(&mut self, t: &mut Table, key: &'static str) -> Option<Spanned<String>> {
        let v = t.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some(Spanned::new(v.span(), s.to_string())),
            None => {
                self.type_error(t, key, v, "a string");
                None
            }
        }
    }

    pub fn integer(&mut self, t: &mut Table, key: &'static str) -> Option<Spanned<i64>> {
        let v = t.get(key)?;
        let parsed = v.get_ref().as_integer().and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
        match parsed {
            Some(n) => Some(Spanned::new(v.span(), n)),
            None => {
                self.type_error(t, key, v, "an integer");
                None
            }
        }
    }

    pub fn boolean(&mut self, t: &mut Table, key: &'static str) -> Option<Spanned<bool>> {
        let v = t.get(key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some(Spanned::new(v.span(), b)),
            None => {
                self.type_error(t, key, v, "a boolean");
                None
            }
        }
    }

    /// A whole number within `range`, reported with its key otherwise.
    pub fn count(
        &mut self,
        t: &mut Table,
        key: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<Spanned<u32>> {
        let n = self.integer(t, key)?;
        if !range.contains(n.get_ref()) {
            let key_path = t.key_path(key);
            self.error(
                Diagnostic::new(
                    n.span(),
                    key_path.clone(),
                    format!("`{key_path}` is {}, outside {}..={}", n.get_ref(), range.start(), range.end()),
                )
                .hint(format!("use a number from {} to {}", range.start(), range.end())),
            );
            return None;
        }
        Some(Spanned::new(n.span(), *n.get_ref() as u32))
    }

    pub fn strings(&mut self, t: &mut Table, key: &'static str) -> Option<Spanned<Vec<Spanned<String>>>> {
        let v = t.get(key)?;
        let Some(array) = v.get_ref().as_array() else {
            self.type_error(t, key, v, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in array.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push(Spanned::new(item.span(), s.to_string())),
                None => {
                    let key_path = t.key_path(key);
                    self.error(
                        Diagnostic::new(
                            item.span(),
                            key_path.clone(),
                            format!("`{key_path}` must hold only strings, found {}", item.get_ref().type_str()),
                        )
                        .hint("quote each element, e.g. [\"us-east-1\", \"eu-west-1\"]"),
                    );
                }
            }
        }
        Some(Spanned::new(v.span(), out))
    }

    pub fn table<'t, 'i>(&mut self, t: &mut Table<'t, 'i>, key: &'static str) -> Option<Table<'t, 'i>> {
        let v = t.get(key)?;
        match v.get_ref().as_table() {
            Some(inner) => Some(Table::new(t.key_path(key), v.span(), inner)),
            None => {
                self.type_error(t, key, v, "a table");
                None
            }
        }
    }

    /// A table whose keys are free-form (tags): every value must be a string.
    pub fn string_map(&mut self, t: &mut Table, key: &'static str) -> Option<Vec<(Spanned<String>, Spanned<String>)>> {
        let v = t.get(key)?;
        let Some(inner) = v.get_ref().as_table() else {
            self.type_error(t, key, v, "a table");
            return None;
        };
        let mut out = Vec::new();
        for (k, val) in inner.iter() {
            let name = k.get_ref().to_string();
            match val.get_ref().as_str() {
                Some(s) => out.push((Spanned::new(k.span(), name), Spanned::new(val.span(), s.to_string()))),
                None => {
                    let key_path = format!("{}.{name}", t.key_path(key));
                    self.error(
                        Diagnostic::new(
                            val.span(),
                            key_path.clone(),
                            format!("`{key_path}` must be a string, found {}", val.get_ref().type_str()),
                        )
                        .hint("tag values are strings: quote the value"),
                    );
                }
            }
        }
        out.sort_by_key(|(k, _)| k.span().start);
        Some(out)
    }

    /// Report every key of `t` that the loader did not ask for.
    pub fn finish(&mut self, t: Table) {
        for (key, span) in t.keys() {
            if t.asked.contains(&key.as_str()) {
                continue;
            }
            let key_path = t.key_path(&key);
            let place = if t.path.is_empty() { "at the top level".to_string() } else { format!("in [{}]", t.path) };
            let mut d = Diagnostic::new(span, key_path, format!("unknown key `{key}` {place}"));
            d = match did_you_mean(&key, &t.asked) {
                Some(best) => d.hint(format!("did you mean `{best}`?")),
                None => d.hint(format!("known keys here: {}", t.asked.join(", "))),
            };
            self.error(d);
        }
    }
}

/// The closest known key, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(got: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(got, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

fn example_of(want: &str) -> &'static str {
    match want {
        "a string" => "key = \"value\"",
        "an integer" => "key = 1",
        "a boolean" => "key = true",
        "an array of strings" => "key = [\"a\", \"b\"]",
        "a table" => "[section] or key = { ... }",
        _ => "shown in plans/example.toml",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos_only() {
        assert_eq!(did_you_mean("emial", &["name", "email", "ou"]), Some("email"));
        assert_eq!(did_you_mean("home_regoin", &["home_region", "governed_regions"]), Some("home_region"));
        assert_eq!(did_you_mean("zzz", &["name", "email"]), None);
    }
}
