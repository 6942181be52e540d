//! `sra posture`'s reads: sra's own view of the organization (the same reads as
//! `sra plan`, for coverage and the accounts), and, in Security Tooling in the
//! home region where the finding aggregator brings every linked region's
//! findings, Security Hub's counts from sra's insights (one call each), the
//! queue's candidates (two pages of findings, most severe first) and the failing
//! controls' titles. Everything is joined, ranked and rendered by the core
//! (`sra_core::posture`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, SortCriterion, SortOrder, StringFilter, StringFilterComparison,
};

use crate::aws::{Aws, Sessions, Site, call_error, hinted};
use crate::lock::Lock;
use crate::model::{AccountRole, Desired};
use crate::report::Reporter;
use crate::services::securityhub::{
    INSIGHT_BY_SEVERITY, INSIGHT_FAILED_CONTROLS, insight_by_account, posture_insights, read_insights,
};
use sra_core::posture::{
    Account, CandidateQuery, ControlRead, Finding, GuardDutyStatistics, InspectorCoverage, Kind, Match, Read, Reported,
    Severity,
};

const SVC: &str = "securityhub";

/// Findings read for the queue per call (GetFindings' largest page).
const CANDIDATES: i32 = 100;

/// Read everything the posture document needs. Security Tooling's reads (the
/// aggregates) start at once when the lock file names it, beside the
/// organization's; otherwise, or when the lock file named another account, once
/// the organization is read.
pub async fn read(aws: &Aws, desired: &Desired, lock: Option<&Lock>, rep: &Reporter) -> Result<Read> {
    // The plan's reads without each account's baselines (a few calls per account
    // and region): whether an account records with Config comes from the
    // organization's aggregator instead, a few calls in all.
    let mut light = desired.clone();
    light.baselines.enabled = false;
    let named = lock.and_then(|l| l.accounts.get(&AccountRole::SecurityTooling).cloned());
    let early = async {
        match &named {
            Some(st) => Some(tooling(aws, desired, "", st, rep).await),
            None => None,
        }
    };
    let (computed, early) =
        tokio::join!(crate::live::compute(aws, &light, lock, crate::live::Reader::Plan, rep), early);
    let computed = computed?;
    let observed = &computed.observed;
    let org = observed.organization.as_ref().ok_or_else(|| {
        hinted(
            "these credentials are not the management account's of an organization",
            "run sra posture with the management account's credentials, as sra plan",
        )
    })?;
    let ids = crate::engine::diff::ids(desired, observed);
    let mut read = Read {
        organization_id: org.id.clone(),
        generated_at: now(),
        home_region: desired.home_region.clone(),
        coverage: sra_core::posture::coverage(desired, observed),
        ..Default::default()
    };
    let critical: Vec<&str> =
        [Some(org.management_account_id.as_str()), ids.security_tooling.as_deref(), ids.log_archive.as_deref()]
            .into_iter()
            .flatten()
            .collect();
    // Every account's OU (for the matrix), and with it `[posture] critical_ous`:
    // their accounts rank first too.
    let paths = if org.root_id.is_empty() {
        BTreeMap::new()
    } else {
        let site = Site { account: observed.caller_account.clone(), region: aws.region.clone() };
        crate::services::organizations::ou_paths(&aws.organizations(), &site, &org.root_id, rep).await?
    };
    for a in observed.accounts.iter().filter(|a| a.status == "ACTIVE") {
        let ou = paths.get(&a.id).cloned().unwrap_or_default();
        let critical =
            critical.contains(&a.id.as_str()) || sra_core::posture::under_critical(&ou, &desired.posture.critical_ous);
        read.accounts.insert(a.id.clone(), Account { id: a.id.clone(), name: a.name.clone(), ou, critical });
    }
    read.coverage.recording = None;
    let Some(admin) = ids.security_tooling.clone() else {
        read.notes.push("Security Tooling does not exist yet: run sra apply".into());
        return Ok(read);
    };
    let got = match early {
        Some(Ok(got)) if named.as_deref() == Some(admin.as_str()) => got,
        _ => tooling(aws, desired, &observed.caller_account, &admin, rep).await?,
    };
    if let Some((counts, stopped)) = got.recording {
        let regions = &desired.governed_regions;
        read.coverage.recording =
            Some(sra_core::posture::recording_from_aggregator(&read.coverage.accounts, regions, &counts, &stopped));
    }
    read.coverage.reported = got.reported;
    read.notes.extend(got.notes);
    if let Some(Counts { by_severity, by_account, controls }) = got.counts {
        read.by_severity = by_severity;
        read.by_account = by_account;
        read.controls = controls;
        read.findings = got.findings;
        // The critical accounts' own page, now that they are known.
        if let (Some((c, site)), Some(q)) = (&got.hub, sra_core::posture::critical_query(&read.accounts, &critical)) {
            read.findings.extend(candidate_page(c, site, q).await?);
        }
        let more = sra_core::posture::incomplete(&read);
        read.notes.extend(more);
    }
    Ok(read)
}

