//! Each GREEN-API failure class becomes one plain-words ephemeral reply, and
//! nothing the upstream may have accepted is sent twice.

use std::time::Duration;

use serde_json::json;
use slack_sendcontact::config::ServeConfig;
use wiremock::ResponseTemplate;

use crate::helpers::*;

const COMMAND: &str = "10000000 79876543210 Ivan";

/// Mounts `response` for sendContact, expecting `calls` calls, and returns the reply.
async fn reply_for(app: &TestApp, response: ResponseTemplate, calls: u64) -> serde_json::Value {
    send_contact().respond_with(response).expect(calls).mount(&app.green_api).await;
    response_url_ok().expect(0).mount(&app.slack).await;
    reply(app.post_command(COMMAND).await).await
}

#[tokio::test]
async fn each_refusal_is_explained_and_never_retried() {
    let cases: Vec<(ResponseTemplate, &str)> = vec![
        (
            ResponseTemplate::new(400).set_body_string("Validation failed. Details: 'chatId' is invalid"),
            "GREEN-API refused the contact: Validation failed. Details: 'chatId' is invalid.",
        ),
        (ResponseTemplate::new(400).set_body_json(json!({"message": "bad request data"})), "refused the contact: bad request data"),
        (ResponseTemplate::new(401), "ask your admin"),
        (ResponseTemplate::new(403), "did not accept this bot's credentials (HTTP 403)"),
        (ResponseTemplate::new(200).set_body_json(json!({"code": 401, "description": "Unauthorized"})), "credentials"),
        (
            ResponseTemplate::new(466).set_body_json(json!({"correspondentsStatus": {"status": "CORRESPONDENTS_QUOTE_EXCEEDED", "description": "Monthly quota has been exceeded"}})),
            "quota is used up (Monthly quota has been exceeded)",
        ),
        (ResponseTemplate::new(404), "HTTP 404"),
    ];
    for (response, expected) in cases {
        let app = spawn_app().await;
        let reply = reply_for(&app, response, 1).await;
        assert_ephemeral_containing(&reply, expected);
        assert_ephemeral_containing(&reply, "Nothing was sent");
    }
}

#[tokio::test]
async fn answers_that_may_mean_sent_are_reported_as_unknown_and_never_retried() {
    let cases: Vec<(ResponseTemplate, &str)> = vec![
        (ResponseTemplate::new(500), "internal problem (HTTP 500)"),
        (ResponseTemplate::new(502), "internal problem (HTTP 502)"),
        (ResponseTemplate::new(499), "HTTP 499"),
        (ResponseTemplate::new(200).set_body_json(json!({"idMessage": ""})), "without a message id"),
        (ResponseTemplate::new(200).set_body_json(json!({})), "without a message id"),
        (ResponseTemplate::new(200).set_body_string("<html>gateway</html>"), "without a message id"),
        (ResponseTemplate::new(200).set_body_string("x".repeat(200 * 1024)), "without a message id"),
    ];
    for (response, expected) in cases {
        let app = spawn_app().await;
        let reply = reply_for(&app, response, 1).await;
        assert_ephemeral_containing(&reply, expected);
        assert_ephemeral_containing(&reply, "may or may not have been sent");
    }
}

#[tokio::test]
async fn a_timeout_is_reported_as_an_unknown_outcome_and_not_retried() {
    let app =
        spawn_app_with(|c: &mut ServeConfig| c.instances.instances[0].green_api.timeout = Duration::from_millis(300))
            .await;
    let reply = reply_for(&app, id_message("1").set_delay(Duration::from_secs(3)), 1).await;
    assert_ephemeral_containing(&reply, "did not answer within 0.3 s. The outcome is unknown");
}

