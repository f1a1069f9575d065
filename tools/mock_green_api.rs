//! The one local stand-in for GREEN-API that every tool uses: the load
//! benchmark (tools/load/run.sh), the soak run (tools/soak/) and the
//! container smoke test (tools/docker-smoke.sh). The test suite does not use
//! it; its tests play GREEN-API with wiremock.
//!
//! It answers, for any instance id and token (or only the configured ones):
//!
//! - `POST /waInstance{id}/sendContact/{token}`: 200 `{"idMessage":"BAE5…"}`,
//!   or the injected fault;
//! - `GET /waInstance{id}/getStateInstance/{token}`: `{"stateInstance":…}`;
//! - `GET /waInstance{id}/getSettings/{token}`: settings with `typeInstance`;
//! - `POST /commands/…`: a response_url sink (answers `ok`), so a deferred
//!   reply aimed at `http://127.0.0.1:PORT/commands/…` never leaves the machine.
//!
//! Control endpoints, never part of GREEN-API:
//!
//! - `GET /_mock/stats`: calls by method (counted on receipt, before any
//!   delay), answers by status, response_url posts, other requests, TCP
//!   connections accepted, the last sendContact body and the last idMessage;
//! - `POST /_mock/reset`: zero the counters;
//! - `POST /_mock/config`: change the faults while running, JSON with any of
//!   `{"delay_ms": N, "status": CODE or null, "fail_every": N, "retry_after": S}`.
//!
//! Options (all `--name value`):
//!
//! - `--host` (127.0.0.1), `--port` (0: a free one), `--port-file F` (the
//!   port is written there once listening, for callers to wait on; it is
//!   also printed: `mock-green-api listening on http://HOST:PORT`);
//! - `--id-instance ID`, `--token T`: answer 401 to any other;
//! - `--state` (authorized), `--type-instance` (whatsapp);
//! - `--delay-ms N` before each sendContact answer; `--status CODE` instead
//!   of 200; `--fail-every N` (only every Nth call gets `--status`, 500 if
//!   none); `--retry-after S` (sent with a 429, default 1);
//! - `--mix name=weight,…` with `--seed N` and `--timeout-ms T`: each
//!   sendContact gets a fault drawn at random from the named ones (see
//!   `Fault`), as the soak run does; `timeout` answers T + 1000 ms late;
//! - `--calls-log FILE`: one JSON line per sendContact on receipt
//!   (`{"event":"call","t":…,"first_name":…,"fault":…,"id_message":…}`) and
//!   one when its answer is out (`{"event":"answered","t":…,"id_message":…}`),
//!   `t` in seconds of CLOCK_MONOTONIC, the clock Python's
//!   `time.monotonic()` reads, so a caller can attribute every call.
//!
//! One thread and a hand-written HTTP/1.1 server (tools/http1.rs): the load
//! benchmark runs the mock beside its generator on one core, and a plain
//! send must cost it far less than it costs the service under test.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[path = "http1.rs"]
mod http1;
use http1::read_message;

type Res<T> = Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_options(&args).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-green-api: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------- options

/// What sendContact answers, changeable at run time (`POST /_mock/config`).
#[derive(Clone, Copy)]
struct Config {
    delay_ms: u64,
    status: Option<u16>,
    fail_every: u64,
    retry_after: u64,
}

impl Config {
    fn to_json(self) -> Value {
        json!({"delay_ms": self.delay_ms, "status": self.status, "fail_every": self.fail_every,
               "retry_after": self.retry_after})
    }
}

struct Options {
    host: String,
    port: u16,
    port_file: Option<String>,
    id_instance: Option<String>,
    token: Option<String>,
    state: String,
    type_instance: String,
    config: Config,
    mix: Vec<(Fault, u64)>,
    seed: u64,
    timeout_ms: u64,
    calls_log: Option<String>,
}

