//! Every row of the contract's HTTP table for POST /slack/commands.

use futures_util::StreamExt;
use serde_json::json;
use slack_sendcontact::config::ServeConfig;
use slack_sendcontact::slack::signature::{SigningSecret, sign};
use wiremock::matchers::{body_json, header};

use crate::helpers::*;

#[tokio::test]
async fn ssl_check_gets_an_empty_200_signed_or_not_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;

    let unsigned = app.post_with_headers("ssl_check=1&token=abc&text=1+2+3", &[]).await;
    assert_eq!(unsigned.status(), 200);
    assert_eq!(unsigned.text().await.unwrap(), "");

    let signed = app.post_signed(app.form_with("10000000 79876543210 Ivan", &[("ssl_check", "1")]), now()).await;
    assert_eq!(signed.status(), 200);
    assert_eq!(signed.text().await.unwrap(), "");
}

#[tokio::test]
async fn a_request_without_a_valid_signature_is_refused_with_401_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let body = app.form("10000000 79876543210 Ivan");
    let ts = now();
    let good = sign(&SigningSecret::new(SIGNING_SECRET.into()), ts, body.as_bytes());
    let wrong_secret = sign(&SigningSecret::new("another-secret".into()), ts, body.as_bytes());
    let other_body = sign(&SigningSecret::new(SIGNING_SECRET.into()), ts, b"text=other");
    let ts = ts.to_string();
    let v1 = good.replacen("v0=", "v1=", 1);
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("no headers", &[]),
        ("no signature", &[("X-Slack-Request-Timestamp", &ts)]),
        ("no timestamp", &[("X-Slack-Signature", &good)]),
        ("wrong secret", &[("X-Slack-Request-Timestamp", &ts), ("X-Slack-Signature", &wrong_secret)]),
        ("signature of another body", &[("X-Slack-Request-Timestamp", &ts), ("X-Slack-Signature", &other_body)]),
        ("version v1", &[("X-Slack-Request-Timestamp", &ts), ("X-Slack-Signature", &v1)]),
        ("not hex", &[("X-Slack-Request-Timestamp", &ts), ("X-Slack-Signature", "v0=nothex")]),
        ("timestamp not an integer", &[("X-Slack-Request-Timestamp", "12.5"), ("X-Slack-Signature", &good)]),
    ];
    for (case, headers) in cases {
        let response = app.post_with_headers(body.clone(), headers).await;
        assert_eq!(response.status(), 401, "{case}");
    }
}

/// A body usually arrives in one read and is kept as it came; one that
/// arrives in pieces (chunked, with pauses between the chunks) is put
/// together and verified the same way, and sends once.
#[tokio::test]
async fn a_signed_form_that_arrives_in_pieces_is_read_whole_and_sends_once() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("BAE5F4886B9D4CAD")).expect(1).mount(&app.green_api).await;
    let body = app.form("10000000 79876543210 Ivan");
    let ts = now();
    let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), ts, body.as_bytes());
    let pieces: Vec<Vec<u8>> = body.as_bytes().chunks(40).map(<[u8]>::to_vec).collect();
    assert!(pieces.len() > 3, "the form must come in several pieces");
    let stream = futures_util::stream::iter(pieces).then(|piece| async move {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        Ok::<_, std::io::Error>(piece)
    });
    let response = app
        .post_with_headers(
            reqwest::Body::wrap_stream(stream),
            &[("X-Slack-Request-Timestamp", &ts.to_string()), ("X-Slack-Signature", &signature)],
        )
        .await;
    assert_eq!(response.status(), 200);
    let reply = reply(response).await;
    assert!(reply.to_string().contains("BAE5F4886B9D4CAD"), "{reply}");
}

#[tokio::test]
async fn the_timestamp_window_is_300_seconds_in_both_directions() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    for skew in [-310, 310, -100_000] {
        let response = app.post_signed(app.form("help"), now() + skew).await;
        assert_eq!(response.status(), 401, "skew {skew}");
    }
    for skew in [-290, 0, 290] {
        let response = app.post_signed(app.form("help"), now() + skew).await;
        assert_ephemeral_containing(
            &reply(response).await,
            "<chatId>".replace('<', "&lt;").replace('>', "&gt;").as_str(),
        );
    }
}

#[tokio::test]
async fn a_body_over_16_kib_gets_413_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let padding = "x".repeat(16 * 1024);
    let body = app.form(&format!("10000000 79876543210 Ivan {padding}"));
    let response = app.post_signed(body.clone(), now()).await;
    assert_eq!(response.status(), 413);

    // Without a Content-Length the limit still holds while reading.
    let stream = futures_stream(body.into_bytes());
    let response = app.post_with_headers(stream, &[]).await;
    assert_eq!(response.status(), 413);

    // Exactly at the limit is fine as far as size goes (then the signature fails).
    let response = app.post_with_headers("a".repeat(16 * 1024), &[]).await;
    assert_eq!(response.status(), 401);
}

