//! MAX ("v3") instances: their sendContact body names the contact by chat id
//! (<https://green-api.com/v3/docs/api/sending/SendContact>); the method and
//! URL are the same as for Telegram and WhatsApp.

use serde::Serialize;

use crate::domain::{ChatId, MaxContact};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    chat_id: &'a str,
    contact: ContactRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactRef<'a> {
    chat_id: &'a str,
}

/// `{"chatId": "<chat>", "contact": {"chatId": "<the contact's chat id>"}}`.
pub fn max_send_contact_body(chat_id: &ChatId, contact: &MaxContact) -> Vec<u8> {
    let body = Body { chat_id: chat_id.as_str(), contact: ContactRef { chat_id: contact.chat_id().as_str() } };
    // Serialising two borrowed strings into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_else(|_| unreachable!("the body is plain data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_contact_by_chat_id_only() {
        let chat = ChatId::parse("-10000000000000").unwrap();
        for (typed, contact_id) in [("10000000", "10000000"), ("+7 987 654-32-10", "79876543210@c.us")] {
            let words: Vec<&str> = typed.split(' ').collect();
            let contact = MaxContact::parse(&words).unwrap();
            let body: serde_json::Value = serde_json::from_slice(&max_send_contact_body(&chat, &contact)).unwrap();
            assert_eq!(body, serde_json::json!({"chatId": "-10000000000000", "contact": {"chatId": contact_id}}));
        }
    }
}
