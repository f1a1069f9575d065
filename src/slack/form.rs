//! The slash-command form Slack POSTs, decoded only after its signature has
//! been checked over the raw bytes.

use std::borrow::Cow;

/// The fields we use; Slack sends more (`token`, `user_name`, ...), which are
/// ignored. Missing ids decode as empty, which no allowlist matches. Over
/// HTTP it comes as a form ([`SlashCommandForm::parse`]); over Socket Mode,
/// as JSON (`Deserialize`, with the same defaults).
#[derive(Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct SlashCommandForm {
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub channel_id: String,
    /// The command as typed (`/sendcontact`, or whatever the admin named it).
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub text: String,
    pub response_url: Option<String>,
    /// Opens a form (views.open) within 3 s of the command, once.
    pub trigger_id: Option<String>,
}

/// Why a signed body is not a slash-command form.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the body is not `key=value` pairs joined by `&`")]
    NotPairs,
    #[error("the form's fields are not usable: the field `{0}` appears more than once")]
    Duplicate(&'static str),
}

impl SlashCommandForm {
    /// The seven fields we read, each decoded (`+` and `%XX`, invalid UTF-8
    /// replaced) as `serde_urlencoded` would; the others, about half of
    /// Slack's form and its longest values aside from the text, are skipped
    /// undecoded.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut form = SlashCommandForm::default();
        let mut seen = [false; 7];
        for pair in raw_pairs(body) {
            if pair.is_empty() {
                continue;
            }
            // serde_urlencoded takes any bytes as a form (a pair without `=`
            // is a key with an empty value), so JSON or plain text would pass
            // as a command with no fields and get the usage text. Slack sends
            // only `key=value` pairs.
            let (key, value) = match memchr::memchr(b'=', pair) {
                Some(i) if i > 0 => (&pair[..i], &pair[i + 1..]),
                _ => return Err(FormError::NotPairs),
            };
            let Some(field) = Field::named(key) else { continue };
            if std::mem::replace(&mut seen[field as usize], true) {
                return Err(FormError::Duplicate(field.name()));
            }
            let value = decode(value).into_owned();
            match field {
                Field::TeamId => form.team_id = value,
                Field::UserId => form.user_id = value,
                Field::ChannelId => form.channel_id = value,
                Field::Command => form.command = value,
                Field::Text => form.text = value,
                Field::ResponseUrl => form.response_url = Some(value),
                Field::TriggerId => form.trigger_id = Some(value),
            }
        }
        Ok(form)
    }

    /// How to name the command in usage text.
    pub fn invocation(&self) -> &str {
        if self.command.starts_with('/') { &self.command } else { "/sendcontact" }
    }
}

#[derive(Debug, Clone, Copy)]
enum Field {
    TeamId,
    UserId,
    ChannelId,
    Command,
    Text,
    ResponseUrl,
    TriggerId,
}

impl Field {
    const ALL: [Field; 7] = [
        Field::TeamId,
        Field::UserId,
        Field::ChannelId,
        Field::Command,
        Field::Text,
        Field::ResponseUrl,
        Field::TriggerId,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::TeamId => "team_id",
            Field::UserId => "user_id",
            Field::ChannelId => "channel_id",
            Field::Command => "command",
            Field::Text => "text",
            Field::ResponseUrl => "response_url",
            Field::TriggerId => "trigger_id",
        }
    }

    /// The field a raw (still encoded) key names, if it is one we read.
    /// Slack sends keys unescaped, so they are compared as they came and
    /// decoded only when they hold an escape.
    fn named(raw_key: &[u8]) -> Option<Field> {
        let by_name = |key: &[u8]| Field::ALL.into_iter().find(|field| field.name().as_bytes() == key);
        // Keys are short: a plain walk, not memchr's set-up.
        if raw_key.iter().any(|&b| b == b'%' || b == b'+') {
            by_name(decode(raw_key).as_bytes())
        } else {
            by_name(raw_key)
        }
    }
}