/// Mounts a 429 with this Retry-After for the first sendContact and an
/// idMessage for the next; returns when each call arrived.
async fn a_429_then_success(app: &TestApp, retry_after: &str) -> Arrivals {
    let arrivals = Arrivals::default();
    send_contact()
        .respond_with(arrivals.answer(ResponseTemplate::new(429).insert_header("Retry-After", retry_after)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.green_api)
        .await;
    send_contact().respond_with(arrivals.answer(id_message("after-429"))).expect(1).mount(&app.green_api).await;
    arrivals
}

/// How long after the first call the second one reached GREEN-API.
fn gap(arrivals: &Arrivals) -> Duration {
    let arrivals = arrivals.sorted();
    assert_eq!(arrivals.len(), 2, "two calls to GREEN-API");
    arrivals[1] - arrivals[0]
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_then_succeeds() {
    // Acknowledge at once and finish through response_url, so the 2 s wait
    // never races the ack budget.
    let app = spawn_app_with(|c: &mut ServeConfig| c.ack_budget = Duration::ZERO).await;
    let arrivals = a_429_then_success(&app, "2").await;
    response_url_ok().expect(1).mount(&app.slack).await;
    let ack = reply(app.post_command(COMMAND).await).await;
    assert_ephemeral_containing(&ack, "Sending");
    let posts = app.wait_for_response_url_posts(1).await;
    assert_eq!(posts[0]["response_type"], "in_channel", "{}", posts[0]);
    assert!(text_of(&posts[0]).contains("after-429"));
    // A lower bound only: a busy machine may retry later, never sooner.
    let gap = gap(&arrivals);
    assert!(gap >= Duration::from_secs(2), "retried {gap:?} after a 429 with Retry-After: 2");
}

#[tokio::test]
async fn a_429_with_retry_after_zero_still_waits_the_first_backoff() {
    let app = spawn_app().await;
    let arrivals = a_429_then_success(&app, "0").await;
    let reply = reply(app.post_command(COMMAND).await).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
    let gap = gap(&arrivals);
    assert!(gap >= Duration::from_secs(1), "retried {gap:?} after a 429 with Retry-After: 0");
}

#[tokio::test]
async fn a_429_with_a_retry_after_date_in_the_past_still_waits_the_first_backoff() {
    let app = spawn_app().await;
    let arrivals = a_429_then_success(&app, "Wed, 21 Oct 2015 07:28:00 GMT").await;
    let reply = reply(app.post_command(COMMAND).await).await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
    let gap = gap(&arrivals);
    assert!(gap >= Duration::from_secs(1), "retried {gap:?} after a 429 with a past Retry-After date");
}

#[tokio::test]
async fn a_429_storm_gives_up_within_the_budget_with_a_clear_message() {
    // Budget 3 s: a call at 0 s, a retry after the 1 s backoff, and no
    // room for a third after the next backoff of 2 s.
    let app =
        spawn_app_with(|c: &mut ServeConfig| c.instances.instances[0].green_api.timeout = Duration::from_millis(3000))
            .await;
    let reply = reply_for(&app, ResponseTemplate::new(429), 2).await;
    assert_ephemeral_containing(&reply, "too many requests");
    assert_ephemeral_containing(&reply, "Nothing was sent");
}

#[tokio::test]
async fn a_429_storm_with_retry_after_zero_is_not_hammered() {
    // Retry-After: 0 must not mean "at once": with at least 1 s between
    // calls a 2.5 s budget has room for two or three, not dozens.
    let app =
        spawn_app_with(|c: &mut ServeConfig| c.instances.instances[0].green_api.timeout = Duration::from_millis(2500))
            .await;
    send_contact()
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .expect(1..=3)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(0).mount(&app.slack).await;
    let reply = reply(app.post_command(COMMAND).await).await;
    assert_ephemeral_containing(&reply, "GREEN-API kept answering \"too many requests\"");
    assert_ephemeral_containing(&reply, "Nothing was sent");
}

#[tokio::test]
async fn a_429_retry_crowded_out_of_the_rate_limit_is_reported_as_rate_limited() {
    // One call per second and a 4 s budget. Command A gets a 429 asking for
    // 2 s; meanwhile B, C and D take the slots at 1, 2 and 3 s, so A's retry
    // finds no slot within its budget. A was refused by GREEN-API, so A's user
    // must read "too many requests", not that this bot is busy.
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.instances.instances[0].green_api.max_rps = std::num::NonZeroU32::new(1).unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_secs(4);
        // Every outcome goes through response_url, however long it took.
        c.ack_budget = Duration::ZERO;
    })
    .await;
    send_contact()
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.green_api)
        .await;
    send_contact().respond_with(id_message("1")).expect(3).mount(&app.green_api).await;
    response_url_ok().expect(4).mount(&app.slack).await;

    reply(app.post_command(COMMAND).await).await;
    // B, C and D come once A's first call has reserved its slot.
    for _ in 0..200 {
        if !app.green_api.received_requests().await.unwrap_or_default().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let acks = futures_util::future::join_all((0..3).map(|_| app.post_command(COMMAND))).await;
    for ack in acks {
        reply(ack).await;
    }

    let posts = app.wait_for_response_url_posts(4).await;
    let (sent, failed): (Vec<_>, Vec<_>) = posts.iter().partition(|p| p["response_type"] == "in_channel");
    assert_eq!(sent.len(), 3, "{posts:?}");
    assert_ephemeral_containing(failed[0], "GREEN-API kept answering \"too many requests\"");
}

#[tokio::test]
async fn a_refused_connection_is_reported_and_nothing_is_sent() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let app = spawn_app_with(move |c: &mut ServeConfig| {
        c.instances.instances[0].green_api.url = format!("http://127.0.0.1:{closed_port}").parse().unwrap();
    })
    .await;
    let reply = reply(app.post_command(COMMAND).await).await;
    assert_ephemeral_containing(&reply, "Could not connect to GREEN-API");
    assert_ephemeral_containing(&reply, "Nothing was sent");
}

#[tokio::test]
async fn an_unresolvable_host_is_reported_and_nothing_is_sent() {
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.instances.instances[0].green_api.url = "http://green-api.invalid".parse().unwrap();
    })
    .await;
    let reply = reply(app.post_command(COMMAND).await).await;
    assert_ephemeral_containing(&reply, "Could not connect to GREEN-API");
}

#[tokio::test]
async fn an_absurd_retry_after_gives_up_at_once_instead_of_crashing() {
    // u64::MAX seconds: added to the clock it would overflow.
    let app = spawn_app().await;
    let response = ResponseTemplate::new(429).insert_header("Retry-After", "18446744073709551615");
    let reply = reply_for(&app, response, 1).await;
    assert_ephemeral_containing(&reply, "too many requests");
    assert_ephemeral_containing(&reply, "Nothing was sent");
}
