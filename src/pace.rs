//! Client-side pacing: AWS publishes request-rate quotas for some APIs, per account
//! and region, and throttles calls above them. Retries recover from throttling but
//! cost time and, at organization scale, turn into failed runs; so sra stays under
//! the published rates instead, at [`HEADROOM`] of each.
//!
//! The pacing sits in the HTTP client every SDK client shares: every attempt
//! (retries too) of every call waits for its turn here, so no call site can forget
//! it. A call with no published quota is not delayed.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use governor::{DefaultKeyedRateLimiter, Quota};

/// A published quota: `per_second` requests, bursts of `burst`, per account and region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub service: &'static str,
    /// The operation, or None for "every other operation of the service".
    pub operation: Option<&'static str>,
    pub per_second: f64,
    pub burst: u32,
}

/// The quotas sra's calls can reach. Security Hub: "BatchEnableStandards - RateLimit
/// of 1 request per second, BurstLimit of 1 request per second"; "all other
/// operations - RateLimit of 10 requests per second, BurstLimit of 30 requests per
/// second" (Security Hub API reference, introduction); "GetFindings - RateLimit of
/// 3 requests per second. BurstLimit of 6 requests per second" (`sra posture`).
/// Account Management
/// ("Quotas for AWS Account Management"): GetAlternateContact 10 a second, burst
/// 15; PutAlternateContact 5 a second, burst 8, per account: the management
/// account's, which calls them for every member.
pub const PUBLISHED: &[Published] = &[
    Published { service: "securityhub", operation: Some("BatchEnableStandards"), per_second: 1.0, burst: 1 },
    Published { service: "securityhub", operation: Some("GetFindings"), per_second: 3.0, burst: 6 },
    Published { service: "securityhub", operation: None, per_second: 10.0, burst: 30 },
    Published { service: "account", operation: Some("GetAlternateContact"), per_second: 10.0, burst: 15 },
    Published { service: "account", operation: Some("PutAlternateContact"), per_second: 5.0, burst: 8 },
];

/// Requests in flight at once, over the whole run: each holds a connection, and
/// an organization of thousands of accounts would otherwise open one per read.
pub const IN_FLIGHT: usize = 256;

/// The share of a published quota sra uses: arrival times at AWS jitter by a few
/// milliseconds, so pacing at exactly the quota would still be throttled now and then.
pub const HEADROOM: f64 = 0.9;

/// What a request is, for pacing: from its SigV4 credential scope (access key,
/// region, service) and, for REST services, its method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub access_key: String,
    pub region: String,
    pub service: String,
    pub operation: Option<&'static str>,
}

/// Read a request's credential scope: `Credential=AKID/date/region/service/aws4_request`.
pub fn classify(authorization: &str, method: &str, path: &str) -> Option<Call> {
    let scope = authorization.split("Credential=").nth(1)?.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    let path = path.split('?').next().unwrap_or(path);
    let operation = match (service.as_str(), method, path.trim_end_matches('/')) {
        ("securityhub", "POST", p) if p.ends_with("/standards/register") => Some("BatchEnableStandards"),
        ("securityhub", "POST", "/findings") => Some("GetFindings"),
        ("account", "POST", "/getAlternateContact") => Some("GetAlternateContact"),
        ("account", "POST", "/putAlternateContact") => Some("PutAlternateContact"),
        _ => None,
    };
    Some(Call { access_key, region, service, operation })
}

/// The published quota a call falls under, if any: its operation's own, else its
/// service's "every other operation".
pub fn quota_of(call: &Call) -> Option<(usize, &'static Published)> {
    let own = PUBLISHED
        .iter()
        .enumerate()
        .find(|(_, q)| q.service == call.service && q.operation.is_some() && q.operation == call.operation);
    own.or_else(|| PUBLISHED.iter().enumerate().find(|(_, q)| q.service == call.service && q.operation.is_none()))
}

