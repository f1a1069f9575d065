//! The GREEN-API client (<https://green-api.com/en/telegram/docs/api/sending/SendContact>).
//!
//! GREEN-API puts the instance token in the URL path
//! (`{apiUrl}/waInstance{id}/{method}/{token}`), so URLs are built here and
//! never leave this module: errors carry no URL.

mod error;
mod instance;
mod max;
mod rate_limit;
mod reads;
mod send;
mod settings;
mod wire;

pub use error::{GreenApiError, Malformed};
pub use instance::{InstanceType, state_advice};
pub use max::max_send_contact_body;
use rate_limit::RateLimiter;
pub(crate) use settings::parse_api_url;
pub use settings::{ApiToken, GreenApiSettings, IdInstance, shown_origin};
pub use wire::{IdMessage, send_contact_body};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

use crate::http_client;
use crate::metrics::InstanceMetrics;
use error::describe;

/// GREEN-API's answers are a few dozen bytes; anything past this is not an
/// answer we can use, and reading on would let a broken upstream eat memory.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The client could not be built (a broken TLS setup, say).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the GREEN-API client: {0}")]
pub struct SetupError(String);

/// One pooled HTTP client for one GREEN-API instance.
pub struct GreenApiClient {
    http: reqwest::Client,
    /// `{apiUrl}/waInstance{id}/`: the URL up to the method name.
    instance_url: String,
    /// Built once; holds the token, so it is never logged or put in an error.
    send_contact_url: reqwest::Url,
    token: ApiToken,
    timeout: Duration,
    limiter: RateLimiter,
    metrics: Arc<InstanceMetrics>,
}

impl fmt::Debug for GreenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenApiClient")
            .field("instance", &self.instance_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What one HTTP attempt came back with, body read up to the limit.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    truncated: bool,
}

impl GreenApiClient {
    pub fn new(config: &GreenApiSettings, metrics: Arc<InstanceMetrics>) -> Result<Self, SetupError> {
        let http = http_client::client_builder(config.use_env_proxy)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| SetupError(describe(&e, config.token.expose())))?;
        let base = config.url.as_str().trim_end_matches('/');
        let instance_url = format!("{base}/waInstance{}/", config.id_instance);
        let send_contact_url = reqwest::Url::parse(&format!("{instance_url}sendContact/{}", config.token.expose()))
            .map_err(|_| SetupError("GREEN_API_URL does not form a valid method URL".into()))?;
        Ok(Self {
            http,
            instance_url,
            send_contact_url,
            token: config.token.clone(),
            timeout: config.timeout,
            limiter: RateLimiter::new(config.max_rps, config.timeout),
            metrics,
        })
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, GreenApiError> {
        let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let retry_after = http_client::retry_after(response.headers());
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // An error status says enough without its body; a success
                // whose body broke off leaves the outcome unknown.
                Err(_) if !status.is_success() => break,
                Err(e) => {
                    return Err(GreenApiError::ConnectionLost { cause: describe(&e, self.token.expose()) });
                }
            }
        }
        Ok(Answer { status, retry_after, body, truncated })
    }

    fn transport_error(&self, e: &reqwest::Error) -> GreenApiError {
        let cause = describe(e, self.token.expose());
        if e.is_connect() {
            // The request never left this machine: nothing was sent.
            GreenApiError::Unreachable { cause }
        } else {
            GreenApiError::ConnectionLost { cause }
        }
    }
}