/// Region → the accounts with resources in the Config aggregator there.
type Aggregated = BTreeMap<String, BTreeSet<String>>;

/// What Security Tooling tells, in the home region.
struct Tooling {
    /// Region → accounts with resources in the Config aggregator, and the
    /// (account, region) whose recorder is stopped (None: Config not governed, or
    /// no aggregator, with a note).
    recording: Option<(Aggregated, BTreeSet<(String, String)>)>,
    /// None: Security Hub not governed (with a note).
    counts: Option<Counts>,
    findings: Vec<Finding>,
    /// What the services report of their own reach.
    reported: Reported,
    /// Security Hub in Security Tooling's home region, for later reads.
    hub: Option<(Client, Site)>,
    notes: Vec<String>,
}

/// Security Tooling's reads in the home region: the Config aggregator's counts,
/// then (beside them) sra's insights' counts, the queue's candidates and the
/// failing controls' titles. `management`: the caller's account, when known.
async fn tooling(aws: &Aws, desired: &Desired, management: &str, admin: &str, rep: &Reporter) -> Result<Tooling> {
    let mut sessions = Sessions::new(aws.clone(), management.to_string(), desired.access_role.clone());
    sessions.read_role = desired.plan_role.clone();
    let config = sessions.config_now(admin, rep).await?;
    let home = &desired.home_region;
    let site = sessions.site_in(admin, home);
    let mut notes = Vec::new();
    let config_reads = async {
        if !crate::services::delegation::enabled(&desired.services, "config") {
            return Ok(None);
        }
        let client = crate::services::config::client(&config, home);
        config_coverage(&client, &site, &desired.governed_regions).await.map(Some)
    };
    let hub_reads = async {
        if !desired.services.securityhub.enabled {
            return Ok::<_, anyhow::Error>(None);
        }
        let c = Client::new(&crate::aws::in_region(&config, home));
        rep.progress(format!("reading Security Hub's findings in Security Tooling in {home}"));
        let hub = (c.clone(), site.clone());
        let mut notes = Vec::new();
        let queries = sra_core::posture::candidate_queries();
        let (mut counts, findings) = tokio::try_join!(counts(&c, &site, &mut notes), candidates(&c, &site, queries))?;
        counts.controls = titled(&c, &site, std::mem::take(&mut counts.controls)).await?;
        Ok(Some((counts, findings, notes, hub)))
    };
    let reports = async { Ok::<_, anyhow::Error>(reported(&config, desired, &sessions, admin).await) };
    let (recording, hub, (reported, more)) = tokio::try_join!(config_reads, hub_reads, reports)?;
    notes.extend(more);
    let recording = match recording {
        Some(None) => {
            notes.push(format!(
                "the Config aggregator \"{}\" does not exist in Security Tooling in {home}: which accounts record \
                 with Config is not shown (sra apply creates it)",
                crate::services::config::AGGREGATOR
            ));
            None
        }
        Some(Some((counts, stopped, note))) => {
            notes.extend(note);
            Some((counts, stopped))
        }
        None => None,
    };
    let (counts, findings, hub) = match hub {
        Some((counts, findings, more, hub)) => {
            notes.extend(more);
            (Some(counts), findings, Some(hub))
        }
        None => {
            notes.push("Security Hub is off in the plan: no finding is counted".into());
            (None, vec![], None)
        }
    };
    Ok(Tooling { recording, counts, findings, reported, hub, notes })
}

