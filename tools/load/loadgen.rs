//! The load benchmark's generator (`tools/load/run.sh` drives it, against
//! the mock GREEN-API of tools/mock_green_api.rs; nothing here runs in CI):
//!
//! - `loadgen startup RUNS PORT CPU EXE`: starts `EXE serve` (environment
//!   inherited), pinned to CPU (or `-`), RUNS times and measures from just before the spawn to the first 200 on
//!   `GET /healthz`, polling every 100 µs.
//! - `loadgen load ...`: drives `POST /slack/commands` with realistic signed
//!   slash-command forms, either closed-loop as fast as the service answers
//!   (saturation) or open-loop at a fixed rate with latency measured from
//!   each request's scheduled time (no coordinated omission), and reads the
//!   service's CPU time and peak RSS from /proc.
//! - `loadgen socket ...`: plays Slack for the service's Socket Mode and
//!   sends the same commands as envelopes over its WebSocket, measured the
//!   same way (tools/load/socket.rs).
//!
//! The HTTP/1.1 client is hand-written over tokio sockets (tools/http1.rs): a
//! general-purpose client would cost more CPU on the load core than the
//! service under test, and we only ever talk to ourselves on 127.0.0.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use slack_sendcontact::slack::signature::{SigningSecret, sign};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("startup") => startup(&args[1..]),
        Some("load") => load(&args[1..]),
        Some("socket") => socket::socket(&args[1..]),
        _ => Err("usage: loadgen startup RUNS PORT CPU|- EXE | load --addr A --secret S --pid P ... \
                  | socket --listen A --mock M --pid-file F ..."
            .into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

type Res<T> = Result<T, String>;

fn runtime() -> tokio::runtime::Runtime {
    // One thread: the load generator shares its core with the mock GREEN-API.
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

#[path = "../http1.rs"]
mod http1;
mod socket;
use http1::read_message;

/// The mock's counters (`GET /_mock/stats`, tools/mock_green_api.rs):
/// sendContact calls, response_url posts, other requests, TCP connections.
fn mock_counts(mock: SocketAddr) -> Res<(u64, u64, u64, u64)> {
    let mut stream = StdTcpStream::connect(mock).map_err(|e| format!("mock at {mock}: {e}"))?;
    stream
        .write_all(b"GET /_mock/stats HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let stats: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("mock's /_mock/stats is not JSON ({e}): {text}"))?;
    let field = |name: &str| -> Res<u64> {
        stats[name].as_u64().ok_or_else(|| format!("mock's /_mock/stats lacks {name}: {body}"))
    };
    Ok((field("sendContact")?, field("response_url")?, field("other")?, field("connections")?))
}

// ---------------------------------------------------------------- startup

fn startup(args: &[String]) -> Res<()> {
    let [runs, port, cpu, exe] = args else { return Err("startup RUNS PORT CPU|- EXE".into()) };
    let runs: usize = runs.parse().map_err(|_| "RUNS is a number")?;
    let port: u16 = port.parse().map_err(|_| "PORT is a number")?;
    let cpu: Option<usize> = if cpu == "-" { None } else { Some(cpu.parse().map_err(|_| "CPU is a number or -")?) };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut command = Command::new(exe);
        if let Some(cpu) = cpu {
            pin_child(&mut command, cpu);
        }
        let started = Instant::now();
        let mut child = command
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{exe}: {e}"))?;
        let deadline = started + Duration::from_secs(10);
        let ready = loop {
            if healthz_ok(address) {
                break Some(started.elapsed());
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                break None;
            }
            std::thread::sleep(Duration::from_micros(100));
        };
        // SIGTERM, so the service drains and exits as in production.
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let _ = child.wait();
        times.push(ready.ok_or("the service never answered /healthz with 200 (is the port free?)")?);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "startup_runs={runs} startup_min_ms={:.2} startup_median_ms={:.2} startup_max_ms={:.2}",
        ms(times[0]),
        ms(times[runs / 2]),
        ms(times[runs - 1])
    );
    Ok(())
}

/// Pins the child to `cpu` between fork and exec, so the measured time is
/// the service's own (a `taskset` in front would add its exec).
fn pin_child(command: &mut Command, cpu: usize) {
    use std::os::unix::process::CommandExt;
    // SAFETY: sched_setaffinity is async-signal-safe and touches only the
    // child's own affinity mask, built before the fork.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut set) };
    unsafe {
        command.pre_exec(move || {
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

fn healthz_ok(address: SocketAddr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream = StdTcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(&head[9..12] == b"200")
    };
    probe().unwrap_or(false)
}

// ---------------------------------------------------------------- load

struct LoadArgs {
    addr: SocketAddr,
    mock: SocketAddr,
    secret: String,
    pid: u32,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    /// None: closed loop, as fast as answers come.
    rate: Option<f64>,
    /// `send` (every request makes one upstream call) or `help` (none).
    kind: Kind,
    label: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    Help,
}

impl Kind {
    /// What a 200 reply of this kind must hold to count as a success.
    fn marker(self) -> &'static [u8] {
        match self {
            Kind::Send => b"\"in_channel\"",
            Kind::Help => b"\"ephemeral\"",
        }
    }
}

fn parse_load_args(args: &[String]) -> Res<LoadArgs> {
    let get = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str);
    let need = |name: &str| get(name).ok_or(format!("load needs {name}"));
    let num = |name: &str, default: f64| -> Res<f64> {
        get(name).map_or(Ok(default), |v| v.parse().map_err(|_| format!("{name} takes a number")))
    };
    Ok(LoadArgs {
        addr: need("--addr")?.parse().map_err(|_| "--addr HOST:PORT")?,
        mock: need("--mock")?.parse().map_err(|_| "--mock HOST:PORT")?,
        secret: need("--secret")?.to_owned(),
        pid: need("--pid")?.parse().map_err(|_| "--pid takes a process id")?,
        connections: num("--connections", 32.0)? as usize,
        duration: Duration::from_secs_f64(num("--duration", 20.0)?),
        warmup: Duration::from_secs_f64(num("--warmup", 3.0)?),
        rate: get("--rate").map(|r| r.parse().map_err(|_| "--rate takes a number")).transpose()?,
        kind: match get("--kind").unwrap_or("send") {
            "send" => Kind::Send,
            "help" => Kind::Help,
            other => return Err(format!("--kind send|help, not {other}")),
        },
        label: get("--label").unwrap_or("load").to_owned(),
    })
}

/// What Slack's users type: Cyrillic and Latin names, quotes of every kind,
/// phone numbers in groups, Slack's auto-links and escapes. All are valid
/// sends, so every request makes exactly one upstream call.
const TEXTS: &[&str] = &[
    "10000000 +7 987 654-32-10 Иван Иванов \"ООО Ромашка\"",
    "-10000000000000 79876543210 Анна-Мария Петрова-Водкина «ЗАО Северный Ветер»",
    "79876543210@c.us <tel:+79876543210|+7 987 654 32 10> “Anna Maria” O'Neil «Smith &amp; Sons»",
    "120363043968066561@g.us +44 20 7946 0958 Jane Doe Acme Trading Ltd",
    "<mailto:79161234567@c.us|79161234567@c.us> +7 (916) 123-45-67 Ольга Смирнова",
    "123456789@lid 4915112345678 Hans Müller <http://acme.de|acme.de>",
    "10000000 +380 44 123 4567 Олександр Шевченко ТОВ “Київ Софт”",
    "-1001234567890 +1 (415) 555-0134 'Mary Jane' Watson Daily Bugle &amp; Co",
    "77012345678@c.us 77012345678 Айгерим Нурлановна",
    "10000000 +7 495 123-45-67 Сергей \"\" ИП Кузнецов С.А.",
];

/// Asking for the usage, as people do: the answer needs no upstream call.
const HELP_TEXTS: &[&str] = &["help", "", "HELP", "?", "--help"];

/// The text of command `i` of this kind: every phase and both transports
/// take their commands from here.
fn command_text(kind: Kind, i: usize) -> &'static str {
    let texts = if kind == Kind::Help { HELP_TEXTS } else { TEXTS };
    texts[i % texts.len()]
}

/// Every field Slack sends with slash command `i`, in Slack's order: the
/// HTTP phases send them as a form, the Socket Mode phases as an envelope's
/// JSON payload.
fn command_fields(i: usize, text: &str, response_url_base: &str) -> [(&'static str, String); 15] {
    let team = format!("T0{:07}", 1234567 + i % 3);
    let user = format!("U0{:08}", 20000000 + i * 7919 % 100000);
    let channel = format!("C0{:08}", 30000000 + i * 104729 % 1000);
    let response_url = format!("{response_url_base}/commands/{team}/{}/{:024x}", 6000000000000 + i, i * 2654435761);
    let trigger = format!("{}.{}.{:032x}", 7000000000000 + i, 4744562912u64, (i as u128) * 0x9e3779b97f4a7c15);
    [
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO".into()),
        ("team_id", team),
        ("team_domain", "acme-corp".into()),
        ("enterprise_id", "E0001".into()),
        ("enterprise_name", "Acme Corp".into()),
        ("channel_id", channel),
        ("channel_name", "sales-team".into()),
        ("user_id", user),
        ("user_name", "ivan.petrov".into()),
        ("command", "/sendcontact".into()),
        ("text", text.into()),
        ("api_app_id", "A0123456789".into()),
        ("is_enterprise_install", "false".into()),
        ("response_url", response_url),
        ("trigger_id", trigger),
    ]
}

/// A slash-command form with every field Slack sends.
fn form(i: usize, text: &str, response_url_base: &str) -> String {
    serde_urlencoded::to_string(command_fields(i, text, response_url_base)).expect("a form of strings encodes")
}

/// Signed requests for `POST /slack/commands`, timestamped when the phase
/// starts: signatures are good for 300 s, so each phase signs its own.
/// Request `i` is Slack's invocation number `i`, with its own trigger_id and
/// so its own signature: the service refuses a signature it has seen, so a
/// pool of requests sent round and round would measure 401s.
struct SignedRequests {
    secret: SigningSecret,
    now: i64,
    response_url_base: String,
    addr: SocketAddr,
    kind: Kind,
}

impl SignedRequests {
    fn new(args: &LoadArgs) -> Self {
        Self {
            secret: SigningSecret::new(args.secret.clone().into()),
            now: SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is past 1970").as_secs() as i64,
            response_url_base: format!("http://{}", args.mock),
            addr: args.addr,
            kind: args.kind,
        }
    }

    fn get(&self, i: usize) -> Vec<u8> {
        let body = form(i, command_text(self.kind, i), &self.response_url_base);
        let signature = sign(&self.secret, self.now, body.as_bytes());
        format!(
            "POST /slack/commands HTTP/1.1\r\nHost: {}\r\nUser-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n\
             Accept-Encoding: gzip,deflate\r\nAccept: application/json,*/*\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nX-Slack-Signature: {signature}\r\n\
             X-Slack-Request-Timestamp: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            self.now,
            body.len()
        )
        .into_bytes()
    }
}

/// The service's CPU time (user + system, all threads) and peak RSS.
fn proc_stats(pid: u32) -> Res<(Duration, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').ok_or("odd /proc stat")? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    let hz = clock_ticks_per_second();
    let cpu = Duration::from_secs_f64(ticks as f64 / hz);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let hwm_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Ok((cpu, hwm_kib))
}

/// The same CPU time at nanosecond resolution, from the scheduler's
/// per-thread accounting (utime/stime come in 10 ms ticks).
fn sched_cpu(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Duration::ZERO };
    let ns: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[derive(Default)]
struct Tally {
    /// Latencies of measured requests, µs.
    latencies: Vec<u32>,
    /// Every request answered, warm-up included.
    answered: u64,
    /// Answers that were not 200.
    non_200: u64,
    /// 200s that are not the in-channel success reply.
    not_sent: u64,
    /// Connections that broke and were reopened.
    broken: u64,
}

fn load(args: &[String]) -> Res<()> {
    let args = parse_load_args(args)?;
    let requests = Rc::new(SignedRequests::new(&args));
    let (upstream_before, response_url_before, _, connections_before) = mock_counts(args.mock)?;
    let rt = runtime();
    let local = tokio::task::LocalSet::new();

    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    // The /proc snapshot is taken when measurement starts, from a task on
    // the same runtime, so warm-up is excluded.
    let tallies = local.block_on(&rt, async {
        let pid = args.pid;
        let snapshot = tokio::task::spawn_local(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            (proc_stats(pid), sched_cpu(pid), Instant::now())
        });
        let mut tasks = Vec::new();
        for k in 0..args.connections {
            let requests = requests.clone();
            let (addr, rate, connections, marker) = (args.addr, args.rate, args.connections, args.kind.marker());
            tasks.push(tokio::task::spawn_local(async move {
                drive(k, connections, addr, requests, marker, rate, start, measure_from, end).await
            }));
        }
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await.map_err(|e| e.to_string())??);
        }
        let snapshot = snapshot.await.map_err(|e| e.to_string())?;
        Ok::<_, String>((tallies, snapshot))
    });
    let (tallies, (before, sched_before, measured_at)) = tallies?;
    let measured = measured_at.elapsed();
    let (cpu_before, _) = before?;
    let (cpu_after, hwm_kib) = proc_stats(args.pid)?;
    // Our own CPU over the whole phase, to show whether the generator kept up.
    let own_cpu = sched_cpu(std::process::id());
    let sched_after = sched_cpu(args.pid);
    // Give a deferred reply, if any, a moment to land before counting.
    std::thread::sleep(Duration::from_millis(200));
    let (upstream_after, response_url_after, _, connections_after) = mock_counts(args.mock)?;
    // Each /_mock/stats probe opens one connection of its own.
    let upstream_connections = connections_after.saturating_sub(connections_before + 1);

    let mut all = Tally::default();
    for t in tallies {
        all.latencies.extend(t.latencies);
        all.answered += t.answered;
        all.non_200 += t.non_200;
        all.not_sent += t.not_sent;
        all.broken += t.broken;
    }
    all.latencies.sort_unstable();
    let upstream = upstream_after - upstream_before;
    let expected_upstream = if args.kind == Kind::Send { all.answered } else { 0 };
    let errors = all.non_200 + all.not_sent + all.broken + upstream.abs_diff(expected_upstream);
    print_phase(&Phase {
        label: &args.label,
        rate: args.rate,
        duration: args.duration,
        measured,
        latencies: &all.latencies,
        cpu: cpu_after.saturating_sub(cpu_before),
        sched: sched_after.saturating_sub(sched_before),
        hwm_kib,
        answered: all.answered,
        upstream,
        upstream_connections,
        deferred: response_url_after - response_url_before,
        errors,
        details: format!(
            "connections={} non_200={} not_sent={} broken={}",
            args.connections, all.non_200, all.not_sent, all.broken
        ),
        own_cpu,
    })
}

