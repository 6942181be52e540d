//! The apply lease: one `sra apply` at a time per organization, as Terraform
//! locks its state.
//!
//! The lease is a service control policy named [`NAME`], never attached, whose
//! description says who holds it, since when and until when. Organizations
//! refuses a second policy with the same name (`DuplicatePolicyException`), so
//! taking the lease is one atomic CreatePolicy: of two runs, exactly one gets
//! it. Every run with the management account's credentials can see it
//! (ListPolicies), and so can a person in the console. Its content equals
//! FullAWSAccess, so even attached by mistake it changes nothing.
//!
//! A lease whose holder died is broken without asking when that is certain:
//! its time is up, or its process ran on this machine and is gone. Otherwise
//! `sra apply --force-unlock ID` breaks it. Apply takes the lease before it
//! reads live state (so its plan cannot be stale against another run's
//! writes) and releases it at the end, on errors and on Ctrl-C too.
//!
//! [`Holder`]'s text is pure and unit-tested; [`take`] and [`Lease::release`]
//! call AWS.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use aws_sdk_organizations::types::PolicyType;
use aws_smithy_types::date_time::Format;

use crate::aws::{Site, call_error, error_code, hinted};
use crate::report::Reporter;

/// The lease's policy name.
pub const NAME: &str = "sra-apply-lock";

/// FullAWSAccess's statement: harmless wherever it might get attached.
const CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"SraApplyLock","Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Who holds the lease, as its policy description records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// This run's own id: a retried CreatePolicy whose answer was lost finds
    /// its own lease, not a stranger's.
    pub run: String,
    /// The caller's ARN.
    pub who: String,
    pub host: String,
    /// The process's PID namespace (`/proc/self/ns/pid`): containers that share
    /// a host name do not share it, so a process id is only compared within one.
    pub pidns: String,
    pub pid: u32,
    /// Seconds since the epoch.
    pub since: i64,
    pub expires: i64,
}

/// Organizations' limit on a policy description.
const DESCRIPTION_MAX: usize = 512;

fn timestamp(secs: i64) -> String {
    aws_smithy_types::DateTime::from_secs(secs).fmt(Format::DateTime).unwrap_or_else(|_| secs.to_string())
}

fn parse_timestamp(text: &str) -> Option<i64> {
    aws_smithy_types::DateTime::from_str(text, Format::DateTime).ok().map(|t| t.secs())
}

impl Holder {
    /// The policy description: readable in the console, and read back by [`Holder::parse`].
    pub fn describe(&self) -> String {
        let mut who = self.who.clone();
        let fixed = format!(
            "sra apply lock; run={}; host={}; pidns={}; pid={}; since={}; expires={}; who=",
            self.run,
            self.host,
            self.pidns,
            self.pid,
            timestamp(self.since),
            timestamp(self.expires)
        );
        who.truncate(DESCRIPTION_MAX.saturating_sub(fixed.len()));
        fixed + &who
    }

    pub fn parse(text: &str) -> Option<Holder> {
        let rest = text.strip_prefix("sra apply lock; ")?;
        let mut fields = std::collections::BTreeMap::new();
        // `who` is last and may hold anything.
        let (head, who) = rest.split_once("; who=")?;
        for part in head.split("; ") {
            let (k, v) = part.split_once('=')?;
            fields.insert(k, v);
        }
        Some(Holder {
            run: fields.get("run")?.to_string(),
            who: who.to_string(),
            host: fields.get("host")?.to_string(),
            pidns: fields.get("pidns").map(|s| s.to_string()).unwrap_or_default(),
            pid: fields.get("pid")?.parse().ok()?,
            since: parse_timestamp(fields.get("since")?)?,
            expires: parse_timestamp(fields.get("expires")?)?,
        })
    }

    /// Why the holder is certainly gone, if it is: its time is up, or it ran on
    /// `this_host`, in this PID namespace, and its process no longer runs.
    pub fn gone(&self, now: i64, this_host: &str, this_pidns: &str, running: impl Fn(u32) -> bool) -> Option<String> {
        if now >= self.expires {
            return Some(format!("its time ran out at {}", timestamp(self.expires)));
        }
        if self.host == this_host && !self.pidns.is_empty() && self.pidns == this_pidns && !running(self.pid) {
            return Some(format!("its process {} on this machine no longer runs", self.pid));
        }
        None
    }

