//! Renderings of a [`PostureDocument`]: for a terminal, for a pull-request or
//! issue comment (markdown, under GitHub's 65,536 characters), and JSON. Every
//! one shows the same sections in the same order: blind spots, the queue, the
//! matrix, the failing controls.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{PostureDocument, Severity};

/// The most a markdown comment may hold (GitHub's limit on a comment's body).
pub const MARKDOWN_LIMIT: usize = 65_536;

/// Blind spots listed one by one; beyond, they are summed per service and Region.
const SPOTS_LISTED: usize = 50;

/// Accounts in the matrix; beyond, the rest are summed on one line.
const MATRIX_ROWS: usize = 100;

fn account_label(doc: &PostureDocument, id: &str) -> String {
    match doc.accounts.iter().find(|a| a.id == id) {
        Some(a) if !a.name.is_empty() => format!("{} ({id})", a.name),
        _ => id.to_string(),
    }
}

fn count_of(counts: &BTreeMap<String, u64>, s: Severity) -> u64 {
    counts.get(s.label()).copied().unwrap_or(0)
}

fn signed(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}

/// Blind spots grouped: (service, region) → (accounts, reasons).
fn spot_groups(doc: &PostureDocument) -> Vec<(String, String, usize, Vec<String>)> {
    let mut groups: BTreeMap<(String, String), (usize, Vec<String>)> = BTreeMap::new();
    for s in &doc.blind_spots {
        let g = groups.entry((s.service.clone(), s.region.clone())).or_default();
        g.0 += 1;
        if !g.1.contains(&s.reason) {
            g.1.push(s.reason.clone());
        }
    }
    groups.into_iter().map(|((svc, region), (n, reasons))| (svc, region, n, reasons)).collect()
}

/// Accounts of the matrix, most severe first: by their counts, label by label.
fn matrix_accounts(doc: &PostureDocument) -> Vec<&String> {
    let mut accounts: Vec<&String> = doc.by_account.keys().collect();
    let key = |a: &String| -> Vec<std::cmp::Reverse<u64>> {
        Severity::ALL.iter().map(|s| std::cmp::Reverse(count_of(&doc.by_account[a], *s))).collect()
    };
    accounts.sort_by_key(|a| (key(a), (*a).clone()));
    accounts
}

/// For a terminal: plain text (no colour needed to read it).
pub fn human(doc: &PostureDocument) -> String {
    let mut o = String::new();
    let total: u64 = doc.by_severity.values().sum();
    let _ = writeln!(
        o,
        "Posture of organization {} (home Region {}), read {}",
        doc.organization_id, doc.home_region, doc.generated_at
    );
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", count_of(&doc.by_severity, *s), s.label().to_lowercase()))
        .collect();
    let _ = writeln!(o, "{total} active findings: {}", counts.join(", "));
    if let Some(c) = &doc.since {
        let d: Vec<String> = Severity::ALL
            .iter()
            .map(|s| {
                format!("{} {}", signed(c.by_severity.get(s.label()).copied().unwrap_or(0)), s.label().to_lowercase())
            })
            .collect();
        let _ = writeln!(o, "since {}: {}", c.previous, d.join(", "));
    }
    for n in &doc.notes {
        let _ = writeln!(o, "note: {n}");
    }

    let _ = writeln!(o, "\nBlind spots ({}):", doc.blind_spots.len());
    if doc.blind_spots.is_empty() {
        let _ = writeln!(o, "  none: every governed service watches every active account in every governed Region");
    } else if doc.blind_spots.len() <= SPOTS_LISTED {
        for s in &doc.blind_spots {
            let _ =
                writeln!(o, "  {:<12} {:<15} {}: {}", s.service, s.region, account_label(doc, &s.account_id), s.reason);
        }
    } else {
        for (svc, region, n, reasons) in spot_groups(doc) {
            let _ = writeln!(o, "  {svc:<12} {region:<15} {n} accounts: {}", reasons.join("; "));
        }
    }

    if !doc.coverage_reports.is_empty() {
        let _ = writeln!(o, "\nWhat the services report:");
        for r in &doc.coverage_reports {
            let _ = writeln!(o, "  {:<12} {:<15} {}{}", r.service, r.region, reach(r), said(r, "\n      "));
        }
    }

    let _ = writeln!(o, "\nLook at first ({}):", doc.top.len());
    if doc.top.is_empty() {
        let _ = writeln!(o, "  no active finding");
    }
    for e in &doc.top {
        let _ = writeln!(
            o,
            "  {:>2}. {:<13} {:<15} {} {} {}: {}\n      {} ({}, {} days)",
            e.rank,
            e.severity,
            e.kind,
            account_label(doc, &e.account_id),
            e.region,
            e.product,
            e.title,
            e.resource,
            e.first_seen,
            e.age_days
        );
    }

    let _ = writeln!(o, "\nActive findings by account:");
    let short = |s: &Severity| match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Informational => "INFO",
    };
    let header: Vec<String> = Severity::ALL.iter().map(|s| format!("{:>8}", short(s))).collect();
    let _ = writeln!(o, "  {:<40}{}", "account", header.join(""));
    let accounts = matrix_accounts(doc);
    for a in accounts.iter().take(MATRIX_ROWS) {
        let cells: Vec<String> =
            Severity::ALL.iter().map(|s| format!("{:>8}", count_of(&doc.by_account[*a], *s))).collect();
        let _ = writeln!(o, "  {:<40}{}", account_label(doc, a), cells.join(""));
    }
    if accounts.len() > MATRIX_ROWS {
        let _ = writeln!(
            o,
            "  ... and {} more accounts with findings (--format json lists all)",
            accounts.len() - MATRIX_ROWS
        );
    }

    let _ = writeln!(o, "\nTop failing controls:");
    if doc.failing_controls.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for c in &doc.failing_controls {
        let noise = if c.noise.is_some() { " (repeats outside the home Region)" } else { "" };
        let _ = writeln!(o, "  {:<12} {:>6} failed in {:>9}  {}{noise}", c.id, c.failed, affected(c), c.title);
    }
    o
}

