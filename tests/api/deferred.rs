//! Upstream slower than the ack budget: an immediate acknowledgement, then
//! the outcome through response_url, from the same single upstream call.

use std::time::Duration;

use slack_sendcontact::config::ServeConfig;
use slack_sendcontact::slack::signature::{SigningSecret, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// The head of a signed POST of `body` to /slack/commands, with `extra`
/// header lines, for tests that write the request on the wire themselves.
fn signed_head(body: &str, extra: &str) -> String {
    let timestamp = now();
    let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), timestamp, body.as_bytes());
    format!(
        "POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nX-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n\
         {extra}\r\n",
        body.len()
    )
}

async fn connect(app: &TestApp) -> TcpStream {
    let port = app.address.rsplit(':').next().unwrap();
    TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap()
}

fn short_budget(c: &mut ServeConfig) {
    c.ack_budget = Duration::from_millis(100);
}

#[tokio::test]
async fn a_slow_success_is_acknowledged_then_posted_in_channel_to_response_url() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(id_message("1769676078000").set_delay(Duration::from_millis(800)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let ack = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&ack, "Sending the contact card of Ivan to chat 10000000");

    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "in_channel");
    assert!(posts[0]["text"].as_str().unwrap().contains("1769676078000"), "{}", posts[0]);
}

#[tokio::test]
async fn a_slow_failure_is_posted_ephemeral_to_response_url() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(
            ResponseTemplate::new(400).set_body_string("Validation failed").set_delay(Duration::from_millis(500)),
        )
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let ack = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&ack, "Sending");

    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "ephemeral");
    assert!(posts[0]["text"].as_str().unwrap().contains("Validation failed"), "{}", posts[0]);
}

#[tokio::test]
async fn a_fast_answer_never_touches_response_url() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("42")).expect(1).mount(&app.green_api).await;
    response_url_ok().expect(0).mount(&app.slack).await;
    let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_eq!(reply["response_type"], "in_channel");
    // Give a stray deferred delivery the chance to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn response_url_429s_are_retried_until_a_post_is_accepted() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(id_message("7").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.slack)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    let posts = app.wait_for_response_url_posts(3).await;
    assert!(posts.iter().all(|p| p["response_type"] == "in_channel"));
}

#[tokio::test]
async fn a_refusing_response_url_is_not_hammered() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(id_message("7").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(404).set_body_string("expired_url"))
        .expect(1)
        .mount(&app.slack)
        .await;
    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    app.wait_for_response_url_posts(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_response_url_that_always_answers_429_gets_exactly_five_posts() {
    let app = spawn_app_tuned(short_budget, |t| t.response_url_backoff = Duration::from_millis(10)).await;
    send_contact()
        .respond_with(id_message("7").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(429))
        .expect(5)
        .mount(&app.slack)
        .await;
    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    app.wait_for_response_url_posts(5).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn a_slow_429_with_an_absurd_retry_after_still_gets_its_answer_to_response_url() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "18446744073709551615")
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let ack = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&ack, "Sending");

    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "ephemeral");
    assert!(posts[0]["text"].as_str().unwrap().contains("too many requests"), "{}", posts[0]);
}

#[tokio::test]
async fn a_response_url_on_a_host_not_allowed_is_never_followed_even_when_the_send_is_slow() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(id_message("55").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&app.slack).await;

    // The same Slack mock, named by a host that is not in SLACK_RESPONSE_URL_HOSTS.
    let foreign = app.slack.uri().replace("127.0.0.1", "localhost") + RESPONSE_URL_PATH;
    let body = app.form_with("10000000 79876543210 Ivan", &[("response_url", &foreign)]);
    let ack = reply(app.post_signed(body, now()).await).await;
    assert_ephemeral_containing(&ack, "the result will not appear here");

    // Long enough for the send (300 ms) and any post after it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.slack.received_requests().await.unwrap().is_empty(), "the foreign response_url was followed");
}

#[tokio::test]
async fn the_ack_budget_counts_from_the_request_s_arrival_not_from_when_its_body_was_checked() {
    // The body takes 1 s to arrive and GREEN-API 1 s to answer: counted from
    // the arrival, a 1.2 s budget runs out before the answer (at 2 s or
    // later), so Slack gets the acknowledgement in time and the outcome
    // goes to response_url.
    let app = spawn_app_with(|c| c.ack_budget = Duration::from_millis(1200)).await;
    send_contact()
        .respond_with(id_message("66").set_delay(Duration::from_secs(1)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let body = app.form("10000000 79876543210 Ivan");
    let mut stream = connect(&app).await;
    stream.write_all(signed_head(&body, "Connection: close\r\n").as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_string(&mut answer)).await.unwrap().unwrap();

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Sending the contact card"), "{answer}");
    let posts = app.wait_for_response_url_posts(1).await;
    assert!(posts[0]["text"].as_str().unwrap().contains("66"), "{}", posts[0]);
}

#[tokio::test]
async fn a_command_whose_connection_slack_resets_is_sent_once_and_its_outcome_posted_to_response_url() {
    // The budget is far off: only the reset ends the request's wait, while
    // GREEN-API is still answering.
    let app = spawn_app_with(|c| c.ack_budget = Duration::from_secs(60)).await;
    send_contact()
        .respond_with(id_message("1769676078001").set_delay(Duration::from_millis(500)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    let body = app.form("10000000 79876543210 Ivan");
    let mut stream = connect(&app).await;
    stream.write_all(format!("{}{body}", signed_head(&body, "")).as_bytes()).await.unwrap();
    // Once the call is under way, the connection goes down hard (RST), so
    // the request that started the call is dropped with it.
    tokio::time::timeout(Duration::from_secs(15), async {
        while app.green_api.received_requests().await.unwrap_or_default().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("GREEN-API was called");
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);

    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "in_channel");
    assert!(posts[0]["text"].as_str().unwrap().contains("1769676078001"), "{}", posts[0]);
}
