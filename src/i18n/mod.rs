//! Every text a user reads, in English and Russian, from one catalogue.
//!
//! Each area keeps its texts in its own file. A message is a value (an enum
//! variant, or an error the core already has) that implements [`Localized`];
//! its `localize` is one exhaustive `match (message, language)` with no
//! wildcard arm, so the compiler refuses a message that exists in one
//! language only, and each English text sits next to its Russian one. The
//! tests below render every sample message in both languages and check that
//! the two differ and are written in the right alphabet.
//!
//! Logs, metrics and the terminal stay in English: they use the types'
//! `Display`, which for a user's text is this catalogue's English.
//!
//! To add texts: put them in the file of their area (or a new `<area>.rs`
//! declared below), as an enum of messages, or on the error type the core
//! already has, with `impl Localized` matching on `(message, language)`;
//! add a `samples()` listing every message and include it in the test
//! below. A type whose `Display` is a user's text (an error the logs and the
//! terminal show too) takes it from here with `display_in_english!`, so
//! the English words have one source.

/// `Display` as the catalogue's English text, for types the logs and the
/// terminal show as they are. Defined before the area modules that use it.
macro_rules! display_in_english {
    ($($message:ty),* $(,)?) => {$(
        impl std::fmt::Display for $message {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::i18n::Localized::localize(self, $crate::i18n::Language::En))
            }
        }
    )*};
}

pub mod access;
pub mod card;
pub mod command;
pub mod green_api;
pub mod modal;
pub mod outcome;
pub mod routing;

use std::fmt;

/// A language replies can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    Ru,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Ru];

    /// The language of a Slack locale (`users.info`'s `locale`, e.g. `ru-RU`);
    /// English for every locale this catalogue has no texts for.
    pub fn from_locale(locale: &str) -> Self {
        let primary = locale.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ru") { Language::Ru } else { Language::En }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
        }
    }

    /// The inverse of [`Language::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        Language::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `REPLY_LANGUAGE`: one language for everyone, or each user's Slack locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyLanguage {
    Fixed(Language),
    /// Asks Slack (`users.info?include_locale=true`) once per user; needs the
    /// bot token, and falls back to English whenever the answer is not there
    /// in time.
    Auto,
}

/// English, as the contract's default.
impl Default for ReplyLanguage {
    fn default() -> Self {
        ReplyLanguage::Fixed(Language::En)
    }
}

impl ReplyLanguage {
    /// Parses `en`, `ru` or `auto` (any case); the error completes
    /// "REPLY_LANGUAGE=... ".
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.trim().eq_ignore_ascii_case("auto") {
            return Ok(ReplyLanguage::Auto);
        }
        Language::from_code(value).map(ReplyLanguage::Fixed).ok_or("must be en, ru or auto")
    }
}

/// A message the catalogue can write in every [`Language`].
pub trait Localized {
    fn localize(&self, language: Language) -> String;
}

/// The Russian noun form that agrees with `n`: `one` for 1, 21, 31…,
/// `few` for 2–4, 22–24…, `many` for 0, 5–20, 25–30… (1 цифра, 2 цифры,
/// 5 цифр, 11 цифр, 21 цифра).
pub fn ru_plural(n: usize, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=14) => many,
        (1, _) => one,
        (2..=4, _) => few,
        _ => many,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<(&'static str, Box<dyn Localized>)> {
        let mut all = Vec::new();
        all.extend(access::samples().into_iter().map(|m| ("access", m)));
        all.extend(card::samples().into_iter().map(|m| ("card", m)));
        all.extend(command::samples().into_iter().map(|m| ("command", m)));
        all.extend(green_api::samples().into_iter().map(|m| ("green_api", m)));
        all.extend(modal::samples().into_iter().map(|m| ("modal", m)));
        all.extend(outcome::samples().into_iter().map(|m| ("outcome", m)));
        all.extend(routing::samples().into_iter().map(|m| ("routing", m)));
        all
    }

    fn is_cyrillic(c: char) -> bool {
        matches!(c, '\u{0400}'..='\u{04FF}')
    }

    /// The samples hold only ASCII data, so any Cyrillic letter in an
    /// English text, or a Russian text without one, is a translation that is
    /// missing or was pasted into the wrong arm.
    #[test]
    fn every_message_exists_in_both_languages_and_they_differ() {
        let samples = samples();
        assert!(samples.len() > 60, "only {} samples", samples.len());
        for (area, message) in &samples {
            let en = message.localize(Language::En);
            let ru = message.localize(Language::Ru);
            assert!(!en.trim().is_empty(), "{area}: an empty English text");
            assert!(!ru.trim().is_empty(), "{area}: an empty Russian text (English: {en})");
            assert_ne!(en, ru, "{area}: the Russian text is the English one");
            assert!(!en.chars().any(is_cyrillic), "{area}: Cyrillic in English: {en}");
            assert!(ru.chars().any(is_cyrillic), "{area}: no Russian in: {ru}");
        }
    }

    #[test]
    fn russian_plurals_agree_with_the_number() {
        let digits = |n| ru_plural(n, "цифра", "цифры", "цифр");
        let cases = [
            (0, "цифр"),
            (1, "цифра"),
            (2, "цифры"),
            (4, "цифры"),
            (5, "цифр"),
            (11, "цифр"),
            (12, "цифр"),
            (14, "цифр"),
            (21, "цифра"),
            (22, "цифры"),
            (25, "цифр"),
            (111, "цифр"),
            (101, "цифра"),
        ];
        for (n, expected) in cases {
            assert_eq!(digits(n), expected, "{n}");
        }
    }

    #[test]
    fn reply_language_and_locales_parse() {
        assert_eq!(ReplyLanguage::parse("en"), Ok(ReplyLanguage::Fixed(Language::En)));
        assert_eq!(ReplyLanguage::parse(" RU "), Ok(ReplyLanguage::Fixed(Language::Ru)));
        assert_eq!(ReplyLanguage::parse("Auto"), Ok(ReplyLanguage::Auto));
        assert!(ReplyLanguage::parse("de").is_err());
        assert!(ReplyLanguage::parse("").is_err());
        for (locale, expected) in [
            ("ru-RU", Language::Ru),
            ("ru", Language::Ru),
            ("en-US", Language::En),
            ("uk-UA", Language::En),
            ("", Language::En),
        ] {
            assert_eq!(Language::from_locale(locale), expected, "{locale:?}");
        }
    }
}
