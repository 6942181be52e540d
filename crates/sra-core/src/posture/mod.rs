//! `sra posture`: the organization's security posture in one place. Pure: the
//! shell reads the counts (Security Hub insights in the home Region, which the
//! finding aggregator feeds from every linked Region), the candidates for the
//! queue and the coverage sra already observes; this module joins them into one
//! [`PostureDocument`], ranks the queue, finds the blind spots and compares with
//! an earlier run. Renderings are in [`render`].

pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON document's version: bumped when a key changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

/// Findings in the ranked queue.
pub const QUEUE: usize = 20;

/// Controls in the list of top failing controls.
pub const CONTROLS: usize = 10;

/// A finding's severity label, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Informational,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Informational];

    /// As Security Hub labels it (`Severity.Label`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
        }
    }

    /// From a label, in any case: `critical`, `CRITICAL`.
    pub fn parse(label: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.label().eq_ignore_ascii_case(label))
    }
}

/// What a finding is, for the queue: attack sequences and threats before
/// vulnerabilities with a known exploit, before exposed resources, before the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A GuardDuty attack sequence: several signals of one attack, correlated.
    AttackSequence,
    /// A threat detection (GuardDuty, or any finding typed as tactics, techniques
    /// and procedures or unusual behaviour).
    Threat,
    /// A software vulnerability with a known exploit (Inspector).
    KnownExploit,
    /// A resource reachable from the internet or shared outside the organization.
    Exposed,
    /// A posture finding: a failed control, a misconfiguration, anything else.
    Posture,
}

impl Kind {
    /// From what Security Hub's finding format (ASFF) says: the product, the
    /// finding's `Types`, its title and whether a vulnerability has a known
    /// exploit (`Vulnerabilities[].ExploitAvailable` = YES).
    pub fn of(product: &str, types: &[String], title: &str, exploit_available: bool) -> Kind {
        let any = |needle: &str| types.iter().any(|t| t.contains(needle)) || title.contains(needle);
        if any("AttackSequence") || any("Attack sequence") {
            Kind::AttackSequence
        } else if product.eq_ignore_ascii_case("GuardDuty")
            || types.iter().any(|t| t.starts_with("TTPs") || t.starts_with("Unusual Behaviors"))
        {
            Kind::Threat
        } else if exploit_available {
            Kind::KnownExploit
        } else if any("External Access Granted")
            || any("Effects/Data Exposure")
            || title.to_ascii_lowercase().contains("public")
            || types.iter().any(|t| t.contains("Network Reachability"))
        {
            Kind::Exposed
        } else {
            Kind::Posture
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Kind::AttackSequence => "attack sequence",
            Kind::Threat => "threat",
            Kind::KnownExploit => "known exploit",
            Kind::Exposed => "exposed",
            Kind::Posture => "posture",
        }
    }
}

/// One active finding, as the queue ranks and shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub kind: Kind,
    pub account_id: String,
    pub region: String,
    /// The product that reported it, as Security Hub names it (GuardDuty,
    /// Inspector, Security Hub, Macie, ...).
    pub product: String,
    pub title: String,
    /// The first resource's id (an ARN, mostly).
    pub resource: String,
    /// When it was first seen (RFC 3339), for its age.
    pub first_seen: String,
}

/// An account of the organization, as the posture shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Its OU's path (`Workloads/Prod`), empty under the root.
    pub ou: String,
    /// The management account, Security Tooling, Log Archive, or under one of
    /// `[posture] critical_ous`: ranked first among equals.
    pub critical: bool,
}

/// A page of candidates for the queue: active findings matching `filters` (each
/// a field of Security Hub's AwsSecurityFindingFilters with its values, ORed),
/// the most severe first. The queue ranks by kind and account after severity,
/// and one page of the most severe findings may hold 100 posture findings of
/// the top severity and no threat: each kind, and the critical accounts, get a
/// page of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateQuery {
    /// What it reads, in words (for errors and progress).
    pub purpose: String,
    pub filters: Vec<(&'static str, Match, Vec<String>)>,
}

/// How a candidate filter compares (Security Hub's StringFilter comparisons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Equals,
    Prefix,
}

/// Security Hub takes at most 20 values a filter field (AwsSecurityFindingFilters).
pub const FILTER_VALUES: usize = 20;

