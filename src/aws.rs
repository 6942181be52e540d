//! The only place that builds SDK configuration and clients, and turns SDK errors
//! into errors that say which account, region, service and operation failed, and
//! what to do about it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::BehaviorVersion;
use aws_config::SdkConfig;
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};

/// Tries per call (standard retry mode, exponential backoff with jitter) unless
/// `AWS_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: u32 = 8;

/// How `sra` reaches AWS: the management account's configuration, built once from
/// the standard credential chain (environment, profiles, SSO, credential process,
/// instance roles). `AWS_ENDPOINT_URL` is honoured by the SDK itself.
#[derive(Clone)]
pub struct Aws {
    pub config: SdkConfig,
    pub region: String,
    /// The configuration of calls to global services (STS, Organizations): in the
    /// `--region` given, as the AWS CLI does, else the home region.
    global: SdkConfig,
    /// Answers received so far, by every client made from this configuration.
    answered: Arc<AtomicU64>,
}

/// The profiles the shared config and credentials files define (AWS_CONFIG_FILE
/// and AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials).
fn profiles_found() -> (Vec<String>, Vec<String>) {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
    let file = |var: &str, default: &str| std::env::var_os(var).map_or_else(|| home.join(default), Into::into);
    let files = [file("AWS_CONFIG_FILE", ".aws/config"), file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")];
    let mut names = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for line in text.lines() {
            let Some(section) = line.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')) else { continue };
            let section = section.trim();
            // In the config file a profile is "[profile name]" (or "[default]").
            let name = if i == 0 {
                section.strip_prefix("profile ").map(str::trim).or((section == "default").then_some(section))
            } else {
                Some(section)
            };
            if let Some(n) = name
                && !names.contains(&n.to_string())
            {
                names.push(n.to_string());
            }
        }
    }
    (names, files.iter().map(|f| f.display().to_string()).collect())
}

fn check_profile(name: &str, from_flag: bool) -> anyhow::Result<()> {
    let (names, files) = profiles_found();
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    let given = if from_flag { "--profile" } else { "AWS_PROFILE" };
    Err(hinted(
        format!("the profile `{name}` ({given}) is not defined in {}", files.join(" or ")),
        if names.is_empty() {
            "no profile is defined there: run `aws configure --profile NAME`, or leave out --profile to use the \
             environment's credentials"
                .to_string()
        } else {
            format!("profiles found: {}", names.join(", "))
        },
    ))
}

impl Aws {
    /// `region` is the plan's home region; `global_region` the `--region` option;
    /// `profile` the `--profile` option, which wins over credentials in the
    /// environment, as in the AWS CLI (AWS_PROFILE does not: the SDK's default
    /// chain reads it after them). A profile that no file defines is an error
    /// naming it and the profiles found.
    pub async fn load(profile: Option<&str>, region: &str, global_region: Option<&str>) -> anyhow::Result<Aws> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(aws_config::Region::new(region.to_string()));
        let from_env = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
        if let Some(p) = profile.or(from_env.as_deref()) {
            check_profile(p, profile.is_some())?;
        }
        if let Some(p) = profile {
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(p).build(),
            );
        }
        let mut config = loader.load().await;
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            // The SDK's standard mode tries a call 3 times; a bootstrap run makes
            // hundreds of calls, and at a few percent of transient failures one of
            // them exhausts 3 tries in most runs. AWS_MAX_ATTEMPTS still decides.
            let retry = config.retry_config().cloned().unwrap_or_else(aws_config::retry::RetryConfig::standard);
            config = config.to_builder().retry_config(retry.with_max_attempts(MAX_ATTEMPTS)).build();
        }
        // Every SDK client shares one HTTP client, paced under AWS's published
        // request rates (see pace.rs).
        let mut answered = Arc::default();
        if let Some(paced) = crate::pace::PacedClient::default_paced() {
            answered = paced.answered();
            config = config.to_builder().http_client(paced).build();
        }
        let global = match global_region {
            Some(r) => config.to_builder().region(aws_config::Region::new(r.to_string())).build(),
            None => config.clone(),
        };
        Ok(Aws { config, region: region.to_string(), global, answered })
    }

    /// How many answers AWS has sent so far (every attempt of every call).
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.global)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.global)
    }
}

