//! Markdown for a pull-request comment: a summary table, then each resource's
//! change in a collapsible block with its diff. Kept under GitHub's comment limit.

use std::fmt::Write as _;

use super::document::{ActionDoc, ChangeDoc, PlanDocument};
use super::human::{document_diff, is_block};

/// GitHub rejects comments longer than this.
pub const MAX_CHARS: usize = 65_536;

fn word(a: ActionDoc) -> &'static str {
    match a {
        ActionDoc::Create => "create",
        ActionDoc::Update => "update",
        ActionDoc::NoOp => "manual",
    }
}

fn details(c: &ChangeDoc) -> String {
    let mut body = String::new();
    for p in c.properties.iter().filter(|p| if c.action == ActionDoc::Create { p.after.is_some() } else { p.changed }) {
        if is_block(p) {
            let _ = writeln!(body, "~ {}:", p.name);
            let text = match c.action {
                ActionDoc::Create => p.after.clone().unwrap_or_default().lines().map(|l| format!("+ {l}\n")).collect(),
                _ => document_diff(p.before.as_deref().unwrap_or_default(), p.after.as_deref().unwrap_or_default()),
            };
            body.push_str(&text);
        } else if c.action == ActionDoc::Create {
            let _ = writeln!(body, "+ {} = {}", p.name, super::quoted(p.after.as_deref().unwrap_or_default()));
        } else {
            let _ = writeln!(
                body,
                "- {} = {}\n+ {} = {}",
                p.name,
                p.before.as_deref().map(super::quoted).unwrap_or_else(|| "(none)".into()),
                p.name,
                super::quoted(p.after.as_deref().unwrap_or_default())
            );
        }
    }
    let mut out = format!("<details><summary><code>{}</code>: {}</summary>\n\n", c.address, word(c.action));
    if !c.reason.is_empty() {
        let _ = writeln!(out, "{}\n", c.reason);
    }
    for m in &c.manual {
        let _ = writeln!(out, "**Manual:** {m}\n");
    }
    if !body.is_empty() {
        let _ = write!(out, "```diff\n{body}```\n");
    }
    out.push_str("\n</details>\n\n");
    out
}

pub fn plan(doc: &PlanDocument) -> String {
    let s = doc.summary;
    let mut head = String::new();
    let _ = writeln!(head, "### sra plan: {} to create, {} to update, {} unchanged", s.create, s.update, s.unchanged);
    let _ = writeln!(head);
    let _ = writeln!(
        head,
        "Organization `{}` · management account `{}` · plan file `{}` (digest `{}`)\n",
        doc.organization_id.as_deref().unwrap_or("(to be created)"),
        doc.caller_account,
        doc.plan_file.path,
        &doc.plan_file.digest[..doc.plan_file.digest.len().min(12)]
    );
    for b in &doc.blockers {
        let _ = writeln!(head, "> **Blocked:** {}  \n> {}\n", b.message, b.hint);
    }
    match doc.plan_file_applied_before {
        // Only what a person must do: nothing moved, nothing for apply.
        _ if !doc.has_changes() && doc.has_manual() => {
            head.push_str("> Nothing for apply to do; what remains needs a person (below).\n\n")
        }
        _ if !doc.has_changes() => {}
        Some(true) => {
            head.push_str("> **Drift:** the plan file is the one last applied; live state moved away from it.\n\n")
        }
        Some(false) => {
            head.push_str("> The plan file changed since the last apply: changes may be new intent or drift.\n\n")
        }
        None => {}
    }
    let shown: Vec<&ChangeDoc> =
        doc.changes.iter().filter(|c| c.action != ActionDoc::NoOp || !c.manual.is_empty()).collect();
    for note in &doc.notes {
        let _ = writeln!(head, "> **Note:** {note}\n");
    }
    if shown.is_empty() && doc.blockers.is_empty() {
        head.push_str("No changes. Live state matches the plan.\n");
        if let Some(p) = &doc.guardrail_proof {
            let _ = writeln!(head, "\n{}", p.summary());
        }
        return head;
    }
    head.push_str("| resource | action | changed |\n|---|---|---|\n");
    for c in &shown {
        let changed: Vec<&str> = match c.action {
            ActionDoc::Create => vec!["(new)"],
            _ => c.properties.iter().filter(|p| p.changed).map(|p| p.name.as_str()).collect(),
        };
        let _ = writeln!(head, "| `{}` | {} | {} |", c.address, word(c.action), changed.join(", "));
    }
    head.push('\n');

    let mut out = head;
    let mut blocks: Vec<String> = shown.iter().map(|c| details(c)).collect();
    if let Some(p) = &doc.guardrail_proof {
        blocks.insert(0, proof_table(p));
    }
    let reserve = 300;
    for (i, block) in blocks.iter().enumerate() {
        if out.len() + block.len() + reserve > MAX_CHARS {
            let _ = writeln!(
                out,
                "_{} of {} resources' details were cut to stay under GitHub's {MAX_CHARS}-character limit; run `sra show` on the saved plan for all of them._",
                blocks.len() - i,
                blocks.len()
            );
            return out;
        }
        out.push_str(block);
    }
    out
}