/// What one phase measured, over either transport.
struct Phase<'a> {
    label: &'a str,
    /// None: closed loop.
    rate: Option<f64>,
    /// The measured window as asked for; commands per second are counted over it.
    duration: Duration,
    /// From the /proc snapshot to the last answer: CPU use is counted over it.
    measured: Duration,
    /// Of the commands due in the measured window, µs, sorted.
    latencies: &'a [u32],
    /// The service's CPU over `measured`: /proc stat ticks and the scheduler's ns.
    cpu: Duration,
    sched: Duration,
    hwm_kib: u64,
    /// Every command answered in the phase, warm-up included.
    answered: u64,
    /// sendContact calls at the mock over the phase, warm-up included.
    upstream: u64,
    upstream_connections: u64,
    /// response_url posts at the mock.
    deferred: u64,
    errors: u64,
    /// The transport's own counters, `key=value` words.
    details: String,
    /// The generator's own CPU over the phase.
    own_cpu: Duration,
}

/// One line of `key=value` words, which run.sh reads.
fn print_phase(p: &Phase) -> Res<()> {
    let n = p.latencies.len();
    if n == 0 {
        return Err(format!("{}: no command was answered in the measured window", p.label));
    }
    let pct = |q: f64| p.latencies[((n as f64 * q) as usize).min(n - 1)];
    println!(
        "label={} rate={} measured_s={:.2} requests={n} rps={:.0} p50_us={} p90_us={} p99_us={} \
         p999_us={} max_us={} cpu_us_per_req={:.1} sched_cpu_us_per_req={:.1} cpu_util={:.2} vmhwm_kib={} \
         answered={} upstream_calls={} upstream_connections={} response_url_posts={} {} \
         errors={} loadgen_cpu_us_per_req={:.1}",
        p.label,
        p.rate.map_or("max".into(), |r| format!("{r:.0}")),
        p.measured.as_secs_f64(),
        n as f64 / p.duration.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        p.latencies[n - 1],
        p.cpu.as_secs_f64() * 1e6 / n as f64,
        p.sched.as_secs_f64() * 1e6 / n as f64,
        p.sched.as_secs_f64() / p.measured.as_secs_f64(),
        p.hwm_kib,
        p.answered,
        p.upstream,
        p.upstream_connections,
        p.deferred,
        p.details,
        p.errors,
        p.own_cpu.as_secs_f64() * 1e6 / p.answered.max(1) as f64,
    );
    // run.sh reads each line as it comes, and a phase may be followed by a long one.
    std::io::stdout().flush().map_err(|e| e.to_string())
}

