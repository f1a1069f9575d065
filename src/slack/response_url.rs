//! Delayed replies through the command's `response_url`.
//!
//! Slack accepts up to 5 POSTs within 30 minutes of the command. A POST is
//! tried again, with backoff, only where Slack cannot have posted it (see
//! `crate::http_client`): the connection failed, or Slack answered 429. Only
//! URLs on allowed hosts are followed: a leaked signing secret must not turn
//! this service into a forwarder to arbitrary addresses.

use std::fmt;
use std::ops::Range;
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
///
/// Kept as text, parsed into a `Url` only for the rare late reply: every
/// command is checked, and a full URL parse was 4 % of a send's CPU.
#[derive(Clone)]
pub struct ResponseUrl {
    /// A URL the parser takes as it is: Slack's own text where it is
    /// already in the parser's form, else the parser's serialization.
    url: String,
    /// Where the host is in `url`.
    host: Range<usize>,
}

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
        match plain_allowed_host(raw, allowed_hosts) {
            Some(host) => Ok(Self { url: raw.to_owned(), host }),
            None => Self::parse_in_full(raw, allowed_hosts),
        }
    }

    /// [`Self::parse`] by the URL parser alone.
    fn parse_in_full(raw: &str, allowed_hosts: &[String]) -> Result<Self, ResponseUrlError> {
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
        // The parser's text keeps an IPv6 host's brackets and any case it
        // lowered; where the host lies in it is found, not assumed.
        let text = url.as_str();
        let start = url.host_str().map_or(0, |h| h.as_ptr() as usize - text.as_ptr() as usize);
        let end = start + url.host_str().map_or(0, str::len);
        Ok(Self { url: text.to_owned(), host: start..end })
    }

    pub fn host(&self) -> &str {
        &self.url[self.host.clone()]
    }

    fn to_url(&self) -> Result<reqwest::Url, url::ParseError> {
        reqwest::Url::parse(&self.url)
    }
}

/// The host of `raw` when the URL is, byte for byte, already as the URL
/// parser would write it, and [`ResponseUrl::parse`] would accept it: `https`
/// to a lower-case domain name on the default port, or `http(s)` to a
/// loopback IPv4 address with or without a port, followed by a path. Slack's
/// own URLs (`https://hooks.slack.com/commands/…`) are of the first kind.
/// `None` means "ask the parser", never "refused": anything unusual (upper
/// case, user info, IDNA, numeric hosts in another notation, IPv6, a port on
/// a domain) takes the full parse, so the decision is the parser's in every
/// case (the property test below compares the two).
fn plain_allowed_host(raw: &str, allowed_hosts: &[String]) -> Option<Range<usize>> {
    let (scheme_len, https) = if raw.starts_with("https://") {
        (8, true)
    } else if raw.starts_with("http://") {
        (7, false)
    } else {
        return None;
    };
    let rest = &raw.as_bytes()[scheme_len..];
    let authority_len = rest.iter().position(|&b| b == b'/')?;
    let authority = &raw[scheme_len..scheme_len + authority_len];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_range = scheme_len..scheme_len + host.len();
    if !allowed_hosts.iter().any(|allowed| allowed == host) {
        return None;
    }
    if plain_domain(host) {
        // A domain: only Slack's form, https on the default port.
        return (https && port.is_none()).then_some(host_range);
    }
    let loopback = plain_ipv4(host).is_some_and(|octets| octets[0] == 127);
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && !p.starts_with('0')
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= 65_535)
    });
    (loopback && port_ok).then_some(host_range)
}

/// A lower-case DNS name the parser leaves as it is: labels of `a-z`, `0-9`
/// and `-`, none empty, no IDNA (`xn--`), the last one starting with a
/// letter (so it is not read as a number).
fn plain_domain(host: &str) -> bool {
    !host.is_empty()
        && !host.contains("xn--")
        && host.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && host.rsplit('.').next().is_some_and(|last| last.as_bytes()[0].is_ascii_lowercase())
}