/// A form-encoded key or value, decoded as every form decoder does (`+` is
/// a space, then `%XX`, then invalid UTF-8 replaced); borrowed as it is when
/// it has nothing to decode.
///
/// By hand, in one pass into one buffer: the text and response_url of every
/// command have escapes, and percent-encoding's decoder, after a separate
/// pass for `+`, grew its output a byte at a time. Past the first escape the
/// bytes are walked one by one rather than searched for the next escape:
/// text in Cyrillic is escapes end to end (`%D0%98%D0%B2...`), and a memchr
/// call per escape cost more than the walk (about 100 instructions each).
fn decode(raw: &[u8]) -> Cow<'_, str> {
    let Some(first) = memchr::memchr2(b'%', b'+', raw) else {
        // `from_utf8` checks ASCII a word at a time; the lossy walk, a byte
        // at a time, only for text that needs replacing.
        return std::str::from_utf8(raw).map_or_else(|_| String::from_utf8_lossy(raw), Cow::Borrowed);
    };
    // Decoding only shrinks: the input's length is enough.
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut at = first;
    while let Some(&byte) = raw.get(at) {
        at += 1;
        out.push(match byte {
            b'+' => b' ',
            b'%' => match (raw.get(at).and_then(hex), raw.get(at + 1).and_then(hex)) {
                (Some(high), Some(low)) => {
                    at += 2;
                    high << 4 | low
                }
                // Not an escape: kept as it is, as percent-decoding does.
                _ => b'%',
            },
            other => other,
        });
    }
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The value of one hexadecimal digit.
fn hex(&digit: &u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Whether `raw` holds a `%` or a `+`, the only bytes a form decoder
/// changes. memchr2 scans a word at a time; this runs over every pair of
/// every request.
fn has_escapes(raw: &[u8]) -> bool {
    memchr::memchr2(b'%', b'+', raw).is_some()
}

/// Slack's certificate probe (`ssl_check=1`), which comes unsigned and only
/// needs a 200. Only that field is read, so nothing else in such a request
/// is ever acted on.
pub fn is_ssl_check(body: &[u8]) -> bool {
    // Every request passes through here before its signature is checked, so
    // the pairs are compared raw; only a pair with an escape (`%`, `+`) is
    // decoded. Same answer as decoding every pair, at a tenth of the cost.
    raw_pairs(body).any(|pair| {
        let (key, value) = match memchr::memchr(b'=', pair) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        decodes_to(key, "ssl_check") && decodes_to(value, "1")
    })
}

/// The `&`-separated pairs of a form body, undecoded. Every request's body
/// is scanned here, so the separators are found with memchr rather than a
/// byte at a time.
fn raw_pairs(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'&', body).chain(std::iter::once(body.len())).map(move |end| {
        let pair = &body[start..end];
        start = end + 1;
        pair
    })
}

