//! The command line: `serve` (the default), plus admin subcommands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, ServeConfig};
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
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Slack commands on HOST:PORT (the default)
    Serve,
    /// Probe GET /healthz on 127.0.0.1:$PORT; exit 0 if it answers 200 (for container health checks)
    Healthcheck,
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Healthcheck => healthcheck(),
    }
}

/// Exit code for configuration problems, distinct from runtime failures.
const EXIT_CONFIG: u8 = 2;

fn serve() -> ExitCode {
    let config = match ServeConfig::from_env() {
        Ok(config) => config,
        Err(e) => return config_error(&e),
    };
    telemetry::init(config.log_format);
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

fn config_error(e: &config::ConfigError) -> ExitCode {
    eprintln!("slack-sendcontact: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, SocketAddr, TcpStream};
    use std::time::Duration;

    let port = std::env::var("PORT").ok().and_then(|p| p.trim().parse::<u16>().ok()).unwrap_or(8080);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(2);
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&address, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("unhealthy: /healthz on {address} did not answer 200");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: /healthz on {address}: {e}");
            ExitCode::FAILURE
        }
    }
}
