//! Checks shared by the fuzz targets: what must hold for anything the
//! service accepts, beyond "does not panic".

#![allow(dead_code)]

use slack_sendcontact::allowlist::Allowlist;
use slack_sendcontact::command::{Command, SendContact};
use slack_sendcontact::domain::{Card, ChatId, ContactText, MAX_TEXT_CHARS, PhoneNumber};
use slack_sendcontact::green_api::send_contact_body;
use slack_sendcontact::handler::parse_text;
use slack_sendcontact::i18n::command::Usage;
use slack_sendcontact::i18n::{Language, Localized};
use slack_sendcontact::instances::{Kind, Registry};
use slack_sendcontact::slack::form::SlashCommandForm;
use slack_sendcontact::slack::reply::{Reply, escape};
use slack_sendcontact::slack::response_url::ResponseUrl;
use slack_sendcontact::slack::text::split_words;

/// The secret and clock the signed-request target runs with: Slack's worked
/// example from "Verifying requests from Slack".
pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const NOW: i64 = 1_531_420_618;

const HELP_WORDS: &[&str] = &["help", "-h", "--help", "?"];
/// The longest error text a user can be shown: echoed arguments are cut to
/// 40 characters, so no input can make it longer than this.
const MAX_ERROR_CHARS: usize = 600;

/// `handler::parse_text` on `text`, and every invariant of its answer: with
/// one instance of unknown kind (the GREEN_API_* form), and with one MAX
/// instance, whose grammar differs.
pub fn check_command_text(text: &str) {
    check_command_text_for(text, &Registry::one("default", None));
    check_command_text_for(text, &Registry::one("max", Some(Kind::Max)));
}

fn check_command_text_for(text: &str, registry: &Registry) {
    match parse_text(text, registry, "C1") {
        Ok(Command::Help) => {
            let words = split_words(text).expect("help came out of words that split");
            assert!(
                words.is_empty() || (words.len() == 1 && HELP_WORDS.iter().any(|h| h.eq_ignore_ascii_case(&words[0]))),
                "help for {words:?}"
            );
        }
        Ok(Command::Send(send)) => check_send(&send),
        Err(e) => {
            let message = e.to_string();
            assert!(message.chars().count() <= MAX_ERROR_CHARS, "an error of {} chars", message.chars().count());
            let _ = (e.kind(), e.wants_usage());
            let reply: serde_json::Value = serde_json::from_slice(&Reply::ephemeral(&message).to_json()).unwrap();
            assert_eq!(reply["response_type"], "ephemeral");
        }
    }
}

/// A command the parser accepted is sendable as the contract says.
pub fn check_send(send: &SendContact) {
    let chat = send.chat_id.as_str();
    assert!(!chat.is_empty() && !chat.chars().any(char::is_whitespace), "chat id {chat:?}");
    assert_eq!(ChatId::parse(chat).as_ref(), Ok(&send.chat_id), "a chat id re-parses to itself");
    let contact = match &send.card {
        Card::Phone(contact) => contact,
        Card::Max(max) => {
            let id = max.chat_id().as_str();
            assert!(!id.starts_with('-'), "a MAX contact is a person, not a group: {id}");
            assert_eq!(ChatId::parse(id).as_ref(), Ok(max.chat_id()), "a contact re-parses to itself");
            return;
        }
    };
    let phone = contact.phone.as_u64();
    let digits = phone.to_string();
    assert!((PhoneNumber::MIN_DIGITS..=PhoneNumber::MAX_DIGITS).contains(&digits.len()), "phone {digits}");
    assert_eq!(PhoneNumber::parse(&digits), Ok(contact.phone));

    check_name(&contact.first_name);
    contact.last_name.as_ref().map(check_name);
    contact.company.as_ref().map(check_name);

    // The upstream body is valid JSON that carries exactly these values.
    let body: serde_json::Value = serde_json::from_slice(&send_contact_body(&send.chat_id, contact)).unwrap();
    assert_eq!(body["chatId"].as_str(), Some(chat));
    let sent = &body["contact"];
    assert_eq!(sent["phoneContact"].as_u64(), Some(phone));
    assert_eq!(sent["firstName"].as_str(), Some(contact.first_name.as_str()));
    assert_eq!(sent["lastName"].as_str(), contact.last_name.as_ref().map(ContactText::as_str));
    assert_eq!(sent["company"].as_str(), contact.company.as_ref().map(ContactText::as_str));

    // Names reach Slack escaped: a name like `<!channel>` is shown, not acted on.
    let shown = escape(&send.card.display_name()).into_owned();
    assert!(!shown.contains(['<', '>']), "unescaped markup in {shown:?}");
}

fn check_name(name: &ContactText) {
    let s = name.as_str();
    assert!(!s.is_empty(), "an empty name was accepted");
    assert_eq!(s, s.trim(), "an untrimmed name was accepted");
    assert!(s.chars().count() <= MAX_TEXT_CHARS, "a name of {} chars", s.chars().count());
    assert!(!s.chars().any(char::is_control), "a control character in {s:?}");
}

/// What the handler does with a decoded form, minus the network.
pub fn check_form(form: &SlashCommandForm) {
    let invocation = form.invocation();
    assert!(invocation.starts_with('/'), "invocation {invocation:?}");
    let usage: serde_json::Value =
        serde_json::from_slice(&Reply::ephemeral(&Usage { invocation, form: false }.localize(Language::En)).to_json())
            .unwrap();
    assert!(!usage["text"].as_str().unwrap().contains(['<', '>']), "unescaped markup in the usage text");

    let allowlist = Allowlist::new(vec!["T0001".into()], vec![], vec!["C2147483705".into()]);
    if allowlist.check(&form.team_id, &form.user_id, &form.channel_id).is_ok() {
        assert_eq!((form.team_id.as_str(), form.channel_id.as_str()), ("T0001", "C2147483705"));
    }

    let hosts = ["hooks.slack.com".to_owned(), "127.0.0.1".to_owned()];
    if let Ok(url) = ResponseUrl::parse(form.response_url.as_deref(), &hosts) {
        assert!(hosts.iter().any(|h| h.eq_ignore_ascii_case(url.host())), "followed {:?}", url.host());
        // The URL is a capability for the channel: logs show its host only.
        assert_eq!(format!("{url:?}"), format!("ResponseUrl({}/***)", url.host()));
    }

    check_command_text(&form.text);
}
