//! `[services.<name>]`: which security services sra delegates, and their settings.

use super::reader::{Reader, Table, did_you_mean};
use crate::diag::Diagnostic;
use crate::model::{GUARDDUTY_FEATURES, INSPECTOR_SCANS, SECURITYHUB_STANDARDS, ServicesSpec};

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
        if let Some(list) = r.strings(&mut gd, "features") {
            spec.guardduty.features.clear();
            for f in list.get_ref() {
                if GUARDDUTY_FEATURES.contains(&f.get_ref().as_str()) {
                    if !spec.guardduty.features.contains(f.get_ref()) {
                        spec.guardduty.features.push(f.get_ref().clone());
                    }
                } else {
                    let mut d = Diagnostic::new(
                        f.span(),
                        gd.key_path("features"),
                        format!("`{}` is not a GuardDuty protection feature", f.get_ref()),
                    );
                    d = match did_you_mean(f.get_ref(), GUARDDUTY_FEATURES) {
                        Some(best) => d.hint(format!("did you mean `{best}`?")),
                        None => d.hint(format!("features: {}", GUARDDUTY_FEATURES.join(", "))),
                    };
                    r.error(d);
                    ok = false;
                }
            }
        }
        r.finish(gd);
    }
    if let Some(mut sh) = r.table(&mut services, "securityhub") {
        if let Some(e) = r.boolean(&mut sh, "enabled") {
            spec.securityhub.enabled = e.into_inner();
        }
        if let Some(list) = r.strings(&mut sh, "standards") {
            spec.securityhub.standards.clear();
            for s in list.get_ref() {
                if SECURITYHUB_STANDARDS.contains(&s.get_ref().as_str()) {
                    if !spec.securityhub.standards.contains(s.get_ref()) {
                        spec.securityhub.standards.push(s.get_ref().clone());
                    }
                } else {
                    let mut d = Diagnostic::new(
                        s.span(),
                        sh.key_path("standards"),
                        format!("`{}` is not a Security Hub standard sra knows", s.get_ref()),
                    );
                    d = match did_you_mean(s.get_ref(), SECURITYHUB_STANDARDS) {
                        Some(best) => d.hint(format!("did you mean `{best}`?")),
                        None => d.hint(format!("standards: {}", SECURITYHUB_STANDARDS.join(", "))),
                    };
                    r.error(d);
                    ok = false;
                }
            }
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
        if let Some(list) = r.strings(&mut t, "scans") {
            spec.inspector.scans.clear();
            for s in list.get_ref() {
                if INSPECTOR_SCANS.contains(&s.get_ref().as_str()) {
                    if !spec.inspector.scans.contains(s.get_ref()) {
                        spec.inspector.scans.push(s.get_ref().clone());
                    }
                } else {
                    r.error(
                        Diagnostic::new(
                            s.span(),
                            t.key_path("scans"),
                            format!("`{}` is not an Inspector scan type", s.get_ref()),
                        )
                        .hint(format!("scans: {}", INSPECTOR_SCANS.join(", "))),
                    );
                    ok = false;
                }
            }
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
