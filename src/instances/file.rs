//! The SENDCONTACT_CONFIG file: several `[[instances]]` and `[chats]` aliases.
//!
//! toml parses the file into a tree that remembers where every key and value
//! stood. Each instance and each alias is then read with serde on its own,
//! and checked, so one mistake does not hide the next: every problem comes
//! back at once, each with its line.
//!
//! The file holds no secret: an instance names the environment variable
//! that holds its token (`token_env`). No message quotes a value that could
//! be a token, and a key that would put one in the file is refused.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{AliasSettings, InstanceSettings, InstancesConfig, Kind, is_alias_name, is_instance_name};
use crate::domain::ChatId;
use crate::green_api::parse_api_url;
use crate::green_api::{ApiToken, GreenApiSettings, IdInstance};

/// What an instance gets when the file does not say: GREEN_API_TIMEOUT_MS and
/// GREEN_API_MAX_RPS, or their defaults.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub timeout: Duration,
    pub max_rps: NonZeroU32,
}

/// One thing wrong with the file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based; `None` when the problem is the whole file's.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

const INSTANCE_KEYS: &[&str] =
    &["name", "url", "id_instance", "token_env", "kind", "max_rps", "timeout_ms", "channels"];

/// Keys someone might use to put the token itself in the file.
const SECRET_KEYS: &[&str] =
    &["token", "api_token", "apitokeninstance", "api_token_instance", "token_instance", "green_api_token_instance"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    name: Spanned<String>,
    url: Spanned<String>,
    id_instance: Spanned<IdText>,
    token_env: Spanned<String>,
    kind: Option<Spanned<String>>,
    max_rps: Option<Spanned<i64>>,
    timeout_ms: Option<Spanned<i64>>,
    channels: Option<Vec<Spanned<String>>>,
}

/// idInstance as text or as a number: both are natural in TOML.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdText {
    Text(String),
    Number(u64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    instance: Spanned<String>,
    chat_id: Spanned<String>,
}

