//! The form: `/sendcontact` alone opens it (views.open), a submission comes
//! back to /slack/interactions, and the bot posts the outcome through Slack's
//! Web API, played here by wiremock at SLACK_API_URL.

use std::time::Duration;

use serde_json::{Value, json};
use slack_sendcontact::i18n::ReplyLanguage;
use slack_sendcontact::slack::blocks::{check_message, check_modal};
use slack_sendcontact::slack::reply::ResponseType;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_partial_json, path};

use crate::helpers::*;

pub const CHANNEL: &str = "C2147483705";
const USER: &str = "U2147483697";
const TRIGGER: &str = "13345224609.738474920.8088930838d88f008e0";

pub fn metadata(language: &str) -> String {
    json!({"c": CHANNEL, "l": language, "i": "/sendcontact"}).to_string()
}

/// A view_submission as Slack sends it, with these input values.
pub fn submission(values: &[(&str, &str)], metadata: &str) -> Value {
    let values: serde_json::Map<String, Value> = values
        .iter()
        .map(|(id, value)| ((*id).to_owned(), json!({ *id: {"type": "plain_text_input", "value": value} })))
        .collect();
    json!({
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": USER, "team_id": "T0001"},
        "api_app_id": "A123456",
        "view": {
            "id": "V1",
            "callback_id": "sendcontact",
            "private_metadata": metadata,
            "state": {"values": values},
        }
    })
}

pub fn valid_values() -> Vec<(&'static str, &'static str)> {
    vec![
        ("chat_id", "79876543210@c.us"),
        ("phone", "+7 987 654-32-10"),
        ("first_name", "Ivan"),
        ("last_name", "Ivanov"),
        ("company", "Smith & Sons"),
    ]
}

async fn empty_200(response: reqwest::Response) {
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "", "Slack closes the form only on an empty body");
}

#[tokio::test]
async fn the_command_alone_opens_the_form_once_and_slack_gets_an_empty_200() {
    let app = spawn_app_with_bot(|_| {}).await;
    web_api("views.open")
        .and(body_partial_json(json!({"trigger_id": TRIGGER, "view": {"callback_id": "sendcontact"}})))
        .respond_with(slack_ok(json!({"view": {"id": "V1"}})))
        .expect(1)
        .mount(&app.slack)
        .await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;

    empty_200(app.post_signed(app.form_with("", &[("trigger_id", TRIGGER)]), now()).await).await;

    let view = &app.web_api_calls("views.open").await[0]["view"];
    assert_eq!(check_modal(view), Ok(()), "{view}");
    let ids: Vec<_> = view["blocks"].as_array().unwrap().iter().map(|b| b["block_id"].clone()).collect();
    assert_eq!(ids, ["chat_id", "phone", "first_name", "last_name", "company"]);
    for block in view["blocks"].as_array().unwrap() {
        assert_eq!(block["element"]["action_id"], block["block_id"]);
    }
    let metadata: Value = serde_json::from_str(view["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata["c"], CHANNEL);
}

#[tokio::test]
async fn help_still_shows_the_usage_and_says_the_form_exists() {
    let app = spawn_app_with_bot(|_| {}).await;
    web_api("views.open").respond_with(slack_ok(json!({}))).expect(0).mount(&app.slack).await;
    let reply = reply(app.post_command("help").await).await;
    assert_ephemeral_containing(&reply, "[lastName] [company]");
    assert_ephemeral_containing(&reply, "alone to fill in a form");
    assert_eq!(check_message(&reply), Ok(()));
}

#[tokio::test]
async fn without_a_bot_token_the_command_alone_shows_the_usage() {
    let app = spawn_app().await;
    let reply = reply(app.post_command("").await).await;
    assert_ephemeral_containing(&reply, "[lastName] [company]");
    assert!(!text_of(&reply).contains("fill in a form"), "{reply}");
    assert!(app.slack.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_slow_views_open_falls_back_to_the_usage_within_the_ack_budget() {
    let app = spawn_app_with_bot(|c| c.ack_budget = Duration::from_millis(300)).await;
    web_api("views.open")
        .respond_with(slack_ok(json!({})).set_delay(Duration::from_secs(20)))
        .expect(1)
        .mount(&app.slack)
        .await;
    let reply = reply(app.post_command("").await).await;
    assert_ephemeral_containing(&reply, "Slack did not open the form");
    assert_ephemeral_containing(&reply, "[lastName] [company]");
}

#[tokio::test]
async fn a_refused_views_open_falls_back_to_the_usage() {
    let app = spawn_app_with_bot(|_| {}).await;
    web_api("views.open")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "expired_trigger_id"})))
        .expect(1)
        .mount(&app.slack)
        .await;
    let reply = reply(app.post_command("  ").await).await;
    assert_ephemeral_containing(&reply, "Slack did not open the form");
}

