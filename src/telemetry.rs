//! Logs: human-readable text or one JSON object per line, filtered by
//! `RUST_LOG` (default `info`). `RUST_LOG` is read with the rest of the
//! configuration, not by tracing itself, so a `.env` file can set it too.
//!
//! The `log` crate bridge is left out on purpose: reqwest logs request URLs
//! through it, and GREEN-API puts the token in the URL path.

use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The filter used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info";

/// A filter from `directives` in `RUST_LOG` syntax (`info`,
/// `slack_sendcontact=debug,warn`): levels by target. `Targets` rather than
/// `EnvFilter`, whose span and field directives nobody here uses but whose
/// regex engine was a twentieth of the binary, resident in every replica.
pub fn filter(directives: &str) -> Result<Targets, tracing_subscriber::filter::ParseError> {
    directives.parse()
}

/// A subscriber writing to `sink`, so tests can capture what is logged.
pub fn subscriber<W>(format: LogFormat, filter: Targets, sink: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => Box::new(
            registry.with(tracing_subscriber::fmt::layer().with_writer(sink).with_ansi(false).with_target(false)),
        ),
        LogFormat::Json => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    // A command's team, user, channel and request id sit in
                    // its span (handler::slash_command).
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(sink),
            ),
        ),
    }
}

/// Installs the process-wide subscriber writing to stderr, filtered by
/// `directives` (the configured `RUST_LOG`). Call once, from `main`.
pub fn init(format: LogFormat, directives: &str) {
    // The configuration has already refused directives that do not parse;
    // the fallback only keeps a logger if that ever changes.
    let filter = filter(directives).unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    // Only fails if a subscriber is already set, in which case that one stays.
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}
