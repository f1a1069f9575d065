//! `apps.connections.open` (<https://docs.slack.dev/reference/methods/apps.connections.open>):
//! the app-level token buys a one-time WebSocket URL.
//!
//! Failures come in two kinds: Slack refusing the token, which no retry
//! fixes and an admin must, and everything else (network, 5xx, rate
//! limits), which the caller retries with backoff.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// One call that takes longer than this has failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `xapp-…`: the app-level token with `connections:write`. A secret: `Debug`
/// hides it, and no error carries it.
#[derive(Clone)]
pub struct AppToken(SecretString);

impl AppToken {
    /// Checks the shape only (Slack alone can tell whether it is valid); the
    /// reason never quotes the value.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        if !value.starts_with("xapp-") {
            return Err("must be the app-level token, which starts with xapp- (Basic Information → App-Level \
                        Tokens in the Slack app's settings); bot (xoxb-) and user (xoxp-) tokens do not open \
                        Socket Mode connections");
        }
        if value.len() > 1024 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be the token exactly as Slack shows it, without spaces or other characters");
        }
        Ok(Self(SecretString::from(value)))
    }

    fn bearer(&self) -> HeaderValue {
        let mut value = HeaderValue::try_from(format!("Bearer {}", self.0.expose_secret()))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppToken(xapp-***)")
    }
}

/// Slack refused the app-level token: only an admin can fix this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Slack refused SLACK_APP_TOKEN ({code}): {advice}")]
pub struct TokenRefused {
    /// Slack's error code, e.g. `invalid_auth`.
    pub code: String,
    pub advice: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Refused(#[from] TokenRefused),
    /// Worth another try later, after `retry_after` if Slack named one.
    #[error("could not open a Socket Mode connection: {reason}")]
    Transient { reason: String, retry_after: Option<Duration> },
}

/// Calls `apps.connections.open`. One pooled client for the process.
#[derive(Debug, Clone)]
pub struct ConnectionOpener {
    http: reqwest::Client,
    endpoint: Url,
    token: AppToken,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    ok: bool,
    url: Option<String>,
    error: Option<String>,
}

impl ConnectionOpener {
    /// `api_url` is SLACK_API_URL, ending in `/`.
    pub fn new(api_url: &Url, token: AppToken) -> Result<Self, reqwest::Error> {
        // No environment proxy (USE_ENV_PROXY): the WebSocket it opens the way
        // for connects directly, so a proxy here would only split the two.
        let http = crate::http_client::client_builder(false).connect_timeout(Duration::from_secs(5)).build()?;
        let endpoint = api_url.join("apps.connections.open").unwrap_or_else(|_| api_url.clone());
        Ok(Self { http, endpoint, token })
    }

    /// A fresh WebSocket URL. It holds a one-time ticket: log its host only.
    pub async fn open(&self) -> Result<Url, OpenError> {
        let request = self
            .http
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, self.token.bearer())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"))
            .send();
        let response = match tokio::time::timeout(CALL_TIMEOUT, request).await {
            Err(_) => return Err(transient(format!("no answer within {} s", CALL_TIMEOUT.as_secs()))),
            Ok(Err(e)) => return Err(transient(e.without_url().to_string())),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        // Capped: a broken header must not park Socket Mode for days.
        let retry_after = crate::http_client::retry_after(response.headers()).map(|wait| wait.min(MAX_RETRY_AFTER));
        match status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(OpenError::Transient { reason: "rate limited (HTTP 429)".into(), retry_after });
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(refused(&format!("http_{}", status.as_u16())).into());
            }
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED | StatusCode::GONE => {
                return Err(TokenRefused {
                    code: format!("http_{}", status.as_u16()),
                    advice: "SLACK_API_URL does not point at Slack's Web API; leave it unset for \
                             https://slack.com/api/",
                }
                .into());
            }
            status => return Err(OpenError::Transient { reason: format!("HTTP {}", status.as_u16()), retry_after }),
        }
        let body = match tokio::time::timeout(CALL_TIMEOUT, response.bytes()).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(transient(e.without_url().to_string())),
            Err(_) => return Err(transient(format!("the answer did not arrive within {} s", CALL_TIMEOUT.as_secs()))),
        };
        let answer: Answer =
            serde_json::from_slice(&body).map_err(|_| transient("the answer is not Slack's JSON".into()))?;
        if !answer.ok {
            let code = error_code(answer.error.as_deref());
            return Err(match code.as_str() {
                "ratelimited" => OpenError::Transient { reason: "rate limited".into(), retry_after },
                _ if is_refusal(&code) => refused(&code).into(),
                _ => transient(format!("Slack answered {code}")),
            });
        }
        let url = answer.url.as_deref().unwrap_or_default();
        socket_url(url).ok_or_else(|| transient("Slack's answer has no usable wss:// URL".into()))
    }
}

