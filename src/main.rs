use std::process::ExitCode;

use clap::Parser;
use slack_sendcontact::cli::{self, Cli};

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
