//! The secret audit: every success and failure class, logged at TRACE in
//! both formats, and not one log line, reply, response_url payload or Web API
//! call holds the GREEN-API token, the signing secret, a signature, or (in a
//! log) a phone number; the bot token is only ever in an Authorization header.

use std::time::Duration;

use serde_json::json;
use slack_sendcontact::slack::signature::{SigningSecret, sign};
use wiremock::matchers::{body_partial_json, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::process::*;

const PHONE: &str = "79876543210";
const BOT_TOKEN: &str = "xoxb-audit-0000-bottokenvalue";

/// Slack's Web API for the form: views.open, users.info, and a channel the
/// bot may not post in, so the outcome goes to a direct message.
async fn mount_web_api(slack: &MockServer) {
    let ok = |extra: serde_json::Value| {
        let mut body = json!({"ok": true});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        ResponseTemplate::new(200).set_body_json(body)
    };
    Mock::given(path("/api/views.open")).respond_with(ok(json!({}))).mount(slack).await;
    Mock::given(path("/api/users.info")).respond_with(ok(json!({"user": {"locale": "ru-RU"}}))).mount(slack).await;
    Mock::given(path("/api/conversations.open")).respond_with(ok(json!({"channel": {"id": "D1"}}))).mount(slack).await;
    Mock::given(path("/api/chat.postMessage"))
        .and(body_partial_json(json!({"channel": "C2147483705"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "not_in_channel"})))
        .mount(slack)
        .await;
    Mock::given(path("/api/chat.postMessage")).respond_with(ok(json!({}))).mount(slack).await;
    Mock::given(path("/api/chat.postEphemeral")).respond_with(ok(json!({}))).mount(slack).await;
}

/// A submitted form, signed as Slack would.
fn signed_submission(chat_id: &str, phone: &str) -> SignedCommand {
    let values: serde_json::Map<String, serde_json::Value> =
        [("chat_id", chat_id), ("phone", phone), ("first_name", "Ivan"), ("last_name", "Ivanov")]
            .into_iter()
            .map(|(id, value)| (id.to_owned(), json!({ id: {"type": "plain_text_input", "value": value} })))
            .collect();
    let payload = json!({
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "view": {
            "callback_id": "sendcontact",
            "private_metadata": json!({"c": "C2147483705", "l": "ru"}).to_string(),
            "state": {"values": values},
        }
    });
    signed_form(&[("payload", &payload.to_string())])
}

/// Each chat id gets one kind of GREEN-API answer.
async fn mount_every_answer(green_api: &MockServer) {
    let answers: Vec<(&str, ResponseTemplate)> = vec![
        ("1001", ResponseTemplate::new(200).set_body_json(json!({"idMessage": "ok-1001"}))),
        // A personal WhatsApp chat is named by the recipient's phone number.
        ("79876543210@c.us", ResponseTemplate::new(200).set_body_json(json!({"idMessage": "ok-whatsapp"}))),
        ("1002", ResponseTemplate::new(400).set_body_string(format!("Validation failed for {TOKEN}"))),
        ("1003", ResponseTemplate::new(401)),
        ("1004", ResponseTemplate::new(429).insert_header("Retry-After", "1")),
        (
            "1005",
            ResponseTemplate::new(466)
                .set_body_json(json!({"correspondentsStatus": {"status": "CORRESPONDENTS_QUOTE_EXCEEDED"}})),
        ),
        ("1006", ResponseTemplate::new(500)),
        ("1007", ResponseTemplate::new(200).set_body_string("not json")),
        (
            "1008",
            ResponseTemplate::new(200).set_body_json(json!({"idMessage": "late"})).set_delay(Duration::from_secs(4)),
        ),
        (
            "1009",
            ResponseTemplate::new(200)
                .set_body_json(json!({"idMessage": "deferred-1009"}))
                .set_delay(Duration::from_millis(1200)),
        ),
    ];
    for (chat, response) in answers {
        Mock::given(method("POST"))
            .and(path(SEND_CONTACT_PATH))
            .and(body_partial_json(json!({"chatId": chat})))
            .respond_with(response)
            .mount(green_api)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex("/getSettings/"))
        .respond_with(ResponseTemplate::new(401))
        .mount(green_api)
        .await;
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_a_reply_or_a_response_url_payload() {
    for format in ["text", "json"] {
        audit(format, false).await;
        audit(format, true).await;
    }
}

/// Runs every class against one server; `unreachable` points GREEN-API at a
/// closed port instead.
async fn audit(format: &str, unreachable: bool) {
    let green_api = MockServer::start().await;
    let slack = MockServer::start().await;
    mount_every_answer(&green_api).await;
    mount_web_api(&slack).await;
    Mock::given(method("POST"))
        .and(path("/r"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST")).and(path("/r")).respond_with(ResponseTemplate::new(200)).mount(&slack).await;

    let green_api_url = if unreachable {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    } else {
        green_api.uri()
    };
    let mut vars = green_api_vars(&green_api_url);
    vars.extend([
        ("RUST_LOG", "trace".to_owned()),
        ("LOG_FORMAT", format.to_owned()),
        ("SLACK_ACK_BUDGET_MS", "1000".to_owned()),
        ("GREEN_API_TIMEOUT_MS", "1500".to_owned()),
        ("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".to_owned()),
        ("SLACK_ALLOWED_CHANNEL_IDS", "C2147483705".to_owned()),
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("SLACK_API_URL", format!("{}/api/", slack.uri())),
        ("REPLY_LANGUAGE", "auto".to_owned()),
    ]);
    let mut server = Server::start(vars).await;
    let client = client();
    let endpoint = server.url("/slack/commands");
    let response_url = format!("{}/r", slack.uri());
    let mut seen = Vec::new();
    let mut signatures = Vec::new();

    let texts = ["help", "", "1001 12ab Ivan", "1001 79876543210 “Ivan"]
        .into_iter()
        .map(str::to_owned)
        .chain((1001..=1009).map(|chat| format!("{chat} +7 987 654-32-10 Ivan Ivanov Acme")))
        .chain([format!("{PHONE}@c.us 79876543210 Ivan")]);
    for text in texts {
        let command = signed_command(&text, &response_url);
        signatures.push(command.signature.clone());
        let response = post(&client, &endpoint, &command).await;
        seen.push(response.text().await.unwrap());
    }

    // The form: a valid submission to a personal WhatsApp chat (its outcome
    // goes to a direct message), and one with wrong fields.
    let interactions = server.url("/slack/interactions");
    for submission in [signed_submission(&format!("{PHONE}@c.us"), "+7 987 654-32-10"), signed_submission("x", "12ab")]
    {
        signatures.push(submission.signature.clone());
        seen.push(post(&client, &interactions, &submission).await.text().await.unwrap());
    }

    // A refusal (channel), a response_url that is not followed, and bad
    // signatures of every kind (their expected signatures must not leak).
    let other_channel =
        signed_form(&[("channel_id", "C0"), ("text", "1001 79876543210 Ivan"), ("response_url", &response_url)]);
    let foreign = signed_command("1001 79876543210 Ivan", "https://example.com/r");
    for command in [&other_channel, &foreign] {
        signatures.push(command.signature.clone());
        seen.push(post(&client, &endpoint, command).await.text().await.unwrap());
    }
    let secret = SigningSecret::new(SIGNING_SECRET.into());
    let body = signed_command("1001 79876543210 Ivan", &response_url).body;
    for (timestamp, signature) in [
        (now(), "v0=0000000000000000000000000000000000000000000000000000000000000000".to_owned()),
        (now() - 1000, sign(&secret, now() - 1000, body.as_bytes())),
        (now(), "v1=abc".to_owned()),
    ] {
        signatures.push(sign(&secret, timestamp, body.as_bytes()));
        let response = client
            .post(&endpoint)
            .header("X-Slack-Request-Timestamp", timestamp.to_string())
            .header("X-Slack-Signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        seen.push(response.text().await.unwrap());
    }
    seen.push(client.post(&endpoint).body("ssl_check=1").send().await.unwrap().text().await.unwrap());
    seen.push(client.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap());

    // Let the deferred ones finish, then stop the server to flush its log.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.signal("TERM");
    tokio::time::timeout(Duration::from_secs(30), server.child.wait()).await.unwrap().unwrap();
    for request in slack.received_requests().await.unwrap() {
        // The bot token goes to Slack's Web API in this header, and nowhere else.
        let authorization = request.headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
        if request.url.path().starts_with("/api/") {
            assert_eq!(authorization, Some(format!("Bearer {BOT_TOKEN}")), "{}", request.url.path());
        } else {
            assert_eq!(authorization, None, "{}", request.url.path());
        }
        seen.push(String::from_utf8(request.body).unwrap());
    }

    let log = server.log_after_exit().await;
    assert!(log.lines().count() > 20, "TRACE logging produced lines ({format}):\n{log}");
    let secrets: Vec<(&str, &str)> =
        [("the GREEN-API token", TOKEN), ("the signing secret", SIGNING_SECRET), ("the bot token", BOT_TOKEN)]
            .into_iter()
            .chain(signatures.iter().map(|s| ("a signature", s.trim_start_matches("v0="))))
            .collect();
    for (what, secret) in &secrets {
        assert!(!log.contains(secret), "{what} is in the {format} log:\n{log}");
        for text in &seen {
            assert!(!text.contains(secret), "{what} is in an answer: {text}");
        }
    }
    assert!(!log.contains(PHONE) && !log.contains("987 654"), "a phone number is in the {format} log:\n{log}");
    if !unreachable {
        assert!(seen.iter().any(|t| t.contains("ok-1001")), "the audit covered a success");
        assert!(seen.iter().any(|t| t.contains("ok-whatsapp")), "the audit covered a personal WhatsApp chat");
        assert!(seen.iter().any(|t| t.contains("deferred-1009")), "the audit covered the deferred path");
        assert!(seen.iter().any(|t| t.contains("response_action")), "the audit covered a refused form");
        assert!(
            seen.iter().any(|t| t.contains("\"channel\":\"D1\"") && t.contains("ok-whatsapp")),
            "the audit covered a form's outcome sent as a direct message"
        );
        assert!(log.contains("skew_secs"), "the expired timestamp was logged with its skew");
    }
}

/// A token of another kind (a user token, say) works as far as Slack lets it,
/// but the admin is told, by name, never by value.
#[tokio::test]
async fn a_token_that_is_not_a_bot_token_is_warned_about_without_showing_it() {
    const USER_TOKEN: &str = "xoxp-1111-2222-usertokenvalue";
    let mut vars = green_api_vars("http://127.0.0.1:9");
    vars.push(("SLACK_BOT_TOKEN", USER_TOKEN.to_owned()));
    let mut server = Server::start(vars).await;
    let warned = wait_for(Duration::from_secs(10), || {
        server.log_text().contains("SLACK_BOT_TOKEN does not start with xoxb-").then_some(())
    })
    .await;
    let log = server.log_text();
    server.child.kill().await.unwrap();
    assert!(warned.is_some(), "no warning about the token's kind; log: {log}");
    assert!(!log.contains(USER_TOKEN) && !log.contains("usertokenvalue"), "{log}");
}