fn transient(reason: String) -> OpenError {
    OpenError::Transient { reason, retry_after: None }
}

/// Slack's error code as a short word, whatever came over the wire.
fn error_code(error: Option<&str>) -> String {
    let code: String =
        error.unwrap_or("unknown_error").chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
    if code.is_empty() { "unknown_error".into() } else { code }
}

/// The errors that mean this token will never open a connection as it is
/// (Slack's SDKs stop retrying on the same ones).
fn is_refusal(code: &str) -> bool {
    matches!(
        code,
        "not_authed"
            | "invalid_auth"
            | "account_inactive"
            | "token_revoked"
            | "token_expired"
            | "not_allowed_token_type"
            | "missing_scope"
            | "no_permission"
            | "team_disabled"
            | "user_removed_from_team"
            | "ekm_access_denied"
    )
}

fn refused(code: &str) -> TokenRefused {
    let advice = match code {
        "not_allowed_token_type" => {
            "SLACK_APP_TOKEN must be an app-level token (xapp-…), not a bot or user token. In the Slack app's \
             settings, Basic Information → App-Level Tokens, generate one with the connections:write scope"
        }
        "missing_scope" | "no_permission" => {
            "the app-level token lacks the connections:write scope. In the Slack app's settings, Basic \
             Information → App-Level Tokens, generate a token with connections:write and set SLACK_APP_TOKEN to it"
        }
        "team_disabled" | "user_removed_from_team" | "account_inactive" => {
            "the workspace or the app's installation is no longer active. Reinstall the app, then generate a new \
             app-level token (Basic Information → App-Level Tokens, scope connections:write)"
        }
        _ => {
            "the token is wrong, revoked or expired. In the Slack app's settings, Basic Information → App-Level \
             Tokens, generate a token with the connections:write scope and set SLACK_APP_TOKEN to it"
        }
    };
    TokenRefused { code: code.to_owned(), advice }
}

