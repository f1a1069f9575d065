//! The command line: `serve` (the default), plus admin subcommands.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::command::Command;
use crate::config::{self, AdminConfig, FromEnv, ListenAddress, ServeConfig};
use crate::green_api::{GreenApiClient, state_advice};
use crate::i18n::command::Usage;
use crate::i18n::{Language, Localized};
use crate::metrics::Metrics;
use crate::socket_mode::{AppToken, ConnectionOpener, OpenError};
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "slack-sendcontact",
    version,
    about = "A Slack slash command that sends a contact card into a Telegram, WhatsApp or MAX chat through GREEN-API",
    long_about = "A Slack slash command that sends a contact card into a Telegram, WhatsApp or MAX chat through \
                  GREEN-API.\n\nConfiguration comes from the environment and from a .env file in the working \
                  directory (the environment wins); see README.md for every variable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Subcommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
    /// Serve Slack commands on HOST:PORT, and over Socket Mode when SLACK_APP_TOKEN is set (the default)
    Serve,
    /// Check the GREEN-API instance (state and type) and SLACK_APP_TOKEN if set; exit 0 only when all is well
    #[command(long_about = "Calls GREEN-API getStateInstance and getSettings with the configured GREEN_API_URL, \
        GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE, and says in plain words whether the instance can send, \
        and what to do if not. With SLACK_APP_TOKEN set, also asks Slack (apps.connections.open) whether the token \
        opens Socket Mode connections. Exits 0 only when the instance is authorized and the token, if set, is \
        accepted. SLACK_SIGNING_SECRET is not needed.")]
    Check,
    /// Send a contact card from the terminal, exactly as the slash command would; prints the idMessage
    #[command(
        long_about = "Sends a contact card with the same parser and GREEN-API client as the slash command and \
            prints GREEN-API's idMessage. Quote names with spaces as your shell needs. Exit status: 0 sent, \
            1 GREEN-API failed, 2 bad arguments or configuration.",
        after_help = "Example:\n  slack-sendcontact send 10000000 +79876543210 Иван Иванов \"ООО Ромашка\""
    )]
    Send {
        /// <chatId> <phone> <firstName> [lastName] [company...]
        #[arg(value_name = "ARGS", num_args = 0.., trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Probe GET /healthz where serve listens; exit 0 if it answers 200 (for container health checks)
    #[command(long_about = "Probes GET /healthz where serve listens, with HOST and PORT read as serve reads them \
        (.env included): on 127.0.0.1 when HOST is 0.0.0.0 or unset, on ::1 when it is ::, and on HOST itself \
        otherwise. Exits 0 on a 200 and 1 otherwise, bad HOST or PORT included (Docker reserves 2).")]
    Healthcheck,
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Subcommand::Serve) {
        Subcommand::Serve => serve(),
        Subcommand::Check => check(),
        Subcommand::Send { args } => send(&args),
        Subcommand::Healthcheck => healthcheck(),
    }
}

/// Exit code for configuration problems, distinct from runtime failures.
const EXIT_CONFIG: u8 = 2;

fn serve() -> ExitCode {
    let config = match ServeConfig::from_env() {
        Ok(config) => config,
        Err(e) => return config_error(&e),
    };
    telemetry::init(config.log_format, &config.log_filter);
    let outcome = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the server stopped with an error");
            eprintln!("slack-sendcontact: {e}");
            ExitCode::FAILURE
        }
    }
}

