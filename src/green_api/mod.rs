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
mod transport;
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

use bytes::Bytes;

use crate::metrics::InstanceMetrics;
use transport::{Answer, Endpoint, Transport, Transports};

/// GREEN-API's answers are a few dozen bytes; anything past this is not an
/// answer we can use, and reading on would let a broken upstream eat memory.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// The client could not be built (a broken TLS setup, say).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the GREEN-API client: {0}")]
pub struct SetupError(String);

/// The HTTP client of one GREEN-API instance.
pub struct GreenApiClient {
    http: Transport,
    /// `{apiUrl}/waInstance{id}/`: the URL up to the method name, all of it
    /// that `Debug` shows.
    instance_url: String,
    /// Each method's URL, built once; they hold the token, so they are never
    /// logged or put in an error.
    send_contact: Endpoint,
    get_settings: Endpoint,
    get_state_instance: Endpoint,
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

impl GreenApiClient {
    /// One client per instance, in the order given. Each has its own rate
    /// limiter, timeout and URLs; instances whose connections are made alike
    /// share connection pools (see [`Transports`]).
    pub fn for_instances<'a>(
        instances: impl IntoIterator<Item = (&'a GreenApiSettings, Arc<InstanceMetrics>)>,
    ) -> Result<Vec<Arc<Self>>, SetupError> {
        let mut transports = Transports::default();
        instances
            .into_iter()
            .map(|(config, metrics)| Self::new(config, metrics, transports.for_instance(config)?).map(Arc::new))
            .collect()
    }

    fn new(config: &GreenApiSettings, metrics: Arc<InstanceMetrics>, http: Transport) -> Result<Self, SetupError> {
        let base = config.url.as_str().trim_end_matches('/');
        let instance_url = format!("{base}/waInstance{}/", config.id_instance);
        let endpoint = |method: &str| {
            Endpoint::parse(format!("{instance_url}{method}/{}", config.token.expose()))
                .ok_or_else(|| SetupError("GREEN_API_URL does not form a valid method URL".into()))
        };
        Ok(Self {
            send_contact: endpoint("sendContact")?,
            get_settings: endpoint("getSettings")?,
            get_state_instance: endpoint("getStateInstance")?,
            http,
            instance_url,
            token: config.token.clone(),
            timeout: config.timeout,
            limiter: RateLimiter::new(config.max_rps, config.timeout),
            metrics,
        })
    }

    /// One request to `endpoint`: a POST of `body` as JSON, or a GET.
    async fn exchange(&self, endpoint: &Endpoint, body: Option<&Bytes>) -> Result<Answer, GreenApiError> {
        self.http.exchange(endpoint, body, self.token.expose()).await
    }
}
