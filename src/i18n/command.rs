//! The command's usage and why its arguments were refused.
//!
//! The errors' `Display` (logs, the terminal) is their English text here:
//! one source for the words, whoever reads them.

use std::fmt;

use super::{Language, Localized, ru_plural};
use crate::command::CommandError;
use crate::domain::{ChatIdError, ContactTextError, MaxContactError, PhoneNumberError, invisible_name};
use crate::slack::text::TextError;

/// How to call the command. `invocation` is how the user started it
/// (`/sendcontact`); `form` says whether the command alone opens a form.
#[derive(Debug, Clone, Copy)]
pub struct Usage<'a> {
    pub invocation: &'a str,
    pub form: bool,
}

impl Localized for Usage<'_> {
    fn localize(&self, language: Language) -> String {
        let inv = self.invocation;
        let mut text = match language {
            Language::En => format!(
                "Send a contact card to a Telegram, WhatsApp or MAX chat:\n\
                 `{inv} <chatId> <phone> <firstName> [lastName] [company]`\n\
                 • chatId: a chat id such as 10000000 (groups: -10000000000000), or 79876543210@c.us, …@g.us, …@lid\n\
                 • phone: 7 to 15 digits with the country code, e.g. +7 987 654-32-10\n\
                 • put names with spaces in quotes, \"Anna Maria\" or “Anna Maria”; words after lastName form the company\n\
                 Example: `{inv} 10000000 +79876543210 Ivan Ivanov \"Romashka LLC\"`"
            ),
            Language::Ru => format!(
                "Отправка карточки контакта в чат Telegram, WhatsApp или MAX:\n\
                 `{inv} <chatId> <телефон> <имя> [фамилия] [компания]`\n\
                 • chatId — идентификатор чата, например 10000000 (у групп -10000000000000), или 79876543210@c.us, …@g.us, …@lid\n\
                 • телефон — от 7 до 15 цифр вместе с кодом страны, например +7 987 654-32-10\n\
                 • имя из нескольких слов возьмите в кавычки: \"Анна Мария\" или «Анна Мария»; всё, что идёт после фамилии, — \
                 название компании\n\
                 Пример: `{inv} 10000000 +79876543210 Иван Иванов \"ООО Ромашка\"`"
            ),
        };
        if self.form {
            text.push('\n');
            text.push_str(&match language {
                Language::En => format!("Or type `{inv}` alone to fill in a form."),
                Language::Ru => format!("Или введите просто `{inv}` и заполните форму."),
            });
        }
        text
    }
}

/// The sentence a user reads when the arguments are refused, ending with a
/// full stop (a routing refusal brings its own).
impl Localized for CommandError {
    fn localize(&self, language: Language) -> String {
        match self {
            CommandError::Route(e) => e.localize(language),
            other => format!("{}.", clause(other, language)),
        }
    }
}

/// English, without the full stop: the terminal and the logs add their own
/// punctuation.
impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&clause(self, Language::En))
    }
}

/// The refusal as a sentence without its full stop.
fn clause(error: &CommandError, language: Language) -> String {
    use Language::{En, Ru};
    match (error, language) {
        (CommandError::Missing(name), En) => format!("<{name}> is missing"),
        (CommandError::Missing(name), Ru) => format!("Не хватает аргумента <{}>", argument_ru(name)),
        (CommandError::Route(e), language) => e.localize(language).trim_end_matches('.').to_owned(),
        (CommandError::Phone { given, reason }, En) => format!("phone `{given}` {}", reason.localize(En)),
        (CommandError::Phone { reason: PhoneNumberError::Empty, .. }, Ru) => "Телефон не указан".to_owned(),
        (CommandError::Phone { given, reason }, Ru) => format!("Телефон `{given}`: {}", reason.localize(Ru)),
        (CommandError::FirstName(reason), En) => format!("firstName {}", reason.localize(En)),
        (CommandError::FirstName(ContactTextError::Empty), Ru) => "Имя не может быть пустым".to_owned(),
        (CommandError::FirstName(reason), Ru) => format!("Имя: {}", reason.localize(Ru)),
        (CommandError::LastName(reason), En) => format!("lastName {}", reason.localize(En)),
        (CommandError::LastName(ContactTextError::Empty), Ru) => "Фамилия не может быть пустой".to_owned(),
        (CommandError::LastName(reason), Ru) => format!("Фамилия: {}", reason.localize(Ru)),
        (CommandError::Company(reason), En) => format!("company {}", reason.localize(En)),
        (CommandError::Company(ContactTextError::Empty), Ru) => "Название компании не может быть пустым".to_owned(),
        (CommandError::Company(reason), Ru) => format!("Компания: {}", reason.localize(Ru)),
        (CommandError::Max { reason: MaxContactError::Missing, .. }, En) => "<contact> is missing".to_owned(),
        (CommandError::Max { reason: MaxContactError::Missing, .. }, Ru) => "Не хватает аргумента <контакт>".to_owned(),
        (CommandError::Max { reason: reason @ MaxContactError::Names, .. }, En) => {
            format!("names {}", reason.localize(En))
        }
        (CommandError::Max { reason: reason @ MaxContactError::Names, .. }, Ru) => {
            format!("Имена {}", reason.localize(Ru))
        }
        (CommandError::Max { given, reason, .. }, En) => format!("contact `{given}` {}", reason.localize(En)),
        (CommandError::Max { given, reason, .. }, Ru) => format!("Контакт `{given}`: {}", reason.localize(Ru)),
    }
}

