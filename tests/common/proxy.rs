//! A fault-injecting proxy between `sra` and the emulator, on loopback.
//!
//! `sra` talks to it as its endpoint (`AWS_ENDPOINT_URL`) and HTTP proxy; it
//! forwards each request to the emulator unchanged, and per request, driven by a
//! seed so a failing run replays exactly, may instead:
//! - add latency (fixed, plus jitter);
//! - answer with throttling in the protocol's own shape (awsJson: HTTP 400
//!   `ThrottlingException`; restJson: 429 `TooManyRequestsException`; S3: 503
//!   `SlowDown`; query: 400 `Throttling`; EC2: 503 `RequestLimitExceeded` in
//!   EC2's own error XML), or with HTTP 500 / 503;
//! - reset the connection before the request reaches the emulator, or after it did
//!   (the response is lost: the dangerous case for CreateAccount);
//! - kill a process at the k-th call (after forwarding it), for crash tests.
//!
//! It counts calls by (service, operation), and can cap a (service, operation)
//! at a rate (a token bucket per account and region, as AWS's quotas are),
//! answering above it with throttling. It keeps a trace of every call (when it
//! arrived and was answered, and the id-like tokens of request and response) from
//! which `trace.rs` computes the critical path of a run.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to inject; probabilities are per call.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    pub latency: Duration,
    pub jitter: Duration,
    pub throttle: f64,
    pub server_error: f64,
    pub reset_before: f64,
    pub reset_after: f64,
    /// Only these operations get faults (None: every call).
    pub only: Option<Vec<String>>,
    /// Rate limits; a call above its limit is answered with throttling.
    pub limits: Vec<RateLimit>,
    /// Keep the tokens of requests and responses in the trace.
    pub trace_tokens: bool,
}

/// A request-rate quota: `per_second`, bursts of `burst`, for one service's
/// operation (or every operation without a limit of its own, when None), per
/// account (access key) and region, as AWS counts them.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    pub service: String,
    pub operation: Option<String>,
    pub per_second: f64,
    pub burst: f64,
}

/// The published quotas of the calls sra makes that have them: Security Hub's
/// (API reference): BatchEnableStandards 1/s, burst 1; GetFindings 3/s, burst
/// 6; every other operation 10/s, burst 30; Account Management's ("Quotas for AWS Account Management"):
/// GetAlternateContact 10/s, burst 15; PutAlternateContact 5/s, burst 8.
pub fn published_limits() -> Vec<RateLimit> {
    let limit = |service: &str, operation: Option<&str>, per_second: f64, burst: f64| RateLimit {
        service: service.into(),
        operation: operation.map(str::to_string),
        per_second,
        burst,
    };
    vec![
        limit("securityhub", Some("POST /standards/register"), 1.0, 1.0),
        limit("securityhub", Some("POST /findings"), 3.0, 6.0),
        limit("securityhub", None, 10.0, 30.0),
        limit("account", Some("POST /getAlternateContact"), 10.0, 15.0),
        limit("account", Some("POST /putAlternateContact"), 5.0, 8.0),
    ]
}

/// One call as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub fault: Option<&'static str>,
    pub region: String,
    pub access_key: String,
    /// When the request arrived and when its answer was complete, since the proxy started.
    pub start: Duration,
    pub end: Duration,
    /// Id-like tokens of the request (access key, path, query, body) and of the
    /// response body, when `trace_tokens` is on.
    pub sent: Vec<String>,
    pub received: Vec<String>,
}

#[derive(Default)]
struct State {
    calls: Vec<Call>,
    /// Kill this process id when the call count reaches the number.
    kill_at: Option<(usize, u32)>,
    /// Token buckets: (limit index, access key, region) -> (tokens, last refill).
    buckets: std::collections::HashMap<(usize, String, String), (f64, Instant)>,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
    pub started: Instant,
}

impl Proxy {
    /// Start in front of the emulator at `upstream` (host:port).
    pub fn start(upstream: &str, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(faults.seed)));
        let (st, up) = (state.clone(), upstream.to_string());
        let started = Instant::now();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (st, up, rng, faults) = (st.clone(), up.clone(), rng.clone(), faults.clone());
                std::thread::spawn(move || serve(conn, &up, &faults, &rng, &st, started));
            }
        });
        Proxy { port, state, started }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    /// Calls by "service:Operation".
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in self.calls() {
            *out.entry(format!("{}:{}", c.service, c.operation)).or_insert(0) += 1;
        }
        out
    }

    /// Calls by "service:Operation", without those the emulator failed to
    /// answer (which the SDK retries: not a call sra chose to make).
    pub fn answered_counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in self.calls().iter().filter(|c| c.fault != Some("emulator_failed")) {
            *out.entry(format!("{}:{}", c.service, c.operation)).or_insert(0) += 1;
        }
        out
    }

    /// Calls answered with throttling because they were above a rate limit.
    pub fn rate_limited(&self) -> usize {
        self.calls().iter().filter(|c| c.fault == Some("rate_limited")).count()
    }

    pub fn reset_counts(&self) {
        self.state.lock().unwrap().calls.clear();
    }

    /// SIGKILL `pid` right after the `k`-th call from now has been forwarded.
    pub fn kill_at(&self, k: usize, pid: u32) {
        let mut s = self.state.lock().unwrap();
        let base = s.calls.len();
        s.kill_at = Some((base + k, pid));
    }
}

