//! The contact card posted after a successful send.

use super::{Language, Localized};

/// The card's fixed words: its header and the labels of its fields. Fixed,
/// so a card borrows them instead of allocating each one per send.
#[derive(Debug, Clone, Copy)]
pub enum CardLabel {
    Header,
    Name,
    Company,
    Phone,
    Chat,
    /// A MAX card's contact: their chat id (or phone) in MAX.
    MaxContact,
}

impl CardLabel {
    pub fn text(self, language: Language) -> &'static str {
        use Language::{En, Ru};
        match (self, language) {
            (CardLabel::Header, En) => "Contact card sent",
            (CardLabel::Header, Ru) => "Карточка контакта отправлена",
            (CardLabel::Name, En) => "Name",
            (CardLabel::Name, Ru) => "Имя",
            (CardLabel::Company, En) => "Company",
            (CardLabel::Company, Ru) => "Компания",
            (CardLabel::Phone, En) => "Phone",
            (CardLabel::Phone, Ru) => "Телефон",
            (CardLabel::Chat, En) => "Chat",
            (CardLabel::Chat, Ru) => "Чат",
            (CardLabel::MaxContact, En) => "MAX contact",
            (CardLabel::MaxContact, Ru) => "Контакт в MAX",
        }
    }
}

impl Localized for CardLabel {
    fn localize(&self, language: Language) -> String {
        self.text(language).to_owned()
    }
}

/// The card's context line, as Slack markup: `user` is a Slack user id, `id`
/// GREEN-API's message id, both already escaped.
#[derive(Debug, Clone, Copy)]
pub struct CardContext<'a> {
    pub user: &'a str,
    pub id: &'a str,
}

impl Localized for CardContext<'_> {
    fn localize(&self, language: Language) -> String {
        let CardContext { user, id } = *self;
        match language {
            Language::En => format!("Sent by <@{user}> · GREEN-API message id: `{id}`"),
            Language::Ru => format!("Отправитель: <@{user}> · идентификатор сообщения в GREEN-API: `{id}`"),
        }
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    let labels = [
        CardLabel::Header,
        CardLabel::Name,
        CardLabel::Company,
        CardLabel::Phone,
        CardLabel::Chat,
        CardLabel::MaxContact,
    ];
    // A new label must be added to the list above.
    for label in labels {
        match label {
            CardLabel::Header
            | CardLabel::Name
            | CardLabel::Company
            | CardLabel::Phone
            | CardLabel::Chat
            | CardLabel::MaxContact => {}
        }
    }
    let mut all: Vec<Box<dyn Localized>> = labels.into_iter().map(|l| Box::new(l) as Box<dyn Localized>).collect();
    all.push(Box::new(CardContext { user: "U1", id: "BAE5" }));
    all
}
