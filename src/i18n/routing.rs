//! Several instances: why a chat went nowhere, what `help` adds about the
//! instances and aliases, and MAX's own grammar.

use super::command::Usage;
use super::{Language, Localized};
use crate::domain::{ChatId, ChatIdError, MaxContactError};
use crate::instances::{InstanceId, Kind, Registry, RouteError};

/// English, for logs and the terminal, without the full stop the catalogue
/// ends it with.
impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.localize(Language::En).trim_end_matches('.'))
    }
}

/// Each refusal says which instances could take the chat and how to choose.
impl Localized for RouteError {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (RouteError::UnknownInstance { given, instances }, En) => format!(
                "There is no instance called `{given}`; the instances are {}. Write an instance's name before the \
                 chat id, e.g. `{}:10000000`. Nothing was sent.",
                instances.join(", "),
                instances.first().map_or("telegram", String::as_str)
            ),
            (RouteError::UnknownInstance { given, instances }, Ru) => format!(
                "Инстанса `{given}` нет; есть {}. Укажите имя инстанса перед id чата, например `{}:10000000`. \
                 Ничего не отправлено.",
                instances.join(", "),
                instances.first().map_or("telegram", String::as_str)
            ),
            (RouteError::AliasElsewhere { alias, owner, asked }, En) => format!(
                "The alias `{alias}` belongs to instance {owner}, not {asked}: write just `{alias}`. Nothing was sent."
            ),
            (RouteError::AliasElsewhere { alias, owner, asked }, Ru) => format!(
                "Псевдоним `{alias}` относится к инстансу {owner}, а не {asked}: напишите просто `{alias}`. \
                 Ничего не отправлено."
            ),
            (RouteError::NotAChat { reason: ChatIdError::Empty, .. }, Ru) => "chatId не может быть пустым.".to_owned(),
            (RouteError::NotAChat { given, reason, aliases: false }, En) => {
                format!("chatId{} {}.", quoted(given), reason.localize(En))
            }
            (RouteError::NotAChat { given, reason, aliases: false }, Ru) => {
                format!("chatId{}: {}.", quoted(given), reason.localize(Ru))
            }
            (RouteError::NotAChat { given, reason, aliases: true }, En) => {
                format!("chatId{} is not an alias, and as a chat id it {}.", quoted(given), reason.localize(En))
            }
            (RouteError::NotAChat { given, reason, aliases: true }, Ru) => {
                format!("chatId{} — не псевдоним, а как идентификатор чата: {}.", quoted(given), reason.localize(Ru))
            }
            (RouteError::WrongKind { instance, kind, chat_id }, En) => format!(
                "{instance} is a {} instance, and {chat_id} is a {} chat id: choose an instance that serves such \
                 chats. Nothing was sent.",
                kind.title(),
                form_en(chat_id)
            ),
            (RouteError::WrongKind { instance, kind, chat_id }, Ru) => format!(
                "{instance} — инстанс {}, а {chat_id} — идентификатор чата {}: выберите инстанс, который \
                 обслуживает такие чаты. Ничего не отправлено.",
                kind.title(),
                form_ru(chat_id)
            ),
            (RouteError::Ambiguous { chat_id, candidates }, En) => format!(
                "Chat {chat_id} could belong to more than one instance: {}. Choose one by writing its name before \
                 the chat id: {}. Nothing was sent.",
                candidates.join(", "),
                choices(candidates, chat_id, "or")
            ),
            (RouteError::Ambiguous { chat_id, candidates }, Ru) => format!(
                "Чат {chat_id} может относиться к нескольким инстансам: {}. Выберите один, указав его имя перед \
                 идентификатором чата: {}. Ничего не отправлено.",
                candidates.join(", "),
                choices(candidates, chat_id, "или")
            ),
            (RouteError::NoInstanceTakes { chat_id, instances }, En) => format!(
                "No instance here serves {} chats such as {chat_id}; the instances are {}. Nothing was sent.",
                form_en(chat_id),
                with_kinds(instances)
            ),
            (RouteError::NoInstanceTakes { chat_id, instances }, Ru) => format!(
                "Здесь нет инстанса для чатов {} вроде {chat_id}; инстансы: {}. Ничего не отправлено.",
                form_ru(chat_id),
                with_kinds(instances)
            ),
        }
    }
}

display_in_english!(MaxContactError);