/// Now, as RFC 3339 in UTC.
fn now() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

#[derive(Default)]
struct Counts {
    by_severity: sra_core::posture::Counts,
    by_account: BTreeMap<String, sra_core::posture::Counts>,
    /// The failing controls, most failed first (titles and samples once read).
    controls: Vec<ControlRead>,
}

/// The counts, from sra's insights: one GetInsightResults each. A missing
/// insight is a note (sra apply creates it), never a zero.
async fn counts(c: &Client, site: &Site, notes: &mut Vec<String>) -> Result<Counts> {
    let found: BTreeMap<String, String> =
        read_insights(c, site).await?.into_iter().map(|(arn, i)| (i.name, arn)).collect();
    let wanted: Vec<String> = posture_insights().into_iter().map(|i| i.name).collect();
    let missing: Vec<&String> = wanted.iter().filter(|n| !found.contains_key(*n)).collect();
    if !missing.is_empty() {
        notes.push(format!(
            "the insights {} are missing in Security Tooling: run sra apply, which creates them; what they count is \
             not shown",
            missing.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    let results = futures_util::future::try_join_all(
        wanted.iter().filter_map(|n| found.get(n).map(|arn| (n, arn))).map(|(name, arn)| async move {
            let got = c
                .get_insight_results()
                .insight_arn(arn)
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "GetInsightResults", site, format!("counting \"{name}\"")))?;
            let values: Vec<(String, u64)> = got
                .insight_results()
                .map(|r| {
                    r.result_values()
                        .iter()
                        .map(|v| {
                            let n = u64::try_from(v.count().unwrap_or(0)).unwrap_or(0);
                            (v.group_by_attribute_value().unwrap_or_default().to_string(), n)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok::<_, anyhow::Error>((name.clone(), values))
        }),
    )
    .await?;
    let mut out = Counts::default();
    for (name, values) in results {
        if name == INSIGHT_BY_SEVERITY {
            for (label, n) in values {
                if let Some(s) = Severity::parse(&label) {
                    out.by_severity.insert(s, n);
                }
            }
        } else if name == INSIGHT_FAILED_CONTROLS {
            out.controls =
                values.into_iter().map(|(id, failed)| ControlRead { id, failed, ..Default::default() }).collect();
            out.controls.sort_by(|a, b| b.failed.cmp(&a.failed).then_with(|| a.id.cmp(&b.id)));
        } else if let Some(s) = Severity::ALL.into_iter().find(|s| insight_by_account(s.label()) == name) {
            for (account, n) in values {
                out.by_account.entry(account).or_default().insert(s, n);
            }
        }
    }
    Ok(out)
}

fn filter(values: &[&str]) -> Vec<StringFilter> {
    values
        .iter()
        .map(|v| StringFilter::builder().value(*v).comparison(StringFilterComparison::Equals).build())
        .collect()
}

/// The queue's candidates: one page per query of the core's
/// (`candidate_queries`), side by side, paced at GetFindings' rate.
async fn candidates(c: &Client, site: &Site, queries: Vec<CandidateQuery>) -> Result<Vec<Finding>> {
    let pages = futures_util::future::try_join_all(queries.into_iter().map(|q| candidate_page(c, site, q))).await?;
    Ok(pages.into_iter().flatten().collect())
}

/// One page (100) of active findings matching `q`, the most severe first.
async fn candidate_page(c: &Client, site: &Site, q: CandidateQuery) -> Result<Vec<Finding>> {
    let mut filters = AwsSecurityFindingFilters::builder()
        .set_record_state(Some(filter(&["ACTIVE"])))
        .set_workflow_status(Some(filter(&["NEW", "NOTIFIED"])));
    for (field, how, values) in &q.filters {
        let how = match how {
            Match::Equals => StringFilterComparison::Equals,
            Match::Prefix => StringFilterComparison::Prefix,
        };
        let given: Vec<StringFilter> =
            values.iter().map(|v| StringFilter::builder().value(v).comparison(how.clone()).build()).collect();
        filters = match *field {
            "ProductName" => filters.set_product_name(Some(given)),
            "Type" => filters.set_type(Some(given)),
            "VulnerabilitiesExploitAvailable" => filters.set_vulnerabilities_exploit_available(Some(given)),
            "AwsAccountId" => filters.set_aws_account_id(Some(given)),
            other => anyhow::bail!("sra cannot filter findings by {other} (a defect in sra: please report it)"),
        };
    }
    let sort = SortCriterion::builder().field("SeverityNormalized").sort_order(SortOrder::Descending).build();
    let out = c
        .get_findings()
        .filters(filters.build())
        .sort_criteria(sort)
        .max_results(CANDIDATES)
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "GetFindings", site, q.purpose.clone()))?;
    Ok(out.findings().iter().filter_map(finding_of).collect())
}

/// A finding as the queue ranks it; None without a severity label it knows.
fn finding_of(f: &AwsSecurityFinding) -> Option<Finding> {
    let severity = Severity::parse(f.severity()?.label()?.as_str())?;
    let product = f.product_name().unwrap_or_default().to_string();
    let exploit = f.vulnerabilities().iter().any(|v| v.exploit_available().is_some_and(|e| e.as_str() == "YES"));
    let title = f.title().unwrap_or_default().to_string();
    Some(Finding {
        id: f.id().unwrap_or_default().to_string(),
        severity,
        kind: Kind::of(&product, f.types(), &title, exploit),
        account_id: f.aws_account_id().unwrap_or_default().to_string(),
        region: f.region().unwrap_or_default().to_string(),
        product,
        title,
        resource: f.resources().first().and_then(|r| r.id()).unwrap_or_default().to_string(),
        first_seen: f.first_observed_at().or(f.created_at()).unwrap_or_default().to_string(),
    })
}

/// The most failed controls with their titles (one BatchGetSecurityControls)
/// and, for each, one page of its failed findings (GetFindings, side by side,
/// paced at GetFindings' rate): the accounts and Regions they are in.
async fn titled(c: &Client, site: &Site, controls: Vec<ControlRead>) -> Result<Vec<ControlRead>> {
    let mut top: Vec<ControlRead> = controls.into_iter().take(sra_core::posture::CONTROLS).collect();
    if top.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = top.iter().map(|c| c.id.clone()).collect();
    let titles = async {
        let got = c.batch_get_security_controls().set_security_control_ids(Some(ids)).send().await.map_err(|e| {
            call_error(e, SVC, "BatchGetSecurityControls", site, "reading the failing controls' titles")
        })?;
        Ok::<_, anyhow::Error>(
            got.security_controls()
                .iter()
                .map(|c| {
                    (c.security_control_id().unwrap_or_default().to_string(), c.title().unwrap_or_default().to_string())
                })
                .collect::<BTreeMap<String, String>>(),
        )
    };
    let samples = futures_util::future::try_join_all(top.iter().map(|control| async move {
        let filters = AwsSecurityFindingFilters::builder()
            .set_record_state(Some(filter(&["ACTIVE"])))
            .set_workflow_status(Some(filter(&["NEW", "NOTIFIED"])))
            .set_compliance_status(Some(filter(&["FAILED"])))
            .set_compliance_security_control_id(Some(filter(&[control.id.as_str()])))
            .build();
        let out = c
            .get_findings()
            .filters(filters)
            .max_results(CANDIDATES)
            .send()
            .await
            .map_err(|e| call_error(e, SVC, "GetFindings", site, format!("reading where {} fails", control.id)))?;
        let sample: Vec<(String, String)> = out
            .findings()
            .iter()
            .map(|f| (f.aws_account_id().unwrap_or_default().to_string(), f.region().unwrap_or_default().to_string()))
            .collect();
        Ok::<_, anyhow::Error>((sample, out.next_token().is_none_or(str::is_empty)))
    }));
    let (titles, samples) = tokio::try_join!(titles, samples)?;
    for (control, (sample, complete)) in top.iter_mut().zip(samples) {
        control.title = titles.get(&control.id).cloned().unwrap_or_default();
        control.sample = sample;
        control.complete = complete;
    }
    Ok(top)
}

/// Region → the accounts with at least one resource in the organization's Config
/// aggregator there (GetAggregateDiscoveredResourceCounts grouped by account, up
/// to 1,000 accounts a page, one listing per region, side by side); None when
/// the aggregator does not exist.
async fn aggregated(c: &aws_sdk_config::Client, site: &Site, regions: &[String]) -> Result<Option<Aggregated>> {
    use aws_sdk_config::types::{ResourceCountFilters, ResourceCountGroupKey};
    let read = futures_util::future::try_join_all(regions.iter().map(|region| async move {
        let mut accounts = std::collections::BTreeSet::new();
        let pages = c
            .get_aggregate_discovered_resource_counts()
            .configuration_aggregator_name(crate::services::config::AGGREGATOR)
            .filters(ResourceCountFilters::builder().region(region).build())
            .group_by_key(ResourceCountGroupKey::AccountId)
            .limit(1000)
            .into_paginator()
            .send();
        let listed = crate::aws::each_page(pages, |p| {
            accounts.extend(
                p.grouped_resource_counts()
                    .iter()
                    .filter(|g| g.resource_count() > 0)
                    .map(|g| g.group_name().to_string()),
            )
        })
        .await;
        match listed {
            Ok(()) => Ok(Some((region.clone(), accounts))),
            Err(e) if crate::aws::error_code(&e) == Some("NoSuchConfigurationAggregatorException") => Ok(None),
            Err(e) => Err(call_error(
                e,
                "config",
                "GetAggregateDiscoveredResourceCounts",
                site,
                format!("reading which accounts the Config aggregator has resources of in {region}"),
            )),
        }
    }))
    .await?;
    Ok(read.into_iter().collect::<Option<BTreeMap<_, _>>>())
}

/// What GuardDuty, Inspector and Config report of their own reach, read in
/// Security Tooling beside the counts: GuardDuty's organization statistics and
/// Inspector's coverage statistics in each governed region, and the Config
/// aggregator's sources that are not up to date (home region). A report that
/// cannot be read is a note, never an error: the rest of the document stands.
async fn reported(
    config: &aws_config::SdkConfig,
    desired: &Desired,
    sessions: &Sessions,
    admin: &str,
) -> (Reported, Vec<String>) {
    let services = &desired.services;
    let regions = &desired.governed_regions;
    let guardduty = async {
        if !services.guardduty.enabled {
            return vec![];
        }
        futures_util::future::join_all(regions.iter().map(|region| async move {
            let site = sessions.site_in(admin, region);
            let c = aws_sdk_guardduty::Client::new(&crate::aws::in_region(config, region));
            let got = c.get_organization_statistics().send().await.map_err(|e| {
                call_error(e, "guardduty", "GetOrganizationStatistics", &site, "reading GuardDuty's own coverage")
            });
            (region.clone(), got.map(|o| statistics_of(o.organization_details())).map_err(anyhow::Error::from))
        }))
        .await
    };
    let inspector = async {
        if !services.inspector.enabled {
            return vec![];
        }
        futures_util::future::join_all(regions.iter().map(|region| async move {
            let site = sessions.site_in(admin, region);
            let c = aws_sdk_inspector2::Client::new(&crate::aws::in_region(config, region));
            (region.clone(), inspector_coverage(&c, &site).await)
        }))
        .await
    };
    let sources = async {
        if !crate::services::delegation::enabled(services, "config") {
            return Ok(None);
        }
        let home = &desired.home_region;
        let site = sessions.site_in(admin, home);
        let c = crate::services::config::client(config, home);
        stale_sources(&c, &site).await
    };
    let (guardduty, inspector, sources) = tokio::join!(guardduty, inspector, sources);
    let mut out = Reported::default();
    let mut notes = Vec::new();
    let mut unread = |what: &str, region: &str, e: anyhow::Error| {
        notes.push(format!("{what} in {region} could not be read, and is not shown: {e:#}"));
    };
    for (region, got) in guardduty {
        match got {
            Ok(stats) => {
                out.guardduty.insert(region, stats);
            }
            Err(e) => unread("GuardDuty's organization statistics", &region, e),
        }
    }
    for (region, got) in inspector {
        match got {
            Ok(coverage) => {
                out.inspector.insert(region, coverage);
            }
            Err(e) => unread("Inspector's coverage", &region, e),
        }
    }
    match sources {
        Ok(Some(sources)) => out.config_sources = sources,
        Ok(None) => {}
        Err(e) => unread("The Config aggregator's source status", &desired.home_region, e),
    }
    (out, notes)
}

fn statistics_of(details: Option<&aws_sdk_guardduty::types::OrganizationDetails>) -> GuardDutyStatistics {
    let count = |n: Option<i32>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
    let stats = details.and_then(|d| d.organization_statistics());
    GuardDutyStatistics {
        accounts: count(stats.and_then(|s| s.total_accounts_count())),
        members: count(stats.and_then(|s| s.member_accounts_count())),
        enabled: count(stats.and_then(|s| s.enabled_accounts_count())),
        features: stats
            .map(|s| s.count_by_feature())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| Some((f.name()?.as_str().to_string(), count(f.enabled_accounts_count()))))
            .collect(),
        updated_at: details.and_then(|d| d.updated_at()).map(|t| t.to_string()).unwrap_or_default(),
    }
}

/// Inspector's coverage in one region, from ListCoverageStatistics: resources by
/// scan status, and those it should and does not scan (INACTIVE, for a reason
/// that is a blind spot: core `INSPECTOR_NOT_BLIND` says which are not) by
/// account and by reason, 5 groups a page.
async fn inspector_coverage(c: &aws_sdk_inspector2::Client, site: &Site) -> Result<InspectorCoverage> {
    use aws_sdk_inspector2::types::{CoverageFilterCriteria, CoverageStringComparison, CoverageStringFilter, GroupKey};
    let blind = || -> Result<CoverageFilterCriteria> {
        let inactive =
            CoverageStringFilter::builder().comparison(CoverageStringComparison::Equals).value("INACTIVE").build()?;
        let not_blind = sra_core::posture::INSPECTOR_NOT_BLIND
            .iter()
            .map(|r| CoverageStringFilter::builder().comparison(CoverageStringComparison::NotEquals).value(*r).build())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CoverageFilterCriteria::builder().scan_status_code(inactive).set_scan_status_reason(Some(not_blind)).build())
    };
    let grouped = |key: GroupKey, filter: Option<CoverageFilterCriteria>| async move {
        let mut counts = BTreeMap::new();
        let pages =
            c.list_coverage_statistics().group_by(key.clone()).set_filter_criteria(filter).into_paginator().send();
        crate::aws::each_page(pages, |p| {
            for g in p.counts_by_group() {
                let key = g.group_key().map(|k| k.as_str().to_string()).unwrap_or_default();
                *counts.entry(key).or_insert(0u64) += u64::try_from(g.count()).unwrap_or(0);
            }
        })
        .await
        .map_err(|e| {
            call_error(
                e,
                "inspector2",
                "ListCoverageStatistics",
                site,
                format!("reading Inspector's coverage by {key}"),
            )
        })?;
        Ok::<_, anyhow::Error>(counts)
    };
    let (by_status, unscanned, reasons) = tokio::try_join!(
        grouped(GroupKey::ScanStatusCode, None),
        grouped(GroupKey::AccountId, Some(blind()?)),
        grouped(GroupKey::ScanStatusReason, Some(blind()?)),
    )?;
    let scanned = by_status.get("ACTIVE").copied().unwrap_or(0);
    let total = scanned + unscanned.values().sum::<u64>();
    Ok(InspectorCoverage { scanned, total, unscanned, reasons })
}

/// The Config aggregator's sources that are FAILED or OUTDATED, by region (100
/// a page); None when the aggregator does not exist (the counts' read says so).
async fn stale_sources(
    c: &aws_sdk_config::Client,
    site: &Site,
) -> Result<Option<BTreeMap<String, Vec<sra_core::posture::SourceStatus>>>> {
    use aws_sdk_config::types::{AggregatedSourceStatusType, AggregatedSourceType};
    let mut out: BTreeMap<String, Vec<sra_core::posture::SourceStatus>> = BTreeMap::new();
    let pages = c
        .describe_configuration_aggregator_sources_status()
        .configuration_aggregator_name(crate::services::config::AGGREGATOR)
        .update_status(AggregatedSourceStatusType::Failed)
        .update_status(AggregatedSourceStatusType::Outdated)
        .into_paginator()
        .send();
    let listed = crate::aws::each_page(pages, |p| {
        for s in p.aggregated_source_status_list() {
            let error = [s.last_error_code(), s.last_error_message()].into_iter().flatten().collect::<Vec<_>>();
            out.entry(s.aws_region().unwrap_or_default().to_string()).or_default().push(
                sra_core::posture::SourceStatus {
                    source_id: s.source_id().unwrap_or_default().to_string(),
                    organization: s.source_type() == Some(&AggregatedSourceType::Organization),
                    status: s.last_update_status().map(|v| v.as_str().to_string()).unwrap_or_default(),
                    error: error.join(": "),
                },
            );
        }
    })
    .await;
    match listed {
        Ok(()) => Ok(Some(out)),
        Err(e) if crate::aws::error_code(&e) == Some("NoSuchConfigurationAggregatorException") => Ok(None),
        Err(e) => Err(call_error(
            e,
            "config",
            "DescribeConfigurationAggregatorSourcesStatus",
            site,
            "reading which of the Config aggregator's sources are not up to date",
        )
        .into()),
    }
}

/// Config's coverage from the organization aggregator: the accounts with
/// resources per region and the stopped recorders, read side by side; None when
/// the aggregator does not exist. Which recorders are stopped is evidence beside
/// the counts: a query that fails is a note (the third value), and the counts
/// still stand.
async fn config_coverage(
    c: &aws_sdk_config::Client,
    site: &Site,
    regions: &[String],
) -> Result<Option<(Aggregated, BTreeSet<(String, String)>, Option<String>)>> {
    let (counts, stopped) = tokio::join!(aggregated(c, site, regions), stopped_recorders(c, site));
    let Some(counts) = counts? else { return Ok(None) };
    Ok(Some(match stopped {
        Ok(stopped) => (counts, stopped.unwrap_or_default(), None),
        Err(e) => {
            let note = format!(
                "which Config recorders are stopped could not be read, so a stopped recorder is not shown as a blind \
                 spot: {e:#}"
            );
            (counts, BTreeSet::new(), Some(note))
        }
    }))
}

/// The (account, region) whose Config recorder is not recording, from the
/// recorders' own configuration items in the organization aggregator (Config
/// records AWS::Config::ConfigurationRecorder, with `configuration.Recording`,
/// and keeps what a stopped recorder recorded): one advanced query, 100 rows a
/// page, of the stopped ones only. None when the aggregator does not exist.
async fn stopped_recorders(c: &aws_sdk_config::Client, site: &Site) -> Result<Option<BTreeSet<(String, String)>>> {
    let mut out = BTreeSet::new();
    let mut bad = None;
    let pages = c
        .select_aggregate_resource_config()
        .configuration_aggregator_name(crate::services::config::AGGREGATOR)
        .expression(STOPPED_RECORDERS)
        .limit(100)
        .into_paginator()
        .send();
    let listed = crate::aws::each_page(pages, |p| {
        for row in p.results() {
            match stopped_row(row) {
                Some(key) => {
                    out.insert(key);
                }
                None => bad = Some(row.clone()),
            }
        }
    })
    .await;
    match listed {
        Ok(()) => match bad {
            None => Ok(Some(out)),
            Some(row) => Err(anyhow::anyhow!(
                "config:SelectAggregateResourceConfig answered a row sra cannot read (account {}, region {}): {row}",
                site.account,
                site.region
            )),
        },
        Err(e) if crate::aws::error_code(&e) == Some("NoSuchConfigurationAggregatorException") => Ok(None),
        Err(e) => Err(call_error(
            e,
            "config",
            "SelectAggregateResourceConfig",
            site,
            "reading which accounts' Config recorders are stopped",
        )
        .into()),
    }
}

/// The advanced query for stopped recorders.
const STOPPED_RECORDERS: &str = "SELECT accountId, awsRegion, configuration.Recording \
     WHERE resourceType = 'AWS::Config::ConfigurationRecorder' AND configuration.Recording = false";

/// (account, region) of one result row: `{"accountId": .., "awsRegion": ..,
/// "configuration": {"Recording": false}}`.
fn stopped_row(row: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(row).ok()?;
    Some((v.get("accountId")?.as_str()?.to_string(), v.get("awsRegion")?.as_str()?.to_string()))
}
