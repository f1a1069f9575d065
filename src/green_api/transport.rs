//! How a GREEN-API request travels: the one place that knows the HTTP
//! client. Everything above it (the send and its retries, the reads, the
//! status table) is written once, against [`Transport::exchange`].
//!
//! Two clients, one of them for each set of instances that connect alike
//! ([`Transports`]):
//!
//! - **Direct**: hyper-util's pooled client over hyper-rustls, with the
//!   shared TLS configuration. A send is the whole job of this service, and
//!   reqwest's per-request machinery (its redirect and retry layers, which
//!   parse the URL again on every call even with redirects off) cost more
//!   than the rest of the exchange; here the URL is parsed once, the body is
//!   shared between attempts, and nothing is followed.
//! - **reqwest**, when `USE_ENV_PROXY` is set (or the shared TLS
//!   configuration could not be built). reqwest's reading of the proxy
//!   variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, credentials,
//!   CONNECT tunnels) is what deployments behind a proxy rely on today;
//!   rebuilding it here would risk sending the token somewhere else, for a
//!   path that is not the one under load.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::error::{describe, describe_chain};
use super::{GreenApiError, GreenApiSettings, MAX_RESPONSE_BYTES, SetupError};
use crate::http_client;

/// One method's URL, parsed once: it holds the token, so it is never shown.
pub(super) struct Endpoint {
    uri: Uri,
    url: reqwest::Url,
    /// The `Host` header, written once: hyper's client would format it
    /// from the URI for every request.
    host: HeaderValue,
}

impl Endpoint {
    /// `None` if the text is not a URL both clients accept.
    pub(super) fn parse(text: String) -> Option<Self> {
        let url = reqwest::Url::parse(&text).ok()?;
        let uri = Uri::try_from(text).ok()?;
        let host = host_header(&uri)?;
        Some(Self { uri, url, host })
    }
}

/// `Host` as hyper's client writes it: the host, and the port unless it is
/// the scheme's default.
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    match uri.port_u16() {
        Some(port) if port != default_port => HeaderValue::from_str(&format!("{host}:{port}")).ok(),
        _ => HeaderValue::from_str(host).ok(),
    }
}

/// What one HTTP attempt came back with, body read up to the limit.
pub(super) struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// The HTTP client of one instance (see the module's comment for why two).
/// A clone shares the connection pools.
// One per instance for the life of the process, so its size does not matter,
// and a Box would put one more pointer between every send and its client.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(super) enum Transport {
    Direct(PerThread),
    Reqwest(reqwest::Client),
}

type DirectClient = Client<TimedConnector, Full<Bytes>>;

/// A direct client with a connection pool per thread. A pooled connection
/// is driven by a task on the runtime that opened it; a send on another
/// thread's runtime that reused it would hand each request to that thread
/// and wait to be woken back, the very hand-over that keeping a send on the
/// HTTP worker that received it avoids. Each actix worker, and the main
/// runtime (start-up checks, Socket Mode), so keeps its own connections.
#[derive(Clone)]
pub(super) struct PerThread {
    /// Unique to this transport and its clones: which of a thread's pools is its.
    id: Arc<()>,
    builder: hyper_util::client::legacy::Builder,
    connector: TimedConnector,
}

