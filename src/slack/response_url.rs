//! Delayed replies through the command's `response_url`.
//!
//! Slack accepts up to 5 POSTs within 30 minutes of the command. A POST is
//! tried again, with backoff, only where Slack cannot have posted it (see
//! `crate::http_client`): the connection failed, or Slack answered 429. Only
//! URLs on allowed hosts are followed: a leaked signing secret must not turn
//! this service into a forwarder to arbitrary addresses.

use std::fmt;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use tokio::time::{Instant, sleep_until, timeout};

use super::reply::Reply;
use crate::http_client::{self, PostFailure, RetryPolicy, is_loopback_host};

/// Slack's limits on one response_url.
pub const MAX_POSTS: u32 = 5;
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A response_url on an allowed host. It is a bearer capability for the
/// channel, so `Debug` and `Display` show only its host.
#[derive(Clone)]
pub struct ResponseUrl(reqwest::Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseUrlError {
    #[error("the request has no response_url")]
    Missing,
    #[error("the response_url is not an http(s) URL")]
    Malformed,
    #[error("the response_url points at {host}, which is not in SLACK_RESPONSE_URL_HOSTS")]
    HostNotAllowed { host: String },
    #[error(
        "the response_url on {host} is not https on port 443 (only a loopback host, as tests use, may take http or \
         another port)"
    )]
    NotHttps { host: String },
}

impl ResponseUrl {
    pub fn parse(raw: Option<&str>, allowed_hosts: &[String]) -> Result<Self, ResponseUrlError> {
        let raw = raw.filter(|r| !r.is_empty()).ok_or(ResponseUrlError::Missing)?;
        let url = reqwest::Url::parse(raw).map_err(|_| ResponseUrlError::Malformed)?;
        if !matches!(url.scheme(), "https" | "http") || !url.username().is_empty() || url.password().is_some() {
            return Err(ResponseUrlError::Malformed);
        }
        let host = url.host_str().ok_or(ResponseUrlError::Malformed)?.to_ascii_lowercase();
        if !allowed_hosts.contains(&host) {
            return Err(ResponseUrlError::HostNotAllowed { host: host.chars().take(100).collect() });
        }
        // Slack's hooks are https on 443. Anything else would carry the
        // reply, and the capability in the path, in the clear or to another
        // service on the same host; a mock on this machine is the exception.
        let https_443 = url.scheme() == "https" && url.port_or_known_default() == Some(443);
        if !https_443 && !is_loopback_host(&url) {
            return Err(ResponseUrlError::NotHttps { host: host.chars().take(100).collect() });
        }
        Ok(Self(url))
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }
}

