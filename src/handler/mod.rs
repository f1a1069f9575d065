//! Transport-agnostic answers: each door (the HTTP route, Socket Mode)
//! authenticates and decodes its input, then calls the same function here.

pub mod messages;
mod slash_command;

pub use slash_command::{ArgumentsError, parse_text, slash_command};