#[tokio::test]
async fn a_valid_form_closes_sends_once_and_the_card_is_posted_in_the_channel() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact()
        .and(body_partial_json(json!({"chatId": "79876543210@c.us", "contact": {"phoneContact": 79876543210u64}})))
        .respond_with(id_message("BAE5F4886AD98765"))
        .expect(1)
        .mount(&app.green_api)
        .await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": CHANNEL})))
        .respond_with(slack_ok(json!({"ts": "1.2"})))
        .expect(1)
        .mount(&app.slack)
        .await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    let post = &app.wait_for_web_api_calls("chat.postMessage", 1).await[0];
    assert_eq!(check_message(post), Ok(()), "{post}");
    let text = post["text"].as_str().unwrap();
    assert!(text.contains("BAE5F4886AD98765") && text.contains(&format!("<@{USER}>")), "{text}");
    let all = post.to_string();
    assert!(!all.contains("79876543210"), "the channel sees no phone number: {all}");
    assert!(all.contains("+7 987 ***-**-10") && all.contains("Smith &amp; Sons"), "{all}");
}

#[tokio::test]
async fn an_invalid_form_names_each_wrong_field_and_sends_nothing() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    let values = [("chat_id", "ten"), ("phone", "123"), ("first_name", " "), ("company", "Acme")];

    let answer = reply(app.post_interaction(&submission(&values, &metadata("en"))).await).await;

    assert_eq!(answer["response_action"], "errors", "{answer}");
    let errors = answer["errors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["chat_id", "first_name", "phone"], "{answer}");
    assert!(errors["chat_id"].as_str().unwrap().contains("not a chat id"), "{answer}");
    assert!(errors["phone"].as_str().unwrap().contains("has 3 digits"), "{answer}");
    assert_eq!(errors["first_name"], "Enter the first name.");
    assert!(app.slack.received_requests().await.unwrap().is_empty(), "nothing is posted");
}

#[tokio::test]
async fn russian_form_errors_are_in_russian() {
    let app = spawn_app_with_bot(|c| c.reply_language = ReplyLanguage::parse("ru").unwrap()).await;
    let values = [("chat_id", "10000000"), ("phone", "")];
    let answer = reply(app.post_interaction(&submission(&values, &metadata("ru"))).await).await;
    assert_eq!(answer["errors"]["phone"], "Укажите номер телефона.");
    assert_eq!(answer["errors"]["first_name"], "Укажите имя.");
}

#[tokio::test]
async fn a_russian_form_is_opened_and_its_card_posted_in_russian() {
    let app = spawn_app_with_bot(|c| c.reply_language = ReplyLanguage::parse("ru").unwrap()).await;
    web_api("views.open").respond_with(slack_ok(json!({}))).expect(1).mount(&app.slack).await;
    send_contact().respond_with(id_message("RU1")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({}))).expect(1).mount(&app.slack).await;

    empty_200(app.post_command("").await).await;
    let view = &app.web_api_calls("views.open").await[0]["view"];
    assert_eq!(view["title"]["text"], "Отправка контакта");
    let metadata = view["private_metadata"].as_str().unwrap().to_owned();

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata)).await).await;
    let post = &app.wait_for_web_api_calls("chat.postMessage", 1).await[0];
    assert_eq!(check_message(post), Ok(()));
    assert!(post.to_string().contains("Карточка контакта отправлена"), "{post}");
}

#[tokio::test]
async fn a_failure_is_posted_to_the_user_alone() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact()
        .respond_with(ResponseTemplate::new(400).set_body_string("Validation failed"))
        .expect(1)
        .mount(&app.green_api)
        .await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({}))).expect(0).mount(&app.slack).await;
    web_api("chat.postEphemeral")
        .and(body_partial_json(json!({"channel": CHANNEL, "user": USER})))
        .respond_with(slack_ok(json!({})))
        .expect(1)
        .mount(&app.slack)
        .await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    let post = &app.wait_for_web_api_calls("chat.postEphemeral", 1).await[0];
    assert_eq!(check_message(post), Ok(()));
    assert!(post["text"].as_str().unwrap().contains("Validation failed"), "{post}");
}

