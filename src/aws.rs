//! The only place that builds SDK configuration and clients, and turns SDK errors
//! into errors that say which account, region, service and operation failed, and
//! what to do about it.

use std::fmt;

use aws_config::BehaviorVersion;
use aws_config::SdkConfig;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// How `sra` reaches AWS: the management account's configuration, built once from
/// the standard credential chain (environment, profiles, SSO, credential process,
/// instance roles). `AWS_ENDPOINT_URL` is honoured by the SDK itself.
#[derive(Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub region: String,
}

impl Aws {
    pub async fn load(profile: Option<&str>, region: &str) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()));
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        Aws {
            config: loader.load().await,
            region: region.to_string(),
        }
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.config)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }
}

/// Where a call was made and what for.
#[derive(Debug, Clone)]
pub struct Site {
    pub account: String,
    pub region: String,
}

/// A failed AWS call, with everything a user needs to act on it.
#[derive(Debug)]
pub struct CallError {
    pub service: &'static str,
    pub operation: &'static str,
    pub account: String,
    pub region: String,
    pub purpose: String,
    pub code: Option<String>,
    pub detail: String,
    pub hint: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} failed (account {}, region {}) while {}: {}",
            self.service, self.operation, self.account, self.region, self.purpose, self.detail
        )
    }
}

impl std::error::Error for CallError {}

/// The error code of a service error, if the call reached the service.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(_) => err.code(),
        _ => None,
    }
}

/// True when the request may or may not have reached AWS: the connection failed,
/// timed out, or the answer was lost or garbled.
pub fn is_ambiguous<E, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(d) => !d.is_user(),
        SdkError::ServiceError(_) => false,
        _ => false,
    }
}

/// Wrap an SDK error with its site and a hint.
pub fn call_error<E, R>(
    err: SdkError<E, R>,
    service: &'static str,
    operation: &'static str,
    site: &Site,
    purpose: impl Into<String>,
) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let code = error_code(&err).map(str::to_string);
    let message = err.message().map(str::to_string);
    let detail = match (&code, &message) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => DisplayErrorContext(&err).to_string(),
    };
    let hint = hint_for(code.as_deref(), &detail, service, operation);
    CallError {
        service,
        operation,
        account: site.account.clone(),
        region: site.region.clone(),
        purpose: purpose.into(),
        code,
        detail,
        hint,
    }
}

fn hint_for(code: Option<&str>, detail: &str, service: &str, operation: &str) -> String {
    match code {
        Some("AccessDenied" | "AccessDeniedException") => format!(
            "the credentials lack the permission {service}:{operation}; `sra` needs the management account's administrator access (see README, \"Running against a real organization\")"
        ),
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => {
            "the credentials have expired: refresh them (for SSO: aws sso login --profile <profile>) and rerun".into()
        }
        Some("InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" | "InvalidSignatureException") => {
            "the credentials are not valid: check AWS_PROFILE / --profile, or the access keys in the environment".into()
        }
        Some("NotImplemented") => {
            "the endpoint does not implement this operation: if AWS_ENDPOINT_URL points at an emulator, see docs/emulator.md".into()
        }
        Some("TooManyRequestsException" | "ThrottlingException" | "Throttling") => {
            "AWS throttled the call beyond the SDK's retries: wait a minute and rerun".into()
        }
        Some(_) => "see the AWS error above; rerunning is safe: sra picks up where it stopped".into(),
        None if detail.contains("credentials") => {
            "no usable credentials were found: configure them (aws configure, aws sso login, --profile or AWS_PROFILE) and rerun".into()
        }
        None => "could not reach the AWS endpoint: check the network, and AWS_ENDPOINT_URL if it is set".into(),
    }
}

/// An error that carries its own hint, for problems found outside AWS calls.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    Hinted {
        message: message.into(),
        hint: hint.into(),
    }
    .into()
}

/// The hint attached anywhere in an error chain.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    err.chain().find_map(|e| {
        e.downcast_ref::<CallError>()
            .map(|c| c.hint.as_str())
            .or_else(|| e.downcast_ref::<Hinted>().map(|h| h.hint.as_str()))
    })
}
