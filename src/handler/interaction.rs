//! A submitted form (`view_submission`), once its request is known to come
//! from Slack: checked with the command's own rules, sent once, and its
//! outcome posted where the user will see it.
//!
//! Slack closes the form on an empty 200 and shows `response_action:
//! errors` under the inputs; it does not wait for the send, so the outcome
//! goes through the Web API: a success into the channel the form was opened
//! from (or to the user alone, per SLACK_SUCCESS_VISIBILITY), a failure to
//! the user alone, and where the bot may not post there, into the user's
//! direct messages with the app.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use tracing::Instrument;

use super::form::{chat_choices, input_id};
use super::language::language_for;
use crate::command::{Field, Fields, SendContact};
use crate::dispatch::{Job, Requester, outcome_reply, outcome_reply_seen_by};
use crate::green_api::{GreenApiError, IdMessage};
use crate::i18n::modal::FieldError;
use crate::i18n::outcome::OutcomeText;
use crate::i18n::{Language, Localized};
use crate::outcome::Outcome;
use crate::slack::blocks::{Block, MAX_TEXT_CHARS, Text, truncate};
use crate::slack::modal::{
    CALLBACK_ID, Interaction, PayloadError, Submission, Suggestion, errors_response, options_response,
};
use crate::slack::reply::{Reply, ResponseType};
use crate::slack::web_api::{WebApi, WebApiError};
use crate::state::AppState;

/// How long the outcome may take to reach Slack, retries included. Slack's
/// rate limits reset within a minute; past this the user is told by hand.
const POST_BUDGET: Duration = Duration::from_secs(90);

/// The answer to one interaction payload (the `payload` field's JSON),
/// whichever door it came through: `None` acknowledges it with an empty
/// body (a valid form then closes), `Some` is the JSON body to answer with.
/// An error means the payload is not Slack's JSON (HTTP 400).
pub async fn interaction(state: &AppState, payload: &str, received_at: Instant) -> Result<Option<Value>, PayloadError> {
    let submission = match Interaction::parse(payload)? {
        Interaction::Submission(s) if s.callback_id == CALLBACK_ID => s,
        Interaction::Submission(s) => {
            tracing::debug!(callback_id = %s.callback_id.chars().take(40).collect::<String>(), "ignored a view this app did not open");
            return Ok(None);
        }
        Interaction::Suggestion(suggestion) => return Ok(Some(suggest(state, &suggestion, received_at).await)),
        Interaction::Other { kind } => {
            tracing::debug!(kind, "acknowledged an interaction this app does not act on");
            return Ok(None);
        }
    };
    let channel_id = submission.metadata.as_ref().map_or("", |m| m.channel_id.as_str()).to_owned();
    let span = tracing::error_span!(
        "form",
        request_id = state.request_id(),
        team_id = %submission.team_id,
        user_id = %submission.user_id,
        channel_id = %channel_id,
        // Filled in once the chat is routed.
        instance = tracing::field::Empty,
    );
    let answer = submit(state, submission, received_at).instrument(span).await;
    state.metrics.command_acknowledged(received_at.elapsed());
    Ok(answer)
}

/// The options of the form's chat menu for what the user typed so far.
/// Slack shows no error here: a menu this app does not fill, or a user the
/// allowlist refuses, gets no options (the submission then says why).
async fn suggest(state: &AppState, suggestion: &Suggestion, received_at: Instant) -> Value {
    let channel_id = suggestion.metadata.as_ref().map_or("", |m| m.channel_id.as_str());
    if suggestion.action_id != input_id(Field::ChatId)
        || state.allowlist.check(&suggestion.team_id, &suggestion.user_id, channel_id).is_err()
    {
        return options_response(Vec::new());
    }
    let language = match suggestion.metadata.as_ref().and_then(|m| m.language.as_deref()) {
        Some(code) => Language::from_code(code).unwrap_or_default(),
        None => language_for(state, &suggestion.user_id, received_at).await,
    };
    options_response(chat_choices(&state.registry, &suggestion.typed, channel_id, language))
}