/// Reads the file's text. `env` looks up the variables that `token_env`
/// names (the process environment and `.env`, as the rest of the
/// configuration sees them).
pub fn parse_file(
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
    defaults: Defaults,
) -> Result<InstancesConfig, Vec<FileProblem>> {
    let mut problems = Problems::new(source);
    let root = match DeTable::parse(source) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            // toml's own Display quotes the offending line, which could hold
            // a secret; its message alone does not.
            problems.at(e.span(), format!("not valid TOML: {}", e.message().trim()));
            return Err(problems.list);
        }
    };

    let mut raw_instances = Vec::new();
    let mut raw_chats = None;
    for (key, value) in root {
        match key.get_ref().as_ref() {
            "instances" => raw_instances = instance_tables(value, &mut problems),
            "chats" => raw_chats = Some(value),
            other => problems.at(
                Some(key.span()),
                format!("unknown key `{}`: the file has [[instances]] and [chats]", shorten(other)),
            ),
        }
    }

    let mut instances: Vec<InstanceSettings> = Vec::new();
    // Name -> (index, line) for duplicates and aliases; a name that failed
    // its checks still counts, so its aliases are not reported twice.
    let mut names: HashMap<String, (Option<usize>, usize)> = HashMap::new();
    let mut ids: HashMap<(String, String), usize> = HashMap::new();
    let mut channels: HashMap<String, (String, usize)> = HashMap::new();
    let mut kinds: Vec<Option<Kind>> = Vec::new();
    if raw_instances.is_empty() && problems.list.is_empty() {
        problems.whole("the file defines no [[instances]]: add at least one".into());
    }
    for table in raw_instances {
        let Some(raw) = read_instance(table, &mut problems) else { continue };
        let line = problems.line(raw.name.span().start);
        let name = raw.name.get_ref().trim().to_owned();
        let name_ok = is_instance_name(&name);
        if !name_ok {
            problems.at(
                Some(raw.name.span()),
                format!(
                    "name='{}' must be a lowercase word of letters, digits, _ or -, starting with a letter, at \
                     most 32 characters (it labels logs and metrics)",
                    shorten(&name)
                ),
            );
        } else if let Some((_, first)) = names.get(&name) {
            problems
                .at(Some(raw.name.span()), format!("the instance name `{name}` is used twice (first on line {first})"));
        }

        // The same rules as GREEN_API_URL: a pasted method URL (it may end
        // in the token) is refused, and only scheme://host[:port] is shown.
        let url = match parse_api_url(raw.url.get_ref().trim()) {
            Ok(url) => Some(url),
            Err(why) => {
                problems.at(Some(raw.url.span()), format!("url{why}"));
                None
            }
        };

        let id_text = match raw.id_instance.get_ref() {
            IdText::Text(text) => text.trim().to_owned(),
            IdText::Number(n) => n.to_string(),
        };
        let id_instance = IdInstance::parse(&id_text);
        if id_instance.is_none() {
            problems.at(
                Some(raw.id_instance.span()),
                format!(
                    "id_instance='{}' must be the idInstance from the GREEN-API console: digits only",
                    shorten(&id_text)
                ),
            );
        }
        if let (Some(url), Some(id)) = (&url, &id_instance) {
            let key = (url.as_str().to_owned(), id.as_str().to_owned());
            match ids.get(&key) {
                Some(first) => problems.at(
                    Some(raw.id_instance.span()),
                    format!(
                        "instance {id} at {url} is already configured (line {first}): one instance, one entry; \
                         list more channels on it instead"
                    ),
                ),
                None => {
                    ids.insert(key, line);
                }
            }
        }

        let token = read_token(&raw.token_env, env, &mut problems);

        let kind = raw.kind.as_ref().and_then(|kind| {
            let parsed = Kind::parse(kind.get_ref().trim());
            if parsed.is_none() {
                problems.at(
                    Some(kind.span()),
                    format!(
                        "kind='{}' must be telegram, whatsapp or max; leave it out to detect it with getSettings",
                        shorten(kind.get_ref())
                    ),
                );
            }
            parsed
        });

        let max_rps = match &raw.max_rps {
            None => Some(defaults.max_rps),
            Some(v) => {
                let parsed = u32::try_from(*v.get_ref()).ok().filter(|n| *n <= 1_000_000).and_then(NonZeroU32::new);
                if parsed.is_none() {
                    problems.at(
                        Some(v.span()),
                        format!(
                            "max_rps={} must be a whole number of requests per second from 1 to 1000000",
                            v.get_ref()
                        ),
                    );
                }
                parsed
            }
        };
        let timeout = match &raw.timeout_ms {
            None => Some(defaults.timeout),
            Some(v) => {
                let parsed = u64::try_from(*v.get_ref()).ok().filter(|ms| (1..=600_000).contains(ms));
                if parsed.is_none() {
                    problems.at(
                        Some(v.span()),
                        format!("timeout_ms={} must be a whole number of milliseconds from 1 to 600000", v.get_ref()),
                    );
                }
                parsed.map(Duration::from_millis)
            }
        };

        let mut own_channels = Vec::new();
        for channel in raw.channels.iter().flatten() {
            let id = channel.get_ref().trim();
            if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                problems.at(
                    Some(channel.span()),
                    format!(
                        "channels: '{}' is not a Slack channel id such as C0123456789 (right-click the channel, \
                         View channel details, the id is at the bottom)",
                        shorten(id)
                    ),
                );
                continue;
            }
            match channels.get(id) {
                Some((owner, first)) => problems.at(
                    Some(channel.span()),
                    format!("channel {id} is already given to instance `{owner}` (line {first}): a channel has one default instance"),
                ),
                None => {
                    channels.insert(id.to_owned(), (name.clone(), problems.line(channel.span().start)));
                    own_channels.push(id.to_owned());
                }
            }
        }

        let index = match (name_ok && !names.contains_key(&name), url, id_instance, token, max_rps, timeout) {
            (true, Some(url), Some(id_instance), Some(token), Some(max_rps), Some(timeout)) => {
                instances.push(InstanceSettings {
                    name: name.clone(),
                    green_api: GreenApiSettings { url, id_instance, token, timeout, max_rps, use_env_proxy: false },
                    kind,
                    channels: own_channels,
                });
                kinds.push(kind);
                Some(instances.len() - 1)
            }
            _ => None,
        };
        names.entry(name).or_insert((index, line));
    }

    let mut aliases = Vec::new();
    if let Some(chats) = raw_chats {
        read_aliases(chats, &names, &kinds, &mut aliases, &mut problems);
    }

    if problems.list.is_empty() { Ok(InstancesConfig { instances, aliases }) } else { Err(problems.list) }
}

