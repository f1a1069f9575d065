//! The command line: `serve` (the default), plus admin subcommands.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::command::{Command, usage};
use crate::config::{self, AdminConfig, FromEnv, ListenAddress, ServeConfig};
use crate::green_api::{GreenApiClient, state_advice};
use crate::metrics::Metrics;
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
    /// Serve Slack commands on HOST:PORT (the default)
    Serve,
    /// Check the GREEN-API instance: its state and type; exit 0 only when it is authorized
    #[command(long_about = "Calls GREEN-API getStateInstance and getSettings with the configured GREEN_API_URL, \
        GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE, and says in plain words whether the instance can send, \
        and what to do if not. Exits 0 only when the instance is authorized. SLACK_SIGNING_SECRET is not needed.")]
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
    let client = GreenApiClient::new(&config.green_api, Metrics::default().instance(0)).map_err(|e| {
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
    match state {
        Ok(state) => {
            println!("state: {state}: {}", state_advice(&state));
            if state == "authorized" { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            println!("state: could not be read: {e}");
            ExitCode::FAILURE
        }
    }
}

fn send(args: &[String]) -> ExitCode {
    let send = match Command::parse(args) {
        Ok(Command::Send(send)) => send,
        Ok(Command::Help) => {
            println!("{}", usage("slack-sendcontact send"));
            // `send help` asked for this; a bare `send` forgot its arguments.
            return if args.is_empty() { ExitCode::from(EXIT_CONFIG) } else { ExitCode::SUCCESS };
        }
        Err(e) => {
            eprintln!("slack-sendcontact: {e}.\n\n{}", usage("slack-sendcontact send"));
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