impl fmt::Debug for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseUrl({}/***)", self.host())
    }
}

/// Why a delayed reply never reached Slack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("Slack refused the reply with HTTP {status}")]
    Refused { status: u16 },
    #[error("gave up after {posts} posts; last failure: {last}")]
    GaveUp { posts: u32, last: String },
    #[error(
        "Slack may or may not have shown the reply ({failure}); not posted again, since a second POST could show it \
         twice"
    )]
    MayHavePosted { failure: String },
}

/// Posts delayed replies. One pooled client for the whole process.
#[derive(Debug, Clone)]
pub struct ResponseUrlPoster {
    http: reqwest::Client,
    retry: RetryPolicy,
    post_timeout: Duration,
}

impl ResponseUrlPoster {
    /// `post_timeout` bounds one POST; one that takes longer is not repeated,
    /// since Slack may have posted it.
    pub fn new(retry: RetryPolicy, post_timeout: Duration, use_env_proxy: bool) -> Result<Self, reqwest::Error> {
        let http = http_client::client_builder(use_env_proxy).connect_timeout(Duration::from_secs(5)).build()?;
        Ok(Self { http, retry, post_timeout })
    }

    /// POSTs `reply` to `url`, retrying connection failures and 429 with
    /// backoff (Retry-After honoured) within Slack's limits, counted from
    /// `received_at`; a 5xx, a timeout or a broken connection is not retried.
    /// Returns how many POSTs it took. `on_retry` runs before each POST after
    /// the first, so operators see retries as they happen.
    pub async fn deliver(
        &self,
        url: &ResponseUrl,
        reply: &Reply,
        received_at: Instant,
        on_retry: impl Fn(),
    ) -> Result<u32, DeliveryError> {
        let body = reply.to_json();
        let expires = received_at + LIFETIME;
        let mut backoff = self.retry.backoff();
        let mut last = String::new();
        for post in 1..=MAX_POSTS {
            let request = self
                .http
                .post(url.0.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone())
                .send();
            let failure = match timeout(self.post_timeout, request).await {
                Ok(Ok(response)) if response.status().is_success() => return Ok(post),
                Ok(Ok(response)) => PostFailure::Status {
                    status: response.status(),
                    retry_after: http_client::retry_after(response.headers()),
                },
                Ok(Err(e)) => PostFailure::transport(&e),
                Err(_) => PostFailure::TimedOut { after: self.post_timeout },
            };
            last = failure.to_string();
            if !failure.may_resend() {
                return Err(match failure {
                    PostFailure::Status { status, .. } if !failure.may_have_posted() => {
                        DeliveryError::Refused { status: status.as_u16() }
                    }
                    _ => DeliveryError::MayHavePosted { failure: last },
                });
            }
            let retry_after = failure.retry_after();
            if post == MAX_POSTS {
                break;
            }
            let wait = backoff.next_wait(retry_after);
            if !http_client::starts_before(wait, expires) {
                return Err(DeliveryError::GaveUp { posts: post, last });
            }
            tracing::warn!(host = url.host(), post, wait_ms = wait.as_millis() as u64, failure = %last, "response_url POST failed; retrying");
            on_retry();
            sleep_until(Instant::now() + wait).await;
        }
        Err(DeliveryError::GaveUp { posts: MAX_POSTS, last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["hooks.slack.com".into(), "127.0.0.1".into()]
    }

    #[test]
    fn only_https_on_port_443_except_on_loopback() {
        let hosts: Vec<String> =
            ["hooks.slack.com", "127.0.0.1", "localhost", "[::1]", "127.0.0.2"].map(String::from).into();
        for ok in [
            "https://hooks.slack.com/commands/T1/2/abc",
            "https://hooks.slack.com:443/commands/T1/2/abc",
            "http://127.0.0.1:8080/commands/1",
            "https://127.0.0.1:8443/commands/1",
            "http://localhost:9/x",
            "http://[::1]:9/x",
            "http://127.0.0.2/x",
        ] {
            assert!(ResponseUrl::parse(Some(ok), &hosts).is_ok(), "{ok}");
        }
        let not_https = |host: &str| ResponseUrlError::NotHttps { host: host.into() };
        for (bad, expected) in [
            ("http://hooks.slack.com/commands/T1/2/abc", not_https("hooks.slack.com")),
            ("http://hooks.slack.com:443/commands/T1/2/abc", not_https("hooks.slack.com")),
            ("https://hooks.slack.com:8443/commands/T1/2/abc", not_https("hooks.slack.com")),
            ("https://hooks.slack.com:80/commands/T1/2/abc", not_https("hooks.slack.com")),
        ] {
            let err = ResponseUrl::parse(Some(bad), &hosts).unwrap_err();
            assert_eq!(err, expected, "{bad}");
            assert!(err.to_string().contains("not https on port 443"), "{err}");
        }
    }

    #[test]
    fn only_allowed_hosts_are_followed() {
        let ok = ResponseUrl::parse(Some("https://hooks.slack.com/commands/T1/2/abc"), &hosts()).unwrap();
        assert_eq!(format!("{ok:?}"), "ResponseUrl(hooks.slack.com/***)");
        assert!(ResponseUrl::parse(Some("https://HOOKS.slack.com/x"), &hosts()).is_ok());
        assert!(ResponseUrl::parse(Some("http://127.0.0.1:9/x"), &hosts()).is_ok());
        use ResponseUrlError::*;
        let cases = [
            (None, Missing),
            (Some(""), Missing),
            (Some("not a url"), Malformed),
            (Some("ftp://hooks.slack.com/x"), Malformed),
            (Some("https://user@hooks.slack.com/x"), Malformed),
            (Some("https://hooks.slack.com.evil.com/x"), HostNotAllowed { host: "hooks.slack.com.evil.com".into() }),
            (Some("https://169.254.169.254/latest"), HostNotAllowed { host: "169.254.169.254".into() }),
        ];
        for (raw, expected) in cases {
            assert_eq!(ResponseUrl::parse(raw, &hosts()).unwrap_err(), expected, "{raw:?}");
        }
    }

    #[tokio::test]
    async fn an_absurd_retry_after_gives_up_instead_of_overflowing_the_clock() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "18446744073709551615"))
            .expect(1)
            .mount(&slack)
            .await;
        let url = ResponseUrl::parse(Some(&format!("{}/commands/1", slack.uri())), &hosts()).unwrap();
        let poster = ResponseUrlPoster::new(
            RetryPolicy::new(Duration::from_millis(10), Duration::from_secs(1)),
            Duration::from_secs(10),
            false,
        )
        .unwrap();
        let result = poster.deliver(&url, &Reply::ephemeral("done"), Instant::now(), || {}).await;
        assert_eq!(result, Err(DeliveryError::GaveUp { posts: 1, last: "HTTP 429".into() }));
    }

    #[tokio::test]
    async fn a_connection_that_cannot_be_made_is_tried_again_up_to_slack_s_limit() {
        // Nothing listens on a port just released: every POST fails to connect.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = ResponseUrl::parse(Some(&format!("http://127.0.0.1:{port}/commands/1")), &hosts()).unwrap();
        let poster = ResponseUrlPoster::new(
            RetryPolicy::new(Duration::from_millis(1), Duration::from_secs(1)),
            Duration::from_secs(10),
            false,
        )
        .unwrap();
        let result = poster.deliver(&url, &Reply::ephemeral("done"), Instant::now(), || {}).await;
        match result {
            Err(DeliveryError::GaveUp { posts, last }) => {
                assert_eq!(posts, MAX_POSTS);
                assert!(last.starts_with("could not connect"), "{last}");
                assert!(!last.contains("/commands/1"), "the URL is a capability: {last}");
            }
            other => panic!("{other:?}"),
        }
    }
}
