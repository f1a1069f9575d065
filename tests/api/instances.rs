//! Several GREEN-API instances behind one `/sendcontact` (SENDCONTACT_CONFIG):
//! each routing rule sends to exactly one instance and no other, each
//! refusal sends nothing, and a MAX instance gets MAX's body.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::helpers::*;

const TOKEN_TELEGRAM: &str = "aaaa035edae3fc00bc116bd112297908d8145e5ba8decc5d884";
const TOKEN_WHATSAPP: &str = "bbbb035edae3fc00bc116bd112297908d8145e5ba8decc5d884";
const TOKEN_MAX: &str = "cccc035edae3fc00bc116bd112297908d8145e5ba8decc5d884";
/// Commands typed here default to the telegram instance.
const TELEGRAM_CHANNEL: &str = "CTELEGRAM1";

/// Three instances, each played by its own mock.
struct Team {
    app: TestApp,
    telegram: MockServer,
    whatsapp: MockServer,
    max: MockServer,
    _file: TempFile,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn send_contact_on(id_instance: &str, token: &str) -> MockBuilder {
    Mock::given(method("POST")).and(path(format!("/waInstance{id_instance}/sendContact/{token}")))
}

fn on_telegram() -> MockBuilder {
    send_contact_on("1101000001", TOKEN_TELEGRAM)
}

fn on_whatsapp() -> MockBuilder {
    send_contact_on("1101000002", TOKEN_WHATSAPP)
}

fn on_max() -> MockBuilder {
    send_contact_on("3100000003", TOKEN_MAX)
}

/// `whatsapp` plays the WhatsApp instance, prepared for what start-up asks;
/// `whatsapp_kind` is its `kind` line, or none (then getSettings tells it).
async fn team_with(name: &str, whatsapp: MockServer, whatsapp_kind: Option<&str>) -> Team {
    let (telegram, max) = (MockServer::start().await, MockServer::start().await);
    let whatsapp_kind = whatsapp_kind.map(|k| format!("kind = \"{k}\"\n")).unwrap_or_default();
    let file = format!(
        r#"[[instances]]
name = "telegram"
url = "{telegram}"
id_instance = "1101000001"
token_env = "TOKEN_TELEGRAM"
kind = "telegram"
channels = ["{TELEGRAM_CHANNEL}"]

[[instances]]
name = "whatsapp"
url = "{whatsapp}"
id_instance = 1101000002
token_env = "TOKEN_WHATSAPP"
{whatsapp_kind}
[[instances]]
name = "max"
url = "{max}"
id_instance = "3100000003"
token_env = "TOKEN_MAX"
kind = "max"

[chats]
sales = {{ instance = "whatsapp", chat_id = "120363043968066561@g.us" }}
"#,
        telegram = telegram.uri(),
        whatsapp = whatsapp.uri(),
        max = max.uri(),
    );
    let (app, file) = app_with_file(name, &file).await;
    Team { app, telegram, whatsapp, max, _file: file }
}

/// The app with SENDCONTACT_CONFIG written from `file`, whose `token_env`
/// names are TOKEN_TELEGRAM, TOKEN_WHATSAPP and TOKEN_MAX. The file lives as
/// long as the returned guard.
async fn app_with_file(name: &str, file: &str) -> (TestApp, TempFile) {
    let path = std::env::temp_dir().join(format!("sendcontact-api-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, file).unwrap();
    let app = spawn_app_with_instances(
        &path,
        &[("TOKEN_TELEGRAM", TOKEN_TELEGRAM), ("TOKEN_WHATSAPP", TOKEN_WHATSAPP), ("TOKEN_MAX", TOKEN_MAX)],
    )
    .await;
    (app, TempFile(path))
}

async fn team(name: &str) -> Team {
    team_with(name, MockServer::start().await, Some("whatsapp")).await
}

impl Team {
    /// Nothing may reach the instances not named.
    async fn expect_nothing_on(&self, servers: &[&MockServer]) {
        for server in servers {
            Mock::given(method("POST")).respond_with(id_message("wrong")).expect(0).mount(server).await;
        }
    }

    async fn command_in(&self, channel: &str, text: &str) -> serde_json::Value {
        let body = self.app.form_with(text, &[("channel_id", channel)]);
        reply(self.app.post_signed(body, now()).await).await
    }

    async fn command(&self, text: &str) -> serde_json::Value {
        self.command_in("COTHER", text).await
    }
}

fn phone_card(chat_id: &str) -> serde_json::Value {
    json!({"chatId": chat_id, "contact": {"phoneContact": 79876543210u64, "firstName": "Иван", "lastName": "Иванов"}})
}

#[tokio::test]
async fn an_alias_sends_to_its_instance_only() {
    let team = team("alias").await;
    on_whatsapp()
        .and(body_json(phone_card("120363043968066561@g.us")))
        .respond_with(id_message("wa-1"))
        .expect(1)
        .mount(&team.whatsapp)
        .await;
    team.expect_nothing_on(&[&team.telegram, &team.max]).await;
    // The alias wins over the channel's default instance.
    let reply = team.command_in(TELEGRAM_CHANNEL, "Sales +7 987 654-32-10 Иван Иванов").await;
    assert_eq!(reply["response_type"], "in_channel", "{reply}");
    assert!(text_of(&reply).contains("wa-1"), "{reply}");
}

#[tokio::test]
async fn a_whatsapp_chat_id_goes_to_the_only_whatsapp_instance() {
    let team = team("form").await;
    on_whatsapp()
        .and(body_json(phone_card("79001234567@c.us")))
        .respond_with(id_message("wa-2"))
        .expect(1)
        .mount(&team.whatsapp)
        .await;
    team.expect_nothing_on(&[&team.telegram, &team.max]).await;
    let reply = team.command_in(TELEGRAM_CHANNEL, "79001234567@c.us 79876543210 Иван Иванов").await;
    assert!(text_of(&reply).contains("wa-2"), "{reply}");
}

#[tokio::test]
async fn a_number_typed_in_a_channel_with_a_default_goes_to_that_instance() {
    let team = team("channel").await;
    on_telegram()
        .and(body_json(phone_card("10000000")))
        .respond_with(id_message("tg-1"))
        .expect(1)
        .mount(&team.telegram)
        .await;
    team.expect_nothing_on(&[&team.whatsapp, &team.max]).await;
    let reply = team.command_in(TELEGRAM_CHANNEL, "10000000 79876543210 Иван Иванов").await;
    assert!(text_of(&reply).contains("tg-1"), "{reply}");
}

#[tokio::test]
async fn an_explicit_max_instance_gets_maxs_body() {
    let team = team("max").await;
    on_max()
        .and(body_json(json!({"chatId": "10000000", "contact": {"chatId": "79876543210@c.us"}})))
        .respond_with(id_message("max-1"))
        .expect(1)
        .mount(&team.max)
        .await;
    on_max()
        .and(body_json(json!({"chatId": "-10000000000000", "contact": {"chatId": "20000000"}})))
        .respond_with(id_message("max-2"))
        .expect(1)
        .mount(&team.max)
        .await;
    team.expect_nothing_on(&[&team.telegram, &team.whatsapp]).await;
    // Explicit wins over the channel's default.
    let reply = team.command_in(TELEGRAM_CHANNEL, "max:10000000 +7 987 654-32-10").await;
    assert!(text_of(&reply).contains("max-1"), "{reply}");
    // A masked phone: a success goes to the whole channel.
    assert!(text_of(&reply).contains("79*******10@c.us") && !text_of(&reply).contains("79876543210"), "{reply}");
    let reply = team.command("MAX:-10000000000000 20000000").await;
    assert!(text_of(&reply).contains("max-2"), "{reply}");
}

#[tokio::test]
async fn a_chat_several_instances_could_take_is_refused_with_the_way_to_choose() {
    let team = team("ambiguous").await;
    team.expect_nothing_on(&[&team.telegram, &team.whatsapp, &team.max]).await;
    let reply = team.command("10000000 79876543210 Иван").await;
    assert_ephemeral_containing(&reply, "could belong to more than one instance: telegram, max");
    assert_ephemeral_containing(&reply, "`telegram:10000000` or `max:10000000`");
    assert_ephemeral_containing(&reply, "Nothing was sent");
}

#[tokio::test]
async fn every_routing_refusal_sends_nothing() {
    let team = team("refusals").await;
    team.expect_nothing_on(&[&team.telegram, &team.whatsapp, &team.max]).await;
    for (text, needle) in [
        (
            "viber:10000000 79876543210 Ivan",
            "There is no instance called `viber`; the instances are telegram, whatsapp, max",
        ),
        ("telegram:sales 79876543210 Ivan", "The alias `sales` belongs to instance whatsapp, not telegram"),
        ("max:1@g.us 20000000", "max is a MAX instance, and 1@g.us is a WhatsApp chat id"),
        ("saless 79876543210 Ivan", "chatId `saless` is not an alias"),
        ("max:10000000 +79876543210 Ivan", "names are not sent on MAX"),
        ("max:10000000", "&lt;contact&gt; is missing"),
    ] {
        let reply = team.command(text).await;
        assert_ephemeral_containing(&reply, needle);
    }
    // MAX's grammar comes with MAX's usage.
    let reply = team.command("max:10000000").await;
    assert_ephemeral_containing(&reply, "`/sendcontact &lt;chatId&gt; &lt;contact&gt;`");
}

#[tokio::test]
async fn help_lists_the_instances_the_aliases_and_the_max_grammar() {
    let team = team("help").await;
    team.expect_nothing_on(&[&team.telegram, &team.whatsapp, &team.max]).await;
    let reply = team.command("help").await;
    for needle in [
        "Instances: telegram (Telegram), whatsapp (WhatsApp), max (MAX)",
        "`sales` (whatsapp)",
        "On MAX (instance max)",
        "`/sendcontact max:10000000 +79876543210`",
    ] {
        assert_ephemeral_containing(&reply, needle);
    }
}

#[tokio::test]
async fn a_max_refusal_says_the_contact_must_be_among_the_instances_contacts() {
    let team = team("max-refused").await;
    on_max()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"message": "Validation failed"})))
        .expect(1)
        .mount(&team.max)
        .await;
    let reply = team.command("max:10000000 20000000").await;
    assert_ephemeral_containing(&reply, "to chat max:10000000");
    assert_ephemeral_containing(&reply, "Validation failed");
    assert_ephemeral_containing(&reply, "the contact must already be among the instance's contacts");
}

