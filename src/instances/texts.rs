//! What routing tells the user, in English and in Russian. Each message is
//! written in both languages side by side, in exhaustive matches, so one
//! cannot be added in one language only.
//!
//! (Kept here until the shared catalogue, src/i18n/, exists; then these move
//! into it.)

use super::Kind;
use super::registry::{InstanceId, Registry};
use super::routing::RouteError;
use crate::domain::{ChatId, ChatIdError};

impl RouteError {
    pub fn en(&self) -> String {
        match self {
            RouteError::UnknownInstance { given, instances } => format!(
                "There is no instance called `{given}`; the instances are {}. Write an instance's name before the \
                 chat id, e.g. `{}:10000000`. Nothing was sent.",
                instances.join(", "),
                instances.first().map_or("telegram", String::as_str)
            ),
            RouteError::AliasElsewhere { alias, owner, asked } => format!(
                "The alias `{alias}` belongs to instance {owner}, not {asked}: write just `{alias}`. Nothing was sent."
            ),
            RouteError::NotAChat { given, reason, aliases } => {
                let given = if given.is_empty() { String::new() } else { format!(" `{given}`") };
                if *aliases {
                    format!("chatId{given} is not an alias, and as a chat id it {reason}")
                } else {
                    format!("chatId{given} {reason}")
                }
            }
            RouteError::WrongKind { instance, kind, chat_id } => format!(
                "{instance} is a {} instance, and {chat_id} is a {} chat id: choose an instance that serves such \
                 chats. Nothing was sent.",
                kind.title(),
                form_en(chat_id)
            ),
            RouteError::Ambiguous { chat_id, candidates } => format!(
                "Chat {chat_id} could belong to more than one instance: {}. Choose one by writing its name before \
                 the chat id: {}. Nothing was sent.",
                candidates.join(", "),
                choices(candidates, chat_id, "or")
            ),
            RouteError::NoInstanceTakes { chat_id, instances } => format!(
                "No instance here serves {} chats such as {chat_id}; the instances are {}. Nothing was sent.",
                form_en(chat_id),
                with_kinds(instances)
            ),
        }
    }

    pub fn ru(&self) -> String {
        match self {
            RouteError::UnknownInstance { given, instances } => format!(
                "Инстанса `{given}` нет; есть {}. Укажите имя инстанса перед id чата, например `{}:10000000`. \
                 Ничего не отправлено.",
                instances.join(", "),
                instances.first().map_or("telegram", String::as_str)
            ),
            RouteError::AliasElsewhere { alias, owner, asked } => format!(
                "Псевдоним `{alias}` относится к инстансу {owner}, а не {asked}: напишите просто `{alias}`. \
                 Ничего не отправлено."
            ),
            RouteError::NotAChat { given, reason, aliases } => {
                let given = if given.is_empty() { String::new() } else { format!(" `{given}`") };
                if *aliases {
                    format!("chatId{given} — не псевдоним, а как id чата {}", chat_id_reason_ru(reason))
                } else {
                    format!("chatId{given} {}", chat_id_reason_ru(reason))
                }
            }
            RouteError::WrongKind { instance, kind, chat_id } => format!(
                "{instance} — инстанс {}, а {chat_id} — id чата {}: выберите инстанс, который обслуживает такие \
                 чаты. Ничего не отправлено.",
                kind.title(),
                form_ru(chat_id)
            ),
            RouteError::Ambiguous { chat_id, candidates } => format!(
                "Чат {chat_id} может относиться к нескольким инстансам: {}. Выберите один, указав его имя перед id \
                 чата: {}. Ничего не отправлено.",
                candidates.join(", "),
                choices(candidates, chat_id, "или")
            ),
            RouteError::NoInstanceTakes { chat_id, instances } => format!(
                "Здесь нет инстанса для чатов {} вроде {chat_id}; инстансы: {}. Ничего не отправлено.",
                form_ru(chat_id),
                with_kinds(instances)
            ),
        }
    }
}

/// What a MAX route tells the user: its grammar differs, since MAX's card
/// shows the contact's own profile and takes no names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaxText<'a> {
    /// The usage, for `help` and for a command that does not fit.
    Usage { invocation: &'a str, instance: &'a str },
    /// Added to GREEN-API's refusal on a MAX instance: the likeliest reason.
    NotAContact,
}

