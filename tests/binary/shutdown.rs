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
