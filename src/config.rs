//! Configuration from the environment (and `.env`), as the contract lists it.
//!
//! envy reads every variable as an optional string; the typed structs are
//! built from that in one pass that collects *every* problem, so an admin fixes
//! the whole env file in one go instead of one restart per mistake. Secret
//! values never appear in an error.

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::num::NonZeroU32;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::allowlist::Allowlist;
use std::collections::BTreeMap;

use crate::green_api::{ApiToken, GreenApiSettings, IdInstance, parse_api_url};
use crate::i18n::ReplyLanguage;
use crate::instances::{Defaults, InstancesConfig, parse_file};
use crate::slack::reply::ResponseType;
use crate::slack::signature::SigningSecret;
use crate::slack::web_api::BotToken;
use crate::socket_mode::AppToken;
use crate::telemetry::{self, LogFormat};

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The GREEN_API_* instance, or SENDCONTACT_CONFIG's.
    pub instances: InstancesConfig,
    /// Unset when only Socket Mode is configured: HTTP commands are then
    /// refused.
    pub signing_secret: SigningSecret,
    /// SLACK_APP_TOKEN: with it, commands also come over Socket Mode.
    pub app_token: Option<AppToken>,
    /// SLACK_API_URL, ending in `/`.
    pub slack_api_url: url::Url,
    pub listen: ListenAddress,
    /// `METRICS_PORT`: when set, `/metrics` is served on HOST at this port
    /// only, and not on PORT.
    pub metrics_port: Option<u16>,
    /// `TRUST_FORWARDED_HEADERS`: whether the logged peer may come from
    /// `Forwarded`/`X-Forwarded-For`, which any client can write.
    pub trust_forwarded_headers: bool,
    pub allowlist: Allowlist,
    pub ack_budget: Duration,
    pub response_url_hosts: Vec<String>,
    pub log_format: LogFormat,
    /// `RUST_LOG`, checked to parse; `info` when unset.
    pub log_filter: String,
    /// How long a stopping server waits for deferred deliveries. Derived
    /// from the GREEN-API timeout, so a call in flight can always finish.
    pub shutdown_grace: Duration,
    /// The Slack app's own voice: the form, posts after it, and users'
    /// locales. Without it the service answers only through Slack's
    /// requests, as before.
    pub bot: Option<BotSettings>,
    /// REPLY_LANGUAGE: `auto` needs the bot token.
    pub reply_language: ReplyLanguage,
    /// SLACK_SUCCESS_VISIBILITY: who sees a success, the channel or the
    /// sender alone.
    pub success_visibility: ResponseType,
}

/// SLACK_BOT_TOKEN and where Slack's Web API is (SLACK_API_URL).
#[derive(Debug, Clone)]
pub struct BotSettings {
    pub token: BotToken,
    /// Ends with `/`; method names are appended.
    pub api_url: url::Url,
}

/// Slack's Web API, unless SLACK_API_URL says otherwise (tests).
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api/";

/// Everything `check` and `send` need (no Slack secret).
#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub instances: InstancesConfig,
    /// SLACK_APP_TOKEN, which `check` verifies when it is set.
    pub app_token: Option<AppToken>,
    /// SLACK_API_URL, ending in `/`.
    pub slack_api_url: url::Url,
    pub log_format: LogFormat,
    /// `RUST_LOG`, checked to parse; `info` when unset.
    pub log_filter: String,
}

/// Where `serve` listens: `HOST` and `PORT`, checked. `healthcheck` reads
/// it the same way (it is all that subcommand needs), so the probe finds the
/// server wherever `.env` or the environment put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    host: String,
    port: u16,
}

impl ListenAddress {
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same host on `port`: where a server bound to port 0 ended up.
    pub fn with_port(&self, port: u16) -> Self {
        Self { host: self.host.clone(), port }
    }

    /// Where `healthcheck` looks for the server. A wildcard HOST listens on
    /// loopback too, so the probe goes there (127.0.0.1 for `0.0.0.0`, ::1
    /// for `::`); any other HOST is probed itself, a name at every address it
    /// resolves to.
    pub fn probe_addresses(&self) -> std::io::Result<Vec<SocketAddr>> {
        let ip = match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Ok(IpAddr::V6(ip)) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            Ok(ip) => ip,
            Err(_) => {
                let addresses: Vec<_> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
                if addresses.is_empty() {
                    return Err(std::io::Error::other("no address"));
                }
                return Ok(addresses);
            }
        };
        Ok(vec![SocketAddr::new(ip, self.port)])
    }
}

/// `host:port`, with an IPv6 address in brackets (`[::]:8080`), as both
/// `bind` and a reader of the log expect it.
impl fmt::Display for ListenAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One or more variables are missing or malformed. `Display` lists them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RawEnv {
    slack_signing_secret: Option<String>,
    green_api_url: Option<String>,
    green_api_id_instance: Option<String>,
    green_api_token_instance: Option<String>,
    host: Option<String>,
    port: Option<String>,
    slack_allowed_team_ids: Option<String>,
    slack_allowed_user_ids: Option<String>,
    slack_allowed_channel_ids: Option<String>,
    green_api_timeout_ms: Option<String>,
    slack_ack_budget_ms: Option<String>,
    log_format: Option<String>,
    slack_response_url_hosts: Option<String>,
    green_api_max_rps: Option<String>,
    rust_log: Option<String>,
    sendcontact_config: Option<String>,
    slack_bot_token: Option<String>,
    slack_api_url: Option<String>,
    reply_language: Option<String>,
    slack_success_visibility: Option<String>,
    slack_app_token: Option<String>,
    metrics_port: Option<String>,
    trust_forwarded_headers: Option<String>,
    use_env_proxy: Option<String>,
}

pub const DEFAULT_RESPONSE_URL_HOSTS: &str = "hooks.slack.com,hooks.slack-gov.com";
/// Slack shows `operation_timeout` 3 s after it sent the command, and that
/// clock starts before ours: the request has to reach us, and the reply has to
/// travel back (TLS, proxies, a congested link). 500 ms of margin keeps an
/// inline answer from arriving after Slack gave up, when it is lost for good.
pub const MAX_ACK_BUDGET_MS: u64 = 2500;

/// The process environment merged over `.env` from the working directory: a
/// variable set in the real environment wins.
///
/// A `.env` that exists but cannot be read or parsed is a configuration
/// error: skipping it, or the lines after an unclosed quote, would drop
/// variables such as the allowlists without a word and let everyone in.
pub fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut vars = read_dotenv(std::path::Path::new(".env"))?;
    for (key, value) in std::env::vars_os() {
        let (Some(key), value) = (key.to_str().map(str::to_owned), value) else {
            continue;
        };
        vars.retain(|(k, _)| *k != key);
        // A non-UTF-8 value of one of our variables is reported by name
        // later rather than crashing here, as `std::env::vars` would.
        let value = value.into_string().unwrap_or_else(|v: OsString| format!("\u{fffd}{}", v.to_string_lossy()));
        vars.push((key, value));
    }
    Ok(vars)
}

