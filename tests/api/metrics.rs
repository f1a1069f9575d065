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

    let text = scrape(&app).await;
    for line in [
        r#"slack_sendcontact_commands_total{outcome="sent"} 2"#,
        r#"slack_sendcontact_commands_total{outcome="server_error"} 1"#,
        r#"slack_sendcontact_commands_total{outcome="help"} 1"#,
        r#"slack_sendcontact_commands_total{outcome="invalid_arguments"} 1"#,
        r#"slack_sendcontact_upstream_calls_total{instance="default",class="2xx"} 2"#,
        r#"slack_sendcontact_upstream_calls_total{instance="default",class="5xx"} 1"#,
        r#"slack_sendcontact_upstream_duration_seconds_count{instance="default"} 3"#,
        r#"slack_sendcontact_deferred_deliveries_total{outcome="delivered"} 1"#,
        r#"slack_sendcontact_signature_rejections_total{reason="expired_timestamp"} 1"#,
        r#"slack_sendcontact_green_api_instance_info{instance="default",type="telegram"} 1"#,
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
        if scrape(&app).await.contains(r#"slack_sendcontact_green_api_instance_info{instance="default",type="v3"} 1"#) {
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
