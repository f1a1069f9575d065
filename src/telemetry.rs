//! Logs: human-readable text or one JSON object per line, filtered by
//! `RUST_LOG` (default `info`). `RUST_LOG` is read with the rest of the
//! configuration, not by tracing itself, so a `.env` file can set it too.
//!
//! The `log` crate bridge is left out on purpose: reqwest logs request URLs
//! through it, and GREEN-API puts the token in the URL path.

use std::cell::RefCell;
use std::fmt;

use tracing::Subscriber;
use tracing::span::Record;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{DefaultFields, JsonFields, Writer};
use tracing_subscriber::fmt::{FormatFields, FormattedFields, MakeWriter};
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
            registry.with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(Buffered(DefaultFields::new()))
                    .with_writer(sink)
                    .with_ansi(false)
                    .with_target(false),
            ),
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
                    .fmt_fields(Buffered(JsonFields::new()))
                    .with_writer(sink),
            ),
        ),
    }
}

/// A field formatter that writes what `N` writes, but formats into a buffer
/// kept by the thread and copies the result once. A command's span is
/// formatted as it opens (the fmt layer keeps its fields as text for the
/// lines logged inside it), even when no line is: written straight into the
/// span's empty string, its five fields regrew that string five times per
/// command; now it is allocated once, at its final size.
struct Buffered<N>(N);

thread_local! {
    static FIELDS: RefCell<String> = const { RefCell::new(String::new()) };
}

impl<'writer, N> FormatFields<'writer> for Buffered<N>
where
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> fmt::Result {
        FIELDS.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut buffer) => {
                buffer.clear();
                let formatted = self.0.format_fields(Writer::new(&mut *buffer), fields);
                formatted.and_then(|()| writer.write_str(&buffer))
            }
            // Formatting within formatting on this thread (tracing drops a
            // line logged while one is recorded, but a layer could format
            // fields of its own): the inner one goes straight to its writer.
            Err(_) => self.0.format_fields(writer, fields),
        })
    }

    /// Fields recorded later (a command's instance) are added by `N`'s own
    /// rules, which for JSON merge them into the object.
    fn add_fields(&self, current: &'writer mut FormattedFields<Self>, fields: &Record<'_>) -> fmt::Result {
        let mut inner = FormattedFields::<N>::new(std::mem::take(&mut current.fields));
        let added = self.0.add_fields(&mut inner, fields);
        current.fields = inner.fields;
        added
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    /// A line logged inside a command's span, with a field recorded after
    /// the span opened and one whose formatting logs.
    fn log_a_command(format: LogFormat) -> String {
        struct Noisy;
        impl fmt::Display for Noisy {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                tracing::info!(inner = "yes", "formatting a field");
                f.write_str("noisy")
            }
        }
        let sink = Sink::default();
        let subscriber = subscriber(format, filter("info").unwrap(), sink.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::error_span!(
                "command",
                request_id = 7u64,
                team_id = "T0001",
                odd = %Noisy,
                instance = tracing::field::Empty
            );
            span.record("instance", "whatsapp");
            span.in_scope(|| tracing::info!(outcome = "sent", "command finished"));
        });
        String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn text_lines_carry_the_span_fields_as_the_default_formatter_writes_them() {
        let logged = log_a_command(LogFormat::Text);
        let line = logged.lines().find(|l| l.contains("command finished")).expect(&logged);
        assert!(
            line.contains("command{request_id=7 team_id=\"T0001\" odd=noisy instance=\"whatsapp\"}: command finished outcome=\"sent\""),
            "{line}"
        );
        // tracing drops a line logged while a line or span is being
        // recorded; what matters is that formatting went on.
        assert!(!logged.contains("formatting a field"), "{logged}");
    }

    #[test]
    fn json_lines_carry_the_span_fields_with_those_recorded_later_merged_in() {
        let logged = log_a_command(LogFormat::Json);
        let line = logged.lines().find(|l| l.contains("command finished")).expect(&logged);
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let span = &value["span"];
        assert_eq!(span["request_id"], 7, "{line}");
        assert_eq!(span["team_id"], "T0001", "{line}");
        assert_eq!(span["odd"], "noisy", "{line}");
        assert_eq!(span["instance"], "whatsapp", "{line}");
        assert_eq!(value["outcome"], "sent", "{line}");
    }
}
