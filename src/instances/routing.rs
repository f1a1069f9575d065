//! Which instance a command's chat goes to, in the contract's order: an
//! explicit `instance:chatId` always wins; then an alias; a chat id form
//! only one instance can take; the channel's instance; the only instance.
//! Otherwise the user is told which instances could take the chat and how
//! to choose, and nothing is sent.

use super::Kind;
use super::registry::{InstanceId, Registry};
use crate::domain::{ChatId, ChatIdError};

/// Where a command goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub instance: InstanceId,
    pub chat_id: ChatId,
    pub rule: Rule,
    /// The alias the chat was named by, if it was: replies show it.
    pub alias: Option<String>,
}

/// The rule that decided, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Explicit,
    Alias,
    ChatForm,
    Channel,
    OnlyInstance,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Explicit => "explicit",
            Rule::Alias => "alias",
            Rule::ChatForm => "chat_form",
            Rule::Channel => "channel",
            Rule::OnlyInstance => "only_instance",
        }
    }
}

/// Why no instance was chosen. The messages (English and Russian) are in
/// `texts.rs`; they name the instances and show how to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// `name:chat` where no instance is called `name`.
    UnknownInstance { given: String, instances: Vec<String> },
    /// `name:alias` where the alias belongs to another instance.
    AliasElsewhere { alias: String, owner: String, asked: String },
    /// Neither an alias nor a chat id.
    NotAChat { given: String, reason: ChatIdError, aliases: bool },
    /// `name:chat` where that instance's messenger has no such chats.
    WrongKind { instance: String, kind: Kind, chat_id: ChatId },
    /// Several instances could take the chat.
    Ambiguous { chat_id: ChatId, candidates: Vec<String> },
    /// No instance's messenger has chats of this form.
    NoInstanceTakes { chat_id: ChatId, instances: Vec<(String, Kind)> },
}

impl RouteError {
    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            RouteError::UnknownInstance { .. } => "unknown_instance",
            RouteError::AliasElsewhere { .. } => "alias_elsewhere",
            RouteError::NotAChat { .. } => "bad_chat_id",
            RouteError::WrongKind { .. } => "wrong_kind",
            RouteError::Ambiguous { .. } => "ambiguous_chat",
            RouteError::NoInstanceTakes { .. } => "no_instance_takes",
        }
    }
}

/// Chooses the instance for `word` (the command's first argument), typed in
/// `channel_id`.
pub fn route(registry: &Registry, word: &str, channel_id: &str) -> Result<Route, RouteError> {
    let word = word.trim();
    if let Some((prefix, rest)) = word.split_once(':') {
        return explicit(registry, prefix, rest);
    }
    if let Some(alias) = registry.alias(word) {
        return Ok(Route {
            instance: alias.instance,
            chat_id: alias.chat_id.clone(),
            rule: Rule::Alias,
            alias: Some(alias.name.clone()),
        });
    }
    let chat_id = ChatId::parse(word).map_err(|reason| RouteError::NotAChat {
        given: shorten(word),
        reason,
        aliases: !registry.aliases().is_empty(),
    })?;

    let mut candidates = registry.iter().filter(|(_, instance)| instance.may_take(&chat_id));
    let first = candidates.next().map(|(id, _)| id);
    let more = candidates.next().is_some();
    if let (Some(id), false) = (first, more) {
        return Ok(Route { instance: id, chat_id, rule: Rule::ChatForm, alias: None });
    }
    if let Some(id) = registry.channel_instance(channel_id).filter(|id| registry.get(*id).may_take(&chat_id)) {
        return Ok(Route { instance: id, chat_id, rule: Rule::Channel, alias: None });
    }
    if registry.len() == 1 {
        return Ok(Route { instance: InstanceId::from_index(0), chat_id, rule: Rule::OnlyInstance, alias: None });
    }
    if first.is_none() {
        // Every kind is known here: an unknown one may take anything.
        let instances = registry.iter().filter_map(|(_, i)| i.kind().map(|kind| (i.name().to_owned(), kind))).collect();
        return Err(RouteError::NoInstanceTakes { chat_id, instances });
    }
    let candidates = registry.iter().filter(|(_, i)| i.may_take(&chat_id)).map(|(_, i)| i.name().to_owned()).collect();
    Err(RouteError::Ambiguous { chat_id, candidates })
}

