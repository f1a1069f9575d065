//! GREEN-API's outcomes: what happened and what to do, never the token.

use std::time::Duration;

use super::{Language, Localized};
use crate::green_api::{GreenApiError, Malformed};

display_in_english!(GreenApiError, Malformed);

impl Localized for GreenApiError {
    fn localize(&self, language: Language) -> String {
        use GreenApiError as E;
        use Language::{En, Ru};
        match (self, language) {
            (E::Rejected { reason }, En) => format!(
                "GREEN-API refused the contact: {reason}. Nothing was sent; check the chat id and the phone number."
            ),
            (E::Rejected { reason }, Ru) => format!(
                "GREEN-API отклонил контакт: {reason}. Ничего не отправлено — проверьте идентификатор чата и номер \
                 телефона."
            ),
            (E::InstanceUnavailable { reason }, En) => format!(
                "GREEN-API refused the contact: {reason}. Nothing was sent. The bot's GREEN-API instance cannot send \
                 right now; this is not about the chat id or the phone number: ask your admin to run \
                 `slack-sendcontact check`."
            ),
            (E::InstanceUnavailable { reason }, Ru) => format!(
                "GREEN-API отклонил контакт: {reason}. Ничего не отправлено. Инстанс GREEN-API, через который \
                 работает бот, сейчас не может отправлять сообщения; дело не в идентификаторе чата и не в номере \
                 телефона. Попросите администратора выполнить `slack-sendcontact check`."
            ),
            (E::Unauthorized { status }, En) => format!(
                "GREEN-API did not accept this bot's credentials (HTTP {status}). Nothing was sent; ask your admin to \
                 check GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE (or the instance in \
                 SENDCONTACT_CONFIG)."
            ),
            (E::Unauthorized { status }, Ru) => format!(
                "GREEN-API не принял учётные данные бота (HTTP {status}). Ничего не отправлено. Попросите \
                 администратора проверить GREEN_API_URL, GREEN_API_ID_INSTANCE и GREEN_API_TOKEN_INSTANCE (или \
                 описание инстанса в SENDCONTACT_CONFIG)."
            ),
            (E::RateLimited, En) => "GREEN-API kept answering \"too many requests\" until the time for this command \
                 ran out. Nothing was sent; try again in a minute."
                .to_owned(),
            (E::RateLimited, Ru) => "GREEN-API отвечал «слишком много запросов», пока не истекло время, отведённое на \
                 команду. Ничего не отправлено — попробуйте ещё раз через минуту."
                .to_owned(),
            (E::QuotaExceeded { detail }, En) => format!(
                "The GREEN-API plan's quota is used up{}. Nothing was sent; ask your admin to upgrade the plan or \
                 wait for the monthly reset.",
                in_brackets(detail)
            ),
            (E::QuotaExceeded { detail }, Ru) => format!(
                "Квота тарифа GREEN-API исчерпана{}. Ничего не отправлено. Попросите администратора сменить тариф \
                 или дождитесь ежемесячного обновления квоты.",
                in_brackets(detail)
            ),
            (E::ServerError { status }, En) => format!(
                "GREEN-API had an internal problem (HTTP {status}). The contact may or may not have been sent: check \
                 the chat before trying again."
            ),
            (E::ServerError { status }, Ru) => format!(
                "Внутренняя ошибка GREEN-API (HTTP {status}). Неизвестно, отправлен ли контакт: проверьте чат, \
                 прежде чем отправлять его снова."
            ),
            (E::UnexpectedStatus { status }, En) => format!(
                "GREEN-API answered HTTP {status}, which this bot does not expect. Nothing was sent; ask your admin \
                 to check GREEN_API_URL."
            ),
            (E::UnexpectedStatus { status }, Ru) => format!(
                "GREEN-API вернул неожиданный ответ: HTTP {status}. Ничего не отправлено. Попросите \
                 администратора проверить GREEN_API_URL."
            ),
            (E::Timeout { after }, En) => format!(
                "GREEN-API did not answer within {} s. The outcome is unknown: the contact may still arrive, so check \
                 the chat before sending it again.",
                seconds(*after, '.')
            ),
            (E::Timeout { after }, Ru) => format!(
                "GREEN-API не ответил за {} с. Результат неизвестен: контакт ещё может прийти, поэтому проверьте \
                 чат, прежде чем отправлять его снова.",
                seconds(*after, ',')
            ),
            (E::Unreachable { cause }, En) => format!(
                "Could not connect to GREEN-API ({cause}). Nothing was sent; try again later, and tell your admin if \
                 it goes on."
            ),
            (E::Unreachable { cause }, Ru) => format!(
                "Не удалось подключиться к GREEN-API ({cause}). Ничего не отправлено. Попробуйте позже, а если \
                 ошибка повторится, сообщите администратору."
            ),
            (E::ConnectionLost { cause }, En) => format!(
                "The connection to GREEN-API broke before it answered ({cause}). The contact may or may not have \
                 been sent: check the chat before trying again."
            ),
            (E::ConnectionLost { cause }, Ru) => format!(
                "Соединение с GREEN-API оборвалось до ответа ({cause}). Неизвестно, отправлен ли контакт: \
                 проверьте чат, прежде чем отправлять его снова."
            ),
            (E::MalformedResponse { detail }, En) => format!(
                "GREEN-API answered without a message id ({}). The contact may or may not have been sent: \
                 check the chat before trying again.",
                detail.localize(En)
            ),
            (E::MalformedResponse { detail }, Ru) => format!(
                "GREEN-API ответил без идентификатора сообщения ({}). Неизвестно, отправлен ли контакт: \
                 проверьте чат, прежде чем отправлять его снова.",
                detail.localize(Ru)
            ),
            (E::Busy, En) => {
                "Too many contacts are being sent right now. Nothing was sent; try again in a few seconds.".to_owned()
            }
            (E::Busy, Ru) => {
                "Сейчас отправляется слишком много контактов. Ничего не отправлено — попробуйте ещё раз через \
                 несколько секунд."
                    .to_owned()
            }
        }
    }
}