#[tokio::test]
async fn upstream_metrics_are_labelled_by_instance() {
    let team = team("metrics").await;
    on_whatsapp().respond_with(id_message("wa-3")).expect(1).mount(&team.whatsapp).await;
    team.command("sales 79876543210 Иван").await;
    let metrics = team.app.client.get(format!("{}/metrics", team.app.address)).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    for line in [
        r#"slack_sendcontact_upstream_calls_total{green_api_instance="whatsapp",class="2xx"} 1"#,
        r#"slack_sendcontact_upstream_calls_total{green_api_instance="telegram",class="2xx"} 0"#,
        r#"slack_sendcontact_upstream_duration_seconds_count{green_api_instance="max"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
    }
}

#[tokio::test]
async fn an_instance_without_kind_is_routed_by_what_get_settings_says() {
    // The WhatsApp instance's kind is not in the file: start-up asks
    // getSettings, and from its answer on, WhatsApp forms are its own and
    // numbers are not.
    let whatsapp = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/waInstance1101000002/getSettings/{TOKEN_WHATSAPP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"typeInstance": "whatsapp"})))
        .expect(1)
        .mount(&whatsapp)
        .await;
    let team = team_with("detect", whatsapp, None).await;
    on_whatsapp().respond_with(id_message("wa-4")).expect(1).mount(&team.whatsapp).await;
    team.expect_nothing_on(&[&team.telegram, &team.max]).await;
    let metrics_url = format!("{}/metrics", team.app.address);
    let mut detected = false;
    for _ in 0..300 {
        let text = team.app.client.get(&metrics_url).send().await.unwrap().text().await.unwrap();
        if text
            .contains(r#"slack_sendcontact_green_api_instance_info{green_api_instance="whatsapp",type="whatsapp"} 1"#)
        {
            detected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(detected, "getSettings was not asked at start");
    let reply = team.command("-10000000000000 79876543210 Иван").await;
    assert_ephemeral_containing(&reply, "more than one instance: telegram, max.");
    let reply = team.command("1@g.us 79876543210 Иван").await;
    assert!(text_of(&reply).contains("wa-4"), "{reply}");
}

/// The form with the aliases of one instance: the chat field offers them,
/// and a chosen alias is sent like a typed one.
#[tokio::test]
async fn the_forms_chat_menu_offers_the_aliases_and_a_chosen_one_is_routed() {
    use slack_sendcontact::domain::ChatId;
    use slack_sendcontact::instances::AliasSettings;
    let app = spawn_app_with_bot(|config| {
        config.instances.aliases.push(AliasSettings {
            name: "sales".into(),
            instance: 0,
            chat_id: ChatId::parse("120363043968066561@g.us").unwrap(),
        });
    })
    .await;
    web_api("views.open").respond_with(slack_ok(json!({"view": {"id": "V1"}}))).expect(1).mount(&app.slack).await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({"ts": "1.2"}))).expect(1).mount(&app.slack).await;
    send_contact()
        .and(body_json(json!({
            "chatId": "120363043968066561@g.us",
            "contact": {"phoneContact": 79876543210u64, "firstName": "Ivan"}
        })))
        .respond_with(id_message("form-alias"))
        .expect(1)
        .mount(&app.green_api)
        .await;

    let opened = app.post_command("").await;
    assert_eq!(opened.status(), 200);
    let view = &app.web_api_calls("views.open").await[0]["view"];
    let chat = &view["blocks"][0]["element"];
    assert_eq!(chat["type"], "external_select", "{view}");
    assert_eq!(chat["min_query_length"], 0, "{view}");
    assert_eq!(view["blocks"][0]["block_id"], "chat_id", "{view}");

    let metadata = view["private_metadata"].as_str().unwrap();
    let suggestion = json!({
        "type": "block_suggestion",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "action_id": "chat_id",
        "block_id": "chat_id",
        "value": "SA",
        "view": {"id": "V1", "callback_id": "sendcontact", "private_metadata": metadata},
    });
    let options = reply(app.post_interaction(&suggestion).await).await;
    assert_eq!(options, json!({"options": [{"text": {"type": "plain_text", "text": "sales"}, "value": "sales"}]}));
    let submission = json!({
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "view": {
            "id": "V1",
            "callback_id": "sendcontact",
            "private_metadata": metadata,
            "state": {"values": {
                "chat_id": {"chat_id": {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "sales"}, "value": "sales"}}},
                "phone": {"phone": {"type": "plain_text_input", "value": "79876543210"}},
                "first_name": {"first_name": {"type": "plain_text_input", "value": "Ivan"}},
                "last_name": {"last_name": {"type": "plain_text_input", "value": null}},
                "company": {"company": {"type": "plain_text_input", "value": null}},
            }},
        }
    });
    let answer = app.post_interaction(&submission).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "", "the form closes");
    let post = &app.wait_for_web_api_calls("chat.postMessage", 1).await[0];
    let all = post.to_string();
    assert!(all.contains("form-alias") && all.contains("sales"), "the card names the chat by its alias: {all}");
    assert!(!all.contains("@g.us"), "{all}");
}

