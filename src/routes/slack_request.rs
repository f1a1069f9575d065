//! What every request from Slack goes through before its handler, on every
//! route Slack posts to (/slack/commands, /slack/interactions): the body
//! read within a size and time limit, Slack's certificate probe answered,
//! the signature checked over the raw bytes.
//!
//! Protocol failures (signature, size, form) get 4xx without a body worth
//! reading; everything a user can act on gets a 200 with a message, because
//! Slack shows a user nothing of a 4xx/5xx but a generic error.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap, HeaderName};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::slack::form::is_ssl_check;
use crate::slack::replay::Replayed;
use crate::slack::signature::{self, SignatureError};
use crate::state::AppState;

/// Slack's command forms are well under 4 KiB and a submitted form's payload
/// under 8 KiB; 16 KiB leaves room for long text without letting anyone make
/// us buffer much.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Slack's signature headers, named once: a header looked up by a `&str`
/// name that is not a standard one copies that name on every lookup.
static TIMESTAMP: HeaderName = HeaderName::from_static("x-slack-request-timestamp");
static SIGNATURE: HeaderName = HeaderName::from_static("x-slack-signature");

#[derive(Debug, thiserror::Error)]
pub enum SlackRequestError {
    #[error("the request body is larger than 16 KiB")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    SlowBody,
    #[error("the request body could not be read")]
    BodyBroken,
    #[error("the Slack signature is not valid: {0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Replayed(#[from] Replayed),
    #[error("the body is not the form Slack sends")]
    NotAForm,
}

impl ResponseError for SlackRequestError {
    fn status_code(&self) -> StatusCode {
        match self {
            SlackRequestError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            SlackRequestError::SlowBody => StatusCode::REQUEST_TIMEOUT,
            SlackRequestError::BodyBroken | SlackRequestError::NotAForm => StatusCode::BAD_REQUEST,
            // A replay is refused like a bad signature: the contract's answer
            // for a request that is not Slack's (Slack does not retry slash
            // commands or form submissions, so a second copy is not Slack's).
            SlackRequestError::Signature(_) | SlackRequestError::Replayed(_) => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The reason is in our log; the caller learns only the class.
        let text = match self {
            SlackRequestError::Signature(_) => "invalid Slack signature\n",
            SlackRequestError::Replayed(_) => "request already received\n",
            SlackRequestError::TooLarge => "request body too large\n",
            SlackRequestError::SlowBody => "request body too slow\n",
            SlackRequestError::BodyBroken | SlackRequestError::NotAForm => "bad request\n",
        };
        HttpResponse::build(self.status_code()).content_type("text/plain").body(text)
    }
}

/// `result`, with a refusal counted by its status for the operators' metric.
pub fn counted<T>(state: &AppState, result: Result<T, SlackRequestError>) -> Result<T, SlackRequestError> {
    if let Err(e) = &result {
        state.metrics.request_rejected(e.status_code().as_u16());
    }
    result
}

/// The body of a request that came from Slack, or `None` for Slack's
/// certificate probe (`ssl_check=1`), which only needs a 200.
pub async fn read_verified(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Option<web::Bytes>, SlackRequestError> {
    let body = read_body(req.headers(), payload, state).await?;
    if is_ssl_check(&body) {
        return Ok(None);
    }
    verify_signature(req, &body, state)?;
    Ok(Some(body))
}

async fn read_body(
    headers: &HeaderMap,
    payload: web::Payload,
    state: &AppState,
) -> Result<web::Bytes, SlackRequestError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(SlackRequestError::TooLarge);
    }
    // The limit is enforced while reading: a lying or absent Content-Length
    // cannot make us buffer more than 16 KiB. The timeout cuts off bodies
    // that trickle in to hold a connection open.
    let declared = declared.map(|len| len as usize);
    match tokio::time::timeout(state.body_timeout, read_limited(payload, declared)).await {
        Err(_) => Err(SlackRequestError::SlowBody),
        Ok(result) => result,
    }
}

/// The whole body, at most [`MAX_BODY_BYTES`] of it. A Slack form arrives in
/// one piece, which is kept as it came, with no copy; only a body that
/// arrives in pieces is gathered, into a buffer sized from Content-Length.
/// (actix's `to_bytes_limited` would allocate 32 KiB for every request.)
async fn read_limited(mut payload: web::Payload, declared: Option<usize>) -> Result<web::Bytes, SlackRequestError> {
    use futures_util::StreamExt;

    let mut first: Option<web::Bytes> = None;
    let mut gathered: Option<web::BytesMut> = None;
    let mut len = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| SlackRequestError::BodyBroken)?;
        len += chunk.len();
        if len > MAX_BODY_BYTES {
            return Err(SlackRequestError::TooLarge);
        }
        match (&mut gathered, first.take()) {
            (Some(buffer), _) => buffer.extend_from_slice(&chunk),
            (None, None) => first = Some(chunk),
            (None, Some(earlier)) => {
                let capacity = declared.unwrap_or(2 * len).clamp(len, MAX_BODY_BYTES);
                let mut buffer = web::BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&chunk);
                gathered = Some(buffer);
            }
        }
    }
    Ok(match (gathered, first) {
        (Some(buffer), _) => buffer.freeze(),
        (None, Some(whole)) => whole,
        (None, None) => web::Bytes::new(),
    })
}

fn verify_signature(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<(), SlackRequestError> {
    let header = |name: &HeaderName| req.headers().get(name).map(|v| v.as_bytes());
    let now = state.clock.now_unix();
    let result = signature::verify(&state.signing_secret, header(&TIMESTAMP), header(&SIGNATURE), body, now);
    if let Err(e) = &result {
        let peer = peer(req, state);
        match e {
            SignatureError::Expired { skew_secs } => tracing::warn!(
                reason = e.kind(),
                skew_secs,
                peer,
                "refused a Slack request: its timestamp is {} s {} this server's clock; if every request \
                 shows about the same offset, fix this server's clock (NTP)",
                skew_secs.unsigned_abs(),
                if *skew_secs > 0 { "ahead of" } else { "behind" }
            ),
            SignatureError::NotConfigured => tracing::warn!(
                reason = e.kind(),
                peer,
                "refused an HTTP request: SLACK_SIGNING_SECRET is not set, so only Socket Mode is served; set it \
                 to serve Slack's HTTP requests too"
            ),
            _ => tracing::warn!(reason = e.kind(), peer, "refused a request with an invalid Slack signature"),
        }
        state.metrics.signature_rejected(e.kind());
    }
    result?;
    // Only a verified signature is remembered, so nobody without the secret
    // can fill the memory or block a request that has yet to come.
    if let Err(replayed) = state.replays.first_sighting(header(&SIGNATURE).unwrap_or_default(), now) {
        tracing::warn!(
            reason = "replayed",
            age_secs = replayed.age_secs,
            peer = peer(req, state),
            "refused a Slack request whose signature was already used: a replay; nothing was sent again"
        );
        state.metrics.signature_rejected("replayed");
        return Err(replayed.into());
    }
    Ok(())
}

/// Who sent the request, for the log: the TCP peer. `Forwarded` and
/// `X-Forwarded-For` are written by whoever sends the request, so they are
/// believed only when the operator says a proxy in front sets them
/// (TRUST_FORWARDED_HEADERS).
fn peer(req: &HttpRequest, state: &AppState) -> String {
    if state.trust_forwarded_headers {
        req.connection_info().realip_remote_addr().unwrap_or("unknown").to_owned()
    } else {
        req.peer_addr().map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string())
    }
}
