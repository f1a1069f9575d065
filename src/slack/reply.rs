//! What we answer Slack, immediately or through response_url.

use std::borrow::Cow;

use super::blocks::Card;
use super::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// Only the user who typed the command sees it.
    Ephemeral,
    /// The whole channel sees it, with the command.
    InChannel,
}

/// Written as JSON by [`Reply::to_json`], the one place its layout is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub response_type: ResponseType,
    /// The whole message as text: what notifications, screen readers and
    /// clients without Block Kit show.
    pub text: String,
    /// The same message laid out as a contact card (the JSON's `blocks`),
    /// when it is one: the only layout a reply has. Owned, as the reply
    /// outlives the send.
    pub card: Option<Card<'static>>,
}

impl Reply {
    /// `text` is plain text: Slack's control characters in it are escaped.
    pub fn ephemeral(text: &str) -> Self {
        Self { response_type: ResponseType::Ephemeral, text: escape(text).into_owned(), card: None }
    }

    /// `text` is Slack markup, already escaped where it holds user input.
    pub fn in_channel_markup(text: String) -> Self {
        Self { response_type: ResponseType::InChannel, text, card: None }
    }

    /// `text` is Slack markup, already escaped where it holds user input.
    pub fn ephemeral_markup(text: String) -> Self {
        Self { response_type: ResponseType::Ephemeral, text, card: None }
    }

    pub fn with_card(mut self, card: Card<'static>) -> Self {
        self.card = Some(card);
        self
    }

    /// The message alone (`text` and `blocks`), as chat.postMessage and
    /// chat.postEphemeral take it.
    /// Read back from [`Self::to_json`], off the request path (a form's
    /// outcome goes through the Web API), so the layout is written once.
    pub fn message(&self) -> serde_json::Value {
        let mut message: serde_json::Value = serde_json::from_slice(&self.to_json()).unwrap_or_default();
        if let Some(reply) = message.as_object_mut() {
            reply.remove("response_type");
        }
        message
    }

    /// The reply as Slack takes it, written by [`super::json`] with the keys
    /// and punctuation as constant runs (tests read it back and compare it
    /// with the layout built the plain way).
    pub fn to_json(&self) -> Vec<u8> {
        // Sized for a contact card at once.
        let mut json = Vec::with_capacity(1024);
        json.extend_from_slice(match self.response_type {
            ResponseType::Ephemeral => br#"{"response_type":"ephemeral","text":"#,
            ResponseType::InChannel => br#"{"response_type":"in_channel","text":"#,
        });
        json::push_string(&mut json, &self.text);
        if let Some(card) = &self.card {
            json.extend_from_slice(br#","blocks":"#);
            card.write_json(&mut json);
        }
        json.push(b'}');
        json
    }
}

/// Escapes `& < >` as Slack requires
/// (<https://docs.slack.dev/messaging/formatting-message-text>), so a name
/// like `<!channel>` is shown, not acted on.
pub fn escape(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr3(b'&', b'<', b'>', bytes) else {
        return Cow::Borrowed(text);
    };
    // Runs between the three ASCII bytes are copied whole: the usage text
    // is long and full of `<placeholders>`, and a char at a time cost more
    // than the rest of a `help` reply together.
    let mut out = String::with_capacity(text.len() + 16);
    let mut start = 0;
    for at in
        std::iter::once(first).chain(memchr::memchr3_iter(b'&', b'<', b'>', &bytes[first + 1..]).map(|i| i + first + 1))
    {
        out.push_str(&text[start..at]);
        out.push_str(match bytes[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        start = at + 1;
    }
    out.push_str(&text[start..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_serialise_as_slack_expects() {
        let reply = Reply::ephemeral("Use <chatId> & co");
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            r#"{"response_type":"ephemeral","text":"Use &lt;chatId&gt; &amp; co"}"#
        );
        let reply = Reply::in_channel_markup("<@U1> sent".into());
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            r#"{"response_type":"in_channel","text":"<@U1> sent"}"#
        );
    }

    /// A reply with a card of these parts.
    fn card_reply(text: &str, header: &'static str, fields: Vec<(&'static str, String)>, context: &str) -> Reply {
        let fields = fields.into_iter().map(|(label, value)| (label, Cow::Owned(value))).collect();
        Reply::in_channel_markup(text.to_owned()).with_card(Card { header, fields, context: context.to_owned() })
    }

    /// What `reply` must read as, built the plain way with serde_json: the
    /// layout the hand-written JSON is held to.
    fn expected(reply: &Reply) -> serde_json::Value {
        use super::super::blocks::{MAX_FIELD_CHARS, MAX_HEADER_CHARS, MAX_SECTION_FIELDS, MAX_TEXT_CHARS, truncate};
        let response_type = match reply.response_type {
            ResponseType::Ephemeral => "ephemeral",
            ResponseType::InChannel => "in_channel",
        };
        let mut value = serde_json::json!({"response_type": response_type, "text": reply.text});
        if let Some(card) = &reply.card {
            let fields: Vec<_> = card
                .fields
                .iter()
                .take(MAX_SECTION_FIELDS)
                .map(|(label, value)| {
                    let text = format!("*{}*\n{}", escape(label), escape(value));
                    serde_json::json!({"type": "mrkdwn", "text": truncate(&text, MAX_FIELD_CHARS)})
                })
                .collect();
            value["blocks"] = serde_json::json!([
                {"type": "header", "text": {"type": "plain_text", "text": truncate(card.header, MAX_HEADER_CHARS)}},
                {"type": "section", "fields": fields},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": truncate(&card.context, MAX_TEXT_CHARS)}
                ]},
            ]);
        }
        value
    }