/// `[[instances]]` as a list of tables.
fn instance_tables<'i>(value: Spanned<DeValue<'i>>, problems: &mut Problems) -> Vec<Spanned<DeTable<'i>>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items
            .into_iter()
            .filter_map(|item| {
                let span = item.span();
                match item.into_inner() {
                    DeValue::Table(table) => Some(Spanned::new(span, table)),
                    _ => {
                        problems.at(Some(span), "each entry of instances must be a table: write [[instances]]".into());
                        None
                    }
                }
            })
            .collect(),
        _ => {
            problems.at(Some(span), "instances must be a list of tables: write [[instances]] before each".into());
            Vec::new()
        }
    }
}

fn read_instance(table: Spanned<DeTable<'_>>, problems: &mut Problems) -> Option<RawInstance> {
    let span = table.span();
    // Every unknown key at once: serde would stop at the first.
    let table: DeTable<'_> = table
        .into_inner()
        .into_iter()
        .filter(|(key, _)| {
            let key_text: &str = key.get_ref();
            if INSTANCE_KEYS.contains(&key_text) {
                return true;
            }
            let message = if SECRET_KEYS.contains(&key_text.to_ascii_lowercase().as_str()) {
                format!(
                    "`{}` would put the GREEN-API token in the file: keep the token in an environment variable and \
                 name that variable with token_env",
                    shorten(key_text)
                )
            } else {
                format!("unknown key `{}` in [[instances]] (known: {})", shorten(key_text), INSTANCE_KEYS.join(", "))
            };
            problems.at(Some(key.span()), message);
            false
        })
        .collect();
    match RawInstance::deserialize(ValueDeserializer::from(Spanned::new(span.clone(), DeValue::Table(table)))) {
        Ok(raw) => Some(raw),
        Err(e) => {
            problems.at(e.span().or(Some(span)), format!("in [[instances]]: {}", serde_message(e.message())));
            None
        }
    }
}

