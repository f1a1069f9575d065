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
    let log = server.log_text();
    assert!(log.contains("second signal while stopping: exiting now") && log.contains("unfinished=1"), "{log}");
}
