//! The HTTP surface.

mod health;
mod slack_commands;

pub use health::{healthz, readyz};
pub use slack_commands::slack_commands;

use actix_web::web;

/// Registers every route; shared by the server and in-process tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/slack/commands", web::post().to(slack_commands));
}