/// The pages read for the queue before the accounts are known: the most severe
/// findings, and the most severe of each kind that ranks before posture.
pub fn candidate_queries() -> Vec<CandidateQuery> {
    let q = |purpose: &str, filters: Vec<(&'static str, Match, Vec<&str>)>| CandidateQuery {
        purpose: purpose.into(),
        filters: filters.into_iter().map(|(f, c, v)| (f, c, v.into_iter().map(String::from).collect())).collect(),
    };
    vec![
        q("reading the most severe active findings", vec![]),
        q("reading the most severe GuardDuty findings", vec![("ProductName", Match::Equals, vec!["GuardDuty"])]),
        q(
            "reading the most severe findings typed as threats",
            vec![("Type", Match::Prefix, vec!["TTPs", "Unusual Behaviors"])],
        ),
        q(
            "reading the most severe vulnerabilities with a known exploit",
            vec![("VulnerabilitiesExploitAvailable", Match::Equals, vec!["YES"])],
        ),
        q(
            "reading the most severe exposed resources",
            vec![(
                "Type",
                Match::Prefix,
                vec![
                    "Effects/Data Exposure",
                    "Software and Configuration Checks/AWS Security Best Practices/External Access Granted",
                    "Software and Configuration Checks/AWS Security Best Practices/Network Reachability",
                ],
            )],
        ),
    ]
}

/// The page of the critical accounts' most severe findings (the first
/// [`FILTER_VALUES`] of them: the management account, Security Tooling and Log
/// Archive first, then the critical OUs' accounts by id); None without any.
pub fn critical_query(accounts: &BTreeMap<String, Account>, first: &[&str]) -> Option<CandidateQuery> {
    let mut ids: Vec<String> = first.iter().filter(|a| accounts.contains_key(**a)).map(|a| a.to_string()).collect();
    ids.extend(accounts.values().filter(|a| a.critical && !first.contains(&a.id.as_str())).map(|a| a.id.clone()));
    ids.truncate(FILTER_VALUES);
    (!ids.is_empty()).then(|| CandidateQuery {
        purpose: "reading the critical accounts' most severe findings".into(),
        filters: vec![("AwsAccountId", Match::Equals, ids)],
    })
}

/// The ranked queue: severity, then kind, then critical accounts first, then the
/// oldest first (the longest exposed), then the id (stable). At most [`QUEUE`].
pub fn rank(findings: &[Finding], accounts: &BTreeMap<String, Account>) -> Vec<Finding> {
    let critical = |f: &Finding| accounts.get(&f.account_id).is_some_and(|a| a.critical);
    let mut ranked: Vec<&Finding> = findings.iter().collect();
    ranked.sort_by(|a, b| {
        (a.severity, a.kind, !critical(a), &a.first_seen, &a.id).cmp(&(
            b.severity,
            b.kind,
            !critical(b),
            &b.first_seen,
            &b.id,
        ))
    });
    ranked.dedup_by(|a, b| a.id == b.id);
    ranked.into_iter().take(QUEUE).cloned().collect()
}

/// Whether an account in the OU at `path` ("Workloads/Prod/Payments") is under
/// one of the `critical` OUs, at any depth.
pub fn under_critical(path: &str, critical: &[crate::model::OuPath]) -> bool {
    let segments: Vec<&str> = if path.is_empty() { vec![] } else { path.split('/').collect() };
    critical.iter().any(|c| {
        let want = c.segments();
        want.len() <= segments.len() && want.iter().zip(&segments).all(|(a, b)| a == b)
    })
}

/// The services whose coverage the posture checks, as the JSON names them.
pub const SERVICES: [&str; 6] = ["guardduty", "securityhub", "inspector", "macie", "detective", "config"];

/// What sra knows of each governed service's reach, from the same reads as
/// `sra plan`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Every active account the services should watch.
    pub accounts: Vec<String>,
    /// Security Tooling: every service's administrator, watched as such, except
    /// by the services in `admin_scanned` (Inspector scans Security Tooling too).
    pub admin: Option<String>,
    /// Services that must cover Security Tooling itself, with why an account is
    /// not covered when it is not a member (Inspector: the scan types).
    pub admin_scanned: BTreeMap<&'static str, String>,
    /// Per service (one of [`SERVICES`]) the plan turns on and region: the
    /// accounts it covers (members, enabled); None when they could not be read
    /// (Security Tooling is not the administrator there).
    pub members: BTreeMap<&'static str, BTreeMap<String, Option<BTreeSet<String>>>>,
    /// Per (account, region): its Config recorder; None when the plan does not
    /// give every account a recorder (nothing to hold them to).
    pub recording: Option<BTreeMap<(String, String), Recorder>>,
    /// The regions linked to Security Hub's finding aggregator (the home region
    /// included); None when Security Hub is not governed.
    pub linked: Option<BTreeSet<String>>,
    /// Governed regions.
    pub regions: Vec<String>,
    /// What the services report of their own reach.
    pub reported: Reported,
}

