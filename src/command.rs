//! The grammar of the command, shared by the slash command and the terminal
//! `send` subcommand: `<chatId> <phone> <firstName> [lastName] [company...]`.
//!
//! It takes words that are already split (see `slack::text` for how Slack
//! text becomes words), so it knows nothing about Slack.

use crate::domain::{ChatId, ChatIdError, Contact, ContactText, ContactTextError, PhoneNumber, PhoneNumberError};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Send(SendContact),
}

/// A contact card and the chat it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendContact {
    pub chat_id: ChatId,
    pub contact: Contact,
}

/// Why the arguments were refused. `Display` names the argument and says what
/// to change; it is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Text(#[from] crate::slack::text::TextError),
    #[error("<{0}> is missing")]
    Missing(&'static str),
    #[error("chatId `{given}` {reason}")]
    ChatId { given: String, reason: ChatIdError },
    #[error("phone `{given}` {reason}")]
    Phone { given: String, reason: PhoneNumberError },
    #[error("firstName {0}")]
    FirstName(ContactTextError),
    #[error("lastName {0}")]
    LastName(ContactTextError),
    #[error("company {0}")]
    Company(ContactTextError),
}

impl CommandError {
    /// A short stable name for logs, which must not hold the arguments.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Text(_) => "unclosed_quote",
            CommandError::Missing(_) => "missing_argument",
            CommandError::ChatId { .. } => "bad_chat_id",
            CommandError::Phone { .. } => "bad_phone",
            CommandError::FirstName(_) => "bad_first_name",
            CommandError::LastName(_) => "bad_last_name",
            CommandError::Company(_) => "bad_company",
        }
    }

    /// Whether the user needs the usage text to fix this (a missing
    /// argument), rather than only the reason.
    pub fn wants_usage(&self) -> bool {
        matches!(self, CommandError::Missing(_))
    }
}

/// Words a user may type instead of arguments to see the usage.
const HELP_WORDS: &[&str] = &["help", "-h", "--help", "?"];

impl Command {
    /// Parses already split words. No words, or a help word alone, is
    /// [`Command::Help`].
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self, CommandError> {
        let word = |i: usize| words.get(i).map(AsRef::as_ref);
        match words {
            [] => return Ok(Command::Help),
            [only] if HELP_WORDS.iter().any(|h| h.eq_ignore_ascii_case(only.as_ref())) => {
                return Ok(Command::Help);
            }
            _ => {}
        }

        let chat_id = word(0).ok_or(CommandError::Missing("chatId"))?;
        let chat_id =
            ChatId::parse(chat_id).map_err(|reason| CommandError::ChatId { given: shorten(chat_id), reason })?;

        // People type numbers in groups: `+7 987 654-32-10`. Words made only
        // of phone characters right after the first one belong to the phone;
        // a name never looks like that.
        word(1).ok_or(CommandError::Missing("phone"))?;
        let phone_words = 1 + words[2..].iter().take_while(|w| is_phone_fragment(w.as_ref())).count();
        let phone = words[1..1 + phone_words].iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
        let phone =
            PhoneNumber::parse(&phone).map_err(|reason| CommandError::Phone { given: shorten(&phone), reason })?;
        let names = &words[1 + phone_words..];

        let first_name = names.first().ok_or(CommandError::Missing("firstName"))?;
        let first_name = ContactText::parse(first_name.as_ref()).map_err(CommandError::FirstName)?;

        let last_name = names
            .get(1)
            .map(|w| ContactText::parse_optional(w.as_ref()))
            .transpose()
            .map_err(CommandError::LastName)?
            .flatten();

        let company = match names.get(2..) {
            Some(rest) if !rest.is_empty() => {
                let joined = rest.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
                ContactText::parse_optional(&joined).map_err(CommandError::Company)?
            }
            _ => None,
        };

        Ok(Command::Send(SendContact { chat_id, contact: Contact { phone, first_name, last_name, company } }))
    }

    /// Parses the `text` of a slash command.
    pub fn parse_text(text: &str) -> Result<Self, CommandError> {
        let words = crate::slack::text::split_words(text)?;
        Self::parse(&words)
    }
}

/// How to call the command, for a reply or `--help`. `invocation` is how the
/// user started it: `/sendcontact` in Slack, `slack-sendcontact send` in a
/// terminal.
pub fn usage(invocation: &str) -> String {
    format!(
        "Send a contact card to a Telegram, WhatsApp or MAX chat:\n\
         `{invocation} <chatId> <phone> <firstName> [lastName] [company]`\n\
         • chatId: a chat id such as 10000000 (groups: -10000000000000), or 79876543210@c.us, …@g.us, …@lid\n\
         • phone: 7 to 15 digits with the country code, e.g. +7 987 654-32-10\n\
         • put names with spaces in quotes, \"Anna Maria\" or “Anna Maria”; words after lastName form the company\n\
         Example: `{invocation} 10000000 +79876543210 Иван Иванов \"ООО Ромашка\"`"
    )
}

/// A word that can only be a piece of a phone number.
fn is_phone_fragment(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.'))
}