/// The URL to connect to: `wss://`, or `ws://` on a loopback address (a
/// test server; anywhere else it would carry the ticket in the clear).
fn socket_url(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    let loopback = crate::http_client::is_loopback_host(&url);
    match url.scheme() {
        "wss" => Some(url),
        "ws" if loopback => Some(url),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    const TOKEN: &str = "xapp-1-A111-222-deadbeefdeadbeef";

    #[test]
    fn only_an_app_level_token_is_taken_and_never_shown() {
        let token = AppToken::parse(TOKEN).unwrap();
        assert_eq!(format!("{token:?}"), "AppToken(xapp-***)");
        assert!(AppToken::parse(&format!("  {TOKEN}\n")).is_ok(), "surrounding whitespace is a copy-paste slip");
        for bad in ["", "xoxb-1-2-3", "xoxp-1", "XAPP-1", "xapp-1 2", "xapp-1\u{7f}", "xapp-\u{436}"] {
            assert!(AppToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_refused_value_is_never_quoted(value in ".{0,60}") {
            if let Err(why) = AppToken::parse(&value) {
                let value = value.trim();
                proptest::prop_assert!(value.len() < 6 || !why.contains(value), "{why}");
            }
        }
    }

    #[test]
    fn socket_urls_must_be_encrypted_unless_on_this_machine() {
        for ok in [
            "wss://wss-primary.slack.com/link/?ticket=1",
            "ws://127.0.0.1:9/link",
            "ws://[::1]:9/",
            "ws://localhost:1/",
        ] {
            assert!(socket_url(ok).is_some(), "{ok}");
        }
        for bad in ["ws://wss-primary.slack.com/link", "https://slack.com/", "ws://10.0.0.1/", "", "wss://"] {
            assert!(socket_url(bad).is_none(), "{bad}");
        }
    }

    async fn opener_answering(template: ResponseTemplate) -> (MockServer, ConnectionOpener) {
        let slack = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/apps.connections.open"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(template)
            .expect(1)
            .mount(&slack)
            .await;
        let api = Url::parse(&format!("{}/api/", slack.uri())).unwrap();
        (slack, ConnectionOpener::new(&api, AppToken::parse(TOKEN).unwrap()).unwrap())
    }

    #[tokio::test]
    async fn a_good_token_gets_the_socket_url() {
        let (_slack, opener) = opener_answering(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true, "url": "wss://wss.slack.com/link/?ticket=1"})),
        )
        .await;
        assert_eq!(opener.open().await.unwrap().as_str(), "wss://wss.slack.com/link/?ticket=1");
    }

    #[tokio::test]
    async fn slacks_refusals_say_what_the_admin_must_do_and_never_show_the_token() {
        for (code, advice) in [
            ("invalid_auth", "generate a token with the connections:write scope"),
            ("not_authed", "generate a token"),
            ("not_allowed_token_type", "not a bot or user token"),
            ("missing_scope", "lacks the connections:write scope"),
            ("token_revoked", "revoked"),
        ] {
            let (_slack, opener) = opener_answering(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": false, "error": code})),
            )
            .await;
            let error = opener.open().await.unwrap_err();
            let OpenError::Refused(refused) = &error else { panic!("{code}: {error:?}") };
            assert_eq!(refused.code, code);
            let text = error.to_string();
            assert!(text.contains("SLACK_APP_TOKEN") && text.contains(advice), "{text}");
            assert!(!text.contains(TOKEN) && !format!("{error:?}").contains(TOKEN));
        }
    }

    #[tokio::test]
    async fn what_a_retry_can_fix_is_transient() {
        let cases = [
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": false, "error": "internal_error"})),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": false, "error": "ratelimited"})),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})),
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true, "url": "http://evil.example/"})),
            ResponseTemplate::new(200).set_body_string("<html>proxy error</html>"),
            ResponseTemplate::new(503),
        ];
        for template in cases {
            let (_slack, opener) = opener_answering(template).await;
            assert!(matches!(opener.open().await, Err(OpenError::Transient { .. })));
        }
        let (_slack, opener) = opener_answering(ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
        assert_eq!(
            opener.open().await,
            Err(OpenError::Transient {
                reason: "rate limited (HTTP 429)".into(),
                retry_after: Some(Duration::from_secs(7))
            })
        );
    }

    #[tokio::test]
    async fn a_wrong_api_url_is_an_admins_problem() {
        let (_slack, opener) = opener_answering(ResponseTemplate::new(404)).await;
        let error = opener.open().await.unwrap_err();
        assert!(matches!(error, OpenError::Refused(_)));
        assert!(error.to_string().contains("SLACK_API_URL"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_slack_is_transient() {
        let api = Url::parse("http://127.0.0.1:1/api/").unwrap();
        let opener = ConnectionOpener::new(&api, AppToken::parse(TOKEN).unwrap()).unwrap();
        assert!(matches!(opener.open().await, Err(OpenError::Transient { .. })));
    }
}
