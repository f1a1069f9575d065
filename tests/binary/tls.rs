//! GREEN-API over https, end to end: the binary's own TLS (rustls, the
//! platform verifier, ALPN http/1.1) against a local server whose CA it is
//! told to trust through SSL_CERT_FILE.

use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::process::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

/// What the server saw of each request: the ALPN protocol agreed and the
/// request line.
type Seen = Arc<Mutex<Vec<(Option<Vec<u8>>, String)>>>;

/// A GREEN-API on https://localhost:{port} that answers every request with
/// one JSON document (an idMessage and an instance type), keeping the
/// connection open.
async fn tls_green_api() -> (String, Seen) {
    let certs = CertificateDer::pem_file_iter(format!("{FIXTURES}/localhost.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/localhost.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    let seen = Seen::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
                while let Some(request_line) = read_request(&mut tls).await {
                    log.lock().unwrap().push((alpn.clone(), request_line));
                    let body = r#"{"idMessage":"via-tls","typeInstance":"whatsapp"}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Reads one request (head and Content-Length body); its request line.
async fn read_request(stream: &mut (impl AsyncRead + Unpin)) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    head.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn a_contact_is_sent_over_https_with_the_platform_verifier_and_http_1_1_by_alpn() {
    let (url, seen) = tls_green_api().await;
    let mut vars = green_api_vars(&url);
    vars.push(("SSL_CERT_FILE", format!("{FIXTURES}/ca.pem")));
    let (code, out, err) = run_in(&scratch_dir(), &["send", "10000000", "79876543210", "Ivan"], &vars).await;
    assert_eq!((code, out.trim()), (Some(0), "via-tls"), "{err}");
    let seen = seen.lock().unwrap();
    let send = seen.iter().find(|(_, line)| line.starts_with("POST ")).expect("the send arrived");
    assert_eq!(send.0.as_deref(), Some(&b"http/1.1"[..]), "ALPN offers http/1.1");
    assert!(send.1.contains("/sendContact/") && send.1.ends_with(" HTTP/1.1"), "{}", send.1);
}

#[tokio::test]
async fn a_certificate_the_platform_does_not_trust_is_refused_and_nothing_is_sent() {
    let (url, seen) = tls_green_api().await;
    // No SSL_CERT_FILE: the test CA is trusted by nobody.
    let (code, out, err) =
        run_in(&scratch_dir(), &["send", "10000000", "79876543210", "Ivan"], &green_api_vars(&url)).await;
    assert_ne!(code, Some(0), "{out}");
    assert!(err.contains("Could not connect to GREEN-API") && err.contains("Nothing was sent"), "{err}");
    assert!(seen.lock().unwrap().is_empty(), "no request was read: {:?}", seen.lock().unwrap());
}