thread_local! {
    /// This thread's pools, one per transport that has sent from it.
    static POOLS: std::cell::RefCell<Vec<(std::sync::Weak<()>, DirectClient)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl PerThread {
    /// This thread's client (a cheap clone: the pool is shared behind it).
    fn here(&self) -> DirectClient {
        POOLS.with_borrow_mut(|pools| {
            if let Some((_, client)) = pools.iter().find(|(id, _)| std::ptr::eq(id.as_ptr(), Arc::as_ptr(&self.id))) {
                return client.clone();
            }
            // A transport that is gone (a test's app) leaves its pool behind;
            // clear those before adding one.
            pools.retain(|(id, _)| id.strong_count() > 0);
            let client = self.builder.build(self.connector.clone());
            pools.push((Arc::downgrade(&self.id), client.clone()));
            client
        })
    }
}

/// Tuning shared by both clients, as reqwest had it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const POOL_MAX_IDLE_PER_HOST: usize = 64;
/// reqwest's TCP keep-alive defaults, kept so that a dead peer is noticed
/// as soon as before.
const TCP_KEEPALIVE: Duration = Duration::from_secs(15);
const TCP_KEEPALIVE_RETRIES: u32 = 3;
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// The transports of one process's instances, so that instances whose
/// connections are made alike (the same connect timeout and proxy setting;
/// TLS is the same for all) share one: a pool is keyed by scheme and host
/// within, so instances on one GREEN-API host (its apiUrl names a server,
/// not an instance) reuse each other's idle connections instead of each
/// keeping its own, and instances on other hosts still get their own.
/// GREEN-API tells instances apart by the URL's path, never the connection.
#[derive(Default)]
pub(super) struct Transports(Vec<((Duration, bool), Transport)>);

impl Transports {
    pub(super) fn for_instance(&mut self, config: &GreenApiSettings) -> Result<Transport, SetupError> {
        let key = (connect_timeout(config), config.use_env_proxy);
        if let Some((_, shared)) = self.0.iter().find(|(k, _)| *k == key) {
            return Ok(shared.clone());
        }
        let transport = Transport::new(config)?;
        self.0.push((key, transport.clone()));
        Ok(transport)
    }
}

fn connect_timeout(config: &GreenApiSettings) -> Duration {
    config.timeout.min(Duration::from_secs(5))
}

impl Transport {
    fn new(config: &GreenApiSettings) -> Result<Self, SetupError> {
        let connect_timeout = connect_timeout(config);
        match http_client::client_config() {
            Some(tls) if !config.use_env_proxy => Ok(Transport::Direct(direct_client(tls, connect_timeout))),
            _ => {
                let http = http_client::client_builder(config.use_env_proxy)
                    .connect_timeout(connect_timeout)
                    .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                    .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
                    .tcp_nodelay(true)
                    .build()
                    .map_err(|e| SetupError(describe(&e, config.token.expose())))?;
                Ok(Transport::Reqwest(http))
            }
        }
    }

    /// One request: a POST of `body` as JSON, or a GET when `body` is
    /// `None`; the answer's body read up to [`MAX_RESPONSE_BYTES`].
    pub(super) async fn exchange(
        &self,
        endpoint: &Endpoint,
        body: Option<&Bytes>,
        token: &str,
    ) -> Result<Answer, GreenApiError> {
        match self {
            Transport::Direct(per_thread) => {
                let client = per_thread.here();
                let method = if body.is_some() { Method::POST } else { Method::GET };
                let mut request = Request::new(Full::new(body.cloned().unwrap_or_default()));
                *request.method_mut() = method;
                *request.uri_mut() = endpoint.uri.clone();
                let headers = request.headers_mut();
                // What reqwest sent: its default Accept and our user agent.
                headers.insert(HOST, endpoint.host.clone());
                headers.insert(USER_AGENT, HeaderValue::from_static(http_client::USER_AGENT));
                headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
                if body.is_some() {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let response =
                    client.request(request).await.map_err(|e| failed(e.is_connect(), describe_chain(&e, token)))?;
                let status = response.status();
                let retry_after = http_client::retry_after(response.headers());
                let mut incoming = response.into_body();
                let mut reader = BodyReader::new(status);
                while let Some(frame) = incoming.frame().await {
                    let chunk = match frame {
                        Ok(frame) => match frame.into_data() {
                            Ok(chunk) => chunk,
                            // Trailers carry nothing we read.
                            Err(_) => continue,
                        },
                        Err(e) => {
                            reader.broke_off(|| describe_chain(&e, token))?;
                            break;
                        }
                    };
                    if !reader.push(&chunk) {
                        break;
                    }
                }
                Ok(reader.answer(retry_after))
            }
            Transport::Reqwest(client) => {
                let request = match body {
                    Some(body) => client
                        .post(endpoint.url.clone())
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(body.clone()),
                    None => client.get(endpoint.url.clone()),
                };
                let mut response = request.send().await.map_err(|e| failed(e.is_connect(), describe(&e, token)))?;
                let status = response.status();
                let retry_after = http_client::retry_after(response.headers());
                let mut reader = BodyReader::new(status);
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            if !reader.push(&chunk) {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            reader.broke_off(|| describe(&e, token))?;
                            break;
                        }
                    }
                }
                Ok(reader.answer(retry_after))
            }
        }
    }
}

/// An answer's body as it arrives, kept to [`MAX_RESPONSE_BYTES`]: the
/// same rules whichever client read it.
struct BodyReader {
    status: StatusCode,
    body: Vec<u8>,
    truncated: bool,
}

impl BodyReader {
    fn new(status: StatusCode) -> Self {
        Self { status, body: Vec::new(), truncated: false }
    }

    /// Takes a chunk; false once the cap is reached (read no further).
    fn push(&mut self, chunk: &[u8]) -> bool {
        let room = MAX_RESPONSE_BYTES - self.body.len();
        if chunk.len() > room {
            self.body.extend_from_slice(&chunk[..room]);
            self.truncated = true;
            return false;
        }
        self.body.extend_from_slice(chunk);
        true
    }