/// The variables of the `.env` at `path`; none when there is no such file.
fn read_dotenv(path: &std::path::Path) -> Result<Vec<(String, String)>, ConfigError> {
    let problem = |p: String| ConfigError { problems: vec![p] };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(problem(format!(".env exists but cannot be read: {e}"))),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = line_of(&String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]), usize::MAX);
        problem(format!(".env line {line} is not valid UTF-8"))
    })?;
    parse_dotenv(&text).map_err(|problems| ConfigError { problems })
}

/// `.env` text as dotenvy reads it, or one problem per bad line, each with
/// its line number and never its content (it may hold a secret).
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut vars = Vec::new();
    let mut problems = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => vars.push(pair),
            Err(dotenvy::Error::LineParse(line, index)) => problems.push(describe_bad_line(text, &line, index)),
            Err(e) => problems.push(format!(".env cannot be read: {e}")),
        }
    }
    if problems.is_empty() { Ok(vars) } else { Err(problems) }
}

fn describe_bad_line(text: &str, line: &str, index: usize) -> String {
    // A quote left open runs to the end of the file: dotenvy reports the
    // rest of the file as one line, which is where the quote opened.
    if text.ends_with(line) && index >= line.len() && line.contains(['"', '\'']) {
        let start = text.len() - line.len();
        return format!(
            ".env line {}: a quote opened there is never closed, so every line after it would be part of one value; \
             close the quote",
            line_of(text, start)
        );
    }
    let start = (0..text.len())
        .filter(|&i| text.is_char_boundary(i) && (i == 0 || text.as_bytes()[i - 1] == b'\n'))
        .find(|&i| text[i..].starts_with(line))
        .unwrap_or(text.len());
    let column = line.get(..index.min(line.len())).map_or(index, |before| before.chars().count()) + 1;
    format!(".env line {} is not `NAME=value` (the problem is at character {column})", line_of(text, start))
}

/// The 1-based line of byte offset `at` (clamped to the text).
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// The environment being read, and every problem found in it so far.
pub struct Reader {
    raw: RawEnv,
    /// Every variable, for the ones SENDCONTACT_CONFIG names (`token_env`).
    vars: BTreeMap<String, String>,
    problems: Problems,
}

/// Settings read from the environment. Every subcommand's settings are read
/// the same way, by one reader that reports every problem at once.
pub trait FromEnv: Sized {
    /// Reads this type's variables; `None` if any is wrong, which is then
    /// recorded in `reader`.
    #[doc(hidden)]
    fn read(reader: &mut Reader) -> Option<Self>;

    fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let (raw, vars) = read(vars);
        let mut reader = Reader { raw, vars, problems: Problems::default() };
        let value = Self::read(&mut reader);
        reader.problems.finish()?;
        Ok(value.expect("no problems means every part parsed"))
    }

    /// The process environment over `.env`.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(process_env()?)
    }
}

impl FromEnv for ServeConfig {
    fn read(reader: &mut Reader) -> Option<Self> {
        let (raw, problems) = (&reader.raw, &mut reader.problems);
        let instances = instances(raw, &reader.vars, problems);
        let app_token = app_token(raw, problems);
        let slack_api_url = slack_api_url(raw, problems);
        let signing_secret = signing_secret(raw, problems);
        let listen = ListenAddress::read(reader);
        let (raw, problems) = (&reader.raw, &mut reader.problems);
        let ack_budget_ms = problems.parse_or(
            "SLACK_ACK_BUDGET_MS",
            raw.slack_ack_budget_ms.as_deref(),
            2500,
            "must be a whole number of milliseconds from 0 to 2500: Slack gives up 3000 ms after sending the command, \
             and the last 500 ms are kept for the request and the answer to travel, so that an answer is never \
             lost after the acknowledgement",
            |v| v.parse::<u64>().ok().filter(|ms| *ms <= MAX_ACK_BUDGET_MS),
        );
        let response_url_hosts = list(
            raw.slack_response_url_hosts
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or(DEFAULT_RESPONSE_URL_HOSTS),
        )
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
        let allowlist = Allowlist::new(
            list(raw.slack_allowed_team_ids.as_deref().unwrap_or("")),
            list(raw.slack_allowed_user_ids.as_deref().unwrap_or("")),
            list(raw.slack_allowed_channel_ids.as_deref().unwrap_or("")),
        );
        let log_format = log_format(raw, problems);
        let log_filter = log_filter(raw, problems);
        let bot = bot(raw, problems, slack_api_url.as_ref());
        let reply_language = problems.parse_or(
            "REPLY_LANGUAGE",
            raw.reply_language.as_deref(),
            ReplyLanguage::default(),
            "must be en, ru or auto",
            |v| ReplyLanguage::parse(v).ok(),
        );
        if reply_language == ReplyLanguage::Auto && matches!(bot, Some(None)) {
            problems.0.push(
                "REPLY_LANGUAGE=auto needs SLACK_BOT_TOKEN: the user's locale comes from Slack's users.info".to_owned(),
            );
        }
        let success_visibility = problems.parse_or(
            "SLACK_SUCCESS_VISIBILITY",
            raw.slack_success_visibility.as_deref(),
            ResponseType::InChannel,
            "must be in_channel or ephemeral",
            |v| match v.to_ascii_lowercase().as_str() {
                "in_channel" => Some(ResponseType::InChannel),
                "ephemeral" => Some(ResponseType::Ephemeral),
                _ => None,
            },
        );
        let main_port = listen.as_ref().map(ListenAddress::port);
        let metrics_port = problems.parse_or(
            "METRICS_PORT",
            raw.metrics_port.as_deref(),
            None,
            "is not a port number (1-65535, or 0 for any free port) other than PORT",
            |v| v.parse::<u16>().ok().filter(|p| *p == 0 || Some(*p) != main_port).map(Some),
        );
        let trust_forwarded_headers = problems.parse_or(
            "TRUST_FORWARDED_HEADERS",
            raw.trust_forwarded_headers.as_deref(),
            false,
            "must be `true` or `false`",
            parse_bool,
        );
        let instances = instances?;
        let longest = instances.instances.iter().map(|i| i.green_api.timeout).max().unwrap_or_default();
        let shutdown_grace = longest + Duration::from_secs(10);
        Some(Self {
            instances,
            signing_secret: signing_secret?,
            app_token: app_token?,
            slack_api_url: slack_api_url?,
            listen: listen?,
            metrics_port,
            trust_forwarded_headers,
            allowlist,
            ack_budget: Duration::from_millis(ack_budget_ms),
            response_url_hosts,
            log_format,
            log_filter,
            shutdown_grace,
            bot: bot?,
            reply_language,
            success_visibility,
        })
    }
}