/// One HTTP/1.1 request: the head's lines and the body.
struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn method_and_path(&self) -> (&str, &str) {
        let mut parts = self.head[0].split(' ');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut req = Request { head, body: Vec::new() };
    let len: usize = req.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    req.body = vec![0; len];
    r.read_exact(&mut req.body).ok()?;
    Some(req)
}

/// The access key and region of a request's SigV4 credential scope.
fn scope(req: &Request) -> (String, String) {
    let auth = req.header("authorization").unwrap_or("");
    let mut parts = auth.split("Credential=").nth(1).unwrap_or("").split('/');
    let key = parts.next().unwrap_or("").to_string();
    let region = parts.nth(1).unwrap_or("").to_string();
    (key, region)
}

/// The service (from the SigV4 credential scope) and operation of a request.
fn classify(req: &Request) -> (String, String, Protocol) {
    let auth = req.header("authorization").unwrap_or("");
    let service = auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(3)).unwrap_or("unknown").to_string();
    if let Some(target) = req.header("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or(target).to_string();
        return (service, op, Protocol::AwsJson);
    }
    let body = String::from_utf8_lossy(&req.body);
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        // EC2's query protocol answers errors in its own XML (Response/Errors/Error).
        let protocol = if service == "ec2" { Protocol::Ec2 } else { Protocol::Query };
        return (service, action.to_string(), protocol);
    }
    let (method, path) = req.method_and_path();
    let path = path.split('?').next().unwrap_or(path);
    // REST paths: the method and the path with ids and names left out.
    let shape: Vec<&str> = path
        .trim_start_matches("http://")
        .split('/')
        .skip(if path.starts_with("http://") { 1 } else { 0 })
        .filter(|s| !s.is_empty() && !s.chars().any(|c| c.is_ascii_digit()))
        .take(3)
        .collect();
    let protocol = if service == "s3" { Protocol::RestXml } else { Protocol::RestJson };
    (service, format!("{method} /{}", shape.join("/")), protocol)
}

#[derive(Debug, Clone, Copy)]
enum Protocol {
    AwsJson,
    RestJson,
    RestXml,
    Query,
    Ec2,
}

fn error_response(protocol: Protocol, status: u16, code: &str) -> Vec<u8> {
    let (ctype, body) = match protocol {
        Protocol::AwsJson | Protocol::RestJson => {
            ("application/x-amz-json-1.1", format!(r#"{{"__type":"{code}","message":"injected by the test proxy"}}"#))
        }
        Protocol::RestXml => (
            "application/xml",
            format!("<Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"),
        ),
        Protocol::Ec2 => (
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error></Errors><RequestID>proxy</RequestID></Response>"
            ),
        ),
        Protocol::Query => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected by the test proxy</Message></Error></ErrorResponse>"
            ),
        ),
    };
    let reason = match status {
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn throttle(protocol: Protocol) -> Vec<u8> {
    match protocol {
        Protocol::AwsJson => error_response(protocol, 400, "ThrottlingException"),
        Protocol::RestJson => error_response(protocol, 429, "TooManyRequestsException"),
        Protocol::RestXml => error_response(protocol, 503, "SlowDown"),
        Protocol::Query => error_response(protocol, 400, "Throttling"),
        // EC2 throttles with 503 RequestLimitExceeded (EC2 API reference, errors).
        Protocol::Ec2 => error_response(protocol, 503, "RequestLimitExceeded"),
    }
}

/// Forward one request to the emulator and return its complete response, re-framed
/// with a Content-Length.
fn forward(upstream: &str, req: &Request) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    let mut head: Vec<String> =
        req.head.iter().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).cloned().collect();
    head.push("Connection: close".into());
    up.write_all((head.join("\r\n") + "\r\n\r\n").as_bytes())?;
    up.write_all(&req.body)?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or(std::io::ErrorKind::InvalidData)?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    let mut out: Vec<String> = head
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !(l.starts_with("content-length:") || l.starts_with("transfer-encoding:") || l.starts_with("connection:"))
        })
        .map(str::to_string)
        .collect();
    out.push(format!("Content-Length: {}", body.len()));
    let mut bytes = (out.join("\r\n") + "\r\n\r\n").into_bytes();
    bytes.extend(body);
    Ok(bytes)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).split(';').next().unwrap().trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// Close with a TCP reset, as a broken network or a crashed peer does.
fn reset(conn: TcpStream) {
    let _ = socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO));
    drop(conn);
}

