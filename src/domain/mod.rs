//! Validated values of the domain: once parsed at the edge (Slack text or the
//! terminal), the rest of the code can rely on them being sendable.

mod card;
mod chat_id;
mod contact;
mod max_contact;
mod phone_number;

pub use card::Card;
pub use chat_id::{ChatId, ChatIdError, ChatIdForLog};
pub use contact::{Contact, ContactText, ContactTextError, MAX_TEXT_CHARS, invisible_name};
pub use max_contact::{MaxContact, MaxContactError};
pub use phone_number::{PhoneNumber, PhoneNumberError};
