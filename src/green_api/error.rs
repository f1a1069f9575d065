use std::time::Duration;

/// Every way a sendContact call can fail. `Display` is the message the user
/// reads: what happened and what to do, in plain words, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GreenApiError {
    #[error("GREEN-API refused the contact: {reason}. Nothing was sent; check the chat id and the phone number.")]
    Rejected { reason: String },

    #[error(
        "GREEN-API did not accept this bot's credentials (HTTP {status}). Nothing was sent; ask your admin to \
         check GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE."
    )]
    Unauthorized { status: u16 },

    #[error(
        "GREEN-API kept answering \"too many requests\" until the time for this command ran out. \
         Nothing was sent; try again in a minute."
    )]
    RateLimited,

    #[error(
        "The GREEN-API plan's quota is used up{}. Nothing was sent; ask your admin to upgrade the plan or wait \
         for the monthly reset.",
        detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    QuotaExceeded { detail: Option<String> },

    #[error(
        "GREEN-API had an internal problem (HTTP {status}). The contact may or may not have been sent: \
         check the chat before trying again."
    )]
    ServerError { status: u16 },

    #[error(
        "GREEN-API answered HTTP {status}, which this bot does not expect. Nothing was sent; ask your admin to \
         check GREEN_API_URL."
    )]
    UnexpectedStatus { status: u16 },

    #[error(
        "GREEN-API did not answer within {} s. The outcome is unknown: the contact may still arrive, so check the \
         chat before sending it again.",
        after.as_secs_f32()
    )]
    Timeout { after: Duration },

    #[error(
        "Could not connect to GREEN-API ({cause}). Nothing was sent; try again later, and tell your admin if it goes on."
    )]
    Unreachable { cause: String },

    #[error(
        "The connection to GREEN-API broke before it answered ({cause}). The contact may or may not have been \
         sent: check the chat before trying again."
    )]
    ConnectionLost { cause: String },

    #[error(
        "GREEN-API answered without a message id ({detail}). The contact may or may not have been sent: check \
         the chat before trying again."
    )]
    MalformedResponse { detail: String },

    #[error("Too many contacts are being sent right now. Nothing was sent; try again in a few seconds.")]
    Busy,
}

impl GreenApiError {
    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            GreenApiError::Rejected { .. } => "rejected",
            GreenApiError::Unauthorized { .. } => "unauthorized",
            GreenApiError::RateLimited => "rate_limited",
            GreenApiError::QuotaExceeded { .. } => "quota_exceeded",
            GreenApiError::ServerError { .. } => "server_error",
            GreenApiError::UnexpectedStatus { .. } => "unexpected_status",
            GreenApiError::Timeout { .. } => "timeout",
            GreenApiError::Unreachable { .. } => "unreachable",
            GreenApiError::ConnectionLost { .. } => "connection_lost",
            GreenApiError::MalformedResponse { .. } => "malformed_response",
            GreenApiError::Busy => "busy",
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