    /// `reply` as it is written, read back.
    fn written(reply: &Reply) -> serde_json::Value {
        serde_json::from_slice(&reply.to_json()).unwrap()
    }

    #[test]
    fn the_written_json_reads_as_the_plain_layout() {
        let long: &'static str = "ж\"".repeat(1600).leak();
        let many = (0..12).map(|i| ("Label", format!("value {i}"))).collect();
        for reply in [
            Reply::ephemeral("Use <chatId> & \"co\"\n\u{1}"),
            Reply::in_channel_markup(String::new()),
            card_reply("<@U1> sent", "Contact card sent", vec![("Name", "Ivan \"I\" <Co>\\".into())], "Sent by <@U1>"),
            card_reply("t", long, vec![("Name", long.repeat(2)), (long, "v".into())], long),
            card_reply("t", "h", many, "c"),
            card_reply("t", "h", Vec::new(), "c"),
        ] {
            assert_eq!(written(&reply), expected(&reply), "{reply:?}");
        }
    }

    #[test]
    fn escapes_the_three_characters_slack_reserves() {
        for (text, escaped) in [
            ("", ""),
            ("plain Иван", "plain Иван"),
            ("<", "&lt;"),
            ("a&b", "a&amp;b"),
            ("<!channel> & <@U1>", "&lt;!channel&gt; &amp; &lt;@U1&gt;"),
            ("&amp;", "&amp;amp;"),
            ("«Ромашка» <ООО>", "«Ромашка» &lt;ООО&gt;"),
        ] {
            assert_eq!(escape(text), escaped, "{text:?}");
        }
        assert!(matches!(escape("nothing to do"), Cow::Borrowed(_)));
    }

    proptest::proptest! {
        #[test]
        fn any_reply_reads_as_the_plain_layout(
            text in "(\\PC|[\\x00-\\x1f\"\\\\<>&])*",
            fields in proptest::collection::vec(("[a-zA-Zа-я\"<]{0,12}", "(\\PC|[\\x00-\\x1f\"\\\\<>&])*"), 0..12),
            context in "(\\PC|[\\x00-\\x1f\"\\\\])*",
            in_channel: bool,
        ) {
            let fields = fields.into_iter().map(|(label, value)| (&*label.leak(), value)).collect();
            let mut reply = card_reply(&text, "Карточка \"контакта\"", fields, &context);
            if !in_channel {
                // A card the sender alone sees.
                reply.response_type = ResponseType::Ephemeral;
            }
            proptest::prop_assert_eq!(written(&reply), expected(&reply));
        }

        #[test]
        fn escaping_agrees_with_replacing_char_by_char(text in "[a-zа-я&<>«» ]{0,40}") {
            let by_char: String = text
                .chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    c => c.to_string(),
                })
                .collect();
            proptest::prop_assert_eq!(escape(&text), by_char);
        }
    }
}
