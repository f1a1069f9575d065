use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep_until, timeout_at};

use super::{GreenApiError, RateLimiter};
use crate::config::GreenApiConfig;
use crate::domain::{ChatId, Contact};
use crate::metrics::Metrics;

/// GREEN-API's answers are a few dozen bytes; anything past this is not an
/// answer we can use, and reading on would let a broken upstream eat memory.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// How much of an error body is quoted back to the user.
const MAX_REASON_CHARS: usize = 300;
/// The first pause after a 429 without Retry-After; doubles each time. Also
/// the shortest pause after any 429, whatever Retry-After says.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The id GREEN-API gives a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMessage(String);

impl IdMessage {
    /// An id as GREEN-API returned it; for benchmarks and tests that render
    /// replies without calling GREEN-API.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// GREEN-API's `typeInstance`: which messenger the instance serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceType {
    Telegram,
    WhatsApp,
    /// MAX ("v3"): its sendContact takes a contact chatId, not a phone and names.
    Max,
    Other(String),
}

impl InstanceType {
    pub fn from_type_instance(value: &str) -> Self {
        match value.to_ascii_lowercase().as_str() {
            "telegram" => InstanceType::Telegram,
            "whatsapp" => InstanceType::WhatsApp,
            "v3" | "max" => InstanceType::Max,
            other => InstanceType::Other(other.chars().take(32).collect()),
        }
    }

    /// The name as GREEN-API spells it, for logs and metrics.
    pub fn as_str(&self) -> &str {
        match self {
            InstanceType::Telegram => "telegram",
            InstanceType::WhatsApp => "whatsapp",
            InstanceType::Max => "v3",
            InstanceType::Other(other) => other,
        }
    }

    /// What an admin should know about this instance type, if anything.
    pub fn warning(&self) -> Option<String> {
        match self {
            InstanceType::Telegram | InstanceType::WhatsApp => None,
            InstanceType::Max => Some(
                "this GREEN-API instance is a MAX instance (typeInstance v3): MAX's sendContact takes only the \
                 chatId of a contact already in the instance's contacts, not a phone number and names, so \
                 /sendcontact cards will be refused. Use a Telegram or WhatsApp instance."
                    .into(),
            ),
            InstanceType::Other(other) => Some(format!(
                "this GREEN-API instance reports the type `{other}`, which this bot does not know; sendContact \
                 may take a different body there"
            )),
        }
    }
}

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
    token: super::ApiToken,
    timeout: Duration,
    limiter: RateLimiter,
    metrics: Arc<Metrics>,
}

impl fmt::Debug for GreenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GreenApiClient")
            .field("instance", &self.instance_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendContactBody<'a> {
    chat_id: &'a str,
    contact: ContactBody<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactBody<'a> {
    phone_contact: u64,
    first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company: Option<&'a str>,
}

/// The JSON body of a sendContact call.
pub fn send_contact_body(chat_id: &ChatId, contact: &Contact) -> Vec<u8> {
    let body = SendContactBody {
        chat_id: chat_id.as_str(),
        contact: ContactBody {
            phone_contact: contact.phone.as_u64(),
            first_name: contact.first_name.as_str(),
            last_name: contact.last_name.as_ref().map(|n| n.as_str()),
            company: contact.company.as_ref().map(|c| c.as_str()),
        },
    };
    // Serialising borrowed strings and an integer into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_else(|_| unreachable!("the body is plain data"))
}

#[derive(Deserialize)]
struct SendContactResponse {
    #[serde(rename = "idMessage")]
    id_message: Option<String>,
    /// GREEN-API sometimes reports errors as HTTP 200 with `{"code":401,...}`.
    code: Option<u16>,
}

#[derive(Deserialize)]
struct QuotaBody {
    #[serde(rename = "correspondentsStatus")]
    correspondents: Option<QuotaStatus>,
    #[serde(rename = "invokeStatus")]
    invoke: Option<QuotaStatus>,
}

#[derive(Deserialize)]
struct QuotaStatus {
    status: Option<String>,
    description: Option<String>,
}

/// What one HTTP attempt came back with, body read up to the limit.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    truncated: bool,
}