impl FromEnv for AdminConfig {
    fn read(reader: &mut Reader) -> Option<Self> {
        let (raw, problems) = (&reader.raw, &mut reader.problems);
        let instances = instances(raw, &reader.vars, problems);
        let app_token = app_token(raw, problems);
        let slack_api_url = slack_api_url(raw, problems);
        let log_format = log_format(raw, problems);
        let log_filter = log_filter(raw, problems);
        Some(Self {
            instances: instances?,
            app_token: app_token?,
            slack_api_url: slack_api_url?,
            log_format,
            log_filter,
        })
    }
}

impl FromEnv for ListenAddress {
    fn read(reader: &mut Reader) -> Option<Self> {
        let (raw, problems) = (&reader.raw, &mut reader.problems);
        let before = problems.0.len();
        let host = host(raw, problems);
        let port = port(raw, problems);
        (problems.0.len() == before).then_some(Self { host, port })
    }
}

fn read<I, K, V>(vars: I) -> (RawEnv, BTreeMap<String, String>)
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    // The last value of a repeated variable wins, as in a shell; envy would
    // refuse duplicates. With duplicates gone and every field an optional
    // string, deserialising cannot fail.
    let vars: BTreeMap<String, String> = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    (envy::from_iter(vars.clone()).unwrap_or_default(), vars)
}

/// The GREEN-API instances: SENDCONTACT_CONFIG's file when it is set, the
/// GREEN_API_* variables otherwise. The file's problems join the others,
/// each with its line.
fn instances(raw: &RawEnv, vars: &BTreeMap<String, String>, problems: &mut Problems) -> Option<InstancesConfig> {
    let use_env_proxy = problems.parse_or(
        "USE_ENV_PROXY",
        raw.use_env_proxy.as_deref(),
        false,
        "must be `true` or `false`",
        parse_bool,
    );
    let mut config = instances_without_proxy(raw, vars, problems)?;
    for instance in &mut config.instances {
        instance.green_api.use_env_proxy = use_env_proxy;
    }
    Some(config)
}

fn instances_without_proxy(
    raw: &RawEnv,
    vars: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Option<InstancesConfig> {
    let Some(path) = raw.sendcontact_config.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
        return green_api(raw, problems).map(InstancesConfig::single);
    };
    let both: Vec<&str> = [
        ("GREEN_API_URL", &raw.green_api_url),
        ("GREEN_API_ID_INSTANCE", &raw.green_api_id_instance),
        ("GREEN_API_TOKEN_INSTANCE", &raw.green_api_token_instance),
    ]
    .into_iter()
    .filter(|(_, value)| value.as_deref().is_some_and(|v| !v.trim().is_empty()))
    .map(|(name, _)| name)
    .collect();
    if !both.is_empty() {
        // Which one was meant is anyone's guess: refuse rather than ignore.
        problems.0.push(format!(
            "SENDCONTACT_CONFIG and {} are both set: describe every instance in the file (the GREEN_API_* \
             variables are the one-instance form), and unset the others",
            both.join(", ")
        ));
    }
    let (timeout, max_rps) = timeout_and_rate(raw, problems);
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(e) => return problems.push(format!("SENDCONTACT_CONFIG='{path}' cannot be read: {e}")),
    };
    match parse_file(&source, &|name| vars.get(name).cloned(), Defaults { timeout, max_rps }) {
        Ok(config) if both.is_empty() => Some(config),
        Ok(_) => None,
        Err(list) => {
            for problem in list {
                match problem.line {
                    Some(line) => {
                        problems.0.push(format!("SENDCONTACT_CONFIG {path} line {line}: {}", problem.message))
                    }
                    None => problems.0.push(format!("SENDCONTACT_CONFIG {path}: {}", problem.message)),
                }
            }
            None
        }
    }
}

fn green_api(raw: &RawEnv, problems: &mut Problems) -> Option<GreenApiSettings> {
    let url = match raw.green_api_url.as_deref().map(str::trim) {
        None | Some("") => problems.missing("GREEN_API_URL"),
        Some(value) => match parse_api_url(value) {
            Ok(url) => Some(url),
            Err(why) => problems.push(format!("GREEN_API_URL{why}")),
        },
    };
    let id_instance = match raw.green_api_id_instance.as_deref().map(str::trim) {
        None | Some("") => problems.missing("GREEN_API_ID_INSTANCE"),
        Some(value) => match IdInstance::parse(value) {
            Some(id) => Some(id),
            None => problems.push(format!(
                "GREEN_API_ID_INSTANCE='{}' must be the idInstance from the GREEN-API console: digits only",
                value.chars().take(40).collect::<String>()
            )),
        },
    };
    let token = match problems.secret("GREEN_API_TOKEN_INSTANCE", raw.green_api_token_instance.as_deref()) {
        Some(token) => match ApiToken::parse(token) {
            Ok(token) => Some(token),
            Err(why) => problems.push(format!("GREEN_API_TOKEN_INSTANCE {why}")),
        },
        None => None,
    };
    let (timeout, max_rps) = timeout_and_rate(raw, problems);
    Some(GreenApiSettings {
        url: url?,
        id_instance: id_instance?,
        token: token?,
        timeout,
        max_rps,
        // Set for every instance by `instances`.
        use_env_proxy: false,
    })
}

/// GREEN_API_TIMEOUT_MS and GREEN_API_MAX_RPS: the one instance's, or the
/// file's defaults.
fn timeout_and_rate(raw: &RawEnv, problems: &mut Problems) -> (Duration, NonZeroU32) {
    let timeout_ms = problems.parse_or(
        "GREEN_API_TIMEOUT_MS",
        raw.green_api_timeout_ms.as_deref(),
        10_000,
        "must be a whole number of milliseconds from 1 to 600000",
        |v| v.parse::<u64>().ok().filter(|ms| (1..=600_000).contains(ms)),
    );
    let max_rps = problems.parse_or(
        "GREEN_API_MAX_RPS",
        raw.green_api_max_rps.as_deref(),
        NonZeroU32::new(50).expect("50 is not zero"),
        // Above GREEN-API's 50 only for a plan with a higher limit, or for
        // the load benchmark, where the ceiling must not be what saturates.
        "must be a whole number of requests per second from 1 to 1000000",
        |v| v.parse::<u32>().ok().filter(|n| *n <= 1_000_000).and_then(NonZeroU32::new),
    );
    (Duration::from_millis(timeout_ms), max_rps)
}