fn read_token(
    token_env: &Spanned<String>,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<ApiToken> {
    let var = token_env.get_ref().trim();
    // Capitals only: a pasted token (lowercase hex) is refused here without
    // being quoted, instead of appearing in "variable … is not set".
    let is_var_name = !var.is_empty()
        && var.bytes().next().is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && var.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !is_var_name {
        problems.at(
            Some(token_env.span()),
            "token_env must be the name of an environment variable in capitals, such as \
             GREEN_API_TOKEN_TELEGRAM, that holds the token (the value is not shown: if it is the token itself, \
             move it into that variable)"
                .into(),
        );
        return None;
    }
    match env(var).filter(|v| !v.trim().is_empty()) {
        None => {
            problems.at(
                Some(token_env.span()),
                format!("token_env names {var}, which is not set: set it to the instance's apiTokenInstance"),
            );
            None
        }
        Some(value) => match ApiToken::parse(value.trim().to_owned().into()) {
            Ok(token) => Some(token),
            Err(why) => {
                problems.at(Some(token_env.span()), format!("{var} (named by token_env) {why}"));
                None
            }
        },
    }
}

fn read_aliases(
    chats: Spanned<DeValue<'_>>,
    names: &HashMap<String, (Option<usize>, usize)>,
    kinds: &[Option<Kind>],
    aliases: &mut Vec<AliasSettings>,
    problems: &mut Problems,
) {
    let span = chats.span();
    let DeValue::Table(table) = chats.into_inner() else {
        problems.at(Some(span), "chats must be a table: write [chats] and then one alias per line".into());
        return;
    };
    let mut folded: HashMap<String, usize> = HashMap::new();
    for (key, value) in table {
        let alias: &str = key.get_ref();
        let alias_line = problems.line(key.span().start);
        if !is_alias_name(alias) {
            problems.at(
                Some(key.span()),
                format!(
                    "the alias `{}` must be a word that starts with a letter (letters, digits, _, - and . after \
                     it), at most 64 characters, so that it cannot be taken for a chat id",
                    shorten(alias)
                ),
            );
            continue;
        }
        match folded.get(&alias.to_lowercase()) {
            Some(first) => {
                problems.at(
                    Some(key.span()),
                    format!("the alias `{alias}` is defined twice (first on line {first}; case does not matter)"),
                );
                continue;
            }
            None => {
                folded.insert(alias.to_lowercase(), alias_line);
            }
        }
        let raw = match RawAlias::deserialize(ValueDeserializer::from(value)) {
            Ok(raw) => raw,
            Err(e) => {
                problems.at(
                    e.span().or(Some(key.span())),
                    format!(
                        "alias `{alias}`: {}; write {alias} = {{ instance = \"…\", chat_id = \"…\" }}",
                        serde_message(e.message())
                    ),
                );
                continue;
            }
        };
        let instance_name = raw.instance.get_ref().trim();
        let instance = match names.get(instance_name) {
            Some((index, _)) => *index,
            None => {
                let mut known: Vec<&str> = names.keys().map(String::as_str).collect();
                known.sort_unstable();
                problems.at(
                    Some(raw.instance.span()),
                    format!(
                        "alias `{alias}` points at instance `{}`, which the file does not define (instances: {})",
                        shorten(instance_name),
                        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                    ),
                );
                continue;
            }
        };
        let chat_id = match ChatId::parse(raw.chat_id.get_ref()) {
            Ok(chat_id) => chat_id,
            Err(why) => {
                problems.at(
                    Some(raw.chat_id.span()),
                    format!("alias `{alias}`: chat_id='{}' {why}", shorten(raw.chat_id.get_ref())),
                );
                continue;
            }
        };
        // An instance that failed its own checks was reported already.
        let Some(instance) = instance else { continue };
        if let Some(kind) = kinds[instance].filter(|kind| !kind.takes(&chat_id)) {
            problems.at(
                Some(raw.chat_id.span()),
                format!(
                    "alias `{alias}`: {chat_id} is a {} chat id, but instance `{instance_name}` is {}",
                    form_of(&chat_id),
                    kind.title()
                ),
            );
            continue;
        }
        aliases.push(AliasSettings { name: alias.to_owned(), instance, chat_id });
    }
}

/// The messengers a chat id's form belongs to, for a message.
fn form_of(chat_id: &ChatId) -> &'static str {
    if Kind::WhatsApp.takes(chat_id) { "WhatsApp" } else { "Telegram or MAX" }
}

/// serde's message without the value it quotes ("invalid type: string
/// \"…\", expected …"): the value might be a secret put in the wrong place.
fn serde_message(message: &str) -> String {
    let message = message.trim();
    for prefix in ["invalid type:", "invalid value:"] {
        if message.starts_with(prefix) {
            let expected = message.split_once(", expected ").map_or("another type", |(_, e)| e);
            return format!("a value has the wrong type: expected {expected}");
        }
    }
    message.to_owned()
}

/// A key or value as written, cut short and without control characters:
/// quoted only where it cannot be a secret, but a long one is noise.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    let mut short: String = text.chars().filter(|c| !c.is_control()).take(MAX).collect();
    if text.chars().count() > MAX {
        short.push('…');
    }
    short
}

