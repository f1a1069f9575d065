//! The GREEN-API client (<https://green-api.com/en/telegram/docs/api/sending/SendContact>).
//!
//! GREEN-API puts the instance token in the URL path
//! (`{apiUrl}/waInstance{id}/{method}/{token}`), so URLs are built here and
//! never leave this module: errors carry no URL, and what is logged is the
//! redacted form `/waInstance{id}/{method}/***`.

mod client;
mod error;
mod rate_limit;

pub use client::{GreenApiClient, IdMessage, InstanceType, SetupError, send_contact_body};
pub use error::GreenApiError;
pub use rate_limit::{QueueTooLong, RateLimiter};

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

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

    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken([REDACTED])")
    }
}
