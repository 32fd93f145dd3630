//! Shared helpers for the integration tests: a temporary project directory that cleans up
//! after itself, and a client that drives the real binary over real pipes.
#![allow(dead_code)] // Each test crate uses a different subset of these helpers.
#![allow(clippy::disallowed_methods)] // Tests build and inspect fixtures with std::fs.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_codex-harness-mcp");

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempProject {
    pub path: PathBuf,
}

impl TempProject {
    pub fn new(label: &str) -> TempProject {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("random");
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("chm-{label}-{suffix}"));
        std::fs::create_dir_all(&path).expect("create temp project");
        TempProject { path }
    }

    pub fn harness(&self) -> PathBuf {
        self.path.join(".codex-harness")
    }

    pub fn read_json(&self, rel: &str) -> Value {
        let text = std::fs::read_to_string(self.harness().join(rel))
            .unwrap_or_else(|e| panic!("read {rel}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {rel}: {e}"))
    }

    pub fn files_in(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.harness().join(rel))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for TempProject {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The running server with its pipes.
pub struct Server {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Server {
    pub fn start(project: &Path) -> Server {
        Server::start_with(project, &[])
    }

    pub fn start_with(project: &Path, extra_args: &[&str]) -> Server {
        let mut command = Command::new(BINARY);
        command
            .arg("--project")
            .arg(project)
            .args(extra_args)
            .current_dir(project);
        Server::from_command(command)
    }

    /// Spawns `command` (which must end up running the server) with piped stdio.
    pub fn from_command(command: Command) -> Server {
        Server::from_command_with_stderr(command, Stdio::null())
    }

    /// [`Server::start`] with the server's stderr going to `log`.
    pub fn start_logging(project: &Path, log: &Path) -> Server {
        let mut command = Command::new(BINARY);
        command.arg("--project").arg(project).current_dir(project);
        let file = std::fs::File::create(log).expect("create stderr log");
        Server::from_command_with_stderr(command, Stdio::from(file))
    }

    fn from_command_with_stderr(mut command: Command, stderr: Stdio) -> Server {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn server");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Server {
            child,
            stdin,
            stdout,
            next_id: 0,
        }
    }

    /// Writes raw bytes (no newline added).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    /// Writes `batch` from a helper thread while this thread reads `replies` reply lines, so
    /// neither side can fill a pipe and wait on the other.
    pub fn pipelined(&mut self, batch: &[u8], replies: usize) -> Vec<Value> {
        let stdin = self.stdin.as_mut().expect("stdin open");
        let stdout = &mut self.stdout;
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                stdin.write_all(batch).expect("write batch");
                stdin.flush().expect("flush");
            });
            let mut out = Vec::with_capacity(replies);
            for _ in 0..replies {
                let mut line = String::new();
                assert!(
                    stdout.read_line(&mut line).expect("read reply") > 0,
                    "server closed stdout"
                );
                out.push(serde_json::from_str(&line).expect("reply is JSON"));
            }
            writer.join().expect("writer thread");
            out
        })
    }

    /// Closes stdin (EOF for the server) without waiting for it to exit.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Reads one reply line as the server wrote it, without its newline.
    pub fn recv_line(&mut self) -> String {
        let mut line = String::new();
        let read = self.stdout.read_line(&mut line).expect("read reply");
        assert!(read > 0, "server closed stdout");
        line.trim_end_matches('\n').to_string()
    }

    /// Reads one reply line.
    pub fn recv(&mut self) -> Value {
        let mut line = String::new();
        let read = self.stdout.read_line(&mut line).expect("read reply");
        assert!(read > 0, "server closed stdout");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("reply is not JSON ({e}): {line}"))
    }

    /// Sends a request and returns its reply.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(format!("{message}\n").as_bytes());
        let reply = self.recv();
        assert_eq!(reply["id"], id, "reply out of order: {reply}");
        reply
    }

    /// Calls a tool and returns the `result` (panics on a protocol error).
    pub fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let reply = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        assert!(reply.get("error").is_none(), "{tool} failed: {reply}");
        reply["result"].clone()
    }

    /// Calls a tool that must succeed and returns its `structuredContent`.
    pub fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments);
        assert!(
            result.get("isError").is_none(),
            "{tool} returned an error: {result}"
        );
        result["structuredContent"].clone()
    }

    /// Reads a resource's text.
    pub fn read_resource(&mut self, uri: &str) -> String {
        let reply = self.request("resources/read", json!({"uri": uri}));
        assert!(reply.get("error").is_none(), "{uri}: {reply}");
        reply["result"]["contents"][0]["text"]
            .as_str()
            .expect("text")
            .to_string()
    }

    /// Closes stdin and waits for a clean exit; returns the exit status code.
    pub fn finish(mut self) -> i32 {
        self.close_stdin();
        let status = self.child.wait().expect("wait");
        status.code().unwrap_or(-1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// True when `text` is an untrusted-data block with this label.
pub fn is_block(text: &Value, label: &str) -> bool {
    text.as_str().is_some_and(|t| {
        t.starts_with(&format!("<untrusted-data source=\"{label}\">\n"))
            && t.ends_with("\n</untrusted-data>")
    })
}

/// The text inside an `<untrusted-data>` block (the whole string when it is not one): what
/// a stored free-text value looks like once the boundary has wrapped it.
pub fn inside_block(value: &Value) -> String {
    let text = value.as_str().unwrap_or_default();
    text.strip_prefix("<untrusted-data source=\"")
        .and_then(|rest| rest.split_once("\">\n"))
        .and_then(|(_, body)| body.strip_suffix("\n</untrusted-data>"))
        .unwrap_or(text)
        .to_string()
}
