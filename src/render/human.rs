//! Terraform-like text: a symbol and a word per change, before → after per
//! property, a reason, and a summary line. Reads the same without colour.

use std::fmt::Write as _;

use crate::engine::plan::{Action, Change, Plan};

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
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

fn quote(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("{s:?}"),
        None => "(none)".to_string(),
    }
}

/// Multi-line values (JSON documents) render as blocks.
fn is_block(p: &crate::engine::plan::Property) -> bool {
    p.before.as_deref().is_some_and(|v| v.contains('\n')) || p.after.as_deref().is_some_and(|v| v.contains('\n'))
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

/// A unified diff of two documents, coloured by line when colour is on.
fn diff_lines(before: &str, after: &str, style: Style) -> String {
    let before = if before == "(none)" { "" } else { before };
    let text = crate::policy::diff(&format!("{before}\n"), &format!("{after}\n"));
    text.lines()
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

fn symbol(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("+", "create"),
        Action::Update => ("~", "update"),
        Action::NoOp => (" ", "unchanged"),
    }
}

fn change(out: &mut String, c: &Change, style: Style) {
    let (sym, word) = symbol(c.action);
    let head = format!("{sym} {}", c.address);
    let head = match c.action {
        Action::Create => style.green(&head),
        Action::Update => style.yellow(&head),
        Action::NoOp => head,
    };
    let id = c.id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default();
    let _ = writeln!(out, "  {}{id} will be {}", style.bold(&head), word_for(c.action, word));
    let props: Vec<_> = match c.action {
        Action::Create => c.properties.iter().filter(|p| p.after.is_some()).collect(),
        _ => c.properties.iter().filter(|p| p.changed()).collect(),
    };
    let width = props
        .iter()
        .filter(|p| !is_block(p))
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for p in props {
        let paint = |line: &str| {
            if c.action == Action::Create {
                style.green(line)
            } else {
                style.yellow(line)
            }
        };
        if is_block(p) {
            // Documents (policies, rules): the whole text on create, a diff on update.
            let (sym, body) = match c.action {
                Action::Create => ("+", indent(p.after.as_deref().unwrap_or_default(), "+ ")),
                _ => (
                    "~",
                    diff_lines(
                        p.before.as_deref().unwrap_or_default(),
                        p.after.as_deref().unwrap_or_default(),
                        style,
                    ),
                ),
            };
            let _ = writeln!(out, "      {}", paint(&format!("{sym} {}:", p.name)));
            for line in body.lines() {
                let _ = writeln!(out, "          {line}");
            }
            continue;
        }
        let line = match c.action {
            Action::Create => format!("+ {:width$} = {}", p.name, quote(&p.after)),
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

fn word_for(action: Action, word: &str) -> String {
    match action {
        Action::Create => "created".to_string(),
        Action::Update => "updated in place".to_string(),
        Action::NoOp => word.to_string(),
    }
}

/// The human view of a plan.
pub fn plan(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    if !plan.blockers.is_empty() {
        for b in &plan.blockers {
            let _ = writeln!(out, "{} {}", style.red("blocked:"), b.message);
            let _ = writeln!(out, "  hint: {}", b.hint);
        }
        return out;
    }
    let org = plan.organization_id.as_deref().unwrap_or("(to be created)");
    let _ = writeln!(out, "organization {org}, management account {}", plan.caller_account);
    let _ = writeln!(out);
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "No changes. Live state matches the plan ({} resources checked).",
            plan.changes.len()
        );
        return out;
    }
    let _ = writeln!(out, "sra will perform these actions:");
    let _ = writeln!(out);
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        change(&mut out, c, style);
        let _ = writeln!(out);
    }
    let s = plan.summary();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "Plan: {} to create, {} to update, {} unchanged.",
            s.create, s.update, s.unchanged
        ))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::{Address, Property, Step};
    use crate::model::{AccountRole, OuPath};

    fn sample() -> Plan {
        Plan {
            ids: crate::services::log_archive::Ids {
                partition: "aws".into(),
                home_region: "us-east-1".into(),
                management_account: "111111111111".into(),
                access_role: "OrganizationAccountAccessRole".into(),
                org_id: Some("o-abc".into()),
                log_archive: Some("222222222222".into()),
                key_arn: None,
            },
            organization_id: Some("o-abc".into()),
            caller_account: "111111111111".into(),
            blockers: vec![],
            changes: vec![
                Change {
                    address: Address::Organization,
                    action: Action::NoOp,
                    id: Some("o-abc".into()),
                    properties: vec![],
                    reason: String::new(),
                    steps: vec![],
                    manual: vec![],
                },
                Change {
                    address: Address::Ou(OuPath::parse("Security").unwrap()),
                    action: Action::Create,
                    id: None,
                    properties: vec![
                        Property {
                            name: "name".into(),
                            before: None,
                            after: Some("Security".into()),
                        },
                        Property {
                            name: "parent".into(),
                            before: None,
                            after: Some("(root)".into()),
                        },
                    ],
                    reason: "no OU of this name under its parent".into(),
                    steps: vec![Step::CreateOrganization],
                    manual: vec![],
                },
                Change {
                    address: Address::Account(AccountRole::LogArchive),
                    action: Action::Update,
                    id: Some("222222222222".into()),
                    properties: vec![
                        Property {
                            name: "ou".into(),
                            before: Some("(root)".into()),
                            after: Some("Security".into()),
                        },
                        Property {
                            name: "tags.sra:account".into(),
                            before: Some("log-archive".into()),
                            after: Some("log-archive".into()),
                        },
                    ],
                    reason: "it is not in its OU".into(),
                    steps: vec![],
                    manual: vec![],
                },
            ],
        }
    }

    #[test]
    fn renders_without_color() {
        let text = plan(&sample(), Style { color: false });
        let expected = r#"organization o-abc, management account 111111111111

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

    #[test]
    fn colour_only_when_asked() {
        let text = plan(&sample(), Style { color: true });
        assert!(text.contains("\x1b[32m"));
    }

    #[test]
    fn no_changes_says_so() {
        let mut p = sample();
        p.changes.truncate(1);
        let text = plan(&p, Style { color: false });
        assert!(
            text.contains("No changes. Live state matches the plan (1 resources checked)."),
            "{text}"
        );
    }
}
