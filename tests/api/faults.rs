//! Upstream faults wiremock cannot play: a GREEN-API that hangs up halfway
//! or never stops talking. Each gets one final answer and exactly one call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use slack_sendcontact::config::ServeConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::*;

/// A fake GREEN-API on a raw socket: reads a request, then runs `behave` on
/// the connection. Returns its URL and how many requests it got.
async fn fake_green_api<F, Fut>(behave: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            let behave = Arc::clone(&behave);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read up to the end of the JSON body (it ends with `}}`).
                while !request.ends_with(b"}}") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if request.starts_with(b"POST ") {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                behave(stream).await;
            });
        }
    });
    (url, calls)
}

async fn app_against(url: String) -> TestApp {
    spawn_app_with(move |c: &mut ServeConfig| {
        c.instances.instances[0].green_api.url = url.parse().unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_secs(3);
    })
    .await
}

#[tokio::test]
async fn a_connection_closed_mid_response_is_an_unknown_outcome_sent_once() {
    let (url, calls) = fake_green_api(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"idMes")
            .await;
        // Dropping the stream hangs up halfway through the body.
    })
    .await;
    let app = app_against(url).await;
    let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&reply, "The connection to GREEN-API broke before it answered");
    assert_ephemeral_containing(&reply, "may or may not have been sent");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_closed_before_any_answer_is_an_unknown_outcome_sent_once() {
    let (url, calls) = fake_green_api(|stream| async move { drop(stream) }).await;
    let app = app_against(url).await;
    let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&reply, "may or may not have been sent");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_server_closes_after_answering_is_not_used_again() {
    let (url, calls) = fake_green_api(|mut stream| async move {
        let body = r#"{"idMessage":"closing"}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
    })
    .await;
    let app = app_against(url).await;
    for n in 1..=3 {
        let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
        assert_eq!(reply["response_type"], "in_channel", "command {n}: {reply}");
        assert!(text_of(&reply).contains("closing"), "command {n}: {reply}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one call per command, each on a connection of its own");
}

#[tokio::test]
async fn an_endless_body_is_read_only_up_to_a_bound() {
    let (url, calls) = fake_green_api(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        let chunk = format!("{:x}\r\n{}\r\n", 8192, "7".repeat(8192));
        // 64 MiB at most, so the fake itself always ends.
        for _ in 0..8192 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let app = app_against(url).await;
    let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&reply, "an answer longer than 64 KiB");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_burst_over_the_rate_limit_queues_and_what_cannot_wait_is_refused_unsent() {
    // 1 call per second and a 500 ms budget: of three simultaneous commands
    // one is sent and two would wait too long.
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.instances.instances[0].green_api.max_rps = std::num::NonZeroU32::new(1).unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_millis(500);
    })
    .await;
    send_contact().respond_with(id_message("1")).expect(1).mount(&app.green_api).await;
    let replies = futures_util::future::join_all((0..3).map(|_| app.post_command("10000000 79876543210 Ivan"))).await;
    let mut sent = 0;
    for response in replies {
        let reply = reply(response).await;
        if reply["response_type"] == "in_channel" {
            sent += 1;
        } else {
            assert_ephemeral_containing(&reply, "Too many contacts are being sent right now. Nothing was sent");
        }
    }
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn a_call_whose_slot_leaves_no_time_to_answer_is_refused_unsent() {
    // 1 call per second and a 1 s budget: the second command's slot comes
    // when its budget is all but spent. Started then, it would time out as
    // "outcome unknown" although GREEN-API probably accepted it; it must be
    // refused before anything is sent.
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.instances.instances[0].green_api.max_rps = std::num::NonZeroU32::new(1).unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_millis(1000);
    })
    .await;
    send_contact()
        .respond_with(id_message("1").set_delay(Duration::from_millis(50)))
        .expect(1)
        .mount(&app.green_api)
        .await;
    response_url_ok().expect(0).mount(&app.slack).await;
    let replies = futures_util::future::join_all((0..2).map(|_| app.post_command("10000000 79876543210 Ivan"))).await;
    let mut replies = futures_util::future::join_all(replies.into_iter().map(reply)).await;
    replies.sort_by_key(|r| r["response_type"] != "in_channel");
    assert_eq!(replies[0]["response_type"], "in_channel", "{}", replies[0]);
    assert_ephemeral_containing(&replies[1], "Too many contacts are being sent right now. Nothing was sent");
}

