#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs; the rule is for the server.
//! Confinement, proven on the running kernel: the built binary's hidden
//! `__confinement-selftest` confines itself exactly as serve does, attempts each forbidden act
//! and reports. These tests fail (never skip) when a layer is not enforced: the hosts this
//! project is built and tested on have Landlock, seccomp and openat2.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_codex-harness-mcp");

/// A fresh project directory under the system temp dir, with a README in its root (outside
/// the confined tree).
fn temp_project(tag: &str) -> PathBuf {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).expect("getrandom");
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("codex-harness-{tag}-{hex}"));
    std::fs::create_dir_all(&dir).expect("create temp project");
    std::fs::write(dir.join("README.md"), "outside the tree\n").expect("write README");
    dir
}

struct SelfTest {
    project: PathBuf,
    report: Value,
    exit_code: Option<i32>,
}

/// Runs the self-test once for this test binary (confinement cannot be undone, so it runs in
/// its own process) and shares the report.
fn selftest() -> &'static SelfTest {
    static RUN: OnceLock<SelfTest> = OnceLock::new();
    RUN.get_or_init(|| {
        let project = temp_project("selftest");
        let output = Command::new(BIN)
            .args(["__confinement-selftest", "--project"])
            .arg(&project)
            .output()
            .expect("run the self-test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "self-test did not print one JSON object ({e}); stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        SelfTest {
            project,
            report,
            exit_code: output.status.code(),
        }
    })
}

fn attempt(name: &str) -> &'static Value {
    let attempt = &selftest().report["attempts"][name];
    assert!(
        attempt.is_object(),
        "no attempt {name} in {}",
        selftest().report
    );
    attempt
}

fn assert_denied(name: &str, errors: &[&str]) {
    let attempt = attempt(name);
    assert_eq!(attempt["allowed"], false, "{name} was allowed: {attempt}");
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(
        errors.contains(&error),
        "{name}: unexpected error {attempt}"
    );
}

fn assert_allowed(name: &str) {
    let attempt = attempt(name);
    assert_eq!(attempt["allowed"], true, "{name} was denied: {attempt}");
}

fn project() -> &'static Path {
    &selftest().project
}

#[test]
fn posture_reports_every_layer_enforced() {
    let posture = &selftest().report["posture"];
    assert_eq!(posture["landlock"]["state"], "enforced", "{posture}");
    assert!(
        posture["landlock"]["abi"].as_i64().unwrap_or(0) >= 1,
        "{posture}"
    );
    assert_eq!(posture["noNewPrivs"]["state"], "enforced", "{posture}");
    assert_eq!(posture["seccomp"]["state"], "enforced", "{posture}");
    assert_eq!(
        posture["seccomp"]["defaultAction"], "errno(EPERM)",
        "{posture}"
    );
    assert_eq!(posture["openat2"], true, "{posture}");
    assert_eq!(posture["fullyEnforced"], true, "{posture}");
}

#[test]
fn selftest_passes_and_exits_zero() {
    assert_eq!(selftest().report["passed"], true, "{}", selftest().report);
    assert_eq!(selftest().exit_code, Some(0));
}

#[test]
fn reading_etc_passwd_is_denied_by_landlock() {
    // EACCES (not EPERM) shows the denial is Landlock's: openat itself is on the allow-list.
    assert_denied("read_etc_passwd", &["EACCES"]);
}

#[test]
fn writing_next_to_the_harness_dir_is_denied_and_leaves_no_file() {
    assert_denied("write_project_root", &["EACCES"]);
    assert!(!project().join("codex-harness-selftest-escape").exists());
}

#[test]
fn writing_inside_the_harness_dir_is_allowed_and_cleaned_up() {
    assert_allowed("write_inside_harness");
    let leftovers: Vec<_> = std::fs::read_dir(project().join(".codex-harness"))
        .expect("harness dir exists")
        .collect();
    assert!(leftovers.is_empty(), "self-test left files: {leftovers:?}");
}

#[test]
fn socket_af_inet_is_denied_after_confinement() {
    assert_denied("socket_inet", &["EPERM"]);
}

#[test]
fn socket_af_inet6_is_denied_after_confinement() {
    assert_denied("socket_inet6", &["EPERM"]);
}

#[test]
fn socket_af_unix_is_denied_after_confinement() {
    assert_denied("socket_unix", &["EPERM"]);
}

#[test]
fn tcp_connect_to_a_listening_loopback_port_is_denied() {
    assert_denied("connect_tcp_loopback", &["EPERM", "EACCES"]);
}

#[test]
fn executing_bin_true_is_denied() {
    assert_denied("exec_bin_true", &["EPERM", "EACCES"]);
}

#[test]
fn stat_of_a_project_file_outside_the_tree_still_works() {
    assert_allowed("stat_outside_tree");
    assert_eq!(attempt("stat_outside_tree")["target"], "README.md");
}

#[test]
fn getrandom_still_works_after_confinement() {
    assert_allowed("getrandom");
}

#[test]
fn proc_status_shows_no_new_privs_and_seccomp_filter_mode() {
    let status = attempt("proc_status");
    assert_eq!(status["NoNewPrivs"], "1", "{status}");
    assert_eq!(status["Seccomp"], "2", "{status}");
    let filters: i64 = status["Seccomp_filters"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(filters >= 1, "{status}");
}

#[test]
fn no_confinement_flag_applies_nothing_and_says_so() {
    let project = temp_project("noconf");
    let output = Command::new(BIN)
        .args(["__confinement-selftest", "--no-confinement", "--project"])
        .arg(&project)
        .output()
        .expect("run the self-test");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["posture"]["landlock"]["state"], "disabled");
    assert_eq!(report["posture"]["seccomp"]["state"], "disabled");
    assert_eq!(report["passed"], false);
    assert_eq!(output.status.code(), Some(1));
    assert!(!project.join("codex-harness-selftest-escape").exists());
}

#[test]
fn harness_dir_that_is_a_symlink_is_refused() {
    let project = temp_project("symlink");
    let elsewhere = temp_project("symlink-target");
    std::os::unix::fs::symlink(&elsewhere, project.join(".codex-harness")).expect("symlink");
    let output = Command::new(BIN)
        .args(["__confinement-selftest", "--project"])
        .arg(&project)
        .output()
        .expect("run the self-test");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains(".codex-harness"));
}

#[test]
fn doctor_reports_landlock_abi_and_project_filesystem_and_exits_zero() {
    let project = temp_project("doctor");
    let output = Command::new(BIN)
        .args(["doctor", "--project"])
        .arg(&project)
        .output()
        .expect("run doctor");
    let report = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("landlock: available, ABI "), "{report}");
    assert!(
        report.contains("seccomp: filter mode available"),
        "{report}"
    );
    assert!(report.contains("openat2: available"), "{report}");
    assert!(report.contains("project filesystem: "), "{report}");
    assert!(report.contains("full confinement is possible"), "{report}");
}

#[test]
fn require_confinement_starts_on_a_fully_confinable_host() {
    let project = temp_project("required");
    let output = Command::new(BIN)
        .args([
            "__confinement-selftest",
            "--require-confinement",
            "--project",
        ])
        .arg(&project)
        .output()
        .expect("run the self-test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["posture"]["fullyEnforced"], true);
}
