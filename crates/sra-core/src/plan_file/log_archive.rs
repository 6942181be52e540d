//! `[log_bucket]` and `[trail]`: the organization trail and its buckets.

use super::reader::{Reader, Table};
use super::valid_role_name;
use crate::diag::Diagnostic;
use crate::model::{LogArchiveSpec, ObjectLock};

pub const STORAGE_CLASSES: &[&str] =
    &["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"];
pub const DATA_EVENTS: &[&str] = &["s3", "lambda"];

/// `arn:<partition>:iam::<12 digits>:root`, `…:role/<path/name>` or `…:user/<path/name>`.
fn is_principal_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, "iam", "", account, resource] = parts.as_slice() else { return false };
    *arn_word == "arn"
        && partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (*resource == "root"
            || ["role/", "user/"]
                .iter()
                .any(|p| resource.strip_prefix(p).is_some_and(|n| !n.is_empty() && !n.contains('*'))))
}

/// The spec, and where `log_bucket.object_lock_mode` is (checked against the
/// services once they are read).
pub fn read(r: &mut Reader, top: &mut Table) -> Option<(LogArchiveSpec, Option<std::ops::Range<usize>>)> {
    let mut spec = LogArchiveSpec::default();
    let mut ok = true;
    let mut lock_span = None;
    if let Some(mut b) = r.table(top, "log_bucket") {
        ok &= read_bucket(r, &mut b, &mut spec, &mut lock_span);
        r.finish(b);
    }
    if let Some(mut t) = r.table(top, "trail") {
        ok &= read_trail(r, &mut t, &mut spec);
        r.finish(t);
    }
    ok.then_some((spec, lock_span))
}

