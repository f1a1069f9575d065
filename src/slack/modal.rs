//! The form (a modal view, <https://docs.slack.dev/reference/views/modal-views>)
//! and the `view_submission` that comes back from it
//! (<https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload>).
//!
//! Slack-only: the texts arrive already in the reader's language, and the
//! submitted values leave as plain strings keyed by input id, for the
//! command's own parsers to judge.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::blocks::{Block, Element, SelectOption, Text, suggested_options, truncate};
use super::blocks::{MAX_HINT_CHARS, MAX_LABEL_CHARS, MAX_PLACEHOLDER_CHARS, MAX_VIEW_BUTTON_CHARS};

/// The view's `callback_id`: how a submission is recognised as this form.
pub const CALLBACK_ID: &str = "sendcontact";

/// One input of the form. Its `id` is both the block_id and the action_id,
/// so the submission and any error refer to it by the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub id: &'static str,
    pub label: String,
    /// An example shown in the empty field.
    pub placeholder: String,
    pub hint: Option<String>,
    pub optional: bool,
    /// The most characters Slack lets the user type.
    pub max_length: Option<u32>,
    /// A menu whose options the app suggests as the user types (a
    /// `block_suggestion` answered with them) instead of a text field.
    pub suggested: bool,
}

/// One entry of a menu: a chat alias, say. `value` comes back when chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

/// What the service needs back when the form is submitted, carried in the
/// view's `private_metadata` (which only this app sets; Slack returns it
/// untouched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Where the form was opened: where the outcome is posted.
    #[serde(rename = "c")]
    pub channel_id: String,
    /// The language the form was written in, so the outcome matches it.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// How the user started the command (`/sendcontact`), for messages.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<String>,
}

/// The form, its texts in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub submit: String,
    pub close: String,
    pub inputs: Vec<Input>,
    pub metadata: Metadata,
}

impl Form {
    /// The `view` object for views.open.
    pub fn view(&self) -> Value {
        let blocks: Vec<Block> = self.inputs.iter().map(input_block).collect();
        json!({
            "type": "modal",
            "callback_id": CALLBACK_ID,
            "title": Text::plain(truncate(&self.title, MAX_VIEW_BUTTON_CHARS)),
            "submit": Text::plain(truncate(&self.submit, MAX_VIEW_BUTTON_CHARS)),
            "close": Text::plain(truncate(&self.close, MAX_VIEW_BUTTON_CHARS)),
            "private_metadata": serde_json::to_string(&self.metadata).unwrap_or_default(),
            "blocks": blocks,
        })
    }
}

fn input_block(input: &Input) -> Block {
    let placeholder = Some(Text::plain(truncate(&input.placeholder, MAX_PLACEHOLDER_CHARS)));
    let element = if input.suggested {
        // Options from the first keystroke on, and before it: the whole list.
        Element::ExternalSelect { action_id: input.id.to_owned(), placeholder, min_query_length: 0 }
    } else {
        Element::PlainTextInput { action_id: input.id.to_owned(), placeholder, max_length: input.max_length }
    };
    Block::Input {
        block_id: input.id.to_owned(),
        label: Text::plain(truncate(&input.label, MAX_LABEL_CHARS)),
        element,
        hint: input.hint.as_ref().map(|h| Text::plain(truncate(h, MAX_HINT_CHARS))),
        optional: input.optional,
    }
}

/// An interaction payload (the `payload` field of a POST to the
/// interactivity URL), reduced to what this app acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// The form was submitted.
    Submission(Submission),
    /// The user opened or typed into a menu whose options the app suggests.
    Suggestion(Suggestion),
    /// Anything else (a closed view, a button, a shortcut): acknowledged,
    /// nothing done. `kind` is Slack's `type`, for the log.
    Other { kind: String },
}

/// A submitted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub callback_id: String,
    pub team_id: String,
    pub user_id: String,
    /// `None` when the view carries no metadata this app can read.
    pub metadata: Option<Metadata>,
    /// Each input's value by its id: a text field's text (empty when left
    /// blank), or the `value` of the chosen menu entry.
    pub values: HashMap<String, String>,
}

/// A `block_suggestion`: what the user typed so far into a suggested menu
/// (<https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub action_id: String,
    /// What the user typed; empty when the menu was just opened.
    pub typed: String,
    pub team_id: String,
    pub user_id: String,
    /// `None` when the view carries no metadata this app can read.
    pub metadata: Option<Metadata>,
}