/// What the services themselves report of their reach, read in Security
/// Tooling beside sra's model: each region's Config aggregator sources that are
/// not up to date, Inspector's coverage statistics and GuardDuty's organization
/// statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    /// Region → the aggregator's sources there that are FAILED or OUTDATED.
    pub config_sources: BTreeMap<String, Vec<SourceStatus>>,
    /// Region → Inspector's coverage there.
    pub inspector: BTreeMap<String, InspectorCoverage>,
    /// Region → GuardDuty's organization statistics there.
    pub guardduty: BTreeMap<String, GuardDutyStatistics>,
}

/// One Config aggregator source that is not up to date
/// (DescribeConfigurationAggregatorSourcesStatus).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStatus {
    /// An account id, or the organization's id for the organization's source.
    pub source_id: String,
    /// Whether it is the organization's source (every account's data).
    pub organization: bool,
    /// FAILED or OUTDATED.
    pub status: String,
    /// The error code and message, when Config gives them.
    pub error: String,
}

/// Why Inspector does not scan a resource, when that is no blind spot: the
/// resource is stopped, gone, archived, deliberately excluded, or about to be
/// scanned for the first time (API_ScanStatus.html's reasons). Everything else
/// (UNMANAGED_EC2_INSTANCE, UNSUPPORTED_OS, ACCESS_DENIED, ...) is one.
pub const INSPECTOR_NOT_BLIND: [&str; 8] = [
    "EC2_INSTANCE_STOPPED",
    "RESOURCE_STOPPED",
    "RESOURCE_TERMINATED",
    "SCAN_ELIGIBILITY_EXPIRED",
    "IMAGE_ARCHIVED",
    "PENDING_DISABLE",
    "EXCLUDED_BY_TAG",
    "PENDING_INITIAL_SCAN",
];

/// Inspector's coverage in one region (ListCoverageStatistics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectorCoverage {
    /// Resources it scans (ACTIVE), and those plus the ones it should and
    /// does not (INACTIVE for a reason outside [`INSPECTOR_NOT_BLIND`]).
    pub scanned: u64,
    pub total: u64,
    /// Account → resources it should and does not scan.
    pub unscanned: BTreeMap<String, u64>,
    /// Why, over the region: scan status reason → those resources.
    pub reasons: BTreeMap<String, u64>,
}

/// GuardDuty's organization statistics in one region (GetOrganizationStatistics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardDutyStatistics {
    /// The organization's accounts, its members, and the members with
    /// GuardDuty enabled.
    pub accounts: u64,
    pub members: u64,
    pub enabled: u64,
    /// Feature → members with it enabled.
    pub features: BTreeMap<String, u64>,
    /// When GuardDuty last computed them (it may lag up to 24 hours).
    pub updated_at: String,
}

/// What one service reports of its reach in one region, beside sra's model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ServiceReport {
    /// guardduty, inspector or config.
    pub service: String,
    pub region: String,
    /// How many it reaches, of how many, and what it counts (member accounts,
    /// resources or accounts).
    pub covered: u64,
    pub of: u64,
    pub unit: String,
    /// What else it says, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// Each region's reports, from what the services said and sra's own count of
/// each service's members (to say where the two disagree).
pub fn reports(c: &Coverage) -> Vec<ServiceReport> {
    let mut out = Vec::new();
    let words = |counts: &BTreeMap<String, u64>| -> String {
        counts.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    };
    for (region, g) in &c.reported.guardduty {
        let mut details = Vec::new();
        if !g.features.is_empty() {
            details.push(format!("features on in members: {}", words(&g.features)));
        }
        let ours = c.members.get("guardduty").and_then(|m| m.get(region)).and_then(|m| m.as_ref());
        if let Some(ours) = ours {
            let ours = ours.iter().filter(|a| c.accounts.contains(a)).count() as u64;
            if ours != g.enabled {
                details.push(format!(
                    "sra reads {ours} enabled members; GuardDuty's statistics, computed {}, count {} (they may lag \
                     by up to 24 hours)",
                    g.updated_at, g.enabled
                ));
            }
        }
        // Of sra's active accounts, other than Security Tooling (GuardDuty's own
        // total may count suspended accounts).
        let others = c.accounts.iter().filter(|a| c.admin.as_deref() != Some(a.as_str())).count() as u64;
        out.push(ServiceReport {
            service: "guardduty".into(),
            region: region.clone(),
            covered: g.enabled,
            of: others,
            unit: "member accounts".into(),
            details,
        });
    }
    for (region, i) in &c.reported.inspector {
        let details = if i.reasons.is_empty() { vec![] } else { vec![format!("not scanned: {}", words(&i.reasons))] };
        out.push(ServiceReport {
            service: "inspector".into(),
            region: region.clone(),
            covered: i.scanned,
            of: i.total,
            unit: "resources".into(),
            details,
        });
    }
    if let Some(recording) = &c.recording {
        for region in &c.regions {
            let recorded = c
                .accounts
                .iter()
                .filter(|a| matches!(recording.get(&((*a).clone(), region.clone())), Some(Recorder::Recording)))
                .count() as u64;
            let details = c.reported.config_sources.get(region).into_iter().flatten().map(source_words).collect();
            out.push(ServiceReport {
                service: "config".into(),
                region: region.clone(),
                covered: recorded,
                of: c.accounts.len() as u64,
                unit: "accounts".into(),
                details,
            });
        }
    }
    out.sort();
    out
}

