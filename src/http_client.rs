//! Outgoing HTTP, for every client (GREEN-API, response_url): the shared
//! builder and its TLS, and one retry policy.
//!
//! When a POST to Slack that failed may be sent again is decided here too,
//! for every poster (response_url now, the Web API's chat.postMessage and
//! friends later): Slack has no idempotency key, so a POST is repeated only
//! when Slack cannot have acted on it, because the connection was never made
//! (nothing was written) or Slack answered 429 (it refused the request as a
//! whole). A timeout after the request was written, a broken connection or a
//! 5xx may each follow a message Slack already shows, and repeating it would
//! show it twice: the failure is logged and the poster stops.
//!
//! reqwest is built with rustls but without a bundled crypto provider, so the
//! process picks one (ring, which builds quickly and needs no C toolchain
//! beyond the usual) before any client is built, and every client starts from
//! [`client_builder`].

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

/// `localhost` or a loopback address: a mock on this machine, never the real
/// service. Only such a host may be spoken to over plain http (or ws), since
/// anywhere else a token or a ticket in the request would travel in the clear.
pub(crate) fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Installs ring as the process's rustls crypto provider. Idempotent: call it
/// before building any reqwest client.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS configuration of every outgoing client: the platform's verifier
/// over the system's root certificates, HTTP/1.1 by ALPN, as reqwest would
/// build it. Loading and parsing the root certificates is the slowest step
/// of start-up, so it is done once and the result shared (a clone shares the
/// verifier). `None` if it cannot be built; the caller then lets reqwest
/// build its own, which reports the problem in its own words.
pub fn client_config() -> Option<rustls::ClientConfig> {
    static CONFIG: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(build_client_config).clone()
}

fn build_client_config() -> Option<rustls::ClientConfig> {
    install_crypto_provider();
    // The installed provider, as reqwest itself would take.
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).ok()?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(config)
}

/// The User-Agent of every outgoing request.
pub const USER_AGENT: &str = concat!("slack-sendcontact/", env!("CARGO_PKG_VERSION"));

/// What every outgoing client starts from: our user agent, no redirects (a
/// redirect would re-send a POST, possibly to another host, with the
/// GREEN-API token in its path), no proxy from the environment unless
/// `use_env_proxy` (USE_ENV_PROXY: an inherited HTTP_PROXY would otherwise
/// see every URL, token included), and the shared TLS configuration.
pub fn client_builder(use_env_proxy: bool) -> reqwest::ClientBuilder {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder().user_agent(USER_AGENT).redirect(reqwest::redirect::Policy::none());
    if !use_env_proxy {
        builder = builder.no_proxy();
    }
    match client_config() {
        Some(tls) => builder.tls_backend_preconfigured(tls),
        None => builder,
    }
}

/// How a client spaces its retries: a pause doubling from `first` up to
/// `max`, or the server's Retry-After when it asks for one, and never less
/// than `first` (a `Retry-After: 0` included), so a server that says "now"
/// is not hammered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The pauses of one request's retries, from the first.
    pub fn backoff(&self) -> Backoff {
        Backoff { policy: *self, next: self.first }
    }
}

/// The retries of one request under a [`RetryPolicy`].
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    next: Duration,
}

impl Backoff {
    /// The pause before the next attempt, given the last answer's
    /// Retry-After.
    pub fn next_wait(&mut self, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or(self.next).max(self.policy.first);
        self.next = (self.next * 2).min(self.policy.max);
        wait
    }
}

/// Whether a retry after `wait` would still start before `deadline`.
/// Compared as durations: `now + wait` would panic on a huge Retry-After,
/// killing the task that owes a user an answer.
pub fn starts_before(wait: Duration, deadline: Instant) -> bool {
    wait < deadline.saturating_duration_since(Instant::now())
}

