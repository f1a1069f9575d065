//! The instances and aliases a running service knows, in the shape routing
//! reads on every command: lookups by name, alias and channel cost a binary
//! search and allocate nothing.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU8, Ordering as AtomicOrdering};

use super::{InstancesConfig, Kind};
use crate::domain::ChatId;

/// An instance's position in the registry; the clients built at start-up
/// sit at the same positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(usize);

impl InstanceId {
    pub(crate) const fn from_index(index: usize) -> Self {
        Self(index)
    }

    pub fn index(self) -> usize {
        self.0
    }
}

/// Where an instance's kind came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindSource {
    /// `kind` in the file: never asked, never changes.
    Configured(Kind),
    /// getSettings' answer at start.
    Detected(Kind),
    /// Not configured, and getSettings has not answered (yet), or answered
    /// with a type this service does not know.
    Unknown,
}

impl KindSource {
    pub fn kind(self) -> Option<Kind> {
        match self {
            KindSource::Configured(kind) | KindSource::Detected(kind) => Some(kind),
            KindSource::Unknown => None,
        }
    }
}

#[derive(Debug)]
pub struct Instance {
    name: String,
    configured: Option<Kind>,
    /// 0 while unknown, else 1 + the position in `Kind::ALL`. Written once by
    /// the detection at start, read by every command.
    detected: AtomicU8,
}

impl Instance {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind_source(&self) -> KindSource {
        if let Some(kind) = self.configured {
            return KindSource::Configured(kind);
        }
        match self.detected.load(AtomicOrdering::Relaxed) {
            0 => KindSource::Unknown,
            n => Kind::ALL.get(usize::from(n) - 1).copied().map_or(KindSource::Unknown, KindSource::Detected),
        }
    }

    pub fn kind(&self) -> Option<Kind> {
        self.kind_source().kind()
    }

    /// Whether this instance could take the chat: its kind takes the form,
    /// or its kind is not known, so it cannot be ruled out.
    pub fn may_take(&self, chat_id: &ChatId) -> bool {
        self.kind().is_none_or(|kind| kind.takes(chat_id))
    }
}

/// A word typed instead of a chat id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub name: String,
    pub instance: InstanceId,
    pub chat_id: ChatId,
}

#[derive(Debug)]
pub struct Registry {
    instances: Vec<Instance>,
    /// Sorted by name, case folded, for [`Registry::alias`].
    aliases: Vec<Alias>,
    /// Sorted by channel id.
    channels: Vec<(String, InstanceId)>,
}

impl Registry {
    pub fn new(config: &InstancesConfig) -> Self {
        let instances = config
            .instances
            .iter()
            .map(|i| Instance { name: i.name.clone(), configured: i.kind, detected: AtomicU8::new(0) })
            .collect();
        let mut aliases: Vec<Alias> = config
            .aliases
            .iter()
            .map(|a| Alias { name: a.name.clone(), instance: InstanceId(a.instance), chat_id: a.chat_id.clone() })
            .collect();
        aliases.sort_by(|a, b| fold_cmp(&a.name, &b.name));
        let mut channels: Vec<(String, InstanceId)> = config
            .instances
            .iter()
            .enumerate()
            .flat_map(|(i, settings)| settings.channels.iter().map(move |c| (c.clone(), InstanceId(i))))
            .collect();
        channels.sort();
        Self { instances, aliases, channels }
    }

    /// One instance and no alias: for tests, benchmarks and fuzzing, which
    /// need a registry without GREEN-API settings.
    pub fn one(name: &str, kind: Option<Kind>) -> Self {
        Self {
            instances: vec![Instance { name: name.to_owned(), configured: kind, detected: AtomicU8::new(0) }],
            aliases: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    pub fn ids(&self) -> impl ExactSizeIterator<Item = InstanceId> + use<> {
        (0..self.instances.len()).map(InstanceId)
    }

    pub fn iter(&self) -> impl Iterator<Item = (InstanceId, &Instance)> {
        self.instances.iter().enumerate().map(|(i, instance)| (InstanceId(i), instance))
    }

    /// # Panics
    /// On an id from another registry; ids come from this one.
    pub fn get(&self, id: InstanceId) -> &Instance {
        &self.instances[id.0]
    }

    /// The instance called `name`, case aside (people type `Telegram:…`).
    pub fn by_name(&self, name: &str) -> Option<InstanceId> {
        self.instances.iter().position(|i| i.name.eq_ignore_ascii_case(name)).map(InstanceId)
    }

    /// The alias called `name`, case aside.
    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.binary_search_by(|a| fold_cmp(&a.name, name)).ok().map(|i| &self.aliases[i])
    }

    /// Every alias, sorted by name: what a chat select offers.
    pub fn aliases(&self) -> &[Alias] {
        &self.aliases
    }

    /// The instance whose commands default to this Slack channel.
    pub fn channel_instance(&self, channel_id: &str) -> Option<InstanceId> {
        self.channels.binary_search_by(|(c, _)| c.as_str().cmp(channel_id)).ok().map(|i| self.channels[i].1)
    }

    /// Records what getSettings said. A configured kind wins: the admin
    /// wrote it to skip detection.
    pub fn set_detected(&self, id: InstanceId, kind: Kind) {
        let code = Kind::ALL.iter().position(|k| *k == kind).map_or(0, |i| i as u8 + 1);
        self.instances[id.0].detected.store(code, AtomicOrdering::Relaxed);
    }
}

/// Compares case-insensitively (Unicode lowercase), without allocating.
fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.chars().flat_map(char::to_lowercase).cmp(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instances::file::tests_support::example;

    #[test]
    fn looks_up_names_aliases_and_channels_case_aside() {
        let registry = Registry::new(&example());
        assert_eq!(registry.len(), 3);
        assert_eq!(registry.by_name("WhatsApp"), Some(InstanceId(1)));
        assert_eq!(registry.by_name("viber"), None);
        assert_eq!(registry.alias("SALES").map(|a| a.chat_id.as_str()), Some("120363043968066561@g.us"));
        assert_eq!(registry.alias("продажи").map(|a| a.instance), Some(InstanceId(0)));
        assert_eq!(registry.alias("sale"), None);
        assert_eq!(registry.channel_instance("C0123456789"), Some(InstanceId(0)));
        assert_eq!(registry.channel_instance("C999"), None);
        let names: Vec<_> = registry.aliases().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["sales", "Продажи"]);
    }

    #[test]
    fn a_detected_kind_fills_in_but_never_overrides_a_configured_one() {
        let registry = Registry::new(&example());
        let whatsapp = InstanceId(1);
        assert_eq!(registry.get(whatsapp).kind_source(), KindSource::Unknown);
        registry.set_detected(whatsapp, Kind::WhatsApp);
        assert_eq!(registry.get(whatsapp).kind_source(), KindSource::Detected(Kind::WhatsApp));
        registry.set_detected(InstanceId(0), Kind::Max);
        assert_eq!(registry.get(InstanceId(0)).kind_source(), KindSource::Configured(Kind::Telegram));
    }
}