    /// The body broke off: an error status says enough without its body; a
    /// success whose body broke off leaves the outcome unknown.
    fn broke_off(&self, cause: impl FnOnce() -> String) -> Result<(), GreenApiError> {
        if self.status.is_success() { Err(GreenApiError::ConnectionLost { cause: cause() }) } else { Ok(()) }
    }

    fn answer(self, retry_after: Option<Duration>) -> Answer {
        Answer { status: self.status, retry_after, body: self.body, truncated: self.truncated }
    }
}

/// A call that got no answer: one that never connected sent nothing, and
/// can be said so; after that, the request may have gone out.
fn failed(never_connected: bool, cause: String) -> GreenApiError {
    if never_connected { GreenApiError::Unreachable { cause } } else { GreenApiError::ConnectionLost { cause } }
}

fn direct_client(tls: rustls::ClientConfig, connect_timeout: Duration) -> PerThread {
    let mut http = HttpConnector::new();
    // https:// is the TLS layer's; it hands plain http:// (loopback only,
    // settings check that) to this one.
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_keepalive(Some(TCP_KEEPALIVE));
    http.set_keepalive_interval(Some(TCP_KEEPALIVE));
    http.set_keepalive_retries(Some(TCP_KEEPALIVE_RETRIES));
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    http.set_tcp_user_timeout(Some(TCP_USER_TIMEOUT));
    // From the configuration as built, so ALPN offers http/1.1 as before
    // (hyper-rustls's builder would clear it for an HTTP/1-only client).
    let https = HttpsConnector::from((http, Arc::new(tls)));
    let connector = TimedConnector { inner: https, timeout: connect_timeout };
    let mut builder = Client::builder(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST);
    PerThread { id: Arc::new(()), builder, connector }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector under one timeout for TCP and TLS together, as reqwest's
/// `connect_timeout` was: a handshake that stalls is a connection never made
/// (nothing sent), not a request that may have gone out.
#[derive(Clone)]
pub(super) struct TimedConnector {
    inner: HttpsConnector<HttpConnector>,
    timeout: Duration,
}

impl tower_service::Service<Uri> for TimedConnector {
    type Response = Unlabelled<MaybeHttpsStream<TokioIo<TcpStream>>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(connected) => connected.map(Unlabelled),
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "operation timed out").into()),
            }
        })
    }
}

/// A connection that does not label its responses. hyper-util's
/// `HttpConnector` describes every connection with its addresses
/// (`HttpInfo`), and the pooled client copies that into the extensions of
/// every response it reads (a map and a box: three allocations a call),
/// which nothing here reads. The rest of the description (a proxy, HTTP/2)
/// is passed on.
pub(super) struct Unlabelled<T>(T);

impl<T: Connection> Connection for Unlabelled<T> {
    fn connected(&self) -> Connected {
        let inner = self.0.connected();
        let connected = Connected::new().proxy(inner.is_proxied());
        if inner.is_negotiated_h2() { connected.negotiated_h2() } else { connected }
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for Unlabelled<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for Unlabelled<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> PerThread {
        http_client::install_crypto_provider();
        direct_client(http_client::client_config().expect("a TLS configuration"), Duration::from_secs(1))
    }

    fn pools_here() -> usize {
        POOLS.with_borrow(Vec::len)
    }

    #[test]
    fn each_thread_keeps_one_pool_per_transport_and_forgets_those_of_dropped_ones() {
        let (a, b) = (transport(), transport());
        let before = pools_here();
        a.here();
        a.here();
        assert_eq!(pools_here(), before + 1, "the same thread reuses its pool");
        b.here();
        assert_eq!(pools_here(), before + 2, "another transport has its own");
        std::thread::scope(|scope| {
            scope.spawn(|| {
                assert_eq!(pools_here(), 0);
                a.here();
                assert_eq!(pools_here(), 1, "another thread opens its own");
            });
        });
        drop(b);
        transport().here();
        assert_eq!(pools_here(), before + 2, "the dropped transport's pool made room for the new one");
    }

    #[test]
    fn the_host_header_is_written_as_hyper_would_write_it() {
        for (url, host) in [
            ("https://api.green-api.com/waInstance1/sendContact/t", "api.green-api.com"),
            ("https://1101.api.greenapi.com:443/x", "1101.api.greenapi.com"),
            ("https://api.green-api.com:8443/x", "api.green-api.com:8443"),
            ("http://127.0.0.1:18081/x", "127.0.0.1:18081"),
            ("http://127.0.0.1:80/x", "127.0.0.1"),
            ("http://[::1]:8080/x", "[::1]:8080"),
        ] {
            let endpoint = Endpoint::parse(url.to_owned()).unwrap();
            assert_eq!(endpoint.host, host, "{url}");
        }
    }
}