async fn submit(state: &AppState, submission: Submission, received_at: Instant) -> Option<Value> {
    // A refusal is answered at once: the acknowledgement is the outcome.
    let log = |outcome: Outcome, detail: &str| {
        state.metrics.command(outcome);
        state.metrics.command_outcome_delivered(received_at.elapsed());
        tracing::info!(%outcome, detail, "form refused");
    };
    let language = match submission.metadata.as_ref().and_then(|m| m.language.as_deref()) {
        Some(code) => Language::from_code(code).unwrap_or_default(),
        None => language_for(state, &submission.user_id, received_at).await,
    };
    let chat_field = input_id(Field::ChatId);
    let (Some(metadata), Some(bot)) = (&submission.metadata, &state.bot) else {
        // Not a form this process opened (or the bot token is gone): its
        // outcome would have nowhere to go.
        log(Outcome::InvalidArguments, "form_out_of_date");
        let invocation = submission.metadata.as_ref().and_then(|m| m.invocation.as_deref()).unwrap_or("/sendcontact");
        let text = OutcomeText::FormOutOfDate { invocation }.localize(language);
        return Some(errors_response(&[(chat_field, text)]));
    };

    if let Err(refusal) = state.allowlist.check(&submission.team_id, &submission.user_id, &metadata.channel_id) {
        log(Outcome::Refused, refusal.kind());
        return Some(errors_response(&[(chat_field, refusal.localize(language))]));
    }

    let fields = Fields {
        chat_id: submission.value(input_id(Field::ChatId)),
        phone: submission.value(input_id(Field::Phone)),
        first_name: submission.value(input_id(Field::FirstName)),
        last_name: submission.value(input_id(Field::LastName)),
        company: submission.value(input_id(Field::Company)),
    };
    // The chat, chosen from the aliases or typed, is routed like a typed
    // command's, as from the channel the form was opened in.
    let send = match SendContact::from_fields(&fields, &state.registry, &metadata.channel_id) {
        Ok(send) => send,
        Err(errors) => {
            let kinds: Vec<_> = errors.iter().map(|e| e.kind()).collect();
            log(Outcome::InvalidArguments, &kinds.join(","));
            let errors: Vec<_> =
                errors.iter().map(|e| (input_id(e.field()), FieldError(e).localize(language))).collect();
            return Some(errors_response(&errors));
        }
    };

    let requester = Requester {
        team_id: submission.team_id.clone(),
        user_id: submission.user_id.clone(),
        channel_id: metadata.channel_id.clone(),
    };
    tracing::Span::current().record("instance", state.registry.get(send.instance).name());
    let job = Job { send, requester, response_url: None, received_at, language, visibility: state.success_visibility };
    let instance = state.dispatcher.instance_shown(&job).map(str::to_owned);
    let web_api = bot.web_api.clone();
    let metrics = Arc::clone(&state.metrics);
    let drain = state.dispatcher.drain();
    state.dispatcher.spawn_send(job, move |job, result| async move {
        // A rate-limited Slack may ask for longer than the process has left
        // once it is stopping: the post gives up in time to say so.
        let posted = tokio::select! {
            posted = post_outcome(&web_api, &job, instance.as_deref(), &result) => posted.map_err(|e| e.to_string()),
            () = drain.cut_off() => Err("the service stopped before Slack took the outcome".to_owned()),
        };
        if let Err(error) = &posted {
            log_undelivered(&job, &result, error);
        }
        metrics.deferred_delivery(posted.is_ok());
        if posted.is_ok() {
            metrics.command_outcome_delivered(job.received_at.elapsed());
        }
    });
    None
}