struct Problems {
    /// The offsets of the file's newlines, in order, so that a line is found
    /// by a binary search. Every channel and alias remembers its line; counted
    /// from the top of the file for each, the load benchmark's thousand
    /// channels took 2.7 of a three-instance start-up's 8 ms.
    newlines: Vec<usize>,
    list: Vec<FileProblem>,
}

impl Problems {
    fn new(source: &str) -> Self {
        Self { newlines: memchr::memchr_iter(b'\n', source.as_bytes()).collect(), list: Vec::new() }
    }

    fn at(&mut self, span: Option<Range<usize>>, message: String) {
        let line = span.map(|span| self.line(span.start));
        self.list.push(FileProblem { line, message });
    }

    fn whole(&mut self, message: String) {
        self.list.push(FileProblem { line: None, message });
    }

    /// The 1-based line of a byte offset: one more than the newlines before
    /// it.
    fn line(&self, offset: usize) -> usize {
        1 + self.newlines.partition_point(|&newline| newline < offset)
    }
}

/// A complete file, for the tests of every part that reads one.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
[[instances]]
name = "telegram"
url = "https://4100.api.green-api.com"
id_instance = "1101000001"
token_env = "GREEN_API_TOKEN_TELEGRAM"
kind = "telegram"
max_rps = 20
channels = ["C0123456789"]

[[instances]]
name = "whatsapp"
url = "https://7105.api.greenapi.com"
id_instance = 1101000002
token_env = "GREEN_API_TOKEN_WHATSAPP"
timeout_ms = 5000

[[instances]]
name = "max"
url = "https://3100.api.green-api.com"
id_instance = "3100309139"
token_env = "GREEN_API_TOKEN_MAX"
kind = "max"