/// Keeps an echoed argument short enough to read in an error message.
fn shorten(given: &str) -> String {
    const MAX: usize = 40;
    if given.chars().count() <= MAX {
        given.to_owned()
    } else {
        let mut short: String = given.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn send(text: &str) -> SendContact {
        match Command::parse_text(text) {
            Ok(Command::Send(send)) => send,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    fn names(s: &SendContact) -> (&str, Option<&str>, Option<&str>) {
        (
            s.contact.first_name.as_str(),
            s.contact.last_name.as_ref().map(ContactText::as_str),
            s.contact.company.as_ref().map(ContactText::as_str),
        )
    }

    #[test]
    fn help_and_empty_text_ask_for_usage() {
        for text in ["", "  ", "help", "HELP", "--help", "-h", "?"] {
            assert_eq!(Command::parse_text(text), Ok(Command::Help), "text {text:?}");
        }
    }

    #[test]
    fn parses_every_argument_form() {
        type Names<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
        let cases: &[(&str, &str, u64, Names)] = &[
            ("10000000 79876543210 Иван", "10000000", 79876543210, ("Иван", None, None)),
            ("10000000 +7 (987) 654-32-10 Иван Иванов", "10000000", 79876543210, ("Иван", Some("Иванов"), None)),
            ("10000000 +44 20 7946 0958 Jane", "10000000", 442079460958, ("Jane", None, None)),
            ("10000000 +7(987)654-32-10 Иван Иванов", "10000000", 79876543210, ("Иван", Some("Иванов"), None)),
            (
                "-10000000000000 79876543210 Иван Иванов ООО Ромашка и партнёры",
                "-10000000000000",
                79876543210,
                ("Иван", Some("Иванов"), Some("ООО Ромашка и партнёры")),
            ),
            (
                "<mailto:79876543210@c.us|79876543210@c.us> <tel:+79876543210|+7 987 654 32 10> “Anna Maria” O'Neil «Smith &amp; Sons»",
                "79876543210@c.us",
                79876543210,
                ("Anna Maria", Some("O'Neil"), Some("Smith & Sons")),
            ),
            (
                "120363043968066561@g.us 4915112345678 Hans \"\" Acme",
                "120363043968066561@g.us",
                4915112345678,
                ("Hans", None, Some("Acme")),
            ),
            (
                "123@lid 4915112345678 Hans Müller <http://acme.de|acme.de>",
                "123@lid",
                4915112345678,
                ("Hans", Some("Müller"), Some("acme.de")),
            ),
        ];
        for (text, chat, phone, expected_names) in cases {
            let s = send(text);
            assert_eq!(s.chat_id.as_str(), *chat, "text {text:?}");
            assert_eq!(s.contact.phone.as_u64(), *phone, "text {text:?}");
            assert_eq!(names(&s), *expected_names, "text {text:?}");
        }
    }

    #[test]
    fn every_rejection_names_the_argument_and_the_reason() {
        let cases = [
            ("10000000", "<phone> is missing"),
            ("10000000 79876543210", "<firstName> is missing"),
            ("ten 79876543210 Ivan", "chatId `ten` is not a chat id"),
            ("10000000 12ab Ivan", "phone `12ab` contains `a`"),
            ("10000000 123 Ivan", "phone `123` has 3 digits"),
            ("10000000 +7 987 654 32 10 99 99 99 Ivan", "phone `+7 987 654 32 10 99 99 99` has 17 digits"),
            ("10000000 0791234567 Ivan", "phone `0791234567` starts with 0"),
            ("10000000 79876543210 \"\"", "firstName is empty"),
            ("10000000 79876543210 “Ivan", "the quote “ before `Ivan` is never closed"),
        ];
        for (text, expected) in cases {
            let err = Command::parse_text(text).unwrap_err();
            assert!(err.to_string().starts_with(expected), "text {text:?} gave {err:?}: {err}");
        }
        let long = format!("10000000 79876543210 {}", "x".repeat(257));
        assert_eq!(Command::parse_text(&long), Err(CommandError::FirstName(ContactTextError::TooLong(257))));
        let control = ["10000000", "79876543210", "Ivan", "Iv\u{0}anov"];
        assert_eq!(Command::parse(&control), Err(CommandError::LastName(ContactTextError::ControlCharacter(0))));
    }

    #[test]
    fn echoed_arguments_are_shortened() {
        let text = format!("{} 79876543210 Ivan", "z".repeat(100));
        let message = Command::parse_text(&text).unwrap_err().to_string();
        assert!(message.contains(&format!("`{}…`", "z".repeat(40))), "{message}");
    }

    #[test]
    fn terminal_words_are_taken_as_typed() {
        let argv = ["10000000", "+7 987 654-32-10", "Anna Maria", "Smith", "Acme", "Ltd"];
        match Command::parse(&argv).unwrap() {
            Command::Send(s) => assert_eq!(names(&s), ("Anna Maria", Some("Smith"), Some("Acme Ltd"))),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn no_text_panics(text in "\\PC*") {
            let _ = Command::parse_text(&text);
        }

        #[test]
        fn no_word_list_panics(words in proptest::collection::vec("\\PC{0,20}", 0..8)) {
            let _ = Command::parse(&words);
        }

        #[test]
        fn valid_commands_round_trip(
            chat in -99_999_999_999i64..99_999_999_999,
            phone in 1_000_000u64..999_999_999_999_999,
            first in "[A-Za-zА-я]{1,20}",
            last in "[A-Za-zА-я]{1,20}",
            company in "[A-Za-zА-я ]{0,30}",
        ) {
            let text = format!("{chat} +{phone} {first} {last} {company}");
            let s = match Command::parse_text(&text) {
                Ok(Command::Send(s)) => s,
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            let chat_text = chat.to_string();
            prop_assert_eq!(s.chat_id.as_str(), chat_text.as_str());
            prop_assert_eq!(s.contact.phone.as_u64(), phone);
            prop_assert_eq!(s.contact.first_name.as_str(), first.as_str());
            prop_assert_eq!(s.contact.last_name.as_ref().map(ContactText::as_str), Some(last.as_str()));
            let company = company.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(
                s.contact.company.as_ref().map(ContactText::as_str),
                (!company.is_empty()).then_some(company.as_str())
            );
        }
    }
}
