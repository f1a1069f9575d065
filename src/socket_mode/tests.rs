//! The supervisor and its connections against a local server playing Slack:
//! wiremock answers apps.connections.open with a ws:// URL on 127.0.0.1,
//! where a tokio-tungstenite server accepts the WebSockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

/// Long enough for a loaded CI machine; nothing asserts on time.
const PATIENCE: Duration = Duration::from_secs(30);
const TOKEN: &str = "xapp-1-A1-2-abcdef";

type ServerSocket = WebSocketStream<TcpStream>;

/// Answers like the HTTP route would, counting calls; `gate` holds answers
/// back until the test releases them.
#[derive(Default)]
struct Recorder {
    commands: AtomicUsize,
    interactions: AtomicUsize,
    gate: Option<Arc<Semaphore>>,
}

impl EnvelopeHandler for Recorder {
    fn slash_command(&self, payload: Value, _received_at: Instant) -> BoxFuture<'static, Answer> {
        self.commands.fetch_add(1, Ordering::SeqCst);
        let gate = self.gate.clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                let _ = gate.acquire().await.map(|permit| permit.forget());
            }
            let text = format!("sent {}", payload["text"].as_str().unwrap_or(""));
            super::answer_of(serde_json::to_vec(&json!({"response_type": "ephemeral", "text": text})).unwrap())
        })
    }

    fn interaction(&self, _payload: Value, _received_at: Instant) -> BoxFuture<'static, Answer> {
        self.interactions.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { None })
    }

    fn reconnecting(&self, reason: &'static str) {
        assert!(crate::metrics::SOCKET_MODE_RECONNECTS.contains(&reason), "{reason} has no metric label");
    }
}

struct FakeSlack {
    api: MockServer,
    listener: TcpListener,
}

impl FakeSlack {
    async fn start(answer: ResponseTemplate) -> Self {
        let api = MockServer::start().await;
        Mock::given(method("POST")).and(path("/api/apps.connections.open")).respond_with(answer).mount(&api).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self { api, listener }
    }

    async fn serving_sockets() -> Self {
        let api = MockServer::start().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/link/?ticket=1", listener.local_addr().unwrap());
        Mock::given(method("POST"))
            .and(path("/api/apps.connections.open"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "url": url})))
            .mount(&api)
            .await;
        Self { api, listener }
    }

    fn config(&self, timing: Timing) -> SocketModeConfig {
        SocketModeConfig {
            app_token: AppToken::parse(TOKEN).unwrap(),
            api_url: Url::parse(&format!("{}/api/", self.api.uri())).unwrap(),
            timing,
        }
    }

    async fn opens(&self) -> usize {
        self.api.received_requests().await.unwrap_or_default().len()
    }

    /// The next connection, greeted as Slack greets it.
    async fn accept(&self) -> ServerSocket {
        let mut ws = self.accept_without_hello().await;
        send(&mut ws, json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "test"}})).await;
        ws
    }

    async fn accept_without_hello(&self) -> ServerSocket {
        let (tcp, _) = timeout(PATIENCE, self.listener.accept()).await.expect("no connection came").unwrap();
        tokio_tungstenite::accept_async(tcp).await.unwrap()
    }
}

/// Short waits where a test waits for a reconnect, long ones elsewhere, so
/// that no step depends on the machine's speed.
fn timing() -> Timing {
    Timing {
        ping_interval: Duration::from_secs(5),
        silence_timeout: PATIENCE,
        hello_timeout: PATIENCE,
        connect_timeout: PATIENCE,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        stable_after: Duration::from_secs(60),
        retire_after: PATIENCE * 4,
        drain_timeout: PATIENCE,
        repeat_wait: PATIENCE,
        remembered_deliveries: 64,
    }
}

fn start(
    slack: &FakeSlack,
    timing: Timing,
    handler: Arc<Recorder>,
) -> (CancellationToken, JoinHandle<Result<(), TokenRefused>>) {
    let stop = CancellationToken::new();
    let socket_mode = SocketMode::new(&slack.config(timing), handler).unwrap().with_jitter(Box::new(|| 0.5));
    (stop.clone(), tokio::spawn(socket_mode.run(stop)))
}

async fn send(ws: &mut ServerSocket, message: Value) {
    ws.send(Message::text(message.to_string())).await.unwrap();
}

/// The next text message from the service, skipping pings and pongs.
async fn receive(ws: &mut ServerSocket) -> Value {
    loop {
        match timeout(PATIENCE, ws.next()).await.expect("nothing came").expect("the connection closed") {
            Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).unwrap(),
            Ok(Message::Close(_)) => panic!("the service closed the connection"),
            Ok(_) => continue,
            Err(e) => panic!("{e}"),
        }
    }
}

fn command(envelope_id: &str, trigger_id: &str, text: &str, retry_attempt: u64) -> Value {
    json!({
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": true,
        "retry_attempt": retry_attempt,
        "payload": {
            "team_id": "T1", "user_id": "U1", "channel_id": "C1", "command": "/sendcontact",
            "text": text, "response_url": "https://hooks.slack.com/commands/1", "trigger_id": trigger_id
        }
    })
}