fn read_bucket(
    r: &mut Reader,
    b: &mut Table,
    spec: &mut LogArchiveSpec,
    lock_span: &mut Option<std::ops::Range<usize>>,
) -> bool {
    let mut ok = true;
    for (key, slot) in [("name", &mut spec.bucket), ("access_log_bucket", &mut spec.access_log_bucket)] {
        if let Some(name) = r.string(b, key) {
            match check_bucket_template(name.get_ref()) {
                Ok(()) => *slot = name.into_inner(),
                Err(why) => {
                    r.error(
                        Diagnostic::new(name.span(), b.key_path(key), format!("`{}` is not a valid bucket name: {why}", name.get_ref()))
                            .hint("use 3-63 lowercase letters, digits, dots or hyphens; {account_id} and {region} are replaced"),
                    );
                    ok = false;
                }
            }
        }
    }
    if spec.bucket == spec.access_log_bucket {
        r.error(
            Diagnostic::new(
                b.span.clone(),
                b.key_path("access_log_bucket"),
                "the access-log bucket must differ from the log bucket",
            )
            .hint("give access_log_bucket its own name"),
        );
        ok = false;
    }
    if let Some(role) = r.string(b, "break_glass_role") {
        if valid_role_name(role.get_ref()) {
            spec.break_glass_role = Some(role.into_inner());
        } else {
            r.error(
                Diagnostic::new(
                    role.span(),
                    b.key_path("break_glass_role"),
                    format!("`{}` is not a valid IAM role name", role.get_ref()),
                )
                .hint("name a role in the Log Archive account, e.g. \"SRABreakGlass\""),
            );
            ok = false;
        }
    }
    if let Some(readers) = r.strings(b, "readers") {
        let mut list = Vec::new();
        for reader in readers.get_ref() {
            if is_principal_arn(reader.get_ref()) {
                list.push(reader.get_ref().clone());
            } else {
                r.error(
                    Diagnostic::new(reader.span(), b.key_path("readers"), format!("`{}` is not an IAM principal ARN", reader.get_ref()))
                        .hint("name a role, a user or an account: arn:aws:iam::123456789012:role/SecurityAudit, or arn:aws:iam::123456789012:root"),
                );
                ok = false;
            }
        }
        spec.readers = Some(list);
    }
    let lc = &mut spec.lifecycle;
    if let Some(d) = r.count(b, "transition_days", 1..=36500) {
        lc.transition_days = d.into_inner();
    } else {
        ok &= !has(b, "transition_days");
    }
    if let Some(c) = r.string(b, "transition_storage_class") {
        if STORAGE_CLASSES.contains(&c.get_ref().as_str()) {
            lc.transition_storage_class = c.into_inner();
        } else {
            r.error(
                Diagnostic::new(
                    c.span(),
                    b.key_path("transition_storage_class"),
                    format!("`{}` is not a storage class logs can move to", c.get_ref()),
                )
                .hint(format!("use one of {}", STORAGE_CLASSES.join(", "))),
            );
            ok = false;
        }
    }
    if let Some(d) = r.count(b, "noncurrent_expiration_days", 1..=36500) {
        lc.noncurrent_expiration_days = d.into_inner();
    } else {
        ok &= !has(b, "noncurrent_expiration_days");
    }
    if let Some(d) = r.count(b, "retention_days", 1..=36500) {
        if d.get_ref() <= &lc.transition_days {
            r.error(
                Diagnostic::new(
                    d.span(),
                    b.key_path("retention_days"),
                    "retention_days must be greater than transition_days",
                )
                .hint(
                    "logs are moved to cold storage first, then expire; or remove retention_days to keep logs forever",
                ),
            );
            ok = false;
        }
        lc.retention_days = Some(d.into_inner());
    } else {
        ok &= !has(b, "retention_days");
    }
    let mode = r.string(b, "object_lock_mode");
    let days = r.count(b, "object_lock_days", 1..=36500);
    match (mode, days) {
        (Some(m), Some(d)) => {
            if ["GOVERNANCE", "COMPLIANCE"].contains(&m.get_ref().as_str()) {
                *lock_span = Some(m.span());
                spec.object_lock = Some(ObjectLock { mode: m.into_inner(), days: d.into_inner() });
            } else {
                r.error(
                    Diagnostic::new(
                        m.span(),
                        b.key_path("object_lock_mode"),
                        format!("`{}` is not an Object Lock mode", m.get_ref()),
                    )
                    .hint("use \"GOVERNANCE\" or \"COMPLIANCE\""),
                );
                ok = false;
            }
        }
        (Some(m), None) if !has(b, "object_lock_days") => {
            r.error(
                Diagnostic::new(m.span(), b.key_path("object_lock_days"), "object_lock_mode needs object_lock_days")
                    .hint("add object_lock_days = 365 (the default retention), or remove object_lock_mode"),
            );
            ok = false;
        }
        (None, Some(d)) if !has(b, "object_lock_mode") => {
            r.error(
                Diagnostic::new(d.span(), b.key_path("object_lock_mode"), "object_lock_days needs object_lock_mode")
                    .hint("add object_lock_mode = \"COMPLIANCE\" or \"GOVERNANCE\", or remove object_lock_days"),
            );
            ok = false;
        }
        (None, None) => {}
        _ => ok = false,
    }
    ok
}