#[tokio::test]
async fn an_ephemeral_success_shows_the_sender_everything() {
    let app = spawn_app_with_bot(|c| c.success_visibility = ResponseType::Ephemeral).await;
    send_contact().respond_with(id_message("E1")).expect(1).mount(&app.green_api).await;
    web_api("chat.postEphemeral").respond_with(slack_ok(json!({}))).expect(1).mount(&app.slack).await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({}))).expect(0).mount(&app.slack).await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    let post = &app.wait_for_web_api_calls("chat.postEphemeral", 1).await[0];
    assert_eq!(check_message(post), Ok(()));
    assert!(post.to_string().contains("+79876543210"), "{post}");
}

#[tokio::test]
async fn where_the_bot_may_not_post_the_outcome_goes_to_the_users_direct_messages() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("DM1")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": CHANNEL})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "not_in_channel"})))
        .expect(1)
        .mount(&app.slack)
        .await;
    web_api("conversations.open")
        .and(body_partial_json(json!({"users": USER})))
        .respond_with(slack_ok(json!({"channel": {"id": "D024BE91L"}})))
        .expect(1)
        .mount(&app.slack)
        .await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": "D024BE91L"})))
        .respond_with(slack_ok(json!({})))
        .expect(1)
        .mount(&app.slack)
        .await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    let posts = app.wait_for_web_api_calls("chat.postMessage", 2).await;
    let direct = posts.iter().find(|p| p["channel"] == "D024BE91L").expect("a direct message");
    assert_eq!(check_message(direct), Ok(()), "{direct}");
    let text = direct["text"].as_str().unwrap();
    assert!(text.contains(&format!("<#{CHANNEL}>")) && text.contains("DM1"), "{text}");
}

/// A form opened in someone else's direct conversation: the bot is not in
/// it, and the note does not try to link it as a channel.
#[tokio::test]
async fn a_form_from_another_direct_conversation_is_answered_in_the_apps_own() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("DM2")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": "D0OTHERDM"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "channel_not_found"})))
        .expect(1)
        .mount(&app.slack)
        .await;
    web_api("conversations.open")
        .respond_with(slack_ok(json!({"channel": {"id": "D024BE91L"}})))
        .expect(1)
        .mount(&app.slack)
        .await;
    web_api("chat.postMessage")
        .and(body_partial_json(json!({"channel": "D024BE91L"})))
        .respond_with(slack_ok(json!({})))
        .expect(1)
        .mount(&app.slack)
        .await;

    let metadata = json!({"c": "D0OTHERDM", "l": "en", "i": "/sendcontact"}).to_string();
    empty_200(app.post_interaction(&submission(&valid_values(), &metadata)).await).await;

    let posts = app.wait_for_web_api_calls("chat.postMessage", 2).await;
    let direct = posts.iter().find(|p| p["channel"] == "D024BE91L").expect("a direct message");
    assert_eq!(check_message(direct), Ok(()), "{direct}");
    let text = direct["text"].as_str().unwrap();
    assert!(!text.contains("<#") && text.contains("where you opened the form") && text.contains("DM2"), "{text}");
}

#[tokio::test]
async fn a_rate_limited_post_is_repeated_after_retry_after() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("RL1")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage")
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.slack)
        .await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({}))).expect(1).mount(&app.slack).await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    app.wait_for_web_api_calls("chat.postMessage", 2).await;
}

#[tokio::test]
async fn a_post_that_may_have_happened_is_not_repeated() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("S1")).expect(1).mount(&app.green_api).await;
    web_api("chat.postMessage").respond_with(ResponseTemplate::new(500)).expect(1).mount(&app.slack).await;

    empty_200(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;

    app.wait_for_web_api_calls("chat.postMessage", 1).await;
    // The send has finished and its post failed; nothing more follows.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.web_api_calls("chat.postMessage").await.len(), 1);
}

