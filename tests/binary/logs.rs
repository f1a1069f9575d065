//! What an operator reads first: which build is running, and which lines
//! belong to one command.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

const RESPONSE_URL_PATH: &str = "/commands/T0001/1234/abcd";

fn json_lines(server: &Server) -> Vec<Value> {
    let log = server.log.lock().unwrap().clone();
    log.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

#[tokio::test]
async fn the_first_log_line_names_the_version_and_the_revision() {
    let green_api = MockServer::start().await;
    for format in ["json", "text"] {
        let mut vars = green_api_vars(&green_api.uri());
        vars.push(("LOG_FORMAT", format.into()));
        let server = Server::start(vars).await;
        let first = server.log.lock().unwrap()[0].clone();
        let version = env!("CARGO_PKG_VERSION");
        if format == "json" {
            let line: Value = serde_json::from_str(&first).unwrap();
            assert_eq!(line["version"], version, "{first}");
            assert!(line["revision"].as_str().is_some_and(|r| !r.is_empty()), "{first}");
        } else {
            assert!(first.contains(&format!("version=\"{version}\"")), "{first}");
            assert!(first.contains("revision="), "{first}");
        }
    }
}

#[tokio::test]
async fn every_line_of_a_command_carries_its_request_id_even_after_the_answer() {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex("/getSettings/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"typeInstance": "telegram"})))
        .mount(&green_api)
        .await;
    // Slower than the ack budget: the outcome is logged and delivered after the answer,
    // and its first delivery meets Slack's 429 (nothing posted), which logs a retry.
    Mock::given(method("POST"))
        .and(path(SEND_CONTACT_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"idMessage": "m1"})).set_delay(Duration::from_millis(400)),
        )
        .mount(&green_api)
        .await;
    Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;

    let mut vars = green_api_vars(&green_api.uri());
    vars.extend([
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "slack_sendcontact=debug".to_owned()),
        ("SLACK_ACK_BUDGET_MS", "100".to_owned()),
        ("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".to_owned()),
    ]);
    let server = Server::start(vars).await;
    // Start-up is over once the instance type is known: every later line is a command's.
    wait_for(Duration::from_secs(20), || server.log_text().contains("telegram").then_some(())).await.unwrap();
    let start_up = server.log.lock().unwrap().len();

    let client = client();
    let response_url = format!("{}{RESPONSE_URL_PATH}", slack.uri());
    for text in ["10000000 79876543210 Ivan", "help", "10000000 12 Ivan"] {
        let response = post(&client, &server.url("/slack/commands"), &signed_command(text, &response_url)).await;
        assert_eq!(response.status(), 200);
    }
    wait_for(Duration::from_secs(20), || server.log_text().contains("delivered the outcome").then_some(()))
        .await
        .unwrap();

    let lines = json_lines(&server);
    let commands = &lines[start_up..];
    assert!(commands.len() >= 5, "a send, a retry, a late delivery, a help and a refusal: {commands:#?}");
    let mut ids = BTreeSet::new();
    for line in commands {
        let id = match &line["span"]["request_id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => panic!("a line of a command without its request_id: {line}"),
        };
        assert_eq!(line["span"]["team_id"], "T0001", "{line}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "three commands, three request ids: {commands:#?}");

    // The late lines (retry, delivery) carry the id of the send they belong to.
    let id_of = |needle: &str| {
        commands
            .iter()
            .find(|l| l.to_string().contains(needle))
            .map(|l| l["span"]["request_id"].to_string())
            .unwrap_or_else(|| panic!("no line with {needle}: {commands:#?}"))
    };
    let send = id_of("\"delivery\":\"response_url\"");
    assert_eq!(id_of("retrying"), send);
    assert_eq!(id_of("delivered the outcome"), send);
}
