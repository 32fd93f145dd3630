//! The stdio streams themselves failing, driven through the real binary: a client that closes
//! the server's stdout while still writing requests, a stderr nobody reads, and standard
//! descriptors closed before the server starts.
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

mod common;

use common::{TempProject, BINARY};
use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn ping(id: u64) -> String {
    format!(
        "{}\n",
        json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
    )
}

/// Waits at most `limit` for `child` to exit.
fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// The write end of a pipe that has no reader: every write to it fails with `EPIPE`. (A FIFO
/// opened by both ends, then the read end closed, before the server is even spawned, so the
/// very first write the server makes meets it.)
fn pipe_without_reader(dir: &Path) -> File {
    use std::os::unix::fs::OpenOptionsExt;
    let fifo = dir.join("stderr.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(&fifo)
        .unwrap();
    let writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    drop(reader);
    std::fs::remove_file(&fifo).unwrap();
    writer
}

#[test]
fn a_client_that_closes_stdout_ends_the_session_at_the_first_failed_reply() {
    let project = TempProject::new("gone");
    let mut child = Command::new(BINARY)
        .arg("--project")
        .arg(&project.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = child.stderr.take().unwrap();
    let collector = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // stdin stays open for the whole test: only the failed write can end the session.
    let mut stdin = child.stdin.take().unwrap();
    let started = Instant::now();
    let mut status = None;
    for id in 0..200 {
        if stdin.write_all(ping(id).as_bytes()).is_err() {
            // The server has closed its stdin: it is exiting.
            status = wait_for_exit(&mut child, Duration::from_secs(2));
            break;
        }
        if let Some(exited) = child.try_wait().unwrap() {
            status = Some(exited);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server was still running {elapsed:?} after its stdout was closed");
    };
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert_eq!(status.code(), Some(1), "{status:?}");
    drop(stdin);
    let stderr = collector.join().unwrap();
    assert!(
        stderr.contains("codex-harness-mcp: the client closed stdout"),
        "{stderr}"
    );
}

#[test]
fn a_stderr_nobody_reads_never_stops_the_server() {
    let project = TempProject::new("deaf");
    let mut child = Command::new(BINARY)
        .arg("--project")
        .arg(&project.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(pipe_without_reader(&project.path))
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // A tool call that writes, a resource read, and pings; each must be answered although
    // every line the server logs (its posture line first of all) fails with EPIPE.
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "harness_bootstrap", "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "harness://state"}}),
    ];
    let mut expected = Vec::new();
    for request in &requests {
        writeln!(stdin, "{request}").unwrap();
        expected.push(request["id"].clone());
    }
    for id in 3..50 {
        stdin.write_all(ping(id).as_bytes()).unwrap();
        expected.push(json!(id));
    }
    for id in expected {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "no reply to {id}: {:?}",
            child.try_wait()
        );
        let reply: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(reply["id"], id);
        assert!(reply.get("result").is_some(), "{reply}");
    }
    drop(stdin);
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).expect("exit at EOF");
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// `sh -c 'exec BINARY --project P <redirection>'`: the server starts with one standard
/// descriptor closed.
fn start_with_closed(project: &Path, redirection: &str) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(format!("exec \"$0\" --project \"$1\" {redirection}"))
        .arg(BINARY)
        .arg(project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_closed_descriptor_at_start_up_gives_a_clear_exit_never_a_crash() {
    // The Rust runtime reopens a closed descriptor 0, 1 or 2 onto /dev/null before main, so
    // no file the server opens can take its number. Pin what that means for each stream.
    let project = TempProject::new("closed");

    // stdin closed: end of input at once, a clean exit.
    let mut child = start_with_closed(&project.path, "<&-");
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).expect("exit");
    assert_eq!(status.code(), Some(0), "stdin closed: {status:?}");

    // stderr closed: every reply arrives, exit 0 at EOF.
    let mut child = start_with_closed(&project.path, "2>&-");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for id in 0..20 {
        stdin.write_all(ping(id).as_bytes()).unwrap();
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "stderr closed");
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap()["id"], id);
    }
    drop(stdin);
    let status = wait_for_exit(&mut child, Duration::from_secs(10)).expect("exit");
    assert_eq!(status.code(), Some(0), "stderr closed: {status:?}");

    // stdout closed (or /dev/null): every reply would be lost, so the server refuses to start
    // and creates nothing.
    for redirection in [">&-", ">/dev/null"] {
        let project = TempProject::new("no-stdout");
        let child = start_with_closed(&project.path, redirection);
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{redirection}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("stdout is closed or /dev/null"),
            "{redirection}: {stderr}"
        );
        assert!(!project.harness().exists(), "{redirection}");
    }
}

#[test]
fn src_writes_outside_the_protocol_only_through_the_non_panicking_log_module() {
    let mut offenders = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (number, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    // `print!(` also matches `eprint!(`; `println!` and `eprintln!` likewise.
                    if code.contains("print!(") || code.contains("println!(") {
                        offenders.push(format!("{}:{}", path.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use log::line (stderr) or log::report (one-shot stdout) instead: {offenders:?}"
    );
}

/// The one-shot commands print through `log::report`: a stdout whose reader is gone is a
/// failed exit with status 1, never a panic (which the release profile turns into SIGABRT).
#[test]
fn one_shot_commands_on_a_broken_stdout_exit_1_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    for args in [
        &["--version"][..],
        &["--help"],
        &["install", "--list-clients"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = Command::new(BINARY)
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run the binary");
        assert_eq!(output.status.signal(), None, "{args:?} died by a signal");
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
