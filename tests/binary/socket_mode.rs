//! Socket Mode as an admin meets it from the shell: a token Slack refuses
//! stops `serve` with what to do, and `check` verifies the token.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

const APP_TOKEN: &str = "xapp-1-A0123456789-1234567890-f00dfeedbeef";

/// Slack's Web API answering apps.connections.open with `answer`.
async fn slack_answering(answer: serde_json::Value) -> MockServer {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/apps.connections.open"))
        .and(header("authorization", format!("Bearer {APP_TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(&slack)
        .await;
    slack
}

fn socket_mode_vars(green_api: &MockServer, slack: &MockServer) -> Vec<(&'static str, String)> {
    let mut vars = green_api_vars(&green_api.uri());
    vars.extend([
        ("SLACK_APP_TOKEN", APP_TOKEN.to_owned()),
        ("SLACK_API_URL", format!("{}/api/", slack.uri())),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", "0".to_owned()),
    ]);
    vars
}

async fn run(args: &[&str], vars: &[(&str, String)]) -> (Option<i32>, String, String) {
    tokio::time::timeout(Duration::from_secs(60), run_in(&scratch_dir(), args, vars))
        .await
        .expect("the binary must exit by itself")
}

#[tokio::test]
async fn serve_with_an_app_token_slack_refuses_exits_saying_what_to_do() {
    let green_api = MockServer::start().await;
    for (code, advice) in [
        ("invalid_auth", "Basic Information → App-Level Tokens"),
        ("not_allowed_token_type", "not a bot or user token"),
    ] {
        let slack = slack_answering(json!({"ok": false, "error": code})).await;
        let (status, out, err) = run(&["serve"], &socket_mode_vars(&green_api, &slack)).await;
        assert_eq!(status, Some(1), "{err}");
        assert!(err.contains(&format!("Slack refused SLACK_APP_TOKEN ({code})")), "{err}");
        assert!(err.contains(advice) && err.contains("connections:write"), "{err}");
        assert!(!out.contains(APP_TOKEN) && !err.contains(APP_TOKEN), "the token leaked: {out}{err}");
    }
}

#[tokio::test]
async fn a_token_of_the_wrong_kind_is_a_configuration_error_before_anything_starts() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&slack).await;
    let mut vars = socket_mode_vars(&green_api, &slack);
    vars.retain(|(k, _)| *k != "SLACK_APP_TOKEN");
    vars.push(("SLACK_APP_TOKEN", "xoxb-1234-5678-secretbotpart".to_owned()));
    let (status, _, err) = run(&["serve"], &vars).await;
    assert_eq!(status, Some(2), "{err}");
    assert!(err.contains("SLACK_APP_TOKEN must be the app-level token, which starts with xapp-"), "{err}");
    assert!(!err.contains("secretbotpart") && !err.contains("SLACK_SIGNING_SECRET"), "{err}");
}

async fn authorized_instance() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{ID_INSTANCE}/getStateInstance/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"stateInstance": "authorized"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{ID_INSTANCE}/getSettings/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"typeInstance": "telegram"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn check_verifies_the_app_token_when_one_is_set() {
    let green_api = authorized_instance().await;
    let slack = slack_answering(json!({"ok": true, "url": "wss://wss-primary.slack.com/link/?ticket=1"})).await;
    let (status, out, _) = run(&["check"], &socket_mode_vars(&green_api, &slack)).await;
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("slack: SLACK_APP_TOKEN opens Socket Mode connections."), "{out}");
    assert!(!out.contains("ticket"), "the socket URL is a credential: {out}");

    let slack = slack_answering(json!({"ok": false, "error": "invalid_auth"})).await;
    let (status, out, _) = run(&["check"], &socket_mode_vars(&green_api, &slack)).await;
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("authorized: the instance can send"), "{out}");
    assert!(out.contains("Slack refused SLACK_APP_TOKEN (invalid_auth)"), "{out}");
    assert!(!out.contains(APP_TOKEN));
}

#[tokio::test]
async fn sigterm_acks_the_command_in_flight_then_closes_the_socket_and_exits_0() {
    let green_api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"idMessage": "sent-while-stopping"}))
                .set_delay(Duration::from_millis(1000)),
        )
        .expect(1)
        .mount(&green_api)
        .await;
    let sockets = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/link/?ticket=1", sockets.local_addr().unwrap());
    let slack = slack_answering(json!({"ok": true, "url": url})).await;
    let mut vars = socket_mode_vars(&green_api, &slack);
    vars.retain(|(k, _)| !matches!(*k, "HOST" | "PORT"));
    let mut server = Server::start(vars).await;

    let patience = Duration::from_secs(30);
    let (tcp, _) = tokio::time::timeout(patience, sockets.accept()).await.expect("serve connects").unwrap();
    let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
    socket.send(Message::text(json!({"type": "hello", "num_connections": 1}).to_string())).await.unwrap();
    let envelope = json!({
        "envelope_id": "e1", "type": "slash_commands", "accepts_response_payload": true,
        "payload": {"team_id": "T1", "user_id": "U1", "channel_id": "C1", "command": "/sendcontact",
                    "text": "10000000 79876543210 Ivan", "trigger_id": "t1"}
    });
    socket.send(Message::text(envelope.to_string())).await.unwrap();
    // GREEN-API also gets getSettings at start-up: wait for the send itself.
    let sending = wait_for(patience, || {
        let requests = futures_util::FutureExt::now_or_never(green_api.received_requests()).flatten()?;
        requests.iter().any(|r| r.url.path() == SEND_CONTACT_PATH).then_some(())
    })
    .await;
    assert!(sending.is_some(), "the command reached GREEN-API");
    server.signal("TERM");

    let mut acks = Vec::new();
    loop {
        match tokio::time::timeout(patience, socket.next()).await.expect("the socket closes") {
            Some(Ok(Message::Text(text))) => {
                acks.push(serde_json::from_str::<serde_json::Value>(text.as_str()).unwrap())
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => {}
        }
    }
    assert_eq!(acks.len(), 1, "{acks:?}; log:\n{}", server.log_text());
    assert_eq!(acks[0]["envelope_id"], "e1");
    assert!(acks[0]["payload"]["text"].as_str().unwrap().contains("sent-while-stopping"), "{}", acks[0]);
    let status = tokio::time::timeout(patience, server.child.wait()).await.expect("serve exits").unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log_text());
}