/// Read every page of a listing, handing each to `keep` as it arrives and then
/// dropping it: at organization scale (5,000 accounts, 17 regions, five services)
/// the pages themselves would not fit the memory budget, the ids they carry do.
pub async fn each_page<T, E>(
    mut pages: aws_smithy_async::future::pagination_stream::PaginationStream<Result<T, E>>,
    mut keep: impl FnMut(T),
) -> Result<(), E> {
    while let Some(page) = pages.next().await {
        keep(page?);
    }
    Ok(())
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

/// The answer of a call that creates or enables something, reading "it already
/// exists" (one of `codes`) as done: an earlier try whose answer was lost, or an
/// earlier run, did what was asked.
pub fn done_if_exists<T, E: ProvideErrorMetadata, R>(
    sent: Result<T, SdkError<E, R>>,
    codes: &[&str],
) -> Result<(), SdkError<E, R>> {
    match sent {
        Err(e) if !error_code(&e).is_some_and(|c| codes.contains(&c)) => Err(e),
        _ => Ok(()),
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

/// "could not connect to HOST: why", when the endpoint was never reached (in
/// words, without the SDK's "dispatch failure: user error" framing).
fn unreachable_in(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(u) = e.downcast_ref::<crate::pace::Unreachable>() {
            return Some(u.to_string());
        }
        source = e.source();
    }
    None
}

/// An error and its sources as one line, without the SDK's debug dump.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A failed SDK call, before the caller says where it was made and why: what
/// [`call_error`] keeps of an `SdkError` of any operation, so code that handles
/// several operations' errors alike needs no type per operation.
#[derive(Debug)]
pub struct Failure {
    code: Option<String>,
    detail: String,
    service_error: bool,
}

impl<E, R> From<SdkError<E, R>> for Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Failure {
        let code = error_code(&err).map(str::to_string);
        let message = err.message().map(str::to_string);
        let detail = match (&code, &message) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.clone(),
            _ => unreachable_in(&err).unwrap_or_else(|| error_chain(&err)),
        };
        Failure { code, detail, service_error: matches!(err, SdkError::ServiceError(_)) }
    }
}

impl Failure {
    /// The error with its site, purpose and a hint.
    pub fn at(
        self,
        service: &'static str,
        operation: &'static str,
        site: &Site,
        purpose: impl Into<String>,
    ) -> CallError {
        let hint = hint_for(self.code.as_deref(), self.service_error, &self.detail, service, operation);
        CallError {
            service,
            operation,
            account: site.account.clone(),
            region: site.region.clone(),
            purpose: purpose.into(),
            code: self.code,
            detail: self.detail,
            hint,
        }
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
    Failure::from(err).at(service, operation, site, purpose)
}

/// Whether an unreachable host in `detail` is S3 Control's: `<account-id>.<host>`.
fn s3_control_host(detail: &str) -> bool {
    detail.split("could not connect to ").nth(1).is_some_and(|rest| {
        let host = rest.split([':', ' ']).next().unwrap_or_default();
        let first = host.split('.').next().unwrap_or_default();
        first.len() == 12 && first.chars().all(|c| c.is_ascii_digit()) && host.len() > 13
    })
}

fn hint_for(code: Option<&str>, service_error: bool, detail: &str, service: &str, operation: &str) -> String {
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
        _ if service_error || code.is_some() => "see the AWS error above; rerunning is safe: sra picks up where it stopped".into(),
        _ if detail.contains("credentials") => {
            "no usable credentials were found: configure them (aws configure, aws sso login, --profile or AWS_PROFILE) and rerun".into()
        }
        _ if s3_control_host(detail) => "could not reach S3 Control, which sends to <account-id>.<endpoint host>: against a \
            loopback endpoint that name does not resolve; set HTTP_PROXY to the endpoint as docs/getting-started.md \
            shows (section 2, \"Try it against the emulator\")"
            .into(),
        _ => "could not reach the AWS endpoint: check the network, and AWS_ENDPOINT_URL if it is set".into(),
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
    Hinted { message: message.into(), hint: hint.into() }.into()
}

/// The hint attached anywhere in an error chain.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    err.chain().find_map(|e| {
        e.downcast_ref::<CallError>()
            .map(|c| c.hint.as_str())
            .or_else(|| e.downcast_ref::<Hinted>().map(|h| h.hint.as_str()))
    })
}

