//! Socket Mode through the running app: wiremock plays GREEN-API, Slack's
//! Web API (apps.connections.open) and response_url; a local WebSocket server
//! plays Slack's socket.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use slack_sendcontact::slack::signature::SigningSecret;
use slack_sendcontact::socket_mode::{AppToken, Timing};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::modal::{CHANNEL, metadata, submission, valid_values};

/// Long enough for a loaded CI machine; nothing asserts on time.
const PATIENCE: Duration = Duration::from_secs(30);
const APP_TOKEN: &str = "xapp-1-A0123456789-1234567890-0a1b2c3d4e5f";
const TRIGGER: &str = "13345224609.738474920.8088930838d88f008e0";

type Socket = WebSocketStream<TcpStream>;

/// Slack's side: apps.connections.open, answered with the address of a
/// WebSocket listener on this machine.
struct FakeSlack {
    web_api: MockServer,
    sockets: TcpListener,
}

impl FakeSlack {
    /// `opens`: how many times apps.connections.open must be called.
    async fn start(opens: u64) -> Self {
        let web_api = MockServer::start().await;
        let sockets = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/link/?ticket=test-ticket", sockets.local_addr().unwrap());
        Mock::given(method("POST"))
            .and(path("/api/apps.connections.open"))
            .and(header("authorization", format!("Bearer {APP_TOKEN}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "url": url})))
            .expect(opens)
            .mount(&web_api)
            .await;
        Self { web_api, sockets }
    }

    /// The app, receiving commands over this Slack's sockets only.
    async fn spawn_app(&self) -> TestApp {
        let api_url = format!("{}/api/", self.web_api.uri());
        spawn_app_tuned(
            |config| {
                config.app_token = Some(AppToken::parse(APP_TOKEN).unwrap());
                config.slack_api_url = api_url.parse().unwrap();
                config.signing_secret = SigningSecret::unset();
            },
            |tuning| {
                tuning.socket_mode = Timing {
                    backoff_base: Duration::from_millis(10),
                    backoff_max: Duration::from_millis(100),
                    silence_timeout: PATIENCE,
                    hello_timeout: PATIENCE,
                    ..Timing::default()
                }
            },
        )
        .await
    }

    /// The app's next connection, greeted as Slack greets it.
    async fn accept(&self) -> Socket {
        let (tcp, _) = timeout(PATIENCE, self.sockets.accept()).await.expect("the app did not connect").unwrap();
        let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
        send(&mut socket, json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "test"}})).await;
        socket
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The app's next text message (an ack), skipping pings and pongs.
async fn next_ack(socket: &mut Socket) -> Value {
    loop {
        match timeout(PATIENCE, socket.next()).await.expect("no ack came").expect("the app closed the socket") {
            Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).unwrap(),
            Ok(Message::Close(_)) => panic!("the app closed the socket"),
            Ok(_) => continue,
            Err(e) => panic!("{e}"),
        }
    }
}

/// A slash_commands envelope with the fields of the app's HTTP form.
fn command_envelope(app: &TestApp, envelope_id: &str, text: &str, trigger_id: &str, retry_attempt: u64) -> Value {
    json!({
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": true,
        "retry_attempt": retry_attempt,
        "payload": {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": "T0001",
            "team_domain": "example",
            "channel_id": "C2147483705",
            "channel_name": "test",
            "user_id": "U2147483697",
            "user_name": "Steve",
            "command": "/sendcontact",
            "text": text,
            "api_app_id": "A123456",
            "is_enterprise_install": "false",
            "response_url": format!("{}{RESPONSE_URL_PATH}", app.slack.uri()),
            "trigger_id": trigger_id
        }
    })
}

#[tokio::test]
async fn a_command_over_the_socket_sends_once_and_is_acked_with_the_reply() {
    let slack = FakeSlack::start(1).await;
    let app = slack.spawn_app().await;
    send_contact().respond_with(id_message("BAE5F4886F6F2D05")).expect(1).mount(&app.green_api).await;

    let mut socket = slack.accept().await;
    send(&mut socket, command_envelope(&app, "e1", "10000000 +7 (987) 654-32-10 Ivan", TRIGGER, 0)).await;
    let ack = next_ack(&mut socket).await;

    assert_eq!(ack["envelope_id"], "e1");
    assert_eq!(ack["payload"]["response_type"], "in_channel", "{ack}");
    assert!(text_of(&ack["payload"]).contains("BAE5F4886F6F2D05"), "{ack}");
    assert!(!ack.to_string().contains(TOKEN) && !ack.to_string().contains(APP_TOKEN));
    assert!(app.response_url_posts().await.is_empty());
}

#[tokio::test]
async fn both_doors_give_the_same_replies() {
    let slack = FakeSlack::start(1).await;
    let api_url = format!("{}/api/", slack.web_api.uri());
    // The signing secret stays: HTTP and Socket Mode at once.
    let app = spawn_app_with(|config| {
        config.app_token = Some(AppToken::parse(APP_TOKEN).unwrap());
        config.slack_api_url = api_url.parse().unwrap();
    })
    .await;
    send_contact().respond_with(id_message("x")).expect(0).mount(&app.green_api).await;

    let mut socket = slack.accept().await;
    for (i, text) in ["help", "", "10000000 12ab Ivan", "10000000 79876543210 \"Ivan"].into_iter().enumerate() {
        let over_http = reply(app.post_command(text).await).await;
        send(&mut socket, command_envelope(&app, &format!("e{i}"), text, &format!("t{i}"), 0)).await;
        let over_socket = next_ack(&mut socket).await;
        assert_eq!(over_socket["payload"], over_http, "{text:?}");
    }
}

#[tokio::test]
async fn a_slow_send_is_acked_in_time_and_the_outcome_goes_to_response_url() {
    let slack = FakeSlack::start(1).await;
    let api_url = format!("{}/api/", slack.web_api.uri());
    let app = spawn_app_tuned(
        |config| {
            config.app_token = Some(AppToken::parse(APP_TOKEN).unwrap());
            config.slack_api_url = api_url.parse().unwrap();
            config.ack_budget = Duration::from_millis(100);
        },
        |_| {},
    )
    .await;
    send_contact()
        .respond_with(id_message("LATE-ID").set_delay(Duration::from_millis(800)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let mut socket = slack.accept().await;
    send(&mut socket, command_envelope(&app, "e1", "10000000 79876543210 Ivan", TRIGGER, 0)).await;
    let ack = next_ack(&mut socket).await;
    assert_ephemeral_containing(&ack["payload"], "GREEN-API is taking a while");

    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "in_channel");
    assert!(text_of(&posts[0]).contains("LATE-ID"), "{}", posts[0]);
}

#[tokio::test]
async fn a_duplicated_envelope_sends_once() {
    let slack = FakeSlack::start(1).await;
    let app = slack.spawn_app().await;
    send_contact().respond_with(id_message("ONCE")).expect(1).mount(&app.green_api).await;

    let mut socket = slack.accept().await;
    let envelope = command_envelope(&app, "e1", "10000000 79876543210 Ivan", TRIGGER, 0);
    send(&mut socket, envelope.clone()).await;
    let first = next_ack(&mut socket).await;
    send(&mut socket, envelope).await;
    let again = next_ack(&mut socket).await;
    // Slack's retry of the same command in a new envelope.
    send(&mut socket, command_envelope(&app, "e2", "10000000 79876543210 Ivan", TRIGGER, 1)).await;
    let retried = next_ack(&mut socket).await;

    assert_eq!(again, first);
    assert_eq!(retried["envelope_id"], "e2");
    assert_eq!(retried["payload"], first["payload"]);
    assert!(text_of(&first["payload"]).contains("ONCE"));
}

#[tokio::test]
async fn a_refresh_reconnects_without_losing_a_command() {
    let slack = FakeSlack::start(2).await;
    let app = slack.spawn_app().await;
    send_contact().respond_with(id_message("ID")).expect(2).mount(&app.green_api).await;

    let mut old = slack.accept().await;
    send(&mut old, json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "test"}})).await;
    // The next connection comes while the old one is still open...
    let mut new = slack.accept().await;
    // ...and the old one still answers what Slack sent it before closing it.
    send(&mut old, command_envelope(&app, "e1", "10000000 79876543210 Ivan", "t1", 0)).await;
    assert_eq!(next_ack(&mut old).await["envelope_id"], "e1");
    old.close(None).await.unwrap();
    send(&mut new, command_envelope(&app, "e2", "10000000 79876543210 Petr", "t2", 0)).await;
    let ack = next_ack(&mut new).await;
    assert_eq!(ack["envelope_id"], "e2");
    assert!(text_of(&ack["payload"]).contains("Petr"), "{ack}");
}

