//! Block Kit (<https://docs.slack.dev/reference/block-kit/blocks>): the few
//! blocks and elements this app sends, the contact card laid out with them,
//! and a check of Slack's limits that tests run over every payload the app
//! produces. Slack refuses a whole message or view over one broken limit
//! (`invalid_blocks`), so the limits are checked, not hoped for.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::json;
use super::reply::escape;

/// A text object. `plain_text` is shown as is; `mrkdwn` is Slack markup, so
/// user input in it must be escaped first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Text {
    PlainText { text: String },
    Mrkdwn { text: String },
}

impl Text {
    pub fn plain(text: impl Into<String>) -> Self {
        Text::PlainText { text: text.into() }
    }

    pub fn markup(text: impl Into<String>) -> Self {
        Text::Mrkdwn { text: text.into() }
    }
}

/// The blocks built as values: a modal's inputs and a direct message's note.
/// The contact card, sent with every command, writes its own
/// ([`Card::write_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Section {
        text: Text,
    },
    Input {
        block_id: String,
        label: Text,
        element: Element,
        #[serde(skip_serializing_if = "Option::is_none")]
        hint: Option<Text>,
        optional: bool,
    },
}

/// An input block's element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    PlainTextInput {
        action_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        placeholder: Option<Text>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    /// A menu whose options Slack asks for as the user types
    /// (`block_suggestion`), so that what they type can be offered too.
    ExternalSelect {
        action_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        placeholder: Option<Text>,
        min_query_length: u32,
    },
}

/// One choice of a select menu: `text` is what the user sees, `value` what
/// comes back in the submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectOption {
    pub text: Text,
    pub value: String,
}

/// A contact card, its texts already in the reader's language. Values are
/// plain text, escaped as the card is written. Borrowed where it can be: the
/// header and labels are the catalogue's fixed words.
///
/// It is written as JSON, its three blocks (a header, a section of fields, a
/// context line), straight from these parts ([`Card::write_json`]): a card
/// goes out with every successful send, and laying it out as [`Block`]s
/// first cost a string per field and a vector per block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card<'a> {
    /// A short plain-text title.
    pub header: &'a str,
    /// `(label, value)` pairs shown side by side: name, company, phone, chat.
    /// Never empty in a card that is sent (the chat is always one): a section
    /// needs text or fields, and this one is written with its fields.
    pub fields: Vec<(&'a str, Cow<'a, str>)>,
    /// Slack markup: who sent it and GREEN-API's message id.
    pub context: String,
}

impl Card<'_> {
    /// Appends the card's blocks as JSON, for [`super::reply::Reply::to_json`].
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"[{"type":"header","text":{"type":"plain_text","text":"#);
        json::push_string(out, &truncate_cow(self.header, MAX_HEADER_CHARS));
        out.extend_from_slice(br#"}},{"type":"section","fields":["#);
        for (i, (label, value)) in self.fields.iter().take(MAX_SECTION_FIELDS).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"type":"mrkdwn","text":""#);
            let text = FieldText { label, value };
            match text.fitting() {
                Some((label, value)) => {
                    out.push(b'*');
                    json::push_escaped(out, &label);
                    out.extend_from_slice(br"*\n");
                    json::push_escaped(out, &value);
                }
                None => json::push_escaped(out, &text.truncated()),
            }
            out.extend_from_slice(br#""}"#);
        }
        out.extend_from_slice(br#"]},{"type":"context","elements":[{"type":"mrkdwn","text":"#);
        json::push_string(out, &truncate_cow(&self.context, MAX_TEXT_CHARS));
        out.extend_from_slice(br#"}]}]"#);
    }
}

/// One field's text, `*label*` over its value, escaped for Slack markup.
struct FieldText<'a> {
    label: &'a str,
    value: &'a str,
}

impl FieldText<'_> {
    /// The label and value escaped for Slack markup, when the text they
    /// make fits the limit as it is: at most `max` bytes is at most `max`
    /// characters, so the common case needs no string of its own.
    fn fitting(&self) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
        let (label, value) = (escape(self.label), escape(self.value));
        (label.len() + value.len() + 3 <= MAX_FIELD_CHARS).then_some((label, value))
    }

    /// The text cut to the limit.
    fn truncated(&self) -> String {
        truncate(&format!("*{}*\n{}", escape(self.label), escape(self.value)), MAX_FIELD_CHARS)
    }
}

/// [`truncate`], borrowing `text` when it fits.
fn truncate_cow(text: &str, max: usize) -> Cow<'_, str> {
    // At most `max` bytes is at most `max` characters.
    if text.len() <= max { Cow::Borrowed(text) } else { Cow::Owned(truncate(text, max)) }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

