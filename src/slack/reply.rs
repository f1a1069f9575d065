//! What we answer Slack, immediately or through response_url.

use std::borrow::Cow;

use serde::Serialize;

use super::blocks::Block;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// Only the user who typed the command sees it.
    Ephemeral,
    /// The whole channel sees it, with the command.
    InChannel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub response_type: ResponseType,
    /// The whole message as text: what notifications, screen readers and
    /// clients without Block Kit show.
    pub text: String,
    /// The same message laid out (a contact card), when there is a layout.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
}

impl Reply {
    /// `text` is plain text: Slack's control characters in it are escaped.
    pub fn ephemeral(text: &str) -> Self {
        Self { response_type: ResponseType::Ephemeral, text: escape(text).into_owned(), blocks: Vec::new() }
    }

    /// `text` is Slack markup, already escaped where it holds user input.
    pub fn in_channel_markup(text: String) -> Self {
        Self { response_type: ResponseType::InChannel, text, blocks: Vec::new() }
    }

    /// `text` is Slack markup, already escaped where it holds user input.
    pub fn ephemeral_markup(text: String) -> Self {
        Self { response_type: ResponseType::Ephemeral, text, blocks: Vec::new() }
    }

    pub fn with_blocks(mut self, blocks: Vec<Block>) -> Self {
        self.blocks = blocks;
        self
    }

    /// The message alone (`text` and `blocks`), as chat.postMessage and
    /// chat.postEphemeral take it.
    pub fn message(&self) -> serde_json::Value {
        let mut message = serde_json::json!({"text": self.text});
        if !self.blocks.is_empty() {
            message["blocks"] = serde_json::to_value(&self.blocks).unwrap_or_default();
        }
        message
    }

    pub fn to_json(&self) -> Vec<u8> {
        // A struct of an enum and a String always serialises.
        serde_json::to_vec(self).unwrap_or_else(|_| unreachable!("a reply is plain data"))
    }
}

/// Escapes `& < >` as Slack requires
/// (<https://docs.slack.dev/messaging/formatting-message-text>), so a name
/// like `<!channel>` is shown, not acted on.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
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
}
