//! Logs: human-readable text or one JSON object per line, filtered by
//! `RUST_LOG` (default `info`).
//!
//! The `log` crate bridge is left out on purpose: reqwest logs request URLs
//! through it, and GREEN-API puts the token in the URL path.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A subscriber writing to `sink`, so tests can capture what is logged.
pub fn subscriber<W>(format: LogFormat, filter: EnvFilter, sink: W) -> Box<dyn Subscriber + Send + Sync>
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
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(sink),
            ),
        ),
    }
}

/// Installs the process-wide subscriber writing to stderr. Call once, from
/// `main`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Only fails if a subscriber is already set, in which case that one stays.
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}