// Slack's limits, from the Block Kit reference pages of each block, element
// and surface. Lengths are in characters.
pub const MAX_MESSAGE_BLOCKS: usize = 50;
pub const MAX_MODAL_BLOCKS: usize = 100;
pub const MAX_TEXT_CHARS: usize = 3000;
pub const MAX_HEADER_CHARS: usize = 150;
pub const MAX_SECTION_FIELDS: usize = 10;
pub const MAX_FIELD_CHARS: usize = 2000;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
pub const MAX_LABEL_CHARS: usize = 2000;
pub const MAX_HINT_CHARS: usize = 2000;
pub const MAX_PLACEHOLDER_CHARS: usize = 150;
pub const MAX_ID_CHARS: usize = 255;
pub const MAX_INPUT_LENGTH: u64 = 3000;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_OPTION_TEXT_CHARS: usize = 75;
pub const MAX_OPTION_VALUE_CHARS: usize = 150;
pub const MAX_VIEW_BUTTON_CHARS: usize = 24;
pub const MAX_PRIVATE_METADATA_CHARS: usize = 3000;
/// Not a Block Kit limit: Slack truncates a message's `text` far later
/// (40,000), but recommends staying under 4,000.
pub const MAX_MESSAGE_TEXT_CHARS: usize = 4000;