fn parse_options(args: &[String]) -> Res<Options> {
    let mut values = BTreeMap::new();
    let mut rest = args.iter();
    while let Some(name) = rest.next() {
        let known = [
            "--host",
            "--port",
            "--port-file",
            "--id-instance",
            "--token",
            "--state",
            "--type-instance",
            "--delay-ms",
            "--status",
            "--fail-every",
            "--retry-after",
            "--mix",
            "--seed",
            "--timeout-ms",
            "--calls-log",
        ];
        if !known.contains(&name.as_str()) {
            return Err(format!("unknown option {name}; the options are {}", known.join(" ")));
        }
        let value = rest.next().ok_or_else(|| format!("{name} takes a value"))?;
        values.insert(name.as_str(), value.clone());
    }
    let text = |name: &str| values.get(name).cloned();
    let number = |name: &str, default: u64| -> Res<u64> {
        values.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name} takes a number, not {v}")))
    };
    let mix = match values.get("--mix") {
        None => Vec::new(),
        Some(spec) => spec
            .split(',')
            .map(|pair| {
                let (name, weight) =
                    pair.split_once('=').ok_or_else(|| format!("--mix takes name=weight, not {pair}"))?;
                let fault = Fault::from_name(name.trim()).ok_or_else(|| format!("no fault named {name}"))?;
                let weight = weight.trim().parse().map_err(|_| format!("weight of {name} is a number"))?;
                Ok((fault, weight))
            })
            .collect::<Res<Vec<_>>>()?,
    };
    if !mix.is_empty() && mix.iter().all(|(_, w)| *w == 0) {
        return Err("--mix needs one weight above 0".into());
    }
    let status = values
        .get("--status")
        .map(|v| v.parse().map_err(|_| format!("--status takes an HTTP status, not {v}")))
        .transpose()?;
    Ok(Options {
        host: text("--host").unwrap_or_else(|| "127.0.0.1".into()),
        port: u16::try_from(number("--port", 0)?).map_err(|_| "--port is at most 65535")?,
        port_file: text("--port-file"),
        id_instance: text("--id-instance"),
        token: text("--token"),
        state: text("--state").unwrap_or_else(|| "authorized".into()),
        type_instance: text("--type-instance").unwrap_or_else(|| "whatsapp".into()),
        config: Config {
            delay_ms: number("--delay-ms", 0)?,
            status,
            fail_every: number("--fail-every", 0)?,
            retry_after: number("--retry-after", 1)?,
        },
        mix,
        seed: number("--seed", 1)?,
        timeout_ms: number("--timeout-ms", 2000)?,
        calls_log: text("--calls-log"),
    })
}

// ---------------------------------------------------------------- faults

/// What one sendContact call gets when `--mix` is on; the names are the
/// soak run's (tools/soak/soak.py decides which of them GREEN-API would have
/// accepted).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// 200 + idMessage at once.
    OkFast,
    /// 200 + idMessage after 0.5–1.5 s.
    OkSlow,
    /// 400 after 0.5 s.
    RejectedSlow,
    /// 400 with a reason.
    Rejected,
    Unauthorized,
    /// 429 with Retry-After: 1.
    RateLimitedRa,
    /// 429 without Retry-After.
    RateLimited,
    /// 429 with Retry-After: 2^64-1 s (once panicked the service).
    RateLimitedAbsurd,
    /// 466: the monthly quota.
    Quota,
    ServerError,
    BadGateway,
    /// No answer before `--timeout-ms`.
    Timeout,
    /// 200 headers and half a body, then the connection closes.
    Closed,
    /// 200 with an 8 MiB body.
    Huge,
    /// 200 with an HTML page.
    NotJson,
    /// 200 with JSON but no idMessage.
    NoId,
}