/// How many accounts a control fails in, in words: "3 accounts", or "≥ 3
/// accounts" when only its first findings were read.
fn affected(c: &super::FailingControl) -> String {
    let n = c.accounts_affected;
    let noun = if n == 1 { "account" } else { "accounts" };
    if c.accounts_exact { format!("{n} {noun}") } else { format!("≥ {n} {noun}") }
}

/// A service's reach in words: "3 of 4 member accounts".
fn reach(r: &super::ServiceReport) -> String {
    format!("{} of {} {}", r.covered, r.of, r.unit)
}

/// A report's details, each after `sep`; nothing when there are none.
fn said(r: &super::ServiceReport, sep: &str) -> String {
    r.details.iter().map(|d| format!("{sep}{d}")).collect()
}

/// Escape text for a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// For a pull-request or issue comment; cut under [`MARKDOWN_LIMIT`] with a note.
pub fn markdown(doc: &PostureDocument) -> String {
    let mut o = String::new();
    let total: u64 = doc.by_severity.values().sum();
    let _ = writeln!(o, "## Security posture of `{}`\n", doc.organization_id);
    let _ = writeln!(
        o,
        "Read {} from the home Region {}: **{total} active findings**.\n",
        doc.generated_at, doc.home_region
    );
    let _ = writeln!(o, "| | {} |", Severity::ALL.map(|s| s.label()).join(" | "));
    let _ = writeln!(o, "|---|{}", "---:|".repeat(5));
    let _ =
        writeln!(o, "| active | {} |", Severity::ALL.map(|s| count_of(&doc.by_severity, s).to_string()).join(" | "));
    if let Some(c) = &doc.since {
        let _ = writeln!(
            o,
            "| since {} | {} |",
            c.previous,
            Severity::ALL.map(|s| signed(c.by_severity.get(s.label()).copied().unwrap_or(0))).join(" | ")
        );
    }
    for n in &doc.notes {
        let _ = writeln!(o, "\n> **Note:** {}", cell(n));
    }
    let _ = writeln!(o, "\n### Blind spots ({})\n", doc.blind_spots.len());
    if doc.blind_spots.is_empty() {
        let _ = writeln!(o, "None: every governed service watches every active account in every governed Region.");
    } else {
        let _ = writeln!(o, "| service | Region | accounts | why |\n|---|---|---:|---|");
        for (svc, region, n, reasons) in spot_groups(doc) {
            let _ = writeln!(o, "| {svc} | {region} | {n} | {} |", cell(&reasons.join("; ")));
        }
    }
    if !doc.coverage_reports.is_empty() {
        let _ =
            writeln!(o, "\n#### What the services report\n\n| service | Region | reach | detail |\n|---|---|---|---|");
        for r in &doc.coverage_reports {
            let _ = writeln!(o, "| {} | {} | {} | {} |", r.service, r.region, reach(r), cell(&r.details.join("; ")));
        }
    }
    let _ = writeln!(o, "\n### Look at first\n");
    if doc.top.is_empty() {
        let _ = writeln!(o, "No active finding.");
    } else {
        let _ = writeln!(o, "| # | severity | kind | account | Region | product | title | resource | age (days) |");
        let _ = writeln!(o, "|---:|---|---|---|---|---|---|---|---:|");
        for e in &doc.top {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | `{}` | {} |",
                e.rank,
                e.severity,
                e.kind,
                cell(&account_label(doc, &e.account_id)),
                e.region,
                cell(&e.product),
                cell(&e.title),
                cell(&e.resource),
                e.age_days
            );
        }
    }
    let _ = writeln!(o, "\n### Active findings by account\n");
    let _ = writeln!(o, "| account | OU | {} |", Severity::ALL.map(|s| s.label()).join(" | "));
    let _ = writeln!(o, "|---|---|{}", "---:|".repeat(5));
    let accounts = matrix_accounts(doc);
    for a in accounts.iter().take(MATRIX_ROWS) {
        let ou = doc.accounts.iter().find(|x| &x.id == *a).map(|x| x.ou.clone()).unwrap_or_default();
        let changes = doc.since.as_ref().and_then(|c| c.by_account.get(*a));
        let cells = Severity::ALL.map(|s| {
            let n = count_of(&doc.by_account[*a], s);
            match changes.and_then(|c| c.get(s.label())) {
                Some(d) => format!("{n} ({})", signed(*d)),
                None => n.to_string(),
            }
        });
        let _ = writeln!(o, "| {} | {} | {} |", cell(&account_label(doc, a)), cell(&ou), cells.join(" | "));
    }
    if accounts.len() > MATRIX_ROWS {
        let _ =
            writeln!(o, "\n{} more accounts have findings: `--format json` lists all.", accounts.len() - MATRIX_ROWS);
    }
    let _ = writeln!(o, "\n### Top failing controls\n");
    if doc.failing_controls.is_empty() {
        let _ = writeln!(o, "None.");
    } else {
        let _ = writeln!(o, "| control | title | failed | accounts | note |\n|---|---|---:|---:|---|");
        for c in &doc.failing_controls {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                c.id,
                cell(&c.title),
                c.failed,
                affected(c),
                cell(c.noise.as_deref().unwrap_or(""))
            );
        }
    }
    cut(o, MARKDOWN_LIMIT)
}

