use std::time::Duration;

use super::wire::{IdMessage, quota_detail};
use crate::outcome::Outcome;

/// How much of an error body is quoted back to the user.
pub(super) const MAX_REASON_CHARS: usize = 300;

/// Every way a sendContact call can fail. `Display` is the message the user
/// reads in English (its words live in the catalogue, `i18n::green_api`,
/// next to the Russian): what happened and what to do, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GreenApiError {
    /// 400, with GREEN-API's reason on one line.
    Rejected {
        reason: String,
    },
    /// 400 whose reason is about the instance (starting, not authorized,
    /// expired, deleted): only the admin can act on it.
    InstanceUnavailable {
        reason: String,
    },
    /// 401/403: the credentials or the URL are wrong.
    Unauthorized {
        status: u16,
    },
    /// 429 until the time for the call ran out.
    RateLimited,
    /// 466: the plan's quota is used up.
    QuotaExceeded {
        detail: Option<String>,
    },
    /// 499 or 5xx: the message may have been queued.
    ServerError {
        status: u16,
    },
    UnexpectedStatus {
        status: u16,
    },
    /// No answer in time: the message may have been queued.
    Timeout {
        after: Duration,
    },
    /// No connection: nothing was sent.
    Unreachable {
        cause: String,
    },
    /// The connection broke after the request went out.
    ConnectionLost {
        cause: String,
    },
    /// A 200 without an idMessage.
    MalformedResponse {
        detail: Malformed,
    },
    /// This process's own rate ceiling left no slot in time.
    Busy,
}

impl std::error::Error for GreenApiError {}

/// What was wrong with an answer that should have carried an idMessage (or
/// the JSON of a read); its words live in the catalogue with the error's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The body went on past the cap of `kib` KiB.
    TooLong { kib: usize },
    /// sendContact's 200 was not its JSON.
    NotJson,
    /// sendContact's 200 had no idMessage, or an empty one.
    NoIdMessage,
    /// A success status other than 200 (201-399).
    UnexpectedSuccess { status: u16 },
    /// A read method's 200 was not its JSON.
    ReadNotJson { method: &'static str },
}

impl GreenApiError {
    /// The error a non-200 answer stands for: the one status table for
    /// every method (sendContact retries a 429 before it gets here).
    pub(super) fn from_status(status: u16, body: &[u8], token: &str) -> Self {
        match status {
            400 => GreenApiError::bad_request(reason(body, token)),
            401 | 403 => GreenApiError::Unauthorized { status },
            429 => GreenApiError::RateLimited,
            466 => GreenApiError::QuotaExceeded { detail: quota_detail(body) },
            499..=599 => GreenApiError::ServerError { status },
            _ => GreenApiError::UnexpectedStatus { status },
        }
    }

    /// A 400 with GREEN-API's `reason`: about the instance, or about what
    /// was sent.
    pub fn bad_request(reason: String) -> Self {
        if is_about_the_instance(&reason) {
            GreenApiError::InstanceUnavailable { reason }
        } else {
            GreenApiError::Rejected { reason }
        }
    }

    /// Whether GREEN-API may have queued the message despite the error; such
    /// a call is never retried, since GREEN-API has no idempotency key.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self,
            GreenApiError::ServerError { .. }
                | GreenApiError::Timeout { .. }
                | GreenApiError::ConnectionLost { .. }
                | GreenApiError::MalformedResponse { .. }
        )
    }
}

impl Outcome {
    /// The outcome of a finished sendContact.
    pub fn of(result: &Result<IdMessage, GreenApiError>) -> Self {
        match result {
            Ok(_) => Outcome::Sent,
            Err(e) => e.into(),
        }
    }
}