const FAULTS: [(Fault, &str); 16] = [
    (Fault::OkFast, "ok_fast"),
    (Fault::OkSlow, "ok_slow"),
    (Fault::RejectedSlow, "rejected_slow"),
    (Fault::Rejected, "rejected"),
    (Fault::Unauthorized, "unauthorized"),
    (Fault::RateLimitedRa, "rate_limited_ra"),
    (Fault::RateLimited, "rate_limited"),
    (Fault::RateLimitedAbsurd, "rate_limited_absurd"),
    (Fault::Quota, "quota"),
    (Fault::ServerError, "server_error"),
    (Fault::BadGateway, "bad_gateway"),
    (Fault::Timeout, "timeout"),
    (Fault::Closed, "closed"),
    (Fault::Huge, "huge"),
    (Fault::NotJson, "not_json"),
    (Fault::NoId, "no_id"),
];

impl Fault {
    fn from_name(name: &str) -> Option<Fault> {
        FAULTS.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    fn name(self) -> &'static str {
        FAULTS.iter().find(|(f, _)| *f == self).map_or("?", |(_, n)| n)
    }
}

/// splitmix64: a seeded run draws the same faults in the same order.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick(&mut self, mix: &[(Fault, u64)]) -> Fault {
        let total: u64 = mix.iter().map(|(_, w)| w).sum();
        let mut x = self.next() % total;
        for (fault, weight) in mix {
            if x < *weight {
                return *fault;
            }
            x -= weight;
        }
        mix[mix.len() - 1].0
    }
}

// ---------------------------------------------------------------- state

struct State {
    options: Options,
    config: Config,
    rng: Rng,
    calls_log: Option<std::fs::File>,
    calls: BTreeMap<String, u64>,
    answered: BTreeMap<u16, u64>,
    response_url: u64,
    other: u64,
    connections: u64,
    send_seq: u64,
    last_send_body: Vec<u8>,
    last_id_message: Option<String>,
}

impl State {
    fn reset(&mut self) {
        self.calls.clear();
        self.answered.clear();
        self.response_url = 0;
        self.other = 0;
        self.connections = 0;
        self.send_seq = 0;
        self.last_send_body.clear();
        self.last_id_message = None;
    }

    fn stats(&self) -> Value {
        json!({
            "sendContact": self.calls.get("sendContact").copied().unwrap_or(0),
            "calls": self.calls,
            "answered": self.answered.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "response_url": self.response_url,
            "other": self.other,
            "connections": self.connections,
            "last_send_body": serde_json::from_slice::<Value>(&self.last_send_body).unwrap_or(Value::Null),
            "last_id_message": self.last_id_message,
            "config": self.config.to_json(),
        })
    }

    fn log_call(&mut self, line: Value) {
        if let Some(file) = &mut self.calls_log
            && let Err(e) = writeln!(file, "{line}")
        {
            eprintln!("mock-green-api: --calls-log: {e}");
        }
    }
}

type Shared = Rc<RefCell<State>>;

/// Seconds of CLOCK_MONOTONIC, comparable with Python's `time.monotonic()`.
fn monotonic() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes only into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

// ---------------------------------------------------------------- server

fn run(options: Options) -> Res<()> {
    let calls_log = match &options.calls_log {
        Some(path) => Some(std::fs::File::create(path).map_err(|e| format!("--calls-log {path}: {e}"))?),
        None => None,
    };
    let state = Rc::new(RefCell::new(State {
        config: options.config,
        rng: Rng(options.seed),
        options,
        calls_log,
        calls: BTreeMap::new(),
        answered: BTreeMap::new(),
        response_url: 0,
        other: 0,
        connections: 0,
        send_seq: 0,
        last_send_body: Vec::new(),
        last_id_message: None,
    }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let (host, port) = {
            let st = state.borrow();
            (st.options.host.clone(), st.options.port)
        };
        let listener = TcpListener::bind((host.as_str(), port)).await.map_err(|e| format!("{host}:{port}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        if let Some(path) = state.borrow().options.port_file.clone() {
            // Written whole, then renamed: a caller waiting for the file never reads half of it.
            let tmp = format!("{path}.tmp");
            std::fs::write(&tmp, format!("{port}\n"))
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| format!("--port-file {path}: {e}"))?;
        }
        println!("mock-green-api listening on http://{host}:{port}");
        let _ = std::io::stdout().flush();
        loop {
            let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
            state.borrow_mut().connections += 1;
            let _ = stream.set_nodelay(true);
            tokio::task::spawn_local(serve(stream, Rc::clone(&state)));
        }
    })
}