/// Cut `text` at a line boundary so that it, with the note, fits in `limit`.
pub fn cut(text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let note = "\n\n_Cut to fit a comment: `sra posture --format json` has everything._\n";
    let room = limit - note.len();
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    format!("{}{note}", &text[..end])
}

/// JSON, pretty, with a final newline.
pub fn json(doc: &PostureDocument) -> String {
    serde_json::to_string_pretty(doc).expect("a posture document serializes") + "\n"
}

/// Escape text for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The heat map's colour for a count, relative to the largest of its column: white
/// to the severity's colour.
fn heat(n: u64, max: u64, s: Severity) -> String {
    let t = if n == 0 || max == 0 { 0.0 } else { 0.25 + 0.75 * (n as f64 / max as f64) };
    // Dark cells get light text.
    let text = if t > 0.6 { ";color:#ffffff" } else { "" };
    format!("background:{}{text}", shade(t, s))
}

/// White blended towards the severity's colour by `t` (0 to 1).
fn shade(t: f64, s: Severity) -> String {
    let (r, g, b) = match s {
        Severity::Critical => (153, 27, 27),
        Severity::High => (194, 65, 12),
        Severity::Medium => (202, 138, 4),
        Severity::Low => (37, 99, 235),
        Severity::Informational => (100, 116, 139),
    };
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
}

