//! GREEN-API's JSON, as sent and as answered
//! (<https://green-api.com/en/telegram/docs/api/sending/SendContact>).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::one_line;
use crate::domain::{ChatId, Contact};

/// The id GREEN-API gives a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMessage(String);

impl IdMessage {
    /// An id as GREEN-API returned it; for benchmarks and tests that render
    /// replies without calling GREEN-API.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendContactBody<'a> {
    chat_id: &'a str,
    contact: ContactBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactBody<'a> {
    phone_contact: u64,
    first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<&'a str>,
}

/// The JSON body of a sendContact call.
pub fn send_contact_body(chat_id: &ChatId, contact: &Contact) -> Vec<u8> {
    let body = SendContactBody {
        chat_id: chat_id.as_str(),
        contact: ContactBody {
            phone_contact: contact.phone.as_u64(),
            first_name: contact.first_name.as_str(),
            last_name: contact.last_name.as_ref().map(|n| n.as_str()),
            company: contact.company.as_ref().map(|c| c.as_str()),
        },
    };
    // Room for a card with long names, so the buffer is not regrown.
    let mut json = Vec::with_capacity(256);
    // Serialising borrowed strings and an integer into a Vec cannot fail.
    serde_json::to_writer(&mut json, &body).unwrap_or_else(|_| unreachable!("the body is plain data"));
    json
}

#[derive(Deserialize)]
pub(super) struct SendContactResponse {
    #[serde(rename = "idMessage")]
    pub(super) id_message: Option<String>,
    /// GREEN-API sometimes reports errors as HTTP 200 with `{"code":401,...}`.
    pub(super) code: Option<u16>,
}

#[derive(Deserialize)]
struct QuotaBody {
    #[serde(rename = "correspondentsStatus")]
    correspondents: Option<QuotaStatus>,
    #[serde(rename = "invokeStatus")]
    invoke: Option<QuotaStatus>,
}

#[derive(Deserialize)]
struct QuotaStatus {
    status: Option<String>,
    description: Option<String>,
}

/// `getStateInstance`'s answer.
/// Just the `code` of an answer, which GREEN-API sometimes sends with 200.
#[derive(Deserialize)]
pub(super) struct ErrorCode {
    pub(super) code: Option<u16>,
}

#[derive(Deserialize)]
pub(super) struct StateInstance {
    #[serde(rename = "stateInstance")]
    pub(super) state: Option<String>,
}

/// The part of `getSettings`'s answer this bot reads.
#[derive(Deserialize)]
pub(super) struct Settings {
    #[serde(rename = "typeInstance")]
    pub(super) type_instance: Option<String>,
}

/// What the quota answer says was exceeded, if it says.
pub(super) fn quota_detail(body: &[u8]) -> Option<String> {
    let quota: QuotaBody = serde_json::from_slice(body).ok()?;
    [quota.correspondents, quota.invoke]
        .into_iter()
        .flatten()
        .find(|s| s.status.as_deref().is_some_and(|s| s.contains("EXCEEDED")))
        .and_then(|s| s.description.or(s.status))
        .map(|d| one_line(&d, super::error::MAX_REASON_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactText, PhoneNumber};
    #[test]
    fn the_body_follows_the_documentation() {
        let chat = ChatId::parse("10000000").unwrap();
        let mut contact = Contact {
            phone: PhoneNumber::parse("79876543210").unwrap(),
            first_name: ContactText::parse("Иван").unwrap(),
            last_name: None,
            company: None,
        };
        assert_eq!(
            String::from_utf8(send_contact_body(&chat, &contact)).unwrap(),
            r#"{"chatId":"10000000","contact":{"phoneContact":79876543210,"firstName":"Иван"}}"#
        );
        contact.last_name = ContactText::parse_optional("Иванов").unwrap();
        contact.company = ContactText::parse_optional("\"Ромашка\"").unwrap();
        assert_eq!(
            String::from_utf8(send_contact_body(&chat, &contact)).unwrap(),
            r#"{"chatId":"10000000","contact":{"phoneContact":79876543210,"firstName":"Иван","lastName":"Иванов","company":"\"Ромашка\""}}"#
        );
    }

    #[test]
    fn quota_detail_names_what_ran_out() {
        let body = br#"{"invokeStatus":{"method":"sendmessage","used":67,"total":0,"status":"QUOTE_ALLOWED"},
            "correspondentsStatus":{"status":"CORRESPONDENTS_QUOTE_EXCEEDED","description":"Monthly quota has been exceeded."}}"#;
        assert_eq!(quota_detail(body).as_deref(), Some("Monthly quota has been exceeded."));
        assert_eq!(quota_detail(b"nope"), None);
    }
}
