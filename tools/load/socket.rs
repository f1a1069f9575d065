//! `loadgen socket ...`: the Socket Mode phases. The generator plays Slack.
//! It answers `apps.connections.open` (the service's SLACK_API_URL points
//! at `--listen`) with a ws:// URL of its own, greets the service's
//! WebSocket with `hello`, as Slack and the tests' local server do
//! (tests/api/socket_mode.rs), and then sends `slash_commands` envelopes
//! carrying the same commands as the HTTP phases (`command_fields`), reading
//! the acks on the same connection.
//!
//! The service must start after this listens, so its pid comes through a
//! file (`--pid-file`) that run.sh writes once it has started it. Phases, in
//! the order given by `--phases`:
//!
//! - `fixed`: valid sends at `--rate` envelopes/s, open loop; an ack's
//!   latency counts from the envelope's due time when the generator was
//!   late, as in the HTTP phase;
//! - `send`, `help`: closed loop with `--window` envelopes in flight: the
//!   next envelope goes when an ack comes in.
//!
//! Each phase prints one line of the same `key=value` words as `loadgen load`.
//! With `--stop`, the service gets SIGTERM once the phases are done, and the
//! generator answers its WebSocket close, so it drains as in production.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::http1::read_message;
use super::{Kind, Phase, Res, command_fields, command_text, mock_counts, print_phase, proc_stats, runtime, sched_cpu};

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;
type Stream = SplitStream<WebSocketStream<TcpStream>>;

/// How long the service may stay silent while acks are owed before the
/// phase gives up on them (and counts them as errors). Far above the ack
/// budget (2.5 s), so only a stuck service reaches it.
const ACK_PATIENCE: Duration = Duration::from_secs(10);
/// For the service to start and connect, and to drain after SIGTERM.
const SERVICE_PATIENCE: Duration = Duration::from_secs(60);

struct SocketArgs {
    listen: SocketAddr,
    mock: SocketAddr,
    pid_file: PathBuf,
    window: usize,
    duration: Duration,
    warmup: Duration,
    rate: Option<f64>,
    phases: Vec<String>,
    stop: bool,
}

fn parse_args(args: &[String]) -> Res<SocketArgs> {
    let get = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str);
    let need = |name: &str| get(name).ok_or(format!("socket needs {name}"));
    let num = |name: &str, default: f64| -> Res<f64> {
        get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name} takes a number")))
    };
    let phases: Vec<String> = get("--phases").unwrap_or("fixed,send,help").split(',').map(str::to_owned).collect();
    let rate = get("--rate").map(|r| r.parse().map_err(|_| "--rate takes a number")).transpose()?;
    for phase in &phases {
        match phase.as_str() {
            "fixed" if rate.is_none() => return Err("the fixed phase needs --rate".into()),
            "fixed" | "send" | "help" => {}
            other => return Err(format!("--phases takes fixed, send and help, not {other}")),
        }
    }
    Ok(SocketArgs {
        listen: need("--listen")?.parse().map_err(|_| "--listen HOST:PORT")?,
        mock: need("--mock")?.parse().map_err(|_| "--mock HOST:PORT")?,
        pid_file: need("--pid-file")?.into(),
        window: (num("--window", 32.0)? as usize).max(1),
        duration: Duration::from_secs_f64(num("--duration", 20.0)?),
        warmup: Duration::from_secs_f64(num("--warmup", 3.0)?),
        rate,
        phases,
        stop: args.iter().any(|a| a == "--stop"),
    })
}

pub fn socket(args: &[String]) -> Res<()> {
    let args = parse_args(args)?;
    let rt = runtime();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run(args))
}

async fn run(args: SocketArgs) -> Res<()> {
    let web_api = TcpListener::bind(args.listen).await.map_err(|e| format!("{}: {e}", args.listen))?;
    let sockets = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let url = format!("ws://{}/link/?ticket=loadgen-ticket", sockets.local_addr().map_err(|e| e.to_string())?);
    let opens = Rc::new(Cell::new(0u64));
    let answer = Rc::new(json!({"ok": true, "url": url}).to_string());
    tokio::task::spawn_local(serve_web_api(web_api, answer, opens.clone()));

    let (tcp, _) = timeout(SERVICE_PATIENCE, sockets.accept())
        .await
        .map_err(|_| "the service did not open a WebSocket (is SLACK_API_URL this generator's --listen?)")?
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut socket = tokio_tungstenite::accept_async(tcp).await.map_err(|e| format!("WebSocket handshake: {e}"))?;
    let hello = json!({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0123456789"},
        "debug_info": {"host": "loadgen", "build_number": 1, "approximate_connection_time": 18060}});
    socket.send(Message::text(hello.to_string())).await.map_err(|e| e.to_string())?;
    let pid = read_pid(&args.pid_file).await?;
    let (mut sink, mut stream) = socket.split();

    // Envelope and trigger ids never repeat within the run: the service
    // answers a delivery it has seen with the first one's answer, unsent.
    let mut next = 0;
    for phase in &args.phases {
        let (label, kind, rate) = match phase.as_str() {
            "fixed" => ("socket_fixed", Kind::Send, args.rate),
            "send" => ("socket_saturation_send", Kind::Send, None),
            _ => ("socket_saturation_help", Kind::Help, None),
        };
        match rate {
            Some(rate) => eprintln!("== Socket Mode: {label}, {rate} envelopes/s, open loop"),
            None => eprintln!("== Socket Mode: {label}, closed loop, {} envelopes in flight", args.window),
        }
        let spec = Spec { label, kind, rate, first: next, pid, opens: opens.get() };
        next += drive_phase(&args, &spec, &mut sink, &mut stream).await?;
    }

    if args.stop {
        // SAFETY: kill(2) with a plain signal number touches no memory of ours.
        if unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } != 0 {
            return Err(format!("SIGTERM to {pid}: {}", std::io::Error::last_os_error()));
        }
        // Reading answers the service's close; the stream ends when it is gone.
        let _ = timeout(SERVICE_PATIENCE, async { while let Some(Ok(_)) = stream.next().await {} }).await;
    }
    Ok(())
}

