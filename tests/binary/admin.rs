//! `check`, `send` and configuration errors, as an admin meets them.

use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

async fn run(args: &[&str], vars: &[(&str, String)]) -> (Option<i32>, String, String) {
    run_in(&scratch_dir(), args, vars).await
}

async fn instance(state: &str, type_instance: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{ID_INSTANCE}/getStateInstance/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"stateInstance": state})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{ID_INSTANCE}/getSettings/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"typeInstance": type_instance, "wid": "x"})))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn check_exits_0_only_for_an_authorized_instance_and_explains_every_other_state() {
    let server = instance("authorized", "telegram").await;
    let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("type telegram, state authorized: the instance can send"), "{out}");
    assert_eq!(out.lines().count(), 1, "one line per instance: {out}");
    assert!(!out.contains(TOKEN));

    for (state, advice) in [
        ("notAuthorized", "authorize it"),
        ("starting", "up to 5 minutes"),
        ("blocked", "blocked the account"),
        ("suspended", "temporarily restricted"),
        ("pendingPassword", "two-step login"),
        ("yellowCard", "Send less"),
    ] {
        let server = instance(state, "telegram").await;
        let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
        assert_eq!(code, Some(1), "{state}: {out}");
        assert!(out.contains(advice), "{state}: {out}");
    }
}

#[tokio::test]
async fn check_warns_about_a_max_instance_and_reports_wrong_credentials() {
    let server = instance("authorized", "v3").await;
    let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(0));
    assert!(out.contains("MAX instance"), "{out}");

    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(401)).expect(2).mount(&server).await;
    let (code, out, _) = run(&["check"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(1));
    assert!(out.contains("did not accept this bot's credentials"), "{out}");
    assert!(!out.contains(TOKEN));
}

#[tokio::test]
async fn send_uses_the_slash_command_parser_and_prints_the_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .and(body_json(json!({
            "chatId": "-10000000000000",
            "contact": {"phoneContact": 79876543210u64, "firstName": "Анна Мария", "lastName": "Иванова", "company": "ООО Ромашка"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "1769676078000"})))
        .expect(1)
        .mount(&server)
        .await;
    let (code, out, err) = run(
        &["send", "-10000000000000", "+7 (987) 654-32-10", "Анна Мария", "Иванова", "ООО", "Ромашка"],
        &green_api_vars(&server.uri()),
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1769676078000");
}

#[tokio::test]
async fn send_refuses_bad_arguments_without_calling_green_api() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let (code, _, err) = run(&["send", "10000000", "12ab", "Ivan"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("phone `12ab` contains `a`"), "{err}");
    let (code, out, _) = run(&["send"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(2));
    assert!(out.contains("slack-sendcontact send <chatId> <phone>"), "{out}");
}

#[tokio::test]
async fn send_reports_an_upstream_failure_with_exit_1() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(ResponseTemplate::new(466))
        .expect(1)
        .mount(&server)
        .await;
    let (code, _, err) = run(&["send", "10000000", "79876543210", "Ivan"], &green_api_vars(&server.uri())).await;
    assert_eq!(code, Some(1));
    assert!(err.contains("quota is used up") && !err.contains(TOKEN), "{err}");
}

#[tokio::test]
async fn bad_configuration_names_every_variable_and_prints_no_secret() {
    let vars = [
        ("GREEN_API_URL", "not a url".to_owned()),
        ("GREEN_API_TOKEN_INSTANCE", "secret value/with slash".to_owned()),
        ("PORT", "99999".to_owned()),
        ("HOST", "1.2.3.4.5".to_owned()),
    ];
    let (code, _, err) = run(&["serve"], &vars).await;
    assert_eq!(code, Some(2));
    for name in [
        "SLACK_SIGNING_SECRET is missing",
        "GREEN_API_URL",
        "GREEN_API_ID_INSTANCE is missing",
        "GREEN_API_TOKEN_INSTANCE",
        "PORT='99999'",
        "HOST='1.2.3.4.5'",
    ] {
        assert!(err.contains(name), "{name} not in {err}");
    }
    assert!(!err.contains("secret value"), "{err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");

    // check and send do not need the Slack secret, but do need GREEN-API.
    let (code, _, err) = run(&["check"], &[]).await;
    assert_eq!(code, Some(2));
    assert!(!err.contains("SLACK_SIGNING_SECRET") && err.contains("GREEN_API_URL is missing"), "{err}");
}

#[tokio::test]
async fn help_and_version_answer_without_configuration() {
    for args in [&["--help"][..], &["--version"], &["send", "--help"], &["check", "--help"]] {
        let (code, out, _) = run(args, &[]).await;
        assert_eq!(code, Some(0), "{args:?}");
        assert!(out.contains("slack-sendcontact"), "{args:?}: {out}");
    }
}
