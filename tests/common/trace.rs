//! The critical path of a run, from the proxy's call trace: the longest chain of
//! calls each of which had to wait for an earlier one, because its request carried
//! something only that call's answer told (a page token, a detector id, an account
//! id, the access key an AssumeRole returned). Its length, in the calls' own
//! measured durations, bounds the wall time of any client that makes the same
//! calls against the same latencies, however concurrent.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::proxy::Call;

#[derive(Debug, Clone, PartialEq)]
pub struct CriticalPath {
    /// Sum of the durations of the calls on the path.
    pub bound: Duration,
    /// The calls on the path, first to last (indices into the trace).
    pub chain: Vec<usize>,
}

/// A call kind: (service, operation), as the proxy names them.
pub type Kind = (&'static str, &'static str);

/// Orders AWS documents that no token shows: in one account (access key) and
/// region (any region for IAM, a global service), the second call fails until
/// the first has succeeded. Config's PutDeliveryChannel answers
/// NoAvailableConfigurationRecorderException without a recorder, and
/// StartConfigurationRecorder NoAvailableDeliveryChannelException without a
/// delivery channel (Config API reference); the recorder's role is the service-
/// linked role IAM creates.
pub const DOCUMENTED_ORDERS: &[(Kind, Kind)] = &[
    (("iam", "CreateServiceLinkedRole"), ("config", "PutConfigurationRecorder")),
    (("config", "PutConfigurationRecorder"), ("config", "PutDeliveryChannel")),
    (("config", "PutDeliveryChannel"), ("config", "StartConfigurationRecorder")),
];

/// `ignore`: tokens every client knows without asking (the plan's regions, say).
pub fn critical_path(calls: &[Call], ignore: &[&str]) -> CriticalPath {
    // When the client first sent each token: a token it sent before any answer
    // carried it was known to it, not learned.
    let mut first_sent: HashMap<&str, Duration> = HashMap::new();
    for c in calls {
        for t in &c.sent {
            let e = first_sent.entry(t.as_str()).or_insert(c.start);
            *e = (*e).min(c.start);
        }
    }
    // Which calls' answers carried each token the client later sent.
    let mut producers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        if c.fault.is_some() {
            continue;
        }
        for t in &c.received {
            if let Some(&sent) = first_sent.get(t.as_str())
                && c.end <= sent
            {
                producers.entry(t.as_str()).or_default().push(i);
            }
        }
    }
    // Successful calls by (access key, service, operation), for the documented orders.
    let mut by_kind: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, c) in calls.iter().enumerate().filter(|(_, c)| c.fault.is_none()) {
        by_kind.entry((c.access_key.as_str(), c.service.as_str(), c.operation.as_str())).or_default().push(i);
    }
    let mut order: Vec<usize> = (0..calls.len()).collect();
    order.sort_by_key(|&i| calls[i].start);
    let mut finish: Vec<Duration> = vec![Duration::ZERO; calls.len()];
    let mut previous: Vec<Option<usize>> = vec![None; calls.len()];
    for &i in &order {
        let c = &calls[i];
        // For each token learned, the cheapest way to have learned it; the call
        // waits for the dearest of those.
        let mut wait: Option<(Duration, usize)> = None;
        for t in c.sent.iter().filter(|t| !ignore.contains(&t.as_str())) {
            let Some(ps) = producers.get(t.as_str()) else { continue };
            let cheapest = ps.iter().filter(|&&p| calls[p].end <= c.start).map(|&p| (finish[p], p)).min();
            if let Some(dep) = cheapest
                && wait.is_none_or(|w| dep.0 > w.0)
            {
                wait = Some(dep);
            }
        }
        // And, for an order AWS documents, the cheapest earlier call of the
        // kind it had to follow.
        for (before, after) in DOCUMENTED_ORDERS {
            if (c.service.as_str(), c.operation.as_str()) != *after {
                continue;
            }
            let cheapest = by_kind
                .get(&(c.access_key.as_str(), before.0, before.1))
                .into_iter()
                .flatten()
                .filter(|&&p| calls[p].end <= c.start && (before.0 == "iam" || calls[p].region == c.region))
                .map(|&p| (finish[p], p))
                .min();
            if let Some(dep) = cheapest
                && wait.is_none_or(|w| dep.0 > w.0)
            {
                wait = Some(dep);
            }
        }
        finish[i] = wait.map_or(Duration::ZERO, |w| w.0) + (c.end - c.start);
        previous[i] = wait.map(|w| w.1);
    }
    let Some(last) = (0..calls.len()).max_by_key(|&i| finish[i]) else {
        return CriticalPath { bound: Duration::ZERO, chain: vec![] };
    };
    let mut chain = vec![last];
    while let Some(p) = previous[*chain.last().unwrap()] {
        chain.push(p);
    }
    chain.reverse();
    CriticalPath { bound: finish[last], chain }
}

/// Calls by "service:Operation".
pub fn by_operation(calls: &[Call]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls {
        *out.entry(format!("{}:{}", c.service, c.operation)).or_insert(0) += 1;
    }
    out
}

/// The mean duration of a call as the proxy measured it (its added latency and
/// the emulator's time).
pub fn mean_latency(calls: &[Call]) -> Duration {
    if calls.is_empty() {
        return Duration::ZERO;
    }
    calls.iter().map(|c| c.end - c.start).sum::<Duration>() / calls.len() as u32
}

/// How long at least one call was in flight: the union of the calls' spans. Wall
/// time minus this is time the client spent with nothing sent (its own work, or
/// waits it added).
pub fn busy(calls: &[Call]) -> Duration {
    let mut spans: Vec<(Duration, Duration)> = calls.iter().map(|c| (c.start, c.end)).collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Duration, Duration)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    if let Some((cs, ce)) = current {
        total += ce - cs;
    }
    total
}
