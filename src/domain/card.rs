use super::{Contact, MaxContact};

/// What the card shows: a phone number and names (Telegram, WhatsApp), or
/// on MAX a contact named by chat id, whose own profile the card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Card {
    Phone(Contact),
    Max(MaxContact),
}

impl Card {
    /// How the card is named in replies: "Ivan Ivanov (Acme)", or the MAX
    /// contact's chat id, masked like a logged chat id when it is a phone
    /// number (a success reply goes to the whole channel).
    pub fn display_name(&self) -> String {
        match self {
            Card::Phone(contact) => contact.display_name(),
            Card::Max(contact) => contact.chat_id().for_log().to_string(),
        }
    }
}