/// Each error's name in the log and the metric label.
impl From<&GreenApiError> for Outcome {
    fn from(e: &GreenApiError) -> Self {
        match e {
            GreenApiError::Rejected { .. } => Outcome::Rejected,
            GreenApiError::InstanceUnavailable { .. } => Outcome::InstanceUnavailable,
            GreenApiError::Unauthorized { .. } => Outcome::Unauthorized,
            GreenApiError::RateLimited => Outcome::RateLimited,
            GreenApiError::QuotaExceeded { .. } => Outcome::QuotaExceeded,
            GreenApiError::ServerError { .. } => Outcome::ServerError,
            GreenApiError::UnexpectedStatus { .. } => Outcome::UnexpectedStatus,
            GreenApiError::Timeout { .. } => Outcome::Timeout,
            GreenApiError::Unreachable { .. } => Outcome::Unreachable,
            GreenApiError::ConnectionLost { .. } => Outcome::ConnectionLost,
            GreenApiError::MalformedResponse { .. } => Outcome::MalformedResponse,
            GreenApiError::Busy => Outcome::Busy,
        }
    }
}

/// The 400 reasons GREEN-API gives when the instance, not the request, is the
/// problem (`instance in starting process try later`, `instance is starting
/// or not authorized`, `Instance account is expired...`, `Instance is
/// deleted`).
fn is_about_the_instance(reason: &str) -> bool {
    let reason = reason.to_lowercase();
    ["starting process", "instance is starting", "not authorized", "is expired", "instance is deleted"]
        .iter()
        .any(|needle| reason.contains(needle))
}

/// GREEN-API's reason for a 400, as one short line of plain text.
fn reason(body: &[u8], token: &str) -> String {
    let text = String::from_utf8_lossy(body);
    // Error bodies come as plain text or as JSON with a message field.
    let text = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            ["message", "description", "error"]
                .iter()
                .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
        })
        .unwrap_or_else(|| text.into_owned());
    let line = one_line(&redact(&text, token), MAX_REASON_CHARS);
    if line.is_empty() { "no reason given".into() } else { line }
}

/// A reqwest error as text, without the URL (it holds the token) and with
/// the causes that say what went wrong ("Connection refused").
pub(super) fn describe(e: &reqwest::Error, token: &str) -> String {
    match std::error::Error::source(e) {
        Some(source) => describe_chain(source, token),
        // Without the URL, reqwest's own message is only the error kind.
        None => one_line(&redact(e.to_string().split(" for url").next().unwrap_or_default(), token), MAX_REASON_CHARS),
    }
}

/// An error and its causes as one line ("client error (Connect): tcp
/// connect error: Connection refused"); hyper's errors carry no URL, and the
/// token is taken out of whatever they do carry.
pub(super) fn describe_chain(e: &dyn std::error::Error, token: &str) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(err) = source {
        parts.push(err.to_string());
        source = err.source();
    }
    parts.dedup();
    one_line(&redact(&parts.join(": "), token), MAX_REASON_CHARS)
}

/// Belt and braces: whatever the text is, the token does not survive it.
fn redact(text: &str, token: &str) -> String {
    if token.is_empty() { text.to_owned() } else { text.replace(token, "***") }
}

pub(super) fn one_line(text: &str, max_chars: usize) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > max_chars {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_400_about_the_instance_sends_the_user_to_the_admin() {
        for reason in [
            "instance in starting process try later",
            "instance is starting or not authorized",
            "instance account not authorized",
            "Instance account is expired. Renew your instance from personal area",
            "Instance is deleted",
            "INSTANCE IN STARTING PROCESS",
        ] {
            let e = GreenApiError::from_status(400, reason.as_bytes(), "token");
            assert_eq!(e, GreenApiError::InstanceUnavailable { reason: reason.into() });
            assert!(e.to_string().contains("ask your admin") && !e.to_string().contains("check the chat id"), "{e}");
            assert!(!e.may_have_been_sent());
        }
        for reason in ["Validation failed", "Validation failed. Details: 'chatId' is required", "bad request data"] {
            let e = GreenApiError::from_status(400, reason.as_bytes(), "token");
            assert_eq!(e, GreenApiError::Rejected { reason: reason.into() });
        }
    }

    #[test]
    fn one_line_flattens_and_bounds_text() {
        assert_eq!(one_line("a\n\tb  c", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(redact("x/TOKEN/y", "TOKEN"), "x/***/y");
    }
}
