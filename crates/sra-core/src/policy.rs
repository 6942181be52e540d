//! IAM-style policy documents: normal form, semantic comparison and diffs.
//!
//! Two documents that mean the same thing normalize to the same value, so a policy
//! is a drift only when its meaning changed: statement order, a single string versus
//! a one-element array, key order, whitespace, and boolean or number literals in
//! conditions never make a diff.

use serde_json::{Map, Value};

/// Keys whose value is a string or a list of strings, order and repeats meaningless.
const SET_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

/// The normal form of a policy document.
pub fn normalize(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let nv = match k.as_str() {
                    "Statement" => normalize_statements(v),
                    _ => v.clone(),
                };
                out.insert(k.clone(), nv);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn normalize_statements(v: &Value) -> Value {
    let list = match v {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    let mut statements: Vec<Value> = list.iter().map(normalize_statement).collect();
    statements.sort_by_key(|s| s.to_string());
    statements.dedup();
    Value::Array(statements)
}

fn normalize_statement(s: &Value) -> Value {
    let Value::Object(map) = s else { return s.clone() };
    let mut out = Map::new();
    for (k, v) in map {
        let nv = if SET_KEYS.contains(&k.as_str()) {
            string_set(v)
        } else if k == "Principal" || k == "NotPrincipal" {
            match v {
                Value::Object(p) => Value::Object(p.iter().map(|(pk, pv)| (pk.clone(), string_set(pv))).collect()),
                other => other.clone(),
            }
        } else if k == "Condition" {
            normalize_condition(v)
        } else {
            v.clone()
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

fn normalize_condition(v: &Value) -> Value {
    let Value::Object(ops) = v else { return v.clone() };
    Value::Object(
        ops.iter()
            .map(|(op, keys)| {
                let nk = match keys {
                    Value::Object(k) => Value::Object(k.iter().map(|(ck, cv)| (ck.clone(), string_set(cv))).collect()),
                    other => other.clone(),
                };
                (op.clone(), nk)
            })
            .collect(),
    )
}

/// A scalar or list, as a sorted list of strings without repeats.
fn string_set(v: &Value) -> Value {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        single => vec![single],
    };
    let mut strings: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    strings.sort();
    strings.dedup();
    Value::Array(strings.into_iter().map(Value::String).collect())
}

/// Do two documents mean the same?
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// Parse a policy as AWS returns it; None for an empty or invalid document.
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// The normalized document, pretty-printed: what plans show and compare.
pub fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(&normalize(doc)).expect("a JSON value always serializes")
}

/// A unified diff of two normalized documents (empty when they are equivalent).
/// Each hunk header of a policy names the statement (Sid) its first change is in.
pub fn diff(before: &str, after: &str) -> String {
    let d = similar::TextDiff::from_lines(before, after);
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let mut unified = d.unified_diff();
    unified.context_radius(3).header("live", "plan");
    let mut out = String::new();
    for (i, hunk) in unified.iter_hunks().enumerate() {
        if i == 0 {
            out.push_str("--- live\n+++ plan\n");
        }
        let first = hunk.ops().iter().find(|op| op.tag() != similar::DiffTag::Equal);
        let sid = first.and_then(|op| {
            statement_sid(&new_lines, op.new_range().start).or_else(|| statement_sid(&old_lines, op.old_range().start))
        });
        let text = hunk.to_string();
        let (header, rest) = text.split_once('\n').unwrap_or((&text, ""));
        match sid {
            Some(sid) => out.push_str(&format!("{header} in statement {sid}\n{rest}")),
            None => out.push_str(&format!("{header}\n{rest}")),
        }
    }
    out
}

/// The Sid of the statement that line `at` of a pretty-printed policy lies in:
/// the object indented four spaces in its `Statement` array.
fn statement_sid(lines: &[&str], at: usize) -> Option<String> {
    let at = at.min(lines.len().checked_sub(1)?);
    let start = (0..=at).rev().find(|&i| lines[i] == "    {")?;
    let end = (at..lines.len()).find(|&i| lines[i] == "    }" || lines[i] == "    },")?;
    if (start..=end).any(|i| i != start && lines[i] == "    {") {
        return None;
    }
    lines[start..=end].iter().find_map(|l| {
        l.strip_prefix("      \"Sid\": \"")
            .and_then(|r| r.strip_suffix("\",").or_else(|| r.strip_suffix('"')))
            .map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(a: Value, b: Value) {
        assert!(equivalent(&a, &b), "expected equivalent:\n{}\n{}", pretty(&a), pretty(&b));
    }

    fn differ(a: Value, b: Value) {
        assert!(!equivalent(&a, &b), "expected different:\n{}\n{}", pretty(&a), pretty(&b));
    }

    #[test]
    fn a_diff_hunk_names_the_statement_it_changes() {
        let before = pretty(&json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:PutBucketPolicy"], "Resource": "*"},
            {"Sid": "B", "Effect": "Deny", "Action": "kms:DisableKey", "Resource": "*"}
        ]}));
        let after =
            before.replace("\"s3:PutBucketPolicy\"", "\"s3:PutBucketPolicy\",\n          \"s3:PutBucketVersioning\"");
        let d = diff(&before, &after);
        assert!(d.starts_with("--- live\n+++ plan\n@@ "), "{d}");
        assert!(d.lines().nth(2).unwrap().ends_with(" in statement A"), "{d}");
        assert!(d.contains("+          \"s3:PutBucketVersioning\""), "{d}");
        assert_eq!(diff(&before, &before), "");
    }

    #[test]
    fn order_of_statements_keys_and_lists_is_not_a_diff() {
        same(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
                {"Sid": "B", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
            ]}),
            json!({"Statement": [
                {"Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"], "Action": "s3:*", "Effect": "Deny", "Sid": "B"},
                {"Effect": "Allow", "Resource": ["*"], "Action": ["s3:PutObject", "s3:GetObject"], "Sid": "A"}
            ], "Version": "2012-10-17"}),
        );
    }

    #[test]
    fn single_statement_object_equals_one_element_array() {
        same(
            json!({"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": "arn:aws:iam::1:root"}}}),
            json!({"Statement": [{"Effect": "Allow", "Action": ["kms:*"], "Resource": ["*"], "Principal": {"AWS": ["arn:aws:iam::1:root"]}}]}),
        );
    }

    #[test]
    fn condition_literals_and_repeats() {
        same(
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:TlsVersion": 1.2}}}]}),
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:TlsVersion": ["1.2"]}, "Bool": {"aws:SecureTransport": ["false", "false"]}}}]}),
        );
        same(
            json!({"Statement": [{"Effect": "Allow", "Action": ["a", "a"], "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}]}),
        );
        same(
            json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}, {"Effect": "Allow", "Action": "a", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}]}),
        );
    }

    #[test]
    fn whitespace_is_not_a_diff() {
        let a = parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}").unwrap();
        let b = parse("{\n  \"Version\" : \"2012-10-17\",\n\t\"Statement\": [ { \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\" } ]\n}\n").unwrap();
        same(a, b);
    }

    #[test]
    fn meaning_changes_are_diffs() {
        let base = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        differ(
            base.clone(),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}),
        );
        differ(
            base.clone(),
            json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}),
        );
        differ(base.clone(), json!({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}));
        differ(
            base.clone(),
            json!({"Statement": [{"Effect": "Deny", "Action": ["s3:*", "kms:*"], "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}),
        );
        differ(base.clone(), json!({"Statement": []}));
        differ(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]}),
        );
        differ(
            json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}, {"Effect": "Allow", "Action": "b", "Resource": "*"}]}),
        );
    }

    #[test]
    fn diff_shows_only_what_changed() {
        let a = pretty(&json!({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*"}]}));
        let b = pretty(&json!({"Statement": [{"Effect": "Allow", "Action": ["a", "b"], "Resource": "*"}]}));
        let d = diff(&a, &b);
        assert!(d.contains("--- live") && d.contains("+++ plan"), "{d}");
        assert!(d.contains("+        \"b\"") && d.contains("-        \"a\"\n"), "{d}");
        assert_eq!(diff(&a, &a), "");
    }
}
