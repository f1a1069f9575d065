//! `POST /slack/commands`: read and verify the body, decode the form, and
//! hand it to [`handler::slash_command`].

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::time::Instant;

use super::slack_request::{SlackRequestError, counted, read_verified};
use crate::handler;
use crate::slack::form::SlashCommandForm;
use crate::state::AppState;

// Functions returning futures rather than `async fn`s, for the reason
// `handler::slash_command` gives: a command's request is boxed with these
// futures in it, and kept within 1 KiB it is a cached chunk.
#[allow(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice")]
pub fn slack_commands(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> impl Future<Output = Result<HttpResponse, SlackRequestError>> {
    async move {
        let answer = answer(req, payload, &state).await;
        counted(&state, answer)
    }
}

#[allow(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice")]
fn answer(
    req: HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> impl Future<Output = Result<HttpResponse, SlackRequestError>> + '_ {
    async move {
        let received_at = Instant::now();
        let Some(body) = read_verified(&req, payload, state).await? else {
            return Ok(HttpResponse::Ok().finish());
        };
        let form = SlashCommandForm::parse(&body).map_err(|e| {
            tracing::warn!(error = %e, "refused a signed request whose body is not a slash-command form");
            SlackRequestError::NotAForm
        })?;
        // The form owns what it took from the body.
        drop((body, req));
        Ok(match handler::slash_command(state, form, received_at).await {
            // A static value: `content_type("application/json")` would copy
            // the text into a new header value for every command.
            Some(reply) => HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
                .body(reply.to_json()),
            None => HttpResponse::Ok().finish(),
        })
    }
}