impl GreenApiClient {
    pub fn new(config: &GreenApiConfig, metrics: Arc<Metrics>) -> Result<Self, SetupError> {
        let http = crate::tls::client_builder()
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

    /// Sends the contact card. Succeeds only on HTTP 200 with a non-empty
    /// idMessage. A 429 is retried within the timeout (after Retry-After or
    /// a doubling backoff, never sooner than 1 s); nothing GREEN-API may
    /// have accepted is ever retried.
    pub async fn send_contact(&self, chat_id: &ChatId, contact: &Contact) -> Result<IdMessage, GreenApiError> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let body = send_contact_body(chat_id, contact);
        let mut backoff = FIRST_BACKOFF;
        let mut refused_by_green_api = false;
        loop {
            let now = Instant::now();
            let slot = self.limiter.reserve(now, deadline).map_err(|_| {
                // After a 429 the time ran out because GREEN-API said "too
                // many requests"; "busy" would blame this process instead.
                if refused_by_green_api { GreenApiError::RateLimited } else { GreenApiError::Busy }
            })?;
            // Only sleep when there is a queue: tokio rounds a timer up to
            // the next millisecond, so sleeping until `now` would cost every
            // call up to 1 ms and an extra wake-up.
            if slot > now {
                sleep_until(slot).await;
            }
            let request = self
                .http
                .post(self.send_contact_url.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
            let attempt_started = Instant::now();
            let outcome = timeout_at(deadline, self.exchange(request)).await;
            let status = match &outcome {
                Ok(Ok(answer)) => Some(answer.status.as_u16()),
                _ => None,
            };
            self.metrics.upstream_call(status, outcome.is_err(), attempt_started.elapsed());
            let answer = match outcome {
                Err(_) => return Err(GreenApiError::Timeout { after: self.timeout }),
                Ok(answer) => answer?,
            };
            if answer.status != StatusCode::TOO_MANY_REQUESTS {
                return self.interpret_send_contact(answer);
            }
            // 429: GREEN-API refused the call outright, so trying again
            // cannot duplicate a message. Never sooner than the first
            // backoff: a Retry-After of 0 (or a date already past) would
            // otherwise retry at once, again and again, spending every slot
            // of the rate limiter on one command against an instance that
            // has just said it is overloaded.
            refused_by_green_api = true;
            let wait = answer.retry_after.unwrap_or(backoff).max(FIRST_BACKOFF);
            backoff = (backoff * 2).min(Duration::from_secs(30));
            // Give up now rather than after the wait if the retry would
            // start too late for an answer (the limiter would refuse it).
            // Compared as durations: `now + wait` would panic on a huge
            // Retry-After, killing the task that owes the user an answer.
            if wait >= self.limiter.latest_start(deadline).saturating_duration_since(Instant::now()) {
                return Err(GreenApiError::RateLimited);
            }
            tracing::warn!(
                method = "sendContact",
                wait_ms = wait.as_millis() as u64,
                "GREEN-API answered 429 Too Many Requests; retrying"
            );
            sleep_until(Instant::now() + wait).await;
        }
    }

    /// getStateInstance: whether the instance is authorized to send.
    pub async fn get_state_instance(&self) -> Result<String, GreenApiError> {
        #[derive(Deserialize)]
        struct State {
            #[serde(rename = "stateInstance")]
            state: Option<String>,
        }
        let state: State = self.get_json("getStateInstance").await?;
        // While an instance is being created, GREEN-API answers `null`.
        Ok(state.state.unwrap_or_else(|| "unknown".into()))
    }

    /// getSettings: what kind of instance this is.
    pub async fn get_instance_type(&self) -> Result<InstanceType, GreenApiError> {
        #[derive(Deserialize)]
        struct Settings {
            #[serde(rename = "typeInstance")]
            type_instance: Option<String>,
        }
        let settings: Settings = self.get_json("getSettings").await?;
        Ok(InstanceType::from_type_instance(settings.type_instance.as_deref().unwrap_or("")))
    }

    /// GETs an account method and decodes its JSON answer. These methods
    /// change nothing, so every failure is simply reported.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, method: &str) -> Result<T, GreenApiError> {
        let url = format!("{}{method}/{}", self.instance_url, self.token.expose());
        let answer = match timeout_at(Instant::now() + self.timeout, self.exchange(self.http.get(url))).await {
            Err(_) => return Err(GreenApiError::Timeout { after: self.timeout }),
            Ok(answer) => answer?,
        };
        match answer.status.as_u16() {
            200 => serde_json::from_slice(&answer.body).map_err(|_| GreenApiError::MalformedResponse {
                detail: format!("{method} answered with something other than the expected JSON"),
            }),
            400 => Err(GreenApiError::Rejected { reason: self.reason(&answer.body) }),
            status @ (401 | 403) => Err(GreenApiError::Unauthorized { status }),
            429 => Err(GreenApiError::RateLimited),
            status @ 499..=599 => Err(GreenApiError::ServerError { status }),
            status => Err(GreenApiError::UnexpectedStatus { status }),
        }
    }

