//! Every GREEN-API instance a team has, in one deployment (issue 11).
//!
//! The GREEN_API_* variables describe one instance; SENDCONTACT_CONFIG names
//! a TOML file with several, plus chat aliases ([`file`]). Either way the
//! result is an [`InstancesConfig`], from which start-up builds the
//! [`Registry`] that [`route`] consults for every command.

mod file;
mod registry;
mod routing;

pub use file::{Defaults, FileProblem, parse_file};
pub use registry::{Alias, Instance, InstanceId, KindSource, Registry};
pub use routing::{Route, RouteError, Rule, route};

#[cfg(test)]
pub(crate) use file::tests_support;

use std::fmt;

use crate::domain::ChatId;
use crate::green_api::{GreenApiSettings, InstanceType};

/// Which messenger an instance serves: GREEN-API's `typeInstance`, limited
/// to the kinds this service can send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Telegram,
    WhatsApp,
    /// GREEN-API's "v3": its sendContact takes a contact's chat id, not a
    /// phone number and names.
    Max,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Telegram, Kind::WhatsApp, Kind::Max];

    /// The word the config file uses, and logs and replies show.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Telegram => "telegram",
            Kind::WhatsApp => "whatsapp",
            Kind::Max => "max",
        }
    }

    /// The messenger's own name, for sentences.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Telegram => "Telegram",
            Kind::WhatsApp => "WhatsApp",
            Kind::Max => "MAX",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// From getSettings' answer; `None` for a type this service does not
    /// know.
    pub fn from_instance_type(instance_type: &InstanceType) -> Option<Self> {
        match instance_type {
            InstanceType::Telegram => Some(Kind::Telegram),
            InstanceType::WhatsApp => Some(Kind::WhatsApp),
            InstanceType::Max => Some(Kind::Max),
            InstanceType::Other(_) => None,
        }
    }

    /// Whether a chat id of this form can live on this messenger. The
    /// WhatsApp forms (`@c.us`, `@g.us`, `@lid`) are WhatsApp's; a bare number
    /// is a Telegram or MAX chat. (Telegram also takes `phone@c.us` to reach a
    /// number, but routing follows the contract: the suffix means WhatsApp.)
    pub fn takes(self, chat_id: &ChatId) -> bool {
        let whatsapp_form = chat_id.as_str().contains('@');
        match self {
            Kind::WhatsApp => whatsapp_form,
            Kind::Telegram | Kind::Max => !whatsapp_form,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One instance as configured.
#[derive(Debug, Clone)]
pub struct InstanceSettings {
    /// A lowercase word: replies, logs and metrics labels name the instance
    /// by it, and `name:chatId` chooses it.
    pub name: String,
    pub green_api: GreenApiSettings,
    /// `None`: detected with getSettings at start.
    pub kind: Option<Kind>,
    /// Slack channels whose commands default to this instance.
    pub channels: Vec<String>,
}

/// A word typed instead of a chat id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasSettings {
    pub name: String,
    /// Index into [`InstancesConfig::instances`].
    pub instance: usize,
    pub chat_id: ChatId,
}

/// Every instance and alias, checked: names unique, aliases pointing at
/// instances, a channel claimed by at most one instance.
#[derive(Debug, Clone)]
pub struct InstancesConfig {
    pub instances: Vec<InstanceSettings>,
    pub aliases: Vec<AliasSettings>,
}

/// The name the one-instance form (GREEN_API_* variables) gives its
/// instance; metrics label it so before any configuration is read.
pub use crate::metrics::DEFAULT_INSTANCE_NAME;

impl InstancesConfig {
    /// The one-instance form: the GREEN_API_* variables.
    pub fn single(green_api: GreenApiSettings) -> Self {
        Self {
            instances: vec![InstanceSettings {
                name: DEFAULT_INSTANCE_NAME.to_owned(),
                green_api,
                kind: None,
                channels: Vec::new(),
            }],
            aliases: Vec::new(),
        }
    }
}

/// An instance name: a lowercase ASCII word (letters, digits, `_`, `-`),
/// starting with a letter so that it never reads as a chat id, and short
/// enough for a metrics label.
pub fn is_instance_name(word: &str) -> bool {
    let mut bytes = word.bytes();
    (1..=32).contains(&word.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An alias name: a word that starts with a letter (Cyrillic too) and goes on
/// with letters, digits, `_`, `-` or `.`, so that it can never be taken for a
/// chat id or an `instance:chatId` pair.
pub fn is_alias_name(word: &str) -> bool {
    let mut chars = word.chars();
    word.chars().count() <= 64
        && chars.next().is_some_and(char::is_alphabetic)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_lowercase_words() {
        for good in ["telegram", "wa-2", "sales_team", "a"] {
            assert!(is_instance_name(good), "{good}");
        }
        for bad in ["", "Telegram", "2wa", "wa:2", "wa 2", "ж", &"a".repeat(33)] {
            assert!(!is_instance_name(bad), "{bad}");
        }
    }

    #[test]
    fn alias_names_never_look_like_chat_ids() {
        for good in ["sales", "Продажи", "team.eu", "ops-2"] {
            assert!(is_alias_name(good), "{good}");
        }
        for bad in ["", "10000000", "-100", "a:b", "a@c.us", "a b", "_x"] {
            assert!(!is_alias_name(bad), "{bad}");
        }
    }

    #[test]
    fn kinds_take_their_chat_forms() {
        let chat = |s: &str| ChatId::parse(s).unwrap();
        assert!(Kind::WhatsApp.takes(&chat("79876543210@c.us")));
        assert!(Kind::WhatsApp.takes(&chat("120363043968066561@g.us")));
        assert!(Kind::WhatsApp.takes(&chat("123@lid")));
        assert!(!Kind::WhatsApp.takes(&chat("10000000")));
        assert!(Kind::Telegram.takes(&chat("-10000000000000")));
        assert!(Kind::Max.takes(&chat("10000000")));
        assert!(!Kind::Max.takes(&chat("123@lid")));
        let kind = |t: &str| Kind::from_instance_type(&InstanceType::from_type_instance(t));
        assert_eq!(kind("v3"), Some(Kind::Max));
        assert_eq!(kind("Telegram"), Some(Kind::Telegram));
        assert_eq!(kind("viber"), None);
    }
}
