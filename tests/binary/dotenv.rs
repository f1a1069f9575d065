//! A `.env` file in the working directory configures everything the real
//! environment does, RUST_LOG included; the real environment wins.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use wiremock::MockServer;

use crate::process::*;

#[tokio::test]
async fn rust_log_in_dotenv_filters_the_log_and_the_real_environment_wins() {
    let dir = dir_with_dotenv("rust-log", "RUST_LOG=error\n");
    let quiet = serve_log(&dir, &[]).await;
    assert!(!quiet.contains("INFO") && !quiet.contains("listening for Slack commands"), "{quiet}");

    let loud = serve_log(&dir, &[("RUST_LOG", "info".to_owned())]).await;
    assert!(loud.contains("listening for Slack commands"), "{loud}");
}

#[tokio::test]
async fn a_rust_log_that_does_not_parse_is_a_configuration_problem() {
    let dir = dir_with_dotenv("rust-log-bad", "RUST_LOG=slack_sendcontact=degub\nLOG_FORMAT=xml\n");
    let (code, _, err) = run_in(&dir, &["check"], &green_api_vars("http://127.0.0.1:9")).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("RUST_LOG='slack_sendcontact=degub'") && err.contains("LOG_FORMAT='xml'"), "{err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
}

/// Runs `serve` in `dir` until it answers /healthz, stops it with SIGTERM and
/// returns all it wrote. The port is chosen here: at RUST_LOG=error the log
/// does not tell it.
async fn serve_log(dir: &Path, extra: &[(&'static str, String)]) -> String {
    let green_api = MockServer::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut vars = green_api_vars(&green_api.uri());
    vars.extend([
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
    ]);
    vars.extend_from_slice(extra);
    let child = binary_in(dir, &["serve"], &vars).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let client = client();
    let health = format!("http://127.0.0.1:{port}/healthz");
    let mut up = false;
    for _ in 0..1000 {
        if client.get(&health).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&child, "TERM");
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await.unwrap().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(up, "serve did not answer on port {port}: {log}");
    assert_eq!(output.status.code(), Some(0), "{log}");
    log
}

#[tokio::test]
async fn an_unclosed_quote_in_dotenv_stops_the_start_instead_of_dropping_the_allowlist() {
    let dir = dir_with_dotenv(
        "unclosed-quote",
        "SLACK_ALLOWED_TEAM_IDS=\"T0001\nSLACK_ALLOWED_USER_IDS=U0001\nSLACK_SIGNING_SECRET=dotenv-secret-value\n",
    );
    for subcommand in ["serve", "check"] {
        let (code, out, err) = run_in(&dir, &[subcommand], &green_api_vars("http://127.0.0.1:9")).await;
        assert_eq!(code, Some(2), "{subcommand}: {out}{err}");
        assert!(err.contains(".env line 1: a quote opened there is never closed"), "{subcommand}: {err}");
        assert!(!err.contains("dotenv-secret-value") && !err.contains("T0001"), "{err}");
    }
}

#[tokio::test]
async fn a_dotenv_that_cannot_be_read_is_a_configuration_problem() {
    let dir = scratch_dir().join("dotenv-is-a-directory");
    std::fs::create_dir_all(dir.join(".env")).unwrap();
    let (code, _, err) = run_in(&dir, &["check"], &green_api_vars("http://127.0.0.1:9")).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(".env exists but cannot be read"), "{err}");
}