fn source_words(s: &SourceStatus) -> String {
    let which = if s.organization { "organization's source".to_string() } else { format!("source {}", s.source_id) };
    let error = if s.error.is_empty() { String::new() } else { format!(" ({})", s.error) };
    format!("the aggregator's {which} is {}{error}", s.status)
}

/// An account's Config recorder in one region, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorder {
    Recording,
    Stopped,
    Missing,
    /// Its baselines could not be read (why).
    Unread(String),
    /// No resource of the account reaches the organization's Config aggregator
    /// from this region.
    NotAggregated,
}

/// Every account's recording as the organization's Config aggregator shows it:
/// `counts` is region → the accounts with at least one resource there
/// (GetAggregateDiscoveredResourceCounts, grouped by account), and `stopped` the
/// (account, region) whose recorder's own configuration item says it is not
/// recording (SelectAggregateResourceConfig over AWS::Config::ConfigurationRecorder).
/// Both are needed: what a recorder recorded stays in the aggregator after it
/// stops, so counts alone never show a stopped recorder; an account that never
/// recorded has no recorder item either.
pub fn recording_from_aggregator(
    accounts: &[String],
    regions: &[String],
    counts: &BTreeMap<String, BTreeSet<String>>,
    stopped: &BTreeSet<(String, String)>,
) -> BTreeMap<(String, String), Recorder> {
    let mut out = BTreeMap::new();
    for region in regions {
        let seen = counts.get(region);
        for account in accounts {
            let key = (account.clone(), region.clone());
            let state = if stopped.contains(&key) {
                Recorder::Stopped
            } else if seen.is_some_and(|s| s.contains(account)) {
                Recorder::Recording
            } else {
                Recorder::NotAggregated
            };
            out.insert(key, state);
        }
    }
    out
}

/// One account a governed service does not watch in one governed region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct BlindSpot {
    /// guardduty, securityhub, inspector, macie, detective or config.
    pub service: String,
    pub region: String,
    pub account_id: String,
    /// Why, in words.
    pub reason: String,
}

/// Every (service, region, account) the services do not watch, in that order.
pub fn blind_spots(c: &Coverage) -> Vec<BlindSpot> {
    let mut out = Vec::new();
    let spot = |service: &str, region: &str, account: &str, reason: String| BlindSpot {
        service: service.into(),
        region: region.into(),
        account_id: account.into(),
        reason,
    };
    for (service, regions) in &c.members {
        for region in &c.regions {
            let Some(read) = regions.get(region) else { continue };
            let scans = c.admin_scanned.get(service);
            for account in &c.accounts {
                let is_admin = c.admin.as_deref() == Some(account.as_str());
                let reason = match (read, scans) {
                    _ if is_admin && scans.is_none() => continue,
                    (None, _) => "Security Tooling does not administer the service in this Region".to_string(),
                    (Some(members), _) if members.contains(account) => continue,
                    (Some(_), Some(scans)) => {
                        format!("not a member, or not scanning every type the plan turns on ({scans})")
                    }
                    (Some(_), None) => "not a member of Security Tooling's organization".to_string(),
                };
                out.push(spot(service, region, account, reason));
            }
        }
    }
    if let Some(recording) = &c.recording {
        for region in &c.regions {
            for account in &c.accounts {
                let reason = match recording.get(&(account.clone(), region.clone())) {
                    Some(Recorder::Recording) => continue,
                    Some(Recorder::Stopped) => "its Config recorder is not recording".to_string(),
                    Some(Recorder::Missing) | None => "it has no Config recorder".to_string(),
                    Some(Recorder::Unread(why)) => format!("its Config recorder could not be read: {why}"),
                    Some(Recorder::NotAggregated) => "none of its resources reach the Config aggregator from this \
                                                      Region: its recorder is off, stopped or not delivering"
                        .to_string(),
                };
                out.push(spot("config", region, account, reason));
            }
        }
    }
    if let Some(linked) = &c.linked {
        for region in c.regions.iter().filter(|r| !linked.contains(*r)) {
            for account in &c.accounts {
                let why =
                    "the Region is not linked to the finding aggregator: its findings do not reach the home Region";
                out.push(spot("securityhub", region, account, why.into()));
            }
        }
    }
    for (region, sources) in &c.reported.config_sources {
        if !c.regions.contains(region) {
            continue;
        }
        for source in sources {
            for account in c.accounts.iter().filter(|a| source.organization || **a == source.source_id) {
                let why = format!("{}: its data there is not up to date", source_words(source));
                out.push(spot("config", region, account, why));
            }
        }
    }
    for (region, coverage) in &c.reported.inspector {
        for (account, n) in coverage.unscanned.iter().filter(|(a, n)| **n > 0 && c.accounts.contains(a)) {
            let noun = if *n == 1 { "resource" } else { "resources" };
            let reasons: Vec<String> = coverage.reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let why = format!(
                "Inspector reports {n} of its {noun} not scanned (the Region's reasons: {})",
                reasons.join(", ")
            );
            out.push(spot("inspector", region, account, why));
        }
    }
    merged(out)
}

