//! The binary: parse arguments, then run the start-up sequence in order. Nothing else lives
//! here; every step is a library call so that tests and the self-test use the same code.
#![forbid(unsafe_code)]

use codex_harness_mcp::cli::{self, Command};
use codex_harness_mcp::confine;
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
        Command::Doctor { project } => {
            let (report, confinable) = confine::doctor(project.as_deref());
            print!("{report}");
            if confinable {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::ConfinementSelftest(options) => match confine::selftest(&options) {
            Ok((report, passed)) => {
                println!("{report}");
                if passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(error) => {
                eprintln!("codex-harness-mcp: confinement self-test: {error}");
                ExitCode::from(2)
            }
        },
        Command::Serve(_) => {
            eprintln!("codex-harness-mcp: not wired yet");
            ExitCode::from(2)
        }
    }
}
