//! AWS region codes a plan file may name.

/// Commercial, GovCloud and China regions. A region AWS adds later needs a new
/// entry here (and a release), so a typo is never taken for a region.
pub const KNOWN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_known(region: &str) -> bool {
    KNOWN.contains(&region)
}

/// What to suggest for a string that is not a region code: the same code in lower
/// case, else the closest known code.
pub fn suggestion(got: &str) -> Option<&'static str> {
    let lower = got.trim().to_ascii_lowercase();
    KNOWN.iter().copied().find(|k| *k == lower).or_else(|| super::reader::did_you_mean(&lower, KNOWN))
}

/// A region given on the command line (`--region`, `sra init --home-region`,
/// `--governed-regions`), checked as the plan file checks its regions.
pub fn parse(got: &str) -> Result<String, String> {
    if is_known(got) {
        return Ok(got.to_string());
    }
    Err(match suggestion(got) {
        Some(best) => format!("`{got}` is not an AWS region code; did you mean `{best}`?"),
        None => format!("`{got}` is not an AWS region code; use one such as us-east-1 or eu-west-1"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_or_upper_case_gets_the_code_it_meant() {
        assert_eq!(parse("eu-west-1"), Ok("eu-west-1".into()));
        assert_eq!(parse("US-EAST-1").unwrap_err(), "`US-EAST-1` is not an AWS region code; did you mean `us-east-1`?");
        assert_eq!(parse("us-est-1").unwrap_err(), "`us-est-1` is not an AWS region code; did you mean `us-east-1`?");
        assert!(parse("mars").unwrap_err().ends_with("use one such as us-east-1 or eu-west-1"));
    }
}
