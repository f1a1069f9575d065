//! What the GREEN-API client needs to know: which instance, with which
//! token, how fast and how long. `config` reads it from the environment.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// GREEN_API_URL, or an instance's `url` in SENDCONTACT_CONFIG: the bare
/// apiUrl of the console; the error completes "GREEN_API_URL…".
pub(crate) fn parse_api_url(value: &str) -> Result<url::Url, String> {
    let shown = value.chars().take(80).collect::<String>();
    let mut url = url::Url::parse(value).map_err(|e| format!("='{shown}' is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(format!("='{shown}' must be an https:// URL such as https://4100.api.green-api.com"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!("='{shown}' must be the bare apiUrl, without query, fragment or credentials"));
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