impl MaxText<'_> {
    pub fn en(&self) -> String {
        match self {
            MaxText::Usage { invocation, instance } => format!(
                "On MAX (instance {instance}) a card shows the contact's own MAX profile, so the command takes no \
                 names:\n\
                 `{invocation} <chatId> <contact>`\n\
                 • chatId: the MAX chat to send to, such as 10000000 (groups: -10000000000000), or an alias\n\
                 • contact: the contact's MAX chat id, such as 10000000, or their phone with a +, such as \
                 +79876543210\n\
                 • the contact must already be among the instance's contacts: add them in MAX first\n\
                 Example: `{invocation} {instance}:10000000 +79876543210`"
            ),
            MaxText::NotAContact => "On MAX the contact must already be among the instance's contacts: add them \
                                     in MAX, then send again."
                .into(),
        }
    }

    pub fn ru(&self) -> String {
        match self {
            MaxText::Usage { invocation, instance } => format!(
                "В MAX (инстанс {instance}) карточка показывает собственный профиль контакта в MAX, поэтому имена \
                 не указываются:\n\
                 `{invocation} <chatId> <контакт>`\n\
                 • chatId: чат MAX, куда отправить, например 10000000 (группы: -10000000000000), или псевдоним\n\
                 • контакт: id чата контакта в MAX, например 10000000, или его телефон с +, например +79876543210\n\
                 • контакт уже должен быть в контактах инстанса: сначала добавьте его в MAX\n\
                 Пример: `{invocation} {instance}:10000000 +79876543210`"
            ),
            MaxText::NotAContact => "В MAX контакт уже должен быть в контактах инстанса: добавьте его в MAX и \
                                     отправьте снова."
                .into(),
        }
    }
}

/// What `help` adds to the usage when there is more than one instance, an
/// alias or a MAX instance: where a chat can go, and how to choose.
pub struct Overview<'a> {
    pub registry: &'a Registry,
    pub invocation: &'a str,
}

impl Overview<'_> {
    /// Nothing for one plain instance, whose usage says it all.
    pub fn en(&self) -> String {
        let registry = self.registry;
        let mut out = String::new();
        if registry.len() > 1 {
            out.push_str(&format!(
                "\nInstances: {}. Put one before the chat id to choose it: `{}:10000000`.",
                instance_list(registry, "kind unknown"),
                registry.get(InstanceId::from_index(0)).name()
            ));
        }
        if !registry.aliases().is_empty() {
            out.push_str(&format!("\nChats you can name instead of an id: {}.", alias_list(registry)));
        }
        for (_, instance) in registry.iter().filter(|(_, i)| i.kind() == Some(Kind::Max)) {
            out.push('\n');
            out.push_str(&MaxText::Usage { invocation: self.invocation, instance: instance.name() }.en());
        }
        out
    }

    pub fn ru(&self) -> String {
        let registry = self.registry;
        let mut out = String::new();
        if registry.len() > 1 {
            out.push_str(&format!(
                "\nИнстансы: {}. Чтобы выбрать один, укажите его перед id чата: `{}:10000000`.",
                instance_list(registry, "тип неизвестен"),
                registry.get(InstanceId::from_index(0)).name()
            ));
        }
        if !registry.aliases().is_empty() {
            out.push_str(&format!("\nЧаты, которые можно указать по имени вместо id: {}.", alias_list(registry)));
        }
        for (_, instance) in registry.iter().filter(|(_, i)| i.kind() == Some(Kind::Max)) {
            out.push('\n');
            out.push_str(&MaxText::Usage { invocation: self.invocation, instance: instance.name() }.ru());
        }
        out
    }
}