/// What was wrong with the answer, in brackets after the error's sentence.
impl Localized for Malformed {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (Malformed::TooLong { kib }, En) => format!("an answer longer than {kib} KiB"),
            (Malformed::TooLong { kib }, Ru) => format!("ответ длиннее {kib} КиБ"),
            (Malformed::NotJson, En) => "an answer that is not the expected JSON".to_owned(),
            (Malformed::NotJson, Ru) => "ответ не в том формате, которого ждёт бот".to_owned(),
            (Malformed::NoIdMessage, En) => "HTTP 200 without an idMessage".to_owned(),
            (Malformed::NoIdMessage, Ru) => "HTTP 200 без поля idMessage".to_owned(),
            (Malformed::UnexpectedSuccess { status }, En) => format!("HTTP {status} instead of 200 with an idMessage"),
            (Malformed::UnexpectedSuccess { status }, Ru) => format!("HTTP {status} вместо 200 с полем idMessage"),
            (Malformed::ReadNotJson { method }, En) => {
                format!("{method} answered with something other than the expected JSON")
            }
            (Malformed::ReadNotJson { method }, Ru) => {
                format!("{method} вернул ответ не в том формате, которого ждёт бот")
            }
        }
    }
}

fn in_brackets(detail: &Option<String>) -> String {
    detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// `2.5` in English, `2,5` in Russian; whole seconds without a fraction.
fn seconds(after: Duration, decimal_separator: char) -> String {
    after.as_secs_f32().to_string().replace('.', &decimal_separator.to_string())
}

#[cfg(test)]
fn errors() -> Vec<GreenApiError> {
    use GreenApiError as E;
    vec![
        E::Rejected { reason: "Validation failed".into() },
        E::InstanceUnavailable { reason: "account is expired".into() },
        E::Unauthorized { status: 401 },
        E::RateLimited,
        E::QuotaExceeded { detail: None },
        E::QuotaExceeded { detail: Some("monthly limit".into()) },
        E::ServerError { status: 502 },
        E::UnexpectedStatus { status: 418 },
        E::Timeout { after: Duration::from_millis(2500) },
        E::Unreachable { cause: "connection refused".into() },
        E::ConnectionLost { cause: "reset".into() },
        E::MalformedResponse { detail: Malformed::TooLong { kib: 64 } },
        E::MalformedResponse { detail: Malformed::NotJson },
        E::MalformedResponse { detail: Malformed::NoIdMessage },
        E::MalformedResponse { detail: Malformed::UnexpectedSuccess { status: 201 } },
        E::MalformedResponse { detail: Malformed::ReadNotJson { method: "getSettings" } },
        E::Busy,
    ]
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    errors().into_iter().map(|e| Box::new(e) as Box<dyn Localized>).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The logs and the terminal show `Display`; a user reading English
    /// must read the same words.
    #[test]
    fn english_outcomes_are_the_errors_own_words() {
        for e in errors() {
            assert_eq!(e.localize(Language::En), e.to_string());
        }
        let e = GreenApiError::Timeout { after: Duration::from_millis(2500) };
        assert!(e.localize(Language::Ru).contains("за 2,5 с"), "{}", e.localize(Language::Ru));
    }

    fn malformed() -> Vec<GreenApiError> {
        errors().into_iter().filter(|e| matches!(e, GreenApiError::MalformedResponse { .. })).collect()
    }

    /// The logs and the tests read these words; moving them into the
    /// catalogue must not change a byte.
    #[test]
    fn malformed_answers_keep_their_english_words() {
        let expected = [
            "an answer longer than 64 KiB",
            "an answer that is not the expected JSON",
            "HTTP 200 without an idMessage",
            "HTTP 201 instead of 200 with an idMessage",
            "getSettings answered with something other than the expected JSON",
        ];
        let errors = malformed();
        assert_eq!(errors.len(), expected.len());
        for (e, detail) in errors.iter().zip(expected) {
            assert_eq!(
                e.localize(Language::En),
                format!(
                    "GREEN-API answered without a message id ({detail}). The contact may or may not have been sent: \
                     check the chat before trying again."
                )
            );
        }
    }

    /// A Russian reader sees Latin letters only in names they may need to
    /// pass on to an admin: the service, the protocol, the field and the
    /// method.
    #[test]
    fn russian_malformed_answers_have_no_english_words() {
        let names = ["GREEN", "API", "HTTP", "idMessage", "getSettings"];
        for e in malformed() {
            let ru = e.localize(Language::Ru);
            for word in ru.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()) {
                assert!(names.contains(&word), "English word {word:?} in: {ru}");
            }
        }
    }
}