impl Submission {
    pub fn value(&self, id: &str) -> &str {
        self.values.get(id).map(String::as_str).unwrap_or_default()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the interaction payload is not JSON Slack sends: {0}")]
pub struct PayloadError(#[from] serde_json::Error);

#[derive(Deserialize)]
struct RawPayload {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    team: Option<RawId>,
    #[serde(default)]
    user: Option<RawUser>,
    #[serde(default)]
    view: Option<RawView>,
    /// A `block_suggestion`'s menu and typed text.
    #[serde(default)]
    action_id: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct RawId {
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    id: String,
    #[serde(default)]
    team_id: String,
}

#[derive(Deserialize)]
struct RawView {
    #[serde(default)]
    callback_id: String,
    #[serde(default)]
    private_metadata: String,
    #[serde(default)]
    state: RawState,
}

#[derive(Deserialize, Default)]
struct RawState {
    #[serde(default)]
    values: HashMap<String, HashMap<String, RawValue>>,
}

#[derive(Deserialize)]
struct RawValue {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    selected_option: Option<RawOption>,
}

#[derive(Deserialize)]
struct RawOption {
    #[serde(default)]
    value: String,
}

impl Interaction {
    /// Parses the JSON of the `payload` form field.
    pub fn parse(payload: &str) -> Result<Self, PayloadError> {
        let raw: RawPayload = serde_json::from_str(payload)?;
        let user = raw.user.unwrap_or(RawUser { id: String::new(), team_id: String::new() });
        let team_id = raw.team.map(|t| t.id).filter(|t| !t.is_empty()).unwrap_or(user.team_id);
        let view = match (raw.kind.as_str(), raw.view) {
            ("view_submission", Some(view)) => view,
            ("block_suggestion", view) => {
                return Ok(Interaction::Suggestion(Suggestion {
                    action_id: raw.action_id,
                    typed: raw.value,
                    team_id,
                    user_id: user.id,
                    metadata: view.and_then(|v| serde_json::from_str(&v.private_metadata).ok()),
                }));
            }
            (kind, _) => return Ok(Interaction::Other { kind: kind.chars().take(40).collect() }),
        };
        let values = view
            .state
            .values
            .into_iter()
            .filter_map(|(block_id, mut actions)| {
                // block_id = action_id; a block with another action id is not ours.
                let value = actions.remove(&block_id)?;
                let value = value.value.or(value.selected_option.map(|o| o.value)).unwrap_or_default();
                Some((block_id, value))
            })
            .collect();
        Ok(Interaction::Submission(Submission {
            callback_id: view.callback_id,
            team_id,
            user_id: user.id,
            metadata: serde_json::from_str(&view.private_metadata).ok(),
            values,
        }))
    }
}

/// The answer to a [`Suggestion`]: `choices` as the menu's options, within
/// Slack's limits.
pub fn options_response(choices: Vec<Choice>) -> Value {
    suggested_options(choices.into_iter().map(|c| SelectOption { text: Text::plain(c.label), value: c.value }))
}

/// The answer that keeps the form open and shows `errors` (input id →
/// message) under their inputs.
pub fn errors_response(errors: &[(&str, String)]) -> Value {
    let errors: serde_json::Map<String, Value> =
        errors.iter().map(|(id, message)| ((*id).to_owned(), Value::String(truncate(message, 2000)))).collect();
    json!({"response_action": "errors", "errors": errors})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::blocks::check_modal;

    fn input(id: &'static str, suggested: bool) -> Input {
        Input {
            id,
            label: format!("{id} label"),
            placeholder: "e.g.".into(),
            hint: Some("hint".into()),
            optional: id != "phone",
            max_length: Some(256),
            suggested,
        }
    }

    fn form(suggested: bool) -> Form {
        Form {
            title: "Send a contact".into(),
            submit: "Send".into(),
            close: "Cancel".into(),
            inputs: vec![input("chat_id", suggested), input("phone", false)],
            metadata: Metadata {
                channel_id: "C1".into(),
                language: Some("ru".into()),
                invocation: Some("/sendcontact".into()),
            },
        }
    }

    #[test]
    fn the_view_names_each_input_by_one_id_and_carries_the_metadata() {
        let view = form(false).view();
        assert_eq!(check_modal(&view), Ok(()));
        assert_eq!(view["callback_id"], "sendcontact");
        assert_eq!(view["blocks"][0]["block_id"], "chat_id");
        assert_eq!(view["blocks"][0]["element"]["action_id"], "chat_id");
        assert_eq!(view["blocks"][0]["element"]["type"], "plain_text_input");
        assert_eq!(view["blocks"][1]["optional"], false);
        let metadata: Metadata = serde_json::from_str(view["private_metadata"].as_str().unwrap()).unwrap();
        assert_eq!(metadata, form(false).metadata);
    }

    #[test]
    fn a_suggested_input_is_a_menu_slack_asks_options_for_from_the_first_keystroke() {
        let view = form(true).view();
        assert_eq!(check_modal(&view), Ok(()));
        let element = &view["blocks"][0]["element"];
        assert_eq!(element["type"], "external_select");
        assert_eq!(element["action_id"], "chat_id");
        assert_eq!(element["min_query_length"], 0);
        assert_eq!(view["blocks"][1]["element"]["type"], "plain_text_input");
    }

    #[test]
    fn a_block_suggestion_gives_the_menu_the_typed_text_and_the_metadata() {
        let payload = json!({
            "type": "block_suggestion",
            "team": {"id": "T1"},
            "user": {"id": "U1", "team_id": "T1"},
            "action_id": "chat_id",
            "block_id": "chat_id",
            "value": "Sal",
            "view": {"callback_id": "sendcontact", "private_metadata": "{\"c\":\"C9\",\"l\":\"ru\"}"}
        });
        let Interaction::Suggestion(s) = Interaction::parse(&payload.to_string()).unwrap() else { panic!() };
        assert_eq!((s.action_id.as_str(), s.typed.as_str()), ("chat_id", "Sal"));
        assert_eq!((s.team_id.as_str(), s.user_id.as_str()), ("T1", "U1"));
        assert_eq!(s.metadata.map(|m| m.channel_id), Some("C9".to_owned()));
        let bare = json!({"type": "block_suggestion"});
        let Interaction::Suggestion(s) = Interaction::parse(&bare.to_string()).unwrap() else { panic!() };
        assert_eq!((s.typed.as_str(), s.metadata), ("", None));
    }

    #[test]
    fn a_submission_gives_text_and_menu_values_by_input_id() {
        let payload = json!({
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1", "team_id": "T1"},
            "view": {
                "callback_id": "sendcontact",
                "private_metadata": "{\"c\":\"C9\",\"l\":\"ru\"}",
                "state": {"values": {
                    "chat_id": {"chat_id": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Sales"}, "value": "sales"}}},
                    "phone": {"phone": {"type": "plain_text_input", "value": "+7 987 654-32-10"}},
                    "last_name": {"last_name": {"type": "plain_text_input", "value": null}},
                    "stray": {"other_action": {"type": "plain_text_input", "value": "x"}},
                }}
            }
        });
        let Interaction::Submission(s) = Interaction::parse(&payload.to_string()).unwrap() else { panic!() };
        assert_eq!((s.callback_id.as_str(), s.team_id.as_str(), s.user_id.as_str()), ("sendcontact", "T1", "U1"));
        assert_eq!(
            s.metadata,
            Some(Metadata { channel_id: "C9".into(), language: Some("ru".into()), invocation: None })
        );
        assert_eq!(s.value("chat_id"), "sales");
        assert_eq!(s.value("phone"), "+7 987 654-32-10");
        assert_eq!(s.value("last_name"), "");
        assert_eq!(s.value("company"), "");
        assert_eq!(s.value("stray"), "");
    }

    #[test]
    fn other_interactions_and_unreadable_metadata_are_told_apart() {
        let closed = json!({"type": "view_closed", "view": {"callback_id": "sendcontact"}});
        assert_eq!(Interaction::parse(&closed.to_string()).unwrap(), Interaction::Other { kind: "view_closed".into() });
        let forged = json!({"type": "view_submission", "user": {"id": "U1"}, "view": {"private_metadata": "{"}});
        let Interaction::Submission(s) = Interaction::parse(&forged.to_string()).unwrap() else { panic!() };
        assert_eq!(s.metadata, None);
        assert!(Interaction::parse("not json").is_err());
        assert!(Interaction::parse("[1]").is_err());
    }

    proptest::proptest! {
        #[test]
        fn no_payload_panics(payload in "\\PC*") {
            let _ = Interaction::parse(&payload);
        }

        #[test]
        fn no_value_panics(value in "\\PC*", metadata in "\\PC*") {
            let payload = json!({
                "type": "view_submission",
                "view": {"private_metadata": metadata, "state": {"values": {"phone": {"phone": {"value": value}}}}}
            });
            let _ = Interaction::parse(&payload.to_string());
        }
    }

    #[test]
    fn field_errors_answer_as_slack_expects() {
        let answer = errors_response(&[("phone", "Enter the phone number.".into())]);
        assert_eq!(answer, json!({"response_action": "errors", "errors": {"phone": "Enter the phone number."}}));
    }
}