/// One blind spot per (service, region, account), its reasons joined.
fn merged(mut spots: Vec<BlindSpot>) -> Vec<BlindSpot> {
    spots.sort();
    spots.dedup();
    let mut out: Vec<BlindSpot> = Vec::with_capacity(spots.len());
    for s in spots {
        match out.last_mut() {
            Some(last) if (&last.service, &last.region, &last.account_id) == (&s.service, &s.region, &s.account_id) => {
                last.reason = format!("{}; {}", last.reason, s.reason);
            }
            _ => out.push(s),
        }
    }
    out
}

/// What sra's own reads say about coverage: every active account; the members
/// of each regional service the plan turns on; with Config recorders in every
/// account, each account's recorder (Security Tooling's and Log Archive's are
/// the Config service's own); with Security Hub, the regions its finding
/// aggregator links (the home region is its own).
pub fn coverage(desired: &crate::model::Desired, observed: &crate::model::Observed) -> Coverage {
    use crate::model::AccountRole;
    let ids = crate::engine::diff::ids(desired, observed);
    let services = &desired.services;
    let regions = desired.governed_regions.clone();
    let accounts: Vec<String> =
        observed.accounts.iter().filter(|a| a.status == "ACTIVE").map(|a| a.id.clone()).collect();
    let mut members: BTreeMap<&'static str, BTreeMap<String, Option<BTreeSet<String>>>> = BTreeMap::new();
    let mut add = |service: &'static str, on: bool, read: Vec<(String, Option<BTreeSet<String>>)>| {
        if on {
            let mut by_region: BTreeMap<String, Option<BTreeSet<String>>> = read.into_iter().collect();
            for r in &regions {
                by_region.entry(r.clone()).or_insert(None);
            }
            members.insert(service, by_region);
        }
    };
    fn read<S>(o: &crate::services::regional::Observed<S>) -> Vec<(String, Option<BTreeSet<String>>)> {
        o.regions.iter().map(|(r, st)| (r.clone(), st.members.clone())).collect()
    }
    add("guardduty", services.guardduty.enabled, read(&observed.guardduty));
    add("securityhub", services.securityhub.enabled, read(&observed.securityhub));
    add("inspector", services.inspector.enabled, read(&observed.inspector));
    add("macie", services.macie, read(&observed.macie));
    add("detective", services.detective, read(&observed.detective));
    let everyone_records = crate::services::delegation::enabled(services, "config")
        && desired.log_archive.enabled
        && desired.baselines.enabled
        && desired.baselines.config_recorders;
    let recording = everyone_records.then(|| {
        let mut out = BTreeMap::new();
        let of = |state: &crate::services::config::RecorderState| match (&state.recorder, state.recording) {
            (None, _) => Recorder::Missing,
            (Some(_), true) => Recorder::Recording,
            (Some(_), false) => Recorder::Stopped,
        };
        for account in &accounts {
            for region in &regions {
                let managed = [
                    (AccountRole::SecurityTooling, &ids.security_tooling),
                    (AccountRole::LogArchive, &ids.log_archive),
                ]
                .into_iter()
                .find(|(_, id)| id.as_deref() == Some(account.as_str()));
                let state = match managed {
                    Some((role, _)) => observed.config.recorders.get(&(role, region.clone())).map(of),
                    None => match observed.baselines.unreadable.get(account) {
                        Some(why) => Some(Recorder::Unread(why.clone())),
                        None => observed.baselines.accounts.get(account).and_then(|b| b.config.get(region)).map(of),
                    },
                };
                out.insert((account.clone(), region.clone()), state.unwrap_or(Recorder::Missing));
            }
        }
        out
    });
    let linked = services.securityhub.enabled.then(|| {
        let home = desired.home_region.clone();
        let aggregator = observed.securityhub.regions.get(&home).and_then(|st| st.settings.aggregator.as_ref());
        let mut linked: BTreeSet<String> = aggregator.map(|(_, r)| r.iter().cloned().collect()).unwrap_or_default();
        linked.insert(home);
        linked
    });
    let mut admin_scanned = BTreeMap::new();
    if services.inspector.enabled {
        admin_scanned.insert("inspector", services.inspector.scans.join(", "));
    }
    Coverage {
        accounts,
        admin: ids.security_tooling.clone(),
        admin_scanned,
        members,
        recording,
        linked,
        regions,
        reported: Reported::default(),
    }
}

