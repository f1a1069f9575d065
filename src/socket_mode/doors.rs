//! The Socket Mode door onto the handlers every door shares: an envelope's
//! payload decoded into the HTTP route's types, answered by the same
//! function, the answer serialised as the route's response body would be.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::time::Instant;

use super::dedup::Payload;
use super::{Answer, EnvelopeHandler, answer_of};
use crate::handler;
use crate::slack::form::SlashCommandForm;
use crate::state::AppState;

pub struct Doors {
    state: Arc<AppState>,
}

impl Doors {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl EnvelopeHandler for Doors {
    fn slash_command(&self, payload: Value, received_at: Instant) -> BoxFuture<'static, Answer> {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            // The payload has the form's fields, as JSON: the same type, the
            // same answer.
            let form = match serde_json::from_value::<SlashCommandForm>(payload) {
                Ok(form) => form,
                Err(e) => {
                    tracing::warn!(error = %e, "a slash_commands envelope without the slash-command fields; acknowledged without an answer");
                    return None;
                }
            };
            // `None` is the route's empty body (a form was opened instead).
            let reply = handler::slash_command(&state, form, received_at).await?;
            answer_of(reply.to_json())
        })
    }

    fn interaction(&self, payload: Value, received_at: Instant) -> BoxFuture<'static, Answer> {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            // The HTTP route gets this JSON as the text of its `payload` field.
            match handler::interaction(&state, &payload.to_string(), received_at).await {
                // A JSON value always serialises.
                Ok(answer) => answer.and_then(|value| serde_json::value::to_raw_value(&value).ok().map(Payload::from)),
                Err(e) => {
                    tracing::warn!(error = %e, "an interactive envelope whose payload is not Slack's JSON; acknowledged without an answer");
                    None
                }
            }
        })
    }

    fn reconnecting(&self, reason: &'static str) {
        self.state.metrics.socket_mode_reconnect(reason);
    }

    fn connected(&self, up: bool) {
        self.state.metrics.socket_mode_connected(up);
        // Only where Socket Mode is the one door does readiness wait for it.
        if !self.state.signing_secret.is_set() {
            self.state.wait_for_slack(!up);
        }
    }
}