pub use sra_core::model::partition_of;

/// `config` with its region set to `region`: what a client for that region is built from.
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config.to_builder().region(aws_config::Region::new(region.to_string())).build()
}

/// SDK configurations per account: the management account's own, and the others'
/// by assuming `organization.access_role`, built once and cached.
pub struct Sessions {
    pub base: Aws,
    pub management_account: String,
    pub role: String,
    /// `sra plan` with `organization.plan_role`: the read-only role tried first
    /// in each account, before `role` (a plan file that just named it, before
    /// apply made it).
    pub read_role: Option<String>,
    /// How long to wait for a new account's role to become assumable.
    pub role_timeout: std::time::Duration,
    /// One cell per account: concurrent callers share one AssumeRole.
    cache: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::OnceCell<SdkConfig>>>>,
}

impl Sessions {
    pub fn new(base: Aws, management_account: String, role: String) -> Sessions {
        Sessions {
            base,
            management_account,
            role,
            read_role: None,
            role_timeout: std::time::Duration::from_secs(600),
            cache: Default::default(),
        }
    }

    pub fn site(&self, account: &str) -> Site {
        Site { account: account.to_string(), region: self.base.region.clone() }
    }

    pub fn site_in(&self, account: &str, region: &str) -> Site {
        Site { account: account.to_string(), region: region.to_string() }
    }

    /// Hand over a configuration opened beforehand (see `live::observe`): later
    /// `config(account)` calls use it instead of assuming the role again.
    pub fn prime(&self, account: &str, config: SdkConfig) {
        let _ = self.cell(account).set(config);
    }

    /// The one cell per account that concurrent callers share.
    fn cell(&self, account: &str) -> std::sync::Arc<tokio::sync::OnceCell<SdkConfig>> {
        self.cache.lock().expect("the cache lock is never poisoned").entry(account.to_string()).or_default().clone()
    }

    /// The configuration for `account` in the home region. For a member account,
    /// waits (bounded) until the role can be assumed: right after CreateAccount
    /// it may not be yet.
    pub async fn config(&self, account: &str, rep: &crate::report::Reporter) -> anyhow::Result<SdkConfig> {
        if account == self.management_account {
            return Ok(self.base.config.clone());
        }
        self.cell(account).get_or_try_init(|| self.assume(account, rep)).await.cloned()
    }

    /// The configuration for `account` without waiting for its role: for
    /// reading accounts that exist already (every account's baselines), where a
    /// role that cannot be assumed will not become assumable by waiting (an
    /// invited account without it). The plan role first, when there is one (it
    /// exists in Security Tooling and Log Archive), then the access role.
    pub async fn config_now(&self, account: &str, rep: &crate::report::Reporter) -> anyhow::Result<SdkConfig> {
        if account == self.management_account {
            return Ok(self.base.config.clone());
        }
        let now = std::time::Duration::ZERO;
        let Some(read_role) = &self.read_role else {
            return self
                .cell(account)
                .get_or_try_init(|| self.assume_role(account, &self.role, now, rep))
                .await
                .cloned();
        };
        let own = self.cell(account);
        if let Ok(config) = own.get_or_try_init(|| self.assume_role(account, read_role, now, rep)).await {
            return Ok(config.clone());
        }
        // `config` keeps the plan role's session in the account's cell: the
        // access role's has a cell of its own.
        let cell = self.cell(&format!("{account} {}", self.role));
        cell.get_or_try_init(|| self.assume_role(account, &self.role, now, rep)).await.cloned()
    }

