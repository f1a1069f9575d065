//! slack-sendcontact: a Slack slash command that sends a contact card into a
//! Telegram, WhatsApp or MAX chat through GREEN-API.

pub mod allowlist;
pub mod cli;
pub mod command;
pub mod config;
pub mod dispatch;
pub mod domain;
pub mod green_api;
pub mod handler;
pub mod http_client;
pub mod i18n;
pub mod instances;
mod messages;
pub mod metrics;
pub mod outcome;
mod routes;
pub mod slack;
pub mod socket_mode;
pub mod startup;
pub mod state;
pub mod telemetry;
