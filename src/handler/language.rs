//! Which language to answer a user in (REPLY_LANGUAGE).

use std::time::Duration;

use tokio::time::Instant;

use crate::i18n::{Language, ReplyLanguage};
use crate::state::AppState;

/// The longest a command waits for Slack to say a user's locale. Only a
/// user's first command can wait (the answer is remembered), and the rest of
/// the ack budget is the send's.
const LOCALE_WAIT: Duration = Duration::from_millis(500);

/// The language for `user_id`: the configured one, or with `auto` the user's
/// Slack locale, English when Slack does not say in time.
pub async fn language_for(state: &AppState, user_id: &str, received_at: Instant) -> Language {
    match (state.reply_language, &state.bot) {
        (ReplyLanguage::Fixed(language), _) => language,
        (ReplyLanguage::Auto, None) => Language::En,
        (ReplyLanguage::Auto, Some(bot)) => {
            // Never more than half the ack budget: the send, or views.open,
            // needs the rest.
            let wait = LOCALE_WAIT.min(state.dispatcher.ack_budget() / 2);
            let locale = bot.locales.locale(user_id, received_at + wait).await;
            locale.map_or(Language::En, |l| Language::from_locale(&l))
        }
    }
}