fn futures_stream(bytes: Vec<u8>) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(1024).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_signed_body_that_is_not_a_form_gets_400_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let body = format!("{}&text=again", app.form("10000000 79876543210 Ivan"));
    let response = app.post_signed(body, now()).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn help_and_empty_text_answer_with_usage_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    for text in ["", "help", "  HELP "] {
        let reply = reply(app.post_command(text).await).await;
        assert_ephemeral_containing(&reply, "/sendcontact &lt;chatId&gt; &lt;phone&gt; &lt;firstName&gt;");
    }
    let renamed = app.post_signed(app.form_with("help", &[("command", "/contact")]), now()).await;
    assert_ephemeral_containing(&reply(renamed).await, "/contact &lt;chatId&gt;");
}

#[tokio::test]
async fn invalid_arguments_say_which_argument_is_wrong_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let cases = [
        ("10000000", "&lt;phone&gt; is missing"),
        ("10000000 79876543210", "&lt;firstName&gt; is missing"),
        ("chat 79876543210 Ivan", "chatId `chat` is not a chat id"),
        ("10000000 7987-CALL-ME Ivan", "phone `7987-CALL-ME` contains `C`"),
        ("10000000 12345 Ivan", "phone `12345` has 5 digits"),
        ("10000000 79876543210 \"\" Ivanov", "firstName is empty"),
        ("10000000 79876543210 “Ivan Ivanov", "is never closed"),
    ];
    for (text, expected) in cases {
        let reply = reply(app.post_command(text).await).await;
        assert_ephemeral_containing(&reply, expected);
    }
    let long = format!("10000000 79876543210 Ivan Ivanov {}", "Я".repeat(300));
    assert_ephemeral_containing(&reply(app.post_command(&long).await).await, "company has 300 characters");
}

#[tokio::test]
async fn commands_outside_the_allowlists_are_refused_and_nothing_is_sent() {
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.allowlist = slack_sendcontact::allowlist::Allowlist::new(
            vec!["T0001".into()],
            vec!["U2147483697".into()],
            vec!["C2147483705".into()],
        );
    })
    .await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let text = "10000000 79876543210 Ivan";
    let cases = [
        ("team_id", "T0002", "workspace is not allowed"),
        ("user_id", "U0000", "You are not allowed"),
        ("channel_id", "C0000", "cannot be used in this channel"),
    ];
    for (field, value, expected) in cases {
        let response = app.post_signed(app.form_with(text, &[(field, value)]), now()).await;
        assert_ephemeral_containing(&reply(response).await, expected);
    }
}

#[tokio::test]
async fn a_valid_command_sends_one_contact_and_answers_in_channel_with_the_id() {
    let app = spawn_app().await;
    send_contact()
        .and(body_json(json!({
            "chatId": "10000000",
            "contact": {"phoneContact": 79876543210u64, "firstName": "Иван", "lastName": "Иванов", "company": "ООО Ромашка"}
        })))
        .and(header("host", app.green_api.address().to_string()))
        .respond_with(id_message("1769676078000"))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(0).mount(&app.slack).await;

    let reply = reply(app.post_command("10000000 +7 (987) 654-32-10 Иван Иванов ООО Ромашка").await).await;

    assert_eq!(reply["response_type"], "in_channel");
    let text = text_of(&reply);
    assert!(text.contains("1769676078000"), "{text}");
    assert!(
        text.contains("<@U2147483697>") && text.contains("Иван Иванов (ООО Ромашка)") && text.contains("10000000"),
        "{text}"
    );
}

#[tokio::test]
async fn what_slack_clients_type_on_phones_arrives_as_meant() {
    let app = spawn_app().await;
    send_contact()
        .and(body_json(json!({
            "chatId": "79876543210@c.us",
            "contact": {"phoneContact": 15551234567u64, "firstName": "Anna Maria", "lastName": "O'Neil", "company": "Smith & Sons <Ltd>"}
        })))
        .respond_with(id_message("3EB0DF31710A9123EC75"))
        .expect(1)
        .mount(&app.green_api)
        .await;
    let text = "<mailto:79876543210@c.us|79876543210@c.us>\u{a0}<tel:+15551234567|555-123-4567> “Anna Maria” O'Neil «Smith &amp; Sons &lt;Ltd&gt;»";
    let reply = reply(app.post_command(text).await).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
    // User input is escaped again on the way out, so it cannot ping anyone.
    assert!(text_of(&reply).contains("Smith &amp; Sons &lt;Ltd&gt;"), "{reply}");
}

#[tokio::test]
async fn a_missing_or_foreign_response_url_does_not_stop_a_quick_send() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("777")).expect(4).mount(&app.green_api).await;
    for url in ["https://evil.example.com/commands/1", "file:///etc/passwd", ""] {
        let body = app.form_with("10000000 79876543210 Ivan", &[("response_url", url)]);
        let reply = reply(app.post_signed(body, now()).await).await;
        assert_eq!(reply["response_type"], "in_channel", "{url}: {reply}");
        assert!(text_of(&reply).contains("777"), "{url}: {reply}");
    }
    // No response_url field at all.
    let body = app.form("10000000 79876543210 Ivan");
    let body = body.split('&').filter(|pair| !pair.starts_with("response_url=")).collect::<Vec<_>>().join("&");
    let reply = reply(app.post_signed(body, now()).await).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
}
