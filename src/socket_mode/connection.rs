//! One WebSocket to Slack: connect (TLS by our rustls configuration), read
//! envelopes, hand each to its door, acknowledge, and notice when the
//! connection is gone or has gone quiet.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use url::{Host, Url};

use super::Shared;
use super::dedup::Delivery;
use super::envelope::{DisconnectReason, Envelope, Incoming, ack};

pub(super) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

pub(super) type Socket = WebSocketStream<Box<dyn Io>>;

/// Slack's payloads are a few KiB; a modal submission with its blocks stays
/// far below this, and nothing bigger is worth buffering.
const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Opens the WebSocket at `url` (from apps.connections.open). The error
/// says what failed, without the URL, whose ticket is a credential.
pub(super) async fn connect(url: &Url, limit: Duration) -> Result<Socket, String> {
    match timeout(limit, connect_unbounded(url)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no WebSocket within {} s", limit.as_secs())),
    }
}

async fn connect_unbounded(url: &Url) -> Result<Socket, String> {
    let port = url.port_or_known_default().ok_or("the URL names no port")?;
    let (tcp, name) = match url.host() {
        Some(Host::Domain(domain)) => (
            TcpStream::connect((domain, port)).await,
            ServerName::try_from(domain.to_owned()).map_err(|_| "the URL's host is not a valid name")?,
        ),
        Some(Host::Ipv4(ip)) => (TcpStream::connect((ip, port)).await, ServerName::IpAddress(ip.into())),
        Some(Host::Ipv6(ip)) => (TcpStream::connect((ip, port)).await, ServerName::IpAddress(ip.into())),
        None => return Err("the URL names no host".into()),
    };
    let tcp = tcp.map_err(|e| format!("TCP connection failed: {e}"))?;
    // Acks are small and should leave at once.
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if url.scheme() == "wss" {
        let config =
            crate::http_client::client_config().ok_or("TLS could not be set up (no usable root certificates)")?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let config =
        WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE_BYTES)).max_frame_size(Some(MAX_MESSAGE_BYTES));
    let (socket, _) = tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
        .await
        .map_err(|e| format!("WebSocket handshake failed: {e}"))?;
    Ok(socket)
}

