//! Security Hub's SDK calls: the administrators (management account), Security
//! Tooling's hub, standards, finding aggregator, organization configuration and
//! members. The per-region loop, delegation, waits and coverage are `regional`'s;
//! the settings diff is the core's (`sra_core::services::securityhub`).

use std::collections::BTreeSet;

use anyhow::Result;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AccountDetails, AssociationFilters, AssociationType, AutoEnableStandards, AwsSecurityFindingFilters,
    OrganizationConfiguration, OrganizationConfigurationConfigurationType, Policy as PolicyDocument,
    SecurityControlsConfiguration, SecurityHubPolicy, StringFilter, StringFilterComparison, Target, TargetType,
};

use crate::aws::{Failure, Site, call_error, done_if_exists, error_code, hinted};
use crate::services::regional::{AdminCalls, Io};

pub use sra_core::services::securityhub::*;

const SVC: &str = "securityhub";

impl Io for SecurityHub {
    const CALLS: AdminCalls = AdminCalls::organization("Security Hub", SVC);
    type Client = Client;

    fn client(config: &aws_config::SdkConfig, region: &str) -> Client {
        Client::new(&crate::aws::in_region(config, region))
    }

    async fn list_admins(c: &Client) -> Result<Vec<String>, Failure> {
        let pages: Vec<_> = c.list_organization_admin_accounts().into_paginator().send().try_collect().await?;
        Ok(pages.iter().flat_map(|p| p.admin_accounts()).filter_map(|a| a.account_id().map(str::to_string)).collect())
    }

    async fn enable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.enable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    async fn disable_admin_call(c: &Client, account: &str) -> Result<(), Failure> {
        c.disable_organization_admin_account().admin_account_id(account).send().await?;
        Ok(())
    }

    async fn read_own(c: &Client, site: &Site) -> Result<Settings> {
        Ok(Settings { hub: hub_on(c, site, "reading Security Tooling's hub").await?, ..Default::default() })
    }

    /// The management account's hub: its administrator cannot enable Security Hub
    /// there (API reference, CreateMembers).
    async fn read_management(c: &Client, site: &Site) -> Result<Option<bool>> {
        hub_on(c, site, "reading the management account's hub").await.map(Some)
    }

    fn in_management(op: &ShOp) -> bool {
        matches!(op, ShOp::EnableHubInManagement)
    }

    fn members_listable(own: &Settings) -> bool {
        own.hub
    }

    /// The finding aggregator, and the organization's configuration when
    /// Security Tooling administers it here; under central configuration, in the
    /// home region (the aggregator's), sra's policy and the root's association.
    async fn read_settings(c: &Client, site: &Site, own: Settings, is_admin: bool) -> Result<Settings> {
        if !own.hub {
            return Ok(own);
        }
        let aggregator =
            async {
                let aggs = c.list_finding_aggregators().send().await.map_err(|e| {
                    call_error(e, SVC, "ListFindingAggregators", site, "finding the finding aggregator")
                })?;
                let Some(arn) = aggs.finding_aggregators().first().and_then(|a| a.finding_aggregator_arn()) else {
                    return Ok::<_, anyhow::Error>(None);
                };
                let got =
                    c.get_finding_aggregator().finding_aggregator_arn(arn).send().await.map_err(|e| {
                        call_error(e, SVC, "GetFindingAggregator", site, "reading the finding aggregator")
                    })?;
                Ok(Some((arn.to_string(), got.regions().to_vec())))
            };
        let central = async {
            if !is_admin {
                return Ok::<_, anyhow::Error>(None);
            }
            let conf = c.describe_organization_configuration().send().await.map_err(|e| {
                call_error(
                    e,
                    SVC,
                    "DescribeOrganizationConfiguration",
                    site,
                    "reading Security Hub's organization settings",
                )
            })?;
            Ok(Some(
                conf.organization_configuration()
                    .and_then(|o| o.configuration_type())
                    .is_some_and(|t| t.as_str() == "CENTRAL"),
            ))
        };
        let (aggregator, central) = tokio::try_join!(aggregator, central)?;
        let mut out = Settings { aggregator, org_read: central.is_some(), central: central == Some(true), ..own };
        // The home region is the aggregator's (its ARN names it); policies are
        // read and written there only.
        let home = out.aggregator.as_ref().is_some_and(|(arn, _)| arn.split(':').nth(3) == Some(site.region.as_str()));
        let policies = async {
            if out.central && home {
                tokio::try_join!(read_policy(c, site), read_root_policy(c, site))
            } else {
                Ok((None, None))
            }
        };
        // `sra posture`'s insights, in the home region, once Security Tooling administers it.
        let insights = async { if home && out.org_read { read_insights(c, site).await } else { Ok(vec![]) } };
        let ((policy, root), insights) = tokio::try_join!(policies, insights)?;
        (out.policy, out.root_policy, out.insights) = (policy, root, insights);
        Ok(out)
    }

