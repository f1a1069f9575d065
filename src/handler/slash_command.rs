//! A slash command, once its request is known to come from Slack.

use tokio::time::Instant;

use crate::command::{Command, usage};
use crate::dispatch::{Job, Requester};
use crate::slack::form::SlashCommandForm;
use crate::slack::reply::Reply;
use crate::slack::response_url::ResponseUrl;
use crate::state::AppState;

/// The answer to one slash command, whichever door it came through (the
/// HTTP route, Socket Mode): check who asks, parse, send, reply.
/// `received_at` is when the request arrived, which the ack budget counts
/// from.
pub async fn slash_command(state: &AppState, form: SlashCommandForm, received_at: Instant) -> Reply {
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