    async fn assume(&self, account: &str, rep: &crate::report::Reporter) -> anyhow::Result<SdkConfig> {
        if let Some(read_role) = &self.read_role {
            match self.assume_role(account, read_role, std::time::Duration::ZERO, rep).await {
                Ok(config) => return Ok(config),
                Err(e) => rep.progress(format!(
                    "account {account}: cannot assume the plan role {read_role} ({}); reading through {} instead \
                     (sra apply makes the plan role)",
                    e.downcast_ref::<CallError>().map_or_else(|| e.to_string(), |c| c.detail.clone()),
                    self.role
                )),
            }
        }
        self.assume_role(account, &self.role, self.role_timeout, rep).await
    }

    async fn assume_role(
        &self,
        account: &str,
        role: &str,
        timeout: std::time::Duration,
        rep: &crate::report::Reporter,
    ) -> anyhow::Result<SdkConfig> {
        let partition = partition_of(&self.base.region);
        let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
        let provider = aws_config::sts::AssumeRoleProvider::builder(&role_arn)
            .session_name("sra-bootstrap")
            .configure(&self.base.config)
            .build()
            .await;
        // AssumeRole itself is the check that the role can be assumed: its
        // credentials serve the first calls, the provider refreshes them later.
        let sts = aws_sdk_sts::Client::new(&self.base.config);
        let start = std::time::Instant::now();
        let mut delay = std::time::Duration::from_secs(1);
        let first = loop {
            rep.debug(format!("sts:AssumeRole {role_arn}"));
            match sts.assume_role().role_arn(&role_arn).role_session_name("sra-bootstrap").send().await {
                Ok(out) => break out.credentials().cloned(),
                Err(e) if start.elapsed() < timeout && !matches!(e, SdkError::DispatchFailure(_)) => {
                    rep.waiting(format!(
                        "account {account}: waiting for role {role} to become assumable ({}s elapsed)",
                        start.elapsed().as_secs()
                    ));
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(15));
                }
                Err(e) => {
                    let mut err =
                        call_error(e, "sts", "AssumeRole", &self.site(account), format!("assuming {role_arn}"));
                    err.hint = format!(
                        "sra works in member accounts through the role {role}: make sure it exists in account {account} and trusts the management account, or set organization.access_role (AWSControlTowerExecution under Control Tower)"
                    );
                    return Err(err.into());
                }
            }
        };
        let first = first.map(|c| {
            aws_credential_types::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                std::time::SystemTime::try_from(*c.expiration()).ok(),
                "sra-assume-role",
            )
        });
        let primed = Primed { current: std::sync::Mutex::new(first), then: provider };
        Ok(self
            .base
            .config
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(primed))
            .build())
    }
}

/// Credentials from an AssumeRole already made, kept for every client built from
/// the session until they are close to expiring; then the provider's, kept the
/// same way. Clients do not share the SDK's identity cache, so without this each
/// new client (one per service and region) would assume the role again.
#[derive(Debug)]
struct Primed {
    current: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    then: aws_config::sts::AssumeRoleProvider,
}

/// Credentials this close to expiring are renewed, as the SDK's cache does.
const RENEW_BEFORE: std::time::Duration = std::time::Duration::from_secs(300);

impl Primed {
    fn fresh(&self) -> Option<aws_credential_types::Credentials> {
        let current = self.current.lock().expect("never poisoned").clone()?;
        let later = std::time::SystemTime::now() + RENEW_BEFORE;
        current.expiry().is_none_or(|e| e > later).then_some(current)
    }
}

impl aws_credential_types::provider::ProvideCredentials for Primed {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use aws_credential_types::provider::future::ProvideCredentials as Future;
        match self.fresh() {
            Some(c) => Future::ready(Ok(c)),
            None => Future::new(async move {
                let c = aws_credential_types::provider::ProvideCredentials::provide_credentials(&self.then).await?;
                *self.current.lock().expect("never poisoned") = Some(c.clone());
                Ok(c)
            }),
        }
    }
}

/// Error codes AWS uses when a call raced another change and may simply be
/// repeated: the SDK's standard retry does not cover them.
pub fn is_retryable_race(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ConcurrentModificationException" | "TooManyRequestsException" | "FinalizingOrganizationException")
    )
}

