//! Configuration that fails closed, signals that are obeyed, and a log that
//! believes only what it can check: issue 14, through the real binary.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

async fn run(args: &[&str], vars: &[(&str, String)]) -> (Option<i32>, String, String) {
    run_in(&scratch_dir(), args, vars).await
}

fn serve_vars(green_api_url: &str) -> Vec<(&'static str, String)> {
    let mut vars = green_api_vars(green_api_url);
    vars.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()));
    vars.push(("HOST", "127.0.0.1".to_owned()));
    vars.push(("PORT", "0".to_owned()));
    vars
}

#[tokio::test]
async fn an_ack_budget_above_2500_ms_is_refused_at_start_with_the_reason() {
    let mut vars = serve_vars("http://127.0.0.1:9");
    vars.push(("SLACK_ACK_BUDGET_MS", "2900".to_owned()));
    let (code, _, err) = run(&["serve"], &vars).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("SLACK_ACK_BUDGET_MS='2900'") && err.contains("from 0 to 2500"), "{err}");
    assert!(err.contains("Slack gives up 3000 ms after sending the command"), "{err}");
}

#[tokio::test]
async fn check_reads_a_200_carrying_code_401_as_bad_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"code": 401, "description": "Unauthorized"})))
        .expect(2)
        .mount(&server)
        .await;
    let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("state: could not be read") && out.contains("did not accept this bot's credentials"), "{out}");
    assert!(!out.contains("state: unknown"), "{out}");
}

#[tokio::test]
async fn check_sends_an_instance_problem_to_the_admin() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string("Instance account is expired. Renew your instance"))
        .expect(2)
        .mount(&server)
        .await;
    let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("account is expired") && !out.contains("check the chat id"), "{out}");
}

/// Sends an unsigned command claiming, through forwarding headers, to come
/// from elsewhere, and returns the log line of its refusal.
async fn refusal_logged_with_forwarding_headers(extra: &[(&'static str, String)]) -> String {
    let green_api = MockServer::start().await;
    let mut vars = green_api_vars(&green_api.uri());
    vars.extend_from_slice(extra);
    let mut server = Server::start(vars).await;
    let response = client()
        .post(server.url("/slack/commands"))
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Forwarded", "for=198.51.100.7")
        .body("text=help")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let line = wait_for(std::time::Duration::from_secs(10), || {
        server.log.lock().unwrap().iter().find(|l| l.contains("invalid Slack signature")).cloned()
    })
    .await
    .unwrap_or_else(|| panic!("no refusal logged: {}", server.log_text()));
    server.signal("TERM");
    let _ = server.child.wait().await;
    line
}

#[tokio::test]
async fn the_logged_peer_ignores_forwarding_headers_unless_they_are_trusted() {
    let line = refusal_logged_with_forwarding_headers(&[]).await;
    assert!(line.contains("peer=\"127.0.0.1\""), "{line}");
    assert!(!line.contains("203.0.113.9") && !line.contains("198.51.100.7"), "{line}");

    let line = refusal_logged_with_forwarding_headers(&[("TRUST_FORWARDED_HEADERS", "true".to_owned())]).await;
    assert!(line.contains("peer=\"198.51.100.7\""), "the proxy's Forwarded header is believed: {line}");
}