    /// Every page (50 a page).
    async fn read_members(c: &Client, site: &Site, _: &Settings, _: &[String]) -> Result<BTreeSet<String>> {
        let mut ids = BTreeSet::new();
        let pages = c.list_members().max_results(MEMBERS_PAGE).only_associated(false).into_paginator().send();
        // Covered means enabled: an invited, disassociated or suspended member
        // is listed but not covered (API reference, Member.MemberStatus).
        let enabled = |m: &&aws_sdk_securityhub::types::Member| {
            m.member_status().is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
        };
        crate::aws::each_page(pages, |p| {
            ids.extend(p.members().iter().filter(enabled).filter_map(|m| m.account_id().map(str::to_string)))
        })
        .await
        .map_err(|e| call_error(e, SVC, "ListMembers", site, "reading which accounts Security Hub covers"))?;
        Ok(ids)
    }

    /// In batches of 50.
    async fn enroll(c: &Client, site: &Site, accounts: &[(String, String)], _: &[String]) -> Result<()> {
        let region = &site.region;
        for batch in accounts.chunks(MEMBERS_PER_CALL) {
            let details: Vec<AccountDetails> =
                batch.iter().map(|(id, email)| AccountDetails::builder().account_id(id).email(email).build()).collect();
            let out = c
                .create_members()
                .set_account_details(Some(details))
                .send()
                .await
                .map_err(|e| call_error(e, SVC, "CreateMembers", site, "enrolling accounts in Security Hub"))?;
            if let Some(u) = out.unprocessed_accounts().first() {
                return Err(hinted(
                    format!(
                        "Security Hub did not enroll {} ({}) in {region}",
                        u.account_id().unwrap_or_default(),
                        u.processing_result().unwrap_or_default()
                    ),
                    "check that the account is an active member of the organization, then rerun",
                ));
            }
        }
        Ok(())
    }

    async fn run(c: &Client, site: &Site, op: &ShOp) -> Result<()> {
        let region = &site.region;
        match op {
            ShOp::EnableHub => {
                let sent = c.enable_security_hub().enable_default_standards(false).send().await;
                done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                    call_error(e, SVC, "EnableSecurityHub", site, "enabling Security Hub in Security Tooling")
                })?;
            }
            // With the default standards, as every member gets them when enrolled
            // (API reference, CreateMembers).
            ShOp::EnableHubInManagement => {
                let sent = c.enable_security_hub().enable_default_standards(true).send().await;
                done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                    call_error(e, SVC, "EnableSecurityHub", site, "enabling Security Hub in the management account")
                })?;
            }
            ShOp::StartCentralConfiguration => {
                let central = OrganizationConfiguration::builder()
                    .configuration_type(OrganizationConfigurationConfigurationType::Central)
                    .build();
                c.update_organization_configuration()
                    .auto_enable(false)
                    .auto_enable_standards(AutoEnableStandards::None)
                    .organization_configuration(central)
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "UpdateOrganizationConfiguration", site, "starting central configuration")
                    })?;
            }
            ShOp::CreateConfigurationPolicy { name, standards } => {
                let sent = c
                    .create_configuration_policy()
                    .name(name)
                    .description("Security Hub and the plan's standards in every account and governed Region (sra)")
                    .configuration_policy(policy_document(region, standards))
                    .send()
                    .await;
                // A rerun after a kill finds it made: the plan then updates it.
                done_if_exists(sent, &["ResourceConflictException"]).map_err(|e| {
                    call_error(e, SVC, "CreateConfigurationPolicy", site, "creating the configuration policy")
                })?;
            }
            ShOp::UpdateConfigurationPolicy { id, standards } => {
                c.update_configuration_policy()
                    .identifier(id)
                    .configuration_policy(policy_document(region, standards))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "UpdateConfigurationPolicy", site, "updating the configuration policy")
                    })?;
            }
            ShOp::AssociateWithRoot { root, policy } => {
                let sra_core::engine::plan::IdRef::Known(root) = root else {
                    anyhow::bail!("internal error: {root} was not resolved before associating the policy");
                };
                let id = policy_id(c, site, policy).await?.ok_or_else(|| {
                    hinted(
                        format!("the configuration policy \"{policy}\" does not exist in {region}"),
                        "rerun sra apply",
                    )
                })?;
                c.start_configuration_policy_association()
                    .configuration_policy_identifier(id)
                    .target(Target::RootId(root.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(
                            e,
                            SVC,
                            "StartConfigurationPolicyAssociation",
                            site,
                            "associating the configuration policy with the root",
                        )
                    })?;
            }
            ShOp::CreateFindingAggregator { regions } => {
                c.create_finding_aggregator()
                    .region_linking_mode(linking(regions))
                    .set_regions((!regions.is_empty()).then(|| regions.clone()))
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "CreateFindingAggregator", site, "aggregating findings in the home region")
                    })?;
            }
            ShOp::CreateInsight { insight } => {
                // A rerun after a kill, or an insight of that name someone made:
                // adopted, set to exactly this.
                let existing = read_insights(c, site).await?.into_iter().find(|(_, i)| i.name == insight.name);
                match existing {
                    Some((arn, _)) => update_insight(c, site, &arn, insight).await?,
                    None => {
                        c.create_insight()
                            .name(&insight.name)
                            .group_by_attribute(&insight.group_by)
                            .filters(filters_of(insight)?)
                            .send()
                            .await
                            .map_err(|e| call_error(e, SVC, "CreateInsight", site, "creating sra posture's insight"))?;
                    }
                }
            }
            ShOp::UpdateInsight { arn, insight } => update_insight(c, site, arn, insight).await?,
            ShOp::UpdateFindingAggregator { arn, regions } => {
                c.update_finding_aggregator()
                    .finding_aggregator_arn(arn)
                    .region_linking_mode(linking(regions))
                    .set_regions((!regions.is_empty()).then(|| regions.clone()))
                    .send()
                    .await
                    .map_err(|e| call_error(e, SVC, "UpdateFindingAggregator", site, "linking the governed regions"))?;
            }
        }
        Ok(())
    }
}

