//! Running the binary with a clean environment, and reading its log.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const SIGNING_SECRET: &str = "binary-test-signing-secret-0d2f9";
pub const TOKEN: &str = "bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884";
pub const ID_INSTANCE: &str = "1101000001";
pub const SEND_CONTACT_PATH: &str =
    "/waInstance1101000001/sendContact/bde035edae3fc00bc116bd112297908d8145e5ba8decc5d884";

/// An empty working directory, so no developer's `.env` leaks into a test.
pub fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slack-sendcontact-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A working directory of its own whose `.env` holds `dotenv`, for a test of
/// what the binary reads from there; `scratch_dir` stays empty for the rest.
pub fn dir_with_dotenv(name: &str, dotenv: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slack-sendcontact-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), dotenv).unwrap();
    dir
}

/// The binary with only `vars` in its environment.
pub fn binary(args: &[&str], vars: &[(&str, String)]) -> Command {
    binary_in(&scratch_dir(), args, vars)
}

/// The binary in the working directory `dir`, with only `vars` in its
/// environment.
pub fn binary_in(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slack-sendcontact"));
    command.args(args).env_clear().current_dir(dir).kill_on_drop(true);
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    for (key, value) in vars {
        command.env(key, value);
    }
    command
}

pub fn green_api_vars(green_api_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GREEN_API_URL", green_api_url.to_owned()),
        ("GREEN_API_ID_INSTANCE", ID_INSTANCE.to_owned()),
        ("GREEN_API_TOKEN_INSTANCE", TOKEN.to_owned()),
    ]
}

/// A running `serve`, its port, and every line it has logged so far.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
    /// The tasks copying stdout and stderr into `log`; they end at the pipes' end.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Starts `serve` on a free port and waits until it listens.
    pub async fn start(mut vars: Vec<(&'static str, String)>) -> Server {
        vars.push(("HOST", "127.0.0.1".into()));
        vars.push(("PORT", "0".into()));
        vars.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
        let mut child = binary(&["serve"], &vars).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            readers.push(tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            }));
        }
        let port = wait_for(Duration::from_secs(20), || {
            log.lock().unwrap().iter().find_map(|line| {
                // `address=127.0.0.1:PORT` (text) or `"address":"127.0.0.1:PORT"` (JSON).
                let rest = &line[line.find("address")?..];
                let rest = &rest[rest.find("127.0.0.1:")? + 10..];
                rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse::<u16>().ok()
            })
        })
        .await
        .unwrap_or_else(|| panic!("the server did not report its port; log: {:?}", log.lock().unwrap()));
        Server { child, port, log, readers }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The whole log of a process that has exited: waits until both pipes
    /// are read to their end, so the last lines it wrote are not missed.
    pub async fn log_after_exit(&mut self) -> String {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(20), reader).await;
        }
        self.log_text()
    }

    pub fn signal(&self, name: &str) {
        signal(&self.child, name);
    }
}

/// Sends the signal `name` (`TERM`, `INT`) to `child`; directly, so the
/// tests need no `kill` binary on the machine.
pub fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("the process is running");
    let number = match name {
        "TERM" => libc::SIGTERM,
        "INT" => libc::SIGINT,
        other => panic!("no signal named {other} in these tests"),
    };
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    // SAFETY: kill(2) only reads its two integer arguments.
    let result = unsafe { libc::kill(pid, number) };
    assert_eq!(result, 0, "kill -s {name} failed: {}", std::io::Error::last_os_error());
}

/// Runs the binary in `dir` to the end: its exit code, stdout and stderr.
pub async fn run_in(dir: &Path, args: &[&str], vars: &[(&str, String)]) -> (Option<i32>, String, String) {
    let output = binary_in(dir, args, vars).output().await.unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Polls `probe` every 20 ms until it gives a value or `limit` passes.
pub async fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP client for the tests themselves.
pub fn client() -> reqwest::Client {
    slack_sendcontact::http_client::install_crypto_provider();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A signed slash command, as Slack would POST it.
pub struct SignedCommand {
    pub body: String,
    pub timestamp: i64,
    pub signature: String,
}

pub fn signed_command(text: &str, response_url: &str) -> SignedCommand {
    // Slack gives every invocation its own trigger_id, so two commands never
    // share a signature (the server refuses a replay).
    static INVOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let trigger_id =
        format!("13345224609.738474920.{}", INVOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    signed_form(&[
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
        ("team_id", "T0001"),
        ("channel_id", "C2147483705"),
        ("user_id", "U2147483697"),
        ("command", "/sendcontact"),
        ("text", text),
        ("response_url", response_url),
        ("trigger_id", &trigger_id),
    ])
}

pub fn signed_form(fields: &[(&str, &str)]) -> SignedCommand {
    use slack_sendcontact::slack::signature::{SigningSecret, sign};
    let body = serde_urlencoded::to_string(fields).unwrap();
    let timestamp = now();
    let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), timestamp, body.as_bytes());
    SignedCommand { body, timestamp, signature }
}

pub async fn post(client: &reqwest::Client, url: &str, command: &SignedCommand) -> reqwest::Response {
    client
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", command.timestamp.to_string())
        .header("X-Slack-Signature", &command.signature)
        .body(command.body.clone())
        .send()
        .await
        .unwrap()
}
