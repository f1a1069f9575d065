//! Upstream slower than the ack budget: an immediate acknowledgement, then
//! the outcome through response_url, from the same single upstream call.

use std::time::Duration;

use slack_sendcontact::config::ServeConfig;
use wiremock::ResponseTemplate;
use wiremock::matchers::{method, path};

use crate::helpers::*;

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
async fn response_url_failures_are_retried_with_backoff_up_to_five_posts() {
    let app = spawn_app_with(short_budget).await;
    send_contact()
        .respond_with(id_message("7").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.slack)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.slack)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    let posts = app.wait_for_response_url_posts(4).await;
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
async fn a_response_url_that_always_fails_gets_exactly_five_posts() {
    let app = spawn_app_with(|c| {
        short_budget(c);
        c.response_url_backoff = Duration::from_millis(10);
    })
    .await;
    send_contact()
        .respond_with(id_message("7").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    wiremock::Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(500))
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