/// The rate sra keeps to under a published quota.
pub fn paced(q: &Published) -> Quota {
    let per_second = q.per_second * HEADROOM;
    let burst = ((f64::from(q.burst) * HEADROOM).floor() as u32).max(1);
    Quota::with_period(Duration::from_secs_f64(1.0 / per_second))
        .expect("published rates are positive")
        .allow_burst(NonZeroU32::new(burst).expect("burst is at least 1"))
}

/// One limiter per published quota, each keyed by (access key, region): an access
/// key stands for one account's session.
#[derive(Debug)]
pub struct Pacer {
    limiters: Vec<DefaultKeyedRateLimiter<(String, String)>>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer { limiters: PUBLISHED.iter().map(|q| governor::RateLimiter::keyed(paced(q))).collect() }
    }
}

impl Pacer {
    /// Wait until the request may go.
    pub async fn wait(&self, request: &HttpRequest) {
        let auth = request.headers().get("authorization").unwrap_or_default();
        let Some(call) = classify(auth, request.method(), request.uri()) else { return };
        if let Some((i, _)) = quota_of(&call) {
            self.limiters[i].until_key_ready(&(call.access_key, call.region)).await;
        }
    }
}

/// The SDK's default HTTP client with a [`Pacer`] in front. It also counts the
/// answers it received, for progress during long reads.
#[derive(Debug, Clone)]
pub struct PacedClient {
    inner: SharedHttpClient,
    pacer: Arc<Pacer>,
    in_flight: Arc<tokio::sync::Semaphore>,
    answered: Arc<AtomicU64>,
    /// Hosts that refused the connection or did not resolve, twice: every later
    /// call to them fails at once.
    unreachable: Arc<Mutex<BTreeSet<String>>>,
}

impl PacedClient {
    /// The SDK's own default HTTPS client (TLS, proxy settings from the
    /// environment, timeouts), paced; None if this build has no default client.
    pub fn default_paced() -> Option<PacedClient> {
        use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
        use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
        use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
        let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(BehaviorVersion::latest())?;
        let inner = plugin.runtime_components(&RuntimeComponentsBuilder::new("sra")).http_client()?;
        Some(PacedClient {
            inner,
            pacer: Arc::new(Pacer::default()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            answered: Arc::default(),
            unreachable: Arc::default(),
        })
    }

    /// How many answers (of every attempt of every call) have come back so far.
    pub fn answered(&self) -> Arc<AtomicU64> {
        self.answered.clone()
    }
}

impl HttpClient for PacedClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
            in_flight: self.in_flight.clone(),
            answered: self.answered.clone(),
            unreachable: self.unreachable.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Arc<Pacer>,
    in_flight: Arc<tokio::sync::Semaphore>,
    answered: Arc<AtomicU64>,
    unreachable: Arc<Mutex<BTreeSet<String>>>,
}

/// The endpoint could not be reached at all: the connection was refused or the
/// name did not resolve. Nothing was sent, so the call is neither retried by the
/// SDK (it is a user error, not a transient one) nor ambiguous.
#[derive(Debug)]
pub struct Unreachable {
    pub host: String,
    pub cause: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not connect to {}: {}", self.host, self.cause)
    }
}

impl std::error::Error for Unreachable {}

/// How long to wait before the one retry of a refused or unresolved connection.
const QUICK_RETRY: Duration = Duration::from_millis(250);