fn instance_list(registry: &Registry, unknown: &str) -> String {
    registry
        .iter()
        .map(|(_, i)| format!("{} ({})", i.name(), i.kind().map_or(unknown, |k| k.title())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn alias_list(registry: &Registry) -> String {
    registry
        .aliases()
        .iter()
        .map(|a| format!("`{}` ({})", a.name, registry.get(a.instance).name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The messengers a chat id's form belongs to.
fn form_en(chat_id: &ChatId) -> &'static str {
    if Kind::WhatsApp.takes(chat_id) { "WhatsApp" } else { "Telegram or MAX" }
}

fn form_ru(chat_id: &ChatId) -> &'static str {
    if Kind::WhatsApp.takes(chat_id) { "WhatsApp" } else { "Telegram или MAX" }
}

/// `` `a:chat`, `b:chat` or `c:chat` ``.
fn choices(candidates: &[String], chat_id: &ChatId, or: &str) -> String {
    let quoted: Vec<String> = candidates.iter().map(|name| format!("`{name}:{chat_id}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} {or} {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

fn with_kinds(instances: &[(String, Kind)]) -> String {
    instances.iter().map(|(name, kind)| format!("{name} ({})", kind.title())).collect::<Vec<_>>().join(", ")
}

/// [`ChatIdError`]'s reason in Russian.
fn chat_id_reason_ru(reason: &ChatIdError) -> String {
    match reason {
        ChatIdError::Empty => "пуст".into(),
        ChatIdError::Unrecognised => "не похож на id чата: укажите id чата Telegram/MAX, например 10000000 \
                                      (группы: -10000000000000), или id WhatsApp, например 79876543210@c.us, \
                                      120363043968066561@g.us или 123456789@lid"
            .into(),
        ChatIdError::TooLong(digits) => format!("содержит {digits} цифр, а в id чата их не больше 20"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(s: &str) -> ChatId {
        ChatId::parse(s).unwrap()
    }

    /// One of each message: both languages render, and differ.
    fn samples() -> Vec<RouteError> {
        vec![
            RouteError::UnknownInstance { given: "viber".into(), instances: vec!["telegram".into(), "max".into()] },
            RouteError::AliasElsewhere { alias: "sales".into(), owner: "whatsapp".into(), asked: "telegram".into() },
            RouteError::NotAChat { given: "ten".into(), reason: ChatIdError::Unrecognised, aliases: true },
            RouteError::NotAChat { given: String::new(), reason: ChatIdError::Empty, aliases: false },
            RouteError::NotAChat { given: "1".repeat(21), reason: ChatIdError::TooLong(21), aliases: false },
            RouteError::WrongKind { instance: "max".into(), kind: Kind::Max, chat_id: chat("1@g.us") },
            RouteError::Ambiguous {
                chat_id: chat("10000000"),
                candidates: vec!["telegram".into(), "max".into(), "tg2".into()],
            },
            RouteError::NoInstanceTakes {
                chat_id: chat("1@g.us"),
                instances: vec![("telegram".into(), Kind::Telegram), ("max".into(), Kind::Max)],
            },
        ]
    }

    #[test]
    fn every_message_renders_in_both_languages() {
        for sample in samples() {
            let (en, ru) = (sample.en(), sample.ru());
            assert!(!en.is_empty() && !ru.is_empty(), "{sample:?}");
            assert_ne!(en, ru, "{sample:?}");
        }
    }

    #[test]
    fn the_max_texts_render_in_both_languages() {
        for sample in [MaxText::Usage { invocation: "/sendcontact", instance: "max" }, MaxText::NotAContact] {
            let (en, ru) = (sample.en(), sample.ru());
            assert!(!en.is_empty() && !ru.is_empty() && en != ru, "{sample:?}");
        }
        let usage = MaxText::Usage { invocation: "/sendcontact", instance: "max" }.en();
        assert!(usage.contains("`/sendcontact max:10000000 +79876543210`"), "{usage}");
    }

    #[test]
    fn the_overview_lists_instances_aliases_and_the_max_grammar() {
        let registry = Registry::new(&crate::instances::file::tests_support::example());
        let overview = Overview { registry: &registry, invocation: "/sendcontact" };
        let (en, ru) = (overview.en(), overview.ru());
        assert!(en.contains("telegram (Telegram), whatsapp (kind unknown), max (MAX)"), "{en}");
        assert!(en.contains("`sales` (whatsapp), `Продажи` (telegram)"), "{en}");
        assert!(en.contains("`/sendcontact max:10000000 +79876543210`"), "{en}");
        assert!(ru.contains("whatsapp (тип неизвестен)") && ru != en, "{ru}");
        let one = Registry::one("default", None);
        assert_eq!(Overview { registry: &one, invocation: "/sendcontact" }.en(), "");
    }

    #[test]
    fn the_choices_read_naturally() {
        let ambiguous = &samples()[6];
        assert!(ambiguous.en().contains("`telegram:10000000`, `max:10000000` or `tg2:10000000`"), "{}", ambiguous.en());
        assert!(ambiguous.ru().contains("`max:10000000` или `tg2:10000000`"), "{}", ambiguous.ru());
        assert!(samples()[7].en().contains("telegram (Telegram), max (MAX)"));
    }
}