/// A Security Hub control failing somewhere, with its failed findings (one per
/// resource and Region, with consolidated control findings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FailingControl {
    /// The control's id (`S3.1`).
    pub id: String,
    pub title: String,
    /// Active FAILED findings of this control.
    pub failed: u64,
    /// Accounts with an active FAILED finding of it: every one when
    /// `accounts_exact`, otherwise those among the first findings read (at
    /// least this many).
    #[serde(default)]
    pub accounts_affected: u64,
    #[serde(default)]
    pub accounts_exact: bool,
    /// Why some of them may be noise, when they may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<String>,
}

/// A failing control as read: the insight's count of its failed findings, its
/// title, and the account and Region of the failed findings read (one page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlRead {
    pub id: String,
    pub title: String,
    pub failed: u64,
    /// (account, Region) of each failed finding read.
    pub sample: Vec<(String, String)>,
    /// Whether `sample` is every failed finding (no page was left).
    pub complete: bool,
}

/// Whether a control checks a global resource, which Security Hub advises
/// evaluating in one Region only, the one that records global resources: "[IAM.*]",
/// "[KMS.1]", "[KMS.2]" (controls-to-disable.html, the global-resource list).
/// CloudFront's controls are not among them: they are "Available only in the US
/// East (N. Virginia) Region" and fail there alone, which is not repetition.
pub fn global_control(id: &str) -> bool {
    id.starts_with("IAM.") || id == "KMS.1" || id == "KMS.2"
}

