//! AWS Config: a recorder of every supported resource in Security Tooling and Log
//! Archive in every governed region (global resources in the home region only),
//! delivering to the log bucket encrypted with the trail's key; and, in Security
//! Tooling (Config's delegated administrator), an organization aggregator over the
//! governed regions. `diff` is pure.
//!
//! An existing recorder or delivery channel (Config allows one of each per account
//! and region, e.g. Control Tower's) is adopted under its own name, never replaced.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;

use crate::aws::{Sessions, Site, call_error, done_if_exists, error_code};
use crate::engine::plan::{Action, Address, Change, Property, Step};
use crate::model::AccountRole;
use crate::report::Reporter;
use crate::services::log_archive::Ids;

const SVC: &str = "config";
pub const SERVICE: &str = "config";
pub const RECORDER: &str = "default";
pub const AGGREGATOR: &str = "sra-organization";
/// The role the aggregator reads the organization with, in Security Tooling.
pub const AGGREGATOR_ROLE: &str = "sra-config-aggregator";

/// The accounts sra records in.
pub const RECORDED: [AccountRole; 2] = [AccountRole::SecurityTooling, AccountRole::LogArchive];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecorderState {
    /// (name, all supported, include global resource types)
    pub recorder: Option<(String, bool, bool)>,
    pub recording: bool,
    /// (name, bucket, KMS key ARN)
    pub channel: Option<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AggregatorState {
    /// Regions aggregated, sorted; "all" when it aggregates every region.
    pub regions: Vec<String>,
    pub role_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedConfig {
    pub recorders: BTreeMap<(AccountRole, String), RecorderState>,
    pub aggregator: Option<AggregatorState>,
    /// Whether the aggregator's role exists in Security Tooling.
    pub aggregator_role: bool,
}

/// What a recorder step writes; names are those found, or sra's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfOp {
    PutRecorder { name: String, include_global: bool },
    PutDeliveryChannel { name: String },
    StartRecorder { name: String },
    PutAggregatorRole,
    PutAggregator { regions: Vec<String> },
}

pub fn diff(
    enabled: bool,
    recorders: bool,
    regions: &[String],
    ids: &Ids,
    bucket: &str,
    have: &ObservedConfig,
) -> Vec<Change> {
    let mut changes = Vec::new();
    if !enabled {
        return changes;
    }
    if recorders {
        for account in RECORDED {
            for region in regions {
                let state = have.recorders.get(&(account, region.clone())).cloned().unwrap_or_default();
                changes.push(recorder_change(account, region, region == &ids.home_region, ids, bucket, &state));
            }
        }
    }
    changes.push(aggregator_change(regions, &ids.home_region, have));
    changes
}

fn recorder_change(
    account: AccountRole,
    region: &str,
    home: bool,
    ids: &Ids,
    bucket: &str,
    state: &RecorderState,
) -> Change {
    let step = |op| Step::Config { account, region: region.to_string(), op };
    let globals = |b: bool| if b { "included" } else { "excluded (recorded in the home region)" }.to_string();
    let recorder_name = state.recorder.as_ref().map(|r| r.0.clone()).unwrap_or_else(|| RECORDER.into());
    let channel_name = state.channel.as_ref().map(|c| c.0.clone()).unwrap_or_else(|| RECORDER.into());
    let props = vec![
        Property {
            name: "recording_group".into(),
            before: state.recorder.as_ref().map(|r| if r.1 { "all supported" } else { "selected types" }.into()),
            after: Some("all supported".into()),
        },
        Property {
            name: "global_resources".into(),
            before: state.recorder.as_ref().map(|r| globals(r.2)),
            after: Some(globals(home)),
        },
        Property {
            name: "delivery_bucket".into(),
            before: state.channel.as_ref().map(|c| c.1.clone()),
            after: Some(bucket.to_string()),
        },
        Property {
            name: "delivery_kms_key".into(),
            before: state.channel.as_ref().and_then(|c| c.2.clone()),
            after: Some(ids.key().to_string()),
        },
        Property {
            name: "recording".into(),
            before: state.recorder.as_ref().map(|_| if state.recording { "on" } else { "off" }.into()),
            after: Some("on".into()),
        },
    ];
    let mut steps = Vec::new();
    if props[0].changed() || props[1].changed() {
        steps.push(step(CfOp::PutRecorder { name: recorder_name.clone(), include_global: home }));
    }
    if props[2].changed() || props[3].changed() {
        steps.push(step(CfOp::PutDeliveryChannel { name: channel_name }));
    }
    if !steps.is_empty() || props[4].changed() {
        steps.push(step(CfOp::StartRecorder { name: recorder_name.clone() }));
    }
    Change {
        address: Address::ConfigRecorder { account, region: region.to_string() },
        action: if state.recorder.is_none() {
            Action::Create
        } else if steps.is_empty() {
            Action::NoOp
        } else {
            Action::Update
        },
        id: state.recorder.as_ref().map(|r| r.0.clone()),
        properties: props,
        reason: String::new(),
        steps,
        manual: vec![],
    }
}

fn aggregator_change(regions: &[String], home: &str, have: &ObservedConfig) -> Change {
    let mut want: Vec<String> = regions.to_vec();
    want.sort();
    let step = |op| Step::Config { account: AccountRole::SecurityTooling, region: home.to_string(), op };
    let props = vec![
        Property {
            name: "regions".into(),
            before: have.aggregator.as_ref().map(|a| a.regions.join(", ")),
            after: Some(want.join(", ")),
        },
        Property {
            name: "role".into(),
            before: have.aggregator_role.then(|| AGGREGATOR_ROLE.to_string()),
            after: Some(AGGREGATOR_ROLE.to_string()),
        },
    ];
    let mut steps = Vec::new();
    if props[1].changed() {
        steps.push(step(CfOp::PutAggregatorRole));
    }
    if props[0].changed() || props[1].changed() {
        steps.push(step(CfOp::PutAggregator { regions: want }));
    }
    Change {
        address: Address::ServiceSettings { service: SERVICE, region: home.to_string() },
        action: if have.aggregator.is_none() {
            Action::Create
        } else if steps.is_empty() {
            Action::NoOp
        } else {
            Action::Update
        },
        id: have.aggregator.as_ref().map(|_| AGGREGATOR.to_string()),
        properties: props,
        reason: if have.aggregator.is_none() {
            format!("organization aggregator {AGGREGATOR} in Security Tooling, Config's delegated administrator")
        } else {
            String::new()
        },
        steps,
        manual: vec![],
    }
}

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_config::Client {
    let conf =
        aws_sdk_config::config::Builder::from(config).region(aws_config::Region::new(region.to_string())).build();
    aws_sdk_config::Client::from_conf(conf)
}

fn account_id(ids: &Ids, account: AccountRole) -> Option<&str> {
    match account {
        AccountRole::SecurityTooling => ids.security_tooling.as_deref(),
        AccountRole::LogArchive => ids.log_archive.as_deref(),
    }
}

async fn observe_recorder(c: &aws_sdk_config::Client, site: &Site, rep: &Reporter) -> Result<RecorderState> {
    rep.debug(format!(
        "config:DescribeConfigurationRecorders, ...Status, DescribeDeliveryChannels {} {}",
        site.account, site.region
    ));
    let (recorders, status, channels) = tokio::join!(
        c.describe_configuration_recorders().send(),
        c.describe_configuration_recorder_status().send(),
        c.describe_delivery_channels().send()
    );
    let recorders = recorders
        .map_err(|e| call_error(e, SVC, "DescribeConfigurationRecorders", site, "reading the Config recorder"))?;
    let mut state = RecorderState::default();
    if let Some(r) = recorders.configuration_recorders().first() {
        let group = r.recording_group();
        state.recorder = Some((
            r.name().unwrap_or(RECORDER).to_string(),
            group.is_some_and(|g| g.all_supported()),
            group.is_some_and(|g| g.include_global_resource_types()),
        ));
    }
    let status = status.map_err(|e| {
        call_error(e, SVC, "DescribeConfigurationRecorderStatus", site, "reading whether Config records")
    })?;
    state.recording = state.recorder.is_some() && status.configuration_recorders_status().iter().any(|s| s.recording());
    let channels = channels
        .map_err(|e| call_error(e, SVC, "DescribeDeliveryChannels", site, "reading Config's delivery channel"))?;
    state.channel = channels.delivery_channels().first().map(|d| {
        (
            d.name().unwrap_or(RECORDER).to_string(),
            d.s3_bucket_name().unwrap_or_default().to_string(),
            d.s3_kms_key_arn().map(str::to_string),
        )
    });
    Ok(state)
}

pub async fn observe(
    sessions: &Sessions,
    enabled: bool,
    recorders: bool,
    regions: &[String],
    ids: &Ids,
    rep: &Reporter,
) -> Result<ObservedConfig> {
    let mut out = ObservedConfig::default();
    if !enabled {
        return Ok(out);
    }
    let recorded = if recorders { RECORDED.as_slice() } else { &[] };
    // Each account's recorders in every region, and the aggregator, side by side.
    let recorders = futures_util::future::try_join_all(recorded.iter().filter_map(|&account| {
        let id = account_id(ids, account)?;
        Some(async move {
            let cfg = sessions.config(id, rep).await?;
            let found = crate::aws::per_region(regions, |region| {
                let cfg = &cfg;
                async move { observe_recorder(&client(cfg, region), &sessions.site_in(id, region), rep).await }
            })
            .await?;
            Ok::<_, anyhow::Error>(found.into_iter().map(move |(region, state)| ((account, region), state)))
        })
    }));
    let (recorders, aggregator) = tokio::try_join!(recorders, observe_aggregator(sessions, ids, rep))?;
    out.recorders = recorders.into_iter().flatten().collect();
    if let Some((aggregator, role)) = aggregator {
        (out.aggregator, out.aggregator_role) = (aggregator, role);
    }
    Ok(out)
}

/// The organization aggregator in Security Tooling and whether its role exists.
async fn observe_aggregator(
    sessions: &Sessions,
    ids: &Ids,
    rep: &Reporter,
) -> Result<Option<(Option<AggregatorState>, bool)>> {
    let Some(st) = ids.security_tooling.as_deref() else { return Ok(None) };
    let cfg = sessions.config(st, rep).await?;
    let site = sessions.site_in(st, &ids.home_region);
    rep.debug(format!("config:DescribeConfigurationAggregators, iam:GetRole {st}"));
    let iam = aws_sdk_iam::Client::new(&cfg);
    let (found, role) = tokio::join!(
        client(&cfg, &ids.home_region)
            .describe_configuration_aggregators()
            .configuration_aggregator_names(AGGREGATOR)
            .send(),
        iam.get_role().role_name(AGGREGATOR_ROLE).send()
    );
    let aggregator = match found {
        Ok(found) => found.configuration_aggregators().first().map(|a| {
            let source = a.organization_aggregation_source();
            let mut regions: Vec<String> = source.map(|s| s.aws_regions().to_vec()).unwrap_or_default();
            if source.is_some_and(|s| s.all_aws_regions()) {
                regions = vec!["all".into()];
            }
            regions.sort();
            AggregatorState { regions, role_arn: source.map(|s| s.role_arn().to_string()).unwrap_or_default() }
        }),
        Err(e) if error_code(&e) == Some("NoSuchConfigurationAggregatorException") => None,
        Err(e) => {
            return Err(call_error(e, SVC, "DescribeConfigurationAggregators", &site, "reading the aggregator").into());
        }
    };
    let role = match role {
        Ok(_) => true,
        Err(e) if error_code(&e) == Some("NoSuchEntity") => false,
        Err(e) => return Err(call_error(e, "iam", "GetRole", &site, "reading the aggregator's role").into()),
    };
    Ok(Some((aggregator, role)))
}

/// The service-linked role Config records with.
fn recorder_role(ids: &Ids, account: &str) -> String {
    format!("arn:{}:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", ids.partition)
}

pub async fn run(
    account: AccountRole,
    region: &str,
    op: &CfOp,
    ids: &Ids,
    bucket: &str,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    let id = account_id(ids, account)
        .ok_or_else(|| {
            crate::aws::hinted(format!("the {} account does not exist yet", account.key()), "rerun sra apply")
        })?
        .to_string();
    let cfg = sessions.config(&id, rep).await?;
    let c = client(&cfg, region);
    let site = sessions.site_in(&id, region);
    let iam = aws_sdk_iam::Client::new(&cfg);
    match op {
        CfOp::PutRecorder { name, include_global } => {
            // IAM answers InvalidInput ("role name has been taken") when it exists.
            let sent = iam.create_service_linked_role().aws_service_name("config.amazonaws.com").send().await;
            done_if_exists(sent, &["InvalidInput", "EntityAlreadyExists"]).map_err(|e| {
                call_error(e, "iam", "CreateServiceLinkedRole", &site, "creating Config's service role")
            })?;
            let group = aws_sdk_config::types::RecordingGroup::builder()
                .all_supported(true)
                .include_global_resource_types(*include_global)
                .build();
            let recorder = aws_sdk_config::types::ConfigurationRecorder::builder()
                .name(name)
                .role_arn(recorder_role(ids, &id))
                .recording_group(group)
                .build();
            c.put_configuration_recorder().configuration_recorder(recorder).send().await.map_err(|e| {
                call_error(e, SVC, "PutConfigurationRecorder", &site, "recording every supported resource")
            })?;
        }
        CfOp::PutDeliveryChannel { name } => {
            let channel = aws_sdk_config::types::DeliveryChannel::builder()
                .name(name)
                .s3_bucket_name(bucket)
                .set_s3_kms_key_arn(ids.key_arn.clone())
                .build();
            c.put_delivery_channel().delivery_channel(channel).send().await.map_err(|e| {
                call_error(e, SVC, "PutDeliveryChannel", &site, format!("delivering Config's records to {bucket}"))
            })?;
        }
        CfOp::StartRecorder { name } => {
            c.start_configuration_recorder().configuration_recorder_name(name).send().await.map_err(|e| {
                call_error(e, SVC, "StartConfigurationRecorder", &site, "turning the Config recorder on")
            })?;
        }
        CfOp::PutAggregatorRole => {
            let trust = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": id}}
                }]
            });
            // What the AWS managed policy AWSConfigRoleForOrganizations grants.
            let read = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": [
                        "organizations:ListAccounts",
                        "organizations:DescribeOrganization",
                        "organizations:ListAWSServiceAccessForOrganization",
                        "organizations:ListDelegatedAdministrators"
                    ],
                    "Resource": "*"
                }]
            });
            let sent = iam
                .create_role()
                .role_name(AGGREGATOR_ROLE)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await;
            done_if_exists(sent, &["EntityAlreadyExists"])
                .map_err(|e| call_error(e, "iam", "CreateRole", &site, "creating the aggregator's role"))?;
            iam.put_role_policy()
                .role_name(AGGREGATOR_ROLE)
                .policy_name("ReadTheOrganization")
                .policy_document(read.to_string())
                .send()
                .await
                .map_err(|e| {
                    call_error(e, "iam", "PutRolePolicy", &site, "letting the aggregator read the organization")
                })?;
        }
        CfOp::PutAggregator { regions } => {
            let source = aws_sdk_config::types::OrganizationAggregationSource::builder()
                .role_arn(format!("arn:{}:iam::{id}:role/{AGGREGATOR_ROLE}", ids.partition))
                .set_aws_regions(Some(regions.clone()))
                .all_aws_regions(false)
                .build()?;
            c.put_configuration_aggregator()
                .configuration_aggregator_name(AGGREGATOR)
                .organization_aggregation_source(source)
                .send()
                .await
                .map_err(|e| {
                    call_error(e, SVC, "PutConfigurationAggregator", &site, "aggregating the governed regions")
                })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Ids {
        Ids {
            partition: "aws".into(),
            home_region: "us-east-1".into(),
            management_account: "000000000000".into(),
            access_role: "OrganizationAccountAccessRole".into(),
            org_id: Some("o-1".into()),
            log_archive: Some("222222222222".into()),
            security_tooling: Some("111111111111".into()),
            key_arn: Some("arn:key".into()),
        }
    }

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    fn converged() -> ObservedConfig {
        let mut have = ObservedConfig::default();
        for account in RECORDED {
            for region in regions() {
                let home = region == "us-east-1";
                have.recorders.insert(
                    (account, region),
                    RecorderState {
                        recorder: Some(("default".into(), true, home)),
                        recording: true,
                        channel: Some(("default".into(), "logs".into(), Some("arn:key".into()))),
                    },
                );
            }
        }
        have.aggregator =
            Some(AggregatorState { regions: vec!["eu-west-1".into(), "us-east-1".into()], role_arn: "r".into() });
        have.aggregator_role = true;
        have
    }

    #[test]
    fn from_nothing_records_in_both_accounts_and_aggregates() {
        let changes = diff(true, true, &regions(), &ids(), "logs", &ObservedConfig::default());
        assert_eq!(changes.len(), 5);
        assert!(changes.iter().all(|c| c.action == Action::Create));
        let home = &changes[0];
        assert_eq!(home.properties[1].after.as_deref(), Some("included"));
        assert_eq!(home.steps.len(), 3);
    }

    #[test]
    fn converged_is_a_no_op_and_a_stopped_recorder_is_exactly_that() {
        let have = converged();
        assert!(diff(true, true, &regions(), &ids(), "logs", &have).iter().all(|c| c.action == Action::NoOp));
        let mut stopped = have.clone();
        stopped.recorders.get_mut(&(AccountRole::LogArchive, "eu-west-1".into())).unwrap().recording = false;
        let changes = diff(true, true, &regions(), &ids(), "logs", &stopped);
        let changed: Vec<&Change> = changes.iter().filter(|c| c.action != Action::NoOp).collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].address.to_string(), "config[\"eu-west-1\"].recorder.log_archive");
        assert_eq!(
            changed[0].steps,
            [Step::Config {
                account: AccountRole::LogArchive,
                region: "eu-west-1".into(),
                op: CfOp::StartRecorder { name: "default".into() }
            }]
        );
    }

    #[test]
    fn an_existing_recorder_is_adopted_under_its_name() {
        let mut have = converged();
        let r = have.recorders.get_mut(&(AccountRole::SecurityTooling, "us-east-1".into())).unwrap();
        r.recorder = Some(("aws-controltower-BaselineConfigRecorder".into(), false, true));
        let changes = diff(true, true, &regions(), &ids(), "logs", &have);
        let c = changes.iter().find(|c| c.action != Action::NoOp).unwrap();
        assert!(matches!(&c.steps[0], Step::Config { op: CfOp::PutRecorder { name, .. }, .. }
            if name == "aws-controltower-BaselineConfigRecorder"));
    }

    #[test]
    fn opted_out_is_left_alone() {
        assert!(diff(false, true, &regions(), &ids(), "logs", &ObservedConfig::default()).is_empty());
        assert_eq!(diff(true, false, &regions(), &ids(), "logs", &ObservedConfig::default()).len(), 1);
    }
}
