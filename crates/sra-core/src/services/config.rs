//! AWS Config: a recorder of every supported resource in Security Tooling and Log
//! Archive in every governed region (global resources in the home region only),
//! delivering to the log bucket encrypted with the trail's key; and, in Security
//! Tooling (Config's delegated administrator), an organization aggregator over the
//! governed regions. `diff` is pure.
//!
//! An existing recorder or delivery channel (Config allows one customer-managed
//! recorder and one channel per account and region) is adopted under its own name,
//! never replaced. Control Tower's (`aws-controltower-*`) are left as they are and
//! reported: its mandatory controls protect them, and they deliver to Control
//! Tower's own log bucket. Service-linked recorders (`AWSConfigurationRecorderFor…`,
//! owned by another service) are not read as the account's recorder at all.

use std::collections::BTreeMap;

use crate::engine::plan::{Action, Address, Change, Phrase, Property, Step, Verb};
use crate::model::AccountRole;
use crate::services::log_archive::Ids;

pub const SERVICE: &str = "config";
/// Control Tower's recorder and delivery channel names start with this.
pub const CONTROL_TOWER_PREFIX: &str = "aws-controltower-";
/// AWS Config reserves this prefix for service-linked recorders.
pub const SERVICE_LINKED_PREFIX: &str = "AWSConfigurationRecorderFor";
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

impl CfOp {
    /// The operation in words (plan and progress).
    /// `account`: its label (a role's, or an account id).
    pub fn phrase(&self, account: &str, region: &str) -> Phrase {
        use Verb::*;
        match self {
            Self::PutRecorder { name, include_global } => Phrase::new(
                Set,
                format!(
                    "recorder \"{name}\" in {account} in {region} (every supported resource, global resources: {})",
                    if *include_global { "yes" } else { "no" }
                ),
            ),
            Self::PutDeliveryChannel { name } => {
                Phrase::new(Set, format!("delivery channel \"{name}\" in {account} in {region} (to the log bucket)"))
            }
            Self::StartRecorder { name } => Phrase::new(Start, format!("recorder \"{name}\" in {account} in {region}")),
            Self::PutAggregatorRole => Phrase::new(Create, format!("the aggregator's role \"{AGGREGATOR_ROLE}\"")),
            Self::PutAggregator { regions } => Phrase::new(
                Set,
                format!("the organization aggregator \"{AGGREGATOR}\" in {region} over {}", regions.join(", ")),
            ),
        }
    }
}

pub fn diff(
    enabled: bool,
    recorders: bool,
    regions: &[String],
    ids: &Ids,
    bucket: &str,
    have: &ObservedConfig,
    notes: &mut Vec<String>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    if !enabled {
        return changes;
    }
    if recorders {
        for account in RECORDED {
            for region in regions {
                let state = have.recorders.get(&(account, region.clone())).cloned().unwrap_or_default();
                let change = recorder_change(account, region, region == &ids.home_region, ids, bucket, &state);
                match control_tower_owned(&state) {
                    Some(name) => {
                        notes.push(format!(
                            "{}: Control Tower's \"{name}\" is left as it is (its mandatory controls protect it, \
                             and it delivers to Control Tower's log bucket, not {bucket})",
                            change.address
                        ));
                        changes.push(Change { action: Action::NoOp, steps: vec![], ..change });
                    }
                    None => changes.push(change),
                }
            }
        }
    }
    changes.push(aggregator_change(regions, &ids.home_region, have));
    changes
}

/// The name of Control Tower's recorder or delivery channel, when the account's
/// are Control Tower's.
pub fn control_tower_owned(state: &RecorderState) -> Option<String> {
    let recorder = state.recorder.as_ref().map(|r| r.0.as_str());
    let channel = state.channel.as_ref().map(|c| c.0.as_str());
    [recorder, channel].into_iter().flatten().find(|n| n.starts_with(CONTROL_TOWER_PREFIX)).map(str::to_string)
}

fn recorder_change(
    account: AccountRole,
    region: &str,
    home: bool,
    ids: &Ids,
    bucket: &str,
    state: &RecorderState,
) -> Change {
    let (properties, ops) = recorder_plan(state, home, bucket, ids.key());
    let steps: Vec<Step> = ops.into_iter().map(|op| Step::Config { account, region: region.to_string(), op }).collect();
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
        properties,
        reason: String::new(),
        steps,
        manual: vec![],
    }
}

