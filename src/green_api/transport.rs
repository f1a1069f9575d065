//! How a GREEN-API request travels: the one place that knows the HTTP
//! client. Everything above it (the send and its retries, the reads, the
//! status table) is written once, against [`Transport::exchange`].
//!
//! Two clients, one of them for each set of instances that connect alike
//! ([`Transports`]):
//!
//! - **Direct**: hyper's HTTP/1 connections over hyper-rustls, with the
//!   shared TLS configuration, pooled here per thread and host. A send is
//!   the whole job of this service, and reqwest's per-request machinery (its
//!   redirect and retry layers, which parse the URL again on every call even
//!   with redirects off) cost more than the rest of the exchange; so did
//!   hyper-util's pooled client after it (a pool behind a lock, keyed by a
//!   SipHash of scheme and host, a copy of the URL and of the connector, a
//!   boxed future of 2.7 KB per request). Here the URL is parsed once, the
//!   body is shared between attempts, and nothing is followed.
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
use http::uri::PathAndQuery;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tower_service::Service as _;

use super::error::{describe, describe_chain};
use super::{GreenApiError, GreenApiSettings, MAX_RESPONSE_BYTES, SetupError};
use crate::http_client;

/// One method's URL, parsed once: it holds the token, so it is never shown.
pub(super) struct Endpoint {
    /// Where to connect.
    uri: Uri,
    /// The request line's target: the path and query alone (origin form).
    target: Uri,
    /// Which idle connections can carry it: scheme, host and port.
    server: Box<str>,
    url: reqwest::Url,
    /// The `Host` header, written once rather than formatted per request.
    host: HeaderValue,
}

impl Endpoint {
    /// `None` if the text is not a URL both clients accept.
    pub(super) fn parse(text: String) -> Option<Self> {
        let url = reqwest::Url::parse(&text).ok()?;
        let uri = Uri::try_from(text).ok()?;
        let host = host_header(&uri)?;
        let target = Uri::from(uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/")));
        let server = format!("{}://{}", uri.scheme_str()?, uri.authority()?).into_boxed_str();
        Some(Self { uri, target, server, url, host })
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

type Sender = http1::SendRequest<Full<Bytes>>;

/// A direct client with a connection pool per thread. A connection is
/// driven by a task on the runtime that opened it; a send on another
/// thread's runtime that reused it would hand each request to that thread
/// and wait to be woken back, the very hand-over that keeping a send on the
/// HTTP worker that received it avoids. Each actix worker, and the main
/// runtime (start-up checks, Socket Mode), so keeps its own connections.
#[derive(Clone)]
pub(super) struct PerThread {
    /// Unique to this transport and its clones: which of a thread's pools is its.
    id: Arc<()>,
    connector: TimedConnector,
}

/// One thread's idle connections of one transport, by server (scheme, host
/// and port): a handful of servers at most, so a list.
#[derive(Default)]
struct Pool(Vec<(Box<str>, Vec<Idle>)>);

struct Idle {
    sender: Sender,
    since: Instant,
}

impl Pool {
    /// The connection used last that can take a request now (the likeliest
    /// to be open still). Those that idled too long are dropped, and closed
    /// ones with them; one still finishing its last answer stays for later
    /// rather than keep a send waiting for it.
    fn take(&mut self, server: &str) -> Option<Sender> {
        let idle = &mut self.0.iter_mut().find(|(s, _)| **s == *server)?.1;
        // Oldest first: once one is fresh enough, so are those after it.
        let stale = idle.iter().take_while(|i| i.since.elapsed() >= POOL_IDLE_TIMEOUT).count();
        idle.drain(..stale);
        idle.retain(|i| !i.sender.is_closed());
        let ready = idle.iter().rposition(|i| i.sender.is_ready())?;
        Some(idle.remove(ready).sender)
    }

    fn put(&mut self, server: &str, sender: Sender) {
        let idle = match self.0.iter().position(|(s, _)| **s == *server) {
            Some(i) => &mut self.0[i].1,
            None => {
                self.0.push((server.into(), Vec::new()));
                &mut self.0.last_mut().expect("just pushed").1
            }
        };
        // Past the limit the connection is dropped, and so closed.
        if idle.len() < POOL_MAX_IDLE_PER_HOST {
            idle.push(Idle { sender, since: Instant::now() });
        }
    }
}

thread_local! {
    /// This thread's pools, one per transport that has sent from it.
    static POOLS: std::cell::RefCell<Vec<(std::sync::Weak<()>, Pool)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl PerThread {
    /// Runs `f` on this thread's pool of this transport.
    fn here<R>(&self, f: impl FnOnce(&mut Pool) -> R) -> R {
        POOLS.with_borrow_mut(|pools| {
            let mine = |(id, _): &(std::sync::Weak<()>, Pool)| std::ptr::eq(id.as_ptr(), Arc::as_ptr(&self.id));
            let at = match pools.iter().position(mine) {
                Some(at) => at,
                None => {
                    // A transport that is gone (a test's app) leaves its pool
                    // behind; clear those before adding one.
                    pools.retain(|(id, _)| id.strong_count() > 0);
                    pools.push((Arc::downgrade(&self.id), Pool::default()));
                    pools.len() - 1
                }
            };
            f(&mut pools[at].1)
        })
    }

    /// A new connection to `endpoint`'s server, driven by a task on this
    /// thread's runtime. Nothing has been sent when this fails.
    async fn connect(&self, endpoint: &Endpoint, token: &str) -> Result<Sender, GreenApiError> {
        let unreachable = |e: &dyn std::error::Error| GreenApiError::Unreachable { cause: describe_chain(e, token) };
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await.map_err(|e| unreachable(&*e))?;
        let io = connector.call(endpoint.uri.clone()).await.map_err(|e| unreachable(&*e))?;
        let (sender, connection) = http1::handshake(io).await.map_err(|e| unreachable(&e))?;
        // hyper's errors do not quote the request line, where the token
        // sits; redacted all the same, as every GREEN-API error is.
        let token = token.to_owned();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %describe_chain(&e, &token), "a GREEN-API connection ended with an error");
            }
        });
        Ok(sender)
    }