/// The chat menu of the form suggests, as the user types, the aliases whose
/// name or chat id holds the text, and the text itself when it routes as a
/// chat id; a typed chat id chosen so is sent like one typed in the command.
#[tokio::test]
async fn the_forms_chat_menu_suggests_matching_aliases_and_a_typed_chat_id_which_is_sent() {
    use slack_sendcontact::domain::ChatId;
    use slack_sendcontact::instances::AliasSettings;
    let app = spawn_app_with_bot(|config| {
        for (name, chat) in [("Sales", "120363043968066561@g.us"), ("support", "-1001234567890"), ("hr", "10000001")] {
            config.instances.aliases.push(AliasSettings {
                name: name.into(),
                instance: 0,
                chat_id: ChatId::parse(chat).unwrap(),
            });
        }
    })
    .await;
    send_contact()
        .and(body_json(json!({
            "chatId": "10000000",
            "contact": {"phoneContact": 79876543210u64, "firstName": "Ivan"}
        })))
        .respond_with(id_message("form-typed"))
        .expect(1)
        .mount(&app.green_api)
        .await;
    web_api("chat.postMessage").respond_with(slack_ok(json!({"ts": "1.2"}))).expect(1).mount(&app.slack).await;

    let metadata = |language: &str| json!({"c": "C2147483705", "l": language}).to_string();
    // Several suggestions within one second would share a signature, which
    // the service refuses as a replay: a counter keeps their bodies apart.
    let sent = std::sync::atomic::AtomicU32::new(0);
    let suggest = |typed: &str, language: &str| {
        json!({
            "n": sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            "type": "block_suggestion",
            "team": {"id": "T0001"},
            "user": {"id": "U2147483697", "team_id": "T0001"},
            "action_id": "chat_id",
            "block_id": "chat_id",
            "value": typed,
            "view": {"callback_id": "sendcontact", "private_metadata": metadata(language)},
        })
    };
    let values = |answer: &serde_json::Value| -> Vec<String> {
        answer["options"].as_array().unwrap().iter().map(|o| o["value"].as_str().unwrap().to_owned()).collect()
    };
    let cases: &[(&str, &[&str])] = &[
        ("", &["hr", "Sales", "support"]),
        ("s", &["Sales", "support"]),
        ("SALES", &["Sales"]),
        ("-100123", &["-100123", "support"]),
        ("10000000", &["10000000"]),
        ("1000000", &["1000000", "hr"]),
        ("79876543210@c.us", &["79876543210@c.us"]),
        ("nobody", &[]),
    ];
    for (typed, expected) in cases {
        let answer = reply(app.post_interaction(&suggest(typed, "en")).await).await;
        assert_eq!(values(&answer), *expected, "typed {typed:?}: {answer}");
        for option in answer["options"].as_array().unwrap() {
            assert!(option["text"]["text"].as_str().unwrap().chars().count() <= 75, "{option}");
        }
    }
    let answer = reply(app.post_interaction(&suggest("10000000", "en")).await).await;
    assert_eq!(answer["options"][0]["text"]["text"], "Send to chat 10000000");
    let answer = reply(app.post_interaction(&suggest("10000000", "ru")).await).await;
    assert_eq!(answer["options"][0]["text"]["text"], "Отправить в чат 10000000");
    let other_menu = json!({"type": "block_suggestion", "action_id": "phone", "value": "1", "view": {"private_metadata": metadata("en")}});
    assert_eq!(reply(app.post_interaction(&other_menu).await).await, json!({"options": []}));

    let submission = json!({
        "type": "view_submission",
        "team": {"id": "T0001"},
        "user": {"id": "U2147483697", "team_id": "T0001"},
        "view": {
            "callback_id": "sendcontact",
            "private_metadata": metadata("en"),
            "state": {"values": {
                "chat_id": {"chat_id": {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "Send to chat 10000000"}, "value": "10000000"}}},
                "phone": {"phone": {"type": "plain_text_input", "value": "79876543210"}},
                "first_name": {"first_name": {"type": "plain_text_input", "value": "Ivan"}},
            }},
        }
    });
    let answer = app.post_interaction(&submission).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "", "the form closes");
    let post = &app.wait_for_web_api_calls("chat.postMessage", 1).await[0];
    assert!(post.to_string().contains("form-typed"), "{post}");
}