/// What a connection tells the supervisor.
#[derive(Debug)]
pub(super) enum Event {
    Hello { id: u64, num_connections: Option<u64> },
    Disconnect { id: u64, reason: DisconnectReason },
    Closed { id: u64, why: Closed, lived: Duration, said_hello: bool },
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Closed {
    /// Slack closed it, usually after a `disconnect` message.
    ByPeer,
    /// The network or the peer broke it.
    Dropped(String),
    /// Nothing came back, not even a pong, for the silence limit.
    Silent,
    /// Slack never said hello.
    NoHello,
    /// We closed it: replaced by a newer connection, or shutting down.
    Stopped,
}

impl Closed {
    pub(super) fn describe(&self) -> String {
        match self {
            Closed::ByPeer => "Slack closed it".into(),
            Closed::Dropped(reason) => format!("it broke: {reason}"),
            Closed::Silent => "it went silent (no answer to pings)".into(),
            Closed::NoHello => "Slack never said hello on it".into(),
            Closed::Stopped => "this service closed it".into(),
        }
    }
}

/// Serves one connection until it ends or `stop` fires, then finishes the
/// envelopes in flight. On `stop` it reads nothing new, so Slack gives
/// whatever comes next to another connection, while the acks still owed go
/// out before the close.
pub(super) async fn serve(
    id: u64,
    mut socket: Socket,
    shared: Arc<Shared>,
    events: mpsc::UnboundedSender<Event>,
    stop: CancellationToken,
) {
    let timing = &shared.timing;
    let started = Instant::now();
    let mut last_heard = started;
    let mut said_hello = false;
    let (acks, mut outgoing) = mpsc::unbounded_channel::<String>();
    let inflight = TaskTracker::new();
    let mut ticks = interval_at(started + timing.ping_interval, timing.ping_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);

    let why = loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break Closed::Stopped,
            Some(ack) = outgoing.recv() => {
                if let Err(e) = send(&mut socket, Message::text(ack), timing.silence_timeout).await {
                    break Closed::Dropped(e);
                }
            }
            frame = socket.next() => {
                last_heard = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => match Incoming::parse(text.as_str()) {
                        Ok(Incoming::Hello { num_connections }) => {
                            said_hello = true;
                            let _ = events.send(Event::Hello { id, num_connections });
                        }
                        Ok(Incoming::Disconnect(reason)) => {
                            let _ = events.send(Event::Disconnect { id, reason });
                        }
                        Ok(Incoming::Envelope(envelope)) => receive(id, envelope, last_heard, &shared, &inflight, &acks),
                        Err(e) => tracing::warn!(
                            connection = id,
                            error = %e,
                            "ignored a Socket Mode message that is none of Slack's"
                        ),
                    },
                    Some(Ok(Message::Close(_))) => break Closed::ByPeer,
                    // tungstenite answers pings itself; anything else only
                    // shows that the connection is alive.
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Closed::Dropped(e.to_string()),
                    None => break Closed::Dropped("the connection ended without a close frame".into()),
                }
            }
            _ = ticks.tick() => {
                if !said_hello && started.elapsed() >= timing.hello_timeout {
                    break Closed::NoHello;
                }
                if last_heard.elapsed() >= timing.silence_timeout {
                    break Closed::Silent;
                }
                if let Err(e) = send(&mut socket, Message::Ping(Default::default()), timing.silence_timeout).await {
                    break Closed::Dropped(e);
                }
            }
        }
    };
    // Told first, so a broken connection is replaced while what it was
    // doing finishes.
    let _ = events.send(Event::Closed { id, why: why.clone(), lived: started.elapsed(), said_hello });

    // The sends themselves run on (and the answers are remembered for a
    // redelivery) whatever happens here; only the acks need this socket.
    let mut usable = why == Closed::Stopped;
    inflight.close();
    let deadline = Instant::now() + timing.drain_timeout;
    loop {
        tokio::select! {
            biased;
            Some(ack) = outgoing.recv() => {
                if usable && send(&mut socket, Message::text(ack), timing.silence_timeout).await.is_err() {
                    usable = false;
                }
            }
            () = inflight.wait() => break,
            () = sleep_until(deadline) => {
                tracing::warn!(
                    connection = id,
                    unfinished = inflight.len(),
                    "envelopes still unanswered when their connection closed; Slack will deliver them again"
                );
                break;
            }
        }
    }
    while let Ok(ack) = outgoing.try_recv() {
        if usable && send(&mut socket, Message::text(ack), timing.silence_timeout).await.is_err() {
            usable = false;
        }
    }
    if usable {
        // Close politely and wait briefly for Slack's close in reply.
        let _ = timeout(Duration::from_secs(2), async {
            let _ = socket.close(None).await;
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }
}

async fn send(socket: &mut Socket, message: Message, limit: Duration) -> Result<(), String> {
    match timeout(limit, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        // A peer that stopped reading would otherwise hold us here forever.
        Err(_) => Err(format!("a write did not complete within {} s", limit.as_secs())),
    }
}

/// Starts answering one envelope; its ack goes to `acks` when ready.
fn receive(
    connection: u64,
    envelope: Envelope,
    received_at: Instant,
    shared: &Arc<Shared>,
    inflight: &TaskTracker,
    acks: &mpsc::UnboundedSender<String>,
) {
    let delivery = shared.deliveries.register(&envelope);
    let shared = Arc::clone(shared);
    let acks = acks.clone();
    inflight.spawn(async move {
        let answer = match delivery {
            Delivery::First(slot) => {
                let answer = shared.answer(&envelope, received_at).await;
                slot.fill(answer.clone());
                answer
            }
            Delivery::Repeat(earlier) => {
                tracing::info!(
                    connection,
                    envelope_id = %envelope.envelope_id,
                    retry_attempt = envelope.retry_attempt,
                    "Slack delivered an envelope again; acknowledged with the first delivery's answer, not handled twice"
                );
                earlier.answer(shared.timing.repeat_wait).await
            }
        };
        let _ = acks.send(ack(&envelope, answer.as_deref()));
    });
}
