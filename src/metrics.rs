//! Counters for `GET /metrics`, in the Prometheus text format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>).
//!
//! Every label set is fixed at compile time, so the counters are plain
//! atomics indexed by position: recording costs one relaxed add, and nothing
//! a request carries can grow the label space.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::outcome::Outcome;

/// This build's version, as Cargo.toml says.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this binary was built from, when the build said so
/// (`GIT_REVISION`, set by the Dockerfile's REVISION argument), else `unknown`.
pub fn revision() -> &'static str {
    match option_env!("GIT_REVISION").map(str::trim) {
        Some(revision) if !revision.is_empty() => revision,
        _ => "unknown",
    }
}

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
    "replayed",
];
/// Why Socket Mode opened a new connection: Slack's planned refresh, or a
/// connection lost (or never made) for one of these reasons.
pub const SOCKET_MODE_RECONNECTS: &[&str] =
    &["refresh_requested", "closed_by_slack", "dropped", "silent", "no_hello", "link_disabled", "open_failed"];
/// HTTP statuses a request to a Slack route is refused with before any
/// command is read: not Slack's (401), too big (413), too slow (408), not a form (400).
pub const REJECTION_STATUSES: &[&str] = &["400", "401", "408", "413"];
/// Upper bounds of the upstream latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Time to acknowledgement: dense around Slack's 3 s deadline (the ack budget
/// defaults to 2.5 s), so an alert can tell "close to it" from "past it".
const ACK_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 2.75, 3.0, 5.0];
/// Time to outcome: inline outcomes (under 3 s) and late ones, which may take
/// GREEN_API_TIMEOUT_MS plus response_url's retries.
const OUTCOME_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0];

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
        self.render_values(out, name, "", label);
    }

    /// The samples alone; `prefix` is label pairs to put first, with their
    /// trailing comma (`instance="telegram",`).
    fn render_values(&self, out: &mut String, name: &str, prefix: &str, label: &str) {
        for (value, counter) in self.labels.iter().zip(self.values.iter()) {
            let _ = writeln!(out, "{name}{{{prefix}{label}=\"{value}\"}} {}", counter.load(Ordering::Relaxed));
        }
    }
}

struct Histogram {
    bounds: &'static [f64],
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|le| secs <= *le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The samples of one labelled histogram; `labels` are the pairs
    /// without braces (`instance="telegram"`), or empty for none.
    fn render_values(&self, out: &mut String, name: &str, labels: &str) {
        let (bucket_labels, total_labels) = if labels.is_empty() {
            (String::new(), String::new())
        } else {
            (format!("{labels},"), format!("{{{labels}}}"))
        };
        let mut cumulative = 0;
        for (le, bucket) in self.bounds.iter().zip(self.buckets.iter()) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{bucket_labels}le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_bucket{{{bucket_labels}le=\"+Inf\"}} {count}\n{name}_sum{total_labels} {sum}\n\
             {name}_count{total_labels} {count}"
        );
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        self.render_values(out, name, "");
    }
}

/// What one GREEN-API instance's client records: its calls, their
/// latency, and its type once getSettings has said. Each client holds its
/// own, so recording needs no lookup by name.
pub struct InstanceMetrics {
    /// The instance's name: a lowercase word (checked with the
    /// configuration), so it goes into a label as is.
    name: String,
    calls: LabeledCounter,
    latency: Histogram,
    /// Sends waiting for their rate-limiter slot; signed, so that a
    /// decrement racing ahead of its increment cannot wrap around.
    rate_limiter_queue: AtomicI64,
    instance_type: OnceLock<String>,
}

/// A send waiting in its instance's rate-limiter queue, counted until
/// dropped (also when its command is dropped mid-wait).
#[must_use = "the send is counted as queued only while this lives"]
pub struct Queued<'a>(&'a AtomicI64);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct SocketModeMetrics {
    connected: AtomicU64,
    reconnects: LabeledCounter,
}

