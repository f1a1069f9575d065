//! Slack's Web API (<https://docs.slack.dev/apis/web-api>), the few methods
//! this app calls with its bot token: views.open, chat.postMessage,
//! chat.postEphemeral, conversations.open and users.info.
//!
//! Slack answers HTTP 200 with `{"ok": false, "error": "..."}` for a refused
//! call, and 429 with Retry-After when a method's rate limit is hit (the
//! call was not carried out, so it is always safe to repeat). A call that
//! may have been carried out (no answer in time, a broken connection, a
//! 5xx) is repeated only for methods that change nothing or change it
//! idempotently: a second chat.postMessage would post the card twice.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::http_client::{PostFailure, RetryPolicy, retry_after, starts_before};

/// A bot token (`xoxb-…`). Secret: `Debug` shows nothing of it, and it only
/// ever leaves this module in an Authorization header.
#[derive(Clone)]
pub struct BotToken(SecretString);

impl BotToken {
    /// The token becomes a header value, so it must be printable ASCII
    /// without spaces; the error completes "SLACK_BOT_TOKEN ...".
    pub fn parse(token: SecretString) -> Result<Self, &'static str> {
        let value = token.expose_secret();
        if value.is_empty() {
            return Err("is empty");
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces: copy the Bot User OAuth Token (xoxb-…)");
        }
        Ok(Self(token))
    }

    /// Whether it looks like a bot token rather than a user or app token.
    pub fn looks_like_bot_token(&self) -> bool {
        self.0.expose_secret().starts_with("xoxb-")
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BotToken([REDACTED])")
    }
}