/// A global resource's control failing outside the home Region: Config records
/// global resources in the home Region only (sra's recorders do), so those
/// findings repeat the home Region's. The note says how many of those read are
/// elsewhere, and where; None for other controls, or when every one read is in
/// the home Region.
pub fn noise(control: &ControlRead, home: &str) -> Option<String> {
    if !global_control(&control.id) {
        return None;
    }
    let elsewhere: BTreeSet<&str> = control.sample.iter().map(|(_, r)| r.as_str()).filter(|r| *r != home).collect();
    let n = control.sample.iter().filter(|(_, r)| r != home).count();
    (n > 0).then(|| {
        format!(
            "checks a global resource: {n} of the {} failed findings read are outside the home Region ({}), where \
             they repeat its findings; count it once, in {home}",
            control.sample.len(),
            elsewhere.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

/// A failing control as the document shows it.
pub fn failing(control: &ControlRead, home: &str) -> FailingControl {
    let accounts: BTreeSet<&str> = control.sample.iter().map(|(a, _)| a.as_str()).collect();
    FailingControl {
        id: control.id.clone(),
        title: control.title.clone(),
        failed: control.failed,
        accounts_affected: accounts.len() as u64,
        accounts_exact: control.complete,
        noise: noise(control, home),
    }
}

/// Security Hub returns at most this many values of an insight's results
/// ("Number of insight results: 100", Security Hub endpoints and quotas).
pub const INSIGHT_RESULTS: usize = 100;

/// Notes for the labels whose accounts' counts do not add up to the
/// organization's: the by-account insight returned its 100 results, and more
/// accounts have findings of that severity. (Not when an insight is missing:
/// that has its own note.)
pub fn incomplete(read: &Read) -> Vec<String> {
    if read.notes.iter().any(|n| n.contains("insights") && n.contains("missing")) {
        return vec![];
    }
    Severity::ALL
        .into_iter()
        .filter_map(|s| {
            let total = read.by_severity.get(&s).copied().unwrap_or(0);
            let accounts = read.by_account.values().filter(|c| c.get(&s).is_some_and(|n| *n > 0)).count();
            let summed: u64 = read.by_account.values().map(|c| c.get(&s).copied().unwrap_or(0)).sum();
            (summed != total).then(|| {
                format!(
                    "by_account holds {accounts} accounts' {} findings ({summed} of {total}): Security Hub returns at \
                     most {INSIGHT_RESULTS} results of an insight, so accounts with fewer such findings are left out",
                    s.label()
                )
            })
        })
        .collect()
}

/// Counts by severity label.
pub type Counts = BTreeMap<Severity, u64>;

/// What the shell read, for [`document`].
#[derive(Debug, Clone, Default)]
pub struct Read {
    pub organization_id: String,
    pub generated_at: String,
    pub home_region: String,
    pub accounts: BTreeMap<String, Account>,
    pub by_severity: Counts,
    pub by_account: BTreeMap<String, Counts>,
    /// Candidates for the queue (the most severe active findings).
    pub findings: Vec<Finding>,
    /// The most failed controls.
    pub controls: Vec<ControlRead>,
    pub coverage: Coverage,
    /// What could not be read, in words (a missing insight, say): the document
    /// says so instead of showing zeros as if they were counted.
    pub notes: Vec<String>,
}

/// The posture document, `sra posture --format json`: its keys are a contract
/// (docs/posture.schema.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostureDocument {
    pub format_version: u32,
    /// When it was read (RFC 3339, UTC).
    pub generated_at: String,
    pub organization_id: String,
    /// Where the counts come from: the finding aggregator's Region.
    pub home_region: String,
    /// Active findings (record state ACTIVE, workflow NEW or NOTIFIED) by
    /// severity label, over every account and linked Region. Every label is present.
    pub by_severity: BTreeMap<String, u64>,
    /// Account id → severity label → active findings (labels with none left out).
    pub by_account: BTreeMap<String, BTreeMap<String, u64>>,
    /// Every active account a governed service does not watch in a governed Region.
    pub blind_spots: Vec<BlindSpot>,
    /// What GuardDuty, Inspector and Config report of their own reach, per Region.
    #[serde(default)]
    pub coverage_reports: Vec<ServiceReport>,
    /// The findings to look at first, ranked.
    pub top: Vec<QueueEntry>,
    /// The controls failing most, across accounts.
    pub failing_controls: Vec<FailingControl>,
    /// The organization's accounts, for names and OUs.
    pub accounts: Vec<AccountEntry>,
    /// What changed since the run given to `--compare`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Comparison>,
    /// What could not be read, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One line of the ranked queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QueueEntry {
    pub rank: usize,
    pub severity: String,
    /// attack sequence, threat, known exploit, exposed or posture.
    pub kind: String,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    pub product: String,
    pub title: String,
    pub resource: String,
    pub first_seen: String,
    /// Whole days since first seen.
    pub age_days: u64,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountEntry {
    pub id: String,
    pub name: String,
    pub ou: String,
    pub critical: bool,
}

/// The difference from an earlier document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// The earlier document's `generated_at`.
    pub previous: String,
    /// Severity label → change in active findings (negative: fewer).
    pub by_severity: BTreeMap<String, i64>,
    /// Account id → severity label → change (labels without change left out).
    pub by_account: BTreeMap<String, BTreeMap<String, i64>>,
    /// Queue findings not in the earlier queue.
    pub new_in_top: Vec<String>,
    /// Earlier queue findings no longer active (or no longer in the queue).
    pub gone_from_top: Vec<String>,
    /// Blind spots that appeared, and those that were closed.
    pub new_blind_spots: Vec<BlindSpot>,
    pub closed_blind_spots: Vec<BlindSpot>,
}

/// Days between two RFC 3339 instants (date part only), 0 when either is unreadable.
pub fn age_days(first_seen: &str, now: &str) -> u64 {
    let day = |s: &str| -> Option<i64> {
        let d = s.get(..10)?;
        let mut parts = d.split('-').map(|p| p.parse::<i64>().ok());
        let (y, m, dd) = (parts.next()??, parts.next()??, parts.next()??);
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + dd - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146097 + doe)
    };
    match (day(first_seen), day(now)) {
        (Some(a), Some(b)) if b >= a => (b - a) as u64,
        _ => 0,
    }
}

fn labelled(counts: &Counts, every: bool) -> BTreeMap<String, u64> {
    Severity::ALL
        .into_iter()
        .filter_map(|s| {
            let n = counts.get(&s).copied().unwrap_or(0);
            (every || n > 0).then(|| (s.label().to_string(), n))
        })
        .collect()
}

/// Join what was read into the document; `previous`: an earlier document to compare with.
pub fn document(read: &Read, previous: Option<&PostureDocument>) -> PostureDocument {
    let name = |id: &str| read.accounts.get(id).map(|a| a.name.clone()).unwrap_or_default();
    let top: Vec<QueueEntry> = rank(&read.findings, &read.accounts)
        .into_iter()
        .enumerate()
        .map(|(i, f)| QueueEntry {
            rank: i + 1,
            severity: f.severity.label().into(),
            kind: f.kind.words().into(),
            account_name: name(&f.account_id),
            age_days: age_days(&f.first_seen, &read.generated_at),
            account_id: f.account_id,
            region: f.region,
            product: f.product,
            title: f.title,
            resource: f.resource,
            first_seen: f.first_seen,
            id: f.id,
        })
        .collect();
    let mut controls: Vec<FailingControl> =
        read.controls.iter().filter(|c| c.failed > 0).map(|c| failing(c, &read.home_region)).collect();
    controls.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.id.cmp(&b.id)));
    controls.truncate(CONTROLS);
    let mut doc = PostureDocument {
        format_version: FORMAT_VERSION,
        generated_at: read.generated_at.clone(),
        organization_id: read.organization_id.clone(),
        home_region: read.home_region.clone(),
        by_severity: labelled(&read.by_severity, true),
        by_account: read
            .by_account
            .iter()
            .map(|(a, c)| (a.clone(), labelled(c, false)))
            .filter(|(_, c)| !c.is_empty())
            .collect(),
        blind_spots: blind_spots(&read.coverage),
        coverage_reports: reports(&read.coverage),
        top,
        failing_controls: controls,
        accounts: read
            .accounts
            .values()
            .map(|a| AccountEntry { id: a.id.clone(), name: a.name.clone(), ou: a.ou.clone(), critical: a.critical })
            .collect(),
        since: None,
        notes: read.notes.clone(),
    };
    doc.since = previous.map(|p| compare(p, &doc));
    doc
}

