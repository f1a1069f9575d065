//! SIGTERM: stop accepting, finish what is in flight, deliver what was
//! deferred, exit 0.

use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

#[tokio::test]
async fn sigterm_right_after_the_acknowledgement_still_delivers_the_outcome_then_exits_0() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"idMessage": "sent-while-stopping"}))
                .set_delay(Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&green_api)
        .await;
    Mock::given(method("POST"))
        .and(path("/commands/1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&slack)
        .await;

    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("SLACK_ACK_BUDGET_MS", "100".into()));
    vars.push(("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".into()));
    let mut server = Server::start(vars).await;
    let client = client();

    let command = signed_command("10000000 79876543210 Ivan", &format!("{}/commands/1", slack.uri()));
    let ack = post(&client, &server.url("/slack/commands"), &command).await;
    assert_eq!(ack.status(), 200);
    assert!(ack.text().await.unwrap().contains("Sending"), "the command was deferred");
    server.signal("TERM");

    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("the server exits within the grace period")
        .unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log_text());
    let posts = slack.received_requests().await.unwrap();
    assert_eq!(posts.len(), 1, "response_url got the outcome before the process exited");
    let reply: serde_json::Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(reply["response_type"], "in_channel");
    assert!(reply["text"].as_str().unwrap().contains("sent-while-stopping"));
}

#[tokio::test]
async fn sigint_on_an_idle_server_exits_0_promptly_and_stops_accepting() {
    let green_api = MockServer::start().await;
    let mut server = Server::start(green_api_vars(&green_api.uri())).await;
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.signal("INT");
    let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(client().get(server.url("/healthz")).send().await.is_err(), "nothing listens any more");
}

#[tokio::test]
async fn a_second_signal_during_the_drain_exits_at_once() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"idMessage": "too-late"}))
                .set_delay(Duration::from_secs(120)),
        )
        .expect(1)
        .mount(&green_api)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&slack).await;

    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("SLACK_ACK_BUDGET_MS", "100".into()));
    // A drain that would wait up to 310 s for the deferred delivery.
    vars.push(("GREEN_API_TIMEOUT_MS", "300000".into()));
    vars.push(("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".into()));
    let mut server = Server::start(vars).await;
    let command = signed_command("10000000 79876543210 Ivan", &format!("{}/commands/1", slack.uri()));
    let ack = post(&client(), &server.url("/slack/commands"), &command).await;
    assert!(ack.text().await.unwrap().contains("Sending"), "the command was deferred");

    for (signal, first) in [("TERM", true), ("INT", false)] {
        server.signal(signal);
        if first {
            let draining = wait_for(Duration::from_secs(20), || {
                server.log.lock().unwrap().iter().any(|l| l.contains("stopping: no new connections")).then_some(())
            })
            .await;
            assert!(draining.is_some(), "log:\n{}", server.log_text());
        }
    }

    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("the second signal did not end the drain; log:\n{}", server.log_text()))
        .unwrap();
    assert_eq!(status.code(), Some(1), "not a clean stop; log:\n{}", server.log_text());
    let log = server.log_after_exit().await;
    assert!(log.contains("second signal while stopping: exiting now") && log.contains("unfinished=1"), "{log}");
}