/// Why a Web API call did not succeed. `Display` is for logs: no token, no
/// message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebApiError {
    /// `ok: false`: Slack refused the call (`not_in_channel`,
    /// `channel_not_found`, `expired_trigger_id`, ...).
    #[error("Slack refused {method}: {code}")]
    Refused { method: &'static str, code: String },
    #[error("Slack rate-limited {method} beyond the time this call had")]
    RateLimited { method: &'static str },
    #[error("{method} did not answer in time")]
    Timeout { method: &'static str },
    #[error("could not connect to Slack for {method}: {cause}")]
    Unreachable { method: &'static str, cause: String },
    #[error("the connection to Slack broke during {method}: {cause}")]
    ConnectionLost { method: &'static str, cause: String },
    #[error("{method} answered HTTP {status}")]
    Status { method: &'static str, status: u16 },
    #[error("{method} answered with something other than Slack's JSON")]
    Malformed { method: &'static str },
}

impl WebApiError {
    /// Slack's error code when it refused the call.
    pub fn code(&self) -> Option<&str> {
        match self {
            WebApiError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the bot is not allowed to post where it was asked to, so the
    /// user's direct messages are the place to try instead.
    pub fn may_not_post_there(&self) -> bool {
        matches!(
            self.code(),
            Some("not_in_channel" | "channel_not_found" | "is_archived" | "restricted_action" | "user_not_in_channel")
        )
    }

    /// The failure as the shared rule for POSTs to Slack sees it; `None`
    /// when Slack answered (a refusal, an unreadable body).
    fn as_post_failure(&self) -> Option<PostFailure> {
        let status = |code: u16| StatusCode::from_u16(code).ok();
        match self {
            WebApiError::RateLimited { .. } => {
                Some(PostFailure::Status { status: StatusCode::TOO_MANY_REQUESTS, retry_after: None })
            }
            WebApiError::Status { status: code, .. } => {
                status(*code).map(|status| PostFailure::Status { status, retry_after: None })
            }
            WebApiError::Unreachable { cause, .. } => {
                Some(PostFailure::Transport { connect: true, cause: cause.clone() })
            }
            WebApiError::ConnectionLost { cause, .. } => {
                Some(PostFailure::Transport { connect: false, cause: cause.clone() })
            }
            WebApiError::Timeout { .. } => Some(PostFailure::TimedOut { after: ATTEMPT_TIMEOUT }),
            WebApiError::Refused { .. } | WebApiError::Malformed { .. } => None,
        }
    }

    /// Whether Slack may have carried the call out despite the error.
    pub fn may_have_happened(&self) -> bool {
        match self {
            WebApiError::Timeout { .. } | WebApiError::ConnectionLost { .. } | WebApiError::Malformed { .. } => true,
            WebApiError::Status { status, .. } => *status >= 500,
            WebApiError::Refused { .. } | WebApiError::RateLimited { .. } | WebApiError::Unreachable { .. } => false,
        }
    }
}

/// Whether repeating a call that may have been carried out is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Safe,
    /// Posting twice would show the user two messages.
    Once,
}

/// One attempt takes at most this long; a whole call is bounded by the
/// deadline its caller gives.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Slack's answers are small; a larger body is not an answer we use.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A client of Slack's Web API. Cheap to clone (the HTTP pool is shared).
#[derive(Debug, Clone)]
pub struct WebApi {
    http: reqwest::Client,
    /// Ends with `/`: method names are appended.
    base: reqwest::Url,
    token: BotToken,
    retry: RetryPolicy,
}

impl WebApi {
    /// `base` is SLACK_API_URL (`https://slack.com/api/`).
    /// `http` comes from [`crate::http_client::client_builder`].
    pub fn new(http: reqwest::Client, base: reqwest::Url, token: BotToken, retry: RetryPolicy) -> Self {
        let mut base = base;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Self { http, base, token, retry }
    }

    /// Opens the form for the command whose `trigger_id` Slack sent. The
    /// trigger expires after 3 s and works once, so nothing is repeated past
    /// `deadline`.
    pub async fn views_open(&self, trigger_id: &str, view: &Value, deadline: Instant) -> Result<(), WebApiError> {
        let body = json!({"trigger_id": trigger_id, "view": view});
        self.post("views.open", &body, Repeat::Once, deadline).await.map(drop)
    }

    /// Posts a message; `message` holds `text` and `blocks`.
    pub async fn post_message(&self, channel: &str, message: &Value, deadline: Instant) -> Result<(), WebApiError> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        self.post("chat.postMessage", &body, Repeat::Once, deadline).await.map(drop)
    }

    /// Posts a message only `user` sees, in `channel`.
    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        message: &Value,
        deadline: Instant,
    ) -> Result<(), WebApiError> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        body["user"] = json!(user);
        self.post("chat.postEphemeral", &body, Repeat::Once, deadline).await.map(drop)
    }

    /// The id of the bot's direct-message channel with `user` (opened if
    /// need be; opening it again returns the same one).
    pub async fn open_direct_message(&self, user: &str, deadline: Instant) -> Result<String, WebApiError> {
        let answer = self.post("conversations.open", &json!({"users": user}), Repeat::Safe, deadline).await?;
        answer["channel"]["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or(WebApiError::Malformed { method: "conversations.open" })
    }

    /// The user's Slack locale (`ru-RU`), if Slack tells it.
    pub async fn user_locale(&self, user: &str, deadline: Instant) -> Result<Option<String>, WebApiError> {
        const METHOD: &str = "users.info";
        let mut url = self.url(METHOD);
        url.query_pairs_mut().append_pair("user", user).append_pair("include_locale", "true");
        let answer = self.call(METHOD, || self.http.get(url.clone()), Repeat::Safe, deadline).await?;
        Ok(answer["user"]["locale"].as_str().map(str::to_owned))
    }

    fn url(&self, method: &str) -> reqwest::Url {
        // A method name is a fixed word of ours; joining cannot fail.
        self.base.join(method).unwrap_or_else(|_| self.base.clone())
    }

    async fn post(
        &self,
        method: &'static str,
        body: &Value,
        repeat: Repeat,
        deadline: Instant,
    ) -> Result<Value, WebApiError> {
        let url = self.url(method);
        let body = serde_json::to_vec(body).unwrap_or_default();
        let build = || {
            self.http
                .post(url.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"))
                .body(body.clone())
        };
        self.call(method, build, repeat, deadline).await
    }

    /// Sends the request, repeating it where Slack allows, until `deadline`.
    async fn call(
        &self,
        method: &'static str,
        build: impl Fn() -> reqwest::RequestBuilder,
        repeat: Repeat,
        deadline: Instant,
    ) -> Result<Value, WebApiError> {
        let mut backoff = self.retry.backoff();
        let mut attempt = 1u32;
        loop {
            let request = build().header(AUTHORIZATION, self.authorization());
            let attempt_deadline = deadline.min(Instant::now() + ATTEMPT_TIMEOUT);
            let (error, retry_after) = match timeout_at(attempt_deadline, self.exchange(method, request)).await {
                Err(_) => (WebApiError::Timeout { method }, None),
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err((error, retry_after))) => (error, retry_after),
            };
            let repeatable = match repeat {
                Repeat::Safe => {
                    matches!(error, WebApiError::RateLimited { .. } | WebApiError::Unreachable { .. })
                        || error.may_have_happened()
                }
                // The rule every POST to Slack follows (http_client).
                Repeat::Once => error.as_post_failure().is_some_and(|failure| failure.may_resend()),
            };
            let wait = backoff.next_wait(retry_after);
            if !repeatable || !starts_before(wait, deadline) {
                return Err(match error {
                    WebApiError::RateLimited { .. } => WebApiError::RateLimited { method },
                    other => other,
                });
            }
            tracing::warn!(method, attempt, wait_ms = wait.as_millis() as u64, error = %error, "Slack Web API call failed; repeating it");
            sleep_until(Instant::now() + wait).await;
            attempt += 1;
        }
    }

    fn authorization(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.token.0.expose_secret()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
        value.set_sensitive(true);
        value
    }

    async fn exchange(
        &self,
        method: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, (WebApiError, Option<Duration>)> {
        let mut response = request.send().await.map_err(|e| {
            let e = e.without_url();
            let cause = describe(&e);
            let error = if e.is_connect() {
                WebApiError::Unreachable { method, cause }
            } else if e.is_timeout() {
                WebApiError::Timeout { method }
            } else {
                WebApiError::ConnectionLost { method, cause }
            };
            (error, None)
        })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = retry_after(response.headers());
            return Err((WebApiError::RateLimited { method }, retry_after));
        }
        if !status.is_success() {
            return Err((WebApiError::Status { method, status: status.as_u16() }, None));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_ANSWER_BYTES => body.extend_from_slice(&chunk),
                Ok(Some(_)) => return Err((WebApiError::Malformed { method }, None)),
                Ok(None) => break,
                Err(e) => {
                    return Err((WebApiError::ConnectionLost { method, cause: describe(&e.without_url()) }, None));
                }
            }
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|_| (WebApiError::Malformed { method }, None))?;
        match answer["ok"].as_bool() {
            Some(true) => Ok(answer),
            Some(false) => {
                let code: String = answer["error"].as_str().unwrap_or("unknown_error").chars().take(80).collect();
                if code == "ratelimited" {
                    return Err((WebApiError::RateLimited { method }, None));
                }
                Err((WebApiError::Refused { method, code }, None))
            }
            None => Err((WebApiError::Malformed { method }, None)),
        }
    }
}

/// A transport error with the causes that say what went wrong. Callers strip
/// the URL first (`without_url`): SLACK_API_URL is shown only as its origin.
/// The token is in a header, never in the URL or the error.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_partial_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "xoxb-test-token";

    fn api(server: &MockServer) -> WebApi {
        let base = reqwest::Url::parse(&format!("{}/api/", server.uri())).unwrap();
        let token = BotToken::parse(SecretString::from(TOKEN)).unwrap();
        let retry = RetryPolicy::new(Duration::from_millis(10), Duration::from_millis(100));
        WebApi::new(crate::http_client::client_builder(false).build().unwrap(), base, token, retry)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(20)
    }

    #[tokio::test]
    async fn a_call_carries_the_bearer_token_and_json() {
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat.postMessage"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(body_partial_json(json!({"channel": "C1", "text": "hi"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .expect(1)
            .mount(&slack)
            .await;
        api(&slack).post_message("C1", &json!({"text": "hi"}), soon()).await.unwrap();
    }

    #[tokio::test]
    async fn ok_false_is_a_refusal_with_slacks_code() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "not_in_channel"})))
            .expect(1)
            .mount(&slack)
            .await;
        let error = api(&slack).post_message("C1", &json!({"text": "hi"}), soon()).await.unwrap_err();
        assert_eq!(error.code(), Some("not_in_channel"));
        assert!(error.may_not_post_there());
        assert!(!error.to_string().contains(TOKEN));
    }

    #[tokio::test]
    async fn a_429_is_repeated_after_retry_after() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&slack)
            .await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .expect(1)
            .mount(&slack)
            .await;
        api(&slack).post_message("C1", &json!({"text": "hi"}), soon()).await.unwrap();
    }

    #[tokio::test]
    async fn a_post_that_may_have_happened_is_not_repeated_but_a_read_is() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/chat.postMessage"))
            .respond_with(ResponseTemplate::new(503))
            .expect(1)
            .mount(&slack)
            .await;
        let error = api(&slack).post_message("C1", &json!({"text": "hi"}), soon()).await.unwrap_err();
        assert_eq!(error, WebApiError::Status { method: "chat.postMessage", status: 503 });

        Mock::given(method("GET"))
            .and(path("/api/users.info"))
            .and(query_param("user", "U1"))
            .and(query_param("include_locale", "true"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .expect(1)
            .mount(&slack)
            .await;
        Mock::given(path("/api/users.info"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": {"id": "U1", "locale": "ru-RU"}})),
            )
            .expect(1)
            .mount(&slack)
            .await;
        assert_eq!(api(&slack).user_locale("U1", soon()).await, Ok(Some("ru-RU".into())));
    }

    #[tokio::test]
    async fn a_slow_answer_ends_at_the_deadline() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/views.open"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
            .expect(1)
            .mount(&slack)
            .await;
        let deadline = Instant::now() + Duration::from_millis(200);
        let error = api(&slack).views_open("trigger", &json!({}), deadline).await.unwrap_err();
        assert_eq!(error, WebApiError::Timeout { method: "views.open" });
    }

    #[tokio::test]
    async fn a_direct_message_channel_is_opened() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/conversations.open"))
            .and(body_partial_json(json!({"users": "U1"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "channel": {"id": "D1"}})))
            .expect(1)
            .mount(&slack)
            .await;
        assert_eq!(api(&slack).open_direct_message("U1", soon()).await, Ok("D1".into()));
    }

    #[test]
    fn the_token_is_never_shown() {
        let token = BotToken::parse(SecretString::from(TOKEN)).unwrap();
        assert_eq!(format!("{token:?}"), "BotToken([REDACTED])");
        assert!(token.looks_like_bot_token());
        assert!(BotToken::parse(SecretString::from("xoxb bad")).is_err());
        assert!(BotToken::parse(SecretString::from("")).is_err());
    }
}