/// The guardrail proof: its summary, and every case in a table under a fold.
fn proof_table(p: &crate::services::guardrails::proof::Proof) -> String {
    let mut out = format!(
        "<details><summary>{}</summary>\n\n| case | must be | outcome | decided by |\n|---|---|---|---|\n",
        p.summary()
    );
    for r in &p.rows {
        let must = if r.kind == "attack" { "denied" } else { "allowed" };
        let outcome = if r.note.is_empty() { r.outcome.clone() } else { format!("{}: {}", r.outcome, r.note) };
        let _ = writeln!(
            out,
            "| {} | {must} | {} | {} |",
            r.name.replace('|', "\\|"),
            outcome.replace('|', "\\|"),
            r.by.join("; ").replace('|', "\\|")
        );
    }
    out.push_str("\n</details>\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::document::{PlanFileRef, PropertyDoc, Summary};

    fn doc(n: usize, policy_len: usize) -> PlanDocument {
        let big = (0..policy_len).map(|i| format!("line {i}\n")).collect::<String>();
        PlanDocument {
            format_version: 1,
            sra_version: "0".into(),
            plan_file: PlanFileRef {
                path: "plans/org.toml".into(),
                digest: "0123456789abcdef".into(),
                contents: serde_json::Value::Null,
            },
            organization_id: Some("o-abc".into()),
            caller_account: "111111111111".into(),
            plan_file_applied_before: Some(true),
            summary: Summary { create: 0, update: n, unchanged: 0, manual: 0 },
            fingerprint: "f".into(),
            blockers: vec![],
            guardrail_proof: None,
            notes: vec![],
            changes: (0..n)
                .map(|i| ChangeDoc {
                    address: format!("guardrail[\"g{i}\"]"),
                    action: ActionDoc::Update,
                    id: None,
                    reason: String::new(),
                    properties: vec![PropertyDoc {
                        name: "policy".into(),
                        before: Some(format!("{{\n{big}}}")),
                        after: Some(format!("{{\n{}  \"x\"\n}}", big.to_uppercase())),
                        changed: true,
                    }],
                    steps: vec![],
                    manual: vec![],
                    fingerprint: "f".into(),
                    destructive: false,
                })
                .collect(),
        }
    }

    #[test]
    fn summary_table_and_collapsible_diffs() {
        let md = plan(&doc(2, 3));
        assert!(md.starts_with("### sra plan: 0 to create, 2 to update, 0 unchanged\n"), "{md}");
        assert!(md.contains("> **Drift:**"), "{md}");
        assert!(md.contains("| `guardrail[\"g1\"]` | update | policy |"), "{md}");
        assert!(md.contains("<details><summary><code>guardrail[\"g0\"]</code>: update</summary>"), "{md}");
        assert!(md.contains("```diff\n~ policy:\n--- live\n+++ plan\n"), "{md}");
        assert!(md.contains("+  \"x\""), "{md}");
    }

    #[test]
    fn huge_plans_are_cut_with_a_note() {
        let md = plan(&doc(40, 400));
        assert!(md.len() <= MAX_CHARS, "{}", md.len());
        assert!(
            md.contains("resources' details were cut to stay under GitHub's 65536-character limit"),
            "{}",
            &md[md.len() - 300..]
        );
        assert!(md.contains("| `guardrail[\"g39\"]` | update | policy |"), "the table lists every resource");
    }
}
