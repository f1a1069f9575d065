//! `POST /slack/interactions`: Slack's interactivity request URL. Read and
//! verified like a command; the form's one field, `payload`, is JSON for
//! [`handler::interaction`].

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tokio::time::Instant;

use super::slack_request::{SlackRequestError, counted, read_verified};
use crate::handler;
use crate::state::AppState;

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

pub async fn slack_interactions(
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
    let form: InteractionForm = serde_urlencoded::from_bytes(&body).map_err(|e| {
        tracing::warn!(error = %e, "refused a signed request whose body is not an interaction form");
        SlackRequestError::NotAForm
    })?;
    let answer = handler::interaction(state, &form.payload, received_at).await.map_err(|e| {
        tracing::warn!(error = %e, "refused a signed interaction whose payload is not Slack's JSON");
        SlackRequestError::NotAForm
    })?;
    Ok(match answer {
        Some(body) => HttpResponse::Ok().content_type("application/json").body(body.to_string()),
        None => HttpResponse::Ok().finish(),
    })
}
