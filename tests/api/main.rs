//! The service through its public surface: the app on port 0, wiremock
//! playing GREEN-API and Slack's response_url.

mod deferred;
mod faults;
mod hardening;
mod health;
mod helpers;
mod hostile;
mod instances;
mod metrics;
mod modal;
mod slack_commands;
mod socket_mode;
mod upstream_errors;
