//! What a user reads about a send, whichever door the command came in by:
//! texts from the catalogue (`i18n`), laid out as a contact card in Block
//! Kit, with a plain-text fallback that holds everything the card shows.
//!
//! Anything the channel reads is masked: the phone number (`+7 987
//! ***-**-10`) and a personal WhatsApp chat id, which is a phone number too.

use std::borrow::Cow;

use crate::command::SendContact;
use crate::domain::Card as ContactCard;
use crate::green_api::{GreenApiError, IdMessage};
use crate::i18n::card::{CardContext, CardLabel};
use crate::i18n::outcome::OutcomeText;
use crate::i18n::routing::MaxText;
use crate::i18n::{Language, Localized};
use crate::slack::blocks::Card;
use crate::slack::reply::{Reply, ResponseType, escape};

/// Who reads a success: the whole channel (`in_channel`), or only the user
/// who sent it (`ephemeral`). SLACK_SUCCESS_VISIBILITY chooses.
pub type Visibility = ResponseType;

/// The contact and where it went, as the messages below name them.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    pub send: &'a SendContact,
    /// The chat's alias, when the user chose it by one; shown instead of the id.
    pub chat_alias: Option<&'a str>,
    /// The instance that sent it, where there is a choice of them: the chat
    /// is then shown as `instance:chatId`, as the user would choose it.
    pub instance: Option<&'a str>,
    /// The Slack user who sent it.
    pub user_id: &'a str,
}

impl Sent<'_> {
    fn chat(&self, masked: bool) -> String {
        let chat = match self.chat_alias {
            Some(alias) => return alias.to_owned(),
            None if masked => self.send.chat_id.for_log().to_string(),
            None => self.send.chat_id.to_string(),
        };
        match self.instance {
            Some(instance) => format!("{instance}:{chat}"),
            None => chat,
        }
    }

    /// The contact as the card's text names it: the names, or on MAX the
    /// contact's chat id (masked where it is a phone number).
    fn name(&self) -> String {
        self.send.card.display_name()
    }
}

/// The success: a contact card, seen by the channel or by the user alone.
pub fn sent(language: Language, sent: Sent<'_>, id: &IdMessage, visibility: Visibility) -> Reply {
    let masked = visibility == ResponseType::InChannel;
    let chat = sent.chat(masked);
    let (user, id) = (escape(sent.user_id), escape(id.as_str()));
    let chat_shown = escape(&chat);
    let (text, mut fields) = match &sent.send.card {
        ContactCard::Phone(contact) => {
            let phone = if masked { contact.phone.masked() } else { contact.phone.to_string() };
            let name = sent.name();
            let text =
                OutcomeText::Sent { user: &user, name: &escape(&name), phone: &phone, chat: &chat_shown, id: &id }
                    .localize(language);
            let shown_name = match &contact.last_name {
                None => contact.first_name.as_str().to_owned(),
                Some(last) => [contact.first_name.as_str(), last.as_str()].join(" "),
            };
            let mut fields = Vec::with_capacity(4);
            fields.push((CardLabel::Name.text(language), Cow::Owned(shown_name)));
            if let Some(company) = &contact.company {
                fields.push((CardLabel::Company.text(language), Cow::Owned(company.as_str().to_owned())));
            }
            fields.push((CardLabel::Phone.text(language), Cow::Owned(phone)));
            (text, fields)
        }
        ContactCard::Max(contact) => {
            let shown = if masked { contact.chat_id().for_log().to_string() } else { contact.chat_id().to_string() };
            let text =
                OutcomeText::SentMax { user: &user, contact: &shown, chat: &chat_shown, id: &id }.localize(language);
            let mut fields = Vec::with_capacity(2);
            fields.push((CardLabel::MaxContact.text(language), Cow::Owned(shown)));
            (text, fields)
        }
    };
    let context = CardContext { user: &user, id: &id }.localize(language);
    drop(chat_shown);
    fields.push((CardLabel::Chat.text(language), Cow::Owned(chat)));
    let card = Card { header: CardLabel::Header.text(language), fields, context };
    let reply = match visibility {
        ResponseType::InChannel => Reply::in_channel_markup(text),
        ResponseType::Ephemeral => Reply::ephemeral_markup(text),
    };
    reply.with_card(card)
}

/// A failure, for the user alone.
pub fn failed(language: Language, sent: Sent<'_>, error: &GreenApiError) -> Reply {
    let name = sent.name();
    let chat = sent.chat(false);
    let mut reason = error.localize(language);
    // MAX refuses a contact that is not among the instance's contacts, and
    // its reason does not always say so.
    if let (ContactCard::Max(_), GreenApiError::Rejected { .. }) = (&sent.send.card, error) {
        reason.push(' ');
        reason.push_str(&MaxText::NotAContact.localize(language));
    }
    let text = if error.may_have_been_sent() {
        OutcomeText::NotConfirmed { name: &name, chat: &chat, reason: &reason }
    } else {
        OutcomeText::NotSent { name: &name, chat: &chat, reason: &reason }
    };
    Reply::ephemeral(&text.localize(language))
}

