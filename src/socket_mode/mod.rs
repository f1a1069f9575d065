//! Socket Mode (<https://docs.slack.dev/apis/events-api/using-socket-mode>):
//! Slack's payloads over a WebSocket this service opens, so it needs no
//! public URL.
//!
//! A transport, not a second implementation: each `slash_commands` or
//! `interactive` envelope goes to an [`EnvelopeHandler`] ([`Doors`]), which
//! answers with the same code as the HTTP routes, and the answer rides back
//! in the ack.
//!
//! The supervisor ([`SocketMode::run`]) keeps one connection open and opens
//! the next one *before* the current one goes when Slack announces a refresh,
//! so no command falls between two connections. A dropped, silent or
//! helloless connection is replaced after an exponential, jittered backoff.
//! Envelopes delivered twice are handled once ([`dedup`]). Only Slack
//! refusing the app token ends the supervisor: no retry fixes that.

mod backoff;
mod connection;
mod dedup;
mod doors;
mod envelope;
mod open;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::Url;

pub use backoff::{Jitter, RandomJitter};
pub use doors::Doors;
pub use open::{AppToken, ConnectionOpener, OpenError, TokenRefused};

use backoff::Backoff;
use connection::{Closed, Event};
use dedup::{Deliveries, Payload};
use envelope::{DisconnectReason, Envelope, EnvelopeKind};

/// What an envelope is answered with: the JSON body the HTTP route would
/// have answered with, or `None` for an empty one. As JSON text: the ack
/// carries it as text, and a reply is written as text ([`answer_of`]).
pub type Answer = Option<Payload>;

/// JSON this service wrote (a reply's [`to_json`](crate::slack::reply::Reply::to_json)) as an answer. Checked as it is
/// taken, as every raw JSON value is; a reply that failed the check would be
/// a bug, logged, and the envelope acknowledged without an answer.
pub fn answer_of(json: Vec<u8>) -> Answer {
    let raw = String::from_utf8(json)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::value::RawValue::from_string(text).map_err(|e| e.to_string()));
    match raw {
        Ok(raw) => Some(Payload::from(raw)),
        Err(error) => {
            tracing::error!(error, "a reply was not valid JSON; acknowledged without an answer");
            None
        }
    }
}

/// The doors an envelope can come through, the same as over HTTP.
pub trait EnvelopeHandler: Send + Sync + 'static {
    /// A `slash_commands` payload (the slash-command form's fields, as JSON).
    fn slash_command(&self, payload: Value, received_at: Instant) -> BoxFuture<'static, Answer>;
    /// An `interactive` payload (what `/slack/interactions` gets in `payload`).
    fn interaction(&self, payload: Value, received_at: Instant) -> BoxFuture<'static, Answer>;
    /// Whether at least one connection to Slack is up (it said hello).
    fn connected(&self, _up: bool) {}
    /// A new connection is being opened after the first, and why: one of
    /// `metrics::SOCKET_MODE_RECONNECTS`.
    fn reconnecting(&self, _reason: &'static str) {}
}

/// How the connections are kept. Not environment variables: the defaults
/// follow Slack's SDKs, and tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often we ping; Slack's pong (or anything else) shows the
    /// connection is alive.
    pub ping_interval: Duration,
    /// A connection that has sent nothing for this long is dead.
    pub silence_timeout: Duration,
    /// Slack says hello first; a connection without one by then is dead.
    pub hello_timeout: Duration,
    /// TCP, TLS and the WebSocket handshake together.
    pub connect_timeout: Duration,
    /// The first wait after a failure, doubling up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// A connection that lasted this long resets the backoff.
    pub stable_after: Duration,
    /// How long a replaced connection stays open after its successor said
    /// hello, for Slack to close it (and for acks still owed on it).
    pub retire_after: Duration,
    /// How long a closing connection waits for its envelopes in flight.
    pub drain_timeout: Duration,
    /// How long a repeated envelope waits for the first one's answer.
    pub repeat_wait: Duration,
    /// How many deliveries are remembered to recognise repeats (their
    /// answers only for the last 256: `dedup::RECENT_ANSWERS`).
    pub remembered_deliveries: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(5),
            silence_timeout: Duration::from_secs(15),
            hello_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            stable_after: Duration::from_secs(60),
            retire_after: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            repeat_wait: Duration::from_secs(3),
            remembered_deliveries: 4096,
        }
    }
}

/// Everything Socket Mode needs from the configuration.
#[derive(Debug, Clone)]
pub struct SocketModeConfig {
    pub app_token: AppToken,
    /// SLACK_API_URL, ending in `/`.
    pub api_url: Url,
    pub timing: Timing,
}

/// What every connection shares.
struct Shared {
    handler: Arc<dyn EnvelopeHandler>,
    deliveries: Deliveries,
    timing: Timing,
}

impl Shared {
    async fn answer(&self, envelope: &Envelope, received_at: Instant) -> Answer {
        match &envelope.kind {
            EnvelopeKind::SlashCommands => self.handler.slash_command(envelope.payload.clone(), received_at).await,
            EnvelopeKind::Interactive => self.handler.interaction(envelope.payload.clone(), received_at).await,
            EnvelopeKind::Other(kind) => {
                tracing::debug!(kind = %kind, "acknowledged an envelope of a type this app does not use");
                None
            }
        }
    }
}

pub struct SocketMode {
    opener: ConnectionOpener,
    shared: Arc<Shared>,
    jitter: Box<dyn Jitter>,
}

