//! The binary: parse arguments, then run the start-up sequence in order. Nothing else lives
//! here; every step is a library call so that tests and the self-test use the same code.
#![forbid(unsafe_code)]

use codex_harness_mcp::cli::{self, Command};
use codex_harness_mcp::confine;
use codex_harness_mcp::harness::knowledge;
use codex_harness_mcp::install::{self, Action};
use codex_harness_mcp::protocol::Server;
use codex_harness_mcp::sanitize::Redactor;
use codex_harness_mcp::store::{self, Store};
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
        Command::Install(options) => ExitCode::from(install::run(Action::Install, &options)),
        Command::Uninstall(options) => ExitCode::from(install::run(Action::Uninstall, &options)),
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
        Command::Serve(options) => match serve(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("codex-harness-mcp: {error}");
                ExitCode::from(1)
            }
        },
    }
}

/// The start-up order of DESIGN.md: resolve and pin the project, open its harness directory
/// (the last absolute path this process resolves), harden the process, confine it, and only
/// then read the first byte of stdin.
fn serve(options: &cli::ServeOptions) -> Result<(), String> {
    let project = options
        .project_dir()
        .map_err(|e| format!("cannot determine the project directory: {e}"))?;
    let store =
        Store::open(&project).map_err(|e| format!("cannot open the harness directory: {e}"))?;
    // Before confinement: telling a dead writer's temp file from a live one's needs
    // kill(pid, 0), which the seccomp filter and Landlock's signal scoping forbid.
    let reaped = store.reap_temp_files(&store::process_exists);
    // Before confinement too: the seccomp allow-list has no statfs.
    let filesystem = confine::filesystem_of(store.root_fd());
    let filesystem_warning = confine::local_fs_check(
        filesystem.as_ref().map_err(|e| *e),
        options.local_fs_required(),
    )?;
    confine::harden_process().map_err(|e| format!("process hardening failed: {e}"))?;
    let stdout = std::io::stdout();
    let output = stdout.lock();
    let posture = confine::apply(
        store.root_fd(),
        &confine::ConfineOptions {
            disabled: options.no_confinement,
            required: options.require_confinement,
        },
    )
    .map_err(|e| e.to_string())?;
    eprintln!(
        "{}",
        posture.stderr_line(env!("CARGO_PKG_VERSION"), &project.to_string_lossy())
    );
    for warning in posture.warnings() {
        eprintln!("{warning}");
    }
    if let Some(warning) = &filesystem_warning {
        eprintln!("{warning}");
    }
    if reaped > 0 {
        eprintln!("codex-harness-mcp: removed {reaped} orphaned temp file(s)");
    }
    let redactor = Redactor::new(
        [
            Some(project.to_string_lossy().into_owned()),
            std::env::var("CODEX_WORKDIR").ok(),
            std::env::var("PWD").ok(),
            Some(store.launch_dir().to_string_lossy().into_owned()),
        ]
        .into_iter()
        .flatten(),
    );
    let server = Server::new(store, redactor, posture.to_json());
    server
        .serve(std::io::stdin().lock(), output)
        .map_err(|e| format!("stdio failed: {e}"))?;
    // Clean exit: fold the knowledge journal into index.json so a Node server sees every item.
    // Failing here loses nothing (the journal stays and is folded in later), and every request
    // was answered, so it is a warning, not a failed session.
    if let Err(error) = knowledge::compact_if_pending(&server.store) {
        let message = server.redactor.redact(&error.0);
        eprintln!("codex-harness-mcp: warning: knowledge index not compacted at exit: {message}");
    }
    Ok(())
}