async fn serve(mut stream: TcpStream, state: Shared) {
    let mut buf = Vec::with_capacity(4096);
    while let Ok((head, body)) = read_message(&mut stream, &mut buf).await {
        let mut parts = head.first_line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let path = target.split('?').next().unwrap_or("");
        // A write that failed means the peer is gone: close.
        let keep_open = answer(&mut stream, &state, method, path, body).await.unwrap_or_default();
        if !keep_open || head.close {
            return;
        }
    }
}

/// Answers one request; false when the connection must close after it.
async fn answer(stream: &mut TcpStream, state: &Shared, method: &str, path: &str, body: Vec<u8>) -> Res<bool> {
    let ok = |value: Value| (200, value.to_string().into_bytes());
    let (status, reply) = match (method, path) {
        ("GET", "/_mock/stats") => ok(state.borrow().stats()),
        ("POST", "/_mock/reset") => {
            state.borrow_mut().reset();
            ok(json!({"ok": true}))
        }
        ("POST", "/_mock/config") => match change_config(state, &body) {
            Ok(config) => ok(config.to_json()),
            Err(e) => (400, json!({"message": e}).to_string().into_bytes()),
        },
        ("POST", p) if p.starts_with("/commands/") => {
            state.borrow_mut().response_url += 1;
            return write(stream, 200, "text/plain", &[], b"ok").await.map(|()| true);
        }
        _ => match green_api_path(path) {
            Some((id, api_method, token)) => {
                let authorized = {
                    let mut st = state.borrow_mut();
                    // No allocation once a method has been seen: the load benchmark's sends come through here.
                    match st.calls.get_mut(api_method) {
                        Some(count) => *count += 1,
                        None => _ = st.calls.insert(api_method.to_owned(), 1),
                    }
                    st.options.id_instance.as_deref().is_none_or(|want| want == id)
                        && st.options.token.as_deref().is_none_or(|want| want == token)
                };
                let answer = match (method, api_method) {
                    _ if !authorized => (401, br#"{"message":"Unauthorized"}"#.to_vec()),
                    ("POST", "sendContact") => return send_contact(stream, state, body).await,
                    ("GET", "getStateInstance") => ok(json!({"stateInstance": state.borrow().options.state})),
                    ("GET", "getSettings") => ok(settings(&state.borrow().options.type_instance)),
                    _ => (404, br#"{"message":"unknown method"}"#.to_vec()),
                };
                *state.borrow_mut().answered.entry(answer.0).or_insert(0) += 1;
                answer
            }
            None => {
                state.borrow_mut().other += 1;
                (404, br#"{"message":"not found"}"#.to_vec())
            }
        },
    };
    write(stream, status, "application/json", &[], &reply).await.map(|()| true)
}

/// `/waInstance{id}/{method}/{token}` → (id, method, token).
fn green_api_path(path: &str) -> Option<(&str, &str, &str)> {
    let rest = path.strip_prefix("/waInstance")?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let (id, method, token) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && !id.is_empty() && !token.is_empty()).then_some((id, method, token))
}

fn settings(type_instance: &str) -> Value {
    json!({
        "wid": "79876543210@c.us", "typeInstance": type_instance, "countryInstance": "", "typeAccount": "",
        "webhookUrl": "", "webhookUrlToken": "", "delaySendMessagesMilliseconds": 1000,
        "markIncomingMessagesReaded": "no", "outgoingWebhook": "no", "incomingWebhook": "no", "stateWebhook": "no",
    })
}

fn change_config(state: &Shared, body: &[u8]) -> Res<Config> {
    let change: Value =
        serde_json::from_slice(if body.is_empty() { b"{}" } else { body }).map_err(|e| e.to_string())?;
    let change = change.as_object().ok_or("a JSON object, please")?;
    let mut config = state.borrow().config;
    let number = |name: &str| change.get(name).map(|v| v.as_u64().ok_or(format!("{name} is a number")));
    if let Some(v) = number("delay_ms") {
        config.delay_ms = v?;
    }
    if let Some(v) = number("fail_every") {
        config.fail_every = v?;
    }
    if let Some(v) = number("retry_after") {
        config.retry_after = v?;
    }
    match change.get("status") {
        None => {}
        Some(Value::Null) => config.status = None,
        Some(v) => {
            config.status = Some(v.as_u64().and_then(|s| u16::try_from(s).ok()).ok_or("status is an HTTP status")?)
        }
    }
    state.borrow_mut().config = config;
    Ok(config)
}

async fn send_contact(stream: &mut TcpStream, state: &Shared, body: Vec<u8>) -> Res<bool> {
    let received = monotonic();
    let (config, fault, id_message, timeout_ms) = {
        let mut st = state.borrow_mut();
        st.send_seq += 1;
        let seq = st.send_seq;
        let fault = if st.options.mix.is_empty() {
            None
        } else {
            let mix = std::mem::take(&mut st.options.mix);
            let fault = st.rng.pick(&mix);
            st.options.mix = mix;
            Some(fault)
        };
        // The status fault of `--status`/`--fail-every`, as a plain HTTP status.
        let status = match (st.config.status, st.config.fail_every) {
            (None, 0) => None,
            (None, every) => Some(500).filter(|_| seq.is_multiple_of(every)),
            (Some(status), 0) => Some(status),
            (Some(status), every) => Some(status).filter(|_| seq.is_multiple_of(every)),
        }
        .filter(|s| *s != 200);
        // GREEN-API's ids look like this; the counter keeps them distinct.
        let id_message = format!("BAE5{seq:012X}");
        if st.calls_log.is_some() {
            let first_name = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|b| b["contact"]["firstName"].as_str().map(str::to_owned));
            let name = fault.map_or(if status.is_some() { "status" } else { "ok" }, Fault::name);
            st.log_call(json!({"event": "call", "t": received, "first_name": first_name, "fault": name,
                               "id_message": id_message}));
        }
        st.last_send_body = body;
        (st.config, fault.map(Ok).or(status.map(Err)), id_message, st.options.timeout_ms)
    };
    if config.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.delay_ms)).await;
    }
    let sleep = |ms: u64| tokio::time::sleep(Duration::from_millis(ms));
    let success = format!(r#"{{"idMessage":"{id_message}"}}"#).into_bytes();
    let json_type = "application/json";
    let (status, keep_open) = match fault {
        None | Some(Ok(Fault::OkFast)) => (write(stream, 200, json_type, &[], &success).await.map(|()| 200), true),
        Some(Err(status)) => {
            let retry_after = config.retry_after.to_string();
            let headers: &[(&str, &str)] = if status == 429 { &[("Retry-After", &retry_after)] } else { &[] };
            let reply = json!({"message": format!("mock-green-api: injected status {status}")}).to_string();
            (write(stream, status, json_type, headers, reply.as_bytes()).await.map(|()| status), true)
        }
        Some(Ok(fault)) => match fault {
            Fault::OkFast => unreachable!("answered above"),
            Fault::OkSlow => {
                let ms = 500 + (state.borrow_mut().rng.unit() * 1000.0) as u64;
                sleep(ms).await;
                (write(stream, 200, json_type, &[], &success).await.map(|()| 200), true)
            }
            Fault::RejectedSlow => {
                sleep(500).await;
                let reply = br#"{"message":"Validation failed. Details: chatId is invalid"}"#;
                (write(stream, 400, json_type, &[], reply).await.map(|()| 400), true)
            }
            Fault::Rejected => {
                let reply = b"Validation failed. Details: phoneContact is invalid";
                (write(stream, 400, json_type, &[], reply).await.map(|()| 400), true)
            }
            Fault::Unauthorized => (write(stream, 401, json_type, &[], b"Unauthorized").await.map(|()| 401), true),
            Fault::RateLimitedRa => {
                let reply = br#"{"message":"Too Many Requests"}"#;
                (write(stream, 429, json_type, &[("Retry-After", "1")], reply).await.map(|()| 429), true)
            }
            Fault::RateLimited => (write(stream, 429, json_type, &[], b"Too Many Requests").await.map(|()| 429), true),
            Fault::RateLimitedAbsurd => {
                let headers = [("Retry-After", "18446744073709551615")];
                (write(stream, 429, json_type, &headers, b"Too Many Requests").await.map(|()| 429), true)
            }
            Fault::Quota => {
                let reply = json!({"correspondentsStatus": {"status": "CORRESPONDENTS_QUOTE_EXCEEDED",
                                   "description": "Monthly quota has been exceeded."}})
                .to_string();
                (write(stream, 466, json_type, &[], reply.as_bytes()).await.map(|()| 466), true)
            }
            Fault::ServerError => {
                (write(stream, 500, json_type, &[], b"Internal Server Error").await.map(|()| 500), true)
            }
            Fault::BadGateway => {
                let reply = b"<html><body>502 Bad Gateway</body></html>";
                (write(stream, 502, "text/html", &[], reply).await.map(|()| 502), true)
            }
            Fault::Timeout => {
                // Too late: the service has given up by then.
                sleep(timeout_ms + 1000).await;
                (write(stream, 200, json_type, &[], &success).await.map(|()| 200), true)
            }
            Fault::Closed => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {}\r\n\r\n",
                    success.len()
                );
                let mut half = head.into_bytes();
                half.extend_from_slice(&success[..success.len() / 2]);
                let written = stream.write_all(&half).await;
                let _ = stream.shutdown().await;
                (written.map(|()| 200).map_err(|e| e.to_string()), false)
            }
            Fault::Huge => {
                const TOTAL: usize = 8 * 1024 * 1024;
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {json_type}\r\nContent-Length: {TOTAL}\r\n\r\n");
                let chunk = vec![b'x'; 65536];
                let mut written = stream.write_all(head.as_bytes()).await;
                for _ in 0..TOTAL / chunk.len() {
                    if written.is_err() {
                        break; // the service stopped reading, as it should
                    }
                    written = stream.write_all(&chunk).await;
                }
                (written.map(|()| 200).map_err(|e| e.to_string()), false)
            }
            Fault::NotJson => {
                let reply = b"<html><body>Service temporarily unavailable</body></html>";
                (write(stream, 200, "text/html", &[], reply).await.map(|()| 200), true)
            }
            Fault::NoId => (write(stream, 200, json_type, &[], br#"{"status":"ok"}"#).await.map(|()| 200), true),
        },
    };
    let mut st = state.borrow_mut();
    if st.calls_log.is_some() {
        st.log_call(json!({"event": "answered", "t": monotonic(), "id_message": id_message}));
    }
    let status = status?;
    *st.answered.entry(status).or_insert(0) += 1;
    if status == 200 && matches!(fault, None | Some(Ok(Fault::OkFast | Fault::OkSlow | Fault::Timeout))) {
        st.last_id_message = Some(id_message);
    }
    Ok(keep_open)
}

async fn write(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Res<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    };
    let mut message =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        message.push_str(&format!("{name}: {value}\r\n"));
    }
    message.push_str("\r\n");
    let mut message = message.into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message).await.map_err(|e| e.to_string())
}