[chats]
sales = { instance = "whatsapp", chat_id = "120363043968066561@g.us" }
"Продажи" = { instance = "telegram", chat_id = "-10000000000000" }
"#;

    pub(crate) const TOKEN: &str = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884";

    pub(crate) fn env(name: &str) -> Option<String> {
        match name {
            "GREEN_API_TOKEN_TELEGRAM" | "GREEN_API_TOKEN_WHATSAPP" | "GREEN_API_TOKEN_MAX" => Some(TOKEN.into()),
            "BROKEN_TOKEN" => Some("has space".into()),
            _ => None,
        }
    }

    pub(crate) fn defaults() -> Defaults {
        Defaults { timeout: Duration::from_secs(10), max_rps: NonZeroU32::new(50).unwrap() }
    }

    /// [`EXAMPLE`], read.
    pub(crate) fn example() -> InstancesConfig {
        parse_file(EXAMPLE, &env, defaults()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;
    use proptest::prelude::*;

    fn parse(source: &str) -> Result<InstancesConfig, Vec<FileProblem>> {
        parse_file(source, &env, defaults())
    }

    /// Each problem as `line: message`, for assertions that name both.
    fn problems(source: &str) -> Vec<String> {
        let list = parse(source).map(|_| ()).unwrap_err();
        list.iter().map(ToString::to_string).collect()
    }

    fn assert_problem(list: &[String], line: usize, text: &str) {
        let wanted = format!("line {line}: ");
        assert!(
            list.iter().any(|p| p.starts_with(&wanted) && p.contains(text)),
            "no problem on line {line} containing {text:?} in {list:#?}"
        );
    }

    #[test]
    fn reads_a_complete_file() {
        let config = parse(EXAMPLE).unwrap();
        let names: Vec<_> = config.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["telegram", "whatsapp", "max"]);
        let telegram = &config.instances[0];
        assert_eq!(telegram.kind, Some(Kind::Telegram));
        assert_eq!(telegram.green_api.max_rps.get(), 20);
        assert_eq!(telegram.green_api.timeout, Duration::from_secs(10));
        assert_eq!(telegram.channels, ["C0123456789"]);
        assert_eq!(telegram.green_api.url.as_str(), "https://4100.api.green-api.com/");
        let whatsapp = &config.instances[1];
        assert_eq!(whatsapp.kind, None);
        assert_eq!(whatsapp.green_api.id_instance.as_str(), "1101000002");
        assert_eq!(whatsapp.green_api.timeout, Duration::from_secs(5));
        assert_eq!(whatsapp.green_api.max_rps.get(), 50);
        assert_eq!(config.instances[2].kind, Some(Kind::Max));
        let mut aliases: Vec<_> =
            config.aliases.iter().map(|a| (a.name.as_str(), a.instance, a.chat_id.as_str())).collect();
        aliases.sort_unstable();
        assert_eq!(aliases, [("sales", 1, "120363043968066561@g.us"), ("Продажи", 0, "-10000000000000")]);
        assert!(!format!("{config:?}").contains(TOKEN));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let source = r#"[[instances]]
name = "telegram"
url = "ftp://example.com"
id_instance = "12ab"
token_env = "GREEN_API_TOKEN_UNSET"
kind = "viber"
max_rps = 0
timeout_ms = -5
tokn = "x"
token = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884"
channels = ["C0123456789", "general"]

[[instances]]
name = "telegram"
url = "https://4100.api.green-api.com"
id_instance = "1"
token_env = "BROKEN_TOKEN"
channels = ["C0123456789"]

[[instances]]
name = "Bad Name"
url = "not a url"
id_instance = "2"
token_env = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884"

[chats]
sales = { instance = "whatsap", chat_id = "120363043968066561@g.us" }
ops = { instance = "telegram", chat_id = "ten" }
"123" = { instance = "telegram", chat_id = "1" }
Ops = { instance = "telegram", chat_id = "1" }
misc = { instance = "telegram", chat = "1" }

[extra]
"#;
        let list = problems(source);
        assert_problem(&list, 3, "url='ftp://example.com' must be an https:// URL");
        assert_problem(&list, 4, "id_instance='12ab' must be the idInstance");
        assert_problem(&list, 5, "token_env names GREEN_API_TOKEN_UNSET, which is not set");
        assert_problem(&list, 6, "kind='viber' must be telegram, whatsapp or max");
        assert_problem(&list, 7, "max_rps=0 must be");
        assert_problem(&list, 8, "timeout_ms=-5 must be");
        assert_problem(&list, 9, "unknown key `tokn` in [[instances]]");
        assert_problem(&list, 10, "`token` would put the GREEN-API token in the file");
        assert_problem(&list, 11, "channels: 'general' is not a Slack channel id");
        assert_problem(&list, 14, "the instance name `telegram` is used twice (first on line 2)");
        assert_problem(&list, 17, "BROKEN_TOKEN (named by token_env) must contain only letters and digits");
        assert_problem(&list, 18, "channel C0123456789 is already given to instance `telegram` (line 11)");
        assert_problem(&list, 21, "name='Bad Name' must be a lowercase word");
        assert_problem(&list, 22, "url is not a URL");
        assert_problem(&list, 24, "token_env must be the name of an environment variable in capitals");
        assert_problem(&list, 27, "alias `sales` points at instance `whatsap`, which the file does not define");
        assert_problem(&list, 28, "alias `ops`: chat_id='ten' is not a chat id");
        assert_problem(&list, 29, "the alias `123` must be a word");
        assert_problem(&list, 30, "the alias `Ops` is defined twice (first on line 28");
        assert_problem(&list, 31, "unknown field `chat`");
        assert_problem(&list, 33, "unknown key `extra`");
        assert_eq!(list.len(), 21, "{list:#?}");
        let all = list.join("\n");
        assert!(!all.contains(TOKEN), "{all}");
        assert!(!all.contains("has space"), "{all}");
    }

    #[test]
    fn a_syntax_error_names_its_line_without_quoting_it() {
        let source = "[[instances]]\nname = \"a\"\ntoken_env = bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884\n";
        let list = problems(source);
        assert_eq!(list.len(), 1, "{list:#?}");
        assert!(list[0].starts_with("line 3: not valid TOML"), "{list:#?}");
        assert!(!list[0].contains("bde035"), "{list:#?}");
        let duplicate = problems("[[instances]]\nname = \"a\"\nname = \"b\"\n");
        assert!(duplicate[0].starts_with("line 3: not valid TOML"), "{duplicate:#?}");
    }

    #[test]
    fn missing_fields_and_wrong_types_name_the_entry() {
        let list = problems("[[instances]]\nname = \"telegram\"\n\n[[instances]]\nname = 5\n");
        assert_problem(&list, 1, "missing field `url`");
        assert!(list.iter().any(|p| p.contains("wrong type: expected a string")), "{list:#?}");
        let secret = problems(
            "[[instances]]\nname = \"a\"\nurl = \"https://x.example\"\nid_instance = \"1\"\ntoken_env = 12345678\n",
        );
        assert!(!secret.join(" ").contains("12345678"), "{secret:#?}");
    }

    #[test]
    fn the_file_needs_an_instance_and_the_right_shapes() {
        assert_eq!(problems(""), ["the file defines no [[instances]]: add at least one"]);
        assert_problem(&problems("instances = \"x\"\n"), 1, "instances must be a list of tables");
        let list = problems(&format!("{EXAMPLE}\n[chats.x]\ny = 1\n"));
        assert!(list.iter().any(|p| p.contains("not valid TOML") || p.contains("alias `x`")), "{list:#?}");
    }

    #[test]
    fn an_alias_must_fit_its_instances_kind() {
        let source = EXAMPLE.replace(
            "sales = { instance = \"whatsapp\"",
            "wrong = { instance = \"telegram\", chat_id = \"1@g.us\" }\nsales = { instance = \"whatsapp\"",
        );
        let list = problems(&source);
        assert_eq!(list.len(), 1, "{list:#?}");
        assert!(
            list[0].contains("alias `wrong`: 1@g.us is a WhatsApp chat id, but instance `telegram` is Telegram"),
            "{list:#?}"
        );
    }

    #[test]
    fn the_same_instance_twice_is_refused() {
        let source = EXAMPLE
            .replace("id_instance = 1101000002", "id_instance = \"1101000001\"")
            .replace("url = \"https://7105.api.greenapi.com\"", "url = \"https://4100.api.green-api.com/\"");
        let list = problems(&source);
        assert_problem(
            &list,
            14,
            "instance 1101000001 at https://4100.api.green-api.com/ is already configured (line 3)",
        );
    }

    #[test]
    fn a_pasted_method_url_is_refused_without_being_shown() {
        let source = EXAMPLE.replace(
            "https://3100.api.green-api.com",
            "https://3100.api.green-api.com/waInstance3100309139/sendContact/bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884",
        );
        let list = problems(&source);
        assert_eq!(list.len(), 1, "{list:#?}");
        assert!(list[0].contains("is a method URL") && !list[0].contains("bde035"), "{list:#?}");
    }

    proptest! {
        #[test]
        fn no_file_panics(source in "\\PC{0,300}") {
            let _ = parse(&source);
        }

        #[test]
        fn a_line_is_one_more_than_the_newlines_before_it(source in "[a\n]{0,40}", offset in 0usize..48) {
            let counted = 1 + source.bytes().take(offset).filter(|&b| b == b'\n').count();
            prop_assert_eq!(Problems::new(&source).line(offset), counted);
        }

        #[test]
        fn no_edit_of_the_example_panics(at in 0usize..700, insert in "[\\[\\]\"=a-z0-9 \n{},.@:-]{0,12}") {
            let mut source = EXAMPLE.to_owned();
            let at = at.min(source.len());
            if source.is_char_boundary(at) {
                source.insert_str(at, &insert);
                let _ = parse(&source);
            }
        }
    }
}
