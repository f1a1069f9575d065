//! The pieces of one `POST /slack/commands`, timed one by one with the
//! public API (`cargo bench --bench hot_path`). The whole request, HTTP and
//! upstream call included, is measured by `tools/load/run.sh`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use slack_sendcontact::command::Command;
use slack_sendcontact::dispatch::{Job, Requester, outcome_reply};
use slack_sendcontact::domain::Card;
use slack_sendcontact::green_api::{GreenApiError, IdMessage, send_contact_body};
use slack_sendcontact::handler::parse_text;
use slack_sendcontact::i18n::command::Usage;
use slack_sendcontact::i18n::{Language, Localized};
use slack_sendcontact::instances::{Defaults, Registry, parse_file, route};
use slack_sendcontact::slack::form::{SlashCommandForm, is_ssl_check};
use slack_sendcontact::slack::reply::Reply;
use slack_sendcontact::slack::response_url::ResponseUrl;
use slack_sendcontact::slack::signature::{SigningSecret, sign, verify};

/// What a user types: Cyrillic names, a grouped phone number, a company in
/// guillemets.
const TEXT: &str = "10000000 +7 987 654-32-10 Иван Иванов «ООО Ромашка и партнёры»";
/// A text with every kind of markup Slack adds.
const TEXT_MARKUP: &str = "<mailto:79876543210@c.us|79876543210@c.us> <tel:+79876543210|+7 987 654 32 10> “Anna Maria” O'Neil «Smith &amp; Sons»";
const TIMESTAMP: i64 = 1_767_225_600;

/// A slash-command form with every field Slack sends.
fn body(text: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
        ("team_id", "T01234567"),
        ("team_domain", "acme-corp"),
        ("enterprise_id", "E0001"),
        ("enterprise_name", "Acme Corp"),
        ("channel_id", "C0123456789"),
        ("channel_name", "sales-team"),
        ("user_id", "U0123456789"),
        ("user_name", "ivan.petrov"),
        ("command", "/sendcontact"),
        ("text", text),
        ("api_app_id", "A0123456789"),
        ("is_enterprise_install", "false"),
        ("response_url", "https://hooks.slack.com/commands/T01234567/6000000000000/1a2b3c4d5e6f7a8b9c0d1e2f"),
        ("trigger_id", "7000000000000.4744562912.9e3779b97f4a7c159e3779b97f4a7c15"),
    ])
    .expect("a form of strings encodes")
}

fn slack(c: &mut Criterion) {
    let secret = SigningSecret::new("8f742231b10e8888abcd99yyyzzz85a5".to_owned().into());
    let body = body(TEXT);
    let signature = sign(&secret, TIMESTAMP, body.as_bytes());
    let timestamp = TIMESTAMP.to_string();
    println!("typical body: {} bytes", body.len());

    c.bench_function("is_ssl_check (typical body)", |b| b.iter(|| is_ssl_check(black_box(body.as_bytes()))));
    c.bench_function("signature::verify (typical body)", |b| {
        b.iter(|| {
            verify(
                &secret,
                Some(black_box(timestamp.as_bytes())),
                Some(black_box(signature.as_bytes())),
                black_box(body.as_bytes()),
                TIMESTAMP,
            )
        })
    });
    c.bench_function("SlashCommandForm::parse (typical body)", |b| {
        b.iter(|| SlashCommandForm::parse(black_box(body.as_bytes())).expect("the form decodes"))
    });
    let hosts = vec!["hooks.slack.com".to_owned(), "hooks.slack-gov.com".to_owned()];
    let form = SlashCommandForm::parse(body.as_bytes()).expect("the form decodes");
    c.bench_function("ResponseUrl::parse", |b| {
        b.iter(|| ResponseUrl::parse(black_box(form.response_url.as_deref()), &hosts).expect("allowed"))
    });
}