/// The reasons complete "contact `x` …" / "Контакт `x`: …".
impl Localized for MaxContactError {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (MaxContactError::Missing, En) => "is missing".to_owned(),
            (MaxContactError::Missing, Ru) => "не указан".to_owned(),
            (MaxContactError::Group, En) => {
                "is a group: a contact is a person, whose MAX chat id is a positive number such as 10000000".to_owned()
            }
            (MaxContactError::Group, Ru) => "это группа, а контакт — человек: его id чата в MAX — положительное \
                                             число, например 10000000"
                .to_owned(),
            (MaxContactError::Unrecognised, En) => "is not a MAX chat id or a phone number: write the contact's \
                                                    chat id, such as 10000000, or their phone with a +, such as \
                                                    +79876543210"
                .to_owned(),
            (MaxContactError::Unrecognised, Ru) => "это не id чата MAX и не номер телефона: укажите id чата \
                                                    контакта, например 10000000, или его телефон с +, например \
                                                    +79876543210"
                .to_owned(),
            (MaxContactError::Phone(reason), En) => format!("is not a phone number: it {}", reason.localize(En)),
            (MaxContactError::Phone(reason), Ru) => format!("это не номер телефона: {}", reason.localize(Ru)),
            (MaxContactError::Names, En) => "are not sent on MAX: the card shows the contact's own MAX profile. \
                                             Leave out everything after the contact"
                .to_owned(),
            (MaxContactError::Names, Ru) => "в MAX не передаются: карточка показывает собственный профиль \
                                             контакта в MAX. Уберите всё, что идёт после контакта"
                .to_owned(),
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

impl Localized for MaxText<'_> {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (MaxText::Usage { invocation, instance }, En) => format!(
                "On MAX (instance {instance}) a card shows the contact's own MAX profile, so the command takes no \
                 names:\n\
                 `{invocation} <chatId> <contact>`\n\
                 • chatId: the MAX chat to send to, such as 10000000 (groups: -10000000000000), or an alias\n\
                 • contact: the contact's MAX chat id, such as 10000000, or their phone with a +, such as \
                 +79876543210\n\
                 • the contact must already be among the instance's contacts: add them in MAX first\n\
                 Example: `{invocation} {instance}:10000000 +79876543210`"
            ),
            (MaxText::Usage { invocation, instance }, Ru) => format!(
                "В MAX (инстанс {instance}) карточка показывает собственный профиль контакта в MAX, поэтому имена \
                 не указываются:\n\
                 `{invocation} <chatId> <контакт>`\n\
                 • chatId — чат MAX, куда отправить, например 10000000 (у групп -10000000000000), или псевдоним\n\
                 • контакт — id чата контакта в MAX, например 10000000, или его телефон с +, например +79876543210\n\
                 • контакт уже должен быть в контактах инстанса: сначала добавьте его в MAX\n\
                 Пример: `{invocation} {instance}:10000000 +79876543210`"
            ),
            (MaxText::NotAContact, En) => "On MAX the contact must already be among the instance's contacts: add \
                                           them in MAX, then send again."
                .to_owned(),
            (MaxText::NotAContact, Ru) => "В MAX контакт уже должен быть в контактах инстанса: добавьте его в MAX и \
                                           отправьте снова."
                .to_owned(),
        }
    }
}

/// The usage, followed by the instances, the aliases and MAX's grammar
/// where there are: what `help` shows.
pub struct Help<'a> {
    pub invocation: &'a str,
    /// Whether the command alone opens a form.
    pub form: bool,
    pub registry: &'a Registry,
}

impl Localized for Help<'_> {
    fn localize(&self, language: Language) -> String {
        let mut text = Usage { invocation: self.invocation, form: self.form }.localize(language);
        text.push_str(&Overview { registry: self.registry, invocation: self.invocation }.localize(language));
        text
    }
}

/// What `help` adds to the usage when there is more than one instance, an
/// alias or a MAX instance: where a chat can go, and how to choose. Nothing
/// for one plain instance, whose usage says it all.
pub struct Overview<'a> {
    pub registry: &'a Registry,
    pub invocation: &'a str,
}

