//! Transport-agnostic answers: each door (the HTTP route, Socket Mode)
//! authenticates and decodes its input, then calls the same function here.

mod form;
mod interaction;
mod language;
mod slash_command;

pub use interaction::interaction;
pub use language::language_for;
pub use slash_command::{ArgumentsError, parse_text, slash_command};
