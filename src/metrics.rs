//! Counters for `GET /metrics`, in the Prometheus text format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>).
//!
//! Every label set is fixed at compile time, so the counters are plain
//! atomics indexed by position: recording costs one relaxed add, and nothing
//! a request carries can grow the label space.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::outcome::Outcome;

/// Command outcomes: what the user got.
pub const COMMAND_OUTCOMES: &[&str] = &Outcome::LABELS;
/// One sendContact attempt, by HTTP status class, or how it failed without one.
pub const UPSTREAM_CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx", "timeout", "transport_error"];
pub const DEFERRED_OUTCOMES: &[&str] = &["delivered", "failed"];
pub const SIGNATURE_REASONS: &[&str] = &[
    "missing_timestamp",
    "missing_signature",
    "malformed_timestamp",
    "expired_timestamp",
    "unsupported_version",
    "malformed_signature",
    "mismatch",
    "not_configured",
];
/// Why Socket Mode opened a new connection: Slack's planned refresh, or a
/// connection lost (or never made) for one of these reasons.
pub const SOCKET_MODE_RECONNECTS: &[&str] =
    &["refresh_requested", "closed_by_slack", "dropped", "silent", "no_hello", "link_disabled", "open_failed"];
/// Upper bounds of the upstream latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Counters keyed by one of a fixed list of label values.
struct LabeledCounter {
    labels: &'static [&'static str],
    values: Box<[AtomicU64]>,
}

impl LabeledCounter {
    fn new(labels: &'static [&'static str]) -> Self {
        Self { labels, values: labels.iter().map(|_| AtomicU64::new(0)).collect() }
    }

    fn inc(&self, label: &str) {
        // Labels come from the code's own constants; an unknown one is a bug
        // caught in tests, and in production it is dropped, not a panic.
        debug_assert!(self.labels.contains(&label), "unknown metric label {label}");
        if let Some(i) = self.labels.iter().position(|l| *l == label) {
            self.values[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render(&self, out: &mut String, name: &str, label: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (value, counter) in self.labels.iter().zip(self.values.iter()) {
            let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {}", counter.load(Ordering::Relaxed));
        }
    }
}

struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: LATENCY_BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (le, bucket) in LATENCY_BUCKETS.iter().zip(self.buckets.iter()) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The process's metrics. One instance, shared by reference.
pub struct Metrics {
    commands: LabeledCounter,
    upstream_calls: LabeledCounter,
    upstream_latency: Histogram,
    deferred: LabeledCounter,
    signature_rejections: LabeledCounter,
    instance_type: OnceLock<String>,
    /// Rendered only where Socket Mode is on, so that an alert on it never
    /// fires for an HTTP-only deployment.
    socket_mode: OnceLock<SocketModeMetrics>,
}

struct SocketModeMetrics {
    connected: AtomicU64,
    reconnects: LabeledCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            commands: LabeledCounter::new(COMMAND_OUTCOMES),
            upstream_calls: LabeledCounter::new(UPSTREAM_CLASSES),
            upstream_latency: Histogram::new(),
            deferred: LabeledCounter::new(DEFERRED_OUTCOMES),
            signature_rejections: LabeledCounter::new(SIGNATURE_REASONS),
            instance_type: OnceLock::new(),
            socket_mode: OnceLock::new(),
        }
    }
}

