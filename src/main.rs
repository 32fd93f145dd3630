//! The binary: parse arguments, then run the start-up sequence in order. Nothing else lives
//! here; every step is a library call so that tests and the self-test use the same code.
#![forbid(unsafe_code)]

use codex_harness_mcp::cli::{self, Command};
use codex_harness_mcp::confine;
use codex_harness_mcp::install::{self, Action};
use codex_harness_mcp::log;
use codex_harness_mcp::protocol::Server;
use codex_harness_mcp::sanitize::Redactor;
use codex_harness_mcp::signals;
use codex_harness_mcp::store::{self, Store};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            log::line(format_args!("codex-harness-mcp: {error}\n\n{}", cli::HELP));
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Version => reported(format_args!(
            "codex-harness-mcp {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        Command::Help => reported(cli::HELP),
        Command::Doctor { project } => {
            let (report, confinable) = confine::doctor(project.as_deref());
            if !log::report(report) {
                ExitCode::FAILURE
            } else if confinable {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Install(options) => ExitCode::from(install::run(Action::Install, &options)),
        Command::Uninstall(options) => ExitCode::from(install::run(Action::Uninstall, &options)),
        Command::Fsck(options) => ExitCode::from(codex_harness_mcp::fsck::run(&options)),
        Command::ConfinementSelftest(options) => match confine::selftest(&options) {
            Ok((report, passed)) => {
                if !log::report(format_args!("{report}\n")) {
                    ExitCode::FAILURE
                } else if passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(error) => {
                log::line(format_args!(
                    "codex-harness-mcp: confinement self-test: {error}"
                ));
                ExitCode::from(2)
            }
        },
        Command::Serve(options) => match serve(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                log::line(format_args!("codex-harness-mcp: {error}"));
                ExitCode::from(1)
            }
        },
    }
}

/// Exit status of a command whose whole job is to print `text`.
fn reported(text: impl std::fmt::Display) -> ExitCode {
    if log::report(text) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The start-up order of DESIGN.md: close every descriptor the launcher left open above 2,
/// resolve and pin the project, open its harness directory (the last absolute path this
/// process resolves), harden the process, confine it, and only then read the first byte of
/// stdin.
fn serve(options: &cli::ServeOptions) -> Result<(), String> {
    let inherited = confine::descriptors::close_inherited();
    // Before anything else can be interrupted, and before confinement (no signalfd4 after).
    let termination = signals::Termination::install()
        .map_err(|e| format!("cannot set up the termination signals: {e}"))?;
    refuse_discarded_stdout()?;
    let project = options
        .project_dir()
        .map_err(|e| format!("cannot determine the project directory: {e}"))?;
    if let Some(log) = &options.record_store_ops {
        // Before the store opens (its first operation is creating `.codex-harness/`) and
        // before confinement: the one extra file a recording server can write.
        store::start_op_log(log).map_err(|e| format!("cannot record store operations: {e}"))?;
        log::line(format_args!(
            "codex-harness-mcp: recording every store operation to {} (testing only)",
            log.display()
        ));
    }
    let store =
        Store::open(&project).map_err(|e| format!("cannot open the harness directory: {e}"))?;
    // Before confinement too: the seccomp allow-list has no statfs.
    let filesystem = confine::filesystem_of(store.root_fd());
    let filesystem_warning = confine::local_fs_check(
        filesystem.as_ref().map_err(|e| *e),
        options.local_fs_required(),
    )?;
    // Before confinement: naming the executable reads /proc/self/exe.
    let terminal_notice = std::io::stdin()
        .is_terminal()
        .then(|| terminal_notice(&project));
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
    log::line(posture.stderr_line(env!("CARGO_PKG_VERSION"), &project.to_string_lossy()));
    for warning in posture.warnings() {
        log::line(warning);
    }
    if let Some(warning) = &filesystem_warning {
        log::line(warning);
    }
    if let Some(notice) = &terminal_notice {
        log::line(notice);
    }
    if inherited > 0 {
        log::line(format_args!(
            "codex-harness-mcp: closed {inherited} inherited descriptor(s) above stderr"
        ));
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
    // A failed reply write ends the session with status 1: a reply the client asked for was
    // not delivered, so a supervisor must not mistake it for the clean end of input.
    let served = server.serve(std::io::stdin().lock(), output, Some(termination));
    // Either way (end of input, a terminating signal, a failed write), write the knowledge
    // index.json so a Node server sees the newest items (and reap, if no pause came).
    server.tidy("at exit");
    served.map_err(|e| e.to_string())
}

/// What a person who started the server by hand in a terminal needs to know.
fn terminal_notice(project: &std::path::Path) -> String {
    let exe = std::env::current_exe()
        .map_or_else(|_| "codex-harness-mcp".into(), |p| p.display().to_string());
    format!(
        "codex-harness-mcp: stdin is a terminal. This server speaks MCP (JSON-RPC 2.0, one \
         message per line) on stdin/stdout and is meant to be started by an MCP client. To \
         connect one, run `codex-harness-mcp install`, or give the client the command \
         {exe:?} with the arguments [\"--project\", {:?}] (see --help). Serving anyway; \
         Ctrl-D or Ctrl-C ends the session.",
        project.display().to_string()
    )
}

/// stdout carries every reply. When it is `/dev/null` (which is also what the Rust runtime
/// makes of a stdout that was closed before start-up), every request would still run and
/// every answer be lost, so the server refuses to start instead. (A closed stdin becomes
/// `/dev/null` too: end of input at once, exit 0; a closed stderr only loses log lines.)
/// `/dev/null` is recognised by its fixed device number (character device 1:3 on Linux), so
/// no path is looked up.
fn refuse_discarded_stdout() -> Result<(), String> {
    use rustix::fs::{fstat, makedev, FileType};
    let Ok(out) = fstat(std::io::stdout()) else {
        return Ok(());
    };
    let is_char_device = FileType::from_raw_mode(out.st_mode) == FileType::CharacterDevice;
    if is_char_device && out.st_rdev == makedev(1, 3) {
        return Err(
            "stdout is closed or /dev/null, so no reply could reach the client; refusing to start"
                .into(),
        );
    }
    Ok(())
}