/// How long Organizations may answer FinalizingOrganizationException after the
/// organization is created: "This can take up to an hour" (Organizations API
/// reference, FinalizingOrganizationException). Only CreateAccount (and invitations)
/// answer it, and it means the request was refused, so it is sent again.
pub const FINALIZING_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Run an idempotent call, repeating it with backoff (bounded: 6 tries over about
/// a minute) while AWS answers that it raced another change. Never use this for
/// CreateAccount, which is not idempotent.
pub async fn retry_races<T, E, R, F, Fut>(mut call: F) -> Result<T, SdkError<E, R>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    let mut delay = std::time::Duration::from_millis(500);
    for attempt in 1.. {
        match call().await {
            Err(e) if attempt < 6 && is_retryable_race(error_code(&e)) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(16));
            }
            other => return other,
        }
    }
    unreachable!("the loop returns by its sixth try")
}

/// How many regions of one service sra works on at once. The services' request
/// quotas are per account and region, and the pacing of pace.rs keeps each region
/// under its published rates, so regions need not wait for each other: the cap
/// only bounds open connections, and covers every region of a partition. (The
/// one ordering AWS needs, a service's first delegation before the others, is
/// apply's: see engine/apply.rs.)
pub const REGIONS_PER_SERVICE: usize = 32;

/// Run `f` for every region, at most [`REGIONS_PER_SERVICE`] at a time; the
/// first error wins. The results are keyed by region.
pub async fn per_region<'a, T, F, Fut>(
    regions: &'a [String],
    f: F,
) -> anyhow::Result<std::collections::BTreeMap<String, T>>
where
    F: Fn(&'a String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    use futures_util::{StreamExt, TryStreamExt};
    futures_util::stream::iter(regions)
        .map(|r| {
            let fut = f(r);
            async move { fut.await.map(|v| (r.clone(), v)) }
        })
        .buffer_unordered(REGIONS_PER_SERVICE)
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_races_are_retried() {
        assert!(is_retryable_race(Some("ConcurrentModificationException")));
        assert!(is_retryable_race(Some("TooManyRequestsException")));
        assert!(!is_retryable_race(Some("AccessDeniedException")));
        assert!(!is_retryable_race(Some("ConstraintViolationException")));
        assert!(!is_retryable_race(None));
    }

    #[test]
    #[allow(clippy::result_large_err)] // the SDK's own error type, as call sites get it
    fn only_the_named_codes_read_as_done() {
        use aws_sdk_kms::operation::create_alias::CreateAliasError;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let failed = |code: &str| -> Result<(), SdkError<CreateAliasError, HttpResponse>> {
            let meta = ErrorMetadata::builder().code(code).build();
            let raw = HttpResponse::new(400.try_into().unwrap(), SdkBody::empty());
            Err(SdkError::service_error(CreateAliasError::generic(meta), raw))
        };
        assert!(
            done_if_exists(Ok::<_, SdkError<CreateAliasError, HttpResponse>>(()), &["AlreadyExistsException"]).is_ok()
        );
        assert!(done_if_exists(failed("AlreadyExistsException"), &["AlreadyExistsException"]).is_ok());
        let other = done_if_exists(failed("LimitExceededException"), &["AlreadyExistsException"]);
        assert_eq!(other.map_err(|e| error_code(&e).map(str::to_string)), Err(Some("LimitExceededException".into())));
        assert!(done_if_exists(failed("AlreadyExistsException"), &[]).is_err());
    }
}

#[cfg(test)]
mod unreachable_tests {
    use super::*;

    #[test]
    fn s3_controls_account_host_gets_the_proxy_hint() {
        let detail = "could not connect to 123456789012.localhost:4566: the name does not resolve";
        assert!(s3_control_host(detail));
        assert!(hint_for(None, false, detail, "s3control", "GetPublicAccessBlock").contains("HTTP_PROXY"));
        let plain = "could not connect to 127.0.0.1:9: connection refused";
        assert!(!s3_control_host(plain));
        assert!(
            hint_for(None, false, plain, "sts", "GetCallerIdentity").starts_with("could not reach the AWS endpoint")
        );
    }
}
