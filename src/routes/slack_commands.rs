//! `POST /slack/commands`: read and verify the body, decode the form, and
//! hand it to [`handler::slash_command`].

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::time::Instant;

use super::slack_request::{SlackRequestError, counted, read_verified};
use crate::handler;
use crate::slack::form::SlashCommandForm;
use crate::state::AppState;

pub async fn slack_commands(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, SlackRequestError> {
    counted(&state, answer(req, payload, &state).await)
}

async fn answer(req: HttpRequest, payload: web::Payload, state: &AppState) -> Result<HttpResponse, SlackRequestError> {
    let received_at = Instant::now();
    let Some(body) = read_verified(&req, payload, state).await? else {
        return Ok(HttpResponse::Ok().finish());
    };
    let form = SlashCommandForm::parse(&body).map_err(|e| {
        tracing::warn!(error = %e, "refused a signed request whose body is not a slash-command form");
        SlackRequestError::NotAForm
    })?;
    Ok(match handler::slash_command(state, form, received_at).await {
        // A static value: `content_type("application/json")` would copy
        // the text into a new header value for every command.
        Some(reply) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .body(reply.to_json()),
        None => HttpResponse::Ok().finish(),
    })
}