fn admin_setup() -> Result<(AdminConfig, GreenApiClient), ExitCode> {
    let config = AdminConfig::from_env().map_err(|e| config_error(&e))?;
    telemetry::init(config.log_format, &config.log_filter);
    let client = GreenApiClient::new(&config.green_api, Arc::new(Metrics::default())).map_err(|e| {
        eprintln!("slack-sendcontact: {e}");
        ExitCode::FAILURE
    })?;
    Ok((config, client))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

fn check() -> ExitCode {
    let (config, client) = match admin_setup() {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    println!("GREEN-API instance {} at {}", config.green_api.id_instance, config.green_api.url);
    let (state, kind) =
        runtime().block_on(async { tokio::join!(client.get_state_instance(), client.get_instance_type()) });
    match &kind {
        Ok(kind) => {
            println!("type:  {}", kind.as_str());
            if let Some(warning) = kind.warning() {
                println!("       warning: {warning}");
            }
        }
        Err(e) => println!("type:  unknown ({e})"),
    }
    let authorized = match state {
        Ok(state) => {
            println!("state: {state}: {}", state_advice(&state));
            state == "authorized"
        }
        Err(e) => {
            println!("state: could not be read: {e}");
            false
        }
    };
    let slack_ok = match &config.app_token {
        Some(app_token) => check_app_token(&config.slack_api_url, app_token),
        None => true,
    };
    if authorized && slack_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Opens (and drops) a Socket Mode connection URL: the one call `serve`
/// needs the app token for.
fn check_app_token(slack_api_url: &url::Url, app_token: &AppToken) -> bool {
    let opener = match ConnectionOpener::new(slack_api_url, app_token.clone()) {
        Ok(opener) => opener,
        Err(e) => {
            println!("slack: could not set up the HTTP client: {}", e.without_url());
            return false;
        }
    };
    match runtime().block_on(opener.open()) {
        Ok(_) => {
            println!("slack: SLACK_APP_TOKEN opens Socket Mode connections.");
            true
        }
        Err(OpenError::Refused(refused)) => {
            println!("slack: {refused}.");
            false
        }
        Err(e) => {
            println!("slack: SLACK_APP_TOKEN could not be checked: {e}; try again later.");
            false
        }
    }
}

fn send(args: &[String]) -> ExitCode {
    let send = match Command::parse(args) {
        Ok(Command::Send(send)) => send,
        Ok(Command::Help) => {
            println!("{}", terminal_usage());
            // `send help` asked for this; a bare `send` forgot its arguments.
            return if args.is_empty() { ExitCode::from(EXIT_CONFIG) } else { ExitCode::SUCCESS };
        }
        Err(e) => {
            eprintln!("slack-sendcontact: {e}.\n\n{}", terminal_usage());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let (_, client) = match admin_setup() {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    match runtime().block_on(client.send_contact(&send.chat_id, &send.contact)) {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("slack-sendcontact: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config_error(e: &config::ConfigError) -> ExitCode {
    eprintln!("slack-sendcontact: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn healthcheck() -> ExitCode {
    let listen = match ListenAddress::from_env() {
        Ok(listen) => listen,
        Err(e) => {
            // Unhealthy (1), not EXIT_CONFIG: Docker reserves a health check's
            // exit status 2, and no server runs with this configuration anyway.
            eprintln!("unhealthy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addresses = match listen.probe_addresses() {
        Ok(addresses) => addresses,
        Err(e) => {
            eprintln!("unhealthy: HOST='{}' does not resolve: {e}", listen.host());
            return ExitCode::FAILURE;
        }
    };
    // The server binds the first address of a name that works, which the
    // probe cannot know, so each is tried in turn.
    let mut failures = Vec::new();
    for address in addresses {
        match probe(address) {
            Ok(true) => return ExitCode::SUCCESS,
            Ok(false) => failures.push(format!("/healthz on {address} did not answer 200")),
            Err(e) => failures.push(format!("/healthz on {address}: {e}")),
        }
    }
    eprintln!("unhealthy: {}", failures.join("; "));
    ExitCode::FAILURE
}

/// GET /healthz on `address`: whether it answered 200.
fn probe(address: SocketAddr) -> std::io::Result<bool> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    Ok(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
}

/// The command's usage as the terminal calls it; a terminal reads English,
/// like the logs.
fn terminal_usage() -> String {
    Usage { invocation: "slack-sendcontact send", form: false }.localize(Language::En)
}
