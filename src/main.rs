//! The binary: parse arguments, then run the start-up sequence in order. Nothing else lives
//! here; every step is a library call so that tests and the self-test use the same code.
#![forbid(unsafe_code)]

use codex_harness_mcp::cli::{self, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("codex-harness-mcp: {error}\n\n{}", cli::HELP);
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Version => {
            println!("codex-harness-mcp {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Help => {
            print!("{}", cli::HELP);
            ExitCode::SUCCESS
        }
        Command::Serve(_) | Command::Doctor { .. } | Command::ConfinementSelftest(_) => {
            eprintln!("codex-harness-mcp: not wired yet");
            ExitCode::from(2)
        }
    }
}