#[tokio::test]
async fn a_form_outcome_that_slack_rate_limits_past_the_grace_period_is_logged_per_command_before_exit() {
    use serde_json::json;
    use wiremock::matchers::body_partial_json;

    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .and(body_partial_json(json!({"chatId": "79876543210@c.us"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "drain-id-7"})))
        .expect(1)
        .mount(&green_api)
        .await;
    // Slack asks for a minute, well past the grace period (GREEN-API's
    // timeout + 10 s) and within the post's own budget.
    Mock::given(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .expect(1)
        .mount(&slack)
        .await;

    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("GREEN_API_TIMEOUT_MS", "2000".into()));
    vars.push(("SLACK_BOT_TOKEN", "xoxb-1-2-draintestbottoken".into()));
    vars.push(("SLACK_API_URL", format!("{}/api/", slack.uri())));
    vars.push(("REPLY_LANGUAGE", "en".into()));
    let mut server = Server::start(vars).await;

    let values: serde_json::Map<String, serde_json::Value> =
        [("chat_id", "79876543210@c.us"), ("phone", "+7 987 654-32-10"), ("first_name", "Ivan")]
            .into_iter()
            .map(|(id, value)| (id.to_owned(), json!({ id: {"type": "plain_text_input", "value": value} })))
            .collect();
    let payload = json!({
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "view": {
            "callback_id": "sendcontact",
            "private_metadata": json!({"c": "C2147483705", "l": "en"}).to_string(),
            "state": {"values": values},
        }
    });
    let form = signed_form(&[("payload", &payload.to_string())]);
    let answer = post(&client(), &server.url("/slack/interactions"), &form).await;
    assert_eq!(answer.status(), 200);
    let (log, line) = stop_while_slack_rate_limits(
        &mut server,
        &slack,
        "chat.postMessage",
        "could not post the form's outcome to Slack; tell the user by hand",
    )
    .await;
    for field in [
        "ERROR",
        "team_id=T0001",
        "user_id=U2147483697",
        "channel_id=C2147483705",
        "outcome=sent",
        "id_message=\"drain-id-7\"",
        "error=\"the service stopped before Slack took the outcome\"",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
    assert!(!line.contains("79876543210"), "the personal chat is masked: {line}");
    assert!(!log.contains("draintestbottoken"), "{log}");
}

#[tokio::test]
async fn a_response_url_delivery_that_slack_rate_limits_past_the_grace_period_is_logged_before_exit() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"idMessage": "drain-id-8"}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&green_api)
        .await;
    Mock::given(method("POST"))
        .and(path("/commands/1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .expect(1)
        .mount(&slack)
        .await;

    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("GREEN_API_TIMEOUT_MS", "2000".into()));
    vars.push(("SLACK_ACK_BUDGET_MS", "100".into()));
    vars.push(("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".into()));
    let mut server = Server::start(vars).await;
    let command = signed_command("10000000 79876543210 Ivan", &format!("{}/commands/1", slack.uri()));
    let ack = post(&client(), &server.url("/slack/commands"), &command).await;
    assert!(ack.text().await.unwrap().contains("Sending"), "the command was deferred");
    let (_, line) = stop_while_slack_rate_limits(
        &mut server,
        &slack,
        "response_url",
        "could not deliver the outcome to Slack; tell the user by hand",
    )
    .await;
    for field in
        ["ERROR", "team_id=T0001", "user_id=U2147483697", "channel_id=C2147483705", "id_message=\"drain-id-8\""]
    {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}

/// Waits until Slack (rate-limiting) has been asked once, stops the server
/// with SIGTERM, expects a clean exit within the grace period, and returns
/// the whole log with its line containing `error_line`.
async fn stop_while_slack_rate_limits(
    server: &mut Server,
    slack: &MockServer,
    asked: &str,
    error_line: &str,
) -> (String, String) {
    let rate_limited = tokio::time::timeout(Duration::from_secs(20), async {
        while slack.received_requests().await.unwrap_or_default().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(rate_limited.is_ok(), "{asked} was called; log:\n{}", server.log_text());
    server.signal("TERM");

    let status = tokio::time::timeout(Duration::from_secs(45), server.child.wait())
        .await
        .expect("the server exits within the grace period, not after Slack's minute")
        .unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log_text());
    let log = server.log_after_exit().await;
    let line = log
        .lines()
        .find(|l| l.contains(error_line))
        .unwrap_or_else(|| panic!("no per-command error line:\n{log}"))
        .to_owned();
    (log, line)
}

#[tokio::test]
async fn while_a_send_is_held_after_sigterm_new_connections_are_refused_and_open_ones_are_closed() {
    use tokio::net::TcpStream;

    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    // The send waits here until the test opens the gate: the drain has a
    // send in flight for as long as the test needs, whatever the machine's
    // speed.
    let gate = Gate::default();
    mount_held_send(&green_api, &gate).await;
    mount_response_url(&slack, "/commands/1").await;
    let mut server = Server::start(held_send_vars(&green_api)).await;

    let command = signed_command("10000000 79876543210 Ivan", &format!("{}/commands/1", slack.uri()));
    let ack = post(&client(), &server.url("/slack/commands"), &command).await;
    assert!(ack.text().await.unwrap().contains("Sending"), "the command was deferred");
    // A kept-alive connection, as a load balancer or a prober holds one.
    let mut kept = kept_alive(server.port).await;

    server.signal("TERM");
    wait_until_draining(&server).await;

    let refused = TcpStream::connect(("127.0.0.1", server.port)).await;
    assert_eq!(
        refused.as_ref().map_err(std::io::Error::kind).err(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "a new connection is refused at once, not left waiting: {refused:?}"
    );
    let (head, body) = exchange(&mut kept, "GET /readyz HTTP/1.1\r\nHost: test\r\n\r\n").await;
    assert!(head.starts_with("http/1.1 503") && head.contains("connection: close"), "{head}\n{body}");
    assert_closed(&mut kept).await;

    assert!(server.child.try_wait().unwrap().is_none(), "the process waits for the held send");
    assert!(slack.received_requests().await.unwrap().is_empty(), "no outcome before GREEN-API answers");
    gate.open();
    let log = exits_cleanly(&mut server).await;
    assert!(!log.contains("Error accepting connection"), "the accept loop let go before the socket closed:\n{log}");
    assert_delivered(&slack, 1).await;
}

#[tokio::test]
async fn a_command_on_a_connection_kept_open_across_sigterm_is_sent_and_its_late_outcome_delivered() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    let gate = Gate::default();
    mount_held_send(&green_api, &gate).await;
    mount_response_url(&slack, "/commands/1").await;
    let mut server = Server::start(held_send_vars(&green_api)).await;
    let mut kept = kept_alive(server.port).await;

    // Nothing else is running: only the open connection keeps the drain,
    // and the worker the command's send runs on, going.
    server.signal("TERM");
    wait_until_draining(&server).await;
    let command = signed_command("10000000 79876543210 Ivan", &format!("{}/commands/1", slack.uri()));
    let request = format!(
        "POST /slack/commands HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         X-Slack-Request-Timestamp: {}\r\nX-Slack-Signature: {}\r\nContent-Length: {}\r\n\r\n{}",
        command.timestamp,
        command.signature,
        command.body.len(),
        command.body
    );
    let (head, body) = exchange(&mut kept, &request).await;
    assert!(head.starts_with("http/1.1 200") && head.contains("connection: close"), "{head}\n{body}");
    assert!(body.contains("Sending"), "the command was deferred: {body}");
    assert_closed(&mut kept).await;

    assert!(server.child.try_wait().unwrap().is_none(), "the process waits for the held send");
    gate.open();
    exits_cleanly(&mut server).await;
    assert_delivered(&slack, 1).await;
}

/// The environment for a held send: deferred after 100 ms, and a grace
/// period (70 s) far longer than a test holds it.
fn held_send_vars(green_api: &MockServer) -> Vec<(&'static str, String)> {
    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("SLACK_ACK_BUDGET_MS", "100".into()));
    vars.push(("GREEN_API_TIMEOUT_MS", "60000".into()));
    vars.push(("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".into()));
    vars
}

/// One send, answered once `gate` opens.
async fn mount_held_send(green_api: &MockServer, gate: &Gate) {
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            gate.answer(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"idMessage": "held-while-stopping"})),
            ),
        )
        .expect(1)
        .mount(green_api)
        .await;
}

