//! The HTTP surface.

mod health;
mod metrics;
mod slack_commands;
mod slack_interactions;
mod slack_request;

pub use health::{healthz, readyz};
pub use metrics::metrics;
pub use slack_commands::slack_commands;
pub use slack_interactions::slack_interactions;

use actix_web::web;

/// Registers every route but `/metrics`; shared by the server and
/// in-process tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/slack/commands", web::post().to(slack_commands))
        .route("/slack/interactions", web::post().to(slack_interactions));
}

/// `/metrics`: on the main listener, or alone on METRICS_PORT.
pub fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}
