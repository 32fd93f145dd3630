#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.
//! End to end with a real third-party client: the official MCP Python SDK, which validates
//! every result against the protocol schema and every tool result against its
//! outputSchema, in each of its three connect modes: `legacy` (the `initialize` handshake),
//! `auto` (`server/discover`, which must land on 2026-07-28) and pinned to 2026-07-28. The
//! SDK is installed (pinned) into one virtual environment under `target/` on first use; that
//! needs Python 3 and access to PyPI, and the tests fail loudly without them.

mod common;

use common::{TempProject, BINARY};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const SDK_REQUIREMENT: &str = "mcp==2.3.0";

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// The venv's python, creating the venv and installing the SDK the first time. The tests of
/// this binary run in parallel; the lock makes the first one install and the others wait.
fn sdk_python() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _installing = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcp-sdk-venv");
    let python = venv.join("bin/python");
    let marker = venv.join(format!("installed-{SDK_REQUIREMENT}"));
    if !marker.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", SDK_REQUIREMENT]));
        std::fs::write(&marker, "").unwrap();
    }
    python
}

/// Runs the SDK client in one connect mode (see tests/e2e/mcp_sdk_client.py) against a fresh
/// project: every tool, resource page, template, prompt and completion, each result validated
/// by the SDK against the schema of the version the mode negotiated.
fn sdk_session(mode: &str) {
    let python = sdk_python();
    let project = TempProject::new("sdk");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/mcp_sdk_client.py");
    let output = Command::new(python)
        .arg(script)
        .arg(BINARY)
        .arg(&project.path)
        .arg(mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failed.is_empty(),
        "{failed:#?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("sdk e2e {mode}: ")) && summary.ends_with(" 0 failures"),
        "{stdout}"
    );
    assert!(output.status.success());
    eprintln!("{summary}");
}

#[test]
fn the_sdk_in_legacy_mode_negotiates_2025_11_25_and_everything_validates() {
    sdk_session("legacy");
}

#[test]
fn the_sdk_in_auto_mode_discovers_2026_07_28_and_everything_validates() {
    sdk_session("auto");
}

#[test]
fn the_sdk_pinned_to_2026_07_28_serves_everything_statelessly_and_it_validates() {
    sdk_session("2026-07-28");
}
