//! The AWS calls sra makes and the IAM actions they need live in the core
//! (`sra_core::permissions`); the test here reads the shell's source, where the
//! calls are made, and checks the list against it.

pub use sra_core::permissions::*;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// (service, operation) of every `call_error(e, service, "Operation", ..)` site.
    fn calls_in_code() -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("permissions.rs") {
                    continue;
                }
                let text: String = std::fs::read_to_string(&path).unwrap().split_whitespace().collect();
                let svc =
                    text.split("constSVC:&str=\"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_string);
                // A regional service's delegated-administrator calls are named in
                // its `Io::CALLS` and made through `regional::{observe, run}` (whose
                // `call_error(e, S::CALLS.svc, ..)` sites say nothing).
                for args in text.split("AdminCalls::organization(").skip(1).filter_map(|rest| rest.split(')').next()) {
                    let Some((_, service)) = args.split_once(',') else { continue };
                    let service = if service == "SVC" { svc.clone() } else { Some(service.trim_matches('"').into()) };
                    let Some(service) = service else { continue };
                    for op in [
                        "ListOrganizationAdminAccounts",
                        "EnableOrganizationAdminAccount",
                        "DisableOrganizationAdminAccount",
                    ] {
                        out.insert((service.clone(), op.to_string()));
                    }
                }
                let declared = text.split("constCALLS:AdminCalls=AdminCalls{").skip(1);
                for fields in declared.filter_map(|rest| rest.split('}').next()) {
                    for (key, value) in fields.split(',').filter_map(|f| f.split_once(':')) {
                        if ["list", "enable", "disable"].contains(&key) && value.starts_with('"') {
                            out.insert((svc.clone().expect("SVC is defined"), value.trim_matches('"').to_string()));
                        }
                    }
                }
                for site in text.split("call_error(e,").skip(1) {
                    let mut parts = site.splitn(3, ',');
                    let (Some(service), Some(op)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    if service == "calls.svc" || service == "S::CALLS.svc" {
                        continue;
                    }
                    let service = if service == "SVC" {
                        svc.clone().expect("SVC is defined")
                    } else {
                        service.trim_matches('"').to_string()
                    };
                    out.insert((service, op.trim_matches('"').to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn every_call_the_code_makes_is_listed_and_nothing_else() {
        let code = calls_in_code();
        let listed: BTreeSet<(String, String)> =
            CALLS.iter().map(|c| (c.service.to_string(), c.operation.to_string())).collect();
        let missing: Vec<_> = code.difference(&listed).collect();
        let unused: Vec<_> = listed.difference(&code).collect();
        assert!(missing.is_empty(), "calls made but not listed in permissions::CALLS: {missing:?}");
        assert!(unused.is_empty(), "listed in permissions::CALLS but never made: {unused:?}");
    }

    #[test]
    fn plan_policy_is_read_only() {
        let plan = management_actions(false);
        for a in &plan {
            let op = a.split(':').nth(1).unwrap();
            assert!(
                ["Describe", "List", "Get", "AssumeRole"].iter().any(|p| op.starts_with(p)),
                "plan needs only reads, not {a}"
            );
        }
        assert!(plan.contains(&"organizations:ListAccounts"));
        let apply = management_actions(true);
        assert!(apply.contains(&"organizations:CreateAccount") && apply.len() > plan.len());
    }
}
