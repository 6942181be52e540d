//! IAM Access Analyzer: an organization analyzer in Security Tooling in every
//! governed region (delegation itself is organization-wide, in `delegation`). An
//! existing organization analyzer is adopted, whatever its name. `diff` is pure.

use anyhow::Result;
use aws_sdk_accessanalyzer::types::Type;

use crate::aws::{Sessions, call_error, done_if_exists};
use crate::report::Reporter;

pub use sra_core::services::accessanalyzer::*;

const SVC: &str = "access-analyzer";

fn client(config: &aws_config::SdkConfig, region: &str) -> aws_sdk_accessanalyzer::Client {
    let conf = aws_sdk_accessanalyzer::config::Builder::from(config)
        .region(aws_config::Region::new(region.to_string()))
        .build();
    aws_sdk_accessanalyzer::Client::from_conf(conf)
}

pub async fn observe(
    sessions: &Sessions,
    enabled: bool,
    regions: &[String],
    admin: Option<&str>,
    rep: &Reporter,
) -> Result<ObservedAnalyzers> {
    let (true, Some(admin)) = (enabled, admin) else { return Ok(ObservedAnalyzers::new()) };
    let config = sessions.config(admin, rep).await?;
    let config = &config;
    crate::aws::per_region(regions, |region| async move {
        let site = sessions.site_in(admin, region);
        rep.debug(format!("access-analyzer:ListAnalyzers {region}"));
        let pages = client(config, region)
            .list_analyzers()
            .r#type(Type::Organization)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error(e, SVC, "ListAnalyzers", &site, "finding the organization analyzer"))?;
        let found = pages
            .iter()
            .flat_map(|p| p.analyzers())
            .min_by_key(|a| a.name() != ANALYZER_NAME)
            .map(|a| (a.name().to_string(), a.status().as_str().to_string()));
        Ok(found)
    })
    .await
}

pub async fn run(region: &str, admin: &str, sessions: &Sessions, rep: &Reporter) -> Result<()> {
    let config = sessions.config(admin, rep).await?;
    let site = sessions.site_in(admin, region);
    let c = client(&config, region);
    // Delegation takes a while to reach Access Analyzer: until then it answers
    // that only the management account or the delegated administrator may do this.
    crate::services::regional::until_accepted("Access Analyzer", region, rep, || async {
        let sent = c.create_analyzer().analyzer_name(ANALYZER_NAME).r#type(Type::Organization).send().await;
        done_if_exists(sent, &["ConflictException"])
            .map_err(|e| call_error(e, SVC, "CreateAnalyzer", &site, "creating the organization analyzer").into())
    })
    .await
}