/// Posts the outcome where the user will see it.
async fn post_outcome(
    api: &WebApi,
    job: &Job,
    instance: Option<&str>,
    result: &Result<IdMessage, GreenApiError>,
) -> Result<(), WebApiError> {
    let deadline = Instant::now() + POST_BUDGET;
    let r = &job.requester;
    let reply = outcome_reply(job, result, instance);
    let posted = match reply.response_type {
        ResponseType::InChannel => api.post_message(&r.channel_id, &reply.message(), deadline).await,
        ResponseType::Ephemeral => api.post_ephemeral(&r.channel_id, &r.user_id, &reply.message(), deadline).await,
    };
    match posted {
        Err(e) if e.may_not_post_there() => {
            tracing::info!(error = %e, "may not post where the form was opened; sending the outcome as a direct message");
            post_direct(api, job, instance, result, deadline).await
        }
        posted => posted,
    }
}

/// The user who submitted the form learns nothing from Slack: all a person
/// needs to tell them by hand, on one line.
fn log_undelivered(job: &Job, result: &Result<IdMessage, GreenApiError>, error: &str) {
    let r = &job.requester;
    tracing::error!(
        team_id = %r.team_id,
        user_id = %r.user_id,
        channel_id = %r.channel_id,
        chat_id = %job.send.chat_id.for_log(),
        outcome = %Outcome::of(result),
        id_message = result.as_ref().map(IdMessage::as_str).unwrap_or(""),
        error,
        "could not post the form's outcome to Slack; tell the user by hand"
    );
}

/// The outcome in the user's direct messages with the app, which only they
/// read: nothing masked, and a line saying why it is there.
async fn post_direct(
    api: &WebApi,
    job: &Job,
    instance: Option<&str>,
    result: &Result<IdMessage, GreenApiError>,
    deadline: Instant,
) -> Result<(), WebApiError> {
    let r = &job.requester;
    let channel = api.open_direct_message(&r.user_id, deadline).await?;
    let reply = outcome_reply_seen_by(job, result, instance, ResponseType::Ephemeral);
    // A direct conversation's id (`D…`) makes no `<#…>` link.
    let opened_in = Some(r.channel_id.as_str()).filter(|c| !c.starts_with('D'));
    let message = with_note(&reply, &OutcomeText::DirectMessageNote { channel: opened_in }.localize(job.language));
    api.post_message(&channel, &message, deadline).await
}

/// `reply` as a message that opens with `note` (Slack markup).
fn with_note(reply: &Reply, note: &str) -> Value {
    let section = |text: String| json!(Block::Section { text: Text::markup(text) });
    let mut blocks = vec![section(note.to_owned())];
    match reply.message().get_mut("blocks").map(Value::take) {
        Some(Value::Array(card)) => blocks.extend(card),
        _ => blocks.push(section(truncate(&reply.text, MAX_TEXT_CHARS))),
    }
    json!({"text": format!("{note}\n{}", reply.text), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::slack::blocks::{Card, check_message};

    #[test]
    fn a_direct_message_opens_with_the_note_then_the_card_or_the_text() {
        let card = Card {
            header: "Contact card sent",
            fields: vec![("Name", Cow::Owned("Ivan <I>".to_owned()))],
            context: "Sent by <@U1>".to_owned(),
        };
        let sent = with_note(&Reply::ephemeral_markup("Sent".to_owned()).with_card(card), "From <#C1>");
        assert_eq!(sent["text"], "From <#C1>\nSent");
        let types: Vec<_> = sent["blocks"].as_array().unwrap().iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["section", "header", "section", "context"]);
        assert_eq!(sent["blocks"][0]["text"]["text"], "From <#C1>");
        assert_eq!(sent["blocks"][2]["fields"][0]["text"], "*Name*\nIvan &lt;I&gt;");
        assert_eq!(check_message(&sent), Ok(()));

        let failed = with_note(&Reply::ephemeral("Not sent"), "From <#C1>");
        assert_eq!(
            failed["blocks"],
            json!([
                {"type": "section", "text": {"type": "mrkdwn", "text": "From <#C1>"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "Not sent"}},
            ])
        );
        assert_eq!(check_message(&failed), Ok(()));
    }
}
