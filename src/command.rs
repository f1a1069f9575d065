//! The grammar of the command, shared by the slash command and the terminal
//! `send` subcommand: `<chat> <phone> <firstName> [lastName] [company...]`,
//! or on a MAX instance `<chat> <contact>`.
//!
//! The chat comes first and decides the rest: it is routed to an instance
//! (an alias, `instance:chatId`, or a chat id; see `instances::route`), and
//! that instance's kind says which grammar the other words follow.
//!
//! It takes words that are already split: each door turns its input into
//! words (the slash command with `slack::text::split_words`, the terminal
//! as the shell split them), so the grammar knows nothing about Slack.

use std::borrow::Cow;

use crate::domain::{
    Card, ChatId, Contact, ContactText, ContactTextError, MaxContact, MaxContactError, PhoneNumber, PhoneNumberError,
};
use crate::instances::{InstanceId, Kind, Registry, RouteError, Rule, route};

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Send(SendContact),
}

/// A contact card, the chat it goes to and the instance that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendContact {
    pub instance: InstanceId,
    pub chat_id: ChatId,
    pub card: Card,
    /// Which routing rule chose the instance, for the log.
    pub rule: Rule,
    /// The alias the user named the chat by, if any: replies show it.
    pub chat_alias: Option<String>,
}

/// Why the arguments were refused. `Display` names the argument and says
/// what to change, in English and without a full stop; its words live in the
/// catalogue (`i18n::command`), next to the Russian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The argument's name as the usage spells it (`firstName`).
    Missing(&'static str),
    /// The chat did not lead to one instance.
    Route(RouteError),
    /// `given` is the argument as typed, shortened.
    Phone {
        given: String,
        reason: PhoneNumberError,
    },
    FirstName(ContactTextError),
    LastName(ContactTextError),
    Company(ContactTextError),
    /// The words after the chat do not name a MAX contact.
    Max {
        instance: String,
        given: String,
        reason: MaxContactError,
    },
}

impl std::error::Error for CommandError {}

impl CommandError {
    /// A short stable name for logs, which must not hold the arguments.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Missing(_) => "missing_argument",
            CommandError::Route(e) => e.kind(),
            CommandError::Phone { .. } => "bad_phone",
            CommandError::FirstName(_) => "bad_first_name",
            CommandError::LastName(_) => "bad_last_name",
            CommandError::Company(_) => "bad_company",
            CommandError::Max { reason, .. } => reason.kind(),
        }
    }

    /// Whether the user needs the usage text to fix this (a missing
    /// argument, or MAX's grammar), rather than only the reason.
    pub fn wants_usage(&self) -> bool {
        matches!(self, CommandError::Missing(_) | CommandError::Max { .. })
    }

    /// The MAX instance whose grammar the user got wrong: its usage is the
    /// one to show.
    pub fn max_instance(&self) -> Option<&str> {
        match self {
            CommandError::Max { instance, .. } => Some(instance),
            _ => None,
        }
    }
}

/// Words a user may type instead of arguments to see the usage.
const HELP_WORDS: &[&str] = &["help", "-h", "--help", "?"];

impl Command {
    /// Parses already split words, routing the chat among `registry`'s
    /// instances as typed in Slack channel `channel_id` (empty in a
    /// terminal). No words, or a help word alone, is [`Command::Help`].
    pub fn parse<S: AsRef<str>>(words: &[S], registry: &Registry, channel_id: &str) -> Result<Self, CommandError> {
        let chat = match words {
            [] => return Ok(Command::Help),
            [only] if HELP_WORDS.iter().any(|h| h.eq_ignore_ascii_case(only.as_ref())) => {
                return Ok(Command::Help);
            }
            [chat, ..] => chat.as_ref(),
        };
        let route = route(registry, chat, channel_id).map_err(CommandError::Route)?;
        let rest = &words[1..];
        let card = match registry.get(route.instance).kind() {
            Some(Kind::Max) => Card::Max(MaxContact::parse(rest).map_err(|reason| CommandError::Max {
                instance: registry.get(route.instance).name().to_owned(),
                given: shorten(rest.first().map_or("", AsRef::as_ref)),
                reason,
            })?),
            // Unknown (getSettings has not answered) is taken for the
            // grammar every other messenger shares.
            Some(Kind::Telegram | Kind::WhatsApp) | None => Card::Phone(parse_contact(rest)?),
        };
        Ok(Command::Send(SendContact {
            instance: route.instance,
            chat_id: route.chat_id,
            card,
            rule: route.rule,
            chat_alias: route.alias,
        }))
    }
}