/// SLACK_BOT_TOKEN, with SLACK_API_URL as read by [`slack_api_url`]:
/// `Some(None)` when there is no token, `None` when either is wrong.
fn bot(raw: &RawEnv, problems: &mut Problems, api_url: Option<&url::Url>) -> Option<Option<BotSettings>> {
    let token = match raw.slack_bot_token.as_deref().map(str::trim) {
        None | Some("") => return Some(None),
        Some(v) => match BotToken::parse(SecretString::from(v.to_owned())) {
            Ok(token) => token,
            // The reason never quotes the value.
            Err(why) => return problems.push(format!("SLACK_BOT_TOKEN {why}")),
        },
    };
    Some(Some(BotSettings { token, api_url: api_url?.clone() }))
}

/// SLACK_APP_TOKEN: `Some(None)` when unset, `None` when set but unusable.
fn app_token(raw: &RawEnv, problems: &mut Problems) -> Option<Option<AppToken>> {
    match raw.slack_app_token.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(value) => match AppToken::parse(value) {
            Ok(token) => Some(Some(token)),
            Err(why) => problems.push(format!("SLACK_APP_TOKEN {why}")),
        },
    }
}

/// SLACK_SIGNING_SECRET: required unless SLACK_APP_TOKEN is set, since
/// Socket Mode needs no signature; HTTP commands are then refused.
fn signing_secret(raw: &RawEnv, problems: &mut Problems) -> Option<SigningSecret> {
    let socket_mode = raw.slack_app_token.as_deref().is_some_and(|v| !v.trim().is_empty());
    let secret = raw.slack_signing_secret.as_deref();
    if socket_mode && secret.is_none_or(|v| v.trim().is_empty()) {
        return Some(SigningSecret::unset());
    }
    if secret.is_none() {
        return problems.push(
            "SLACK_SIGNING_SECRET is missing (or set SLACK_APP_TOKEN to receive commands over Socket Mode)".into(),
        );
    }
    problems.secret("SLACK_SIGNING_SECRET", secret).map(SigningSecret::new)
}

/// SLACK_API_URL, ending in `/` so that method names join onto it.
fn slack_api_url(raw: &RawEnv, problems: &mut Problems) -> Option<url::Url> {
    let value = raw.slack_api_url.as_deref().map(str::trim).filter(|v| !v.is_empty()).unwrap_or(DEFAULT_SLACK_API_URL);
    // Only `scheme://host[:port]` is ever shown: a value that is no URL may
    // be a token pasted into the wrong variable, and a URL may carry a
    // password or a token in its query.
    let mut url = match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.host_str().is_some() => url,
        Ok(url) => {
            let shown = crate::green_api::shown_origin(&url);
            return problems
                .push(format!("SLACK_API_URL='{shown}' must be an https:// URL such as {DEFAULT_SLACK_API_URL}"));
        }
        Err(_) => {
            return problems.push(format!(
                "SLACK_API_URL is not a URL: it must be an https:// URL such as {DEFAULT_SLACK_API_URL}"
            ));
        }
    };
    let shown = crate::green_api::shown_origin(&url);
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return problems
            .push(format!("SLACK_API_URL='{shown}' must be a bare URL, without query, fragment or credentials"));
    }
    // Every call carries the bot or app token in its Authorization header.
    if url.scheme() == "http" && !crate::http_client::is_loopback_host(&url) {
        return problems.push(format!(
            "SLACK_API_URL='{shown}' must be https: over http:// the bot and app tokens, sent with every call, travel \
             in the clear; http:// is accepted only for a mock on this machine (localhost, 127.0.0.1, ::1)"
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url)
}

fn log_format(raw: &RawEnv, problems: &mut Problems) -> LogFormat {
    problems.parse_or("LOG_FORMAT", raw.log_format.as_deref(), LogFormat::Text, "must be `text` or `json`", |v| match v
        .to_ascii_lowercase()
        .as_str()
    {
        "text" => Some(LogFormat::Text),
        "json" => Some(LogFormat::Json),
        _ => None,
    })
}

/// `HOST`, checked here so that a typo is reported with every other problem
/// at start-up rather than as a failure to bind.
fn host(raw: &RawEnv, problems: &mut Problems) -> String {
    problems.parse_or(
        "HOST",
        raw.host.as_deref(),
        "0.0.0.0".to_owned(),
        "must be an IP address to listen on (0.0.0.0 for every IPv4 interface, :: for IPv6) or a host name such \
         as localhost",
        parse_host,
    )
}

fn port(raw: &RawEnv, problems: &mut Problems) -> u16 {
    problems.parse_or("PORT", raw.port.as_deref(), 8080, "is not a port number (0-65535)", |v| v.parse::<u16>().ok())
}

fn parse_host(value: &str) -> Option<String> {
    // `[::1]`, as written in a URL, binds too; without the brackets every
    // reader of the host (bind, healthcheck) sees one form.
    if let Some(bracketed) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        return bracketed.parse::<Ipv6Addr>().ok().map(|_| bracketed.to_owned());
    }
    (value.parse::<IpAddr>().is_ok() || is_host_name(value)).then(|| value.to_owned())
}

/// A DNS host name (RFC 1123): dot-separated labels of ASCII letters, digits
/// and `-`, 1 to 63 characters each, not starting or ending with `-`, at most
/// 253 characters in all, one trailing dot allowed. The last label must not
/// be all digits, so a mistyped IPv4 address such as 1.2.3.4.5 is not taken
/// for a name.
fn is_host_name(value: &str) -> bool {
    let name = value.strip_suffix('.').unwrap_or(value);
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let numeric = |l: &str| l.bytes().all(|b| b.is_ascii_digit());
    name.len() <= 253 && name.split('.').all(label) && !name.rsplit('.').next().is_some_and(numeric)
}

