//! The form `/sendcontact` opens: its labels, examples, hints and the
//! message shown under a field that is wrong.

use super::command::capitalise;
use super::{Language, Localized};
use crate::command::{CommandError, Field};
use crate::domain::{ChatIdError, ContactTextError, MaxContactError, PhoneNumberError};
use crate::instances::RouteError;

#[derive(Debug, Clone, Copy)]
pub enum ModalText {
    /// At most 24 characters (Slack's limit for a modal's title and buttons).
    Title,
    Submit,
    Close,
    Label(Field),
    /// An example in the empty field.
    Placeholder(Field),
    /// The chat field when it is a list of the chats the bot knows.
    ChatSelectPlaceholder,
    ChatHint,
    ChatSelectHint,
    PhoneHint,
}

impl Localized for ModalText {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        use ModalText::*;
        match (*self, language) {
            (Title, En) => "Send a contact",
            (Title, Ru) => "Отправка контакта",
            (Submit, En) => "Send",
            (Submit, Ru) => "Отправить",
            (Close, En) => "Cancel",
            (Close, Ru) => "Отмена",
            (Label(Field::ChatId), En) => "Chat",
            (Label(Field::ChatId), Ru) => "Чат",
            (Label(Field::Phone), En) => "Phone number",
            (Label(Field::Phone), Ru) => "Номер телефона",
            (Label(Field::FirstName), En) => "First name",
            (Label(Field::FirstName), Ru) => "Имя",
            (Label(Field::LastName), En) => "Last name",
            (Label(Field::LastName), Ru) => "Фамилия",
            (Label(Field::Company), En) => "Company",
            (Label(Field::Company), Ru) => "Компания",
            (Placeholder(Field::ChatId), En) => "e.g. 10000000, -10000000000000 or 79876543210@c.us",
            (Placeholder(Field::ChatId), Ru) => "например, 10000000, -10000000000000 или 79876543210@c.us",
            (Placeholder(Field::Phone), En) => "e.g. +7 987 654-32-10",
            (Placeholder(Field::Phone), Ru) => "например, +7 987 654-32-10",
            (Placeholder(Field::FirstName), En) => "e.g. Ivan",
            (Placeholder(Field::FirstName), Ru) => "например, Иван",
            (Placeholder(Field::LastName), En) => "e.g. Ivanov",
            (Placeholder(Field::LastName), Ru) => "например, Иванов",
            (Placeholder(Field::Company), En) => "e.g. Romashka LLC",
            (Placeholder(Field::Company), Ru) => "например, ООО «Ромашка»",
            (ChatSelectPlaceholder, En) => "Choose a chat or type its id",
            (ChatSelectPlaceholder, Ru) => "Выберите чат или введите его id",
            (ChatHint, En) => {
                "A Telegram or MAX chat id (a group's starts with -100), or a WhatsApp id ending in @c.us, @g.us or \
                 @lid."
            }
            (ChatHint, Ru) => {
                "Идентификатор чата Telegram или MAX (у групп он начинается с -100) или идентификатор WhatsApp, \
                 который оканчивается на @c.us, @g.us или @lid."
            }
            (ChatSelectHint, En) => {
                "Type to find a chat your admin has named for this bot, or type a chat id (10000000, \
                 79876543210@c.us) and choose “Send to chat…”."
            }
            (ChatSelectHint, Ru) => {
                "Начните вводить название чата, который настроил администратор, или введите идентификатор чата \
                 (10000000, 79876543210@c.us) и выберите «Отправить в чат…»."
            }
            (PhoneHint, En) => "With the country code; spaces, brackets and dashes are fine.",
            (PhoneHint, Ru) => "С кодом страны; пробелы, скобки и дефисы допустимы.",
        }
        .to_owned()
    }
}

/// An option of the chat menu beyond the aliases.
#[derive(Debug, Clone)]
pub enum SuggestionText {
    /// What the user typed, offered as a chat id.
    SendToChat(String),
}

impl Localized for SuggestionText {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (SuggestionText::SendToChat(typed), En) => format!("Send to chat {typed}"),
            (SuggestionText::SendToChat(typed), Ru) => format!("Отправить в чат {typed}"),
        }
    }
}

/// The message under a wrong field. The field's label is right above it, so
/// unlike the command's reply it does not name the argument.
#[derive(Debug, Clone, Copy)]
pub struct FieldError<'a>(pub &'a CommandError);

