//! Raw request bytes → `is_ssl_check` and `SlashCommandForm::parse`,
//! checked against url's own form decoder: the probe is recognised exactly
//! when a field `ssl_check=1` is present, a decoded form carries exactly the
//! values the body holds, and only a repeated field makes decoding fail.

#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_sendcontact::slack::form::{SlashCommandForm, is_ssl_check};

#[path = "common.rs"]
mod common;

const FIELDS: &[&str] = &["team_id", "user_id", "channel_id", "command", "text", "response_url"];

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let values = |field: &str| pairs.iter().filter(|(k, _)| k == field).map(|(_, v)| v.as_str()).collect::<Vec<_>>();

    assert_eq!(is_ssl_check(data), pairs.iter().any(|(k, v)| k == "ssl_check" && v == "1"));

    let repeated = FIELDS.iter().any(|f| values(f).len() > 1);
    // A non-empty pair without `=`, or with an empty key, is not a form.
    let not_pairs = data
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .any(|pair| !pair.iter().position(|&b| b == b'=').is_some_and(|i| i > 0));
    match SlashCommandForm::parse(data) {
        Ok(form) => {
            assert!(!repeated, "a repeated field was accepted");
            assert!(!not_pairs, "a body that is not key=value pairs was accepted");
            let decoded = [&form.team_id, &form.user_id, &form.channel_id, &form.command, &form.text];
            for (field, value) in FIELDS.iter().zip(decoded) {
                assert_eq!(values(field).first().copied().unwrap_or(""), value.as_str(), "field {field}");
            }
            assert_eq!(values("response_url").first().copied(), form.response_url.as_deref());
            common::check_form(&form);
        }
        Err(_) => assert!(repeated || not_pairs, "a well-formed form without repeated fields did not decode"),
    }
});