/// Checks a message payload (a reply, a response_url POST, chat.postMessage
/// or chat.postEphemeral arguments): its `text` fallback and its blocks.
/// Returns every broken limit, each with its JSON path.
pub fn check_message(payload: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    match payload.get("text").and_then(Value::as_str) {
        Some(text) if !text.trim().is_empty() => {
            check_len(&mut problems, "text", text, MAX_MESSAGE_TEXT_CHARS);
        }
        _ => problems.push("text: a message needs a non-empty plain-text fallback".to_owned()),
    }
    if let Some(blocks) = payload.get("blocks") {
        check_blocks(&mut problems, blocks, MAX_MESSAGE_BLOCKS);
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// Checks a modal view (the `view` of views.open).
pub fn check_modal(view: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if view.get("type").and_then(Value::as_str) != Some("modal") {
        problems.push("type: must be modal".to_owned());
    }
    for (key, required) in [("title", true), ("submit", false), ("close", false)] {
        match view.get(key) {
            Some(text) => check_text(&mut problems, key, text, MAX_VIEW_BUTTON_CHARS, true),
            None if required => problems.push(format!("{key}: missing")),
            None => {}
        }
    }
    let has_input = view["blocks"].as_array().is_some_and(|b| b.iter().any(|b| b["type"] == "input"));
    if has_input && view.get("submit").is_none() {
        problems.push("submit: required when the view has input blocks".to_owned());
    }
    if let Some(meta) = view.get("private_metadata") {
        check_str(&mut problems, "private_metadata", meta, MAX_PRIVATE_METADATA_CHARS);
    }
    if let Some(id) = view.get("callback_id") {
        check_str(&mut problems, "callback_id", id, MAX_ID_CHARS);
    }
    check_blocks(&mut problems, &view["blocks"], MAX_MODAL_BLOCKS);
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn check_blocks(problems: &mut Vec<String>, blocks: &Value, max: usize) {
    let Some(blocks) = blocks.as_array() else {
        problems.push("blocks: not an array".to_owned());
        return;
    };
    if blocks.len() > max {
        problems.push(format!("blocks: {} blocks, at most {max}", blocks.len()));
    }
    let mut block_ids = std::collections::HashSet::new();
    for (i, block) in blocks.iter().enumerate() {
        let path = format!("blocks[{i}]");
        if let Some(id) = block.get("block_id") {
            check_str(problems, &format!("{path}.block_id"), id, MAX_ID_CHARS);
            if !block_ids.insert(id.to_string()) {
                problems.push(format!("{path}.block_id: not unique"));
            }
        }
        match block["type"].as_str() {
            Some("header") => check_text(problems, &format!("{path}.text"), &block["text"], MAX_HEADER_CHARS, true),
            Some("section") => {
                let text = block.get("text");
                let fields = block.get("fields").and_then(Value::as_array);
                if text.is_none() && fields.is_none() {
                    problems.push(format!("{path}: a section needs text or fields"));
                }
                if let Some(text) = text {
                    check_text(problems, &format!("{path}.text"), text, MAX_TEXT_CHARS, false);
                }
                if let Some(fields) = fields {
                    check_count(problems, &format!("{path}.fields"), fields.len(), MAX_SECTION_FIELDS);
                    for (j, field) in fields.iter().enumerate() {
                        check_text(problems, &format!("{path}.fields[{j}]"), field, MAX_FIELD_CHARS, false);
                    }
                }
            }
            Some("context") => {
                let elements = block["elements"].as_array().map(Vec::as_slice).unwrap_or_default();
                check_count(problems, &format!("{path}.elements"), elements.len(), MAX_CONTEXT_ELEMENTS);
                for (j, element) in elements.iter().enumerate() {
                    check_text(problems, &format!("{path}.elements[{j}]"), element, MAX_TEXT_CHARS, false);
                }
            }
            Some("divider") => {}
            Some("input") => {
                check_text(problems, &format!("{path}.label"), &block["label"], MAX_LABEL_CHARS, true);
                if let Some(hint) = block.get("hint") {
                    check_text(problems, &format!("{path}.hint"), hint, MAX_HINT_CHARS, true);
                }
                check_element(problems, &format!("{path}.element"), &block["element"]);
            }
            other => problems.push(format!("{path}.type: {other:?} is not a block this app sends")),
        }
    }
}

fn check_element(problems: &mut Vec<String>, path: &str, element: &Value) {
    if let Some(id) = element.get("action_id") {
        check_str(problems, &format!("{path}.action_id"), id, MAX_ID_CHARS);
    }
    if let Some(placeholder) = element.get("placeholder") {
        check_text(problems, &format!("{path}.placeholder"), placeholder, MAX_PLACEHOLDER_CHARS, true);
    }
    match element["type"].as_str() {
        Some("plain_text_input") => {
            if let Some(max) = element.get("max_length")
                && !max.as_u64().is_some_and(|m| (1..=MAX_INPUT_LENGTH).contains(&m))
            {
                problems.push(format!("{path}.max_length: must be 1 to {MAX_INPUT_LENGTH}"));
            }
        }
        Some("static_select") => {
            let options = element["options"].as_array().map(Vec::as_slice).unwrap_or_default();
            if options.is_empty() {
                problems.push(format!("{path}.options: a static select needs options"));
            }
            check_count(problems, &format!("{path}.options"), options.len(), MAX_OPTIONS);
            for (k, option) in options.iter().enumerate() {
                check_text(
                    problems,
                    &format!("{path}.options[{k}].text"),
                    &option["text"],
                    MAX_OPTION_TEXT_CHARS,
                    true,
                );
                check_str(problems, &format!("{path}.options[{k}].value"), &option["value"], MAX_OPTION_VALUE_CHARS);
            }
        }
        Some("external_select") => {
            if element.get("min_query_length").is_some_and(|m| m.as_u64().is_none()) {
                problems.push(format!("{path}.min_query_length: must be a whole number"));
            }
        }
        other => problems.push(format!("{path}.type: {other:?} is not an element this app sends")),
    }
}

/// The answer to a `block_suggestion`: at most [`MAX_OPTIONS`] options, each
/// text cut to Slack's length, and an option whose value Slack would refuse
/// left out (Slack drops the whole list over one bad option).
pub fn suggested_options(options: impl IntoIterator<Item = SelectOption>) -> Value {
    let options: Vec<SelectOption> = options
        .into_iter()
        .filter(|o| !o.value.is_empty() && o.value.chars().count() <= MAX_OPTION_VALUE_CHARS)
        .map(|SelectOption { text, value }| {
            let (Text::PlainText { text } | Text::Mrkdwn { text }) = text;
            SelectOption { text: Text::plain(truncate(&text, MAX_OPTION_TEXT_CHARS)), value }
        })
        .take(MAX_OPTIONS)
        .collect();
    serde_json::json!({ "options": options })
}

fn check_text(problems: &mut Vec<String>, path: &str, text: &Value, max: usize, plain_only: bool) {
    match text["type"].as_str() {
        Some("plain_text") => {}
        Some("mrkdwn") if !plain_only => {}
        other => {
            problems.push(format!(
                "{path}.type: {other:?} where {} is required",
                if plain_only { "plain_text" } else { "a text object" }
            ));
        }
    }
    check_str(problems, &format!("{path}.text"), &text["text"], max);
}

fn check_str(problems: &mut Vec<String>, path: &str, value: &Value, max: usize) {
    match value.as_str() {
        Some(s) => check_len(problems, path, s, max),
        None => problems.push(format!("{path}: not a string")),
    }
}

fn check_len(problems: &mut Vec<String>, path: &str, s: &str, max: usize) {
    let chars = s.chars().count();
    if chars == 0 {
        problems.push(format!("{path}: empty"));
    } else if chars > max {
        problems.push(format!("{path}: {chars} characters, at most {max}"));
    }
}

fn check_count(problems: &mut Vec<String>, path: &str, count: usize, max: usize) {
    if count == 0 {
        problems.push(format!("{path}: empty"));
    } else if count > max {
        problems.push(format!("{path}: {count} items, at most {max}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The card as [`Card::write_json`] writes it, read back.
    fn written(card: &Card<'_>) -> Value {
        let mut json = Vec::new();
        card.write_json(&mut json);
        serde_json::from_slice(&json).unwrap()
    }

    fn card() -> Card<'static> {
        Card {
            header: "Contact card sent",
            fields: vec![("Name", "Ivan <Ivanov> & \"Co\"\\".into()), ("Phone", "+7 987 ***-**-10".into())],
            context: "Sent by <@U1> · GREEN-API message id: `BAE5`".into(),
        }
    }

    #[test]
    fn a_card_serialises_as_block_kit_with_its_values_escaped() {
        let blocks = written(&card());
        assert_eq!(
            blocks,
            json!([
                {"type": "header", "text": {"type": "plain_text", "text": "Contact card sent"}},
                {"type": "section", "fields": [
                    {"type": "mrkdwn", "text": "*Name*\nIvan &lt;Ivanov&gt; &amp; \"Co\"\\"},
                    {"type": "mrkdwn", "text": "*Phone*\n+7 987 ***-**-10"},
                ]},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": "Sent by <@U1> · GREEN-API message id: `BAE5`"}
                ]},
            ])
        );
        assert_eq!(check_message(&json!({"text": "fallback", "blocks": blocks})), Ok(()));
    }

    #[test]
    fn a_card_stays_within_the_limits_whatever_its_values() {
        let long = "ж".repeat(5000);
        let labels: Vec<String> = (0..12).map(|i| format!("label {i} {long}")).collect();
        let card = Card {
            header: &long,
            fields: labels.iter().map(|label| (label.as_str(), Cow::Borrowed(long.as_str()))).collect(),
            context: long.clone(),
        };
        let blocks = written(&card);
        assert_eq!(check_message(&json!({"text": "fallback", "blocks": blocks})), Ok(()));
    }

    #[test]
    fn every_broken_limit_is_reported_with_its_path() {
        let message = json!({
            "text": "",
            "blocks": [
                {"type": "header", "text": {"type": "mrkdwn", "text": "x".repeat(151)}},
                {"type": "section", "fields": (0..11).map(|_| json!({"type": "mrkdwn", "text": "f"})).collect::<Vec<_>>()},
                {"type": "context", "elements": []},
                {"type": "video"},
            ]
        });
        let problems = check_message(&message).unwrap_err();
        for expected in [
            "text: a message needs",
            "blocks[0].text.type",
            "blocks[0].text.text: 151 characters, at most 150",
            "blocks[1].fields: 11 items, at most 10",
            "blocks[2].elements: empty",
            "blocks[3].type",
        ] {
            assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected:?} not in {problems:#?}");
        }
        let too_many = json!({"text": "t", "blocks": (0..51).map(|_| json!({"type": "divider"})).collect::<Vec<_>>()});
        assert_eq!(check_message(&too_many), Err(vec!["blocks: 51 blocks, at most 50".to_owned()]));
    }

    #[test]
    fn modal_limits_are_checked() {
        let view = json!({
            "type": "modal",
            "title": {"type": "plain_text", "text": "A title longer than twenty-four"},
            "private_metadata": "m".repeat(3001),
            "blocks": [
                {"type": "input", "block_id": "a", "label": {"type": "plain_text", "text": "L"},
                 "element": {"type": "plain_text_input", "action_id": "a", "max_length": 0,
                             "placeholder": {"type": "plain_text", "text": "p".repeat(151)}}},
                {"type": "input", "block_id": "a", "label": {"type": "plain_text", "text": "L"},
                 "element": {"type": "static_select", "action_id": "a", "options": [
                     {"text": {"type": "plain_text", "text": "o".repeat(76)}, "value": "v"}
                 ]}},
            ]
        });
        let problems = check_modal(&view).unwrap_err();
        for expected in [
            "title.text: 31 characters, at most 24",
            "submit: required",
            "private_metadata: 3001 characters",
            "blocks[0].element.max_length",
            "blocks[0].element.placeholder.text: 151 characters",
            "blocks[1].block_id: not unique",
            "blocks[1].element.options[0].text.text: 76 characters",
        ] {
            assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected:?} not in {problems:#?}");
        }
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("жжжж", 3), "жж…");
        assert_eq!(truncate("жжж", 3), "жжж");
    }

    #[test]
    fn suggested_options_keep_within_slacks_limits() {
        let options = (0..150).map(|i| SelectOption {
            text: Text::plain(format!("{i} {}", "ж".repeat(100))),
            value: if i == 0 { "v".repeat(151) } else { format!("v{i}") },
        });
        let answer = suggested_options(options);
        let options = answer["options"].as_array().unwrap();
        assert_eq!(options.len(), MAX_OPTIONS);
        assert_eq!(options[0]["value"], "v1", "a value Slack would refuse is left out");
        for option in options {
            assert_eq!(option["text"]["type"], "plain_text");
            assert!(option["text"]["text"].as_str().unwrap().chars().count() <= MAX_OPTION_TEXT_CHARS, "{option}");
        }
        assert_eq!(suggested_options([]), serde_json::json!({"options": []}));
    }
}
