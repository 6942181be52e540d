//! Terraform-like text: a symbol and a word per change, before → after per
//! property, a reason, and a summary line. Reads the same without colour.

use std::fmt::Write as _;

use super::document::{ActionDoc, ChangeDoc, PlanDocument, PropertyDoc};

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    /// Print new policy documents whole (`--full`); otherwise each statement's id,
    /// effect and actions.
    pub full: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// A value as it reads in the plan: booleans and whole numbers bare, as in the
/// plan file, every other value in quotes.
fn quote(v: &Option<String>) -> String {
    match v {
        Some(s) if s == "true" || s == "false" => s.clone(),
        // Days and counts; 12-digit account ids stay quoted, as the ids they are.
        Some(s) if !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') => {
            s.clone()
        }
        Some(s) => super::quoted(s),
        None => "(none)".to_string(),
    }
}

/// Multi-line values (JSON documents) render as blocks.
pub fn is_block(p: &PropertyDoc) -> bool {
    p.before.as_deref().is_some_and(|v| v.contains('\n')) || p.after.as_deref().is_some_and(|v| v.contains('\n'))
}

/// A new policy in brief: one line per statement (Sid, effect, actions), or None
/// when the text is not a policy document.
fn policy_outline(text: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let statements = doc.get("Statement")?.as_array()?;
    let mut out = String::new();
    for (i, st) in statements.iter().enumerate() {
        let sid = st["Sid"].as_str().map_or_else(|| format!("(statement {})", i + 1), str::to_string);
        let effect = st["Effect"].as_str().unwrap_or("?");
        let (key, actions) = match (st.get("Action"), st.get("NotAction")) {
            (Some(a), _) => ("", a),
            (None, Some(n)) => ("all but ", n),
            (None, None) => ("", &serde_json::Value::Null),
        };
        let list: Vec<&str> = match actions {
            serde_json::Value::String(s) => vec![s.as_str()],
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => vec![],
        };
        let shown = if list.len() > 4 {
            format!("{}, … ({} actions)", list[..3].join(", "), list.len())
        } else {
            list.join(", ")
        };
        let _ = writeln!(out, "{sid}: {effect} {key}{shown}");
    }
    Some(out)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

/// A unified diff of two documents (live → plan).
pub fn document_diff(before: &str, after: &str) -> String {
    let before = if before == "(none)" { "" } else { before };
    crate::policy::diff(&format!("{before}\n"), &format!("{after}\n"))
}

fn diff_lines(before: &str, after: &str, style: Style) -> String {
    document_diff(before, after)
        .lines()
        .map(|l| {
            let l = if l.starts_with('+') && !l.starts_with("+++") {
                style.green(l)
            } else if l.starts_with('-') && !l.starts_with("---") {
                style.red(l)
            } else {
                l.to_string()
            };
            format!("{l}\n")
        })
        .collect()
}

fn change(out: &mut String, c: &ChangeDoc, style: Style) {
    let (sym, word) = match c.action {
        ActionDoc::Create => ("+", "created"),
        ActionDoc::Update => ("~", "updated in place"),
        ActionDoc::NoOp => ("!", "left as it is"),
    };
    let head = format!("{sym} {}", c.address);
    let head = match c.action {
        ActionDoc::Create => style.green(&head),
        ActionDoc::Update => style.yellow(&head),
        ActionDoc::NoOp => style.red(&head),
    };
    let id = c.id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default();
    let _ = writeln!(out, "  {}{id} will be {word}", style.bold(&head));
    let props: Vec<&PropertyDoc> = match c.action {
        ActionDoc::Create => c.properties.iter().filter(|p| p.after.is_some()).collect(),
        _ => c.properties.iter().filter(|p| p.changed).collect(),
    };
    let width = props.iter().filter(|p| !is_block(p)).map(|p| p.name.len()).max().unwrap_or(0);
    let paint = |line: &str| {
        if c.action == ActionDoc::Create { style.green(line) } else { style.yellow(line) }
    };
    for p in props {
        if is_block(p) {
            // Documents (policies, rules): the whole text on create, a diff on update.
            let after = p.after.as_deref().unwrap_or_default();
            let outline = if style.full { None } else { policy_outline(after) };
            let (sym, body) = match c.action {
                ActionDoc::Create if outline.is_some() => ("+", indent(&outline.unwrap_or_default(), "+ ")),
                ActionDoc::Create => ("+", indent(after, "+ ")),
                _ => (
                    "~",
                    diff_lines(p.before.as_deref().unwrap_or_default(), p.after.as_deref().unwrap_or_default(), style),
                ),
            };
            let brief = c.action == ActionDoc::Create && !style.full && policy_outline(after).is_some();
            let label = if brief {
                format!("{sym} {} (each statement; --full prints the document):", p.name)
            } else {
                format!("{sym} {}:", p.name)
            };
            let _ = writeln!(out, "      {}", paint(&label));
            for line in body.lines() {
                let _ = writeln!(out, "          {line}");
            }
            continue;
        }
        let line = match c.action {
            ActionDoc::Create => format!("+ {:width$} = {}", p.name, quote(&p.after)),
            _ => format!("~ {:width$} = {} -> {}", p.name, quote(&p.before), quote(&p.after)),
        };
        let _ = writeln!(out, "      {}", paint(&line));
    }
    for m in &c.manual {
        let _ = writeln!(out, "      {}", style.red(&format!("! manual: {m}")));
    }
    if !c.reason.is_empty() {
        let _ = writeln!(out, "      {}", style.dim(&format!("# {}", c.reason)));
    }
}

/// Which accounts each security service covers, per region.
fn coverage(out: &mut String, doc: &PlanDocument) {
    let lines: Vec<String> = doc
        .changes
        .iter()
        .filter(|c| c.address.ends_with(".coverage"))
        .filter_map(|c| {
            let members = c.properties.iter().find(|p| p.name == "members")?;
            let service = c.address.trim_end_matches(".coverage");
            Some(format!("  {service}: {}", members.before.as_deref().unwrap_or("(not read yet)")))
        })
        .collect();
    if !lines.is_empty() {
        let _ = writeln!(out, "Coverage (enrolled accounts):");
        for l in lines {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out);
    }
}

/// The guardrail proof's last line, and each case that is not guarded by choice
/// (failed ones are blockers, shown above).
fn proof(out: &mut String, doc: &PlanDocument, style: Style) {
    let Some(p) = &doc.guardrail_proof else { return };
    for r in p.rows.iter().filter(|r| r.outcome == "not guarded") {
        let _ = writeln!(out, "  {} {}: {}", style.yellow("not guarded:"), r.name, r.note);
    }
    let _ = writeln!(out, "{}", p.summary());
}

/// The human view of a plan.
pub fn plan(doc: &PlanDocument, style: Style) -> String {
    let mut out = plan_body(doc, style);
    if doc.blockers.is_empty() {
        for note in &doc.notes {
            let _ = writeln!(out, "{} {note}", style.yellow("note:"));
        }
    }
    proof(&mut out, doc, style);
    out
}

fn plan_body(doc: &PlanDocument, style: Style) -> String {
    let mut out = String::new();
    if !doc.blockers.is_empty() {
        for b in &doc.blockers {
            let _ = writeln!(out, "{} {}", style.red("blocked:"), b.message);
            let _ = writeln!(out, "  hint: {}", b.hint);
        }
        return out;
    }
    let org = doc.organization_id.as_deref().unwrap_or("(to be created)");
    let _ = writeln!(out, "organization {org}, management account {}", doc.caller_account);
    if doc.has_changes() || doc.has_manual() {
        // The summary first too, so a long plan says what it amounts to up front.
        let _ = writeln!(out, "{}", summary_line(doc, style));
    }
    let _ = writeln!(out);
    if !doc.has_changes() && !doc.has_manual() {
        let _ = writeln!(out, "No changes. Live state matches the plan ({} resources checked).", doc.changes.len());
        return out;
    }
    match doc.plan_file_applied_before {
        // Only what a person must do: nothing moved, nothing for apply.
        _ if !doc.has_changes() => {
            let _ = writeln!(out, "Nothing for apply to do; what remains needs a person (below).");
            let _ = writeln!(out);
        }
        Some(true) => {
            let _ = writeln!(
                out,
                "{}",
                style.yellow("Drift: the plan file is the one last applied; live state moved away from it.")
            );
            let _ = writeln!(out);
        }
        Some(false) => {
            let _ =
                writeln!(out, "The plan file changed since the last apply: changes below may be new intent or drift.");
            let _ = writeln!(out);
        }
        None => {}
    }
    let _ = writeln!(out, "sra will perform these actions:");
    let _ = writeln!(out);
    for c in doc.changes.iter().filter(|c| c.action != ActionDoc::NoOp || !c.manual.is_empty()) {
        change(&mut out, c, style);
        let _ = writeln!(out);
    }
    coverage(&mut out, doc);
    let _ = writeln!(out, "{}", summary_line(doc, style));
    out
}

/// "Plan: 2 to create, 1 to update, 60 unchanged, 1 to resolve by hand, 1 that
/// replaces another administrator."
fn summary_line(doc: &PlanDocument, style: Style) -> String {
    let s = doc.summary;
    let manual = if s.manual > 0 { format!(", {} to resolve by hand", s.manual) } else { String::new() };
    let destructive = doc.changes.iter().filter(|c| c.destructive).count();
    let destructive = match destructive {
        0 => String::new(),
        1 => ", 1 that replaces another administrator (needs --allow-admin-change)".into(),
        n => format!(", {n} that replace another administrator (need --allow-admin-change)"),
    };
    style.bold(&format!(
        "Plan: {} to create, {} to update, {} unchanged{manual}{destructive}.",
        s.create, s.update, s.unchanged
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::document::{PlanFileRef, Summary};

    pub fn sample() -> PlanDocument {
        let prop = |n: &str, b: Option<&str>, a: Option<&str>| PropertyDoc {
            name: n.into(),
            before: b.map(Into::into),
            after: a.map(Into::into),
            changed: b != a,
        };
        let change = |address: &str, action, id: Option<&str>, properties, reason: &str| ChangeDoc {
            address: address.into(),
            action,
            id: id.map(Into::into),
            reason: reason.into(),
            properties,
            steps: vec![],
            manual: vec![],
            fingerprint: "f".into(),
            destructive: false,
        };
        PlanDocument {
            format_version: 1,
            sra_version: "0.1.0".into(),
            plan_file: PlanFileRef { path: "p.toml".into(), digest: "d".into(), contents: serde_json::Value::Null },
            organization_id: Some("o-abc".into()),
            caller_account: "111111111111".into(),
            plan_file_applied_before: None,
            summary: Summary { create: 1, update: 1, unchanged: 1, manual: 0 },
            fingerprint: "f".into(),
            blockers: vec![],
            guardrail_proof: None,
            notes: vec![],
            changes: vec![
                change("organization", ActionDoc::NoOp, Some("o-abc"), vec![], ""),
                change(
                    "ou[\"Security\"]",
                    ActionDoc::Create,
                    None,
                    vec![prop("name", None, Some("Security")), prop("parent", None, Some("(root)"))],
                    "no OU of this name under its parent",
                ),
                change(
                    "account.log_archive",
                    ActionDoc::Update,
                    Some("222222222222"),
                    vec![
                        prop("ou", Some("(root)"), Some("Security")),
                        prop("tags.sra:account", Some("log-archive"), Some("log-archive")),
                    ],
                    "it is not in its OU",
                ),
            ],
        }
    }

    #[test]
    fn renders_without_color() {
        let text = plan(&sample(), Style { color: false, full: false });
        let expected = r#"organization o-abc, management account 111111111111
Plan: 1 to create, 1 to update, 1 unchanged.

sra will perform these actions:

  + ou["Security"] will be created
      + name   = "Security"
      + parent = "(root)"
      # no OU of this name under its parent

  ~ account.log_archive (222222222222) will be updated in place
      ~ ou = "(root)" -> "Security"
      # it is not in its OU

Plan: 1 to create, 1 to update, 1 unchanged.
"#;
        assert_eq!(text, expected);
        assert!(!text.contains('\x1b'));
    }

    /// A new policy reads as its statements (id, effect, actions) unless --full.
    #[test]
    fn a_new_policy_is_outlined_unless_full() {
        let mut doc = sample();
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyLeaving", "Effect": "Deny", "Action": ["organizations:LeaveOrganization"], "Resource": "*"},
            {"Sid": "Many", "Effect": "Deny", "Action": ["a:A", "a:B", "a:C", "a:D", "a:E"], "Resource": "*"}
        ]});
        let pretty = serde_json::to_string_pretty(&policy).unwrap();
        doc.changes[1].properties.push(PropertyDoc {
            name: "policy".into(),
            before: None,
            after: Some(pretty.clone()),
            changed: true,
        });
        let brief = plan(&doc, Style { color: false, full: false });
        assert!(brief.contains("+ policy (each statement; --full prints the document):"), "{brief}");
        assert!(brief.contains("+ DenyLeaving: Deny organizations:LeaveOrganization"), "{brief}");
        assert!(brief.contains("+ Many: Deny a:A, a:B, a:C, … (5 actions)"), "{brief}");
        assert!(!brief.contains("\"Resource\""), "{brief}");
        let full = plan(&doc, Style { color: false, full: true });
        assert!(full.contains("+ policy:") && full.contains("\"Resource\": \"*\""), "{full}");
    }

    #[test]
    fn booleans_and_whole_numbers_read_bare_like_the_plan_file() {
        for (value, shown) in [
            ("true", "true"),
            ("400", "400"),
            ("0400", "\"0400\""),
            ("us-east-1", "\"us-east-1\""),
            ("", "\"\""),
            ("123456789012", "\"123456789012\""),
        ] {
            assert_eq!(quote(&Some(value.into())), shown, "{value}");
        }
        assert_eq!(quote(&None), "(none)");
    }

    #[test]
    fn colour_only_when_asked() {
        let text = plan(&sample(), Style { color: true, full: false });
        assert!(text.contains("\x1b[32m"));
    }

    #[test]
    fn no_changes_says_so() {
        let mut p = sample();
        p.changes.truncate(1);
        let text = plan(&p, Style { color: false, full: false });
        assert!(text.contains("No changes. Live state matches the plan (1 resources checked)."), "{text}");
    }

    #[test]
    fn drift_is_labelled_when_the_plan_file_was_applied_before() {
        let mut p = sample();
        p.plan_file_applied_before = Some(true);
        assert!(plan(&p, Style { color: false, full: false }).contains("Drift: the plan file is the one last applied"));
        p.plan_file_applied_before = Some(false);
        assert!(plan(&p, Style { color: false, full: false }).contains("may be new intent or drift"));
        // Only manual items left: not drift, and nothing for apply.
        p.plan_file_applied_before = Some(true);
        for c in p.changes.iter_mut() {
            c.action = ActionDoc::NoOp;
        }
        p.changes[0].manual = vec!["turn it on in the console".into()];
        let text = plan(&p, Style { color: false, full: false });
        assert!(!text.contains("Drift"), "{text}");
        assert!(text.contains("Nothing for apply to do; what remains needs a person"), "{text}");
    }

    #[test]
    fn policies_render_as_diffs() {
        let mut p = sample();
        p.changes[2].properties.push(PropertyDoc {
            name: "policy".into(),
            before: Some("{\n  \"a\": 1\n}".into()),
            after: Some("{\n  \"a\": 2\n}".into()),
            changed: true,
        });
        let text = plan(&p, Style { color: false, full: false });
        assert!(text.contains("      ~ policy:\n"), "{text}");
        assert!(text.contains("-  \"a\": 1") && text.contains("+  \"a\": 2"), "{text}");
    }
}