/// One keep-alive connection. Closed loop: the next request goes when the
/// answer is in. Open loop: connection `k` of `c` sends requests k, k+c, …,
/// request i being due at start + i/rate.
#[allow(clippy::too_many_arguments)]
async fn drive(
    k: usize,
    c: usize,
    addr: SocketAddr,
    requests: Rc<SignedRequests>,
    marker: &'static [u8],
    rate: Option<f64>,
    start: Instant,
    measure_from: Instant,
    end: Instant,
) -> Res<Tally> {
    let mut tally = Tally::default();
    let mut stream = connect(addr).await?;
    let mut buf = Vec::with_capacity(4096);
    let mut i = k;
    loop {
        let due = match rate {
            Some(r) => start + Duration::from_secs_f64(i as f64 / r),
            None => Instant::now(),
        };
        if due >= end {
            return Ok(tally);
        }
        // A request whose connection was still busy at its due time counts
        // from the due time: a stall in the service is not hidden. One that
        // waited on our timer counts from when it was sent, since tokio's
        // timer wakes up to a millisecond late and that lateness is ours.
        let mut start_clock = due;
        if rate.is_some() && Instant::now() < due {
            tokio::time::sleep_until(due.into()).await;
            start_clock = Instant::now();
        }
        let request = &requests.get(i);
        let answer = match stream.write_all(request).await {
            Ok(()) => read_message(&mut stream, &mut buf).await,
            Err(e) => Err(e.to_string()),
        };
        let done = Instant::now();
        match answer {
            Ok((head, body)) => {
                tally.answered += 1;
                if head.status != 200 {
                    tally.non_200 += 1;
                } else if !body.windows(marker.len()).any(|w| w == marker) {
                    tally.not_sent += 1;
                }
            }
            Err(_) => {
                tally.broken += 1;
                buf.clear();
                stream = connect(addr).await?;
            }
        }
        if due >= measure_from {
            tally.latencies.push(done.duration_since(start_clock).as_micros().min(u32::MAX as u128) as u32);
        }
        i += c;
    }
}

async fn connect(addr: SocketAddr) -> Res<TcpStream> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("{addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}
