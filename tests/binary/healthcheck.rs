//! `healthcheck`, as a container runtime runs it: it looks for the server
//! where `serve` listens, with HOST and PORT read the same way (`.env`
//! included, the real environment winning).

use wiremock::MockServer;

use crate::process::*;

#[tokio::test]
async fn healthcheck_probes_the_host_and_port_from_dotenv() {
    let green_api = MockServer::start().await;
    let server = Server::start(green_api_vars(&green_api.uri())).await;
    let port = server.port;

    for (name, dotenv) in [
        ("hc-port", format!("PORT={port}\n")),
        ("hc-any", format!("HOST=0.0.0.0\nPORT={port}\n")),
        ("hc-loopback", format!("HOST=127.0.0.1\nPORT={port}\n")),
        ("hc-name", format!("HOST=localhost\nPORT={port}\n")),
    ] {
        // localhost may resolve to ::1 first, where this server is not: every
        // address a name resolves to is tried, as binding does.
        let (code, _, err) = run_in(&dir_with_dotenv(name, &dotenv), &["healthcheck"], &[]).await;
        assert_eq!(code, Some(0), "{dotenv}: {err}");
    }

    // The real environment wins over `.env`.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = dir_with_dotenv("hc-env-wins", &format!("PORT={port}\n"));
    let (code, _, err) = run_in(&dir, &["healthcheck"], &[("PORT", closed.to_string())]).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("unhealthy: /healthz on 127.0.0.1:{closed}")), "{err}");

    // A specific HOST is probed itself: this server is on 127.0.0.1 only.
    let dir = dir_with_dotenv("hc-v6", &format!("HOST=::1\nPORT={port}\n"));
    let (code, _, err) = run_in(&dir, &["healthcheck"], &[]).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("[::1]:{port}")), "{err}");
}

#[tokio::test]
async fn healthcheck_reports_bad_host_and_port_as_unhealthy_naming_both() {
    let dir = dir_with_dotenv("hc-bad", "HOST=nope!\nPORT=http\n");
    let (code, _, err) = run_in(&dir, &["healthcheck"], &[]).await;
    // 1, not 2: Docker reserves a health check's exit status 2.
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("HOST='nope!'") && err.contains("PORT='http'"), "{err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
}
