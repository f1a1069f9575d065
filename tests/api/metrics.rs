//! GET /metrics reads what happened.

use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[tokio::test]
async fn metrics_count_commands_upstream_calls_deferred_deliveries_and_rejections() {
    let green_api = MockServer::start().await;
    get_settings("telegram").expect(1).mount(&green_api).await;
    let app = spawn_app_on(green_api, |c| c.ack_budget = Duration::from_millis(200)).await;
    send_contact().respond_with(id_message("1")).up_to_n_times(1).mount(&app.green_api).await;
    send_contact().respond_with(ResponseTemplate::new(500)).up_to_n_times(1).mount(&app.green_api).await;
    send_contact().respond_with(id_message("slow").set_delay(Duration::from_millis(600))).mount(&app.green_api).await;
    response_url_ok().mount(&app.slack).await;

    for _ in 0..3 {
        reply(app.post_command("10000000 79876543210 Ivan").await).await;
    }
    reply(app.post_command("help").await).await;
    reply(app.post_command("10000000 1 Ivan").await).await;
    assert_eq!(app.post_signed(app.form("help"), now() - 1000).await.status(), 401);
    app.wait_for_response_url_posts(1).await;

    // The late delivery is counted once Slack's answer to it is read, a
    // moment after Slack has the POST (and on another thread than this test).
    let text = scrape_until(&app, r#"slack_sendcontact_deferred_deliveries_total{outcome="delivered"}"#, 1.0).await;
    for line in [
        r#"slack_sendcontact_commands_total{outcome="sent"} 2"#,
        r#"slack_sendcontact_commands_total{outcome="server_error"} 1"#,
        r#"slack_sendcontact_commands_total{outcome="help"} 1"#,
        r#"slack_sendcontact_commands_total{outcome="invalid_arguments"} 1"#,
        r#"slack_sendcontact_upstream_calls_total{green_api_instance="default",class="2xx"} 2"#,
        r#"slack_sendcontact_upstream_calls_total{green_api_instance="default",class="5xx"} 1"#,
        r#"slack_sendcontact_upstream_duration_seconds_count{green_api_instance="default"} 3"#,
        r#"slack_sendcontact_deferred_deliveries_total{outcome="delivered"} 1"#,
        r#"slack_sendcontact_signature_rejections_total{reason="expired_timestamp"} 1"#,
        r#"slack_sendcontact_green_api_instance_info{green_api_instance="default",type="telegram"} 1"#,
    ] {
        assert!(has(&text, line), "{line} missing from\n{text}");
    }
}

#[tokio::test]
async fn the_instance_type_is_learnt_once_at_start_up_without_delaying_it() {
    let green_api = MockServer::start().await;
    get_settings("v3").expect(1).mount(&green_api).await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&green_api).await;
    let app = spawn_app_on(green_api, |_| {}).await;
    // The server answers before the probe is known to have finished...
    assert_eq!(app.client.get(format!("{}/healthz", app.address)).send().await.unwrap().status(), 200);
    // ...and the answer shows up once it has.
    for _ in 0..200 {
        if scrape(&app)
            .await
            .contains(r#"slack_sendcontact_green_api_instance_info{green_api_instance="default",type="v3"} 1"#)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the instance type never showed up:\n{}", scrape(&app).await);
}

fn get_settings(type_instance: &str) -> Mock {
    Mock::given(method("GET"))
        .and(path(format!("/waInstance{ID_INSTANCE}/getSettings/{TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"typeInstance": type_instance})))
}

/// The value of the series `name` (with its labels, as rendered), if present.
fn value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Scrapes until `series` reads `expected` (generously), and returns the scrape.
async fn scrape_until(app: &TestApp, series: &str, expected: f64) -> String {
    for _ in 0..300 {
        let text = scrape(app).await;
        if value(&text, series) == Some(expected) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{series} never reached {expected}:\n{}", scrape(app).await);
}

#[tokio::test]
async fn build_info_names_the_running_version() {
    let app = spawn_app().await;
    let text = scrape(&app).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("slack_sendcontact_build_info{"))
        .unwrap_or_else(|| panic!("no build_info in\n{text}"));
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(line.contains(&version), "{line}");
    assert!(line.contains(",revision=\"") && line.ends_with("} 1"), "{line}");
}

#[tokio::test]
async fn acknowledgement_and_outcome_times_cover_inline_and_late_outcomes() {
    let app = spawn_app_with(|c| c.ack_budget = Duration::from_millis(200)).await;
    send_contact().respond_with(id_message("fast")).up_to_n_times(1).mount(&app.green_api).await;
    send_contact().respond_with(id_message("slow").set_delay(Duration::from_millis(600))).mount(&app.green_api).await;
    response_url_ok().expect(1).mount(&app.slack).await;

    // An inline outcome, a late one, and a help whose answer is its outcome.
    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    reply(app.post_command("10000000 79876543210 Ivan").await).await;
    reply(app.post_command("help").await).await;
    app.wait_for_response_url_posts(1).await;

    let text = scrape_until(&app, "slack_sendcontact_command_outcome_seconds_count", 3.0).await;
    for (series, expected) in [
        ("slack_sendcontact_command_ack_seconds_count", 3.0),
        ("slack_sendcontact_command_ack_seconds_bucket{le=\"+Inf\"}", 3.0),
        // Acknowledged within the ack budget, far inside Slack's 3 s.
        ("slack_sendcontact_command_ack_seconds_bucket{le=\"3\"}", 3.0),
        // The late outcome came after GREEN-API's 600 ms; the other two at once.
        ("slack_sendcontact_command_outcome_seconds_bucket{le=\"0.5\"}", 2.0),
        ("slack_sendcontact_command_outcome_seconds_bucket{le=\"+Inf\"}", 3.0),
    ] {
        assert_eq!(value(&text, series), Some(expected), "{series} in\n{text}");
    }
}

#[tokio::test]
async fn refused_requests_are_counted_by_status() {
    let app = spawn_app_tuned(|_| {}, |t| t.body_timeout = Duration::from_millis(300)).await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;

    assert_eq!(app.post_signed(app.form("help"), now() - 1000).await.status(), 401);
    assert_eq!(app.post_with_headers(app.form("help"), &[]).await.status(), 401);
    // The form's route is counted alike.
    assert_eq!(app.post_to("/slack/interactions", "payload=%7B%7D", &[]).await.status(), 401);
    assert_eq!(app.post_with_headers("text=".repeat(4000), &[]).await.status(), 413);
    let duplicated = format!("{}&text=again", app.form("help"));
    assert_eq!(app.post_signed(duplicated, now()).await.status(), 400);
    // A body that never finishes arriving.
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ntext=",
    )
    .await
    .unwrap();

    let text = scrape_until(&app, "slack_sendcontact_rejected_requests_total{status=\"408\"}", 1.0).await;
    for (status, expected) in [("400", 1.0), ("401", 3.0), ("413", 1.0)] {
        let series = format!("slack_sendcontact_rejected_requests_total{{status=\"{status}\"}}");
        assert_eq!(value(&text, &series), Some(expected), "{series} in\n{text}");
    }
    assert_eq!(value(&text, "slack_sendcontact_commands_total{outcome=\"help\"}"), Some(0.0));
}

#[tokio::test]
async fn response_url_retries_are_counted_as_they_happen() {
    let app = spawn_app_with(|c| c.ack_budget = Duration::from_millis(100)).await;
    send_contact().respond_with(id_message("slow").set_delay(Duration::from_millis(300))).mount(&app.green_api).await;
    Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        // 429: Slack did not post it, so it is sent again (a 5xx may have been posted, and is not).
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(2)
        .expect(2)
        .mount(&app.slack)
        .await;
    response_url_ok().expect(1).mount(&app.slack).await;

    reply(app.post_command("10000000 79876543210 Ivan").await).await;

    let text = scrape_until(&app, "slack_sendcontact_deferred_deliveries_total{outcome=\"delivered\"}", 1.0).await;
    assert_eq!(value(&text, "slack_sendcontact_response_url_retries_total"), Some(2.0), "{text}");
}

#[tokio::test]
async fn sends_waiting_for_the_rate_limit_show_as_a_queue() {
    // One send per second: four at once leave three waiting, for up to 3 s.
    let app = spawn_app_with(|c| {
        c.instances.instances[0].green_api.max_rps = std::num::NonZeroU32::new(1).unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_secs(30);
        c.ack_budget = Duration::from_millis(100);
    })
    .await;
    send_contact().respond_with(id_message("1")).expect(4).mount(&app.green_api).await;
    response_url_ok().mount(&app.slack).await;

    let commands: Vec<_> = (0..4).map(|_| app.post_command("10000000 79876543210 Ivan")).collect();
    futures_util::future::join_all(commands).await;

    let mut seen = 0.0_f64;
    for _ in 0..300 {
        let queue = value(&scrape(&app).await, "slack_sendcontact_rate_limiter_queue{green_api_instance=\"default\"}")
            .expect("the queue gauge");
        seen = seen.max(queue);
        if seen >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!((1.0..=3.0).contains(&seen), "the queue showed {seen} waiting sends");
    // Once every send has had its turn, the queue is empty again.
    scrape_until(&app, "slack_sendcontact_commands_total{outcome=\"sent\"}", 4.0).await;
    assert_eq!(
        value(&scrape(&app).await, "slack_sendcontact_rate_limiter_queue{green_api_instance=\"default\"}"),
        Some(0.0)
    );
}

/// Every `slack_sendcontact_*` series in `expr`, with the label values its matchers
/// ask for (`label="value"`, or each alternative of `label=~"a|b"`).
fn series_in(expr: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("slack_sendcontact_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let name = tail[..end].to_owned();
        let mut matchers = Vec::new();
        if let Some(inner) = tail[end..].strip_prefix('{') {
            let inner = &inner[..inner.find('}').expect("a closed matcher")];
            for matcher in inner.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                if matcher.contains("!=") || matcher.contains("!~") {
                    // A negative matcher names a value to leave out; it need not exist.
                    continue;
                }
                let (label, value) = matcher.split_once('=').expect("label=value");
                let value = value.trim_start_matches('~').trim_matches('"');
                for alternative in value.split('|') {
                    matchers.push((label.to_owned(), alternative.to_owned()));
                }
            }
        }
        found.push((name, matchers));
        rest = &tail[end..];
    }
    found
}

#[tokio::test]
async fn every_alert_rule_uses_series_and_labels_the_service_exports() {
    let rules: serde_json::Value =
        serde_yaml_ng::from_str(include_str!("../../deploy/prometheus/alerts.yml")).expect("alerts.yml is YAML");
    let readme = include_str!("../../README.md");
    let app = spawn_app().await;
    // The Socket Mode series appear once Socket Mode is on; the same Metrics renders them.
    let socket_mode = slack_sendcontact::metrics::Metrics::default();
    socket_mode.socket_mode_connected(false);
    socket_mode.socket_mode_reconnect("dropped");
    let socket_mode_lines: String = socket_mode
        .render()
        .lines()
        .filter(|l| l.starts_with("slack_sendcontact_socket_mode_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = scrape(&app).await + &socket_mode_lines;

    let rules = rules["groups"][0]["rules"].as_array().expect("a group of rules");
    assert!(rules.len() >= 10, "the rules file has the alerts README lists");
    for rule in rules {
        let name = rule["alert"].as_str().expect("each rule is an alert");
        let expr = rule["expr"].as_str().expect("each alert has an expression");
        assert!(rule["labels"]["severity"].is_string(), "{name} has a severity");
        assert!(rule["annotations"]["summary"].is_string(), "{name} has a summary");
        assert!(readme.contains(&format!("`{name}`")), "README's alert table lists {name}");
        let series = series_in(expr);
        assert!(!series.is_empty(), "{name} uses the service's metrics: {expr}");
        for (series, matchers) in series {
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("{series}{{")) || l.starts_with(&format!("{series} ")))
                .collect();
            assert!(!lines.is_empty(), "{name}: /metrics has no {series}");
            for (label, value) in matchers {
                let pair = format!("{label}=\"{value}\"");
                assert!(lines.iter().any(|l| l.contains(&pair)), "{name}: /metrics has no {series} with {pair}");
            }
        }
    }
}