/// Four decimal octets without leading zeros: the only IPv4 text the parser
/// keeps as it is.
fn plain_ipv4(host: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut labels = host.split('.');
    for octet in &mut octets {
        let label = labels.next()?;
        if label.is_empty() || label.len() > 3 || (label.len() > 1 && label.starts_with('0')) {
            return None;
        }
        if !label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = label.parse().ok()?;
    }
    labels.next().is_none().then_some(octets)
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
        let Ok(target) = url.to_url() else {
            // parse() only keeps what the parser takes; this is a bug, not Slack.
            return Err(DeliveryError::GaveUp { posts: 0, last: "the response_url could not be parsed".to_owned() });
        };
        let body = reply.to_json();
        let expires = received_at + LIFETIME;
        let mut backoff = self.retry.backoff();
        let mut last = String::new();
        for post in 1..=MAX_POSTS {
            let request = self
                .http
                .post(target.clone())
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

    /// The shortcut for URLs already in the parser's form decides as the
    /// parser does: same host, same URL once parsed, never a URL the parser
    /// would refuse.
    mod shortcut {
        use super::*;
        use proptest::prelude::*;

        fn allowed() -> Vec<String> {
            [
                "hooks.slack.com",
                "127.0.0.1",
                "localhost",
                "127.0.0.2",
                "a-b.example",
                "1.2.3.com",
                "xn--e1afmkfd.com",
                "Upper.example",
                "127.1",
                "0x7f.0.0.1",
                "xn--zz.com",
            ]
            .map(String::from)
            .into()
        }

        fn url_like() -> impl Strategy<Value = String> {
            let scheme = prop::sample::select(vec!["https://", "http://", "HTTPS://", "ftp://", "https:/", ""]);
            let host = prop_oneof![
                prop::sample::select(allowed()),
                prop::sample::select(vec![
                    "HOOKS.slack.com".to_owned(),
                    "hooks.slack.com.".to_owned(),
                    "127.1".to_owned(),
                    "0x7f.0.0.1".to_owned(),
                    "127.000.0.1".to_owned(),
                    "[::1]".to_owned(),
                    "user@hooks.slack.com".to_owned(),
                    "hooks..slack.com".to_owned(),
                ]),
                "[a-zA-Z0-9.@%\\-]{0,12}",
            ];
            let port = prop::sample::select(vec!["", ":443", ":80", ":8080", ":0", ":080", ":65535", ":65536", ":"]);
            let path = prop::sample::select(vec!["/commands/T1/2/abc", "/", "", "?x", "\\x", "/a b/\u{0416}", "#f"]);
            (scheme, host, port, path).prop_map(|(s, h, p, q)| format!("{s}{h}{p}{q}"))
        }

        proptest! {
            // Pure and quick: enough cases to meet every combination of the
            // pieces above many times.
            #![proptest_config(ProptestConfig::with_cases(4096))]
            #[test]
            fn agrees_with_the_parser(raw in url_like()) {
                let hosts = allowed();
                let quick = ResponseUrl::parse(Some(&raw), &hosts).map(|u| (u.host().to_owned(), u.to_url().unwrap()));
                let full = if raw.is_empty() { Err(ResponseUrlError::Missing) } else { ResponseUrl::parse_in_full(&raw, &hosts) };
                let full = full.map(|u| (u.host().to_owned(), u.to_url().unwrap()));
                prop_assert_eq!(&quick, &full);
                if let Some(range) = plain_allowed_host(&raw, &hosts) {
                    let (host, _) = full.unwrap();
                    prop_assert_eq!(&raw[range], host.as_str());
                }
            }
        }

        #[test]
        fn slack_s_urls_and_the_benchmark_s_take_the_shortcut() {
            for raw in ["https://hooks.slack.com/commands/T1/2/abc", "http://127.0.0.1:18081/commands/T1/2/abc"] {
                assert!(plain_allowed_host(raw, &allowed()).is_some(), "{raw}");
            }
            for raw in [
                "https://HOOKS.slack.com/x",
                "https://hooks.slack.com:443/x",
                "http://hooks.slack.com/x",
                "http://127.1/x",
                "https://xn--e1afmkfd.com/x",
            ] {
                assert!(plain_allowed_host(raw, &allowed()).is_none(), "{raw}");
            }
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