/// Whether the account the client speaks for has Security Hub on.
async fn hub_on(c: &Client, site: &Site, purpose: &str) -> Result<bool> {
    match c.describe_hub().send().await {
        Ok(_) => Ok(true),
        Err(e) if matches!(error_code(&e), Some("InvalidAccessException" | "ResourceNotFoundException")) => Ok(false),
        Err(e) => Err(call_error(e, SVC, "DescribeHub", site, purpose).into()),
    }
}

/// `<name>/v/<version>` of a standards ARN.
fn suffix_of(arn: &str) -> String {
    arn.split_once(":standards/").map(|(_, s)| s.to_string()).unwrap_or_else(|| arn.to_string())
}

/// The aggregator's linking mode: the listed regions, or none (central
/// configuration needs the aggregator even with one governed region).
fn linking(regions: &[String]) -> &'static str {
    if regions.is_empty() { "NO_REGIONS" } else { "SPECIFIED_REGIONS" }
}

/// A configuration policy: Security Hub on, exactly these standards (ARNs in the
/// home region), controls as each standard has them.
fn policy_document(region: &str, standards: &[String]) -> PolicyDocument {
    let partition = crate::aws::partition_of(region);
    let arns: Vec<String> =
        standards.iter().map(|s| format!("arn:{partition}:securityhub:{region}::standards/{s}")).collect();
    let controls =
        SecurityControlsConfiguration::builder().set_disabled_security_control_identifiers(Some(vec![])).build();
    PolicyDocument::SecurityHub(
        SecurityHubPolicy::builder()
            .service_enabled(true)
            .set_enabled_standard_identifiers(Some(arns))
            .security_controls_configuration(controls)
            .build(),
    )
}

/// The id of the policy named `name` (ListConfigurationPolicies, every page).
async fn policy_id(c: &Client, site: &Site, name: &str) -> Result<Option<String>> {
    let mut found: Option<String> = None;
    let pages = c.list_configuration_policies().into_paginator().send();
    crate::aws::each_page(pages, |p| {
        if found.is_none() {
            let named = p.configuration_policy_summaries().iter().find(|s| s.name() == Some(name));
            found = named.and_then(|s| s.id()).map(str::to_string);
        }
    })
    .await
    .map_err(|e| call_error(e, SVC, "ListConfigurationPolicies", site, "finding sra's configuration policy"))?;
    Ok(found)
}

async fn read_policy(c: &Client, site: &Site) -> Result<Option<Policy>> {
    let Some(id) = policy_id(c, site, POLICY).await? else { return Ok(None) };
    let got = c
        .get_configuration_policy()
        .identifier(&id)
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "GetConfigurationPolicy", site, "reading sra's configuration policy"))?;
    let hub = got.configuration_policy().and_then(|p| p.as_security_hub().ok());
    Ok(Some(Policy {
        id,
        service_enabled: hub.and_then(|h| h.service_enabled()).unwrap_or(false),
        standards: hub
            .map(|h| h.enabled_standard_identifiers().iter().map(|a| suffix_of(a)).collect())
            .unwrap_or_default(),
    }))
}

