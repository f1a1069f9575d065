//! Issue 14 through the public surface: nothing sent twice, nothing
//! misread, nothing trusted that the caller could make up.

use std::time::Duration;

use serde_json::json;
use slack_sendcontact::config::ServeConfig;
use slack_sendcontact::startup::Tuning;
use slack_sendcontact::state::Clock;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

#[tokio::test]
async fn entities_inside_a_link_label_are_decoded_before_the_card_is_sent() {
    let app = spawn_app().await;
    send_contact()
        .and(body_partial_json(json!({"contact": {"firstName": "Ivan", "company": "AT&T Wireless"}})))
        .respond_with(id_message("att"))
        .expect(1)
        .mount(&app.green_api)
        .await;

    let response = app.post_command("10000000 79876543210 Ivan \"\" <http://att.com|AT&amp;T> Wireless").await;

    let reply = reply(response).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
}

#[tokio::test]
async fn a_name_made_of_digits_after_a_whole_phone_number_stays_a_name() {
    let app = spawn_app().await;
    send_contact()
        .and(body_partial_json(
            json!({"contact": {"phoneContact": 79876543210u64, "firstName": "007", "lastName": "Bond"}}),
        ))
        .respond_with(id_message("bond"))
        .expect(1)
        .mount(&app.green_api)
        .await;

    let response = app.post_command("10000000 79876543210 007 Bond").await;

    let reply = reply(response).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
}

const COMMAND: &str = "10000000 79876543210 Ivan";

#[tokio::test]
async fn a_2xx_other_than_200_or_a_3xx_is_an_unknown_outcome_not_a_refusal() {
    for status in [201, 202, 204, 301, 302, 304] {
        let app = spawn_app().await;
        let template = ResponseTemplate::new(status).set_body_json(json!({"idMessage": "maybe"}));
        send_contact().respond_with(template).expect(1).mount(&app.green_api).await;

        let reply = reply(app.post_command(COMMAND).await).await;

        assert_ephemeral_containing(&reply, "may or may not have been sent");
        assert_ephemeral_containing(&reply, &format!("HTTP {status} instead of 200"));
        assert!(!text_of(&reply).contains("Nothing was sent"), "{status}: {reply}");
    }
}

#[tokio::test]
async fn a_400_about_the_instance_sends_the_user_to_the_admin_not_to_the_chat_id() {
    for reason in [
        "instance in starting process try later",
        "instance is starting or not authorized",
        "Instance account is expired. Renew your instance from personal area",
    ] {
        let app = spawn_app().await;
        send_contact()
            .respond_with(ResponseTemplate::new(400).set_body_string(reason))
            .expect(1)
            .mount(&app.green_api)
            .await;

        let reply = reply(app.post_command(COMMAND).await).await;

        assert_ephemeral_containing(&reply, reason);
        assert_ephemeral_containing(&reply, "ask your admin");
        assert_ephemeral_containing(&reply, "Nothing was sent");
        assert!(!text_of(&reply).contains("check the chat id"), "{reason}: {reply}");
    }
}

#[tokio::test]
async fn a_name_with_a_bidi_override_or_a_zero_width_character_is_refused_and_nothing_is_sent() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    for (text, expected) in [
        (
            "10000000 79876543210 Ivan\u{202E}vonavI",
            "firstName contains the invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)",
        ),
        (
            "10000000 79876543210 Ivan Iva\u{200B}nov",
            "lastName contains the invisible character U+200B (ZERO WIDTH SPACE)",
        ),
        (
            "10000000 79876543210 Ivan Ivanov Acme\u{2066}Ltd",
            "company contains the invisible character U+2066 (LEFT-TO-RIGHT ISOLATE)",
        ),
        ("10000000 79876543210 \u{FEFF}Ivan", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
    ] {
        let reply = reply(app.post_command(text).await).await;
        assert_ephemeral_containing(&reply, expected);
    }
}

#[tokio::test]
async fn a_replayed_signed_request_is_refused_with_401_and_sends_nothing_twice() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("once")).expect(1).mount(&app.green_api).await;
    let body = app.form(COMMAND);
    let timestamp = now();

    let first = app.post_signed(body.clone(), timestamp).await;
    let replay = app.post_signed(body, timestamp).await;

    assert_eq!(reply(first).await["response_type"], "in_channel");
    assert_eq!(replay.status(), 401);
    let metrics = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("slack_sendcontact_signature_rejections_total{reason=\"replayed\"} 1"), "{metrics}");
}

