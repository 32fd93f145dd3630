//! Round 10, the protocol edges (R10-9 … R10-12, R10-16): a client that goes away, ids that
//! must come back byte for byte, duplicate keys, the installer's file modes, and a logging
//! failure that must never stop the server.

use crate::ensure;
use crate::harness::{server_binary, Fixture, Outcome};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Every entry beneath `dir` with its permission bits (symlinks not followed).
fn modes_beneath(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        out.push((
            entry.path().display().to_string(),
            meta.is_dir(),
            meta.permissions().mode() & 0o7777,
        ));
        if meta.is_dir() {
            modes_beneath(&entry.path(), out);
        }
    }
}

/// R10-12 — hypothesis: run under `umask 000`, the installer creates configuration files and
/// directories other users can write (and so make the client run their command).
pub fn r10_12() -> Outcome {
    let fx = Fixture::new("r10-12");
    let home = fx.other.join("home");
    let codex_home = home.join("codex");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let output = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(server_binary())
        .args(["install", "--clients", "all"])
        .env("HOME", &home)
        .env("CODEX_HOME", &codex_home)
        .env_remove("CODEX_WORKDIR")
        .current_dir(&fx.project)
        .output()
        .map_err(|e| e.to_string())?;
    ensure!(
        output.status.code() == Some(0),
        "install exited {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut modes = Vec::new();
    modes_beneath(&home, &mut modes);
    modes_beneath(&fx.project, &mut modes);
    let (mut files, mut dirs) = (0, 0);
    for (path, is_dir, mode) in &modes {
        let expected = if *is_dir { 0o700 } else { 0o600 };
        ensure!(
            *mode == expected,
            "{path} created {mode:o}, want {expected:o}"
        );
        if *is_dir {
            dirs += 1;
        } else {
            files += 1;
        }
    }
    ensure!(files == 10, "{files} files created: {modes:?}");
    Ok(format!(
        "umask 000: {files} files 0600, {dirs} directories 0700, nothing group/world-accessible"
    ))
}

fn ping_line(id: u64) -> String {
    format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n")
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> Result<Option<ExitStatus>, String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(None)
}

fn spawn_server(fx: &Fixture, stderr: Stdio) -> Result<Child, String> {
    Command::new(server_binary())
        .current_dir(&fx.project)
        .env("PWD", &fx.other)
        .env_remove("CODEX_WORKDIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| e.to_string())
}

/// R10-9 — hypothesis: a client that closes the server's stdout but keeps writing to its
/// stdin has every later request executed (and its answer thrown away) until it stops writing.
pub fn r10_9() -> Outcome {
    let fx = Fixture::new("r10-9");
    let mut child = spawn_server(&fx, Stdio::piped())?;
    drop(child.stdout.take());
    let mut stderr = child.stderr.take().ok_or("stderr pipe")?;
    let collector = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdin = child.stdin.take().ok_or("stdin pipe")?;
    let started = Instant::now();
    let mut status = None;
    // One harmless request first, then trace writes that must never run once the reply to
    // the first one has failed.
    let _ = stdin.write_all(ping_line(0).as_bytes());
    for id in 1..400u64 {
        let trace = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"harness_record_trace\",\"arguments\":{{\"kind\":\"attempt\",\"summary\":\"after close {id}\",\"raw\":\"r\"}}}}}}\n"
        );
        if stdin.write_all(trace.as_bytes()).is_err() {
            break;
        }
        if let Some(exited) = child.try_wait().map_err(|e| e.to_string())? {
            status = Some(exited);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = match status {
        Some(status) => Some(status),
        None => wait_for_exit(&mut child, Duration::from_secs(2))?,
    };
    let elapsed = started.elapsed();
    drop(stdin);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "still serving {elapsed:?} after its stdout was closed"
        ));
    };
    let stderr = collector.join().map_err(|_| "stderr thread")?;
    ensure!(
        status.code() == Some(1),
        "exit {status:?} (want 1: a reply went undelivered)"
    );
    ensure!(
        stderr.contains("the client closed stdout"),
        "no clear stderr line: {stderr}"
    );
    let traces = fx.list("traces").len();
    ensure!(
        traces == 0,
        "{traces} traces recorded after the first reply failed"
    );
    Ok(format!(
        "exit 1 after {} ms, {traces} trace(s) run after the close, stderr says why",
        elapsed.as_millis()
    ))
}

