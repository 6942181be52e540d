//! `[services.<name>]`: which security services sra delegates, and their settings.

use super::reader::{Reader, Table, did_you_mean};
use crate::diag::Diagnostic;
use crate::model::{GUARDDUTY_AGENTS, GUARDDUTY_FEATURES, INSPECTOR_SCANS, SECURITYHUB_STANDARDS, ServicesSpec};

pub fn read(r: &mut Reader, top: &mut Table) -> Option<ServicesSpec> {
    let mut spec = ServicesSpec::default();
    let Some(mut services) = r.table(top, "services") else {
        return (!top.keys().iter().any(|(k, _)| k == "services")).then_some(spec);
    };
    let mut ok = true;
    if let Some(mut gd) = r.table(&mut services, "guardduty") {
        if let Some(e) = r.boolean(&mut gd, "enabled") {
            spec.guardduty.enabled = e.into_inner();
        }
        match one_of(r, &mut gd, "features", GUARDDUTY_FEATURES, "a GuardDuty protection feature") {
            Ok(Some(list)) => spec.guardduty.features = list,
            Ok(None) => {}
            Err(()) => ok = false,
        }
        let agents = "runtime_monitoring_agents";
        match one_of(r, &mut gd, agents, GUARDDUTY_AGENTS, "a Runtime Monitoring agent GuardDuty manages") {
            Ok(Some(list)) => spec.guardduty.runtime_agents = list,
            Ok(None) => {}
            Err(()) => ok = false,
        }
        r.finish(gd);
    }
    if let Some(mut sh) = r.table(&mut services, "securityhub") {
        if let Some(e) = r.boolean(&mut sh, "enabled") {
            spec.securityhub.enabled = e.into_inner();
        }
        match one_of(r, &mut sh, "standards", SECURITYHUB_STANDARDS, "a Security Hub standard sra knows") {
            Ok(Some(list)) => spec.securityhub.standards = list,
            Ok(None) => {}
            Err(()) => ok = false,
        }
        r.finish(sh);
    }
    if let Some(mut t) = r.table(&mut services, "macie") {
        if let Some(e) = r.boolean(&mut t, "enabled") {
            spec.macie = e.into_inner();
        }
        r.finish(t);
    }
    if let Some(mut t) = r.table(&mut services, "detective") {
        if let Some(e) = r.boolean(&mut t, "enabled") {
            spec.detective = e.into_inner();
        }
        r.finish(t);
    }
    if let Some(mut t) = r.table(&mut services, "inspector") {
        if let Some(e) = r.boolean(&mut t, "enabled") {
            spec.inspector.enabled = e.into_inner();
        }
        match one_of(r, &mut t, "scans", INSPECTOR_SCANS, "an Inspector scan type") {
            Ok(Some(list)) => spec.inspector.scans = list,
            Ok(None) => {}
            Err(()) => ok = false,
        }
        r.finish(t);
    }
    for (service, _) in crate::services::delegation::SERVICES {
        if let Some(mut t) = r.table(&mut services, service) {
            if let Some(e) = r.boolean(&mut t, "enabled") {
                // Absent means on: keep only opt-outs, so equal plans are equal values.
                if e.into_inner() {
                    spec.delegated.remove(*service);
                } else {
                    spec.delegated.insert(service.to_string(), false);
                }
            }
            r.finish(t);
        }
    }
    r.finish(services);
    ok.then_some(spec)
}

/// A list whose every element is one of `allowed`, each kept once in the order
/// given; None when the key is absent; an error (every bad element reported,
/// located, with a suggestion) when an element is not allowed.
fn one_of(
    r: &mut Reader,
    t: &mut Table,
    key: &'static str,
    allowed: &[&str],
    what: &str,
) -> Result<Option<Vec<String>>, ()> {
    let Some(list) = r.strings(t, key) else { return Ok(None) };
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for item in list.get_ref() {
        let value = item.get_ref();
        if allowed.contains(&value.as_str()) {
            if !out.contains(value) {
                out.push(value.clone());
            }
            continue;
        }
        let d = Diagnostic::new(item.span(), t.key_path(key), format!("`{value}` is not {what}"));
        r.error(match did_you_mean(value, allowed) {
            Some(best) => d.hint(format!("did you mean `{best}`?")),
            None => d.hint(format!("{key}: {}", allowed.join(", "))),
        });
        ok = false;
    }
    if ok { Ok(Some(out)) } else { Err(()) }
}