/// Stops the run while Slack keeps reading `sockets`, as it would, so the
/// close handshake completes.
async fn stopped(
    stop: CancellationToken,
    run: JoinHandle<Result<(), TokenRefused>>,
    sockets: Vec<ServerSocket>,
) -> Result<(), TokenRefused> {
    for mut socket in sockets {
        tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} });
    }
    stop.cancel();
    timeout(PATIENCE, run).await.expect("did not stop").unwrap()
}

#[tokio::test]
async fn a_command_is_answered_in_its_ack_exactly_once() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut ws = slack.accept().await;
    send(&mut ws, command("e1", "t1", "10000000 79876543210 Ivan", 0)).await;
    let ack = receive(&mut ws).await;

    assert_eq!(
        ack,
        json!({"envelope_id": "e1", "payload": {"response_type": "ephemeral", "text": "sent 10000000 79876543210 Ivan"}})
    );
    assert_eq!(handler.commands.load(Ordering::SeqCst), 1);
    assert_eq!(stopped(stop, run, vec![ws]).await, Ok(()));
}

#[tokio::test]
async fn interactions_and_unused_envelopes_are_acknowledged() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut ws = slack.accept().await;
    send(&mut ws, json!({"envelope_id": "i1", "type": "interactive", "accepts_response_payload": true, "payload": {"type": "view_submission", "trigger_id": "t9"}})).await;
    assert_eq!(receive(&mut ws).await, json!({"envelope_id": "i1"}));
    send(&mut ws, json!({"envelope_id": "v1", "type": "events_api", "accepts_response_payload": false, "payload": {"event_id": "Ev1"}})).await;
    assert_eq!(receive(&mut ws).await, json!({"envelope_id": "v1"}));
    // Junk is logged and skipped; the connection stays.
    ws.send(Message::text("not json")).await.unwrap();
    send(&mut ws, command("e1", "t1", "help", 0)).await;
    assert_eq!(receive(&mut ws).await["envelope_id"], "e1");

    assert_eq!(handler.interactions.load(Ordering::SeqCst), 1);
    assert_eq!(handler.commands.load(Ordering::SeqCst), 1);
    assert_eq!(stopped(stop, run, vec![ws]).await, Ok(()));
}

#[tokio::test]
async fn an_envelope_delivered_again_is_handled_once_and_acked_each_time() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut ws = slack.accept().await;
    send(&mut ws, command("e1", "t1", "10000000 79876543210 Ivan", 0)).await;
    let first = receive(&mut ws).await;
    send(&mut ws, command("e1", "t1", "10000000 79876543210 Ivan", 1)).await;
    let same_envelope = receive(&mut ws).await;
    send(&mut ws, command("e2", "t1", "10000000 79876543210 Ivan", 2)).await;
    let new_envelope = receive(&mut ws).await;

    assert_eq!(handler.commands.load(Ordering::SeqCst), 1);
    assert_eq!(same_envelope, first);
    assert_eq!(new_envelope["envelope_id"], "e2");
    assert_eq!(new_envelope["payload"], first["payload"]);
    assert_eq!(stopped(stop, run, vec![ws]).await, Ok(()));
}

#[tokio::test]
async fn a_refresh_opens_the_next_connection_before_the_old_one_closes() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut old = slack.accept().await;
    send(&mut old, json!({"type": "disconnect", "reason": "warning", "debug_info": {"host": "test"}})).await;
    let mut new = slack.accept().await;
    // Slack may still deliver on the old connection until it closes it.
    send(&mut old, command("e1", "t1", "on the old one", 0)).await;
    assert_eq!(receive(&mut old).await["payload"]["text"], "sent on the old one");
    send(&mut old, json!({"type": "disconnect", "reason": "refresh_requested"})).await;
    old.close(None).await.unwrap();
    send(&mut new, command("e2", "t2", "on the new one", 0)).await;
    assert_eq!(receive(&mut new).await["payload"]["text"], "sent on the new one");

    assert_eq!(slack.opens().await, 2, "one apps.connections.open per connection, none for the repeated notice");
    assert_eq!(handler.commands.load(Ordering::SeqCst), 2);
    assert_eq!(stopped(stop, run, vec![new]).await, Ok(()));
}

#[tokio::test]
async fn a_killed_socket_is_replaced() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let first = slack.accept().await;
    // No close frame: the TCP connection just goes away.
    drop(first);
    let mut second = slack.accept().await;
    send(&mut second, command("e1", "t1", "after the drop", 0)).await;
    assert_eq!(receive(&mut second).await["payload"]["text"], "sent after the drop");
    assert_eq!(slack.opens().await, 2);
    assert_eq!(stopped(stop, run, vec![second]).await, Ok(()));
}

#[tokio::test]
async fn a_silent_socket_is_replaced() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let quick =
        Timing { ping_interval: Duration::from_millis(20), silence_timeout: Duration::from_millis(200), ..timing() };
    let (stop, run) = start(&slack, quick, Arc::clone(&handler));

    // Never read: pings go unanswered, as on a half-open connection.
    let _silent = slack.accept().await;
    let mut second = slack.accept().await;
    // This one answers pings while the test waits for the ack.
    send(&mut second, command("e1", "t1", "after the silence", 0)).await;
    assert_eq!(receive(&mut second).await["payload"]["text"], "sent after the silence");
    assert!(slack.opens().await >= 2);
    assert_eq!(stopped(stop, run, vec![second]).await, Ok(()));
}