/// The policy applied to the root (its id, or SELF_MANAGED_SECURITY_HUB).
async fn read_root_policy(c: &Client, site: &Site) -> Result<Option<String>> {
    let mut found = None;
    let filters = AssociationFilters::builder().association_type(AssociationType::Applied).build();
    let pages = c.list_configuration_policy_associations().filters(filters).into_paginator().send();
    crate::aws::each_page(pages, |p| {
        for a in p.configuration_policy_association_summaries() {
            if a.target_type() == Some(&TargetType::Root) {
                found = a.configuration_policy_id().map(str::to_string);
            }
        }
    })
    .await
    .map_err(|e| {
        call_error(e, SVC, "ListConfigurationPolicyAssociations", site, "reading the root's configuration policy")
    })?;
    Ok(found)
}

/// The filter fields sra's insights use, in the order [`Insight::filters`] keeps
/// them (others are read too, so that a filter someone added shows as drift).
const FILTER_FIELDS: [&str; 8] = [
    "RecordState",
    "WorkflowStatus",
    "SeverityLabel",
    "ComplianceStatus",
    "AwsAccountId",
    "Region",
    "ProductName",
    "ComplianceSecurityControlId",
];

fn string_filters<'a>(f: &'a AwsSecurityFindingFilters, field: &str) -> &'a [StringFilter] {
    match field {
        "RecordState" => f.record_state(),
        "WorkflowStatus" => f.workflow_status(),
        "SeverityLabel" => f.severity_label(),
        "ComplianceStatus" => f.compliance_status(),
        "AwsAccountId" => f.aws_account_id(),
        "Region" => f.region(),
        "ProductName" => f.product_name(),
        "ComplianceSecurityControlId" => f.compliance_security_control_id(),
        _ => &[],
    }
}

/// An insight's filters as the core compares them: each field's values, EQUALS
/// shown bare and any other comparison named (`NOT_EQUALS ACTIVE`).
fn insight_of(i: &aws_sdk_securityhub::types::Insight) -> Insight {
    let filters = i.filters().map(|f| {
        FILTER_FIELDS
            .iter()
            .filter_map(|field| {
                let values: Vec<String> = string_filters(f, field)
                    .iter()
                    .map(|s| match s.comparison().map(|c| c.as_str()) {
                        Some("EQUALS") | None => s.value().unwrap_or_default().to_string(),
                        Some(other) => format!("{other} {}", s.value().unwrap_or_default()),
                    })
                    .collect();
                (!values.is_empty()).then(|| (field.to_string(), values))
            })
            .collect()
    });
    Insight {
        name: i.name().unwrap_or_default().to_string(),
        group_by: i.group_by_attribute().unwrap_or_default().to_string(),
        filters: filters.unwrap_or_default(),
    }
}

/// The request's filters for an insight: every value EQUALS.
fn filters_of(insight: &Insight) -> Result<AwsSecurityFindingFilters> {
    let mut b = AwsSecurityFindingFilters::builder();
    for (field, values) in &insight.filters {
        let list: Vec<StringFilter> = values
            .iter()
            .map(|v| StringFilter::builder().value(v).comparison(StringFilterComparison::Equals).build())
            .collect();
        b = match field.as_str() {
            "RecordState" => b.set_record_state(Some(list)),
            "WorkflowStatus" => b.set_workflow_status(Some(list)),
            "SeverityLabel" => b.set_severity_label(Some(list)),
            "ComplianceStatus" => b.set_compliance_status(Some(list)),
            "AwsAccountId" => b.set_aws_account_id(Some(list)),
            "Region" => b.set_region(Some(list)),
            "ProductName" => b.set_product_name(Some(list)),
            "ComplianceSecurityControlId" => b.set_compliance_security_control_id(Some(list)),
            other => anyhow::bail!("internal error: no insight filter field {other}"),
        };
    }
    Ok(b.build())
}

/// Security Tooling's custom insights here (GetInsights, every page): (ARN, insight).
pub(crate) async fn read_insights(c: &Client, site: &Site) -> Result<Vec<(String, Insight)>> {
    let mut out = Vec::new();
    let pages = c.get_insights().max_results(100).into_paginator().send();
    crate::aws::each_page(pages, |p| {
        out.extend(p.insights().iter().map(|i| (i.insight_arn().unwrap_or_default().to_string(), insight_of(i))));
    })
    .await
    .map_err(|e| call_error(e, SVC, "GetInsights", site, "reading sra posture's insights"))?;
    Ok(out)
}

async fn update_insight(c: &Client, site: &Site, arn: &str, insight: &Insight) -> Result<()> {
    c.update_insight()
        .insight_arn(arn)
        .name(&insight.name)
        .group_by_attribute(&insight.group_by)
        .filters(filters_of(insight)?)
        .send()
        .await
        .map_err(|e| call_error(e, SVC, "UpdateInsight", site, "updating sra posture's insight"))?;
    Ok(())
}