/// Slack's Web API, as far as Socket Mode needs it: every
/// `apps.connections.open` gets the same ws:// URL; anything else a 404.
async fn serve_web_api(listener: TcpListener, answer: Rc<String>, opens: Rc<Cell<u64>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let (answer, opens) = (answer.clone(), opens.clone());
        tokio::task::spawn_local(async move {
            let mut buf = Vec::new();
            while let Ok((head, _)) = read_message(&mut stream, &mut buf).await {
                let path = head.first_line.split(' ').nth(1).unwrap_or_default();
                let reply = if head.first_line.starts_with("POST ") && path.ends_with("/apps.connections.open") {
                    opens.set(opens.get() + 1);
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{}",
                        answer.len(),
                        answer
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
                };
                if stream.write_all(reply.as_bytes()).await.is_err() || head.close {
                    break;
                }
            }
        });
    }
}

async fn read_pid(file: &PathBuf) -> Res<u32> {
    let deadline = Instant::now() + SERVICE_PATIENCE;
    loop {
        if let Some(pid) = std::fs::read_to_string(file).ok().and_then(|s| s.trim().parse().ok()) {
            return Ok(pid);
        }
        if Instant::now() > deadline {
            return Err(format!("no service pid in {}", file.display()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct Spec {
    label: &'static str,
    kind: Kind,
    /// None: closed loop.
    rate: Option<f64>,
    /// The number of the phase's first command.
    first: usize,
    pid: u32,
    /// apps.connections.open calls before the phase.
    opens: u64,
}

/// Command `n` as Slack's envelope: its id and its text frame.
fn envelope(n: usize, kind: Kind, response_url_base: &str) -> (String, String) {
    let id = format!("dbdd{:04x}-1543-4f94-bfb4-{n:012x}", n % 0x10000);
    let payload: Map<String, Value> = command_fields(n, command_text(kind, n), response_url_base)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), Value::String(value)))
        .collect();
    let frame = json!({"envelope_id": id, "type": "slash_commands", "accepts_response_payload": true,
        "payload": payload});
    (id, frame.to_string())
}

#[derive(Deserialize)]
struct AckFrame<'a> {
    #[serde(borrow)]
    envelope_id: &'a str,
}

#[derive(Default)]
struct AckTally {
    /// Of the envelopes due in the measured window, µs.
    latencies: Vec<u32>,
    /// Acks of envelopes we sent, warm-up included.
    acked: u64,
    /// Acks that do not carry the expected reply.
    not_sent: u64,
    /// Text frames that are no ack of an envelope in flight.
    unknown: u64,
    /// Envelopes never acknowledged.
    unacked: u64,
    /// The acks' total size.
    ack_bytes: u64,
}

/// One phase over the open WebSocket. Returns how many envelopes it sent.
async fn drive_phase(args: &SocketArgs, spec: &Spec, sink: &mut Sink, stream: &mut Stream) -> Res<usize> {
    let (upstream_before, response_url_before, _, connections_before) = mock_counts(args.mock)?;
    let own_before = sched_cpu(std::process::id());
    let response_url_base = format!("http://{}", args.mock);
    let marker = spec.kind.marker();

    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    // Envelope id -> (when its latency starts, whether it is measured).
    let inflight: RefCell<HashMap<String, (Instant, bool)>> = RefCell::new(HashMap::new());
    let window = Semaphore::new(if spec.rate.is_none() { args.window } else { 0 });
    let sent_all = Notify::new();
    let done_sending = Cell::new(false);
    let gave_up = Cell::new(false);

    let writer = async {
        let mut i = 0;
        loop {
            let (due, mut start_clock) = match spec.rate {
                Some(r) => {
                    let due = start + Duration::from_secs_f64(i as f64 / r);
                    (due, due)
                }
                None => {
                    // Closed: the permit comes back with an ack, or never
                    // once the reader gives up.
                    match window.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => break,
                    }
                    let now = Instant::now();
                    (now, now)
                }
            };
            if due >= end || gave_up.get() {
                break;
            }
            // As in the HTTP phase: an envelope that waited on our timer
            // counts from when it was sent, one we were late for from its
            // due time.
            if spec.rate.is_some() && Instant::now() < due {
                tokio::time::sleep_until(due.into()).await;
                start_clock = Instant::now();
            }
            let (id, frame) = envelope(spec.first + i, spec.kind, &response_url_base);
            inflight.borrow_mut().insert(id, (start_clock, due >= measure_from));
            sink.send(Message::text(frame)).await.map_err(|e| format!("sending an envelope: {e}"))?;
            i += 1;
        }
        done_sending.set(true);
        sent_all.notify_one();
        Ok::<_, String>(i)
    };

    let reader = async {
        let mut tally = AckTally::default();
        loop {
            if done_sending.get() && inflight.borrow().is_empty() {
                return Ok(tally);
            }
            let frame = tokio::select! {
                frame = timeout(ACK_PATIENCE, stream.next()) => frame,
                () = sent_all.notified(), if !done_sending.get() => continue,
            };
            let text = match frame {
                Err(_) if inflight.borrow().is_empty() => continue,
                Err(_) => {
                    // Stuck: what is owed is lost, and the writer stops.
                    gave_up.set(true);
                    window.close();
                    tally.unacked += inflight.borrow_mut().drain().count() as u64;
                    return Ok(tally);
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                // Pings (tungstenite answers them) and pongs.
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(other))) => return Err(format!("the service sent {other:?}")),
                Ok(Some(Err(e))) => return Err(format!("the WebSocket broke: {e}")),
                Ok(None) => return Err("the service closed the WebSocket".into()),
            };
            let now = Instant::now();
            let sent = serde_json::from_str::<AckFrame>(text.as_str())
                .ok()
                .and_then(|ack| inflight.borrow_mut().remove(ack.envelope_id));
            let Some((started, measured)) = sent else {
                tally.unknown += 1;
                continue;
            };
            tally.acked += 1;
            tally.ack_bytes += text.len() as u64;
            if !text.as_bytes().windows(marker.len()).any(|w| w == marker) {
                tally.not_sent += 1;
            }
            if measured {
                tally.latencies.push(now.duration_since(started).as_micros().min(u32::MAX as u128) as u32);
            }
            window.add_permits(1);
        }
    };

    let snapshot = async {
        tokio::time::sleep_until(measure_from.into()).await;
        (proc_stats(spec.pid), sched_cpu(spec.pid), Instant::now())
    };
    let (sent, tally, (before, sched_before, measured_at)) = tokio::join!(writer, reader, snapshot);
    let (sent, mut tally) = (sent?, tally?);
    let measured = measured_at.elapsed();
    let (cpu_before, _) = before?;
    let (cpu_after, hwm_kib) = proc_stats(spec.pid)?;
    let sched_after = sched_cpu(spec.pid);
    let own_cpu = sched_cpu(std::process::id()).saturating_sub(own_before);
    let threads = std::fs::read_to_string(format!("/proc/{}/status", spec.pid))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:")).map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    // Give a deferred reply, if any, a moment to land before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (upstream_after, response_url_after, _, connections_after) = mock_counts(args.mock)?;

    tally.latencies.sort_unstable();
    let upstream = upstream_after - upstream_before;
    let expected_upstream = if spec.kind == Kind::Send { tally.acked } else { 0 };
    let reconnects = spec.opens.abs_diff(1);
    let errors = tally.not_sent + tally.unknown + tally.unacked + reconnects + upstream.abs_diff(expected_upstream);
    print_phase(&Phase {
        label: spec.label,
        rate: spec.rate,
        duration: args.duration,
        measured,
        latencies: &tally.latencies,
        cpu: cpu_after.saturating_sub(cpu_before),
        sched: sched_after.saturating_sub(sched_before),
        hwm_kib,
        answered: tally.acked,
        upstream,
        // Each /_mock/stats probe opens one connection of its own.
        upstream_connections: connections_after.saturating_sub(connections_before + 1),
        deferred: response_url_after - response_url_before,
        errors,
        details: format!(
            "window={} sent={sent} ack_bytes={} not_sent={} unknown_acks={} unacked={} connections_opened={} \
             threads={threads}",
            spec.rate.map_or(args.window.to_string(), |_| "open".into()),
            tally.ack_bytes / tally.acked.max(1),
            tally.not_sent,
            tally.unknown,
            tally.unacked,
            spec.opens,
        ),
        own_cpu,
    })?;
    Ok(sent)
}