#[tokio::test]
async fn a_burst_within_the_budget_queues_and_is_all_sent() {
    let app = spawn_app_with(|c: &mut ServeConfig| {
        c.instances.instances[0].green_api.max_rps = std::num::NonZeroU32::new(10).unwrap();
    })
    .await;
    let arrivals = Arrivals::default();
    send_contact().respond_with(arrivals.answer(id_message("1"))).expect(5).mount(&app.green_api).await;
    let started = Instant::now();
    let replies = futures_util::future::join_all((0..5).map(|_| app.post_command("10000000 79876543210 Ivan"))).await;
    for response in replies {
        assert_eq!(reply(response).await["response_type"], "in_channel");
    }
    // The limiter hands out slots 100 ms apart from some instant after
    // `started`, and no call reaches GREEN-API before its slot, so the k-th
    // arrival comes at least k intervals after `started`. Lower bounds only:
    // a slow machine can make calls later, never earlier.
    let interval = Duration::from_millis(100);
    for (k, arrived) in arrivals.sorted().into_iter().enumerate() {
        let after = arrived - started;
        assert!(after >= interval * k as u32, "call {k} reached GREEN-API {after:?} after the burst began");
    }
}

/// A GREEN-API URL on https:// whose server is a raw socket: it records
/// whether the first bytes were a TLS handshake record, then `behave`s.
async fn fake_tls_green_api<F, Fut>(behave: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let hellos = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hellos);
    let behave = Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = Arc::clone(&counter);
            let behave = Arc::clone(&behave);
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                // 0x16: a TLS handshake record, the client's hello.
                if stream.read_exact(&mut first).await.is_ok() && first[0] == 0x16 {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                behave(stream).await;
            });
        }
    });
    (url, hellos)
}

#[tokio::test]
async fn an_https_green_api_whose_tls_handshake_fails_is_unreachable_and_nothing_was_sent() {
    // Plain HTTP where a TLS answer belongs: the handshake fails before any
    // request could be written.
    let (url, hellos) = fake_tls_green_api(|mut stream| async move {
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
    })
    .await;
    let app = app_against(url).await;
    let reply = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&reply, "Could not connect to GREEN-API");
    assert_ephemeral_containing(&reply, "Nothing was sent");
    // Start-up's getSettings may have said hello too.
    assert!(hellos.load(Ordering::SeqCst) >= 1, "https:// speaks TLS");
}

#[tokio::test]
async fn a_tls_handshake_that_stalls_counts_against_the_connect_timeout_so_nothing_was_sent() {
    // The server takes the hello and never answers. The connect timeout
    // (5 s, under an 8 s budget) covers the handshake too, so this is a
    // connection never made, not an answer that never came.
    let (url, hellos) = fake_tls_green_api(|stream| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let app = spawn_app_with(move |c: &mut ServeConfig| {
        c.instances.instances[0].green_api.url = url.parse().unwrap();
        c.instances.instances[0].green_api.timeout = Duration::from_secs(8);
    })
    .await;
    response_url_ok().expect(1).mount(&app.slack).await;
    let ack = reply(app.post_command("10000000 79876543210 Ivan").await).await;
    assert_ephemeral_containing(&ack, "Sending");
    let posts = app.wait_for_response_url_posts(1).await;
    assert_ephemeral_containing(&posts[0], "Could not connect to GREEN-API");
    assert_ephemeral_containing(&posts[0], "Nothing was sent");
    assert!(hellos.load(Ordering::SeqCst) >= 1, "https:// speaks TLS");
}
