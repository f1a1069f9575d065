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

    proptest! {
        #[test]
        fn no_word_list_panics(words in proptest::collection::vec("\\PC{0,20}", 0..8)) {
            let _ = Command::parse(&words);
        }
    }
}