#[tokio::test]
async fn a_killed_socket_reconnects() {
    let slack = FakeSlack::start(2).await;
    let app = slack.spawn_app().await;
    send_contact().respond_with(id_message("ID")).expect(1).mount(&app.green_api).await;

    let first = slack.accept().await;
    drop(first);
    let mut second = slack.accept().await;
    send(&mut second, command_envelope(&app, "e1", "10000000 79876543210 Ivan", TRIGGER, 0)).await;
    assert_eq!(next_ack(&mut second).await["payload"]["response_type"], "in_channel");

    // The hello reaches the gauge on its own time: wait for it.
    let mut metrics = String::new();
    for _ in 0..600 {
        metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
        if metrics.lines().any(|l| l == "slack_sendcontact_socket_mode_connected 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in [
        "slack_sendcontact_socket_mode_connected 1",
        r#"slack_sendcontact_socket_mode_reconnects_total{reason="dropped"} 1"#,
        r#"slack_sendcontact_socket_mode_reconnects_total{reason="refresh_requested"} 0"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} missing from\n{metrics}");
    }
}

#[tokio::test]
async fn without_a_signing_secret_http_commands_and_forms_are_refused_but_health_and_metrics_answer() {
    let slack = FakeSlack::start(1).await;
    let app = slack.spawn_app().await;
    send_contact().respond_with(id_message("x")).expect(0).mount(&app.green_api).await;
    let _socket = slack.accept().await;

    // Signed with what would be the secret: there is none to check it with.
    let response = app.post_command("10000000 79876543210 Ivan").await;
    assert_eq!(response.status(), 401);
    let response = app.post_interaction(&submission(&valid_values(), &metadata("en"))).await;
    assert_eq!(response.status(), 401);
    let ssl_check = app.post_with_headers("ssl_check=1&token=x", &[]).await;
    assert_eq!(ssl_check.status(), 200, "Slack's certificate probe needs no secret");
    for probe in ["/healthz", "/metrics"] {
        let response = app.client.get(format!("{}{probe}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{probe}");
    }
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"slack_sendcontact_signature_rejections_total{reason="not_configured"} 2"#),
        "{metrics}"
    );
}

async fn readiness(app: &TestApp) -> (u16, String) {
    let response = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Polls /readyz (generously) until it answers `status`.
async fn wait_for_readiness(app: &TestApp, status: u16) -> String {
    for _ in 0..600 {
        let (now, body) = readiness(app).await;
        if now == status {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/readyz never answered {status}");
}

#[tokio::test]
async fn with_socket_mode_the_only_door_readiness_follows_the_connection_to_slack() {
    let slack = FakeSlack::start(2).await;
    let app = slack.spawn_app().await;
    // The app is connecting, but Slack has not said hello.
    assert_eq!(readiness(&app).await, (503, "not connected to Slack\n".to_owned()));

    let socket = slack.accept().await;
    assert_eq!(wait_for_readiness(&app, 200).await, "ready\n");
    drop(socket);
    assert_eq!(wait_for_readiness(&app, 503).await, "not connected to Slack\n");
    let _socket = slack.accept().await;
    wait_for_readiness(&app, 200).await;
}

#[tokio::test]
async fn with_http_too_readiness_does_not_wait_for_slack() {
    let slack = FakeSlack::start(1).await;
    let api_url = format!("{}/api/", slack.web_api.uri());
    let app = spawn_app_with(|config| {
        config.app_token = Some(AppToken::parse(APP_TOKEN).unwrap());
        config.slack_api_url = api_url.parse().unwrap();
    })
    .await;
    assert_eq!(readiness(&app).await.0, 200, "HTTP commands are served meanwhile");
    let _socket = slack.accept().await;
}

/// The app with a bot token (its Web API on `app.slack`) taking commands and
/// forms over this Slack's sockets only.
async fn spawn_app_with_bot_over(slack: &FakeSlack) -> TestApp {
    let api_url = format!("{}/api/", slack.web_api.uri());
    spawn_app_with_bot(|config| {
        config.app_token = Some(AppToken::parse(APP_TOKEN).unwrap());
        // One SLACK_API_URL in production; two mocks here, so that
        // apps.connections.open answers before the app's Web API mocks exist.
        config.slack_api_url = api_url.parse().unwrap();
        config.signing_secret = SigningSecret::unset();
    })
    .await
}

fn interactive_envelope(envelope_id: &str, payload: Value) -> Value {
    json!({"envelope_id": envelope_id, "type": "interactive", "accepts_response_payload": true, "payload": payload})
}

#[tokio::test]
async fn the_form_opens_and_a_submission_sends_once_over_the_socket() {
    let slack = FakeSlack::start(1).await;
    let app = spawn_app_with_bot_over(&slack).await;
    web_api("views.open")
        .and(body_partial_json(json!({"trigger_id": TRIGGER, "view": {"callback_id": "sendcontact"}})))
        .respond_with(slack_ok(json!({"view": {"id": "V1"}})))
        .expect(1)
        .mount(&app.slack)
        .await;
    send_contact().respond_with(id_message("BAE5F4886AD98765")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": CHANNEL})))
        .respond_with(slack_ok(json!({"ts": "1.2"})))
        .expect(1)
        .mount(&app.slack)
        .await;

    let mut socket = slack.accept().await;
    // The command alone: the form opens, and the ack is empty, as the HTTP
    // route's 200 is.
    send(&mut socket, command_envelope(&app, "e1", "", TRIGGER, 0)).await;
    assert_eq!(next_ack(&mut socket).await, json!({"envelope_id": "e1"}));
    // The submission: an empty ack closes the form; the bot posts the card.
    let form = submission(&valid_values(), &metadata("en"));
    send(&mut socket, interactive_envelope("e2", form.clone())).await;
    assert_eq!(next_ack(&mut socket).await, json!({"envelope_id": "e2"}));
    let post = &app.wait_for_web_api_calls("chat.postMessage", 1).await[0];
    assert!(post["text"].as_str().unwrap().contains("BAE5F4886AD98765"), "{post}");
    // Delivered again: acknowledged, not sent again.
    send(&mut socket, interactive_envelope("e2", form)).await;
    assert_eq!(next_ack(&mut socket).await, json!({"envelope_id": "e2"}));
}

#[tokio::test]
async fn an_invalid_form_over_the_socket_gets_its_errors_in_the_ack() {
    let slack = FakeSlack::start(1).await;
    let app = spawn_app_with_bot_over(&slack).await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;

    let mut socket = slack.accept().await;
    let values = [("chat_id", "ten"), ("phone", "123"), ("first_name", "Ivan")];
    send(&mut socket, interactive_envelope("e1", submission(&values, &metadata("en")))).await;
    let ack = next_ack(&mut socket).await;

    assert_eq!(ack["payload"]["response_action"], "errors", "{ack}");
    let errors = ack["payload"]["errors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["chat_id", "phone"], "{ack}");
}

#[tokio::test]
async fn the_chat_menus_options_come_back_in_the_ack_over_the_socket() {
    let slack = FakeSlack::start(1).await;
    let app = spawn_app_with_bot_over(&slack).await;
    let mut socket = slack.accept().await;
    let suggestion = json!({
        "type": "block_suggestion",
        "team": {"id": "T0001"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "action_id": "chat_id",
        "block_id": "chat_id",
        "value": "10000000",
        "view": {"callback_id": "sendcontact", "private_metadata": metadata("ru")},
    });
    send(&mut socket, interactive_envelope("e1", suggestion)).await;
    let ack = next_ack(&mut socket).await;
    assert_eq!(
        ack,
        json!({"envelope_id": "e1", "payload": {"options": [
            {"text": {"type": "plain_text", "text": "Отправить в чат 10000000"}, "value": "10000000"}
        ]}}),
    );
    drop(app);
}