async fn mount_response_url(slack: &MockServer, url_path: &str) {
    Mock::given(method("POST"))
        .and(path(url_path))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(slack)
        .await;
}

/// A connection that has had one answer and stays open.
async fn kept_alive(port: u16) -> tokio::net::TcpStream {
    let mut connection = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (head, _) = exchange(&mut connection, "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await;
    assert!(head.starts_with("http/1.1 200") && !head.contains("connection: close"), "{head}");
    connection
}

async fn wait_until_draining(server: &Server) {
    let draining = wait_for(Duration::from_secs(20), || {
        server.log.lock().unwrap().iter().any(|l| l.contains("stopping: no new connections")).then_some(())
    })
    .await;
    assert!(draining.is_some(), "log:\n{}", server.log_text());
}

/// Waits for the exit, expects 0 and "stopped cleanly"; the whole log.
async fn exits_cleanly(server: &mut Server) -> String {
    let status = tokio::time::timeout(Duration::from_secs(60), server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("the server did not exit; log:\n{}", server.log_text()))
        .unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log_text());
    let log = server.log_after_exit().await;
    assert!(log.contains("stopped cleanly"), "{log}");
    log
}

/// Slack got `outcomes` late outcomes, each the held send's.
async fn assert_delivered(slack: &MockServer, outcomes: usize) {
    let posts = slack.received_requests().await.unwrap();
    assert_eq!(posts.len(), outcomes, "each outcome reached its response_url once, before the exit");
    for post in posts {
        let reply: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert!(reply["text"].as_str().unwrap().contains("held-while-stopping"), "{reply}");
    }
}

#[tokio::test]
async fn with_metrics_on_their_own_port_sigterm_still_exits_0() {
    let green_api = MockServer::start().await;
    let mut vars = green_api_vars(&green_api.uri());
    vars.push(("METRICS_PORT", "0".into()));
    let mut server = Server::start(vars).await;
    server.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), server.child.wait())
        .await
        .unwrap_or_else(|_| panic!("the server did not stop; log:\n{}", server.log_text()))
        .unwrap();
    assert_eq!(status.code(), Some(0), "log:\n{}", server.log_text());
}

/// A wiremock answer held back until [`Gate::open`] (or until the gate is
/// dropped, so a failing test does not hang). It blocks the mock server's
/// own thread meanwhile (wiremock gives each server one), so that server
/// answers nothing else until then.
#[derive(Default)]
struct Gate(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

struct HeldAnswer {
    gate: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    response: ResponseTemplate,
}

impl Gate {
    fn answer(&self, response: ResponseTemplate) -> HeldAnswer {
        HeldAnswer { gate: std::sync::Arc::clone(&self.0), response }
    }

    fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

impl wiremock::Respond for HeldAnswer {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let (open, opened) = &*self.gate;
        let _open = opened.wait_while(open.lock().unwrap(), |open| !*open).unwrap();
        self.response.clone()
    }
}

/// Sends `request` on an open connection and reads its answer by hand, to
/// see the headers as sent: the head (lower case) and the body.
async fn exchange(connection: &mut tokio::net::TcpStream, request: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    connection.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = async {
        loop {
            if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if answer.len() >= end + 4 + length {
                    return (head, String::from_utf8_lossy(&answer[end + 4..end + 4 + length]).into_owned());
                }
            }
            let mut chunk = [0u8; 4096];
            let n = connection.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the connection closed before the answer: {:?}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read).await.expect("an answer")
}

/// The server has ended `connection`, as its last answer said it would.
async fn assert_closed(connection: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut rest = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(30), connection.read(&mut rest)).await.expect("the end");
    assert!(matches!(read, Ok(0) | Err(_)), "the connection stays open: {read:?}");
}
