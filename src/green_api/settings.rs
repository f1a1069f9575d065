//! What the GREEN-API client needs to know: which instance, with which
//! token, how fast and how long. `config` reads it from the environment.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::http_client::is_loopback_host;

/// GREEN_API_URL, or an instance's `url` in SENDCONTACT_CONFIG: the bare
/// apiUrl of the console; the error completes "GREEN_API_URL…". Messages
/// show only `scheme://host[:port]` of it, since a pasted method URL carries
/// the token in its path (and a URL may carry a password).
pub(crate) fn parse_api_url(value: &str) -> Result<url::Url, String> {
    const EXAMPLE: &str = "the apiUrl from the GREEN-API console, such as https://4100.api.green-api.com";
    let mut url = url::Url::parse(value).map_err(|e| format!(" is not a URL ({e}): use {EXAMPLE}"))?;
    let shown = shown_origin(&url);
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!("='{shown}' must be an https:// URL: use {EXAMPLE}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("='{shown}' must not carry a user name or password: use {EXAMPLE}"));
    }
    if url.path().to_ascii_lowercase().contains("wainstance") {
        return Err(format!(
            "='{shown}/…' is a method URL (its path holds /waInstance…, and likely the token): use only {EXAMPLE}, and \
             put the token in GREEN_API_TOKEN_INSTANCE"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("='{shown}' must be the bare apiUrl, without query or fragment: use {EXAMPLE}"));
    }
    if url.scheme() == "http" && !is_loopback_host(&url) {
        return Err(format!(
            "='{shown}' must be https: over http:// the token, which is part of every request's path, travels in \
             the clear; http:// is accepted only for a mock on this machine (localhost, 127.0.0.1, ::1)"
        ));
    }
    // The method path is appended to it, so a trailing slash would double.
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

/// What GREEN-API needs: every subcommand reads this.
#[derive(Debug, Clone)]
pub struct GreenApiSettings {
    /// apiUrl from the console, without a trailing slash.
    pub url: url::Url,
    pub id_instance: IdInstance,
    pub token: ApiToken,
    /// The whole budget for one sendContact, 429 retries and queueing included.
    pub timeout: Duration,
    pub max_rps: NonZeroU32,
    /// `USE_ENV_PROXY`: whether outgoing calls honour HTTPS_PROXY and the
    /// like. Off unless asked: an inherited proxy variable would otherwise
    /// route the token (in the URL path) through a host nobody chose.
    pub use_env_proxy: bool,
}

impl GreenApiSettings {
    /// `scheme://host[:port]` of GREEN_API_URL: all of it that is ever
    /// printed.
    pub fn shown_url(&self) -> String {
        shown_origin(&self.url)
    }
}

/// `scheme://host[:port]`, the part of a URL that holds no secret.
pub fn shown_origin(url: &url::Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// idInstance: the digits GREEN-API's console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdInstance(String);

impl IdInstance {
    pub fn parse(value: &str) -> Option<Self> {
        let ok = (1..=19).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// apiTokenInstance. Secret: `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ApiToken(SecretString);

impl ApiToken {
    /// The token becomes a URL path segment, so only letters and digits are
    /// accepted (GREEN-API's tokens are 50 hex digits).
    pub fn parse(token: SecretString) -> Result<Self, &'static str> {
        let ok = token.expose_secret().bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(token))
        } else {
            Err("must contain only letters and digits: copy apiTokenInstance from the GREEN-API console")
        }
    }

    pub(super) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([REDACTED])")
    }
}
