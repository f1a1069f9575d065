//! What travels over a Socket Mode WebSocket
//! (<https://docs.slack.dev/apis/events-api/using-socket-mode>): Slack's
//! `hello` and `disconnect` messages, envelopes carrying the same payloads
//! an HTTP request URL would get, and our acknowledgements.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// One text frame from Slack, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The connection is ready; Slack counts our open connections.
    Hello { num_connections: Option<u64> },
    /// Slack is about to close this connection, or has turned Socket Mode off.
    Disconnect(DisconnectReason),
    /// A payload to acknowledge by its `envelope_id`.
    Envelope(Envelope),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// About ten seconds' notice of a refresh.
    Warning,
    /// This connection is being retired; open another.
    RefreshRequested,
    /// Socket Mode was turned off in the app's settings: no connection will
    /// get payloads until an admin turns it back on.
    LinkDisabled,
    /// A reason Slack added after this was written; treated as a refresh.
    Other(String),
}

impl DisconnectReason {
    fn parse(reason: &str) -> Self {
        match reason {
            "warning" => Self::Warning,
            "refresh_requested" => Self::RefreshRequested,
            "link_disabled" => Self::LinkDisabled,
            other => Self::Other(printable(other, 64)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Warning => "warning",
            Self::RefreshRequested => "refresh_requested",
            Self::LinkDisabled => "link_disabled",
            Self::Other(reason) => reason,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// A slash command: the payload has the HTTP form's fields, as JSON.
    SlashCommands,
    /// A block action, view submission, shortcut...: the payload is what the
    /// HTTP route gets in its `payload` form field.
    Interactive,
    /// `events_api` or anything newer: acknowledged, not used by this app.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub envelope_id: String,
    pub kind: EnvelopeKind,
    pub payload: Value,
    /// Whether the acknowledgement may carry an answer (for a slash command:
    /// the reply message).
    pub accepts_response_payload: bool,
    /// How many times Slack has delivered this before; 0 on the first try.
    pub retry_attempt: u64,
}

impl Envelope {
    /// Every name under which a repeat of this delivery may come back: its
    /// envelope id, and the id of what it carries (a command's or an
    /// interaction's `trigger_id`, an event's `event_id`), which a retry
    /// keeps even when it comes in a new envelope.
    pub fn delivery_keys(&self) -> Vec<String> {
        let mut keys = vec![format!("envelope:{}", self.envelope_id)];
        for (field, prefix) in [("trigger_id", "trigger:"), ("event_id", "event:")] {
            if let Some(id) = self.payload.get(field).and_then(Value::as_str).filter(|id| !id.is_empty()) {
                keys.push(format!("{prefix}{id}"));
            }
        }
        keys
    }
}

/// Why a frame is not a Socket Mode message we can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the frame is not a JSON object: {0}")]
    NotJson(String),
    #[error("the frame has neither a known `type` nor an `envelope_id` (type `{0}`)")]
    Unrecognised(String),
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type", default)]
    kind: String,
    envelope_id: Option<String>,
    payload: Option<Value>,
    #[serde(default)]
    accepts_response_payload: bool,
    retry_attempt: Option<u64>,
    reason: Option<String>,
    num_connections: Option<u64>,
}

impl Incoming {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let raw: RawFrame = serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        match (raw.kind.as_str(), raw.envelope_id) {
            ("hello", _) => Ok(Self::Hello { num_connections: raw.num_connections }),
            ("disconnect", _) => {
                Ok(Self::Disconnect(DisconnectReason::parse(raw.reason.as_deref().unwrap_or_default())))
            }
            (kind, Some(envelope_id)) if !envelope_id.is_empty() => Ok(Self::Envelope(Envelope {
                envelope_id,
                kind: match kind {
                    "slash_commands" => EnvelopeKind::SlashCommands,
                    "interactive" => EnvelopeKind::Interactive,
                    other => EnvelopeKind::Other(printable(other, 64)),
                },
                payload: raw.payload.unwrap_or(Value::Null),
                accepts_response_payload: raw.accepts_response_payload,
                retry_attempt: raw.retry_attempt.unwrap_or(0),
            })),
            (kind, _) => Err(FrameError::Unrecognised(printable(kind, 64))),
        }
    }
}

#[derive(Serialize)]
struct Ack<'a> {
    envelope_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a RawValue>,
}

/// The acknowledgement of one envelope, with the answer when the envelope
/// accepts one.
pub fn ack(envelope: &Envelope, answer: Option<&RawValue>) -> String {
    let payload = answer.filter(|_| envelope.accepts_response_payload);
    // A struct of a string and a JSON value always serialises.
    serde_json::to_string(&Ack { envelope_id: &envelope.envelope_id, payload })
        .unwrap_or_else(|_| unreachable!("an ack is plain data"))
}

