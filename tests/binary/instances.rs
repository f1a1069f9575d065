//! SENDCONTACT_CONFIG as an admin meets it: a bad file stops the start with
//! every problem and its line, `check` covers every instance, `send` routes
//! like the slash command, and log lines name the instance.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use slack_sendcontact::slack::signature::{SigningSecret, sign};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

const TOKEN_WHATSAPP: &str = "bbbb035edae3fc00bc116bd112297908d8145e5ba8decc5d884";

/// A working directory of its own holding `instances.toml`.
fn dir_with_file(name: &str, file: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slack-sendcontact-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("instances.toml"), file).unwrap();
    dir
}

/// A telegram instance (`TOKEN`, id 1101000001) and a WhatsApp one with the
/// `sales` alias, at these URLs.
fn two_instances(telegram: &str, whatsapp: &str) -> String {
    format!(
        r#"[[instances]]
name = "telegram"
url = "{telegram}"
id_instance = "{ID_INSTANCE}"
token_env = "TOKEN_TELEGRAM"

[[instances]]
name = "whatsapp"
url = "{whatsapp}"
id_instance = "1101000002"
token_env = "TOKEN_WHATSAPP"
kind = "whatsapp"

[chats]
sales = {{ instance = "whatsapp", chat_id = "120363043968066561@g.us" }}
"#
    )
}

fn vars() -> Vec<(&'static str, String)> {
    vec![
        ("SENDCONTACT_CONFIG", "instances.toml".to_owned()),
        ("TOKEN_TELEGRAM", TOKEN.to_owned()),
        ("TOKEN_WHATSAPP", TOKEN_WHATSAPP.to_owned()),
    ]
}

#[tokio::test]
async fn a_bad_file_stops_the_start_with_every_problem_and_its_line() {
    let file = r#"[[instances]]
name = "telegram"
url = "not a url"
id_instance = "1101000001"
token_env = "TOKEN_TELEGRAM"
token = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884"

[[instances]]
name = "telegram"
url = "https://7105.api.greenapi.com"
id_instance = "1101000002"
token_env = "TOKEN_UNSET"

[chats]
sales = { instance = "whatsap", chat_id = "120363043968066561@g.us" }
"#;
    let dir = dir_with_file("bad-file", file);
    for subcommand in ["serve", "check"] {
        let (code, _, err) = run_in(&dir, &[subcommand], &vars()).await;
        assert_eq!(code, Some(2), "{subcommand}: {err}");
        for part in [
            "SENDCONTACT_CONFIG instances.toml line 3: url is not a URL",
            "line 6: `token` would put the GREEN-API token in the file",
            "line 9: the instance name `telegram` is used twice (first on line 2)",
            "line 12: token_env names TOKEN_UNSET, which is not set",
            "line 15: alias `sales` points at instance `whatsap`, which the file does not define",
        ] {
            assert!(err.contains(part), "{subcommand}: {part} not in {err}");
        }
        assert_eq!(err.lines().count(), 1, "one message: {err}");
        assert!(!err.contains(TOKEN), "{err}");
    }
    assert!(run_in(&dir, &["serve"], &vars()).await.2.contains("SLACK_SIGNING_SECRET is missing"));
}

async fn instance(id_instance: &str, token: &str, state: &str, type_instance: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{id_instance}/getStateInstance/{token}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"stateInstance": state})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{id_instance}/getSettings/{token}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"typeInstance": type_instance})))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn check_prints_one_line_per_instance_and_exits_0_only_when_all_are_authorized() {
    let telegram = instance(ID_INSTANCE, TOKEN, "authorized", "telegram").await;
    let whatsapp = instance("1101000002", TOKEN_WHATSAPP, "notAuthorized", "telegram").await;
    let dir = dir_with_file("check-some", &two_instances(&telegram.uri(), &whatsapp.uri()));
    let (code, out, err) = run_in(&dir, &["check"], &vars()).await;
    assert_eq!(code, Some(1), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("telegram: instance 1101000001 at "), "{out}");
    assert!(lines[0].contains("type telegram, state authorized: the instance can send"), "{out}");
    assert!(lines[1].starts_with("whatsapp: instance 1101000002 at "), "{out}");
    assert!(lines[1].contains("the file says kind = \"whatsapp\""), "{out}");
    assert!(lines[1].contains("state notAuthorized: the instance is not linked"), "{out}");
    assert!(!out.contains(TOKEN) && !out.contains(TOKEN_WHATSAPP), "{out}");

    let telegram = instance(ID_INSTANCE, TOKEN, "authorized", "telegram").await;
    let whatsapp = instance("1101000002", TOKEN_WHATSAPP, "authorized", "whatsapp").await;
    let dir = dir_with_file("check-all", &two_instances(&telegram.uri(), &whatsapp.uri()));
    let (code, out, _) = run_in(&dir, &["check"], &vars()).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[tokio::test]
async fn send_routes_like_the_slash_command() {
    let (telegram, whatsapp) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&telegram).await;
    Mock::given(method("POST"))
        .and(path(format!("/waInstance1101000002/sendContact/{TOKEN_WHATSAPP}")))
        .and(body_json(json!({
            "chatId": "120363043968066561@g.us",
            "contact": {"phoneContact": 79876543210u64, "firstName": "Иван"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "wa-terminal"})))
        .expect(1)
        .mount(&whatsapp)
        .await;
    let dir = dir_with_file("send", &two_instances(&telegram.uri(), &whatsapp.uri()));
    let (code, out, err) = run_in(&dir, &["send", "sales", "+7", "987", "654-32-10", "Иван"], &vars()).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "wa-terminal");

    // A refusal sends nothing and exits 2.
    let (code, _, err) = run_in(&dir, &["send", "viber:10000000", "79876543210", "Иван"], &vars()).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("There is no instance called `viber`; the instances are telegram, whatsapp"), "{err}");
}

#[tokio::test]
async fn every_log_line_of_a_command_names_its_instance() {
    let (telegram, whatsapp) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"idMessage": "wa-log"})))
        .expect(1)
        .mount(&whatsapp)
        .await;
    let dir = dir_with_file("log", &two_instances(&telegram.uri(), &whatsapp.uri()));
    let mut vars = vars();
    vars[0].1 = dir.join("instances.toml").to_str().unwrap().to_owned();
    vars.push(("LOG_FORMAT", "json".to_owned()));
    let server = Server::start(vars).await;
    let body = serde_urlencoded::to_string([
        ("team_id", "T1"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("command", "/sendcontact"),
        ("text", "sales 79876543210 Ivan"),
    ])
    .unwrap();
    let timestamp = now();
    let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), timestamp, body.as_bytes());
    let reply = client()
        .post(server.url("/slack/commands"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", timestamp.to_string())
        .header("X-Slack-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reply.contains("wa-log"), "{reply}");
    let finished = wait_for(Duration::from_secs(10), || {
        server.log.lock().unwrap().iter().find(|l| l.contains("command finished") && l.contains("wa-log")).cloned()
    })
    .await
    .unwrap_or_else(|| panic!("no outcome line in {}", server.log_text()));
    assert!(finished.contains(r#""instance":"whatsapp""#), "{finished}");
}