/// `<phone> <firstName> [lastName] [company...]`.
fn parse_contact<S: AsRef<str>>(words: &[S]) -> Result<Contact, CommandError> {
    let first = words.first().ok_or(CommandError::Missing("phone"))?;
    let phone_words = phone_word_count(words);
    let phone = if phone_words == 1 {
        Cow::Borrowed(first.as_ref())
    } else {
        Cow::Owned(words[..phone_words].iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "))
    };
    let phone = parse_phone(&phone)?;
    let names = &words[phone_words..];

    let first_name = parse_first_name(names.first().ok_or(CommandError::Missing("firstName"))?.as_ref())?;
    let last_name = names.get(1).map(|w| parse_last_name(w.as_ref())).transpose()?.flatten();
    let company = match names.get(2..) {
        Some(rest) if !rest.is_empty() => parse_company(&rest.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" "))?,
        _ => None,
    };
    Ok(Contact { phone, first_name, last_name, company })
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
            CommandError::Route(_) => Field::ChatId,
            // On MAX the contact goes where the phone does; names are refused.
            CommandError::Max { reason: MaxContactError::Names, .. } => Field::FirstName,
            CommandError::Max { .. } => Field::Phone,
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
    /// Validates a form with the same rules as the typed command, routing
    /// its chat (an alias from a select, or a typed id) among `registry`'s
    /// instances as opened in `channel_id`, and reports every wrong field
    /// at once rather than the first. On a MAX instance the phone field
    /// takes the contact (their MAX chat id or phone) and the names stay
    /// empty.
    pub fn from_fields(fields: &Fields<'_>, registry: &Registry, channel_id: &str) -> Result<Self, Vec<CommandError>> {
        let route = route(registry, fields.chat_id, channel_id).map_err(CommandError::Route);
        let max = route.as_ref().ok().filter(|r| registry.get(r.instance).kind() == Some(Kind::Max));
        let card = match max {
            Some(max) => {
                let instance = registry.get(max.instance).name();
                let names = [fields.first_name, fields.last_name, fields.company];
                let contact = MaxContact::parse(&[fields.phone]).map_err(|reason| CommandError::Max {
                    instance: instance.to_owned(),
                    given: shorten(fields.phone),
                    reason,
                });
                let names = if names.iter().all(|n| n.trim().is_empty()) {
                    Ok(())
                } else {
                    Err(CommandError::Max {
                        instance: instance.to_owned(),
                        given: String::new(),
                        reason: MaxContactError::Names,
                    })
                };
                match (contact, names) {
                    (Ok(contact), Ok(())) => Ok(Card::Max(contact)),
                    (contact, names) => Err([contact.err(), names.err()].into_iter().flatten().collect::<Vec<_>>()),
                }
            }
            None => {
                let phone = parse_phone(fields.phone);
                let first_name = parse_first_name(fields.first_name);
                let last_name = parse_last_name(fields.last_name);
                let company = parse_company(fields.company);
                match (phone, first_name, last_name, company) {
                    (Ok(phone), Ok(first_name), Ok(last_name), Ok(company)) => {
                        Ok(Card::Phone(Contact { phone, first_name, last_name, company }))
                    }
                    (phone, first_name, last_name, company) => {
                        Err([phone.err(), first_name.err(), last_name.err(), company.err()]
                            .into_iter()
                            .flatten()
                            .collect())
                    }
                }
            }
        };
        match (route, card) {
            (Ok(route), Ok(card)) => Ok(SendContact {
                instance: route.instance,
                chat_id: route.chat_id,
                card,
                rule: route.rule,
                chat_alias: route.alias,
            }),
            (route, card) => {
                let mut errors: Vec<CommandError> = route.err().into_iter().collect();
                errors.extend(card.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// The rules of each argument, shared by the typed command and the form.
/// (The chat is routed: see `instances::route`.)
fn parse_phone(given: &str) -> Result<PhoneNumber, CommandError> {
    PhoneNumber::parse(given).map_err(|reason| CommandError::Phone { given: shorten(given), reason })
}

fn parse_first_name(given: &str) -> Result<ContactText, CommandError> {
    ContactText::parse(given).map_err(CommandError::FirstName)
}

fn parse_last_name(given: &str) -> Result<Option<ContactText>, CommandError> {
    ContactText::parse_optional(given).map_err(CommandError::LastName)
}

fn parse_company(given: &str) -> Result<Option<ContactText>, CommandError> {
    ContactText::parse_optional(given).map_err(CommandError::Company)
}

/// How many of `words` (the first one included) make up the phone.
///
/// People type numbers in groups (`+7 987 654-32-10`), so the words made
/// only of phone characters that follow the first one join it, but only
/// while the number is incomplete: a name such as `007` after a whole number
/// (`79876543210 007 Bond`) is a name, not more digits.
fn phone_word_count<S: AsRef<str>>(words: &[S]) -> usize {
    let Some(first) = words.first() else { return 0 };
    let first_word_digits = digit_count(first.as_ref());
    let leading = first.as_ref().chars().find(char::is_ascii_digit);
    let mut digits = first_word_digits;
    let mut count = 1;
    while !phone_is_complete(leading, first_word_digits, digits)
        && let Some(next) = words.get(count).map(AsRef::as_ref)
        && is_phone_fragment(next)
    {
        digits += digit_count(next);
        count += 1;
    }
    count
}

/// Whether a phone typed in groups has all its digits: numbers under the
/// country codes 1 (North America) and 7 (Russia, Kazakhstan) have exactly
/// 11; any other is complete when typed as one word of at least 7 digits, or
/// once it reaches the 15 digits a number can have.
fn phone_is_complete(leading: Option<char>, first_word_digits: usize, digits: usize) -> bool {
    match leading {
        Some('1' | '7') => digits >= 11,
        _ => first_word_digits >= PhoneNumber::MIN_DIGITS || digits >= PhoneNumber::MAX_DIGITS,
    }
}

fn digit_count(word: &str) -> usize {
    word.bytes().filter(u8::is_ascii_digit).count()
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
        let Card::Phone(contact) = &s.card else { panic!("{s:?} is not a phone card") };
        (
            contact.first_name.as_str(),
            contact.last_name.as_ref().map(ContactText::as_str),
            contact.company.as_ref().map(ContactText::as_str),
        )
    }

    fn one() -> Registry {
        Registry::one("default", None)
    }

    #[test]
    fn digit_groups_join_the_phone_only_while_it_is_incomplete() {
        type Names<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
        let cases: &[(&str, u64, Names)] = &[
            ("10000000 79876543210 007 Bond", 79876543210, ("007", Some("Bond"), None)),
            ("10000000 +7 987 654-32-10 007 Bond", 79876543210, ("007", Some("Bond"), None)),
            ("10000000 +7 9876543210 007", 79876543210, ("007", None, None)),
            ("10000000 7 987 654 32 10 2024", 79876543210, ("2024", None, None)),
            ("10000000 +1 555 123 4567 42 Street", 15551234567, ("42", Some("Street"), None)),
            ("10000000 442079460958 007 Bond", 442079460958, ("007", Some("Bond"), None)),
            ("10000000 +44 20 7946 0958 Jane", 442079460958, ("Jane", None, None)),
            ("10000000 +49 151 12345678 Hans", 4915112345678, ("Hans", None, None)),
            ("10000000 4915112345678 1 2", 4915112345678, ("1", Some("2"), None)),
        ];
        for (text, phone, expected_names) in cases {
            let words: Vec<&str> = text.split_whitespace().collect();
            let Ok(Command::Send(s)) = Command::parse(&words, &one(), "") else { panic!("{text:?} was refused") };
            let Card::Phone(contact) = &s.card else { panic!("{text:?} is not a phone card") };
            assert_eq!(contact.phone.as_u64(), *phone, "text {text:?}");
            assert_eq!(names(&s), *expected_names, "text {text:?}");
        }
        let words = ["10000000", "+44", "20", "7946", "0958", "99", "99", "Ivan"];
        assert!(matches!(
            Command::parse(&words, &one(), ""),
            Err(CommandError::Phone { reason: PhoneNumberError::BadLength(16), .. })
        ));
    }

    #[test]
    fn a_control_character_is_refused_by_name() {
        let control = ["10000000", "79876543210", "Ivan", "Iv\u{0}anov"];
        assert_eq!(
            Command::parse(&control, &one(), ""),
            Err(CommandError::LastName(ContactTextError::ControlCharacter(0)))
        );
    }

    #[test]
    fn terminal_words_are_taken_as_typed() {
        let argv = ["10000000", "+7 987 654-32-10", "Anna Maria", "Smith", "Acme", "Ltd"];
        match Command::parse(&argv, &one(), "").unwrap() {
            Command::Send(s) => assert_eq!(names(&s), ("Anna Maria", Some("Smith"), Some("Acme Ltd"))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_max_route_takes_a_contact_and_no_names() {
        let max = Registry::one("max", Some(Kind::Max));
        let send = |words: &[&str]| match Command::parse(words, &max, "") {
            Ok(Command::Send(send)) => Ok(send.card),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        let card = send(&["10000000", "+7", "987", "654-32-10"]).unwrap();
        assert_eq!(card.display_name(), "79*******10@c.us");
        assert!(matches!(send(&["max:10000000", "20000000"]), Ok(Card::Max(c)) if c.chat_id().as_str() == "20000000"));
        for (words, text) in [
            (&["10000000"][..], "<contact> is missing"),
            (&["10000000", "+79876543210", "Ivan"], "names are not sent on MAX"),
            (&["10000000", "ivan"], "contact `ivan` is not a MAX chat id or a phone number"),
        ] {
            let err = send(words).unwrap_err();
            assert!(err.to_string().starts_with(text), "{words:?}: {err}");
            assert_eq!(err.max_instance(), Some("max"));
            assert!(err.wants_usage());
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
        let s = SendContact::from_fields(&valid, &one(), "").unwrap();
        assert_eq!(s.chat_id.as_str(), "79876543210@c.us");
        let Card::Phone(contact) = &s.card else { panic!("{s:?}") };
        assert_eq!(contact.phone.as_u64(), 79876543210);
        assert_eq!(names(&s), ("Anna Maria", None, Some("Smith & Sons")));

        let invalid = Fields { chat_id: "ten", phone: "", first_name: " ", last_name: "a\u{1}", company: "" };
        let errors = SendContact::from_fields(&invalid, &one(), "").unwrap_err();
        let fields: Vec<_> = errors.iter().map(CommandError::field).collect();
        assert_eq!(fields, [Field::ChatId, Field::Phone, Field::FirstName, Field::LastName]);
        // The typed command refuses the same value for the same reason.
        assert_eq!(Command::parse(&["ten", "79876543210", "Ivan"], &one(), "").unwrap_err(), errors[0]);
    }

    #[test]
    fn a_form_routed_to_max_takes_the_contact_in_the_phone_field_and_no_names() {
        let max = Registry::one("max", Some(Kind::Max));
        let fields = Fields { chat_id: "10000000", phone: "+7 987 654-32-10", ..Fields::default() };
        let s = SendContact::from_fields(&fields, &max, "").unwrap();
        assert!(matches!(&s.card, Card::Max(c) if c.chat_id().as_str() == "79876543210@c.us"), "{s:?}");
        let named = Fields { first_name: "Ivan", phone: "", ..fields };
        let errors = SendContact::from_fields(&named, &max, "").unwrap_err();
        let fields: Vec<_> = errors.iter().map(CommandError::field).collect();
        assert_eq!(fields, [Field::Phone, Field::FirstName]);
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
            for registry in [one(), Registry::one("max", Some(Kind::Max))] {
                if let Err(errors) = SendContact::from_fields(&fields, &registry, "C1") {
                    prop_assert!(!errors.is_empty());
                }
            }
        }

        #[test]
        fn no_word_list_panics(words in proptest::collection::vec("\\PC{0,20}", 0..8)) {
            let _ = Command::parse(&words, &one(), "");
            let _ = Command::parse(&words, &Registry::one("max", Some(Kind::Max)), "");
        }
    }
}