/// A value from the wire, cut and cleaned for a log line.
fn printable(value: &str, max_chars: usize) -> String {
    value.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Slack's documented slash-command envelope.
    const SLASH_COMMAND: &str = r#"{
        "payload": {
            "token": "bHKJ2n9AW6Ju3MjciOHfbA1b",
            "team_id": "T123ABC456",
            "team_domain": "maria",
            "channel_id": "C123ABC456",
            "channel_name": "general",
            "user_id": "U123ABC456",
            "user_name": "rainer",
            "command": "/randorilke",
            "text": "",
            "response_url": "https://hooks.slack.com/commands/T0SNL8S4S/37053613554/YMB2ZESDLNjNLqSFZ1quhNAh",
            "trigger_id": "37053613634.26768298162.440952c06ef4de2653466a48fe495f93"
        },
        "envelope_id": "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545",
        "type": "slash_commands",
        "accepts_response_payload": true
    }"#;

    #[test]
    fn reads_slacks_documented_messages() {
        let hello = r#"{"type": "hello", "connection_info": {"app_id": "A1234"}, "num_connections": 1,
            "debug_info": {"host": "applink-1", "build_number": 54, "approximate_connection_time": 3600}}"#;
        assert_eq!(Incoming::parse(hello), Ok(Incoming::Hello { num_connections: Some(1) }));

        for (reason, expected) in [
            ("warning", DisconnectReason::Warning),
            ("refresh_requested", DisconnectReason::RefreshRequested),
            ("link_disabled", DisconnectReason::LinkDisabled),
            ("too_many_websockets", DisconnectReason::Other("too_many_websockets".into())),
        ] {
            let text = json!({"type": "disconnect", "reason": reason, "debug_info": {"host": "wss-111.slack.com"}});
            assert_eq!(Incoming::parse(&text.to_string()), Ok(Incoming::Disconnect(expected)), "{reason}");
        }

        let Ok(Incoming::Envelope(envelope)) = Incoming::parse(SLASH_COMMAND) else { panic!("not an envelope") };
        assert_eq!(envelope.envelope_id, "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545");
        assert_eq!(envelope.kind, EnvelopeKind::SlashCommands);
        assert!(envelope.accepts_response_payload);
        assert_eq!(envelope.retry_attempt, 0);
        assert_eq!(envelope.payload["command"], "/randorilke");
    }

    #[test]
    fn tells_interactions_and_events_apart() {
        let interactive = json!({"envelope_id": "e1", "type": "interactive", "accepts_response_payload": true,
            "payload": {"type": "view_submission", "trigger_id": "t1"}});
        let Ok(Incoming::Envelope(e)) = Incoming::parse(&interactive.to_string()) else { panic!() };
        assert_eq!(e.kind, EnvelopeKind::Interactive);

        let event = json!({"envelope_id": "e2", "type": "events_api", "accepts_response_payload": false,
            "retry_attempt": 2, "retry_reason": "timeout", "payload": {"event_id": "Ev1"}});
        let Ok(Incoming::Envelope(e)) = Incoming::parse(&event.to_string()) else { panic!() };
        assert_eq!(e.kind, EnvelopeKind::Other("events_api".into()));
        assert_eq!(e.retry_attempt, 2);
        assert!(!e.accepts_response_payload);
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        for junk in ["", "not json", "[1,2]", "{}", r#"{"type": "slash_commands"}"#, r#"{"envelope_id": ""}"#, "null"] {
            assert!(Incoming::parse(junk).is_err(), "{junk:?}");
        }
        let Err(FrameError::Unrecognised(kind)) = Incoming::parse(r#"{"type": "a\u0007b"}"#) else { panic!() };
        assert_eq!(kind, "ab", "control characters never reach a log line");
    }

    #[test]
    fn a_repeat_is_known_by_its_envelope_or_by_what_it_carries() {
        let Ok(Incoming::Envelope(command)) = Incoming::parse(SLASH_COMMAND) else { panic!() };
        assert_eq!(
            command.delivery_keys(),
            [
                "envelope:dbdd0ef3-1543-4f94-bfb4-133d0e6c1545",
                "trigger:37053613634.26768298162.440952c06ef4de2653466a48fe495f93"
            ]
        );
        let event =
            json!({"envelope_id": "e2", "type": "events_api", "payload": {"event_id": "Ev1", "trigger_id": ""}});
        let Ok(Incoming::Envelope(event)) = Incoming::parse(&event.to_string()) else { panic!() };
        assert_eq!(event.delivery_keys(), ["envelope:e2", "event:Ev1"]);
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop::sample::select(vec!["hello", "disconnect", "slash_commands", "interactive", "events_api", "", "e1"])
                .prop_map(|s| json!(s)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            let keys = prop::sample::select(vec![
                "type",
                "envelope_id",
                "payload",
                "accepts_response_payload",
                "retry_attempt",
                "reason",
                "num_connections",
                "trigger_id",
                "event_id",
            ]);
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn no_frame_makes_it_panic(text in ".{0,200}") {
            let _ = Incoming::parse(&text);
        }

        #[test]
        fn every_envelope_parsed_can_be_acked_and_keyed(frame in json_value()) {
            if let Ok(Incoming::Envelope(envelope)) = Incoming::parse(&frame.to_string()) {
                let answer = serde_json::value::to_raw_value(&json!({"text": "x"})).unwrap();
                let ack: Value = serde_json::from_str(&ack(&envelope, Some(&answer))).unwrap();
                proptest::prop_assert_eq!(&ack["envelope_id"], &json!(envelope.envelope_id));
                proptest::prop_assert!(!envelope.envelope_id.is_empty());
                proptest::prop_assert!(envelope.delivery_keys()[0].starts_with("envelope:"));
            }
        }
    }

    #[test]
    fn acks_carry_the_answer_only_where_slack_takes_one() {
        let Ok(Incoming::Envelope(mut command)) = Incoming::parse(SLASH_COMMAND) else { panic!() };
        let answer = serde_json::value::to_raw_value(&json!({"response_type": "ephemeral", "text": "Sent"})).unwrap();
        assert_eq!(
            ack(&command, Some(&answer)),
            r#"{"envelope_id":"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545","payload":{"response_type":"ephemeral","text":"Sent"}}"#
        );
        assert_eq!(ack(&command, None), r#"{"envelope_id":"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"}"#);
        command.accepts_response_payload = false;
        assert_eq!(ack(&command, Some(&answer)), r#"{"envelope_id":"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"}"#);
    }
}
