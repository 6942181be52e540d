//! `[baselines]`: what every active account gets (omitted: on, with defaults).

use super::reader::{Reader, Table};
use crate::diag::Diagnostic;
use crate::model::{BaselineSpec, OuPath, SecurityContact};

pub fn read(r: &mut Reader, top: &mut Table) -> Option<BaselineSpec> {
    let mut spec = BaselineSpec::default();
    let Some(mut t) = r.table(top, "baselines") else {
        return (!top.keys().iter().any(|(k, _)| k == "baselines")).then_some(spec);
    };
    let mut ok = true;
    for (key, field) in [
        ("enabled", &mut spec.enabled),
        ("ebs_default_encryption", &mut spec.ebs_default_encryption),
        ("s3_block_public_access", &mut spec.s3_block_public_access),
        ("config_recorders", &mut spec.config_recorders),
        ("password_policy", &mut spec.password_policy),
    ] {
        if let Some(b) = r.boolean(&mut t, key) {
            *field = b.into_inner();
        }
    }
    match ou_paths(r, &mut t, "exclude_ous") {
        Some(paths) => spec.exclude_ous = paths,
        None => ok = false,
    }
    if let Some(mut c) = r.table(&mut t, "security_contact") {
        match read_contact(r, &mut c) {
            Some(contact) => spec.security_contact = Some(contact),
            None => ok = false,
        }
        r.finish(c);
    }
    r.finish(t);
    ok.then_some(spec)
}

/// A list of OU paths under `key` (each once, in order); None after reporting
/// one that is not a path.
pub(super) fn ou_paths(r: &mut Reader, t: &mut Table, key: &'static str) -> Option<Vec<OuPath>> {
    let mut out: Vec<OuPath> = Vec::new();
    let mut ok = true;
    if let Some(list) = r.strings(t, key) {
        for item in list.get_ref() {
            match OuPath::parse(item.get_ref()) {
                Some(p) if !out.contains(&p) => out.push(p),
                Some(_) => {}
                None => {
                    r.error(
                        Diagnostic::new(item.span(), t.key_path(key), format!("`{}` is not a valid OU path", item.get_ref()))
                            .hint("write OU names from the root down, separated by `/`, e.g. \"Sandbox\" or \"Workloads/Sandbox\""),
                    );
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

/// `[posture]`: `critical_ous` (omitted: none).
pub fn read_posture(r: &mut Reader, top: &mut Table) -> Option<crate::model::PostureSpec> {
    let mut spec = crate::model::PostureSpec::default();
    let Some(mut t) = r.table(top, "posture") else {
        return (!top.keys().iter().any(|(k, _)| k == "posture")).then_some(spec);
    };
    let paths = ou_paths(r, &mut t, "critical_ous");
    r.finish(t);
    spec.critical_ous = paths?;
    Some(spec)
}

/// The four fields PutAlternateContact requires, to its constraints (Account
/// Management API reference, PutAlternateContact).
fn read_contact(r: &mut Reader, t: &mut Table) -> Option<SecurityContact> {
    let mut ok = true;
    let mut field = |r: &mut Reader, key: &'static str, max: usize, valid: fn(&str) -> bool, hint: &str| {
        let value = r.string(t, key);
        match value {
            Some(v) if (1..=max).contains(&v.get_ref().chars().count()) && valid(v.get_ref()) => Some(v.into_inner()),
            Some(v) => {
                r.error(
                    Diagnostic::new(
                        v.span(),
                        t.key_path(key),
                        format!("`{}` is not a valid contact {key}", v.get_ref()),
                    )
                    .hint(format!("{hint} (1 to {max} characters)")),
                );
                ok = false;
                None
            }
            None => {
                if !t.keys().iter().any(|(k, _)| k == key) {
                    r.error(
                        Diagnostic::new(t.span.clone(), t.key_path(key), format!("missing `{}`", t.key_path(key)))
                            .hint("a security contact needs name, title, email and phone"),
                    );
                }
                ok = false;
                None
            }
        }
    };
    let name = field(r, "name", 64, |s| !s.trim().is_empty(), "a person's or team's name");
    let title = field(r, "title", 50, |s| !s.trim().is_empty(), "a title, e.g. \"Security team\"");
    let email = field(r, "email", 254, valid_contact_email, "an address such as security@example.com");
    let phone = field(
        r,
        "phone",
        25,
        |s| s.chars().any(|c| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || " ()+-".contains(c)),
        "digits, spaces and ()+-, e.g. \"+1-555-0100\"",
    );
    if !ok {
        return None;
    }
    Some(SecurityContact { name: name?, title: title?, email: email?, phone: phone? })
}

/// PutAlternateContact's EmailAddress pattern: `[\w+=.#|!&-]+@[\w.-]+\.[\w]+`.
fn valid_contact_email(s: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let Some((local, domain)) = s.trim().split_once('@') else { return false };
    let Some((host, tld)) = domain.rsplit_once('.') else { return false };
    !local.is_empty()
        && local.chars().all(|c| word(c) || "+=.#|!&-".contains(c))
        && !host.is_empty()
        && host.chars().all(|c| word(c) || ".-".contains(c))
        && !tld.is_empty()
        && tld.chars().all(word)
}

#[cfg(test)]
mod tests {
    use super::valid_contact_email;

    #[test]
    fn contact_emails_follow_the_api_pattern() {
        for good in ["security@example.com", "sec+ops@corp.example.co", "a.b-c@x.io"] {
            assert!(valid_contact_email(good), "{good}");
        }
        for bad in ["security", "@example.com", "a@b", "a b@example.com", "a@ex ample.com"] {
            assert!(!valid_contact_email(bad), "{bad}");
        }
    }
}
