//! The grammar of the command, shared by the slash command and the terminal
//! `send` subcommand: `<chatId> <phone> <firstName> [lastName] [company...]`.
//!
//! It takes words that are already split: each door turns its input into
//! words (the slash command with `slack::text::split_words`, the terminal
//! as the shell split them), so the grammar knows nothing about Slack.

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

        let chat_id = parse_chat_id(word(0).ok_or(CommandError::Missing("chatId"))?)?;

        // People type numbers in groups: `+7 987 654-32-10`. Words made only
        // of phone characters right after the first one belong to the phone;
        // a name never looks like that.
        word(1).ok_or(CommandError::Missing("phone"))?;
        let phone_words = 1 + words[2..].iter().take_while(|w| is_phone_fragment(w.as_ref())).count();
        let phone = words[1..1 + phone_words].iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
        let phone = parse_phone(&phone)?;
        let names = &words[1 + phone_words..];

        let first_name = parse_first_name(names.first().ok_or(CommandError::Missing("firstName"))?.as_ref())?;
        let last_name = names.get(1).map(|w| parse_last_name(w.as_ref())).transpose()?.flatten();
        let company = match names.get(2..) {
            Some(rest) if !rest.is_empty() => {
                parse_company(&rest.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "))?
            }
            _ => None,
        };

        Ok(Command::Send(SendContact { chat_id, contact: Contact { phone, first_name, last_name, company } }))
    }
}

/// The command's arguments one by one, as a form asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ChatId,
    Phone,
    FirstName,
    LastName,
    Company,
}

impl Field {
    pub const ALL: [Field; 5] = [Field::ChatId, Field::Phone, Field::FirstName, Field::LastName, Field::Company];
}

impl CommandError {
    /// The argument this error is about.
    pub fn field(&self) -> Field {
        match self {
            CommandError::Missing("chatId") => Field::ChatId,
            CommandError::Missing("phone") => Field::Phone,
            CommandError::Missing(_) => Field::FirstName,
            CommandError::ChatId { .. } => Field::ChatId,
            CommandError::Phone { .. } => Field::Phone,
            CommandError::FirstName(_) => Field::FirstName,
            CommandError::LastName(_) => Field::LastName,
            CommandError::Company(_) => Field::Company,
        }
    }
}

/// A form's values, one per argument, each taken whole: a form needs no
/// quotes, so nothing is split or unquoted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields<'a> {
    pub chat_id: &'a str,
    pub phone: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub company: &'a str,
}

impl SendContact {
    /// Validates a form with the same rules as the typed command, and
    /// reports every wrong field at once rather than the first.
    pub fn from_fields(fields: &Fields<'_>) -> Result<Self, Vec<CommandError>> {
        let chat_id = parse_chat_id(fields.chat_id);
        let phone = parse_phone(fields.phone);
        let first_name = parse_first_name(fields.first_name);
        let last_name = parse_last_name(fields.last_name);
        let company = parse_company(fields.company);
        match (chat_id, phone, first_name, last_name, company) {
            (Ok(chat_id), Ok(phone), Ok(first_name), Ok(last_name), Ok(company)) => {
                Ok(SendContact { chat_id, contact: Contact { phone, first_name, last_name, company } })
            }
            (chat_id, phone, first_name, last_name, company) => {
                Err([chat_id.err(), phone.err(), first_name.err(), last_name.err(), company.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
    }
}

/// The rules of each argument, shared by the typed command and the form.
pub fn parse_chat_id(given: &str) -> Result<ChatId, CommandError> {
    ChatId::parse(given).map_err(|reason| CommandError::ChatId { given: shorten(given), reason })
}

pub fn parse_phone(given: &str) -> Result<PhoneNumber, CommandError> {
    PhoneNumber::parse(given).map_err(|reason| CommandError::Phone { given: shorten(given), reason })
}

pub fn parse_first_name(given: &str) -> Result<ContactText, CommandError> {
    ContactText::parse(given).map_err(CommandError::FirstName)
}

pub fn parse_last_name(given: &str) -> Result<Option<ContactText>, CommandError> {
    ContactText::parse_optional(given).map_err(CommandError::LastName)
}

pub fn parse_company(given: &str) -> Result<Option<ContactText>, CommandError> {
    ContactText::parse_optional(given).map_err(CommandError::Company)
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

    fn names(s: &SendContact) -> (&str, Option<&str>, Option<&str>) {
        (
            s.contact.first_name.as_str(),
            s.contact.last_name.as_ref().map(ContactText::as_str),
            s.contact.company.as_ref().map(ContactText::as_str),
        )
    }

    #[test]
    fn a_control_character_is_refused_by_name() {
        let control = ["10000000", "79876543210", "Ivan", "Iv\u{0}anov"];
        assert_eq!(Command::parse(&control), Err(CommandError::LastName(ContactTextError::ControlCharacter(0))));
    }

    #[test]
    fn terminal_words_are_taken_as_typed() {
        let argv = ["10000000", "+7 987 654-32-10", "Anna Maria", "Smith", "Acme", "Ltd"];
        match Command::parse(&argv).unwrap() {
            Command::Send(s) => assert_eq!(names(&s), ("Anna Maria", Some("Smith"), Some("Acme Ltd"))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_form_is_checked_with_the_commands_rules_and_every_wrong_field_is_named() {
        let valid = Fields {
            chat_id: " 79876543210@C.US ",
            phone: "+7 (987) 654-32-10",
            first_name: "Anna Maria",
            last_name: "",
            company: "Smith & Sons",
        };
        let s = SendContact::from_fields(&valid).unwrap();
        assert_eq!(s.chat_id.as_str(), "79876543210@c.us");
        assert_eq!(s.contact.phone.as_u64(), 79876543210);
        assert_eq!(names(&s), ("Anna Maria", None, Some("Smith & Sons")));

        let invalid = Fields { chat_id: "ten", phone: "", first_name: " ", last_name: "a\u{1}", company: "" };
        let errors = SendContact::from_fields(&invalid).unwrap_err();
        let fields: Vec<_> = errors.iter().map(CommandError::field).collect();
        assert_eq!(fields, [Field::ChatId, Field::Phone, Field::FirstName, Field::LastName]);
        // The typed command refuses the same value for the same reason.
        assert_eq!(Command::parse(&["ten", "79876543210", "Ivan"]).unwrap_err(), errors[0]);
    }

    proptest! {
        #[test]
        fn no_form_panics(values in proptest::collection::vec("\\PC{0,30}", 5)) {
            let fields = Fields {
                chat_id: &values[0],
                phone: &values[1],
                first_name: &values[2],
                last_name: &values[3],
                company: &values[4],
            };
            if let Err(errors) = SendContact::from_fields(&fields) {
                prop_assert!(!errors.is_empty());
            }
        }

        #[test]
        fn no_word_list_panics(words in proptest::collection::vec("\\PC{0,20}", 0..8)) {
            let _ = Command::parse(&words);
        }
    }
}
