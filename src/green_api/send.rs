//! sendContact: the one call that sends, with its rate limit and its 429
//! retries.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use tokio::time::{Instant, sleep_until, timeout_at};

use super::max::max_send_contact_body;
use super::rate_limit;
use super::wire::{SendContactResponse, send_contact_body};
use super::{Answer, GreenApiClient, GreenApiError, IdMessage, MAX_RESPONSE_BYTES, Malformed};
use crate::domain::{Card, ChatId};
use crate::http_client::{self, RetryPolicy};

/// After a 429: a pause doubling from 1 s up to 30 s, or Retry-After, never
/// sooner than 1 s.
const RETRY: RetryPolicy = RetryPolicy::new(Duration::from_secs(1), Duration::from_secs(30));

impl GreenApiClient {
    /// Sends the contact card, in the body its kind takes (a MAX card names
    /// the contact by chat id). Succeeds only on HTTP 200 with a non-empty
    /// idMessage. A 429 is retried within the timeout (after Retry-After or
    /// a doubling backoff, never sooner than 1 s); nothing GREEN-API may
    /// have accepted is ever retried.
    pub async fn send_contact(&self, chat_id: &ChatId, card: &Card) -> Result<IdMessage, GreenApiError> {
        // One reading of the clock for the deadline and the first attempt,
        // which follow each other with nothing between them to wait for.
        let mut now = Instant::now();
        let deadline = now + self.timeout;
        // Shared, not copied, by each attempt.
        let body = Bytes::from(match card {
            Card::Phone(contact) => send_contact_body(chat_id, contact),
            Card::Max(contact) => max_send_contact_body(chat_id, contact),
        });
        let mut backoff = RETRY.backoff();
        let mut refused_by_green_api = false;
        loop {
            let slot = self.limiter.reserve(now, deadline).map_err(|_| {
                // After a 429 the time ran out because GREEN-API said "too
                // many requests"; "busy" would blame this process instead.
                if refused_by_green_api { GreenApiError::RateLimited } else { GreenApiError::Busy }
            })?;
            // Only sleep when there is a queue at least a timer tick long
            // (`rate_limit::must_wait`): tokio rounds a timer up to the next
            // millisecond, so sleeping until a slot a microsecond away would
            // cost the call up to 1 ms and an extra wake-up.
            let attempt_started = if rate_limit::must_wait(slot, now) {
                let _queued = self.metrics.queued_for_rate_limit();
                sleep_until(slot).await;
                Instant::now()
            } else {
                now
            };
            let outcome = timeout_at(deadline, self.exchange(&self.send_contact, Some(&body))).await;
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
            let wait = backoff.next_wait(answer.retry_after);
            // Give up now rather than after the wait if the retry would
            // start too late for an answer (the limiter would refuse it).
            if !http_client::starts_before(wait, self.limiter.latest_start(deadline)) {
                return Err(GreenApiError::RateLimited);
            }
            tracing::warn!(
                method = "sendContact",
                wait_ms = wait.as_millis() as u64,
                "GREEN-API answered 429 Too Many Requests; retrying"
            );
            sleep_until(Instant::now() + wait).await;
            now = Instant::now();
        }
    }

    fn interpret_send_contact(&self, answer: Answer) -> Result<IdMessage, GreenApiError> {
        let status = answer.status.as_u16();
        match status {
            200 => {
                if answer.truncated {
                    return Err(GreenApiError::MalformedResponse {
                        detail: Malformed::TooLong { kib: MAX_RESPONSE_BYTES / 1024 },
                    });
                }
                let parsed: SendContactResponse = serde_json::from_slice(&answer.body)
                    .map_err(|_| GreenApiError::MalformedResponse { detail: Malformed::NotJson })?;
                if let Some(code @ (401 | 403)) = parsed.code {
                    return Err(GreenApiError::Unauthorized { status: code });
                }
                match parsed.id_message {
                    Some(id) if !id.trim().is_empty() => Ok(IdMessage::new(id)),
                    _ => Err(GreenApiError::MalformedResponse { detail: Malformed::NoIdMessage }),
                }
            }
            // Anything else that is not an error may have queued the message:
            // only a 200 with its idMessage says what happened.
            201..=399 => Err(GreenApiError::MalformedResponse { detail: Malformed::UnexpectedSuccess { status } }),
            _ => Err(GreenApiError::from_status(status, &answer.body, self.token.expose())),
        }
    }
}