/// Whether a form-encoded key or value decodes to `expected`.
fn decodes_to(raw: &[u8], expected: &str) -> bool {
    raw == expected.as_bytes() || (has_escapes(raw) && decode(raw) == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_slacks_documented_example() {
        let body = b"token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=/weather&text=94070&response_url=https://hooks.slack.com/commands/1234/5678&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456";
        let form = SlashCommandForm::parse(body).unwrap();
        assert_eq!(form.team_id, "T0001");
        assert_eq!(form.user_id, "U2147483697");
        assert_eq!(form.channel_id, "C2147483705");
        assert_eq!(form.text, "94070");
        assert_eq!(form.invocation(), "/weather");
        assert_eq!(form.response_url.as_deref(), Some("https://hooks.slack.com/commands/1234/5678"));
    }

    #[test]
    fn plus_and_percent_decode_to_the_typed_text() {
        let form = SlashCommandForm::parse(b"text=100+%2B7+%D0%98%D0%B2%D0%B0%D0%BD+%E2%80%9CA+B%E2%80%9D").unwrap();
        assert_eq!(form.text, "100 +7 Иван “A B”");
        assert_eq!(form.invocation(), "/sendcontact");
    }

    #[test]
    fn only_key_value_pairs_are_a_form() {
        let forms: &[&[u8]] =
            &[b"", b"text=", b"text=a=b", b"&&text=1&&", b"x=1&text=help", b"text=%ff", b"team_id=T1&text=%"];
        for body in forms {
            assert!(SlashCommandForm::parse(body).is_ok(), "{}", String::from_utf8_lossy(body));
        }
        let not_forms: &[&[u8]] = &[
            br#"{"text":"10000000 79876543210 Ivan"}"#,
            b"not a form at all",
            b"<xml/>",
            b"text=1&junk",
            b"=value",
            b"text=1&=2",
            b"\xff\x00&==&",
        ];
        for body in not_forms {
            assert!(
                matches!(SlashCommandForm::parse(body), Err(FormError::NotPairs)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(SlashCommandForm::parse(b"text=1&text=2"), Err(FormError::Duplicate("text")));
        assert_eq!(SlashCommandForm::parse(b"text=1&te%78t=2"), Err(FormError::Duplicate("text")));
    }

    #[test]
    fn recognises_the_ssl_probe_only() {
        assert!(is_ssl_check(b"ssl_check=1&token=abc"));
        assert!(!is_ssl_check(b"ssl_check=0"));
        assert!(!is_ssl_check(b"text=ssl_check%3D1"));
        assert!(!is_ssl_check(b"ssl_check=%31=x"), "the value is `1=x`");
    }

    #[test]
    fn the_ssl_probe_check_agrees_with_decoding_every_pair() {
        let decode_all = |body: &[u8]| url::form_urlencoded::parse(body).any(|(k, v)| k == "ssl_check" && v == "1");
        let bodies: &[&[u8]] = &[
            b"ssl_check=1",
            b"ssl_check=1&token=abc",
            b"token=abc&ssl_check=1",
            b"ssl%5Fcheck=%31",
            b"ssl_check=1=",
            b"ssl_check=+1",
            b"ssl_check",
            b"ssl_check=",
            b"&&ssl_check=1&&",
            b"ssl_check=0&ssl_check=1",
            b"ssl_check%3D1",
            b"ssl_check=%",
            b"ssl_check=1%",
            b"ssl_check=%31=",
            b"ssl_check=%31=+",
            b"ssl_check=\xff",
            b"",
            b"=",
            b"text=ssl_check%3D1",
        ];
        for body in bodies {
            assert_eq!(is_ssl_check(body), decode_all(body), "{}", String::from_utf8_lossy(body));
        }
    }

    /// What the form decoder of record makes of `body`: the answer
    /// [`SlashCommandForm::parse`] must agree with.
    fn by_serde_urlencoded(body: &[u8]) -> Result<SlashCommandForm, ()> {
        serde_urlencoded::from_bytes(body).map_err(|_| ())
    }

    /// Whether every non-empty `&`-piece has a non-empty key before an `=`.
    fn all_key_value(body: &[u8]) -> bool {
        body.split(|&b| b == b'&').all(|p| p.is_empty() || p.iter().position(|&b| b == b'=').is_some_and(|i| i > 0))
    }

    #[test]
    fn decodes_as_serde_urlencoded_does() {
        let bodies: &[&[u8]] = &[
            b"team_id=T1&user_id=U1&channel_id=C1&command=%2Fsc&text=a+b%20c&response_url=https%3A%2F%2Fx&trigger_id=1.2",
            b"text=%D0%98%D0%B2%D0%B0%D0%BD+%E2%80%9CA%E2%80%9D",
            b"text=%ff%fe&user_id=%",
            b"text=a%2",
            b"te%78t=escaped+key&team%5Fid=T9",
            b"text=&response_url=",
            b"text=a=b=c",
            b"token=x&user_name=y&text=1",
            b"&&text=1&&",
            b"",
        ];
        for body in bodies {
            assert_eq!(
                SlashCommandForm::parse(body).map_err(|_| ()),
                by_serde_urlencoded(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn decodes_any_form_as_serde_urlencoded_does(
            pairs in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["team_id", "user_id", "channel_id", "command", "text", "response_url", "trigger_id", "token", "te%78t", "user%5Fid", "x"]),
                    proptest::collection::vec(proptest::sample::select(b"aZ09=+%2F5Dd0\xff\xd0\x98 /-_.".to_vec()), 0..12),
                ),
                0..9,
            )
        ) {
            let mut body = Vec::new();
            for (i, (key, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    body.push(b'&');
                }
                body.extend_from_slice(key.as_bytes());
                body.push(b'=');
                body.extend_from_slice(value);
            }
            // A value may hold `=`; what must agree is the decoding of forms
            // that are `key=value` pairs, which is all the check lets through.
            proptest::prop_assume!(all_key_value(&body));
            proptest::prop_assert_eq!(SlashCommandForm::parse(&body).map_err(|_| ()), by_serde_urlencoded(&body));
        }

        #[test]
        fn the_ssl_probe_check_agrees_on_any_body(
            body in proptest::collection::vec(proptest::sample::select(b"ssl_chek=&%5F+13D0\xff".to_vec()), 0..40)
        ) {
            let decoded = url::form_urlencoded::parse(&body).any(|(k, v)| k == "ssl_check" && v == "1");
            proptest::prop_assert_eq!(is_ssl_check(&body), decoded);
        }
    }
}