#[tokio::test]
async fn failed_opens_are_retried_and_a_refused_token_ends_the_run() {
    let slack =
        FakeSlack::start(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "invalid_auth"}))).await;
    let (_stop, run) = start(&slack, timing(), Arc::new(Recorder::default()));
    let refused = timeout(PATIENCE, run).await.expect("a refused token must end the run").unwrap().unwrap_err();
    assert_eq!(refused.code, "invalid_auth");
    assert!(!refused.to_string().contains(TOKEN));

    let slack = FakeSlack::start(ResponseTemplate::new(503)).await;
    let (stop, run) = start(&slack, timing(), Arc::new(Recorder::default()));
    while slack.opens().await < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stopped(stop, run, vec![]).await, Ok(()), "transient failures never end the run");
    drop(slack.listener);
}

#[tokio::test]
async fn stopping_reads_nothing_new_but_acks_what_is_in_flight() {
    let slack = FakeSlack::serving_sockets().await;
    let gate = Arc::new(Semaphore::new(0));
    let handler = Arc::new(Recorder { gate: Some(Arc::clone(&gate)), ..Recorder::default() });
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut ws = slack.accept().await;
    send(&mut ws, command("e1", "t1", "in flight", 0)).await;
    while handler.commands.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    // Sent after the stop: not read, so Slack would give it to another
    // connection.
    send(&mut ws, command("e2", "t2", "too late", 0)).await;
    gate.add_permits(10);

    assert_eq!(receive(&mut ws).await["envelope_id"], "e1");
    // Then the close, and the run ends.
    loop {
        match timeout(PATIENCE, ws.next()).await.expect("no close came") {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(Message::Text(text))) => panic!("unexpected {text}"),
            _ => {}
        }
    }
    assert_eq!(timeout(PATIENCE, run).await.unwrap().unwrap(), Ok(()));
    assert_eq!(handler.commands.load(Ordering::SeqCst), 1);
}

/// Reads until the service closes the socket (politely or, for one it
/// takes for dead, by dropping it); panics on anything but pings.
async fn closed_by_the_service(ws: &mut ServerSocket) {
    loop {
        match timeout(PATIENCE, ws.next()).await.expect("the service did not close the socket") {
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            Some(Ok(Message::Text(text))) => panic!("unexpected {text}"),
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_replaced_connection_that_slack_leaves_open_is_closed_by_the_service() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, Timing { retire_after: Duration::from_millis(100), ..timing() }, handler);

    let mut old = slack.accept().await;
    send(&mut old, json!({"type": "disconnect", "reason": "warning"})).await;
    let new = slack.accept().await;
    closed_by_the_service(&mut old).await;
    assert_eq!(slack.opens().await, 2);
    assert_eq!(stopped(stop, run, vec![new, old]).await, Ok(()));
}

#[tokio::test]
async fn a_connection_without_hello_is_replaced() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let quick =
        Timing { ping_interval: Duration::from_millis(20), hello_timeout: Duration::from_millis(200), ..timing() };
    let (stop, run) = start(&slack, quick, handler);

    let mut mute = slack.accept_without_hello().await;
    closed_by_the_service(&mut mute).await;
    let mut second = slack.accept().await;
    send(&mut second, command("e1", "t1", "after hello", 0)).await;
    assert_eq!(receive(&mut second).await["payload"]["text"], "sent after hello");
    assert_eq!(stopped(stop, run, vec![second]).await, Ok(()));
}

#[tokio::test]
async fn socket_mode_turned_off_keeps_the_service_trying() {
    let slack = FakeSlack::serving_sockets().await;
    let handler = Arc::new(Recorder::default());
    let (stop, run) = start(&slack, timing(), Arc::clone(&handler));

    let mut first = slack.accept().await;
    send(&mut first, json!({"type": "disconnect", "reason": "link_disabled"})).await;
    first.close(None).await.unwrap();
    // No new connection is opened early for it; once an admin turns Socket
    // Mode back on, the next try gets through.
    let mut second = slack.accept().await;
    send(&mut second, command("e1", "t1", "back on", 0)).await;
    assert_eq!(receive(&mut second).await["payload"]["text"], "sent back on");
    assert_eq!(slack.opens().await, 2);
    assert_eq!(stopped(stop, run, vec![second]).await, Ok(()));
}

#[test]
fn an_answer_is_the_json_text_it_was_given_and_never_broken_json() {
    let reply = br#"{"response_type":"ephemeral","text":"\"ok\" \u0001"}"#;
    assert_eq!(
        super::answer_of(reply.to_vec()).map(|answer| answer.get().to_owned()),
        Some(String::from_utf8(reply.to_vec()).unwrap())
    );
    assert!(super::answer_of(br#"{"text":"#.to_vec()).is_none());
    assert!(super::answer_of(b"\"\xff\"".to_vec()).is_none());
}