/// The Retry-After header, as seconds or an HTTP date (a date in the past
/// is no wait).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// How one POST failed.
#[derive(Debug)]
pub enum PostFailure {
    /// The server answered with a status other than 2xx.
    Status { status: StatusCode, retry_after: Option<Duration> },
    /// No answer: the transport failed. `connect` is true when the connection
    /// (TCP, TLS) was never established, so nothing was written.
    Transport { connect: bool, cause: String },
    /// No answer within the time allowed, after the request may have been
    /// written.
    TimedOut { after: Duration },
}

impl PostFailure {
    /// A reqwest error, without its URL (a response_url or a Web API URL
    /// is a capability).
    pub fn transport(e: &reqwest::Error) -> Self {
        PostFailure::Transport { connect: e.is_connect(), cause: describe(e) }
    }

    /// Whether sending the same POST again cannot make Slack act twice.
    pub fn may_resend(&self) -> bool {
        match self {
            PostFailure::Status { status, .. } => *status == StatusCode::TOO_MANY_REQUESTS,
            PostFailure::Transport { connect, .. } => *connect,
            PostFailure::TimedOut { .. } => false,
        }
    }

    /// Whether Slack may have acted on the POST (and shown its message).
    pub fn may_have_posted(&self) -> bool {
        match self {
            PostFailure::Status { status, .. } => status.is_server_error(),
            PostFailure::Transport { connect, .. } => !connect,
            PostFailure::TimedOut { .. } => true,
        }
    }

    /// The wait Slack asked for, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PostFailure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for PostFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostFailure::Status { status, .. } => write!(f, "HTTP {}", status.as_u16()),
            PostFailure::Transport { connect: true, cause } => write!(f, "could not connect ({cause})"),
            PostFailure::Transport { connect: false, cause } => write!(f, "the connection broke ({cause})"),
            PostFailure::TimedOut { after } => write!(f, "no answer within {} s", after.as_secs_f32()),
        }
    }
}

/// A reqwest error as text: its causes ("Connection refused"), never its URL.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(err) = source {
        parts.push(err.to_string());
        source = err.source();
    }
    parts.dedup();
    if parts.is_empty() {
        // Without its causes, reqwest's own message is the kind, then the URL.
        e.to_string().split(" for url").next().unwrap_or_default().to_owned()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn header(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after(&header("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&header("Wed, 21 Oct 2015 07:28:00 GMT")), Some(Duration::ZERO));
        assert_eq!(retry_after(&header("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn the_backoff_doubles_up_to_its_ceiling_and_never_undercuts_the_first_pause() {
        let secs = Duration::from_secs;
        let mut backoff = RetryPolicy::new(secs(1), secs(4)).backoff();
        assert_eq!(backoff.next_wait(None), secs(1));
        assert_eq!(backoff.next_wait(None), secs(2));
        assert_eq!(backoff.next_wait(Some(Duration::ZERO)), secs(1));
        assert_eq!(backoff.next_wait(None), secs(4));
        assert_eq!(backoff.next_wait(Some(secs(10))), secs(10));
        assert!(!starts_before(Duration::MAX, Instant::now() + secs(60)));
        assert!(starts_before(secs(1), Instant::now() + secs(60)));
    }

    #[test]
    fn only_what_slack_cannot_have_acted_on_is_sent_again() {
        let status = |code: u16| PostFailure::Status { status: StatusCode::from_u16(code).unwrap(), retry_after: None };
        let cases = [
            (status(429), true, false),
            (PostFailure::Transport { connect: true, cause: "Connection refused".into() }, true, false),
            (status(500), false, true),
            (status(502), false, true),
            (status(503), false, true),
            (status(504), false, true),
            (PostFailure::TimedOut { after: Duration::from_secs(10) }, false, true),
            (PostFailure::Transport { connect: false, cause: "connection reset".into() }, false, true),
            (status(400), false, false),
            (status(404), false, false),
            (status(410), false, false),
        ];
        for (failure, resend, posted) in cases {
            assert_eq!(failure.may_resend(), resend, "{failure}");
            assert_eq!(failure.may_have_posted(), posted, "{failure}");
        }
    }
}