/// The grammar's argument names as the Russian usage spells them.
fn argument_ru(name: &str) -> &str {
    match name {
        "phone" => "телефон",
        "firstName" => "имя",
        "lastName" => "фамилия",
        "company" => "компания",
        other => other,
    }
}

/// The reasons below complete a sentence that names the argument: "phone
/// `12ab` contains `a`: …" / "Телефон `12ab`: недопустимый символ `a`: …".
impl Localized for TextError {
    fn localize(&self, language: Language) -> String {
        match (self, language) {
            (TextError::UnclosedQuote { quote, context }, Language::En) => {
                format!("the quote {quote} before `{context}` is never closed: add the closing quote, or remove it")
            }
            (TextError::UnclosedQuote { quote, context }, Language::Ru) => format!(
                "кавычка {quote} перед `{context}` не закрыта: добавьте закрывающую кавычку или уберите открывающую"
            ),
        }
    }
}

impl Localized for ChatIdError {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (ChatIdError::Empty, En) => "is empty".to_owned(),
            (ChatIdError::Empty, Ru) => "пусто".to_owned(),
            (ChatIdError::Unrecognised, En) => "is not a chat id: use a Telegram/MAX chat id such as 10000000 \
                 (groups: -10000000000000) or a WhatsApp id such as 79876543210@c.us, 120363043968066561@g.us or \
                 123456789@lid"
                .to_owned(),
            (ChatIdError::Unrecognised, Ru) => "это не идентификатор чата. Укажите id чата Telegram или MAX, \
                 например 10000000 (у групп -10000000000000), или идентификатор WhatsApp, например \
                 79876543210@c.us, 120363043968066561@g.us или 123456789@lid"
                .to_owned(),
            (ChatIdError::TooLong(n), En) => format!("has {n} digits: a chat id has at most 20"),
            (ChatIdError::TooLong(n), Ru) => {
                format!("{n} {}, а в идентификаторе чата их не больше 20", ru_plural(*n, "цифра", "цифры", "цифр"))
            }
        }
    }
}

impl Localized for PhoneNumberError {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (PhoneNumberError::Empty, En) => "is empty".to_owned(),
            (PhoneNumberError::Empty, Ru) => "пусто".to_owned(),
            (PhoneNumberError::BadCharacter(c), En) => {
                format!("contains `{c}`: use only digits, optionally with + ( ) - . and spaces")
            }
            (PhoneNumberError::BadCharacter(c), Ru) => {
                format!("недопустимый символ `{c}`: можно использовать только цифры, а также + ( ) - . и пробелы")
            }
            (PhoneNumberError::BadLength(n), En) => {
                format!("has {n} digits: a phone number has 7 to 15 digits, country code included")
            }
            (PhoneNumberError::BadLength(n), Ru) => format!(
                "{n} {}, а в номере телефона вместе с кодом страны их должно быть от 7 до 15",
                ru_plural(*n, "цифра", "цифры", "цифр")
            ),
            (PhoneNumberError::LeadingZero, En) => "starts with 0: write it in international format with the \
                 country code, e.g. 79876543210 or +44 20 7946 0958"
                .to_owned(),
            (PhoneNumberError::LeadingZero, Ru) => "номер начинается с 0. Запишите его в международном формате с \
                 кодом страны, например 79876543210 или +44 20 7946 0958"
                .to_owned(),
        }
    }
}

impl Localized for ContactTextError {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (ContactTextError::Empty, En) => "is empty".to_owned(),
            (ContactTextError::Empty, Ru) => "пусто".to_owned(),
            (ContactTextError::TooLong(n), En) => format!("has {n} characters: at most 256 are allowed"),
            (ContactTextError::TooLong(n), Ru) => {
                format!("{n} {}, а можно не больше 256", ru_plural(*n, "символ", "символа", "символов"))
            }
            (ContactTextError::ControlCharacter(code), En) => {
                format!("contains a control character (U+{code:04X}): remove it and try again")
            }
            (ContactTextError::ControlCharacter(code), Ru) => {
                format!("есть управляющий символ (U+{code:04X}): уберите его и попробуйте снова")
            }
            (ContactTextError::InvisibleCharacter(c), En) => format!(
                "contains the invisible character U+{:04X} ({}), which can make the name look different from what \
                 it is: remove it (retype the name rather than paste it) and try again",
                u32::from(*c),
                invisible_name(*c).unwrap_or_default()
            ),
            (ContactTextError::InvisibleCharacter(c), Ru) => format!(
                "в тексте есть невидимый символ U+{:04X} ({}), из-за которого имя может выглядеть не так, как \
                 записано на самом деле: удалите его (лучше наберите имя заново, а не вставляйте) и попробуйте снова",
                u32::from(*c),
                invisible_name(*c).unwrap_or_default()
            ),
        }
    }
}