#[tokio::test]
async fn a_form_without_readable_metadata_is_refused_and_nothing_is_sent() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    let answer = reply(app.post_interaction(&submission(&valid_values(), "not json")).await).await;
    assert!(answer["errors"]["chat_id"].as_str().unwrap().contains("out of date"), "{answer}");
}

#[tokio::test]
async fn a_user_outside_the_allowlist_cannot_submit_the_form() {
    let app = spawn_app_with_bot(|c| {
        c.allowlist = slack_sendcontact::allowlist::Allowlist::new(vec![], vec!["U0".into()], vec![]);
    })
    .await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    let answer = reply(app.post_interaction(&submission(&valid_values(), &metadata("en"))).await).await;
    assert!(answer["errors"]["chat_id"].as_str().unwrap().contains("not allowed"), "{answer}");
}

#[tokio::test]
async fn other_interactions_are_acknowledged_and_ignored() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    empty_200(app.post_interaction(&json!({"type": "view_closed", "view": {"callback_id": "sendcontact"}})).await)
        .await;
    let mut other = submission(&valid_values(), &metadata("en"));
    other["view"]["callback_id"] = json!("someone_else");
    empty_200(app.post_interaction(&other).await).await;
}

#[tokio::test]
async fn interactions_are_verified_like_commands() {
    let app = spawn_app_with_bot(|_| {}).await;
    send_contact().respond_with(id_message("never")).expect(0).mount(&app.green_api).await;
    let body =
        serde_urlencoded::to_string([("payload", submission(&valid_values(), &metadata("en")).to_string())]).unwrap();
    let unsigned = app.post_to("/slack/interactions", body.clone(), &[]).await;
    assert_eq!(unsigned.status(), 401);
    let forged = app
        .post_to(
            "/slack/interactions",
            body,
            &[("X-Slack-Request-Timestamp", &now().to_string()), ("X-Slack-Signature", "v0=00")],
        )
        .await;
    assert_eq!(forged.status(), 401);
    let large = app.post_to("/slack/interactions", "payload=".to_owned() + &"x".repeat(17 * 1024), &[]).await;
    assert_eq!(large.status(), 413);
    let probe = app.post_to("/slack/interactions", "ssl_check=1&token=x", &[]).await;
    assert_eq!(probe.status(), 200);

    let sign = |body: &str| {
        let ts = now();
        let signature = slack_sendcontact::slack::signature::sign(
            &slack_sendcontact::slack::signature::SigningSecret::new(SIGNING_SECRET.into()),
            ts,
            body.as_bytes(),
        );
        (ts.to_string(), signature)
    };
    for body in ["text=no-payload", "payload=%7Bnot%20json"] {
        let (ts, signature) = sign(body);
        let response = app
            .post_to(
                "/slack/interactions",
                body.to_owned(),
                &[("X-Slack-Request-Timestamp", &ts), ("X-Slack-Signature", &signature)],
            )
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn auto_asks_each_users_locale_once_and_answers_in_it() {
    let app = spawn_app_with_bot(|c| c.reply_language = ReplyLanguage::Auto).await;
    wiremock::Mock::given(path("/api/users.info"))
        .respond_with(slack_ok(json!({"user": {"id": USER, "locale": "ru-RU"}})))
        .expect(1)
        .mount(&app.slack)
        .await;
    for _ in 0..2 {
        let reply = reply(app.post_command("help").await).await;
        assert_ephemeral_containing(&reply, "Отправка карточки контакта");
    }
}

#[tokio::test]
async fn auto_answers_in_english_when_slack_does_not_say() {
    let app = spawn_app_with_bot(|c| c.reply_language = ReplyLanguage::Auto).await;
    wiremock::Mock::given(path("/api/users.info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "missing_scope"})))
        .expect(1)
        .mount(&app.slack)
        .await;
    let reply = reply(app.post_command("help").await).await;
    assert_ephemeral_containing(&reply, "Send a contact card");
}

#[tokio::test]
async fn a_typed_command_in_the_channel_gets_the_card_with_the_phone_masked() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("CARD1")).expect(1).mount(&app.green_api).await;
    let reply = reply(app.post_command("79876543210@c.us +79876543210 Ivan").await).await;
    assert_eq!(check_message(&reply), Ok(()), "{reply}");
    assert_eq!(reply["response_type"], "in_channel");
    assert!(reply["blocks"].is_array(), "{reply}");
    assert!(!reply.to_string().contains("79876543210"), "{reply}");
}