impl Localized for FieldError<'_> {
    fn localize(&self, language: Language) -> String {
        use CommandError as C;
        use Language::{En, Ru};
        let reason = |r: &dyn Localized| match language {
            En => format!("This {}.", r.localize(En)),
            Ru => format!("{}.", capitalise(&r.localize(Ru))),
        };
        match (self.0, language) {
            (C::Missing("chatId") | C::Route(RouteError::NotAChat { reason: ChatIdError::Empty, .. }), En) => {
                "Enter the chat.".to_owned()
            }
            (C::Missing("chatId") | C::Route(RouteError::NotAChat { reason: ChatIdError::Empty, .. }), Ru) => {
                "Укажите чат.".to_owned()
            }
            (C::Max { reason: MaxContactError::Missing, .. }, En) => {
                "On MAX, enter the contact here: their MAX chat id or their phone with a +.".to_owned()
            }
            (C::Max { reason: MaxContactError::Missing, .. }, Ru) => {
                "В MAX укажите здесь контакт: его id чата в MAX или телефон с +.".to_owned()
            }
            (C::Max { reason: MaxContactError::Names, .. }, En) => {
                "Leave the names empty: on MAX the card shows the contact's own profile.".to_owned()
            }
            (C::Max { reason: MaxContactError::Names, .. }, Ru) => {
                "Оставьте имена пустыми: в MAX карточка показывает собственный профиль контакта.".to_owned()
            }
            (C::Missing("phone") | C::Phone { reason: PhoneNumberError::Empty, .. }, En) => {
                "Enter the phone number.".to_owned()
            }
            (C::Missing("phone") | C::Phone { reason: PhoneNumberError::Empty, .. }, Ru) => {
                "Укажите номер телефона.".to_owned()
            }
            (C::Missing("firstName") | C::FirstName(ContactTextError::Empty), En) => "Enter the first name.".to_owned(),
            (C::Missing("firstName") | C::FirstName(ContactTextError::Empty), Ru) => "Укажите имя.".to_owned(),
            (C::Missing(_) | C::LastName(ContactTextError::Empty) | C::Company(ContactTextError::Empty), En) => {
                "Fill in this field.".to_owned()
            }
            (C::Missing(_) | C::LastName(ContactTextError::Empty) | C::Company(ContactTextError::Empty), Ru) => {
                "Заполните это поле.".to_owned()
            }
            (C::Route(RouteError::NotAChat { reason: r, .. }), _) => reason(r),
            (C::Route(e), _) => e.localize(language),
            (C::Max { reason: r, .. }, _) => reason(r),
            (C::Phone { reason: r, .. }, _) => reason(r),
            (C::FirstName(r) | C::LastName(r) | C::Company(r), _) => reason(r),
        }
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    let mut all: Vec<Box<dyn Localized>> = vec![
        Box::new(ModalText::Title),
        Box::new(ModalText::Submit),
        Box::new(ModalText::Close),
        Box::new(ModalText::ChatSelectPlaceholder),
        Box::new(ModalText::ChatHint),
        Box::new(ModalText::ChatSelectHint),
        Box::new(ModalText::PhoneHint),
        Box::new(SuggestionText::SendToChat("10000000".into())),
    ];
    for field in Field::ALL {
        all.push(Box::new(ModalText::Label(field)));
        all.push(Box::new(ModalText::Placeholder(field)));
    }
    /// Owns the error a [`FieldError`] borrows.
    struct Owned(CommandError);
    impl Localized for Owned {
        fn localize(&self, language: Language) -> String {
            FieldError(&self.0).localize(language)
        }
    }
    let errors = [
        CommandError::Missing("chatId"),
        CommandError::Missing("phone"),
        CommandError::Missing("firstName"),
        CommandError::Missing("other"),
        CommandError::Route(RouteError::NotAChat { given: String::new(), reason: ChatIdError::Empty, aliases: false }),
        CommandError::Route(RouteError::NotAChat {
            given: "x".into(),
            reason: ChatIdError::Unrecognised,
            aliases: true,
        }),
        CommandError::Route(RouteError::NotAChat {
            given: "1".into(),
            reason: ChatIdError::TooLong(22),
            aliases: false,
        }),
        CommandError::Route(RouteError::UnknownInstance { given: "x".into(), instances: vec!["telegram".into()] }),
        CommandError::Max { instance: "max".into(), given: String::new(), reason: MaxContactError::Missing },
        CommandError::Max { instance: "max".into(), given: String::new(), reason: MaxContactError::Names },
        CommandError::Max { instance: "max".into(), given: "x".into(), reason: MaxContactError::Unrecognised },
        CommandError::Phone { given: String::new(), reason: PhoneNumberError::Empty },
        CommandError::Phone { given: "1a".into(), reason: PhoneNumberError::BadCharacter('a') },
        CommandError::Phone { given: "1".into(), reason: PhoneNumberError::BadLength(1) },
        CommandError::Phone { given: "01".into(), reason: PhoneNumberError::LeadingZero },
        CommandError::FirstName(ContactTextError::Empty),
        CommandError::FirstName(ContactTextError::TooLong(257)),
        CommandError::LastName(ContactTextError::ControlCharacter(1)),
        CommandError::LastName(ContactTextError::Empty),
        CommandError::Company(ContactTextError::TooLong(1000)),
    ];
    all.extend(errors.into_iter().map(|e| Box::new(Owned(e)) as Box<dyn Localized>));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_buttons_fit_slacks_24_characters() {
        for language in Language::ALL {
            for text in [ModalText::Title, ModalText::Submit, ModalText::Close] {
                let text = text.localize(language);
                assert!(text.chars().count() <= 24, "{text}");
            }
        }
    }

    #[test]
    fn field_errors_do_not_repeat_the_fields_name() {
        let error = CommandError::Phone { given: "12".into(), reason: PhoneNumberError::BadLength(2) };
        assert_eq!(
            FieldError(&error).localize(Language::En),
            "This has 2 digits: a phone number has 7 to 15 digits, country code included."
        );
        assert_eq!(
            FieldError(&error).localize(Language::Ru),
            "2 цифры, а в номере телефона вместе с кодом страны их должно быть от 7 до 15."
        );
    }
}