#[tokio::test]
async fn a_replay_is_refused_for_the_whole_window_its_timestamp_passes() {
    let start = now();
    let clock = ManualClock::at(start);
    let app = spawn_app_with_clock(clock.clone()).await;
    send_contact().respond_with(id_message("once")).expect(1).mount(&app.green_api).await;
    let body = app.form(COMMAND);
    // Signed as if Slack's clock ran 299 s ahead, the request passes the
    // window check from now until 598 s from now.
    let timestamp = start + 299;

    assert_eq!(reply(app.post_signed(body.clone(), timestamp).await).await["response_type"], "in_channel");
    for step in [1, 298, 299] {
        clock.advance(step);
        assert_eq!(app.post_signed(body.clone(), timestamp).await.status(), 401, "{step} s later");
    }
}

#[tokio::test]
async fn the_same_command_typed_twice_is_two_requests_and_both_are_sent() {
    let clock = ManualClock::at(now());
    let app = spawn_app_with_clock(clock.clone()).await;
    send_contact().respond_with(id_message("twice")).expect(2).mount(&app.green_api).await;
    let timestamp = clock.now_unix();

    // Slack gives every invocation its own trigger_id, so the bodies differ
    // even within one second.
    let first = app.form_with(COMMAND, &[("trigger_id", "1.2.a")]);
    let second = app.form_with(COMMAND, &[("trigger_id", "1.2.b")]);

    assert_eq!(reply(app.post_signed(first, timestamp).await).await["response_type"], "in_channel");
    assert_eq!(reply(app.post_signed(second, timestamp).await).await["response_type"], "in_channel");
}

/// A command whose send outlasts the ack budget, so its outcome goes to
/// response_url.
async fn deferred_app(configure: impl FnOnce(&mut ServeConfig), tune: impl FnOnce(&mut Tuning)) -> TestApp {
    let app = spawn_app_tuned(
        |c| {
            c.ack_budget = Duration::from_millis(50);
            configure(c);
        },
        |t| {
            t.response_url_backoff = Duration::from_millis(10);
            tune(t);
        },
    )
    .await;
    send_contact()
        .respond_with(id_message("late").set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    app
}

#[tokio::test]
async fn a_response_url_5xx_is_not_posted_again_since_slack_may_have_shown_it() {
    for status in [500, 502, 503, 504] {
        let app = deferred_app(|_| {}, |_| {}).await;
        Mock::given(method("POST"))
            .and(path(RESPONSE_URL_PATH))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&app.slack)
            .await;

        reply(app.post_command(COMMAND).await).await;

        app.wait_for_response_url_posts(1).await;
        // Room for a retry after the 10 ms backoff, had there been one.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.response_url_posts().await.len(), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn a_response_url_post_that_times_out_is_not_posted_again() {
    let app = deferred_app(|_| {}, |t| t.response_url_timeout = Duration::from_millis(200)).await;
    Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&app.slack)
        .await;

    reply(app.post_command(COMMAND).await).await;

    app.wait_for_response_url_posts(1).await;
    // Past the 200 ms timeout and a 10 ms backoff, had there been a retry.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.response_url_posts().await.len(), 1);
}

#[tokio::test]
async fn a_response_url_on_an_allowed_host_but_not_https_on_443_is_never_followed() {
    for response_url in ["http://hooks.slack.com/commands/T1/2/abc", "https://hooks.slack.com:8443/commands/T1/2/abc"] {
        let app =
            deferred_app(|c| c.response_url_hosts = vec!["hooks.slack.com".into(), "127.0.0.1".into()], |_| {}).await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&app.slack).await;

        let body = app.form_with(COMMAND, &[("response_url", response_url)]);
        let reply = reply(app.post_signed(body, now()).await).await;

        assert_ephemeral_containing(&reply, "no reply address the bot may use");
    }
}

#[tokio::test]
async fn with_metrics_port_set_metrics_are_served_there_and_not_on_the_main_port() {
    let app = spawn_app_with(|c| c.metrics_port = Some(0)).await;
    let metrics_address = app.metrics_address.clone().expect("a metrics listener");

    let main = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    let own = app.client.get(format!("{metrics_address}/metrics")).send().await.unwrap();
    let commands_there = app.client.post(format!("{metrics_address}/slack/commands")).send().await.unwrap();

    assert_eq!(main.status(), 404, "not on the main port");
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("slack_sendcontact_commands_total"));
    assert_eq!(commands_there.status(), 404, "the metrics port serves nothing else");
    assert_eq!(app.client.get(format!("{}/healthz", app.address)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn without_metrics_port_metrics_stay_on_the_main_port() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    let main = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(main.status(), 200);
}
