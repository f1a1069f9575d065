//! The command line: `serve` (the default), plus admin subcommands.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::command::Command;
use crate::config::{self, AdminConfig, FromEnv, ListenAddress, ServeConfig};
use crate::domain::Card;
use crate::green_api::{GreenApiClient, GreenApiError, InstanceType, state_advice};
use crate::i18n::command::Usage;
use crate::i18n::routing::{Help, MaxText};
use crate::i18n::{Language, Localized};
use crate::instances::{Kind, Registry, route};
use crate::metrics::{self, Metrics};
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
    /// Check every GREEN-API instance (state and type, one line each) and SLACK_APP_TOKEN if set; exit 0 only when all is well
    #[command(long_about = "Calls GREEN-API getStateInstance and getSettings for every configured instance \
        (GREEN_API_URL, GREEN_API_ID_INSTANCE and GREEN_API_TOKEN_INSTANCE, or the file SENDCONTACT_CONFIG names), \
        and prints one line each: whether it can send, and what to do if not. With SLACK_APP_TOKEN set, also asks \
        Slack (apps.connections.open) whether the token opens Socket Mode connections. Exits 0 only when every \
        instance is authorized and the token, if set, is accepted. SLACK_SIGNING_SECRET is not needed.")]
    Check,
    /// Send a contact card from the terminal, exactly as the slash command would; prints the idMessage
    #[command(
        long_about = "Sends a contact card with the same parser and GREEN-API client as the slash command and \
            prints GREEN-API's idMessage. Quote names with spaces as your shell needs. Exit status: 0 sent, \
            1 GREEN-API failed, 2 bad arguments or configuration.",
        after_help = "Example:\n  slack-sendcontact send 10000000 +79876543210 Иван Иванов \"ООО Ромашка\""
    )]
    Send {
        /// <chatId> <phone> <firstName> [lastName] [company...]; the chat may be an alias or instance:chatId, and
        /// on a MAX instance the arguments are <chatId> <contact>
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
    // First, so that every log of a run starts by saying which build it is.
    tracing::info!(version = metrics::VERSION, revision = metrics::revision(), "slack-sendcontact starting");
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

/// The admin commands' configuration, one client per instance (at the
/// registry's positions), and the registry.
struct Admin {
    config: AdminConfig,
    clients: Vec<Arc<GreenApiClient>>,
    registry: Registry,
}

fn admin_setup() -> Result<Admin, ExitCode> {
    let config = AdminConfig::from_env().map_err(|e| config_error(&e))?;
    telemetry::init(config.log_format, &config.log_filter);
    let names: Vec<&str> = config.instances.instances.iter().map(|i| i.name.as_str()).collect();
    let metrics = Metrics::new(&names);
    let clients = GreenApiClient::for_instances(
        config.instances.instances.iter().enumerate().map(|(i, instance)| (&instance.green_api, metrics.instance(i))),
    )
    .map_err(|e| {
        eprintln!("slack-sendcontact: {e}");
        ExitCode::FAILURE
    })?;
    let registry = Registry::new(&config.instances);
    Ok(Admin { config, clients, registry })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

/// Checks every instance at once and prints one line each, in the
/// configuration's order; exit 0 only when every one is authorized.
fn check() -> ExitCode {
    let Admin { config, clients, .. } = match admin_setup() {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let lines = runtime().block_on(async {
        let mut checks = tokio::task::JoinSet::new();
        for (i, (instance, client)) in config.instances.instances.iter().zip(&clients).enumerate() {
            let client = Arc::clone(client);
            let (name, configured) = (instance.name.clone(), instance.kind);
            let place = format!("{} at {}", instance.green_api.id_instance, instance.green_api.shown_url());
            checks.spawn(async move {
                let (state, kind) = tokio::join!(client.get_state_instance(), client.get_instance_type());
                (i, check_line(&name, &place, configured, state, kind))
            });
        }
        let mut lines = checks.join_all().await;
        lines.sort_by_key(|(i, _)| *i);
        lines
    });
    let mut all_authorized = true;
    for (_, (line, authorized)) in lines {
        println!("{line}");
        all_authorized &= authorized;
    }
    let slack_ok = match &config.app_token {
        Some(app_token) => check_app_token(&config.slack_api_url, app_token),
        None => true,
    };
    if all_authorized && slack_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
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

/// One instance's line of `check`, and whether it can send.
fn check_line(
    name: &str,
    place: &str,
    configured: Option<Kind>,
    state: Result<String, GreenApiError>,
    instance_type: Result<InstanceType, GreenApiError>,
) -> (String, bool) {
    let kind = match (&instance_type, configured) {
        (Ok(t), Some(configured)) if Kind::from_instance_type(t).is_some_and(|k| k != configured) => format!(
            "type {} (the file says kind = \"{configured}\": fix it, or commands will use the wrong grammar)",
            t.as_str()
        ),
        (Ok(InstanceType::Max), _) => {
            "type v3 (a MAX instance: its cards name a contact already among its contacts)".to_owned()
        }
        (Ok(t), _) => match t.warning() {
            Some(warning) => format!("type {} ({warning})", t.as_str()),
            None => format!("type {}", t.as_str()),
        },
        (Err(_), Some(configured)) => format!("kind {configured} (from the file)"),
        (Err(_), None) => "type unknown".to_owned(),
    };
    match state {
        Ok(state) => {
            let authorized = state == "authorized";
            (format!("{name}: instance {place}, {kind}, state {state}: {}", state_advice(&state)), authorized)
        }
        Err(e) => (format!("{name}: instance {place}, {kind}, state could not be read: {e}"), false),
    }
}

fn send(args: &[String]) -> ExitCode {
    let usage_text = |registry: &Registry| {
        Help { invocation: "slack-sendcontact send", form: false, registry }.localize(Language::En)
    };
    // A bare `send` or `send help` prints the usage even before the service
    // is configured; with a configuration, the instances and aliases too.
    if matches!(args, [] | [_]) && Command::parse(args, &Registry::one("default", None), "") == Ok(Command::Help) {
        match AdminConfig::from_env() {
            Ok(config) => println!("{}", usage_text(&Registry::new(&config.instances))),
            Err(_) => println!("{}", terminal_usage()),
        }
        // `send help` asked for this; a bare `send` forgot its arguments.
        return if args.is_empty() { ExitCode::from(EXIT_CONFIG) } else { ExitCode::SUCCESS };
    }
    let Admin { clients, registry, .. } = match admin_setup() {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let runtime = runtime();
    // The routed instance's kind decides the grammar: ask GREEN-API when
    // the configuration does not say, as `serve` does at start.
    if let Some(id) = args.first().and_then(|chat| route(&registry, chat, "").ok()).map(|r| r.instance)
        && registry.get(id).kind().is_none()
        && let Ok(Some(kind)) =
            runtime.block_on(clients[id.index()].get_instance_type()).map(|t| Kind::from_instance_type(&t))
    {
        registry.set_detected(id, kind);
    }
    let send = match Command::parse(args, &registry, "") {
        Ok(Command::Send(send)) => send,
        Ok(Command::Help) => {
            println!("{}", usage_text(&registry));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let usage = match e.max_instance() {
                Some(instance) => {
                    MaxText::Usage { invocation: "slack-sendcontact send", instance }.localize(Language::En)
                }
                None => usage_text(&registry),
            };
            eprintln!("slack-sendcontact: {e}.\n\n{usage}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let instance = registry.get(send.instance).name();
    match runtime.block_on(clients[send.instance.index()].send_contact(&send.chat_id, &send.card)) {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let hint = match (&send.card, &e) {
                (Card::Max(_), GreenApiError::Rejected { .. }) => {
                    format!(" {}", MaxText::NotAContact.localize(Language::En))
                }
                _ => String::new(),
            };
            if registry.len() > 1 {
                eprintln!("slack-sendcontact: instance {instance}: {e}{hint}");
            } else {
                eprintln!("slack-sendcontact: {e}{hint}");
            }
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