/// One self-contained page (no external asset: styles inline, no script): the
/// counts, the blind spots, the queue, the matrix as a heat map and the failing
/// controls. Every count carries `data-` attributes naming what it counts, so a
/// test reads the rendered page and compares it with the JSON.
pub fn html(doc: &PostureDocument) -> String {
    let mut o = String::new();
    let total: u64 = doc.by_severity.values().sum();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Security posture of {org}</title><style>\
         body{{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#0f172a}}\
         h1{{font-size:1.5rem}}h2{{font-size:1.15rem;margin-top:2rem}}\
         table{{border-collapse:collapse;font-size:.9rem}}th,td{{border:1px solid #cbd5e1;padding:.3rem .6rem;text-align:left}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}td.nw,td.n{{white-space:nowrap}}.muted{{color:#64748b}}\
         .cards{{display:flex;gap:1rem}}.card{{border:1px solid #cbd5e1;border-radius:.5rem;padding:.6rem 1rem}}\
         .card b{{display:block;font-size:1.6rem}}</style></head><body>\n\
         <h1>Security posture of <code>{org}</code></h1>\n\
         <p class=\"muted\">Read {at} from the home Region {home}: <span data-total>{total}</span> active findings.</p>\n\
         <div class=\"cards\">",
        org = esc(&doc.organization_id),
        at = esc(&doc.generated_at),
        home = esc(&doc.home_region),
    );
    for s in Severity::ALL {
        let n = count_of(&doc.by_severity, s);
        let _ = write!(
            o,
            "<div class=\"card\" style=\"border-color:{c}\"><b data-severity=\"{l}\">{n}</b>{l}</div>",
            c = shade(1.0, s),
            l = s.label()
        );
    }
    o.push_str("</div>\n");
    for n in &doc.notes {
        let _ = writeln!(o, "<p><strong>Note:</strong> {}</p>", esc(n));
    }
    let _ = writeln!(o, "<h2>Blind spots (<span data-blind-spots>{}</span>)</h2>", doc.blind_spots.len());
    if doc.blind_spots.is_empty() {
        o.push_str("<p>None: every governed service watches every active account in every governed Region.</p>\n");
    } else {
        o.push_str("<table><tr><th>service</th><th>Region</th><th>accounts</th><th>why</th></tr>\n");
        for (svc, region, n, reasons) in spot_groups(doc) {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{n}</td><td>{}</td></tr>",
                esc(&svc),
                esc(&region),
                esc(&reasons.join("; "))
            );
        }
        o.push_str("</table>\n");
    }
    if !doc.coverage_reports.is_empty() {
        o.push_str("<h3>What the services report</h3>\n");
        o.push_str("<table><tr><th>service</th><th>Region</th><th>reach</th><th>detail</th></tr>\n");
        for r in &doc.coverage_reports {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td data-report=\"{}/{}\" data-covered=\"{}\" data-of=\"{}\">{}</td>\
                 <td>{}</td></tr>",
                esc(&r.service),
                esc(&r.region),
                esc(&r.service),
                esc(&r.region),
                r.covered,
                r.of,
                esc(&reach(r)),
                esc(&r.details.join("; "))
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("<h2>Look at first</h2>\n");
    if doc.top.is_empty() {
        o.push_str("<p>No active finding.</p>\n");
    } else {
        o.push_str(
            "<table><tr><th>#</th><th>severity</th><th>kind</th><th>account</th><th>Region</th><th>product</th>\
             <th>title</th><th>resource</th><th>age (days)</th></tr>\n",
        );
        for e in &doc.top {
            let _ = writeln!(
                o,
                "<tr data-finding=\"{id}\"><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"nw\">{}</td><td>{}</td>\
                 <td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
                e.rank,
                esc(&e.severity),
                esc(&e.kind),
                esc(&account_label(doc, &e.account_id)),
                esc(&e.region),
                esc(&e.product),
                esc(&e.title),
                esc(&e.resource),
                e.age_days,
                id = esc(&e.id),
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("<h2>Active findings by account</h2>\n<table><tr><th>account</th><th>OU</th>");
    for s in Severity::ALL {
        let _ = write!(o, "<th>{}</th>", s.label());
    }
    o.push_str("</tr>\n");
    let accounts = matrix_accounts(doc);
    let max = |s: Severity| doc.by_account.values().map(|c| count_of(c, s)).max().unwrap_or(0);
    let maxes: Vec<u64> = Severity::ALL.iter().map(|s| max(*s)).collect();
    for a in accounts.iter().take(MATRIX_ROWS) {
        let ou = doc.accounts.iter().find(|x| &x.id == *a).map(|x| x.ou.clone()).unwrap_or_default();
        let _ = write!(o, "<tr><td>{}</td><td>{}</td>", esc(&account_label(doc, a)), esc(&ou));
        for (i, s) in Severity::ALL.iter().enumerate() {
            let n = count_of(&doc.by_account[*a], *s);
            let _ = write!(
                o,
                "<td class=\"n\" style=\"{}\" data-account=\"{}\" data-severity=\"{}\">{n}</td>",
                heat(n, maxes[i], *s),
                esc(a),
                s.label()
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
    if accounts.len() > MATRIX_ROWS {
        let _ = writeln!(
            o,
            "<p class=\"muted\">{} more accounts have findings: <code>--format json</code> lists all.</p>",
            accounts.len() - MATRIX_ROWS
        );
    }
    o.push_str("<h2>Top failing controls</h2>\n");
    if doc.failing_controls.is_empty() {
        o.push_str("<p>None.</p>\n");
    } else {
        o.push_str("<table><tr><th>control</th><th>title</th><th>failed</th><th>accounts</th><th>note</th></tr>\n");
        for c in &doc.failing_controls {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\" data-control=\"{}\">{}</td><td class=\"n\" \
                 data-control-accounts=\"{}\">{}</td><td>{}</td></tr>",
                esc(&c.id),
                esc(&c.title),
                esc(&c.id),
                c.failed,
                esc(&c.id),
                esc(&affected(c)),
                esc(c.noise.as_deref().unwrap_or(""))
            );
        }
        o.push_str("</table>\n");
    }
    o.push_str("</body></html>\n");
    o
}