fn explicit(registry: &Registry, prefix: &str, rest: &str) -> Result<Route, RouteError> {
    let Some(id) = registry.by_name(prefix) else {
        return Err(RouteError::UnknownInstance {
            given: shorten(prefix),
            instances: registry.iter().map(|(_, i)| i.name().to_owned()).collect(),
        });
    };
    let instance = registry.get(id);
    if let Some(alias) = registry.alias(rest) {
        if alias.instance != id {
            return Err(RouteError::AliasElsewhere {
                alias: alias.name.clone(),
                owner: registry.get(alias.instance).name().to_owned(),
                asked: instance.name().to_owned(),
            });
        }
        return Ok(Route {
            instance: id,
            chat_id: alias.chat_id.clone(),
            rule: Rule::Explicit,
            alias: Some(alias.name.clone()),
        });
    }
    let chat_id = ChatId::parse(rest).map_err(|reason| RouteError::NotAChat {
        given: shorten(rest),
        reason,
        aliases: !registry.aliases().is_empty(),
    })?;
    if let Some(kind) = instance.kind().filter(|kind| !kind.takes(&chat_id)) {
        return Err(RouteError::WrongKind { instance: instance.name().to_owned(), kind, chat_id });
    }
    Ok(Route { instance: id, chat_id, rule: Rule::Explicit, alias: None })
}

