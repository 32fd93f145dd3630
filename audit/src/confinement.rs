//! Host and kernel layers: network filesystems, seccomp, Landlock and exhaustion (E5, X-17,
//!

use crate::ensure;
use crate::harness::{
    boot, ok_payload, proc_status_field, server_binary, Fixture, Outcome, Session,
};
use serde_json::{json, Value};
use std::process::Command;

/// Runs the binary's confinement self-test for the fixture's project.
pub fn selftest(fx: &Fixture) -> Result<Value, String> {
    let output = Command::new(server_binary())
        .args(["__confinement-selftest", "--project"])
        .arg(&fx.project)
        .output()
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&output.stdout).map_err(|e| format!("self-test output: {e}"))
}

/// E5 — hypothesis: a project on NFS/CIFS silently gets unreliable locks and renames.
/// Replayed with what this host offers (a network filesystem cannot be mounted here; the
/// network case is unit-tested in the server's start-up decision): `doctor` names the
/// project's filesystem without a warning; start-up on a local filesystem prints no
/// network-filesystem warning, and still serves with `--require-local-fs` or
/// `HARNESS_REQUIRE_LOCAL_FS=1`; `--help` documents `--require-local-fs`.
pub fn e5() -> Outcome {
    let fx = Fixture::new("e5");
    let output = Command::new(server_binary())
        .args(["doctor", "--project"])
        .arg(&fx.project)
        .output()
        .map_err(|e| e.to_string())?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = report
        .lines()
        .find(|l| l.starts_with("project filesystem:"))
        .ok_or("doctor has no project filesystem line")?
        .to_string();
    ensure!(
        !line.contains("WARNING"),
        "local filesystem flagged: {line}"
    );
    let help = Command::new(server_binary())
        .arg("--help")
        .output()
        .map_err(|e| e.to_string())?;
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    ensure!(
        help.contains("--require-local-fs") && help.contains("HARNESS_REQUIRE_LOCAL_FS"),
        "--help does not document --require-local-fs"
    );
    let launches = [
        ("plain", crate::harness::Launch::default()),
        (
            "--require-local-fs",
            crate::harness::Launch {
                args: vec!["--require-local-fs".into()],
                ..Default::default()
            },
        ),
        (
            "HARNESS_REQUIRE_LOCAL_FS=1",
            crate::harness::Launch {
                env: vec![("HARNESS_REQUIRE_LOCAL_FS".into(), "1".into())],
                ..Default::default()
            },
        ),
    ];
    for (label, launch) in launches {
        let mut s = Session::launch(&fx, &launch);
        let reply = s.ask(1, "ping", json!({}))?;
        ensure!(reply["result"] == json!({}), "{label}: ping {reply}");
        let done = s.finish()?;
        ensure!(
            !done.stderr.contains("network filesystem")
                && !done.stderr.contains("filesystem (statfs"),
            "{label}: local project warned at start-up: {}",
            done.stderr
        );
    }
    fx.verify()?;
    Ok(format!(
        "doctor: \"{line}\"; local fs: no start-up warning, serves with --require-local-fs and HARNESS_REQUIRE_LOCAL_FS=1; flag in --help (NFS itself not mountable here)"
    ))
}

/// hypothesis: after start-up the process may still open sockets, exec or fork.
pub fn x_17() -> Outcome {
    let fx = Fixture::new("x17");
    let s = boot(&fx)?;
    let pid = s.pid();
    let nnp = proc_status_field(pid, "NoNewPrivs:").unwrap_or_default();
    let mode = proc_status_field(pid, "Seccomp:").unwrap_or_default();
    let filters = proc_status_field(pid, "Seccomp_filters:")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    s.finish()?;
    ensure!(
        nnp == "1" && mode == "2" && filters >= 1,
        "NoNewPrivs {nnp} Seccomp {mode} filters {filters}"
    );
    let report = selftest(&fx)?;
    for act in [
        "socket_inet",
        "socket_inet6",
        "socket_unix",
        "connect_tcp_loopback",
        "exec_bin_true",
    ] {
        let attempt = &report["attempts"][act];
        ensure!(
            attempt["allowed"] == false && attempt["error"] == "EPERM",
            "{act}: {attempt}"
        );
    }
    fx.verify()?;
    Ok(format!(
        "NoNewPrivs 1, Seccomp 2, {filters} filter(s); socket/connect/exec EPERM"
    ))
}

/// hypothesis: the process can read or write outside `.codex-harness`.
pub fn x_18() -> Outcome {
    let fx = Fixture::new("x18");
    let report = selftest(&fx)?;
    for act in ["read_etc_passwd", "write_project_root"] {
        let attempt = &report["attempts"][act];
        ensure!(
            attempt["allowed"] == false && attempt["error"] == "EACCES",
            "{act}: {attempt}"
        );
    }
    ensure!(
        report["attempts"]["write_inside_harness"]["allowed"] == true,
        "tree not writable"
    );
    ensure!(
        report["posture"]["landlock"]["state"] == "enforced",
        "landlock {}",
        report["posture"]["landlock"]
    );
    ensure!(
        !fx.project.join("codex-harness-selftest-escape").exists(),
        "escape file created"
    );
    let mut s = boot(&fx)?;
    let posture = s.ask(5, "initialize", json!({"protocolVersion": "2025-06-18"}))?;
    s.finish()?;
    ensure!(
        posture.to_string().contains("\"fullyEnforced\":true"),
        "posture not fully enforced"
    );
    fx.verify()?;
    Ok("read /etc/passwd and write next to H: EACCES; tree writable; Landlock enforced".into())
}

/// hypothesis: descriptor exhaustion or request floods wedge the server or leak locks.
pub fn x_19() -> Outcome {
    let fx = Fixture::new("x19");
    let mut s = boot(&fx)?;
    s.limit(rustix::process::Resource::Nofile, 32);
    for n in 0..200 {
        s.call(
            100 + n,
            "harness_record_knowledge",
            json!({"title": format!("Flood {n}"), "content": "f"}),
        );
    }
    let mut flood = String::new();
    for n in 0..20_000 {
        flood.push_str(&format!(
            "{}\n",
            json!({"jsonrpc": "2.0", "id": 10_000 + n, "method": "ping"})
        ));
        s.expect_id(json!(10_000 + n));
    }
    s.send_raw(flood.as_bytes());
    let (mut ok, mut err) = (0, 0);
    for n in 0..200 {
        if ok_payload(&s.reply(100 + n)?).is_ok() {
            ok += 1
        } else {
            err += 1
        }
    }
    for n in 0..20_000 {
        s.reply(10_000 + n)?;
    }
    let rss = crate::harness::peak_rss_kib(s.pid()).unwrap_or(0);
    s.ask(99_999, "ping", json!({}))?;
    s.finish()?;
    ensure!(rss < 128 * 1024, "VmHWM {rss} KiB");
    fx.verify()?;
    Ok(format!(
        "NOFILE 32: {ok} OK / {err} TOOLERR of 200 writes; 20,000 pings answered; VmHWM {rss} KiB"
    ))
}