impl InstanceMetrics {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            calls: LabeledCounter::new(UPSTREAM_CLASSES),
            latency: Histogram::new(LATENCY_BUCKETS),
            rate_limiter_queue: AtomicI64::new(0),
            instance_type: OnceLock::new(),
        }
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
        self.calls.inc(class);
        self.latency.observe(elapsed);
    }

    /// GREEN-API's `typeInstance`, learnt once at start-up.
    pub fn set_instance_type(&self, instance_type: &str) {
        let _ = self.instance_type.set(instance_type.chars().filter(char::is_ascii_alphanumeric).take(32).collect());
    }

    /// Counts a send as waiting for its rate-limiter slot until the guard drops.
    pub fn queued_for_rate_limit(&self) -> Queued<'_> {
        self.rate_limiter_queue.fetch_add(1, Ordering::Relaxed);
        Queued(&self.rate_limiter_queue)
    }
}

/// The process's metrics. One instance, shared by reference.
pub struct Metrics {
    commands: LabeledCounter,
    /// One per GREEN-API instance, in the configuration's order.
    instances: Vec<Arc<InstanceMetrics>>,
    deferred: LabeledCounter,
    signature_rejections: LabeledCounter,
    rejected_requests: LabeledCounter,
    response_url_retries: AtomicU64,
    ack_latency: Histogram,
    outcome_latency: Histogram,
    /// Rendered only where Socket Mode is on, so that an alert on it never
    /// fires for an HTTP-only deployment.
    socket_mode: OnceLock<SocketModeMetrics>,
}

/// The name the one-instance form (GREEN_API_* variables) gives its
/// instance. Here rather than in `instances`, which imports this module.
pub const DEFAULT_INSTANCE_NAME: &str = "default";

/// One instance, called `default`: the GREEN_API_* form.
impl Default for Metrics {
    fn default() -> Self {
        Self::new(&[DEFAULT_INSTANCE_NAME])
    }
}

impl Metrics {
    /// Metrics for the named GREEN-API instances.
    pub fn new<S: AsRef<str>>(instance_names: &[S]) -> Self {
        Self {
            commands: LabeledCounter::new(COMMAND_OUTCOMES),
            instances: instance_names.iter().map(|name| Arc::new(InstanceMetrics::new(name.as_ref()))).collect(),
            deferred: LabeledCounter::new(DEFERRED_OUTCOMES),
            signature_rejections: LabeledCounter::new(SIGNATURE_REASONS),
            rejected_requests: LabeledCounter::new(REJECTION_STATUSES),
            response_url_retries: AtomicU64::new(0),
            ack_latency: Histogram::new(ACK_BUCKETS),
            outcome_latency: Histogram::new(OUTCOME_BUCKETS),
            socket_mode: OnceLock::new(),
        }
    }