impl SocketMode {
    pub fn new(config: &SocketModeConfig, handler: Arc<dyn EnvelopeHandler>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            opener: ConnectionOpener::new(&config.api_url, config.app_token.clone())?,
            shared: Arc::new(Shared {
                handler,
                deliveries: Deliveries::new(config.timing.remembered_deliveries),
                timing: config.timing,
            }),
            jitter: Box::new(RandomJitter),
        })
    }

    /// Replaces the backoff's randomness (tests pin it).
    pub fn with_jitter(mut self, jitter: Box<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// Keeps Slack connected until `stop`, then stops reading, finishes the
    /// envelopes in flight, acknowledges them and closes. Returns early only
    /// when Slack refuses the app token.
    pub async fn run(self, stop: CancellationToken) -> Result<(), TokenRefused> {
        let SocketMode { opener, shared, jitter } = self;
        let timing = shared.timing;
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let tasks = TaskTracker::new();
        // Cancelled on return, whatever the reason, so every connection drains.
        let all = stop.child_token();
        let mut backoff = Backoff::new(timing.backoff_base, timing.backoff_max, jitter);
        let mut last_id = 0u64;
        let mut current: Option<u64> = None;
        let mut live: HashMap<u64, CancellationToken> = HashMap::new();
        let mut disabled: HashSet<u64> = HashSet::new();
        let mut greeted: HashSet<u64> = HashSet::new();
        let mut connect_at: Option<Instant> = Some(Instant::now());

        let outcome = loop {
            let wake = connect_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                () = stop.cancelled() => break Ok(()),
                Some(event) = events.recv() => match event {
                    Event::Hello { id, num_connections } => {
                        tracing::info!(connection = id, num_connections, "connected to Slack over Socket Mode");
                        if greeted.is_empty() {
                            shared.handler.connected(true);
                        }
                        greeted.insert(id);
                        if current == Some(id) {
                            // The successor is up; the ones it replaces get
                            // time for Slack to close them and for acks owed.
                            for (_, token) in live.iter().filter(|(other, _)| **other != id) {
                                retire_later(&tasks, token.clone(), timing.retire_after);
                            }
                        }
                    }
                    Event::Disconnect { id, reason } => {
                        if reason == DisconnectReason::LinkDisabled {
                            disabled.insert(id);
                            tracing::error!(
                                connection = id,
                                "Slack turned Socket Mode off for this app (link_disabled): no commands arrive until \
                                 an admin turns it back on in the app's settings (Settings → Socket Mode); this \
                                 service keeps trying to reconnect"
                            );
                        } else if current == Some(id) && connect_at.is_none() {
                            shared.handler.reconnecting("refresh_requested");
                            tracing::info!(
                                connection = id,
                                reason = reason.as_str(),
                                "Slack will close this connection; opening the next one first"
                            );
                            connect_at = Some(Instant::now());
                        }
                    }
                    Event::Closed { id, why, lived, said_hello } => {
                        live.remove(&id);
                        if greeted.remove(&id) && greeted.is_empty() {
                            shared.handler.connected(false);
                        }
                        let link_disabled = disabled.remove(&id);
                        if current == Some(id) {
                            current = None;
                            if said_hello && lived >= timing.stable_after {
                                backoff.reset();
                            }
                            if connect_at.is_none() {
                                shared.handler.reconnecting(match &why {
                                    _ if link_disabled => "link_disabled",
                                    Closed::ByPeer => "closed_by_slack",
                                    Closed::Dropped(_) | Closed::Stopped => "dropped",
                                    Closed::Silent => "silent",
                                    Closed::NoHello => "no_hello",
                                });
                                let delay = if link_disabled { backoff.ceiling() } else { backoff.next_delay() };
                                tracing::warn!(
                                    connection = id,
                                    why = %why.describe(),
                                    retry_in_ms = delay.as_millis() as u64,
                                    "lost the Socket Mode connection; reconnecting"
                                );
                                connect_at = Some(Instant::now() + delay);
                            }
                        } else if why != Closed::Stopped {
                            tracing::debug!(connection = id, why = %why.describe(), "a replaced connection closed");
                        }
                    }
                },
                () = sleep_until(wake), if connect_at.is_some() => {
                    let attempt = tokio::select! {
                        () = stop.cancelled() => break Ok(()),
                        attempt = establish(&opener, timing.connect_timeout) => attempt,
                    };
                    match attempt {
                        Ok(socket) => {
                            last_id += 1;
                            let token = all.child_token();
                            live.insert(last_id, token.clone());
                            current = Some(last_id);
                            connect_at = None;
                            tasks.spawn(connection::serve(last_id, socket, Arc::clone(&shared), events_tx.clone(), token));
                        }
                        Err(OpenError::Refused(refused)) => break Err(refused),
                        Err(OpenError::Transient { reason, retry_after }) => {
                            shared.handler.reconnecting("open_failed");
                            let delay = backoff.next_delay().max(retry_after.unwrap_or_default());
                            tracing::warn!(
                                error = %reason,
                                retry_in_ms = delay.as_millis() as u64,
                                "could not connect to Slack over Socket Mode; trying again"
                            );
                            connect_at = Some(Instant::now() + delay);
                        }
                    }
                }
            }
        };
        all.cancel();
        tasks.close();
        tasks.wait().await;
        outcome
    }
}

/// apps.connections.open, then the WebSocket it names.
async fn establish(opener: &ConnectionOpener, connect_timeout: Duration) -> Result<connection::Socket, OpenError> {
    let url = opener.open().await?;
    let host = url.host_str().unwrap_or_default().to_owned();
    connection::connect(&url, connect_timeout)
        .await
        .map_err(|reason| OpenError::Transient { reason: format!("{host}: {reason}"), retry_after: None })
}

fn retire_later(tasks: &TaskTracker, token: CancellationToken, after: Duration) {
    tasks.spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(after) => token.cancel(),
            () = token.cancelled() => {}
        }
    });
}

#[cfg(test)]
mod tests;
