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
    assert!(out.contains("state could not be read: GREEN-API did not accept this bot's credentials"), "{out}");
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

#[tokio::test]
async fn a_method_url_with_the_token_in_green_api_url_is_refused_without_printing_it() {
    let method_url = format!("http://127.0.0.1:9/waInstance{ID_INSTANCE}/sendContact/{TOKEN}");
    let mut vars = green_api_vars(&method_url);
    vars.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()));
    for subcommand in ["serve", "check"] {
        let (code, out, err) = run(&[subcommand], &vars).await;
        assert_eq!(code, Some(2), "{subcommand}: {out}{err}");
        assert!(err.contains("GREEN_API_URL='http://127.0.0.1:9/…' is a method URL"), "{err}");
        assert!(!format!("{out}{err}").contains(TOKEN), "{out}{err}");
    }
}

#[tokio::test]
async fn slack_api_url_over_plain_http_is_refused_unless_on_this_machine() {
    const BOT_TOKEN: &str = "xoxb-1-2-plainhttpbottoken";
    let mut vars = serve_vars("http://127.0.0.1:9");
    vars.push(("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()));
    vars.push(("SLACK_API_URL", "http://slack.example.com/api/".to_owned()));
    let (code, out, err) = run(&["serve"], &vars).await;
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("SLACK_API_URL='http://slack.example.com' must be https"), "{err}");
    assert!(!format!("{out}{err}").contains(BOT_TOKEN), "{out}{err}");
}

#[tokio::test]
async fn green_api_url_is_shown_as_its_origin_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"stateInstance": "authorized"})))
        .mount(&server)
        .await;
    let vars = green_api_vars(&format!("{}/some/prefix", server.uri()));
    let (_, out, _) = run(&["check"], &vars).await;
    assert!(out.contains(&format!("at {},", server.uri())) && !out.contains("prefix"), "{out}");
}

#[tokio::test]
async fn an_inherited_proxy_variable_is_ignored_unless_asked_for() {
    let green_api = MockServer::start().await;
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "direct"})))
        .expect(1)
        .mount(&green_api)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "via-proxy"})))
        .expect(1)
        .mount(&proxy)
        .await;
    let mut vars = green_api_vars(&green_api.uri());
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        vars.push((name, proxy.uri()));
    }

    let (code, out, err) = run(&["send", "10000000", "79876543210", "Ivan"], &vars).await;
    assert_eq!((code, out.trim()), (Some(0), "direct"), "{err}");

    vars.push(("USE_ENV_PROXY", "true".to_owned()));
    let (code, out, err) = run(&["send", "10000000", "79876543210", "Ivan"], &vars).await;
    assert_eq!((code, out.trim()), (Some(0), "via-proxy"), "asked for, the proxy is used: {err}");
}
