#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.
//! End to end with a real third-party client: the official MCP Python SDK, which validates
//! every message against the protocol schema and every tool result against its
//! outputSchema. The SDK is installed (pinned) into a virtual environment under `target/` on
//! first use; that needs Python 3 and access to PyPI, and the test fails loudly without them.

mod common;

use common::{TempProject, BINARY};
use std::path::{Path, PathBuf};
use std::process::Command;

const SDK_REQUIREMENT: &str = "mcp==2.3.0";

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// The venv's python, creating the venv and installing the SDK the first time.
fn sdk_python() -> PathBuf {
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

#[test]
fn the_official_python_sdk_lists_calls_and_reads_everything_without_a_failure() {
    let python = sdk_python();
    let project = TempProject::new("sdk");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/mcp_sdk_client.py");
    let output = Command::new(python)
        .arg(script)
        .arg(BINARY)
        .arg(&project.path)
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
        summary.starts_with("sdk e2e: ") && summary.ends_with(" 0 failures"),
        "{stdout}"
    );
    assert!(output.status.success());
    eprintln!("{summary}");
}