/// What changed from `before` to `now`.
pub fn compare(before: &PostureDocument, now: &PostureDocument) -> Comparison {
    let delta = |a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>, every: bool| -> BTreeMap<String, i64> {
        Severity::ALL
            .into_iter()
            .map(|s| s.label())
            .filter_map(|l| {
                let d = b.get(l).copied().unwrap_or(0) as i64 - a.get(l).copied().unwrap_or(0) as i64;
                (every || d != 0).then(|| (l.to_string(), d))
            })
            .collect()
    };
    let empty = BTreeMap::new();
    let accounts: BTreeSet<&String> = before.by_account.keys().chain(now.by_account.keys()).collect();
    let by_account = accounts
        .into_iter()
        .map(|a| {
            let d = delta(before.by_account.get(a).unwrap_or(&empty), now.by_account.get(a).unwrap_or(&empty), false);
            (a.clone(), d)
        })
        .filter(|(_, d)| !d.is_empty())
        .collect();
    let ids = |d: &PostureDocument| d.top.iter().map(|e| e.id.clone()).collect::<BTreeSet<String>>();
    let (was, is) = (ids(before), ids(now));
    let spots = |d: &PostureDocument| d.blind_spots.iter().cloned().collect::<BTreeSet<BlindSpot>>();
    let (spots_was, spots_is) = (spots(before), spots(now));
    Comparison {
        previous: before.generated_at.clone(),
        by_severity: delta(&before.by_severity, &now.by_severity, true),
        by_account,
        new_in_top: is.difference(&was).cloned().collect(),
        gone_from_top: was.difference(&is).cloned().collect(),
        new_blind_spots: spots_is.difference(&spots_was).cloned().collect(),
        closed_blind_spots: spots_was.difference(&spots_is).cloned().collect(),
    }
}

/// `--fail-on`: whether an active finding at `threshold` or above exists.
pub fn fails(doc: &PostureDocument, threshold: Severity) -> bool {
    Severity::ALL
        .into_iter()
        .filter(|s| *s <= threshold)
        .any(|s| doc.by_severity.get(s.label()).copied().unwrap_or(0) > 0)
}

/// The JSON Schema of the posture document (docs/posture.schema.json).
pub fn schema() -> String {
    let schema = schemars::schema_for!(PostureDocument);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

#[cfg(test)]
mod tests;
