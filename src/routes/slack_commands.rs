//! `POST /slack/commands`: verify, decode, check, parse, send, reply.
//!
//! Protocol failures (signature, size, form) get 4xx without a body worth
//! reading; everything a user can act on gets a 200 with a message, because
//! Slack shows a user nothing of a 4xx/5xx but a generic error.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use tokio::time::Instant;

use crate::command::{Command, usage};
use crate::dispatch::{Job, Requester};
use crate::slack::form::{SlashCommandForm, is_ssl_check};
use crate::slack::reply::Reply;
use crate::slack::response_url::ResponseUrl;
use crate::slack::signature::{self, SignatureError};
use crate::startup::AppState;

/// Slack's command forms are well under 4 KiB; 16 KiB leaves room for long
/// text without letting anyone make us buffer much.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SlashCommandError {
    #[error("the request body is larger than 16 KiB")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    SlowBody,
    #[error("the request body could not be read")]
    BodyBroken,
    #[error("the Slack signature is not valid: {0}")]
    Signature(#[from] SignatureError),
    #[error("the body is not a URL-encoded form")]
    NotAForm,
}

impl ResponseError for SlashCommandError {
    fn status_code(&self) -> StatusCode {
        match self {
            SlashCommandError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            SlashCommandError::SlowBody => StatusCode::REQUEST_TIMEOUT,
            SlashCommandError::BodyBroken | SlashCommandError::NotAForm => StatusCode::BAD_REQUEST,
            SlashCommandError::Signature(_) => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The reason is in our log; the caller learns only the class.
        let text = match self {
            SlashCommandError::Signature(_) => "invalid Slack signature\n",
            SlashCommandError::TooLarge => "request body too large\n",
            SlashCommandError::SlowBody => "request body too slow\n",
            SlashCommandError::BodyBroken | SlashCommandError::NotAForm => "bad request\n",
        };
        HttpResponse::build(self.status_code()).content_type("text/plain").body(text)
    }
}

pub async fn slack_commands(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SlashCommandError> {
    let received_at = Instant::now();
    let body = read_body(req.headers(), payload, &state).await?;
    if is_ssl_check(&body) {
        return Ok(HttpResponse::Ok().finish());
    }
    verify_signature(&req, &body, &state)?;
    let form = SlashCommandForm::parse(&body).map_err(|e| {
        tracing::warn!(error = %e, "refused a signed request whose body is not a slash-command form");
        SlashCommandError::NotAForm
    })?;
    let reply = answer(form, &state, received_at).await;
    Ok(HttpResponse::Ok().content_type("application/json").body(reply.to_json()))
}

async fn read_body(
    headers: &HeaderMap,
    payload: web::Payload,
    state: &AppState,
) -> Result<web::Bytes, SlashCommandError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(SlashCommandError::TooLarge);
    }
    // The limit is enforced while reading: a lying or absent Content-Length
    // cannot make us buffer more than 16 KiB. The timeout cuts off bodies
    // that trickle in to hold a connection open.
    match tokio::time::timeout(state.body_timeout, payload.to_bytes_limited(MAX_BODY_BYTES)).await {
        Err(_) => Err(SlashCommandError::SlowBody),
        Ok(Err(_)) => Err(SlashCommandError::TooLarge),
        Ok(Ok(Err(_))) => Err(SlashCommandError::BodyBroken),
        Ok(Ok(Ok(body))) => Ok(body),
    }
}

fn verify_signature(req: &HttpRequest, body: &[u8], state: &AppState) -> Result<(), SlashCommandError> {
    let header = |name: &str| req.headers().get(name).map(|v| v.as_bytes());
    let result = signature::verify(
        &state.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        state.clock.now_unix(),
    );
    if let Err(e) = &result {
        let peer = req.connection_info().realip_remote_addr().unwrap_or("unknown").to_owned();
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
            _ => tracing::warn!(reason = e.kind(), peer, "refused a request with an invalid Slack signature"),
        }
        state.metrics.signature_rejected(e.kind());
    }
    Ok(result?)
}

async fn answer(form: SlashCommandForm, state: &AppState, received_at: Instant) -> Reply {
    let requester =
        Requester { team_id: form.team_id.clone(), user_id: form.user_id.clone(), channel_id: form.channel_id.clone() };
    let log = |outcome: &str, detail: &str| {
        state.metrics.command(outcome);
        tracing::info!(
            team_id = %requester.team_id,
            user_id = %requester.user_id,
            channel_id = %requester.channel_id,
            outcome,
            detail,
            "command finished"
        );
    };

    if let Err(refusal) = state.allowlist.check(&form.team_id, &form.user_id, &form.channel_id) {
        log("refused", refusal.kind());
        return Reply::ephemeral(&refusal.to_string());
    }

    let send = match Command::parse_text(&form.text) {
        Ok(Command::Help) => {
            log("help", "");
            return Reply::ephemeral(&usage(form.invocation()));
        }
        Err(e) => {
            log("invalid_arguments", e.kind());
            let mut text = format!("{e}.");
            if e.wants_usage() {
                text.push('\n');
                text.push_str(&usage(form.invocation()));
            }
            return Reply::ephemeral(&text);
        }
        Ok(Command::Send(send)) => send,
    };

    // The send does not depend on response_url: it is only needed when
    // GREEN-API is slower than the ack budget, and a URL on a host that is
    // not allowed is never followed.
    let response_url = match ResponseUrl::parse(form.response_url.as_deref(), &state.response_url_hosts) {
        Ok(url) => Some(url),
        Err(e) => {
            tracing::warn!(
                team_id = %requester.team_id,
                user_id = %requester.user_id,
                channel_id = %requester.channel_id,
                error = %e,
                "this command's response_url will not be followed: a late outcome can only be logged; \
                 if the host is Slack's, add it to SLACK_RESPONSE_URL_HOSTS"
            );
            None
        }
    };

    state.dispatcher.dispatch(Job { send, requester, response_url, received_at }).await
}
