//! What a person meets first: the notice when the server is started by hand in a terminal,
//! `doctor` naming the directory it examined, and `--help` and the README agreeing.
#![allow(clippy::disallowed_methods)] // Reads README.md.

mod common;

use common::{Server, TempProject, BINARY};
use serde_json::json;
use std::process::{Command, Stdio};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

#[test]
fn a_terminal_on_stdin_gets_told_how_to_connect_a_client_and_is_served() {
    let project = TempProject::new("nc-tty");
    // `script` gives the server a pseudo-terminal as stdin; ^D after a pause ends the session.
    let command = format!("{BINARY} --project '{}'", project.path.display());
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("`script` (util-linux) runs");
    std::thread::sleep(std::time::Duration::from_millis(800));
    use std::io::Write;
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x04").expect("write ^D");
    drop(stdin);
    let output = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("stdin is a terminal"), "{text}");
    assert!(text.contains("speaks MCP"), "{text}");
    assert!(text.contains("codex-harness-mcp install"), "{text}");
    assert!(
        text.contains(BINARY),
        "the notice names the executable: {text}"
    );
    assert!(output.status.success(), "{:?}", output.status);
}

#[test]
fn piped_stdin_gets_no_terminal_notice() {
    let project = TempProject::new("nc-pipe");
    let output = Command::new(BINARY)
        .arg("--project")
        .arg(&project.path)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("stdin is a terminal"));
}

#[test]
fn doctor_names_the_project_it_examined_and_says_when_it_does_not_exist() {
    let project = TempProject::new("nc-doctor");
    let missing = project.path.join("not-yet");
    let run = |dir: &std::path::Path| {
        let output = Command::new(BINARY)
            .args(["doctor", "--project"])
            .arg(dir)
            .output()
            .expect("doctor");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let report = run(&project.path);
    assert!(
        report.contains(&format!("project: {}\n", project.path.display())),
        "{report}"
    );
    assert!(!report.contains("does not exist"), "{report}");
    let report = run(&missing);
    assert!(
        report.contains(&format!("project: {}\n", missing.display())),
        "{report}"
    );
    assert!(
        report.contains(&format!("{} does not exist", missing.display())),
        "{report}"
    );
    assert!(!missing.exists(), "doctor creates nothing");
}

#[test]
fn help_and_readme_name_the_same_subcommands() {
    let help = Command::new(BINARY).arg("--help").output().expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let readme = readme();
    for subcommand in ["serve", "doctor", "install", "uninstall"] {
        assert!(help.contains(subcommand), "--help lacks {subcommand}");
        assert!(
            readme.contains(&format!("`{subcommand}`")),
            "README lacks `{subcommand}`"
        );
    }
}

#[test]
fn readme_states_every_protocol_version_served() {
    let project = TempProject::new("nc-versions");
    let mut server = Server::start(&project.path);
    let readme = readme();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let reply = server.request(
            "initialize",
            json!({"protocolVersion": version, "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}),
        );
        assert_eq!(reply["result"]["protocolVersion"], version, "{reply}");
        assert!(readme.contains(version), "README lacks {version}");
    }
    assert!(readme.contains("2026-07-28"));
    assert_eq!(server.finish(), 0);
}
