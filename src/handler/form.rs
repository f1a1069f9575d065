//! The form `/sendcontact` opens when typed alone: one input per argument of
//! the command, named so that a submission and its errors map back to them.

use crate::command::Field;
use crate::domain::MAX_TEXT_CHARS;
use crate::i18n::modal::{ModalText, SuggestionText};
use crate::i18n::{Language, Localized};
use crate::instances::{Registry, route};
use crate::slack::modal::{Choice, Form, Input, Metadata};

/// An input's block_id and action_id.
pub fn input_id(field: Field) -> &'static str {
    match field {
        Field::ChatId => "chat_id",
        Field::Phone => "phone",
        Field::FirstName => "first_name",
        Field::LastName => "last_name",
        Field::Company => "company",
    }
}

/// The chats the form's menu offers as the user types `typed` into it, in a
/// form opened from `channel_id`: the aliases of SENDCONTACT_CONFIG's
/// `[chats]` whose name or chat id holds it (any case), each submitting its
/// name, which routing takes like a typed alias; and first, when `typed`
/// routes as a chat by the command's own rules, `typed` itself, so that a
/// chat without an alias can still be chosen. The label names the instance
/// where there is a choice of them.
pub fn chat_choices(registry: &Registry, typed: &str, channel_id: &str, language: Language) -> Vec<Choice> {
    let typed = typed.trim();
    let needle = typed.to_lowercase();
    let several = registry.len() > 1;
    let aliases = registry
        .aliases()
        .iter()
        .filter(|alias| alias.name.to_lowercase().contains(&needle) || alias.chat_id.as_str().contains(&needle))
        .map(|alias| Choice {
            label: if several {
                format!("{} ({})", alias.name, registry.get(alias.instance).name())
            } else {
                alias.name.clone()
            },
            value: alias.name.clone(),
        });
    // An alias typed in full is listed already, as itself.
    let as_typed = (!typed.is_empty() && registry.alias(typed).is_none() && route(registry, typed, channel_id).is_ok())
        .then(|| Choice {
            label: SuggestionText::SendToChat(typed.to_owned()).localize(language),
            value: typed.to_owned(),
        });
    as_typed.into_iter().chain(aliases).collect()
}

/// The form in `language`, to be submitted back with `metadata`. With
/// `suggest_chats` (the bot knows chats by name), the chat is a menu whose
/// options [`chat_choices`] gives as the user types; else a text field.
pub fn form(language: Language, metadata: Metadata, suggest_chats: bool) -> Form {
    let text = |t: ModalText| t.localize(language);
    let inputs = Field::ALL
        .into_iter()
        .map(|field| {
            let (hint, max_length) = match field {
                Field::ChatId if !suggest_chats => (Some(text(ModalText::ChatHint)), 64),
                Field::ChatId => (Some(text(ModalText::ChatSelectHint)), 64),
                Field::Phone => (Some(text(ModalText::PhoneHint)), 40),
                Field::FirstName | Field::LastName | Field::Company => (None, MAX_TEXT_CHARS as u32),
            };
            let placeholder = match field {
                Field::ChatId if suggest_chats => text(ModalText::ChatSelectPlaceholder),
                _ => text(ModalText::Placeholder(field)),
            };
            Input {
                id: input_id(field),
                label: text(ModalText::Label(field)),
                placeholder,
                hint,
                optional: matches!(field, Field::LastName | Field::Company),
                max_length: Some(max_length),
                suggested: suggest_chats && field == Field::ChatId,
            }
        })
        .collect();
    Form {
        title: text(ModalText::Title),
        submit: text(ModalText::Submit),
        close: text(ModalText::Close),
        inputs,
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::blocks::check_modal;

    /// A submission carries the whole view back, and a request from Slack
    /// may have 16 KiB (`routes::slack_request`).
    #[test]
    fn a_submitted_form_fits_the_request_size_limit_however_many_chats() {
        let metadata = Metadata {
            channel_id: "C0123456789".into(),
            language: Some("ru".into()),
            invocation: Some("/sendcontact".into()),
        };
        for suggest_chats in [false, true] {
            let view = form(Language::Ru, metadata.clone(), suggest_chats).view();
            // The view as Slack sends it back, with the fields it adds.
            let payload = serde_json::json!({
                "type": "view_submission",
                "team": {"id": "T0123456789", "domain": "example"},
                "user": {"id": "U0123456789", "username": "someone", "name": "someone", "team_id": "T0123456789"},
                "api_app_id": "A0123456789", "token": "x".repeat(24), "trigger_id": "1".repeat(50),
                "view": {
                    "id": "V0123456789", "team_id": "T0123456789", "app_id": "A0123456789", "bot_id": "B0123456789",
                    "hash": "1".repeat(20), "root_view_id": "V0123456789", "previous_view_id": null,
                    "external_id": "", "app_installed_team_id": "T0123456789",
                    "state": {"values": {"chat_id": {"chat_id": {"type": "plain_text_input", "value": "x".repeat(64)}}}},
                    "blocks": view["blocks"], "title": view["title"], "submit": view["submit"], "close": view["close"],
                    "private_metadata": view["private_metadata"], "callback_id": "sendcontact",
                },
                "response_urls": [], "is_enterprise_install": false, "enterprise": null,
            });
            let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
            assert!(body.len() < 16 * 1024, "{suggest_chats}: {} bytes", body.len());
        }
    }

    #[test]
    fn the_form_fits_slacks_limits_in_every_language_with_or_without_chats() {
        let metadata = Metadata { channel_id: "C1".into(), language: Some("ru".into()), invocation: None };
        for language in Language::ALL {
            for suggest_chats in [false, true] {
                let view = form(language, metadata.clone(), suggest_chats).view();
                assert_eq!(check_modal(&view), Ok(()), "{view}");
                let ids: Vec<_> = view["blocks"].as_array().unwrap().iter().map(|b| b["block_id"].clone()).collect();
                assert_eq!(ids, ["chat_id", "phone", "first_name", "last_name", "company"]);
            }
        }
    }
}