/// Three instances and ten aliases, as SENDCONTACT_CONFIG gives them: what
/// routing searches on every command.
fn several() -> Registry {
    let mut file = String::new();
    for (name, kind) in [("telegram", "telegram"), ("whatsapp", "whatsapp"), ("max", "max")] {
        file.push_str(&format!(
            "[[instances]]\nname = \"{name}\"\nurl = \"https://4100.api.green-api.com\"\n\
             id_instance = \"{}\"\ntoken_env = \"TOKEN\"\nkind = \"{kind}\"\n",
            1101000000 + name.len()
        ));
    }
    file.push_str("[chats]\n");
    for i in 0..10 {
        file.push_str(&format!("team{i} = {{ instance = \"whatsapp\", chat_id = \"1203630439680665{i:02}@g.us\" }}\n"));
    }
    let env = |_: &str| Some("bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884".to_owned());
    let defaults = Defaults { timeout: std::time::Duration::from_secs(10), max_rps: 50.try_into().expect("not zero") };
    Registry::new(&parse_file(&file, &env, defaults).expect("the file is valid"))
}

fn command(c: &mut Criterion) {
    let one = Registry::one("default", None);
    c.bench_function("handler::parse_text (typical)", |b| {
        b.iter(|| parse_text(black_box(TEXT), &one, "C0123456789").expect("valid"))
    });
    c.bench_function("handler::parse_text (Slack markup)", |b| {
        b.iter(|| parse_text(black_box(TEXT_MARKUP), &one, "C0123456789").expect("valid"))
    });
    let several = several();
    c.bench_function("instances::route (alias among 10, 3 instances)", |b| {
        b.iter(|| route(&several, black_box("team7"), "C0123456789").expect("routed"))
    });
    c.bench_function("instances::route (chat id form, 3 instances)", |b| {
        b.iter(|| route(&several, black_box("79876543210@c.us"), "C0123456789").expect("routed"))
    });
    c.bench_function("handler::parse_text (typical, explicit instance of 3)", |b| {
        let text = format!("telegram:{TEXT}");
        b.iter(|| parse_text(black_box(&text), &several, "C0123456789").expect("valid"))
    });
}

fn upstream_and_reply(c: &mut Criterion) {
    let Ok(Command::Send(send)) = parse_text(TEXT, &Registry::one("default", None), "") else {
        panic!("the text is a valid send")
    };
    let Card::Phone(contact) = &send.card else { panic!("one instance of unknown kind takes a phone card") };
    c.bench_function("green_api::send_contact_body", |b| {
        b.iter(|| send_contact_body(black_box(&send.chat_id), black_box(contact)))
    });

    let hosts = vec!["hooks.slack.com".to_owned()];
    let response_url =
        ResponseUrl::parse(Some("https://hooks.slack.com/commands/T01234567/6000000000000/1a2b3c4d"), &hosts)
            .expect("allowed");
    let job = Job {
        send,
        requester: Requester {
            team_id: "T01234567".into(),
            user_id: "U0123456789".into(),
            channel_id: "C0123456789".into(),
        },
        response_url: Some(response_url),
        received_at: tokio::time::Instant::now(),
        language: slack_sendcontact::i18n::Language::En,
        visibility: slack_sendcontact::slack::reply::ResponseType::InChannel,
    };
    let sent = Ok(IdMessage::new("BAE5F4886B1D9A42"));
    let failed = Err(GreenApiError::ServerError { status: 500 });
    c.bench_function("dispatch::outcome_reply + to_json (sent)", |b| {
        b.iter(|| outcome_reply(black_box(&job), black_box(&sent), None).to_json())
    });
    c.bench_function("dispatch::outcome_reply + to_json (failed)", |b| {
        b.iter(|| outcome_reply(black_box(&job), black_box(&failed), None).to_json())
    });
    c.bench_function("help reply: usage + Reply::ephemeral + to_json", |b| {
        b.iter(|| {
            let usage = Usage { invocation: black_box("/sendcontact"), form: false };
            Reply::ephemeral(&usage.localize(Language::En)).to_json()
        })
    });
}

criterion_group!(benches, slack, command, upstream_and_reply);
criterion_main!(benches);