    /// `{apiUrl}/waInstance{id}/{method}/***`, for logs and messages.
    pub fn redacted_url(&self, method: &str) -> String {
        format!("{}{method}/***", self.instance_url)
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, GreenApiError> {
        let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
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

    fn interpret_send_contact(&self, answer: Answer) -> Result<IdMessage, GreenApiError> {
        let status = answer.status.as_u16();
        match status {
            200 => {
                if answer.truncated {
                    return Err(GreenApiError::MalformedResponse {
                        detail: format!("an answer longer than {} KiB", MAX_RESPONSE_BYTES / 1024),
                    });
                }
                let parsed: SendContactResponse = serde_json::from_slice(&answer.body).map_err(|_| {
                    GreenApiError::MalformedResponse { detail: "an answer that is not the expected JSON".into() }
                })?;
                if let Some(code @ (401 | 403)) = parsed.code {
                    return Err(GreenApiError::Unauthorized { status: code });
                }
                match parsed.id_message {
                    Some(id) if !id.trim().is_empty() => Ok(IdMessage(id)),
                    _ => Err(GreenApiError::MalformedResponse { detail: "HTTP 200 without an idMessage".into() }),
                }
            }
            400 => Err(GreenApiError::Rejected { reason: self.reason(&answer.body) }),
            401 | 403 => Err(GreenApiError::Unauthorized { status }),
            466 => Err(GreenApiError::QuotaExceeded { detail: quota_detail(&answer.body) }),
            499..=599 => Err(GreenApiError::ServerError { status }),
            _ => Err(GreenApiError::UnexpectedStatus { status }),
        }
    }

    /// GREEN-API's reason for a 400, as one short line of plain text.
    fn reason(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        // Error bodies come as plain text or as JSON with a message field.
        let text = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                ["message", "description", "error"]
                    .iter()
                    .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
            })
            .unwrap_or_else(|| text.into_owned());
        let line = one_line(&redact(&text, self.token.expose()), MAX_REASON_CHARS);
        if line.is_empty() { "no reason given".into() } else { line }
    }
}

/// What the quota answer says was exceeded, if it says.
fn quota_detail(body: &[u8]) -> Option<String> {
    let quota: QuotaBody = serde_json::from_slice(body).ok()?;
    [quota.correspondents, quota.invoke]
        .into_iter()
        .flatten()
        .find(|s| s.status.as_deref().is_some_and(|s| s.contains("EXCEEDED")))
        .and_then(|s| s.description.or(s.status))
        .map(|d| one_line(&d, MAX_REASON_CHARS))
}

/// Retry-After as seconds or an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let value = value.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// A reqwest error as text, without the URL (it holds the token) and with
/// the causes that say what went wrong ("Connection refused").
fn describe(e: &reqwest::Error, token: &str) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(err) = source {
        parts.push(err.to_string());
        source = err.source();
    }
    let text = if parts.is_empty() {
        // Without the URL, reqwest's own message is only the error kind.
        e.to_string().split(" for url").next().unwrap_or_default().to_owned()
    } else {
        parts.dedup();
        parts.join(": ")
    };
    one_line(&redact(&text, token), MAX_REASON_CHARS)
}

/// Belt and braces: whatever the text is, the token does not survive it.
fn redact(text: &str, token: &str) -> String {
    if token.is_empty() { text.to_owned() } else { text.replace(token, "***") }
}

fn one_line(text: &str, max_chars: usize) -> String {
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > max_chars {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactText, PhoneNumber};

    #[test]
    fn the_body_follows_the_documentation() {
        let chat = ChatId::parse("10000000").unwrap();
        let mut contact = Contact {
            phone: PhoneNumber::parse("79876543210").unwrap(),
            first_name: ContactText::parse("Иван").unwrap(),
            last_name: None,
            company: None,
        };
        assert_eq!(
            String::from_utf8(send_contact_body(&chat, &contact)).unwrap(),
            r#"{"chatId":"10000000","contact":{"phoneContact":79876543210,"firstName":"Иван"}}"#
        );
        contact.last_name = ContactText::parse_optional("Иванов").unwrap();
        contact.company = ContactText::parse_optional("\"Ромашка\"").unwrap();
        assert_eq!(
            String::from_utf8(send_contact_body(&chat, &contact)).unwrap(),
            r#"{"chatId":"10000000","contact":{"phoneContact":79876543210,"firstName":"Иван","lastName":"Иванов","company":"\"Ромашка\""}}"#
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let secs = HeaderValue::from_static("3");
        assert_eq!(parse_retry_after(&secs), Some(Duration::from_secs(3)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn quota_detail_names_what_ran_out() {
        let body = br#"{"invokeStatus":{"method":"sendmessage","used":67,"total":0,"status":"QUOTE_ALLOWED"},
            "correspondentsStatus":{"status":"CORRESPONDENTS_QUOTE_EXCEEDED","description":"Monthly quota has been exceeded."}}"#;
        assert_eq!(quota_detail(body).as_deref(), Some("Monthly quota has been exceeded."));
        assert_eq!(quota_detail(b"nope"), None);
    }

    #[test]
    fn one_line_flattens_and_bounds_text() {
        assert_eq!(one_line("a\n\tb  c", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(redact("x/TOKEN/y", "TOKEN"), "x/***/y");
    }
}
