//! `handler::parse_text` on arbitrary text: never a panic, and whatever it
//! accepts is sendable (phone of 7-15 digits, names non-empty, trimmed, at
//! most 256 characters, no control characters, an upstream body that carries
//! exactly those values), and every refusal is a bounded message.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(text) => common::check_command_text(text),
        // Form decoding replaces broken UTF-8 the same way.
        Err(_) => common::check_command_text(&String::from_utf8_lossy(data)),
    }
});