fn read_trail(r: &mut Reader, t: &mut Table, spec: &mut LogArchiveSpec) -> bool {
    let mut ok = true;
    if let Some(e) = r.boolean(t, "enabled") {
        spec.enabled = e.into_inner();
    } else {
        ok &= !has(t, "enabled");
    }
    if let Some(name) = r.string(t, "name") {
        let n = name.get_ref();
        let valid = (3..=128).contains(&n.len())
            && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && n.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if valid {
            spec.trail.name = name.into_inner();
        } else {
            r.error(
                Diagnostic::new(name.span(), t.key_path("name"), format!("`{n}` is not a valid trail name"))
                    .hint("use 3-128 letters, digits, periods, underscores or hyphens, starting and ending with a letter or digit"),
            );
            ok = false;
        }
    }
    if let Some(prefix) = r.string(t, "s3_key_prefix") {
        let p = prefix.get_ref();
        if p.is_empty() || p.starts_with('/') || p.ends_with('/') || p.len() > 200 {
            r.error(
                Diagnostic::new(
                    prefix.span(),
                    t.key_path("s3_key_prefix"),
                    format!("`{p}` is not a usable key prefix"),
                )
                .hint("use 1-200 characters without a leading or trailing `/`, or remove the key"),
            );
            ok = false;
        } else {
            spec.trail.s3_key_prefix = Some(prefix.into_inner());
        }
    }
    if let Some(alias) = r.string(t, "kms_key_alias") {
        let a = alias.get_ref();
        let name = a.strip_prefix("alias/").unwrap_or("");
        if name.is_empty()
            || a.starts_with("alias/aws/")
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        {
            r.error(
                Diagnostic::new(alias.span(), t.key_path("kms_key_alias"), format!("`{a}` is not a valid KMS alias"))
                    .hint("use \"alias/<name>\" (not alias/aws/, which AWS reserves)"),
            );
            ok = false;
        } else {
            spec.trail.kms_key_alias = alias.into_inner();
        }
    }
    let group = r.string(t, "cloudwatch_log_group");
    let retention = r.count(t, "cloudwatch_retention_days", 1..=3653);
    if let Some(g) = group {
        let valid = (1..=512).contains(&g.get_ref().len())
            && g.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
        if valid {
            spec.trail.cloudwatch_logs = Some(crate::model::CloudWatchLogs {
                log_group: g.into_inner(),
                retention_days: retention.map_or(365, |r| r.into_inner()),
            });
        } else {
            r.error(
                Diagnostic::new(
                    g.span(),
                    t.key_path("cloudwatch_log_group"),
                    format!("`{}` is not a valid log group name", g.get_ref()),
                )
                .hint("use 1-512 letters, digits, `_ - / . #`, e.g. \"/sra/organization-trail\""),
            );
            ok = false;
        }
    } else if let Some(r2) = retention {
        r.error(
            Diagnostic::new(
                r2.span(),
                t.key_path("cloudwatch_retention_days"),
                "cloudwatch_retention_days needs cloudwatch_log_group",
            )
            .hint("add cloudwatch_log_group = \"/sra/organization-trail\" to deliver the trail to CloudWatch Logs"),
        );
        ok = false;
    }
    if let Some(events) = r.strings(t, "data_events") {
        let mut out: Vec<String> = Vec::new();
        for e in events.get_ref() {
            if !DATA_EVENTS.contains(&e.get_ref().as_str()) {
                r.error(
                    Diagnostic::new(
                        e.span(),
                        t.key_path("data_events"),
                        format!("`{}` is not a data event kind sra knows", e.get_ref()),
                    )
                    .hint(format!("use any of {}", DATA_EVENTS.join(", "))),
                );
                ok = false;
            } else if !out.contains(e.get_ref()) {
                out.push(e.get_ref().clone());
            }
        }
        spec.trail.data_events = out;
    }
    ok
}

fn has(t: &Table, key: &str) -> bool {
    t.keys().iter().any(|(k, _)| k == key)
}

/// A bucket name template is valid when every expansion of it is a valid name.
pub fn check_bucket_template(template: &str) -> Result<(), String> {
    let rest = template.replace("{account_id}", "").replace("{region}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err("only {account_id} and {region} may stand in braces".into());
    }
    for region in ["us-east-1", "ap-southeast-5"] {
        let name = template.replace("{account_id}", "123456789012").replace("{region}", region);
        check_bucket_name(&name)?;
    }
    Ok(())
}

fn check_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!("it expands to {} characters (3 to 63 allowed)", name.len()));
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        return Err("only lowercase letters, digits, dots and hyphens are allowed".into());
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return Err("it must start and end with a letter or digit".into());
    }
    if name.contains("..") {
        return Err("it must not contain two dots in a row".into());
    }
    Ok(())
}