/// GREEN-API is slower than Slack waits: the result follows, or it cannot.
pub fn sending(language: Language, sent: Sent<'_>, reply_follows: bool) -> Reply {
    let name = sent.name();
    let chat = sent.chat(false);
    Reply::ephemeral(&OutcomeText::Sending { name: &name, chat: &chat, reply_follows }.localize(language))
}

pub fn internal_error(language: Language) -> Reply {
    Reply::ephemeral(&OutcomeText::InternalError.localize(language))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::handler::parse_text;
    use crate::slack::blocks::check_message;

    fn send(text: &str) -> SendContact {
        match parse_text(text, &crate::instances::Registry::one("default", None), "C1") {
            Ok(Command::Send(send)) => send,
            other => panic!("{other:?}"),
        }
    }

    fn json(reply: &Reply) -> serde_json::Value {
        serde_json::from_slice(&reply.to_json()).unwrap()
    }

    #[test]
    fn a_card_in_the_channel_masks_the_phone_and_a_personal_chat() {
        let send = send("79876543210@c.us +7 987 654-32-10 Ivan Ivanov \"Smith & Sons <Ltd>\"");
        let id = IdMessage::new("BAE5F4886AD98765");
        for language in Language::ALL {
            let reply = sent(
                language,
                Sent { send: &send, chat_alias: None, instance: None, user_id: "U1" },
                &id,
                ResponseType::InChannel,
            );
            let body = json(&reply);
            assert_eq!(check_message(&body), Ok(()), "{body}");
            assert_eq!(body["response_type"], "in_channel");
            let all = body.to_string();
            assert!(!all.contains("79876543210"), "{all}");
            assert!(all.contains("+7 987 ***-**-10") && all.contains("79*******10@c.us"), "{all}");
            assert!(body["text"].as_str().unwrap().contains("BAE5F4886AD98765"));
            assert!(body["text"].as_str().unwrap().contains("Smith &amp; Sons &lt;Ltd&gt;"));
            assert!(all.contains("<@U1>"));
        }
    }

    #[test]
    fn a_card_for_the_user_alone_shows_everything_and_an_alias_replaces_the_id() {
        let send = send("120363043968066561@g.us 79876543210 Ivan");
        let id = IdMessage::new("X1");
        let reply = sent(
            Language::Ru,
            Sent { send: &send, chat_alias: Some("sales"), instance: None, user_id: "U1" },
            &id,
            ResponseType::Ephemeral,
        );
        let body = json(&reply);
        assert_eq!(check_message(&body), Ok(()));
        assert_eq!(body["response_type"], "ephemeral");
        let all = body.to_string();
        assert!(all.contains("+79876543210") && all.contains("sales") && !all.contains("@g.us"), "{all}");
        assert!(all.contains("Карточка контакта отправлена"), "{all}");
    }

    #[test]
    fn every_reply_fits_block_kit_with_the_longest_values() {
        use crate::command::{Fields, SendContact};
        let long = "Ж".repeat(crate::domain::MAX_TEXT_CHARS);
        let fields = Fields {
            chat_id: "11001234567-1581234048@g.us",
            phone: "123456789012345",
            first_name: &long,
            last_name: &long,
            company: &long,
        };
        let send = SendContact::from_fields(&fields, &crate::instances::Registry::one("default", None), "C1").unwrap();
        let sent_ = Sent { send: &send, chat_alias: Some(&long), instance: None, user_id: "U0123456789" };
        let id = IdMessage::new("B".repeat(64));
        let errors = [
            GreenApiError::Rejected { reason: "r".repeat(300) },
            GreenApiError::Timeout { after: std::time::Duration::from_secs(10) },
            GreenApiError::QuotaExceeded { detail: Some("q".repeat(300)) },
        ];
        for language in Language::ALL {
            let mut replies = vec![
                sent(language, sent_, &id, ResponseType::InChannel),
                sent(language, sent_, &id, ResponseType::Ephemeral),
                sending(language, sent_, true),
                sending(language, sent_, false),
                internal_error(language),
            ];
            replies.extend(errors.iter().map(|e| failed(language, sent_, e)));
            for reply in replies {
                let body = json(&reply);
                assert_eq!(check_message(&body), Ok(()), "{body}");
            }
        }
    }

    #[test]
    fn failures_say_whether_the_contact_may_still_arrive() {
        let send = send("10000000 79876543210 Ivan");
        let sent_ = Sent { send: &send, chat_alias: None, instance: None, user_id: "U1" };
        let timeout = GreenApiError::Timeout { after: std::time::Duration::from_secs(10) };
        let rejected = GreenApiError::Rejected { reason: "bad".into() };
        assert!(failed(Language::En, sent_, &timeout).text.starts_with("No confirmation"));
        assert!(failed(Language::En, sent_, &rejected).text.starts_with("Could not send"));
        assert!(failed(Language::Ru, sent_, &rejected).text.starts_with("Не удалось отправить"));
        assert_eq!(check_message(&json(&sending(Language::Ru, sent_, true))), Ok(()));
    }
}