    /// "arn:… on host h (process 12) since 2026-…".
    pub fn says(&self) -> String {
        format!("{} on {} (process {}) since {}", self.who, self.host, self.pid, timestamp(self.since))
    }
}

/// This machine's name, as far as it can be known.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// This process's PID namespace, "" where that cannot be known (then no
/// process id is ever compared).
fn this_pidns() -> String {
    std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default()
}

/// Whether a process runs on this machine; where that cannot be known, it is
/// taken to run (a lease is then never broken on a guess).
fn running(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A lease held by this run.
pub struct Lease {
    id: String,
    orgs: aws_sdk_organizations::Client,
    site: Site,
}

/// What taking the lease needs to know.
pub struct Request<'a> {
    /// The caller's ARN, recorded as the holder.
    pub who: &'a str,
    /// How long the lease holds without its holder releasing it.
    pub hold: Duration,
    /// `--force-unlock ID`: a lease to break first.
    pub force_unlock: Option<&'a str>,
}

/// Take the lease, or fail naming who holds it. `Ok(None)` when there is no
/// organization yet to hold one in (the first apply creates it).
pub async fn take(aws: &crate::aws::Aws, caller: &str, req: Request<'_>, rep: &Reporter) -> Result<Option<Lease>> {
    let orgs = aws.organizations();
    let site = Site { account: caller.to_string(), region: aws.region.clone() };
    let since = now_secs();
    let me = Holder {
        run: format!(
            "{:x}-{:x}",
            std::process::id(),
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
        ),
        who: req.who.to_string(),
        host: this_host(),
        pidns: this_pidns(),
        pid: std::process::id(),
        since,
        expires: since + req.hold.as_secs() as i64,
    };
    // The id of a lease this run broke: until its deletion shows, CreatePolicy
    // still finds the name taken.
    let mut broken: Option<String> = None;
    for attempt in 1..=TRIES {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
        rep.debug(format!("organizations:CreatePolicy {NAME}"));
        let sent = orgs
            .create_policy()
            .name(NAME)
            .description(me.describe())
            .content(CONTENT)
            .r#type(PolicyType::ServiceControlPolicy)
            .send()
            .await;
        let e = match sent {
            Ok(out) => {
                let id = out.policy().and_then(|p| p.policy_summary()).and_then(|s| s.id()).unwrap_or_default();
                rep.debug(format!("took the apply lock {id}"));
                if let Some(asked) = req.force_unlock.filter(|_| broken.is_none()) {
                    rep.progress(format!("--force-unlock {asked}: no apply lock was held; nothing to break"));
                }
                return Ok(Some(Lease { id: id.to_string(), orgs, site }));
            }
            Err(e) => e,
        };
        match error_code(&e) {
            Some("AWSOrganizationsNotInUseException") => return Ok(None),
            Some("DuplicatePolicyException") => {}
            _ => {
                return Err(call_error(
                    e,
                    "organizations",
                    "CreatePolicy",
                    &site,
                    "taking the apply lock (policy sra-apply-lock)",
                )
                .into());
            }
        }
        let Some((id, description)) = find(&orgs, &site).await? else {
            // Released between our call and the look (or not listed yet): again.
            continue;
        };
        let holder = Holder::parse(&description);
        if holder.as_ref().is_some_and(|h| h.run == me.run) {
            // Our own lease: an earlier try's answer was lost.
            return Ok(Some(Lease { id, orgs, site }));
        }
        if broken.as_deref() == Some(id.as_str()) {
            // The lease just broken, still listed: again, after a pause.
            continue;
        }
        let forced = req.force_unlock == Some(id.as_str());
        let gone = holder.as_ref().and_then(|h| h.gone(now_secs(), &me.host, &me.pidns, running));
        if broken.is_some() || !(forced || gone.is_some()) {
            let who =
                holder.as_ref().map_or_else(|| format!("a holder it does not name (\"{description}\")"), Holder::says);
            return Err(hinted(
                format!("another sra apply holds the lock ({who}); the organization is changed by one apply at a time"),
                format!(
                    "wait for it to finish and rerun; if it died, `sra apply PLAN --force-unlock {id}` breaks its lock (the policy {NAME}, {id})"
                ),
            ));
        }
        let why = if forced { "--force-unlock".to_string() } else { gone.unwrap_or_default() };
        rep.progress(format!(
            "breaking the apply lock {id} of {} ({why})",
            holder.as_ref().map_or("an unknown holder".to_string(), Holder::says)
        ));
        delete(&orgs, &site, &id).await?;
        broken = Some(id);
    }
    Err(hinted(
        format!("could not take the apply lock (policy {NAME}) in {TRIES} tries: the name stayed taken"),
        format!(
            "rerun in a minute; if it persists, look for a policy named {NAME} (of any type) in the Organizations console"
        ),
    ))
}