// The reasons' English completes a sentence that names the argument.
display_in_english!(TextError, ChatIdError, PhoneNumberError, ContactTextError);

/// The first letter in upper case: reasons are written to follow a name.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    use crate::handler::ArgumentsError;
    let given = || "x1".to_owned();
    let text_errors = [
        ContactTextError::Empty,
        ContactTextError::TooLong(300),
        ContactTextError::ControlCharacter(7),
        ContactTextError::InvisibleCharacter('\u{202E}'),
    ];
    let mut all: Vec<Box<dyn Localized>> = vec![
        Box::new(Usage { invocation: "/sendcontact", form: false }),
        Box::new(Usage { invocation: "/sendcontact", form: true }),
        Box::new(ArgumentsError::Text(TextError::UnclosedQuote { quote: '"', context: "Ivan".into() })),
        Box::new(CommandError::Missing("chatId")),
        Box::new(CommandError::Missing("phone")),
        Box::new(CommandError::Missing("firstName")),
    ];
    use crate::instances::RouteError;
    for reason in [ChatIdError::Empty, ChatIdError::Unrecognised, ChatIdError::TooLong(21)] {
        all.push(Box::new(CommandError::Route(RouteError::NotAChat { given: given(), reason, aliases: false })));
    }
    for reason in [MaxContactError::Missing, MaxContactError::Unrecognised, MaxContactError::Names] {
        all.push(Box::new(CommandError::Max { instance: "max".into(), given: given(), reason }));
    }
    for reason in [
        PhoneNumberError::Empty,
        PhoneNumberError::BadCharacter('a'),
        PhoneNumberError::BadLength(3),
        PhoneNumberError::LeadingZero,
    ] {
        all.push(Box::new(CommandError::Phone { given: given(), reason }));
    }
    for reason in text_errors.clone() {
        all.push(Box::new(CommandError::FirstName(reason)));
    }
    for reason in text_errors.clone() {
        all.push(Box::new(CommandError::LastName(reason)));
    }
    for reason in text_errors {
        all.push(Box::new(CommandError::Company(reason)));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The terminal shows `Display`; a user reading English reads the same
    /// words, whichever door the command came in by.
    #[test]
    fn english_reasons_are_the_errors_own_words() {
        use crate::domain::MaxContactError;
        use crate::instances::RouteError;
        let text_errors =
            [ContactTextError::Empty, ContactTextError::TooLong(300), ContactTextError::ControlCharacter(7)];
        let mut errors = vec![CommandError::Missing("chatId"), CommandError::Missing("phone")];
        for reason in [ChatIdError::Empty, ChatIdError::Unrecognised, ChatIdError::TooLong(21)] {
            for aliases in [false, true] {
                errors.push(CommandError::Route(RouteError::NotAChat {
                    given: "x".into(),
                    reason: reason.clone(),
                    aliases,
                }));
            }
        }
        errors.push(CommandError::Route(RouteError::Ambiguous {
            chat_id: crate::domain::ChatId::parse("1").unwrap(),
            candidates: vec!["a".into(), "b".into()],
        }));
        for reason in [MaxContactError::Missing, MaxContactError::Names, MaxContactError::Unrecognised] {
            errors.push(CommandError::Max { instance: "max".into(), given: "x".into(), reason });
        }
        for reason in [
            PhoneNumberError::Empty,
            PhoneNumberError::BadCharacter('a'),
            PhoneNumberError::BadLength(3),
            PhoneNumberError::LeadingZero,
        ] {
            errors.push(CommandError::Phone { given: "x".into(), reason });
        }
        for reason in text_errors {
            errors.push(CommandError::FirstName(reason.clone()));
            errors.push(CommandError::LastName(reason.clone()));
            errors.push(CommandError::Company(reason));
        }
        for error in errors {
            assert_eq!(error.localize(Language::En), format!("{error}."));
        }
    }

    #[test]
    fn russian_reasons_agree_in_number() {
        let error = CommandError::Phone { given: "123".into(), reason: PhoneNumberError::BadLength(3) };
        assert_eq!(
            error.localize(Language::Ru),
            "Телефон `123`: 3 цифры, а в номере телефона вместе с кодом страны их должно быть от 7 до 15."
        );
        assert_eq!(CommandError::Missing("firstName").localize(Language::Ru), "Не хватает аргумента <имя>.");
    }
}