/// R10-16 — hypothesis: a client that closes the read end of the server's stderr kills it
/// at the next log line (`eprintln!` panics on EPIPE, and a panic aborts).
pub fn r10_16() -> Outcome {
    use std::os::unix::fs::OpenOptionsExt;
    let fx = Fixture::new("r10-16");
    let fifo = fx.other.join("stderr.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map_err(|e| e.to_string())?;
    ensure!(made.success(), "mkfifo failed");
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(&fifo)
        .map_err(|e| e.to_string())?;
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .map_err(|e| e.to_string())?;
    // From here on every write to `writer` fails with EPIPE, the server's first log line too.
    drop(reader);
    std::fs::remove_file(&fifo).map_err(|e| e.to_string())?;
    let mut child = spawn_server(&fx, Stdio::from(writer))?;
    let mut stdin = child.stdin.take().ok_or("stdin pipe")?;
    let stdout = child.stdout.take().ok_or("stdout pipe")?;
    let count = 30u64;
    for id in 0..count {
        let _ = stdin.write_all(ping_line(id).as_bytes());
    }
    drop(stdin);
    let mut answered = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        ensure!(
            line.contains(&format!("\"id\":{answered},\"result\"")),
            "reply {answered}: {line}"
        );
        answered += 1;
    }
    let status = wait_for_exit(&mut child, Duration::from_secs(10))?.ok_or("no exit after EOF")?;
    ensure!(answered == count, "{answered} of {count} pings answered");
    ensure!(
        status.code() == Some(0),
        "exit {status:?} with stderr broken"
    );
    fx.verify()?;
    Ok(format!("stderr EPIPE: {answered}/{count} answered, exit 0"))
}

/// Sends `lines` to a fresh server, closes stdin and returns every stdout line as written.
fn raw_exchange(fx: &Fixture, lines: &[String]) -> Result<Vec<String>, String> {
    let mut child = spawn_server(fx, Stdio::null())?;
    let mut stdin = child.stdin.take().ok_or("stdin pipe")?;
    let stdout = child.stdout.take().ok_or("stdout pipe")?;
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let replies: Vec<String> = BufReader::new(stdout)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    writer.join().map_err(|_| "writer thread")?;
    let status = wait_for_exit(&mut child, Duration::from_secs(10))?.ok_or("no exit at EOF")?;
    ensure!(status.code() == Some(0), "exit {status:?}");
    Ok(replies)
}

/// R10-10 — hypothesis: numeric ids are re-printed through a double, so a client's id comes
/// back altered (`18446744073709551617` as `18446744073709552000`, `-0` as `0`, `1e2` as
/// `100`) and two distinct requests get replies it cannot tell apart.
pub fn r10_10() -> Outcome {
    let fx = Fixture::new("r10-10");
    let ids = [
        "18446744073709551617",
        "18446744073709551616",
        "9007199254740993",
        "9007199254740992",
        "-0",
        "0",
        "1e2",
        "100",
        "1.0",
        "1",
        "\"a\\u0062\"",
        "\"ab\"",
    ];
    let lines: Vec<String> = ids
        .iter()
        .map(|id| format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}"))
        .collect();
    let replies = raw_exchange(&fx, &lines)?;
    ensure!(replies.len() == ids.len(), "{} replies", replies.len());
    for (id, reply) in ids.iter().zip(&replies) {
        let echoed = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}");
        let refused =
            reply.starts_with("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600");
        ensure!(*reply == echoed || refused, "id {id} answered as {reply}");
    }
    let distinct: std::collections::HashSet<&String> = replies.iter().collect();
    ensure!(
        distinct.len() == ids.len(),
        "colliding replies: {replies:?}"
    );
    fx.verify()?;
    Ok(format!(
        "{} ids (2^64+1, -0, 1e2, 1.0, escaped strings) echoed byte for byte, none collide",
        ids.len()
    ))
}

/// R10-11 — hypothesis: a repeated key is resolved last-one-wins, so a proxy or logger that
/// reads the first `method`, `name` or `arguments` sees a different request from the one the
/// server executes.
pub fn r10_11() -> Outcome {
    let fx = Fixture::new("r10-11");
    let cases: [(&str, &str); 6] = [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"harness_bootstrap","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"#,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"\u0069d":2,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"#,
        ),
        (
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"harness_list","name":"harness_bootstrap","arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"#,
        ),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"harness_bootstrap","arguments":{},"arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"#,
        ),
        (
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"harness_record_trace","arguments":{"kind":"attempt","summary":"shown","raw":"r","summary":"hidden"}}}"#,
            r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"#,
        ),
        (
            r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":6,"result":{}}"#,
        ),
    ];
    let lines: Vec<String> = cases.iter().map(|(line, _)| line.to_string()).collect();
    let replies = raw_exchange(&fx, &lines)?;
    ensure!(
        replies.len() == cases.len(),
        "{} replies: {replies:?}",
        replies.len()
    );
    for ((line, expected), reply) in cases.iter().zip(&replies) {
        ensure!(reply.starts_with(expected), "{line} answered {reply}");
    }
    ensure!(
        !fx.harness().join("state.json").exists() && fx.list("traces").is_empty(),
        "a request with a repeated key ran"
    );
    fx.verify()?;
    Ok(
        "repeated envelope keys -32600 id null; repeated params/arguments keys -32602; nothing ran"
            .into(),
    )
}
