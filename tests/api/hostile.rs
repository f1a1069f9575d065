//! Hostile and broken input: always a 4xx or a precise message, never a
//! panic or a 500, and never a call upstream.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Writes `request` on a raw connection and returns the status line.
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_with_408() {
    let app = spawn_app_tuned(|_| {}, |t| t.body_timeout = Duration::from_millis(300)).await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let status = raw(
        &app,
        b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntext=",
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
}

#[tokio::test]
async fn a_chunked_body_without_a_length_is_cut_off_at_the_limit_while_streaming() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let mut request = b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..20 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b'a'; 0x400]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let status = raw(&app, &request).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
}

#[tokio::test]
async fn malformed_signature_headers_are_refused_with_401_not_500() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;
    let body = app.form("10000000 79876543210 Ivan");
    let cases: [&[u8]; 4] = [
        b"X-Slack-Signature: v0=\xff\xfe\r\nX-Slack-Request-Timestamp: \xd0\x96\r\n",
        b"X-Slack-Signature: v0=abc\r\nX-Slack-Signature: v0=def\r\nX-Slack-Request-Timestamp: 1\r\n",
        b"X-Slack-Request-Timestamp: 99999999999999999999999999\r\nX-Slack-Signature: v0=\r\n",
        b"X-Slack-Request-Timestamp: -1\r\nX-Slack-Signature: v0=00 \r\n",
    ];
    for headers in cases {
        let mut request = format!(
            "POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(headers);
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body.as_bytes());
        let status = raw(&app, &request).await;
        assert!(status.starts_with("HTTP/1.1 401"), "{status} for {:?}", String::from_utf8_lossy(headers));
    }
}

#[tokio::test]
async fn strange_but_signed_forms_get_a_precise_answer_or_400() {
    let app = spawn_app().await;
    send_contact().respond_with(id_message("1")).expect(0).mount(&app.green_api).await;

    // Non-UTF-8 and broken percent-encoding are decoded leniently; the
    // arguments are then judged like any other.
    let base = app.form("");
    for text in ["text=%ff%fe+%ZZ", "text=10000000+%E2%80+Ivan", "text=%", "text=%00%01+79876543210+Ivan"] {
        let body = format!("{base}&{text}").replace("&text=&", "&");
        let reply = reply(app.post_signed(body, now()).await).await;
        assert_eq!(reply["response_type"], "ephemeral", "{text}: {reply}");
    }

    // Thousands of fields fit in 16 KiB and change nothing.
    let many = format!("{}{}", "x=1&".repeat(3000), app.form("help"));
    let reply = reply(app.post_signed(many, now()).await).await;
    assert_ephemeral_containing(&reply, "&lt;chatId&gt;");

    // A repeated field is ambiguous: refused outright.
    let duplicated = format!("{}&user_id=U0", app.form("help"));
    assert_eq!(app.post_signed(duplicated, now()).await.status(), 400);

    // Signed bodies that are not key=value pairs at all.
    let binary = String::from_utf8_lossy(&[0xff, 0x00, 0x26, 0x3d, 0x3d, 0x26]).into_owned();
    for body in [binary.as_str(), r#"{"text":"10000000 79876543210 Ivan"}"#, "not a form at all", "<xml/>"] {
        let status = app.post_signed(body.to_owned(), now()).await.status();
        assert_eq!(status, 400, "{body}");
    }
}
