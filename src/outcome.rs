//! What a command came to, under one name for the log line (`outcome=`) and
//! the metric label (`slack_sendcontact_commands_total{outcome=...}`), so a
//! new outcome cannot be logged under one name and counted under another.
//! A leaf: each GREEN-API error's outcome is said in `green_api::error`, so
//! the client (which counts its calls in `metrics`) and this enum import in
//! one direction only.

use std::fmt;

/// What the user got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Help,
    /// The command opened the form; what it sends is counted when submitted.
    FormOpened,
    InvalidArguments,
    Refused,
    Rejected,
    InstanceUnavailable,
    Unauthorized,
    RateLimited,
    QuotaExceeded,
    ServerError,
    UnexpectedStatus,
    Timeout,
    Unreachable,
    ConnectionLost,
    MalformedResponse,
    Busy,
}

impl Outcome {
    /// Every outcome, in the order the metrics list them.
    pub const ALL: [Outcome; 17] = [
        Outcome::Sent,
        Outcome::Help,
        Outcome::FormOpened,
        Outcome::InvalidArguments,
        Outcome::Refused,
        Outcome::Rejected,
        Outcome::InstanceUnavailable,
        Outcome::Unauthorized,
        Outcome::RateLimited,
        Outcome::QuotaExceeded,
        Outcome::ServerError,
        Outcome::UnexpectedStatus,
        Outcome::Timeout,
        Outcome::Unreachable,
        Outcome::ConnectionLost,
        Outcome::MalformedResponse,
        Outcome::Busy,
    ];

    /// The names of [`Self::ALL`], in the same order: the metric's labels.
    pub const LABELS: [&'static str; 17] = {
        let mut labels = [""; 17];
        let mut i = 0;
        while i < labels.len() {
            labels[i] = Self::ALL[i].as_str();
            i += 1;
        }
        labels
    };

    /// The name in logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Help => "help",
            Outcome::FormOpened => "form_opened",
            Outcome::InvalidArguments => "invalid_arguments",
            Outcome::Refused => "refused",
            Outcome::Rejected => "rejected",
            Outcome::InstanceUnavailable => "instance_unavailable",
            Outcome::Unauthorized => "unauthorized",
            Outcome::RateLimited => "rate_limited",
            Outcome::QuotaExceeded => "quota_exceeded",
            Outcome::ServerError => "server_error",
            Outcome::UnexpectedStatus => "unexpected_status",
            Outcome::Timeout => "timeout",
            Outcome::Unreachable => "unreachable",
            Outcome::ConnectionLost => "connection_lost",
            Outcome::MalformedResponse => "malformed_response",
            Outcome::Busy => "busy",
        }
    }

    /// Where in [`Self::ALL`] this outcome is.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_each_outcome_at_its_own_index_under_a_distinct_name() {
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(outcome.index(), i, "{outcome}");
            assert_eq!(Outcome::LABELS[i], outcome.as_str());
        }
        let mut names = Outcome::LABELS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Outcome::ALL.len());
    }
}
