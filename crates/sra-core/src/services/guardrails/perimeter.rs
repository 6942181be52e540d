//! The data perimeter around the Log Archive: one resource control policy (RCP).
//!
//! SCPs bind only the organization's own principals; a request from outside the
//! organization meets the bucket and key policies alone. The RCP binds every
//! request to the log buckets and the trail key, whoever makes it (RCPs apply to
//! all principals, root users included, except service-linked roles; never to the
//! management account's resources; Organizations User Guide,
//! orgs_manage_policies_rcps.html). RCPs only deny (`Effect: Deny`,
//! `Principal: "*"`, no `NotAction`; orgs_manage_policies_rcps_syntax.html).

use serde_json::{Value, json};

use super::Refs;

pub const NAME: &str = "sra-data-perimeter";
pub const DESCRIPTION: &str =
    "sra data perimeter: the Log Archive's log buckets and trail key only for the organization and its AWS services";

/// The statements' Sids, which name them in plans and in the attack catalog.
pub const SIDS: [&str; 2] = ["LogArchiveOnlyForTheOrganization", "LogArchiveOnlyForTheOrganizationsServices"];

pub fn document(r: &Refs) -> Value {
    let org = r.ids.org();
    let mut resources = r.ids.bucket_arns(r.log_archive);
    resources.push(r.ids.key().to_string());
    let deny = |sid: &str, condition: Value| {
        json!({
            "Sid": sid,
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:*", "s3:*"],
            "Resource": resources,
            "Condition": condition
        })
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            deny(
                SIDS[0],
                json!({
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": org},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
                })
            ),
            // A service writing for an account outside the organization (the
            // confused deputy): AWS's data perimeter pattern for services.
            deny(
                SIDS[1],
                json!({
                    "StringNotEqualsIfExists": {"aws:SourceOrgID": org},
                    "Null": {"aws:SourceAccount": "false"},
                    "Bool": {"aws:PrincipalIsAWSService": "true"}
                })
            )
        ]
    })
}
