//! The contact card posted after a successful send.

use super::{Language, Localized};

#[derive(Debug, Clone, Copy)]
pub enum CardText<'a> {
    Header,
    NameLabel,
    CompanyLabel,
    PhoneLabel,
    ChatLabel,
    /// A MAX card's contact: their chat id (or phone) in MAX.
    ContactLabel,
    /// The context line, as Slack markup: `user` is a Slack user id, `id`
    /// GREEN-API's message id.
    Context {
        user: &'a str,
        id: &'a str,
    },
}

impl Localized for CardText<'_> {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (*self, language) {
            (CardText::Header, En) => "Contact card sent".to_owned(),
            (CardText::Header, Ru) => "Карточка контакта отправлена".to_owned(),
            (CardText::NameLabel, En) => "Name".to_owned(),
            (CardText::NameLabel, Ru) => "Имя".to_owned(),
            (CardText::CompanyLabel, En) => "Company".to_owned(),
            (CardText::CompanyLabel, Ru) => "Компания".to_owned(),
            (CardText::PhoneLabel, En) => "Phone".to_owned(),
            (CardText::PhoneLabel, Ru) => "Телефон".to_owned(),
            (CardText::ChatLabel, En) => "Chat".to_owned(),
            (CardText::ChatLabel, Ru) => "Чат".to_owned(),
            (CardText::ContactLabel, En) => "MAX contact".to_owned(),
            (CardText::ContactLabel, Ru) => "Контакт в MAX".to_owned(),
            (CardText::Context { user, id }, En) => format!("Sent by <@{user}> · GREEN-API message id: `{id}`"),
            (CardText::Context { user, id }, Ru) => {
                format!("Отправитель: <@{user}> · идентификатор сообщения в GREEN-API: `{id}`")
            }
        }
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    let all = vec![
        CardText::Header,
        CardText::NameLabel,
        CardText::CompanyLabel,
        CardText::PhoneLabel,
        CardText::ChatLabel,
        CardText::ContactLabel,
        CardText::Context { user: "U1", id: "BAE5" },
    ];
    // A new variant must be added to the list above.
    for text in &all {
        match text {
            CardText::Header
            | CardText::NameLabel
            | CardText::CompanyLabel
            | CardText::PhoneLabel
            | CardText::ChatLabel
            | CardText::ContactLabel
            | CardText::Context { .. } => {}
        }
    }
    all.into_iter().map(|t| Box::new(t) as Box<dyn Localized>).collect()
}