/// A GREEN-API on a raw socket, to count connections (wiremock cannot): it
/// keeps each one open and answers every request on it with an id. Returns
/// its URL, the connections it accepted and the request lines, in order.
async fn keep_alive_green_api() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (connections, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(Mutex::new(Vec::new())));
    let (accepted, seen) = (Arc::clone(&connections), Arc::clone(&requests));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    // One request: its head, then Content-Length bytes of body.
                    let request = loop {
                        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                            let length = head
                                .lines()
                                .filter_map(|line| line.split_once(':'))
                                .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                                .map_or(0, |(_, value)| value.trim().parse::<usize>().unwrap());
                            if pending.len() >= end + 4 + length {
                                pending.drain(..end + 4 + length);
                                break head;
                            }
                        }
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    };
                    let line = request.lines().next().unwrap_or_default().to_owned();
                    let body = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(line);
                        format!(r#"{{"idMessage":"id-{}"}}"#, seen.len())
                    };
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, connections, requests)
}

#[tokio::test]
async fn instances_on_one_host_share_its_connections_unless_they_connect_differently() {
    let (url, connections, requests) = keep_alive_green_api().await;
    // a and b connect alike; c has its own timeout, so its own connections.
    let file = format!(
        r#"[[instances]]
name = "a"
url = "{url}"
id_instance = "1101000001"
token_env = "TOKEN_TELEGRAM"
kind = "whatsapp"

[[instances]]
name = "b"
url = "{url}"
id_instance = "1101000002"
token_env = "TOKEN_WHATSAPP"
kind = "whatsapp"

[[instances]]
name = "c"
url = "{url}"
id_instance = "1101000003"
token_env = "TOKEN_MAX"
kind = "whatsapp"
timeout_ms = 4000

[chats]
one = {{ instance = "a", chat_id = "79001234561@c.us" }}
two = {{ instance = "b", chat_id = "79001234562@c.us" }}
three = {{ instance = "c", chat_id = "79001234563@c.us" }}
"#
    );
    let (app, _file) = app_with_file("shared-pool", &file).await;

    // One after another, on the test client's one keep-alive connection, so
    // on one HTTP worker and its pools.
    for (alias, id) in [("one", "id-1"), ("two", "id-2"), ("three", "id-3"), ("one", "id-4")] {
        let reply = reply(app.post_command(&format!("{alias} 79876543210 Иван")).await).await;
        assert_eq!(reply["response_type"], "in_channel", "{alias}: {reply}");
        assert!(text_of(&reply).contains(id), "{alias}: {reply}");
    }

    let lines = requests.lock().unwrap().clone();
    let instances: Vec<&str> = lines.iter().map(|line| line.split('/').nth(1).unwrap_or_default()).collect();
    assert_eq!(
        instances,
        ["waInstance1101000001", "waInstance1101000002", "waInstance1101000003", "waInstance1101000001"],
        "each command went to its own instance, by its own URL"
    );
    assert!(lines.iter().all(|line| line.starts_with("POST ")), "{lines:?}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "a and b share one connection; c, which connects with another timeout, opens its own"
    );
}