/// Why a failed connection means the host cannot be reached: refused, or the name
/// did not resolve. None for anything else (timeouts, resets: the SDK retries those).
fn unreachable_cause(err: &ConnectorError) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some("connection refused".into());
        }
        let text = e.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return Some("the name does not resolve".into());
        }
        source = e.source();
    }
    None
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, pacer, answered) = (self.inner.clone(), self.pacer.clone(), self.answered.clone());
        let (unreachable, in_flight) = (self.unreachable.clone(), self.in_flight.clone());
        HttpConnectorFuture::new(async move {
            let host = request.uri().split('/').nth(2).unwrap_or_default().to_string();
            let give_up =
                |cause: String| Err(ConnectorError::user(Box::new(Unreachable { host: host.clone(), cause })));
            if unreachable.lock().map(|u| u.contains(&host)).unwrap_or(false) {
                return give_up("it could not be reached earlier in this run".into());
            }
            pacer.wait(&request).await;
            // Paced first, so a request waiting for its turn holds no slot.
            let _slot = in_flight.acquire_owned().await.expect("the semaphore is never closed");
            let again = request.try_clone();
            let mut answer = inner.call(request).await;
            if let Err(e) = &answer
                && unreachable_cause(e).is_some()
                && let Some(again) = again
            {
                tokio::time::sleep(QUICK_RETRY).await;
                answer = inner.call(again).await;
            }
            match answer {
                Ok(response) => {
                    // Only answers count as answered calls (progress lines).
                    answered.fetch_add(1, Ordering::Relaxed);
                    Ok(response)
                }
                Err(e) => match unreachable_cause(&e) {
                    Some(cause) => {
                        if let Ok(mut u) = unreachable.lock() {
                            u.insert(host.clone());
                        }
                        give_up(cause)
                    }
                    None => Err(e),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261129/eu-west-1/securityhub/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn classify_reads_the_credential_scope_and_the_rest_operation() {
        let c = classify(AUTH, "POST", "/standards/register").unwrap();
        assert_eq!(
            c,
            Call {
                access_key: "ASIAEXAMPLE".into(),
                region: "eu-west-1".into(),
                service: "securityhub".into(),
                operation: Some("BatchEnableStandards")
            }
        );
        assert_eq!(classify(AUTH, "GET", "/members?MaxResults=50").unwrap().operation, None);
        assert_eq!(classify("", "GET", "/"), None);
        assert_eq!(classify("Bearer x", "GET", "/"), None);
    }

    #[test]
    fn each_call_falls_under_its_own_quota_else_the_services() {
        let enable = classify(AUTH, "POST", "/standards/register").unwrap();
        assert_eq!(quota_of(&enable).unwrap().1.per_second, 1.0);
        let list = classify(AUTH, "GET", "/members").unwrap();
        assert_eq!(quota_of(&list).unwrap().1.burst, 30);
        let gd = classify(&AUTH.replace("securityhub", "guardduty"), "GET", "/detector").unwrap();
        assert_eq!(quota_of(&gd), None);
        let account = AUTH.replace("securityhub", "account");
        let get = classify(&account, "POST", "/getAlternateContact").unwrap();
        assert_eq!(quota_of(&get).unwrap().1.burst, 15);
        let put = classify(&account, "POST", "/putAlternateContact").unwrap();
        assert_eq!(quota_of(&put).unwrap().1.per_second, 5.0);
        let findings = classify(AUTH, "POST", "/findings").unwrap();
        assert_eq!(quota_of(&findings).unwrap().1.burst, 6);
        let delete = classify(&account, "POST", "/deleteAlternateContact").unwrap();
        assert_eq!(quota_of(&delete), None);
    }

    #[test]
    fn paced_rates_stay_under_the_published_ones() {
        for q in PUBLISHED {
            let p = paced(q);
            assert!(p.burst_size().get() <= q.burst, "{q:?}");
            assert!(p.replenish_interval() > Duration::from_secs_f64(1.0 / q.per_second), "{q:?}");
        }
    }

    #[tokio::test]
    async fn the_pacer_holds_a_burst_to_the_quota() {
        // 10/s, burst 30 at 90%: 27 go at once, then one every 111 ms.
        let pacer = Pacer::default();
        let request = || {
            let mut r = HttpRequest::get("https://securityhub.eu-west-1.amazonaws.com/members").unwrap();
            r.headers_mut().insert("authorization", AUTH);
            r
        };
        let start = std::time::Instant::now();
        for _ in 0..27 {
            pacer.wait(&request()).await;
        }
        assert!(start.elapsed() < Duration::from_millis(50), "{:?}", start.elapsed());
        for _ in 0..3 {
            pacer.wait(&request()).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}