    /// One request on a pooled connection, or a new one: a request that a
    /// reused connection closed before taking (the server had closed it
    /// while idle) is sent again on another, as nothing of it went out.
    async fn send(
        &self,
        endpoint: &Endpoint,
        mut request: Request<Full<Bytes>>,
        token: &str,
    ) -> Result<(http::Response<hyper::body::Incoming>, Sender), GreenApiError> {
        loop {
            let (mut sender, reused) = match self.here(|pool| pool.take(&endpoint.server)) {
                Some(sender) => (sender, true),
                // Boxed: the connecting future (TCP, TLS, the handshake) is
                // large, and a connection is made rarely; in place it would
                // make every send's task 4 KiB instead of 1.4.
                None => (Box::pin(self.connect(endpoint, token)).await?, false),
            };
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, sender)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(GreenApiError::ConnectionLost { cause: describe_chain(e.error(), token) }),
                },
            }
        }
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
                let method = if body.is_some() { Method::POST } else { Method::GET };
                let mut request = Request::new(Full::new(body.cloned().unwrap_or_default()));
                *request.method_mut() = method;
                *request.uri_mut() = endpoint.target.clone();
                let headers = request.headers_mut();
                // What reqwest sent: its default Accept and our user agent.
                headers.insert(HOST, endpoint.host.clone());
                headers.insert(USER_AGENT, HeaderValue::from_static(http_client::USER_AGENT));
                headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
                if body.is_some() {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                let (response, sender) = per_thread.send(endpoint, request, token).await?;
                let status = response.status();
                let retry_after = http_client::retry_after(response.headers());
                let mut incoming = response.into_body();
                let mut reader = BodyReader::new(status);
                let mut complete = false;
                loop {
                    let Some(frame) = incoming.frame().await else {
                        complete = true;
                        break;
                    };
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
                // Read to its end, the connection can take the next request;
                // one cut short, or whose answer was, is dropped and closed.
                if complete {
                    per_thread.here(|pool| pool.put(&endpoint.server, sender));
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
    PerThread { id: Arc::new(()), connector }
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
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
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
                Ok(connected) => connected,
                Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "operation timed out").into()),
            }
        })
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
        a.here(|_| ());
        a.here(|_| ());
        assert_eq!(pools_here(), before + 1, "the same thread reuses its pool");
        b.here(|_| ());
        assert_eq!(pools_here(), before + 2, "another transport has its own");
        std::thread::scope(|scope| {
            scope.spawn(|| {
                assert_eq!(pools_here(), 0);
                a.here(|_| ());
                assert_eq!(pools_here(), 1, "another thread opens its own");
            });
        });
        drop(b);
        transport().here(|_| ());
        assert_eq!(pools_here(), before + 2, "the dropped transport's pool made room for the new one");
    }

    /// A connection's sending half over an in-memory pipe, its task running
    /// and ready for a request. The other end is kept open for the test.
    async fn sender() -> Sender {
        let (ours, theirs) = tokio::io::duplex(64);
        std::mem::forget(theirs);
        let (mut sender, connection) = http1::handshake(TokioIo::new(ours)).await.unwrap();
        tokio::spawn(connection);
        sender.ready().await.unwrap();
        sender
    }

    /// A connection whose other end has hung up, once its task has seen it.
    async fn closed_sender() -> Sender {
        let (ours, theirs) = tokio::io::duplex(64);
        let (sender, connection) = http1::handshake(TokioIo::new(ours)).await.unwrap();
        drop(theirs);
        let _ = connection.await;
        assert!(sender.is_closed());
        sender
    }

    fn idle(pool: &Pool, server: &str) -> usize {
        pool.0.iter().find(|(s, _)| **s == *server).map_or(0, |(_, idle)| idle.len())
    }

    #[tokio::test]
    async fn a_pool_keeps_each_servers_connections_apart() {
        let mut pool = Pool::default();
        pool.put("http://a:1", sender().await);
        pool.put("http://a:1", sender().await);
        pool.put("https://a:1", sender().await);
        assert_eq!((idle(&pool, "http://a:1"), idle(&pool, "https://a:1")), (2, 1));
        assert!(pool.take("http://b:1").is_none(), "another server's connections are not its");
        assert!(pool.take("http://a:1").is_some());
        assert!(pool.take("http://a:1").is_some());
        assert!(pool.take("http://a:1").is_none());
        assert_eq!(idle(&pool, "https://a:1"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn connections_idle_too_long_are_dropped_with_all_older_ones() {
        let mut pool = Pool::default();
        pool.put("http://a:1", sender().await);
        pool.put("http://a:1", sender().await);
        tokio::time::advance(POOL_IDLE_TIMEOUT - Duration::from_secs(1)).await;
        pool.put("http://a:1", sender().await);
        assert!(pool.take("http://a:1").is_some(), "the fresh one");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(pool.take("http://a:1").is_none(), "the next one idled for the whole timeout");
        assert_eq!(idle(&pool, "http://a:1"), 0, "and the one older still went with it");
    }

    #[tokio::test]
    async fn a_pool_hands_out_only_connections_that_can_take_a_request() {
        let mut pool = Pool::default();
        pool.put("http://a:1", sender().await);
        pool.put("http://a:1", closed_sender().await);
        let (ours, theirs) = tokio::io::duplex(64);
        std::mem::forget(theirs);
        // Its task never runs, as if it were still reading its last answer.
        let (busy, _connection) = http1::handshake::<_, Full<Bytes>>(TokioIo::new(ours)).await.unwrap();
        pool.put("http://a:1", busy);
        assert!(pool.take("http://a:1").is_some(), "the open, idle one, under the two put after it");
        assert!(pool.take("http://a:1").is_none(), "the busy one is not handed out");
        assert_eq!(idle(&pool, "http://a:1"), 1, "the closed one is gone; the busy one stays for later");
    }

    #[tokio::test]
    async fn a_pool_keeps_at_most_its_limit_of_idle_connections_per_server() {
        let mut pool = Pool::default();
        for _ in 0..POOL_MAX_IDLE_PER_HOST + 3 {
            pool.put("http://a:1", sender().await);
        }
        assert_eq!(idle(&pool, "http://a:1"), POOL_MAX_IDLE_PER_HOST);
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