/// Keeps an echoed word short enough to read in a message.
fn shorten(given: &str) -> String {
    const MAX: usize = 40;
    let mut short: String = given.chars().take(MAX).collect();
    if given.chars().count() > MAX {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Language, Localized};
    use crate::instances::file::tests_support::{EXAMPLE, defaults, env, example};
    use crate::instances::{InstancesConfig, parse_file};
    use proptest::prelude::*;

    const TELEGRAM: InstanceId = InstanceId::from_index(0);
    const WHATSAPP: InstanceId = InstanceId::from_index(1);
    const MAX: InstanceId = InstanceId::from_index(2);

    fn registry(config: &InstancesConfig) -> Registry {
        let registry = Registry::new(config);
        // As if getSettings had answered for the one without `kind`.
        registry.set_detected(WHATSAPP, Kind::WhatsApp);
        registry
    }

    fn ok(registry: &Registry, word: &str, channel: &str) -> (InstanceId, String, Rule) {
        let route = route(registry, word, channel).unwrap_or_else(|e| panic!("{word:?} in {channel}: {e:?}"));
        (route.instance, route.chat_id.as_str().to_owned(), route.rule)
    }

    #[test]
    fn each_rule_decides_in_the_contracts_order() {
        let registry = registry(&example());
        let cases = [
            // An explicit instance wins over everything, the channel too.
            ("max:10000000", "C0123456789", MAX, "10000000", Rule::Explicit),
            ("Telegram:-100", "", TELEGRAM, "-100", Rule::Explicit),
            ("whatsapp:sales", "", WHATSAPP, "120363043968066561@g.us", Rule::Explicit),
            // An alias, whatever the channel says.
            ("sales", "C0123456789", WHATSAPP, "120363043968066561@g.us", Rule::Alias),
            ("ПРОДАЖИ", "", TELEGRAM, "-10000000000000", Rule::Alias),
            // A WhatsApp form only the WhatsApp instance takes.
            ("79876543210@c.us", "C0123456789", WHATSAPP, "79876543210@c.us", Rule::ChatForm),
            ("123@lid", "", WHATSAPP, "123@lid", Rule::ChatForm),
            // A number, which Telegram and MAX both take: the channel decides.
            ("10000000", "C0123456789", TELEGRAM, "10000000", Rule::Channel),
        ];
        for (word, channel, instance, chat, rule) in cases {
            assert_eq!(ok(&registry, word, channel), (instance, chat.to_owned(), rule), "{word:?} in {channel}");
        }
    }

    #[test]
    fn a_number_without_a_channel_default_is_refused_with_the_way_to_choose() {
        let registry = registry(&example());
        let err = route(&registry, "10000000", "CGENERAL").unwrap_err();
        assert_eq!(
            err,
            RouteError::Ambiguous {
                chat_id: ChatId::parse("10000000").unwrap(),
                candidates: vec!["telegram".into(), "max".into()]
            }
        );
        let text = err.localize(Language::En);
        assert!(text.contains("`telegram:10000000`") && text.contains("`max:10000000`"), "{text}");
        let ru = err.localize(Language::Ru);
        assert!(ru.contains("`max:10000000`"), "{ru}");
    }

    #[test]
    fn an_instance_of_unknown_kind_may_take_any_chat() {
        // getSettings has not answered for `whatsapp`: a group id could be
        // its, and it is the only one that could.
        let registry = Registry::new(&example());
        assert_eq!(ok(&registry, "1@g.us", ""), (WHATSAPP, "1@g.us".into(), Rule::ChatForm));
        let err = route(&registry, "10000000", "").unwrap_err();
        assert!(
            matches!(&err, RouteError::Ambiguous { candidates, .. } if candidates == &["telegram", "whatsapp", "max"]),
            "{err:?}"
        );
    }

    #[test]
    fn every_refusal_says_what_to_do() {
        let registry = registry(&example());
        let refusals = [
            ("viber:100", "unknown_instance", "telegram, whatsapp, max"),
            ("telegram:sales", "alias_elsewhere", "`sales` belongs to instance whatsapp"),
            ("saless", "bad_chat_id", "not an alias"),
            ("max:1@g.us", "wrong_kind", "max is a MAX instance"),
            ("telegram:", "bad_chat_id", "is empty"),
        ];
        for (word, kind, text) in refusals {
            let err = route(&registry, word, "").unwrap_err();
            assert_eq!(err.kind(), kind, "{word:?}: {err:?}");
            let en = err.localize(Language::En);
            assert!(en.contains(text), "{word:?}: {en}");
            assert_ne!(en, err.localize(Language::Ru));
        }
    }

    #[test]
    fn a_form_no_instance_takes_is_refused_when_there_is_a_choice() {
        // Three instances, none of them WhatsApp.
        let source = EXAMPLE
            .replace(
                "token_env = \"GREEN_API_TOKEN_WHATSAPP\"",
                "token_env = \"GREEN_API_TOKEN_WHATSAPP\"\nkind = \"telegram\"",
            )
            .replace("sales = { instance = \"whatsapp\", chat_id = \"120363043968066561@g.us\" }\n", "");
        let registry = Registry::new(&parse_file(&source, &env, defaults()).unwrap());
        let err = route(&registry, "1@g.us", "").unwrap_err();
        assert_eq!(err.kind(), "no_instance_takes", "{err:?}");
        assert!(err.to_string().contains("telegram (Telegram), whatsapp (Telegram), max (MAX)"), "{err}");
    }

    #[test]
    fn one_instance_takes_every_chat_as_before() {
        let source = EXAMPLE.split("\n[[instances]]\nname = \"whatsapp\"").next().unwrap();
        let registry = Registry::new(&parse_file(source, &env, defaults()).unwrap());
        assert_eq!(registry.len(), 1);
        // Telegram by kind, yet the only instance: GREEN-API decides.
        assert_eq!(ok(&registry, "1@g.us", ""), (TELEGRAM, "1@g.us".into(), Rule::OnlyInstance));
        assert_eq!(ok(&registry, "10000000", ""), (TELEGRAM, "10000000".into(), Rule::ChatForm));
    }

    proptest! {
        #[test]
        fn no_word_panics(word in "\\PC{0,40}", channel in "[A-Z0-9]{0,12}") {
            let registry = registry(&example());
            let _ = route(&registry, &word, &channel);
        }

        #[test]
        fn an_explicit_instance_always_wins(chat in -99_999_999_999i64..99_999_999_999, channel in "[A-Z0-9]{0,12}") {
            let registry = registry(&example());
            for (name, id) in [("telegram", TELEGRAM), ("max", MAX)] {
                let route = route(&registry, &format!("{name}:{chat}"), &channel).unwrap();
                prop_assert_eq!(route.instance, id);
                prop_assert_eq!(route.rule, Rule::Explicit);
            }
        }
    }
}
