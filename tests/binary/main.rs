//! The real binary, as an admin or a container host runs it.

mod admin;
mod dotenv;
mod hardening;
mod healthcheck;
mod instances;
mod logs;
mod process;
mod secrets;
mod shutdown;
mod socket_mode;
mod tls;