impl Metrics {
    pub fn command(&self, outcome: Outcome) {
        self.commands.values[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// One sendContact attempt: its HTTP status (`None` when it ended
    /// without one) and how long it took.
    pub fn upstream_call(&self, status: Option<u16>, timed_out: bool, elapsed: Duration) {
        let class = match status {
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(_) => "5xx",
            None if timed_out => "timeout",
            None => "transport_error",
        };
        self.upstream_calls.inc(class);
        self.upstream_latency.observe(elapsed);
    }

    pub fn deferred_delivery(&self, delivered: bool) {
        self.deferred.inc(if delivered { "delivered" } else { "failed" });
    }

    pub fn signature_rejected(&self, reason: &str) {
        self.signature_rejections.inc(reason);
    }

    /// Whether a Socket Mode connection to Slack is up; the first call
    /// turns the Socket Mode series on.
    pub fn socket_mode_connected(&self, up: bool) {
        self.socket_mode().connected.store(u64::from(up), Ordering::Relaxed);
    }

    /// Socket Mode opened (or tried to open) a new connection, and why.
    pub fn socket_mode_reconnect(&self, reason: &str) {
        self.socket_mode().reconnects.inc(reason);
    }

    fn socket_mode(&self) -> &SocketModeMetrics {
        self.socket_mode.get_or_init(|| SocketModeMetrics {
            connected: AtomicU64::new(0),
            reconnects: LabeledCounter::new(SOCKET_MODE_RECONNECTS),
        })
    }

    /// GREEN-API's `typeInstance`, learnt once at start-up.
    pub fn set_instance_type(&self, instance_type: &str) {
        let _ = self.instance_type.set(instance_type.chars().filter(char::is_ascii_alphanumeric).take(32).collect());
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.commands.render(
            &mut out,
            "slack_sendcontact_commands_total",
            "outcome",
            "Slash commands handled, by what the user got.",
        );
        self.upstream_calls.render(
            &mut out,
            "slack_sendcontact_upstream_calls_total",
            "class",
            "GREEN-API sendContact attempts (429 retries included), by HTTP status class.",
        );
        self.upstream_latency.render(
            &mut out,
            "slack_sendcontact_upstream_duration_seconds",
            "Time from sending a sendContact attempt to its answer.",
        );
        self.deferred.render(
            &mut out,
            "slack_sendcontact_deferred_deliveries_total",
            "outcome",
            "Outcomes posted to response_url because GREEN-API was slower than the ack budget.",
        );
        self.signature_rejections.render(
            &mut out,
            "slack_sendcontact_signature_rejections_total",
            "reason",
            "Requests refused with 401 for their Slack signature.",
        );
        if let Some(socket_mode) = self.socket_mode.get() {
            let _ = writeln!(
                out,
                "# HELP slack_sendcontact_socket_mode_connected Whether a Socket Mode connection to Slack is up.\n\
                 # TYPE slack_sendcontact_socket_mode_connected gauge\n\
                 slack_sendcontact_socket_mode_connected {}",
                socket_mode.connected.load(Ordering::Relaxed)
            );
            socket_mode.reconnects.render(
                &mut out,
                "slack_sendcontact_socket_mode_reconnects_total",
                "reason",
                "New Socket Mode connections after the first, by why the previous one went (or a new one failed).",
            );
        }
        if let Some(kind) = self.instance_type.get() {
            let _ = writeln!(
                out,
                "# HELP slack_sendcontact_green_api_instance_info GREEN-API instance type reported by getSettings.\n\
                 # TYPE slack_sendcontact_green_api_instance_info gauge\n\
                 slack_sendcontact_green_api_instance_info{{type=\"{kind}\"}} 1"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_its_counts() {
        let metrics = Metrics::default();
        metrics.command(Outcome::Sent);
        metrics.command(Outcome::Sent);
        metrics.command(Outcome::Timeout);
        metrics.upstream_call(Some(200), false, Duration::from_millis(20));
        metrics.upstream_call(None, true, Duration::from_secs(40));
        metrics.deferred_delivery(true);
        metrics.signature_rejected("mismatch");
        metrics.set_instance_type("telegram");
        let text = metrics.render();
        for line in [
            "slack_sendcontact_commands_total{outcome=\"sent\"} 2",
            "slack_sendcontact_commands_total{outcome=\"timeout\"} 1",
            "slack_sendcontact_upstream_calls_total{class=\"2xx\"} 1",
            "slack_sendcontact_upstream_calls_total{class=\"timeout\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{le=\"0.01\"} 0",
            "slack_sendcontact_upstream_duration_seconds_bucket{le=\"0.025\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{le=\"30\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{le=\"+Inf\"} 2",
            "slack_sendcontact_upstream_duration_seconds_count 2",
            "slack_sendcontact_deferred_deliveries_total{outcome=\"delivered\"} 1",
            "slack_sendcontact_signature_rejections_total{reason=\"mismatch\"} 1",
            "slack_sendcontact_green_api_instance_info{type=\"telegram\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn socket_mode_series_appear_only_once_socket_mode_reports() {
        let metrics = Metrics::default();
        assert!(!metrics.render().contains("socket_mode"));
        metrics.socket_mode_connected(false);
        metrics.socket_mode_reconnect("silent");
        metrics.socket_mode_reconnect("silent");
        let text = metrics.render();
        assert!(text.lines().any(|l| l == "slack_sendcontact_socket_mode_connected 0"), "{text}");
        let line = r#"slack_sendcontact_socket_mode_reconnects_total{reason="silent"} 2"#;
        assert!(text.lines().any(|l| l == line), "{text}");
        metrics.socket_mode_connected(true);
        assert!(metrics.render().lines().any(|l| l == "slack_sendcontact_socket_mode_connected 1"));
    }

    #[test]
    fn every_signature_failure_has_a_label() {
        for e in crate::slack::signature::SignatureError::ALL {
            assert!(SIGNATURE_REASONS.contains(&e.kind()), "{}", e.kind());
        }
    }
}
