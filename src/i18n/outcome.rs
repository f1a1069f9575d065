//! What a user reads about a send: under way, done, failed, and where the
//! answer went.
//!
//! Values are inserted as given: a caller that builds Slack markup escapes
//! user input before it gets here.

use super::{Language, Localized};

#[derive(Debug, Clone, Copy)]
pub enum OutcomeText<'a> {
    /// Success, as Slack markup: `user` is a Slack user id, `phone` masked
    /// wherever a channel reads it, `chat` the alias when there is one.
    Sent { user: &'a str, name: &'a str, phone: &'a str, chat: &'a str, id: &'a str },
    /// A MAX card's success, as Slack markup: `contact` is the contact's
    /// chat id in MAX, masked wherever a channel reads it.
    SentMax { user: &'a str, contact: &'a str, chat: &'a str, id: &'a str },
    /// A failure after which the contact may still arrive; `reason` is the
    /// localised GREEN-API outcome.
    NotConfirmed { name: &'a str, chat: &'a str, reason: &'a str },
    /// A failure after which nothing was sent.
    NotSent { name: &'a str, chat: &'a str, reason: &'a str },
    /// GREEN-API is slower than Slack's ack budget.
    Sending { name: &'a str, chat: &'a str, reply_follows: bool },
    /// The send task ended without an outcome (a bug).
    InternalError,
    /// Opens a direct message when the bot may not post where the form was
    /// opened: `channel` is that channel's id, `None` when it was a direct
    /// conversation (with someone else), which a `<#…>` link cannot name.
    DirectMessageNote { channel: Option<&'a str> },
    /// Slack would not open the form; the usage follows.
    FormNotOpened,
    /// A submitted form whose hidden context cannot be read.
    FormOutOfDate { invocation: &'a str },
}

impl Localized for OutcomeText<'_> {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (*self, language) {
            (OutcomeText::Sent { user, name, phone, chat, id }, En) => {
                format!(
                    "<@{user}> sent the contact card of {name}, {phone}, to chat {chat}. GREEN-API message id: {id}"
                )
            }
            (OutcomeText::Sent { user, name, phone, chat, id }, Ru) => format!(
                "<@{user}>: карточка контакта {name}, {phone}, отправлена в чат {chat}. Идентификатор сообщения в \
                 GREEN-API: {id}"
            ),
            (OutcomeText::SentMax { user, contact, chat, id }, En) => {
                format!("<@{user}> sent the MAX contact card of {contact} to chat {chat}. GREEN-API message id: {id}")
            }
            (OutcomeText::SentMax { user, contact, chat, id }, Ru) => format!(
                "<@{user}>: карточка контакта MAX {contact} отправлена в чат {chat}. Идентификатор сообщения в \
                 GREEN-API: {id}"
            ),
            (OutcomeText::NotConfirmed { name, chat, reason }, En) => {
                format!("No confirmation that the contact card of {name} reached chat {chat}. {reason}")
            }
            (OutcomeText::NotConfirmed { name, chat, reason }, Ru) => {
                format!("Нет подтверждения, что карточка контакта {name} дошла до чата {chat}. {reason}")
            }
            (OutcomeText::NotSent { name, chat, reason }, En) => {
                format!("Could not send the contact card of {name} to chat {chat}. {reason}")
            }
            (OutcomeText::NotSent { name, chat, reason }, Ru) => {
                format!("Не удалось отправить карточку контакта {name} в чат {chat}. {reason}")
            }
            (OutcomeText::Sending { name, chat, reply_follows: true }, En) => format!(
                "Sending the contact card of {name} to chat {chat}… GREEN-API is taking a while; the result will \
                 appear here."
            ),
            (OutcomeText::Sending { name, chat, reply_follows: true }, Ru) => format!(
                "Отправляю карточку контакта {name} в чат {chat}… GREEN-API отвечает медленно, результат появится \
                 здесь."
            ),
            (OutcomeText::Sending { name, chat, reply_follows: false }, En) => format!(
                "Sending the contact card of {name} to chat {chat}… GREEN-API is taking a while; this request has \
                 no reply address the bot may use, so the result will not appear here. Ask the bot's admin, who can \
                 find it in the log."
            ),
            (OutcomeText::Sending { name, chat, reply_follows: false }, Ru) => format!(
                "Отправляю карточку контакта {name} в чат {chat}… GREEN-API отвечает медленно, а ответить на этот \
                 запрос боту некуда, поэтому результат здесь не появится. Узнать его можно у администратора бота: \
                 он записан в журнал."
            ),
            (OutcomeText::InternalError, En) => {
                "Something went wrong inside the bot; the contact may not have been sent.".to_owned()
            }
            (OutcomeText::InternalError, Ru) => {
                "Что-то пошло не так внутри бота: возможно, контакт не отправлен.".to_owned()
            }
            (OutcomeText::DirectMessageNote { channel: Some(channel) }, En) => {
                format!("I can't post in <#{channel}>, so here is the result of your form.")
            }
            (OutcomeText::DirectMessageNote { channel: Some(channel) }, Ru) => {
                format!("Я не могу писать в <#{channel}>, поэтому присылаю результат формы сюда.")
            }
            (OutcomeText::DirectMessageNote { channel: None }, En) => {
                "I can't post in the conversation where you opened the form, so here is its result.".to_owned()
            }
            (OutcomeText::DirectMessageNote { channel: None }, Ru) => {
                "Я не могу писать в переписку, где вы открыли форму, поэтому присылаю результат сюда.".to_owned()
            }
            (OutcomeText::FormNotOpened, En) => {
                "Slack did not open the form, so type the arguments after the command instead.".to_owned()
            }
            (OutcomeText::FormNotOpened, Ru) => "Slack не открыл форму — укажите аргументы прямо в команде.".to_owned(),
            (OutcomeText::FormOutOfDate { invocation }, En) => {
                format!("This form is out of date. Close it and run {invocation} again.")
            }
            (OutcomeText::FormOutOfDate { invocation }, Ru) => {
                format!("Эта форма устарела. Закройте её и снова запустите {invocation}.")
            }
        }
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    let (name, chat) = ("Ivan Ivanov (Acme)", "10000000");
    let all = vec![
        OutcomeText::Sent { user: "U1", name, phone: "+7 987 ***-**-10", chat, id: "BAE5" },
        OutcomeText::SentMax { user: "U1", contact: "79*******10@c.us", chat, id: "BAE5" },
        OutcomeText::NotConfirmed { name, chat, reason: "Timeout." },
        OutcomeText::NotSent { name, chat, reason: "Rejected." },
        OutcomeText::Sending { name, chat, reply_follows: true },
        OutcomeText::Sending { name, chat, reply_follows: false },
        OutcomeText::InternalError,
        OutcomeText::DirectMessageNote { channel: Some("C1") },
        OutcomeText::DirectMessageNote { channel: None },
        OutcomeText::FormNotOpened,
        OutcomeText::FormOutOfDate { invocation: "/sendcontact" },
    ];
    // A new variant must be added to the list above.
    for text in &all {
        match text {
            OutcomeText::Sent { .. }
            | OutcomeText::SentMax { .. }
            | OutcomeText::NotConfirmed { .. }
            | OutcomeText::NotSent { .. }
            | OutcomeText::Sending { .. }
            | OutcomeText::InternalError
            | OutcomeText::DirectMessageNote { .. }
            | OutcomeText::FormNotOpened
            | OutcomeText::FormOutOfDate { .. } => {}
        }
    }
    all.into_iter().map(|t| Box::new(t) as Box<dyn Localized>).collect()
}