/// One account's recorder in one region: its properties (recording group, global
/// resources, where it delivers, whether it records) and the operations that
/// bring it to every supported resource (global ones in the home region only),
/// delivered to `bucket` under `key`, recording. An existing recorder or channel
/// keeps its name.
pub fn recorder_plan(state: &RecorderState, home: bool, bucket: &str, key: &str) -> (Vec<Property>, Vec<CfOp>) {
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
            after: Some(key.to_string()),
        },
        Property {
            name: "recording".into(),
            before: state.recorder.as_ref().map(|_| if state.recording { "on" } else { "off" }.into()),
            after: Some("on".into()),
        },
    ];
    let mut ops = Vec::new();
    if props[0].changed() || props[1].changed() {
        ops.push(CfOp::PutRecorder { name: recorder_name.clone(), include_global: home });
    }
    if props[2].changed() || props[3].changed() {
        ops.push(CfOp::PutDeliveryChannel { name: channel_name });
    }
    if !ops.is_empty() || props[4].changed() {
        ops.push(CfOp::StartRecorder { name: recorder_name });
    }
    (props, ops)
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

/// The aggregator role's trust policy: AWS Config, for this account only
/// (Security Tooling's id).
pub fn aggregator_role_trust(account_id: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}
        }]
    })
}

/// What the aggregator role may do: what the AWS managed policy
/// AWSConfigRoleForOrganizations grants.
pub fn aggregator_role_policy() -> serde_json::Value {
    serde_json::json!({
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
    })
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
        let changes = diff(true, true, &regions(), &ids(), "logs", &ObservedConfig::default(), &mut vec![]);
        assert_eq!(changes.len(), 5);
        assert!(changes.iter().all(|c| c.action == Action::Create));
        let home = &changes[0];
        assert_eq!(home.properties[1].after.as_deref(), Some("included"));
        assert_eq!(home.steps.len(), 3);
    }

    #[test]
    fn converged_is_a_no_op_and_a_stopped_recorder_is_exactly_that() {
        let have = converged();
        assert!(
            diff(true, true, &regions(), &ids(), "logs", &have, &mut vec![]).iter().all(|c| c.action == Action::NoOp)
        );
        let mut stopped = have.clone();
        stopped.recorders.get_mut(&(AccountRole::LogArchive, "eu-west-1".into())).unwrap().recording = false;
        let changes = diff(true, true, &regions(), &ids(), "logs", &stopped, &mut vec![]);
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
        r.recorder = Some(("corp-recorder".into(), false, true));
        let changes = diff(true, true, &regions(), &ids(), "logs", &have, &mut vec![]);
        let c = changes.iter().find(|c| c.action != Action::NoOp).unwrap();
        assert!(matches!(&c.steps[0], Step::Config { op: CfOp::PutRecorder { name, .. }, .. }
            if name == "corp-recorder"));
    }

    /// Control Tower's recorder (or channel), even recording less than sra would
    /// and delivering elsewhere, is never rewritten: no step, and a note.
    #[test]
    fn control_towers_recorder_is_left_alone_and_reported() {
        let mut have = converged();
        let r = have.recorders.get_mut(&(AccountRole::LogArchive, "eu-west-1".into())).unwrap();
        r.recorder = Some(("aws-controltower-BaselineConfigRecorder".into(), false, false));
        r.channel =
            Some(("aws-controltower-BaselineConfigDeliveryChannel".into(), "aws-controltower-logs".into(), None));
        let mut notes = vec![];
        let changes = diff(true, true, &regions(), &ids(), "logs", &have, &mut notes);
        assert!(changes.iter().all(|c| c.action == Action::NoOp && c.steps.is_empty()), "{changes:#?}");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("config[\"eu-west-1\"].recorder.log_archive: Control Tower's \"aws-controltower-BaselineConfigRecorder\" is left as it is"), "{}", notes[0]);
    }

    #[test]
    fn opted_out_is_left_alone() {
        assert!(diff(false, true, &regions(), &ids(), "logs", &ObservedConfig::default(), &mut vec![]).is_empty());
        assert_eq!(diff(true, false, &regions(), &ids(), "logs", &ObservedConfig::default(), &mut vec![]).len(), 1);
    }
}