impl Localized for Overview<'_> {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        let registry = self.registry;
        let first = registry.get(InstanceId::from_index(0)).name();
        let mut out = String::new();
        if registry.len() > 1 {
            out.push_str(&match language {
                En => format!(
                    "\nInstances: {}. Put one before the chat id to choose it: `{first}:10000000`.",
                    instance_list(registry, "kind unknown")
                ),
                Ru => format!(
                    "\nИнстансы: {}. Чтобы выбрать один, укажите его перед идентификатором чата: `{first}:10000000`.",
                    instance_list(registry, "тип неизвестен")
                ),
            });
        }
        if !registry.aliases().is_empty() {
            out.push_str(&match language {
                En => format!("\nChats you can name instead of an id: {}.", alias_list(registry)),
                Ru => {
                    format!("\nЧаты, которые можно указать по имени вместо идентификатора: {}.", alias_list(registry))
                }
            });
        }
        for (_, instance) in registry.iter().filter(|(_, i)| i.kind() == Some(Kind::Max)) {
            out.push('\n');
            out.push_str(&MaxText::Usage { invocation: self.invocation, instance: instance.name() }.localize(language));
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

/// `` `given` `` after a space, or nothing for an empty word.
fn quoted(given: &str) -> String {
    if given.is_empty() { String::new() } else { format!(" `{given}`") }
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

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    use crate::domain::PhoneNumberError;
    let chat = |s: &str| ChatId::parse(s).unwrap();
    let mut all: Vec<Box<dyn Localized>> = vec![
        Box::new(RouteError::UnknownInstance {
            given: "viber".into(),
            instances: vec!["telegram".into(), "max".into()],
        }),
        Box::new(RouteError::AliasElsewhere {
            alias: "sales".into(),
            owner: "whatsapp".into(),
            asked: "telegram".into(),
        }),
        Box::new(RouteError::WrongKind { instance: "max".into(), kind: Kind::Max, chat_id: chat("1@g.us") }),
        Box::new(RouteError::Ambiguous {
            chat_id: chat("10000000"),
            candidates: vec!["telegram".into(), "max".into(), "tg2".into()],
        }),
        Box::new(RouteError::NoInstanceTakes {
            chat_id: chat("1@g.us"),
            instances: vec![("telegram".into(), Kind::Telegram), ("max".into(), Kind::Max)],
        }),
        Box::new(MaxText::Usage { invocation: "/sendcontact", instance: "max" }),
        Box::new(MaxText::NotAContact),
    ];
    for aliases in [false, true] {
        for reason in [ChatIdError::Empty, ChatIdError::Unrecognised, ChatIdError::TooLong(21)] {
            all.push(Box::new(RouteError::NotAChat { given: "x1".into(), reason, aliases }));
        }
    }
    for reason in [
        MaxContactError::Missing,
        MaxContactError::Group,
        MaxContactError::Unrecognised,
        MaxContactError::Phone(PhoneNumberError::BadLength(3)),
        MaxContactError::Names,
    ] {
        all.push(Box::new(reason));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choices_read_naturally() {
        let ambiguous = RouteError::Ambiguous {
            chat_id: ChatId::parse("10000000").unwrap(),
            candidates: vec!["telegram".into(), "max".into(), "tg2".into()],
        };
        let (en, ru) = (ambiguous.localize(Language::En), ambiguous.localize(Language::Ru));
        assert!(en.contains("`telegram:10000000`, `max:10000000` or `tg2:10000000`"), "{en}");
        assert!(ru.contains("`max:10000000` или `tg2:10000000`"), "{ru}");
        let usage = MaxText::Usage { invocation: "/sendcontact", instance: "max" }.localize(Language::En);
        assert!(usage.contains("`/sendcontact max:10000000 +79876543210`"), "{usage}");
    }

    #[test]
    fn the_overview_lists_instances_aliases_and_the_max_grammar() {
        let registry = Registry::new(&crate::instances::tests_support::example());
        let overview = Overview { registry: &registry, invocation: "/sendcontact" };
        let (en, ru) = (overview.localize(Language::En), overview.localize(Language::Ru));
        assert!(en.contains("telegram (Telegram), whatsapp (kind unknown), max (MAX)"), "{en}");
        assert!(en.contains("`sales` (whatsapp), `Продажи` (telegram)"), "{en}");
        assert!(en.contains("`/sendcontact max:10000000 +79876543210`"), "{en}");
        assert!(ru.contains("whatsapp (тип неизвестен)") && ru != en, "{ru}");
        let one = Registry::one("default", None);
        assert_eq!(Overview { registry: &one, invocation: "/sendcontact" }.localize(Language::En), "");
    }
}
