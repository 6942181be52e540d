//! AWS Config: a recorder of every supported resource in Security Tooling and Log
//! Archive in every governed region (global resources in the home region only),
//! delivering to the log bucket encrypted with the trail's key; and, in Security
//! Tooling (Config's delegated administrator), an organization aggregator over the
//! governed regions. `diff` is pure.
//!
//! An existing recorder or delivery channel (Config allows one of each per account
//! and region, e.g. Control Tower's) is adopted under its own name, never replaced.

use anyhow::Result;

use crate::aws::{Sessions, Site, call_error, done_if_exists, error_code};
use crate::model::AccountRole;
use crate::report::Reporter;
use crate::services::log_archive::Ids;

pub use sra_core::services::config::*;

const SVC: &str = "config";

pub(crate) fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_config::Client {
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

/// One account's recorder, its status and its delivery channel in one region:
/// three calls, side by side.
pub(crate) async fn observe_recorder(c: &aws_sdk_config::Client, site: &Site, rep: &Reporter) -> Result<RecorderState> {
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
    // The account's own (customer-managed) recorder; a service-linked one belongs
    // to the service that made it.
    let own = recorders
        .configuration_recorders()
        .iter()
        .find(|r| !r.name().is_some_and(|n| n.starts_with(sra_core::services::config::SERVICE_LINKED_PREFIX)));
    if let Some(r) = own {
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
    state.recording = state.recorder.as_ref().is_some_and(|(name, _, _)| {
        status.configuration_recorders_status().iter().any(|s| s.name() == Some(name.as_str()) && s.recording())
    });
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
    let id = account_id(ids, account).ok_or_else(|| {
        crate::aws::hinted(format!("the {} account does not exist yet", account.key()), "rerun sra apply")
    })?;
    run_in(id, region, op, ids, bucket, sessions, rep).await
}

/// Run one Config operation in the account `id` (Security Tooling, Log Archive,
/// or any account's recorder baseline).
pub async fn run_in(
    id: &str,
    region: &str,
    op: &CfOp,
    ids: &Ids,
    bucket: &str,
    sessions: &Sessions,
    rep: &Reporter,
) -> Result<()> {
    let id = id.to_string();
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
            // The service-linked role may be brand new: Config answers
            // InvalidRoleException until it can assume it.
            crate::services::regional::until_accepted("Config", region, rep, || async {
                c.put_configuration_recorder().configuration_recorder(recorder.clone()).send().await.map_err(|e| {
                    call_error(e, SVC, "PutConfigurationRecorder", &site, "recording every supported resource").into()
                })
            })
            .await?;
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
            let (trust, read) = (aggregator_role_trust(&id), aggregator_role_policy());
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
            // The role was maybe just created (IAM is eventually consistent), and
            // Config's delegation may not have reached Security Tooling yet.
            crate::services::regional::until_accepted("Config", region, rep, || async {
                c.put_configuration_aggregator()
                    .configuration_aggregator_name(AGGREGATOR)
                    .organization_aggregation_source(source.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        call_error(e, SVC, "PutConfigurationAggregator", &site, "aggregating the governed regions")
                            .into()
                    })
            })
            .await?;
        }
    }
    Ok(())
}