/// `RUST_LOG`, read here rather than by tracing so that `.env` can set it.
/// Directives that do not parse are reported like any other bad value:
/// falling back to `info` would hide the debug output the operator asked for.
fn log_filter(raw: &RawEnv, problems: &mut Problems) -> String {
    problems.parse_or(
        "RUST_LOG",
        raw.rust_log.as_deref(),
        telemetry::DEFAULT_FILTER.to_owned(),
        "is not a log filter: use a level (error, warn, info, debug, trace) or directives such as \
         slack_sendcontact=debug,info",
        |v| telemetry::filter(v).ok().map(|_| v.to_owned()),
    )
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A comma-separated list, blanks dropped.
fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push<T>(&mut self, problem: String) -> Option<T> {
        self.0.push(problem);
        None
    }

    fn missing<T>(&mut self, name: &str) -> Option<T> {
        self.push(format!("{name} is missing"))
    }

    /// A required secret: reported by name only, never by value.
    fn secret(&mut self, name: &str, value: Option<&str>) -> Option<SecretString> {
        match value {
            None => self.missing(name),
            Some(v) if v.trim().is_empty() => self.push(format!("{name} is empty")),
            Some(v) if v.contains('\u{fffd}') => self.push(format!("{name} is not valid UTF-8")),
            Some(v) => Some(SecretString::from(v.trim().to_owned())),
        }
    }

    /// An optional value with a default; a value that is set but does not
    /// parse is reported with `why`.
    fn parse_or<T>(
        &mut self,
        name: &str,
        value: Option<&str>,
        default: T,
        why: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        match value.map(str::trim) {
            None | Some("") => default,
            Some(v) => parse(v).unwrap_or_else(|| {
                self.0.push(format!("{name}='{}' {why}", v.chars().take(40).collect::<String>()));
                default
            }),
        }
    }

    fn finish(self) -> Result<(), ConfigError> {
        if self.0.is_empty() { Ok(()) } else { Err(ConfigError { problems: self.0 }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "signing-secret-value";
    const TOKEN: &str = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884";

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("SLACK_SIGNING_SECRET", SECRET),
            ("GREEN_API_URL", "https://4100.api.green-api.com/"),
            ("GREEN_API_ID_INSTANCE", "4100000000"),
            ("GREEN_API_TOKEN_INSTANCE", TOKEN),
        ]
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = ServeConfig::from_vars(minimal()).unwrap();
        assert_eq!(config.listen.host(), "0.0.0.0");
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(config.ack_budget, Duration::from_millis(2500));
        assert_eq!(config.instances.instances[0].green_api.timeout, Duration::from_millis(10_000));
        assert_eq!(config.instances.instances[0].green_api.max_rps.get(), 50);
        assert_eq!(config.instances.instances[0].green_api.url.as_str(), "https://4100.api.green-api.com/");
        assert_eq!(config.response_url_hosts, ["hooks.slack.com", "hooks.slack-gov.com"]);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.log_filter, "info");
        assert!(config.allowlist.is_open());
    }

    /// A file in the system's temp directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> Self {
            let path = std::env::temp_dir().join(format!("sendcontact-{}-{name}.toml", std::process::id()));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const FILE: &str = "[[instances]]\nname = \"telegram\"\nurl = \"https://4100.api.green-api.com\"\n\
                        id_instance = \"1101000001\"\ntoken_env = \"TOKEN_TELEGRAM\"\n\n\
                        [[instances]]\nname = \"max\"\nurl = \"https://3100.api.green-api.com\"\n\
                        id_instance = \"3100000001\"\ntoken_env = \"TOKEN_MAX\"\nkind = \"max\"\ntimeout_ms = 30000\n";

    #[test]
    fn sendcontact_config_names_a_file_of_instances() {
        let file = TempFile::new("good", FILE);
        let config = ServeConfig::from_vars([
            ("SLACK_SIGNING_SECRET", SECRET),
            ("SENDCONTACT_CONFIG", file.path()),
            ("TOKEN_TELEGRAM", TOKEN),
            ("TOKEN_MAX", TOKEN),
            ("GREEN_API_MAX_RPS", "7"),
        ])
        .unwrap();
        let names: Vec<_> = config.instances.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["telegram", "max"]);
        assert_eq!(config.instances.instances[0].green_api.max_rps.get(), 7);
        // The drain waits for the slowest instance's call.
        assert_eq!(config.shutdown_grace, Duration::from_secs(40));
        assert!(!format!("{config:?}").contains(TOKEN));
    }

    #[test]
    fn the_files_problems_join_the_others_with_their_lines() {
        let file = TempFile::new(
            "bad",
            &FILE.replace("TOKEN_MAX", "TOKEN_UNSET").replace("kind = \"max\"", "kind = \"viber\""),
        );
        let err = ServeConfig::from_vars([
            ("SENDCONTACT_CONFIG", file.path()),
            ("TOKEN_TELEGRAM", TOKEN),
            ("GREEN_API_URL", "https://4100.api.green-api.com"),
            ("PORT", "http"),
        ])
        .unwrap_err();
        let message = err.to_string();
        for part in [
            "SLACK_SIGNING_SECRET is missing",
            "PORT='http'",
            "SENDCONTACT_CONFIG and GREEN_API_URL are both set",
            &format!("SENDCONTACT_CONFIG {} line 11: token_env names TOKEN_UNSET, which is not set", file.path()),
            &format!("SENDCONTACT_CONFIG {} line 12: kind='viber'", file.path()),
        ] {
            assert!(message.contains(part), "{part} not in {message}");
        }
        assert!(!message.contains(TOKEN), "{message}");
        let missing = AdminConfig::from_vars([("SENDCONTACT_CONFIG", "/nonexistent/instances.toml")]).unwrap_err();
        assert!(missing.to_string().contains("SENDCONTACT_CONFIG='/nonexistent/instances.toml' cannot be read"));
    }

    #[test]
    fn every_variable_is_read() {
        let mut vars = minimal();
        vars.extend([
            ("HOST", "127.0.0.1"),
            ("PORT", "9000"),
            ("SLACK_ALLOWED_TEAM_IDS", "T1, T2,"),
            ("SLACK_ALLOWED_USER_IDS", "U1"),
            ("SLACK_ALLOWED_CHANNEL_IDS", "C1"),
            ("GREEN_API_TIMEOUT_MS", "3000"),
            ("SLACK_ACK_BUDGET_MS", "100"),
            ("LOG_FORMAT", "JSON"),
            ("SLACK_RESPONSE_URL_HOSTS", "Hooks.Slack.com, 127.0.0.1"),
            ("GREEN_API_MAX_RPS", "10"),
            ("GREEN_API_URL", "http://127.0.0.1:9999/tgm"),
            ("RUST_LOG", "slack_sendcontact=debug,warn"),
        ]);
        let config = ServeConfig::from_vars(vars).unwrap();
        assert_eq!((config.listen.host(), config.listen.port()), ("127.0.0.1", 9000));
        assert_eq!(
            config.allowlist,
            Allowlist::new(vec!["T1".into(), "T2".into()], vec!["U1".into()], vec!["C1".into()])
        );
        assert_eq!(config.instances.instances[0].green_api.timeout, Duration::from_secs(3));
        assert_eq!(config.shutdown_grace, Duration::from_secs(13));
        assert_eq!(config.ack_budget, Duration::from_millis(100));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.response_url_hosts, ["hooks.slack.com", "127.0.0.1"]);
        assert_eq!(config.instances.instances[0].green_api.max_rps.get(), 10);
        assert_eq!(config.instances.instances[0].green_api.url.as_str(), "http://127.0.0.1:9999/tgm");
        assert_eq!(config.log_filter, "slack_sendcontact=debug,warn");
    }

    #[test]
    fn the_bot_token_enables_the_app_and_its_settings_are_checked() {
        let config = ServeConfig::from_vars(minimal()).unwrap();
        assert!(config.bot.is_none());
        assert_eq!(config.reply_language, ReplyLanguage::Fixed(crate::i18n::Language::En));
        assert_eq!(config.success_visibility, ResponseType::InChannel);

        let mut vars = minimal();
        vars.extend([
            ("SLACK_BOT_TOKEN", "xoxb-123-456-abc"),
            ("SLACK_API_URL", "http://127.0.0.1:9/api"),
            ("REPLY_LANGUAGE", "auto"),
            ("SLACK_SUCCESS_VISIBILITY", "Ephemeral"),
        ]);
        let config = ServeConfig::from_vars(vars).unwrap();
        let bot = config.bot.as_ref().unwrap();
        assert_eq!(bot.api_url.as_str(), "http://127.0.0.1:9/api/");
        assert_eq!(config.reply_language, ReplyLanguage::Auto);
        assert_eq!(config.success_visibility, ResponseType::Ephemeral);
        assert!(!format!("{config:?}").contains("xoxb-123"));

        let mut vars = minimal();
        vars.extend([
            ("SLACK_BOT_TOKEN", "xoxb-secret value"),
            ("SLACK_API_URL", "ftp://x"),
            ("REPLY_LANGUAGE", "de"),
            ("SLACK_SUCCESS_VISIBILITY", "loud"),
        ]);
        let err = ServeConfig::from_vars(vars).unwrap_err().to_string();
        for name in ["SLACK_BOT_TOKEN", "SLACK_API_URL", "REPLY_LANGUAGE", "SLACK_SUCCESS_VISIBILITY"] {
            assert!(err.contains(name), "{name} not in {err}");
        }
        assert!(!err.contains("xoxb-secret"), "{err}");

        let mut vars = minimal();
        vars.push(("REPLY_LANGUAGE", "auto"));
        let err = ServeConfig::from_vars(vars).unwrap_err().to_string();
        assert!(err.contains("REPLY_LANGUAGE=auto needs SLACK_BOT_TOKEN"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once_and_no_secret_is_shown() {
        let err = ServeConfig::from_vars([
            ("GREEN_API_URL", "ftp://example.com"),
            ("GREEN_API_ID_INSTANCE", "12ab"),
            ("GREEN_API_TOKEN_INSTANCE", "has space/and slash"),
            ("PORT", "http"),
            ("SLACK_ACK_BUDGET_MS", "3000"),
            ("GREEN_API_TIMEOUT_MS", "0"),
            ("LOG_FORMAT", "xml"),
            ("GREEN_API_MAX_RPS", "0"),
            ("HOST", "nope!"),
            ("RUST_LOG", "slack_sendcontact=degub"),
        ])
        .unwrap_err();
        let message = err.to_string();
        for name in [
            "SLACK_SIGNING_SECRET is missing",
            "GREEN_API_URL='ftp://example.com'",
            "GREEN_API_ID_INSTANCE='12ab'",
            "GREEN_API_TOKEN_INSTANCE",
            "PORT='http'",
            "SLACK_ACK_BUDGET_MS='3000'",
            "GREEN_API_TIMEOUT_MS='0'",
            "LOG_FORMAT='xml'",
            "GREEN_API_MAX_RPS='0'",
            "HOST='nope!'",
            "RUST_LOG='slack_sendcontact=degub'",
        ] {
            assert!(message.contains(name), "{name} not in {message}");
        }
        assert_eq!(err.problems.len(), 11, "{message}");
        assert!(!message.contains("has space"), "{message}");
    }

    #[test]
    fn a_dotenv_that_does_not_parse_is_reported_by_line_without_its_content() {
        let good = "# comment\nA=1\n\nexport B='two words'\nC=\"x\"\n";
        assert_eq!(
            parse_dotenv(good),
            Ok(vec![("A".into(), "1".into()), ("B".into(), "two words".into()), ("C".into(), "x".into())])
        );
        for (text, expected) in [
            (
                "A=1\nSLACK_ALLOWED_TEAM_IDS=\"T0001\nSLACK_ALLOWED_USER_IDS=U1\nGREEN_API_TOKEN_INSTANCE=s3cr3t\n",
                ".env line 2: a quote opened there is never closed",
            ),
            ("A='open\n", ".env line 1: a quote opened there is never closed"),
            ("A=1\nB=2\nnot a pair s3cr3t\n", ".env line 3 is not `NAME=value`"),
            ("A=1\n=s3cr3t\n", ".env line 2 is not `NAME=value` (the problem is at character 1)"),
            ("A=1\r\nB C=s3cr3t\r\n", ".env line 2 is not `NAME=value`"),
        ] {
            let problems = parse_dotenv(text).unwrap_err();
            assert!(problems.iter().any(|p| p.starts_with(expected)), "{text:?}: {problems:?}");
            assert!(problems.iter().all(|p| !p.contains("s3cr3t") && !p.contains("T0001")), "{problems:?}");
        }
    }

    #[test]
    fn green_api_url_is_the_bare_api_url_and_only_its_origin_is_ever_shown() {
        let url = |value: &str| {
            let mut vars = minimal();
            vars.retain(|(k, _)| *k != "GREEN_API_URL");
            vars.push(("GREEN_API_URL", value));
            AdminConfig::from_vars(vars).map(|c| {
                let green_api = &c.instances.instances[0].green_api;
                (green_api.url.to_string(), green_api.shown_url())
            })
        };
        for (value, kept, shown) in [
            ("https://4100.api.green-api.com", "https://4100.api.green-api.com/", "https://4100.api.green-api.com"),
            (
                "https://api.example.com:8443/green/",
                "https://api.example.com:8443/green",
                "https://api.example.com:8443",
            ),
            ("http://127.0.0.1:9999/tgm", "http://127.0.0.1:9999/tgm", "http://127.0.0.1:9999"),
            ("http://localhost:9999", "http://localhost:9999/", "http://localhost:9999"),
            ("http://[::1]:9999", "http://[::1]:9999/", "http://[::1]:9999"),
        ] {
            assert_eq!(url(value), Ok((kept.to_owned(), shown.to_owned())), "{value}");
        }
        let method_url = format!("https://4100.api.green-api.com/waInstance4100000000/sendContact/{TOKEN}");
        let password = "https://user:hunter2@4100.api.green-api.com";
        for (value, why) in [
            (method_url.as_str(), "='https://4100.api.green-api.com/…' is a method URL"),
            ("https://4100.api.green-api.com/WAINSTANCE1", "is a method URL"),
            (password, "='https://4100.api.green-api.com' must not carry a user name or password"),
            ("https://:hunter2@4100.api.green-api.com", "must not carry a user name or password"),
            ("http://4100.api.green-api.com", "='http://4100.api.green-api.com' must be https"),
            ("http://10.0.0.5:8080", "must be https"),
            ("https://4100.api.green-api.com/?token=hunter2", "without query or fragment"),
            ("ftp://example.com", "='ftp://example.com' must be an https:// URL"),
            ("not a url hunter2", "GREEN_API_URL is not a URL"),
        ] {
            let err = url(value).unwrap_err().to_string();
            assert!(err.contains(why), "{value}: {err}");
            assert!(!err.contains(TOKEN) && !err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn the_environment_proxy_is_used_only_when_asked() {
        let proxy = |extra: &[(&'static str, &'static str)]| {
            let mut vars = minimal();
            vars.extend_from_slice(extra);
            AdminConfig::from_vars(vars)
                .map(|c| c.instances.instances[0].green_api.use_env_proxy)
                .map_err(|e| e.to_string())
        };
        assert_eq!(proxy(&[("HTTPS_PROXY", "http://proxy:3128")]), Ok(false));
        assert_eq!(proxy(&[("USE_ENV_PROXY", "true")]), Ok(true));
        assert!(proxy(&[("USE_ENV_PROXY", "sometimes")]).unwrap_err().contains("USE_ENV_PROXY='sometimes'"));
    }

    #[test]
    fn the_ack_budget_is_capped_at_2500_ms_with_the_reason() {
        let budget = |value: &str| {
            let mut vars = minimal();
            vars.push(("SLACK_ACK_BUDGET_MS", value));
            ServeConfig::from_vars(vars).map(|c| c.ack_budget.as_millis()).map_err(|e| e.to_string())
        };
        for (value, expected) in [("0", 0), ("100", 100), ("2500", 2500), (" 2500 ", 2500), ("", 2500)] {
            assert_eq!(budget(value), Ok(expected), "{value:?}");
        }
        for bad in ["2501", "2900", "3000", "-1", "2.5s"] {
            let err = budget(bad).unwrap_err();
            assert!(err.contains("from 0 to 2500") && err.contains("Slack gives up 3000 ms"), "{bad}: {err}");
        }
    }

    #[test]
    fn metrics_port_and_forwarded_headers_are_optional_and_checked() {
        let config = |extra: &[(&'static str, &'static str)]| {
            let mut vars = minimal();
            vars.extend_from_slice(extra);
            ServeConfig::from_vars(vars).map(|c| (c.metrics_port, c.trust_forwarded_headers)).map_err(|e| e.to_string())
        };
        assert_eq!(config(&[]), Ok((None, false)));
        assert_eq!(config(&[("METRICS_PORT", "9090"), ("TRUST_FORWARDED_HEADERS", "true")]), Ok((Some(9090), true)));
        assert_eq!(config(&[("METRICS_PORT", " "), ("TRUST_FORWARDED_HEADERS", "FALSE")]), Ok((None, false)));
        assert_eq!(config(&[("PORT", "0"), ("METRICS_PORT", "0")]), Ok((Some(0), false)));
        for (name, bad, why) in [
            ("METRICS_PORT", "8080", "other than PORT"),
            ("METRICS_PORT", "65536", "is not a port number"),
            ("METRICS_PORT", "metrics", "is not a port number"),
            ("TRUST_FORWARDED_HEADERS", "maybe", "must be `true` or `false`"),
        ] {
            let err = config(&[(name, bad)]).unwrap_err();
            assert!(err.contains(&format!("{name}='{bad}'")) && err.contains(why), "{err}");
        }
    }

    #[test]
    fn the_rate_ceiling_is_a_whole_number_from_1_to_a_million() {
        let max_rps = |value: &str| {
            let mut vars = minimal();
            vars.push(("GREEN_API_MAX_RPS", value));
            ServeConfig::from_vars(vars)
                .map(|c| c.instances.instances[0].green_api.max_rps.get())
                .map_err(|e| e.to_string())
        };
        assert_eq!(max_rps("1"), Ok(1));
        assert_eq!(max_rps("1000000"), Ok(1_000_000));
        for bad in ["0", "1000001", "50.5", "-1", "fifty"] {
            let err = max_rps(bad).unwrap_err();
            assert!(err.contains("from 1 to 1000000"), "{bad}: {err}");
        }
    }

    #[test]
    fn host_is_an_ip_address_or_a_host_name() {
        let host = |value: &str| {
            let mut vars = minimal();
            vars.push(("HOST", value));
            ServeConfig::from_vars(vars).map(|c| c.listen.host().to_owned()).map_err(|e| e.to_string())
        };
        let longest_label = "a".repeat(63);
        let longest_name = [&longest_label[..]; 4].join(".").chars().skip(2).collect::<String>();
        assert_eq!(longest_name.len(), 253);
        for (value, expected) in [
            ("", "0.0.0.0"),
            ("   ", "0.0.0.0"),
            ("0.0.0.0", "0.0.0.0"),
            ("127.0.0.1", "127.0.0.1"),
            ("::", "::"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("localhost", "localhost"),
            (" my-host.internal ", "my-host.internal"),
            ("localhost.", "localhost."),
            ("1st-host", "1st-host"),
            (&longest_label, &longest_label),
            (&longest_name, &longest_name),
        ] {
            assert_eq!(host(value).as_deref(), Ok(expected), "{value:?}");
        }
        let too_long_label = "a".repeat(64);
        let too_long_name = format!("a.{longest_name}");
        for bad in [
            "nope!",
            "my host",
            "1.2.3.4.5",
            "256.1.1.1",
            "-host",
            "host-",
            "a..b",
            ".",
            "my_host",
            "host:8080",
            "http://localhost",
            "[127.0.0.1]",
            "::g",
            &too_long_label,
            &too_long_name,
        ] {
            let err = host(bad).unwrap_err();
            assert!(err.contains("HOST='") && err.contains("must be an IP address"), "{bad}: {err}");
        }
    }

    #[test]
    fn rust_log_is_read_with_the_rest_and_checked() {
        let log_filter = |value: &str| {
            let mut vars = minimal();
            vars.push(("RUST_LOG", value));
            AdminConfig::from_vars(vars).map(|c| c.log_filter).map_err(|e| e.to_string())
        };
        for good in ["error", "DEBUG", "slack_sendcontact=trace,warn", "actix_server=off"] {
            assert_eq!(log_filter(good).as_deref(), Ok(good));
        }
        assert_eq!(log_filter("  ").as_deref(), Ok("info"));
        for bad in ["slack_sendcontact=degub", "info,=x=y"] {
            let err = log_filter(bad).unwrap_err();
            assert!(err.contains(&format!("RUST_LOG='{bad}' is not a log filter")), "{err}");
        }
    }

    #[test]
    fn healthcheck_reads_only_host_and_port() {
        assert_eq!(
            ListenAddress::from_vars(Vec::<(String, String)>::new()),
            Ok(ListenAddress { host: "0.0.0.0".into(), port: 8080 })
        );
        assert_eq!(
            ListenAddress::from_vars([("HOST", " [::1] "), ("PORT", "9000")]),
            Ok(ListenAddress { host: "::1".into(), port: 9000 })
        );
        let err = ListenAddress::from_vars([("HOST", "nope!"), ("PORT", "http")]).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn admin_commands_do_not_need_the_slack_secret() {
        let vars: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != "SLACK_SIGNING_SECRET").collect();
        assert!(AdminConfig::from_vars(vars.clone()).is_ok());
        assert!(ServeConfig::from_vars(vars).unwrap_err().to_string().contains("SLACK_SIGNING_SECRET is missing"));
    }

    #[test]
    fn socket_mode_needs_the_app_token_and_no_signing_secret() {
        const APP_TOKEN: &str = "xapp-1-A1-2-0123456789abcdef";
        let mut vars: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != "SLACK_SIGNING_SECRET").collect();
        vars.push(("SLACK_APP_TOKEN", APP_TOKEN));
        let config = ServeConfig::from_vars(vars.clone()).unwrap();
        assert!(config.app_token.is_some());
        assert!(!config.signing_secret.is_set(), "HTTP commands are refused without a secret");
        assert_eq!(config.slack_api_url.as_str(), DEFAULT_SLACK_API_URL);
        assert!(!format!("{config:?}").contains(APP_TOKEN));

        vars.extend([("SLACK_SIGNING_SECRET", SECRET), ("SLACK_API_URL", "http://127.0.0.1:9/api")]);
        let config = ServeConfig::from_vars(vars.clone()).unwrap();
        assert!(config.signing_secret.is_set(), "both doors at once");
        assert_eq!(config.slack_api_url.as_str(), "http://127.0.0.1:9/api/", "methods join onto it");
        let admin = AdminConfig::from_vars(vars).unwrap();
        assert!(admin.app_token.is_some(), "check verifies it");

        let config = ServeConfig::from_vars(minimal()).unwrap();
        assert!(config.app_token.is_none() && config.signing_secret.is_set());
    }

    #[test]
    fn a_wrong_app_token_or_api_url_is_named_without_its_value() {
        let mut vars = minimal();
        vars.extend([("SLACK_APP_TOKEN", "xoxb-1-2-secretbotvalue"), ("SLACK_API_URL", "slack.com/api")]);
        let message = ServeConfig::from_vars(vars).unwrap_err().to_string();
        assert!(message.contains("SLACK_APP_TOKEN must be the app-level token, which starts with xapp-"), "{message}");
        assert!(message.contains("SLACK_API_URL is not a URL: it must be an https:// URL"), "{message}");
        assert!(!message.contains("secretbotvalue"), "{message}");

        // A token pasted into the wrong variable, a password or a token in
        // the query: none is echoed, only scheme://host[:port].
        for (url, leak) in [
            ("xoxb-1-2-misplacedbotvalue", "misplacedbotvalue"),
            ("https://user:hunter2@slack.example/api/", "hunter2"),
            ("https://slack.example/api/?token=xoxb-9-9-querysecret", "querysecret"),
            ("ftp://user:hunter2@slack.example/", "hunter2"),
        ] {
            let mut vars = minimal();
            vars.push(("SLACK_API_URL", url));
            let message = ServeConfig::from_vars(vars).unwrap_err().to_string();
            assert!(message.contains("SLACK_API_URL"), "{message}");
            assert!(!message.contains(leak), "{url}: {message}");
        }

        for plain in ["http://slack.com/api/", "http://10.0.0.5:8080/api", "http://localhost.example.com/api"] {
            let mut vars = minimal();
            vars.extend([("SLACK_BOT_TOKEN", "xoxb-1-2-secretbotvalue"), ("SLACK_API_URL", plain)]);
            let message = ServeConfig::from_vars(vars).unwrap_err().to_string();
            assert!(message.contains("SLACK_API_URL='") && message.contains("' must be https"), "{plain}: {message}");
        }
        for loopback in
            ["http://localhost:9/api", "http://127.0.0.1:9/api", "http://[::1]:9/api", "https://slack.example/api"]
        {
            let mut vars = minimal();
            vars.extend([("SLACK_BOT_TOKEN", "xoxb-1-2-secretbotvalue"), ("SLACK_API_URL", loopback)]);
            assert!(ServeConfig::from_vars(vars).is_ok(), "{loopback}");
        }

        let vars: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != "SLACK_SIGNING_SECRET").collect();
        let message = ServeConfig::from_vars(vars).unwrap_err().to_string();
        assert!(message.contains("SLACK_SIGNING_SECRET is missing (or set SLACK_APP_TOKEN"), "{message}");
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let config = ServeConfig::from_vars(minimal()).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(SECRET) && !debug.contains(TOKEN), "{debug}");
    }

    fn listen(host: &str, port: u16) -> ListenAddress {
        ListenAddress { host: host.to_owned(), port }
    }

    #[test]
    fn an_ipv6_listen_address_is_bracketed_so_it_binds_and_reads_right() {
        for (host, expected) in [("0.0.0.0", "0.0.0.0:8080"), ("::", "[::]:8080"), ("::1", "[::1]:8080")] {
            let address = listen(host, 8080).to_string();
            assert_eq!(address, expected);
            let resolved: Vec<_> = address.to_socket_addrs().unwrap().collect();
            assert_eq!(resolved.len(), 1, "{address}");
            assert_eq!(resolved[0].port(), 8080);
        }
        assert_eq!(listen("localhost", 1).to_string(), "localhost:1");
    }

    #[test]
    fn a_wildcard_host_is_probed_on_loopback_and_any_other_host_itself() {
        let probed = |host: &str| listen(host, 8080).probe_addresses().unwrap();
        assert_eq!(probed("0.0.0.0"), [SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))]);
        assert_eq!(probed("::"), [SocketAddr::from((Ipv6Addr::LOCALHOST, 8080))]);
        assert_eq!(probed("10.1.2.3"), [SocketAddr::from(([10, 1, 2, 3], 8080))]);
        assert_eq!(probed("::1"), [SocketAddr::from((Ipv6Addr::LOCALHOST, 8080))]);
        let localhost = probed("localhost");
        assert!(!localhost.is_empty() && localhost.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
    }
}