/// Take a token from the bucket of the call's limit, if it has one; false: throttle.
fn within_limit(
    state: &Mutex<State>,
    limits: &[RateLimit],
    service: &str,
    operation: &str,
    key: &str,
    region: &str,
) -> bool {
    let own = limits.iter().position(|l| l.service == service && l.operation.as_deref() == Some(operation));
    let Some(i) = own.or_else(|| limits.iter().position(|l| l.service == service && l.operation.is_none())) else {
        return true;
    };
    let now = Instant::now();
    let mut s = state.lock().unwrap();
    let (tokens, last) = s.buckets.entry((i, key.to_string(), region.to_string())).or_insert((limits[i].burst, now));
    *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * limits[i].per_second).min(limits[i].burst);
    *last = now;
    if *tokens >= 1.0 {
        *tokens -= 1.0;
        true
    } else {
        false
    }
}

/// Id-like tokens of a text: runs of letters, digits and `-_.+=` of at least 8
/// characters that are not plain words, after percent-decoding.
pub fn tokens(text: &str) -> Vec<String> {
    let decoded = percent_decode(text);
    let mut out: Vec<String> = decoded
        .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.+=".contains(c)))
        // `key=value` is two tokens; trailing `=` is base64 padding.
        .flat_map(|t| match t.find('=') {
            Some(i) if !t[i..].trim_start_matches('=').is_empty() => vec![&t[..i], t[i..].trim_start_matches('=')],
            _ => vec![t],
        })
        .filter(|t| t.len() >= 8 && !t.chars().all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.'))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(
    conn: TcpStream,
    upstream: &str,
    faults: &Faults,
    rng: &Mutex<fastrand::Rng>,
    state: &Mutex<State>,
    started: Instant,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    while let Some(req) = read_request(&mut reader) {
        let arrived = started.elapsed();
        let (service, operation, protocol) = classify(&req);
        let (access_key, region) = scope(&req);
        let limited = !within_limit(state, &faults.limits, &service, &operation, &access_key, &region);
        let eligible = faults.only.as_ref().is_none_or(|ops| ops.contains(&operation));
        let (roll, jitter) = {
            let mut r = rng.lock().unwrap();
            (r.f64(), r.f64())
        };
        let fault = if limited {
            Some("rate_limited")
        } else if !eligible {
            None
        } else {
            let mut edge = 0.0;
            [
                ("throttle", faults.throttle),
                ("server_error", faults.server_error),
                ("reset_before", faults.reset_before),
                ("reset_after", faults.reset_after),
            ]
            .into_iter()
            .find(|(_, p)| {
                edge += p;
                roll < edge
            })
            .map(|(name, _)| name)
        };
        let delay = faults.latency + faults.jitter.mul_f64(jitter);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let response = match fault {
            Some("throttle" | "rate_limited") => throttle(protocol),
            Some("server_error") => {
                if roll.to_bits() % 2 == 0 {
                    error_response(protocol, 500, "InternalFailure")
                } else {
                    error_response(protocol, 503, "ServiceUnavailable")
                }
            }
            Some("reset_before") => vec![],
            _ => forward(upstream, &req).unwrap_or_default(),
        };
        // The emulator itself failed to answer (no answer, or a 5xx): under
        // load it can, and the SDK tries again; recorded as such.
        let status: u16 = std::str::from_utf8(&response[..response.len().min(16)])
            .ok()
            .and_then(|head| head.split(' ').nth(1)?.parse().ok())
            .unwrap_or(0);
        let fault = fault.or((status == 0 || status >= 500).then_some("emulator_failed"));
        let (sent, received) = if faults.trace_tokens {
            let (_, path) = req.method_and_path();
            let path = path.strip_prefix("http://").map_or(path, |p| p.split_once('/').map_or("", |(_, rest)| rest));
            let mut sent = tokens(&format!("{path} {}", String::from_utf8_lossy(&req.body)));
            sent.push(access_key.clone());
            let body =
                response.windows(4).position(|w| w == b"\r\n\r\n").map_or(&response[..0], |i| &response[i + 4..]);
            (sent, tokens(&String::from_utf8_lossy(body)))
        } else {
            (vec![], vec![])
        };
        let kill = {
            let mut s = state.lock().unwrap();
            let end = started.elapsed();
            s.calls.push(Call { service, operation, fault, region, access_key, start: arrived, end, sent, received });
            let n = s.calls.len();
            match s.kill_at {
                Some((k, pid)) if k == n => {
                    s.kill_at = None;
                    Some(pid)
                }
                _ => None,
            }
        };
        if response.is_empty() {
            return reset(conn); // reset before forwarding, or the emulator did not answer
        }
        if let Some(pid) = kill {
            // The call reached AWS; the process dies before it reads the answer.
            let _ = std::process::Command::new("kill").arg("-9").arg(pid.to_string()).status();
            return reset(conn);
        }
        if fault == Some("reset_after") {
            return reset(conn);
        }
        if conn.write_all(&response).is_err() {
            return;
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}

/// How long a run took, for benchmarks.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}