/// How often taking the lease is tried before giving up.
const TRIES: u32 = 5;

/// The lease policy's id and description, if it exists.
async fn find(orgs: &aws_sdk_organizations::Client, site: &Site) -> Result<Option<(String, String)>> {
    let pages: Vec<_> = orgs
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| call_error(e, "organizations", "ListPolicies", site, "reading who holds the apply lock"))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.policies())
        .find(|p| p.name() == Some(NAME))
        .map(|p| (p.id().unwrap_or_default().to_string(), p.description().unwrap_or_default().to_string())))
}

async fn delete(orgs: &aws_sdk_organizations::Client, site: &Site, id: &str) -> Result<()> {
    match orgs.delete_policy().policy_id(id).send().await {
        Ok(_) => Ok(()),
        // Gone already: released, or broken by another run.
        Err(e) if error_code(&e) == Some("PolicyNotFoundException") => Ok(()),
        Err(e) => {
            Err(call_error(e, "organizations", "DeletePolicy", site, format!("releasing the apply lock {id}")).into())
        }
    }
}

impl Lease {
    /// Release the lease; a failure is reported, not raised (the work is done,
    /// and the next run breaks a lease whose holder is gone).
    pub async fn release(self, rep: &Reporter) {
        rep.debug(format!("organizations:DeletePolicy {} (the apply lock)", self.id));
        if let Err(e) = delete(&self.orgs, &self.site, &self.id).await {
            rep.progress(format!(
                "could not release the apply lock {}: {e:#}; the next apply on this machine breaks it, elsewhere use --force-unlock {}",
                self.id, self.id
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder() -> Holder {
        Holder {
            run: "1f-2a".into(),
            who: "arn:aws:sts::111111111111:assumed-role/Admin/alice; with; semicolons".into(),
            host: "ci-7".into(),
            pidns: "pid:[4026531836]".into(),
            pid: 4242,
            since: 1_800_000_000,
            expires: 1_800_005_400,
        }
    }

    #[test]
    fn the_description_reads_back_as_the_holder() {
        let h = holder();
        let text = h.describe();
        assert!(
            text.starts_with(
                "sra apply lock; run=1f-2a; host=ci-7; pidns=pid:[4026531836]; pid=4242; since=2027-01-15T08:00:00Z;"
            ),
            "{text}"
        );
        assert_eq!(Holder::parse(&text), Some(h));
        assert_eq!(Holder::parse("a policy somebody wrote"), None);
    }

    #[test]
    fn the_description_stays_within_the_limit() {
        let h = Holder { who: "x".repeat(2000), ..holder() };
        let text = h.describe();
        assert_eq!(text.len(), DESCRIPTION_MAX);
        assert_eq!(Holder::parse(&text).unwrap().run, "1f-2a");
    }

    #[test]
    fn a_holder_is_gone_only_when_that_is_certain() {
        let h = holder();
        let alive = |_| true;
        let dead = |_| false;
        let ns = "pid:[4026531836]";
        assert_eq!(h.gone(h.since + 10, "ci-7", ns, alive), None);
        // On another machine, or in another container of the same name, its
        // process cannot be checked: held until its time is up.
        assert_eq!(h.gone(h.since + 10, "laptop", ns, dead), None);
        assert_eq!(h.gone(h.since + 10, "ci-7", "pid:[4026532001]", dead), None);
        assert!(h.gone(h.since + 10, "ci-7", ns, dead).unwrap().contains("process 4242"));
        assert!(h.gone(h.expires, "laptop", ns, alive).unwrap().contains("time ran out at 2027-01-15T09:30:00Z"));
    }
}