    pub fn command(&self, outcome: Outcome) {
        self.commands.values[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics of the instance at `index` in the configuration; one
    /// past the end gets a detached set, recorded but never shown (a bug
    /// caught in tests rather than a panic in production).
    pub fn instance(&self, index: usize) -> Arc<InstanceMetrics> {
        debug_assert!(index < self.instances.len(), "no metrics for instance {index}");
        self.instances.get(index).cloned().unwrap_or_else(|| Arc::new(InstanceMetrics::new("unknown")))
    }

    pub fn deferred_delivery(&self, delivered: bool) {
        self.deferred.inc(if delivered { "delivered" } else { "failed" });
    }

    pub fn signature_rejected(&self, reason: &str) {
        self.signature_rejections.inc(reason);
    }

    /// A request to a Slack route refused with a 4xx before any command was
    /// read. Statuses outside [`REJECTION_STATUSES`] are not counted.
    pub fn request_rejected(&self, status: u16) {
        if let Some(i) = REJECTION_STATUSES.iter().position(|s| s.parse() == Ok(status)) {
            self.rejected_requests.values[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A response_url POST is about to be tried again.
    pub fn response_url_retry(&self) {
        self.response_url_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Slack got its answer to a command `elapsed` after the command arrived.
    pub fn command_acknowledged(&self, elapsed: Duration) {
        self.ack_latency.observe(elapsed);
    }

    /// The user got the command's outcome `elapsed` after it arrived: with
    /// the acknowledgement, or later through response_url or the bot's post.
    pub fn command_outcome_delivered(&self, elapsed: Duration) {
        self.outcome_latency.observe(elapsed);
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

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        let _ = writeln!(
            out,
            "# HELP slack_sendcontact_build_info The running build: version and git revision.\n\
             # TYPE slack_sendcontact_build_info gauge\n\
             slack_sendcontact_build_info{{version=\"{}\",revision=\"{}\"}} 1",
            label_value(VERSION),
            label_value(revision()),
        );
        self.ack_latency.render(
            &mut out,
            "slack_sendcontact_command_ack_seconds",
            "Time from a command's arrival to Slack's answer (Slack gives up after 3 s).",
        );
        self.outcome_latency.render(
            &mut out,
            "slack_sendcontact_command_outcome_seconds",
            "Time from a command's arrival to its outcome reaching the user, inline or later.",
        );
        self.commands.render(
            &mut out,
            "slack_sendcontact_commands_total",
            "outcome",
            "Slash commands handled, by what the user got.",
        );
        let calls = "slack_sendcontact_upstream_calls_total";
        let _ = writeln!(
            out,
            "# HELP {calls} GREEN-API sendContact attempts (429 retries included), by instance and HTTP status \
             class.\n# TYPE {calls} counter"
        );
        for instance in &self.instances {
            instance.calls.render_values(
                &mut out,
                calls,
                &format!("green_api_instance=\"{}\",", instance.name),
                "class",
            );
        }
        let latency = "slack_sendcontact_upstream_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {latency} Time from sending a sendContact attempt to its answer, by instance.\n\
             # TYPE {latency} histogram"
        );
        for instance in &self.instances {
            instance.latency.render_values(&mut out, latency, &format!("green_api_instance=\"{}\"", instance.name));
        }
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
        self.rejected_requests.render(
            &mut out,
            "slack_sendcontact_rejected_requests_total",
            "status",
            "Requests to a Slack route refused before any command was read, by HTTP status.",
        );
        let _ = writeln!(
            out,
            "# HELP slack_sendcontact_response_url_retries_total response_url POSTs tried again after a failure.\n\
             # TYPE slack_sendcontact_response_url_retries_total counter\n\
             slack_sendcontact_response_url_retries_total {}",
            self.response_url_retries.load(Ordering::Relaxed)
        );
        let queue = "slack_sendcontact_rate_limiter_queue";
        let _ = writeln!(
            out,
            "# HELP {queue} Sends waiting for their turn under their instance's rate limit.\n# TYPE {queue} gauge"
        );
        for instance in &self.instances {
            let waiting = instance.rate_limiter_queue.load(Ordering::Relaxed).max(0);
            let _ = writeln!(out, "{queue}{{green_api_instance=\"{}\"}} {waiting}", instance.name);
        }
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
        let known: Vec<(&str, &str)> = self
            .instances
            .iter()
            .filter_map(|i| i.instance_type.get().map(|kind| (i.name.as_str(), kind.as_str())))
            .collect();
        if !known.is_empty() {
            let info = "slack_sendcontact_green_api_instance_info";
            let _ =
                writeln!(out, "# HELP {info} GREEN-API instance type reported by getSettings.\n# TYPE {info} gauge");
            for (name, kind) in known {
                let _ = writeln!(out, "{info}{{green_api_instance=\"{name}\",type=\"{kind}\"}} 1");
            }
        }
        out
    }
}

/// `value` as a Prometheus label value: backslash, quote and newline escaped.
fn label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_its_counts() {
        let metrics = Metrics::new(&["telegram", "max"]);
        metrics.command(Outcome::Sent);
        metrics.command(Outcome::Sent);
        metrics.command(Outcome::Timeout);
        let telegram = metrics.instance(0);
        telegram.upstream_call(Some(200), false, Duration::from_millis(20));
        telegram.upstream_call(None, true, Duration::from_secs(40));
        metrics.instance(1).upstream_call(Some(400), false, Duration::from_millis(20));
        metrics.deferred_delivery(true);
        metrics.signature_rejected("mismatch");
        telegram.set_instance_type("telegram");
        let text = metrics.render();
        for line in [
            "slack_sendcontact_commands_total{outcome=\"sent\"} 2",
            "slack_sendcontact_commands_total{outcome=\"timeout\"} 1",
            "slack_sendcontact_upstream_calls_total{green_api_instance=\"telegram\",class=\"2xx\"} 1",
            "slack_sendcontact_upstream_calls_total{green_api_instance=\"telegram\",class=\"timeout\"} 1",
            "slack_sendcontact_upstream_calls_total{green_api_instance=\"telegram\",class=\"4xx\"} 0",
            "slack_sendcontact_upstream_calls_total{green_api_instance=\"max\",class=\"4xx\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{green_api_instance=\"telegram\",le=\"0.01\"} 0",
            "slack_sendcontact_upstream_duration_seconds_bucket{green_api_instance=\"telegram\",le=\"0.025\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{green_api_instance=\"telegram\",le=\"30\"} 1",
            "slack_sendcontact_upstream_duration_seconds_bucket{green_api_instance=\"telegram\",le=\"+Inf\"} 2",
            "slack_sendcontact_upstream_duration_seconds_count{green_api_instance=\"telegram\"} 2",
            "slack_sendcontact_upstream_duration_seconds_count{green_api_instance=\"max\"} 1",
            "slack_sendcontact_deferred_deliveries_total{outcome=\"delivered\"} 1",
            "slack_sendcontact_signature_rejections_total{reason=\"mismatch\"} 1",
            "slack_sendcontact_green_api_instance_info{green_api_instance=\"telegram\",type=\"telegram\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert!(!text.contains("green_api_instance=\"max\",type"), "{text}");
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
    fn renders_what_operators_alert_on() {
        let metrics = Metrics::default();
        metrics.command_acknowledged(Duration::from_millis(2600));
        metrics.command_acknowledged(Duration::from_millis(3100));
        metrics.command_outcome_delivered(Duration::from_secs(12));
        for status in [401, 401, 413, 408, 400, 404] {
            metrics.request_rejected(status);
        }
        metrics.response_url_retry();
        let default = metrics.instance(0);
        let first = default.queued_for_rate_limit();
        let second = default.queued_for_rate_limit();
        drop(first);
        let text = metrics.render();
        let build_info = format!(
            "slack_sendcontact_build_info{{version=\"{}\",revision=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            revision()
        );
        for line in [
            build_info.as_str(),
            "slack_sendcontact_command_ack_seconds_bucket{le=\"2.5\"} 0",
            "slack_sendcontact_command_ack_seconds_bucket{le=\"2.75\"} 1",
            "slack_sendcontact_command_ack_seconds_bucket{le=\"3\"} 1",
            "slack_sendcontact_command_ack_seconds_bucket{le=\"5\"} 2",
            "slack_sendcontact_command_ack_seconds_count 2",
            "slack_sendcontact_command_outcome_seconds_bucket{le=\"10\"} 0",
            "slack_sendcontact_command_outcome_seconds_bucket{le=\"15\"} 1",
            "slack_sendcontact_rejected_requests_total{status=\"401\"} 2",
            "slack_sendcontact_rejected_requests_total{status=\"413\"} 1",
            "slack_sendcontact_rejected_requests_total{status=\"408\"} 1",
            "slack_sendcontact_rejected_requests_total{status=\"400\"} 1",
            "slack_sendcontact_response_url_retries_total 1",
            "slack_sendcontact_rate_limiter_queue{green_api_instance=\"default\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert!(!text.contains("404"), "only the listed statuses are counted");
        drop(second);
        assert!(
            metrics
                .render()
                .lines()
                .any(|l| l == "slack_sendcontact_rate_limiter_queue{green_api_instance=\"default\"} 0")
        );
    }

    #[test]
    fn label_values_cannot_break_the_exposition_format() {
        assert_eq!(label_value("0.1.0"), "0.1.0");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_signature_failure_has_a_label() {
        for e in crate::slack::signature::SignatureError::ALL {
            assert!(SIGNATURE_REASONS.contains(&e.kind()), "{}", e.kind());
        }
    }
}
