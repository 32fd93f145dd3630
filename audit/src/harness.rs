//! Spawning the server, building fixtures and checking the global post-conditions.
//!
//! A [`Fixture`] is one temporary base directory holding the project `P`, a victim directory
//! `V` with sentinel files and an unrelated directory `D` used as the inherited `PWD`. Its
//! snapshot of everything outside `P/.codex-harness` is taken when the fixture is sealed and
//! compared by [`Fixture::verify`] together with the other post-conditions G4–G6. A
//! [`Session`] is one server process over real pipes; [`Session::finish`] checks G1–G3.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// What a replay returns: `Ok(observed)` when the defence held, `Err(why)` otherwise.
pub type Outcome = Result<String, String>;

/// How long a single reply may take before the replay fails (the server's own lock timeout is
/// 8 s, so this leaves room for one timed-out wait plus scheduling noise on a busy host).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Fails the replay with a formatted message when the condition is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// The server binary under test: `CODEX_HARNESS_BIN`, else the workspace's release build,
/// built on demand with `cargo build --release` when it is missing.
pub fn server_binary() -> PathBuf {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("CODEX_HARNESS_BIN") {
                return PathBuf::from(path);
            }
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("the audit crate lives inside the workspace")
                .to_path_buf();
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace.join("target"));
            let binary = target.join("release").join("codex-harness-mcp");
            if !binary.exists() {
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let status = Command::new(cargo)
                    .args(["build", "--release", "-p", "codex-harness-mcp"])
                    .current_dir(&workspace)
                    .status()
                    .expect("run cargo build --release");
                assert!(status.success(), "cargo build --release failed");
            }
            binary
        })
        .clone()
}

/// Sentinel files planted in the victim directory of every fixture.
pub const VICTIM_FILES: [(&str, &str); 6] = [
    (
        "secret.json",
        r#"{"id":"secret","title":"SENTINEL-OUTSIDE-TITLE","goal":"SENTINEL-OUTSIDE-GOAL","status":"active"}"#,
    ),
    ("secret.txt", "leaked"),
    ("v.json", r#"{"keep":"me"}"#),
    ("authorized_keys", "ssh-ed25519 AAAA-SENTINEL victim@host\n"),
    ("bashrc", "# SENTINEL-BASHRC\n"),
    (
        "outside-state.json",
        r#"{"version":5,"counters":{"traces":42},"secret":"SENTINEL-OUTSIDE-STATE"}"#,
    ),
];

/// Every sentinel string a replay must never see in a reply.
pub const SENTINELS: [&str; 5] = [
    "SENTINEL-OUTSIDE-TITLE",
    "SENTINEL-OUTSIDE-GOAL",
    "AAAA-SENTINEL",
    "SENTINEL-BASHRC",
    "SENTINEL-OUTSIDE-STATE",
];

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Dir,
    File {
        bytes: Vec<u8>,
        mtime: Option<SystemTime>,
    },
    Link(PathBuf),
    Other(u32),
}

/// The temporary directories of one replay; removed on drop.
pub struct Fixture {
    pub base: PathBuf,
    /// `P`: the project served.
    pub project: PathBuf,
    /// `V`: sentinel files outside the project.
    pub victim: PathBuf,
    /// `D`: an unrelated directory passed as the inherited `PWD`.
    pub other: PathBuf,
    snapshot: BTreeMap<PathBuf, Entry>,
    unparsed_allowed: Vec<String>,
    locks_allowed: bool,
}

impl Fixture {
    pub fn new(label: &str) -> Fixture {
        let mut random = [0u8; 6];
        rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty())
            .expect("getrandom");
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let base = std::env::temp_dir().join(format!("chm-audit-{label}-{suffix}"));
        let project = base.join("P");
        let victim = base.join("V");
        let other = base.join("D");
        for dir in [&project, &victim, &other] {
            std::fs::create_dir_all(dir).expect("create fixture directory");
        }
        for (name, body) in VICTIM_FILES {
            std::fs::write(victim.join(name), body).expect("plant sentinel");
        }
        let mut fixture = Fixture {
            base,
            project,
            victim,
            other,
            snapshot: BTreeMap::new(),
            unparsed_allowed: Vec::new(),
            locks_allowed: false,
        };
        fixture.seal();
        fixture
    }

    /// `H`: the harness directory of `P`.
    pub fn harness(&self) -> PathBuf {
        self.project.join(".codex-harness")
    }

    /// Path of `rel` inside `H`.
    pub fn h(&self, rel: &str) -> PathBuf {
        self.harness().join(rel)
    }

    /// Re-takes the snapshot of everything outside `H` (after planting files outside `H`).
    pub fn seal(&mut self) {
        self.snapshot = snapshot(&self.base, &self.harness());
    }

    /// Files whose name contains `pattern` are allowed not to parse as JSON (planted garbage
    /// that the server deliberately preserves, such as a corrupt-state backup).
    pub fn allow_unparsed(&mut self, pattern: &str) {
        self.unparsed_allowed.push(pattern.to_string());
    }

    /// Lock files planted by the replay are expected to survive.
    pub fn allow_locks(&mut self) {
        self.locks_allowed = true;
    }

    /// Writes a file inside `H` (creating parent directories).
    pub fn plant(&self, rel: &str, body: &[u8]) {
        let path = self.h(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(path, body).expect("plant file");
    }

    /// Reads and parses a JSON file inside `H`.
    pub fn json(&self, rel: &str) -> Result<Value, String> {
        let text = std::fs::read_to_string(self.h(rel)).map_err(|e| format!("read {rel}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("parse {rel}: {e}"))
    }

    /// The knowledge index as a reader sees it, without asking the server: the items of
    /// `knowledge/index.json` (absent → none) with the sealed segments
    /// (`knowledge/segments/*.jsonl`, in name order) and `knowledge/index.journal.jsonl` folded
    /// in by id, a later line replacing an earlier entry. Strict where the server is
    /// lenient: every journal line must be complete, parse and carry an `upsert` entry with a
    /// string id (the server acknowledges a record only after its line is durable, so a torn
    /// or foreign line is a finding). Sorted by id.
    pub fn knowledge_index(&self) -> Result<Vec<Value>, String> {
        let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
        if std::fs::symlink_metadata(self.h("knowledge/index.json")).is_ok() {
            let index = self.json("knowledge/index.json")?;
            for entry in index["items"]
                .as_array()
                .ok_or("index.json has no items array")?
            {
                let id = entry["id"]
                    .as_str()
                    .ok_or("index entry without a string id")?;
                by_id.insert(id.to_string(), entry.clone());
            }
        }
        let mut segments: Vec<String> = self
            .list("knowledge/segments")
            .into_iter()
            .filter(|name| name.ends_with(".jsonl"))
            .map(|name| format!("knowledge/segments/{name}"))
            .collect();
        segments.sort();
        segments.push("knowledge/index.journal.jsonl".into());
        for rel in segments {
            match std::fs::read(self.h(&rel)) {
                Ok(bytes) => {
                    ensure!(
                        bytes.is_empty() || bytes.ends_with(b"\n"),
                        "index journal ends with an unterminated line"
                    );
                    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        let record: Value = serde_json::from_slice(line)
                            .map_err(|e| format!("index journal line does not parse: {e}"))?;
                        ensure!(
                            record["op"] == "upsert",
                            "index journal op {}",
                            record["op"]
                        );
                        let id = record["entry"]["id"]
                            .as_str()
                            .ok_or("index journal entry without a string id")?;
                        by_id.insert(id.to_string(), record["entry"].clone());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("read index journal: {e}")),
            }
        }
        Ok(by_id.into_values().collect())
    }

    /// Ids of [`Fixture::knowledge_index`].
    pub fn knowledge_index_ids(&self) -> Result<Vec<String>, String> {
        Ok(self
            .knowledge_index()?
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_string))
            .collect())
    }

    /// Names of the entries of a directory inside `H`, sorted.
    pub fn list(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.h(rel))
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

    /// True when a victim file still holds its planted bytes.
    pub fn victim_intact(&self) -> bool {
        VICTIM_FILES.iter().all(|(name, body)| {
            std::fs::read(self.victim.join(name)).is_ok_and(|bytes| bytes == body.as_bytes())
        })
    }

    /// G4–G6: nothing outside `H` changed, no temp or lock residue in `H`, every JSON file in
    /// `H` parses and `state.json` (if present) has an object-valued `counters`.
    pub fn verify(&self) -> Result<(), String> {
        let now = snapshot(&self.base, &self.harness());
        if now != self.snapshot {
            let mut changed = Vec::new();
            for (path, entry) in &now {
                if self.snapshot.get(path) != Some(entry) {
                    changed.push(format!("changed/new {}", self.rel(path)));
                }
            }
            for path in self.snapshot.keys() {
                if !now.contains_key(path) {
                    changed.push(format!("removed {}", self.rel(path)));
                }
            }
            return Err(format!("G4: outside H changed: {}", changed.join(", ")));
        }
        let mut residue = Vec::new();
        let mut unparsed = Vec::new();
        walk(&self.harness(), &mut |path, meta| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            if !meta.file_type().is_file() {
                return;
            }
            if is_temp_name(&name) || (name.ends_with(".lock") && !self.locks_allowed) {
                residue.push(self.rel(path));
            }
            let allowed = self
                .unparsed_allowed
                .iter()
                .any(|p| name.contains(p.as_str()));
            if name.ends_with(".json") && !allowed && meta.nlink() == 1 {
                let parses = std::fs::read(path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .is_some();
                if !parses {
                    unparsed.push(self.rel(path));
                }
            }
        });
        ensure!(residue.is_empty(), "G5: residue in H: {residue:?}");
        ensure!(
            unparsed.is_empty(),
            "G6: JSON files that do not parse: {unparsed:?}"
        );
        let state = self.h("state.json");
        if std::fs::symlink_metadata(&state).is_ok_and(|m| m.is_file()) {
            let value = self.json("state.json")?;
            ensure!(
                value.get("counters").is_some_and(Value::is_object),
                "G6: state.json has no object-valued counters"
            );
        }
        Ok(())
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.base)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// True for the server's temp-file names, `<target>.tmp.<digits>.<hex>`.
pub fn is_temp_name(name: &str) -> bool {
    let Some(at) = name.rfind(".tmp.") else {
        return false;
    };
    let mut parts = name[at + 5..].split('.');
    let digits = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let hex = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit()));
    digits && hex && parts.next().is_none()
}

use std::os::unix::fs::MetadataExt;

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        visit(&path, &meta);
        if meta.is_dir() {
            walk(&path, visit);
        }
    }
}

fn snapshot(base: &Path, skip: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut map = BTreeMap::new();
    let mut stack = vec![base.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path == skip {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let kind = meta.file_type();
            let value = if kind.is_dir() {
                stack.push(path.clone());
                Entry::Dir
            } else if kind.is_symlink() {
                Entry::Link(std::fs::read_link(&path).unwrap_or_default())
            } else if kind.is_file() {
                Entry::File {
                    bytes: std::fs::read(&path).unwrap_or_default(),
                    mtime: meta.modified().ok(),
                }
            } else {
                Entry::Other(meta.mode())
            };
            map.insert(path, value);
        }
    }
    map
}

/// How to start a server.
#[derive(Clone, Default)]
pub struct Launch {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
}

/// Everything a finished session produced.
pub struct Finished {
    pub status: ExitStatus,
    pub lines: Vec<String>,
    pub stderr: String,
}

/// One server process over real pipes.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    replies: HashMap<String, Vec<Value>>,
    sent_ids: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Session {
    /// Starts the server for `fixture` with cwd `P`, `PWD=D` and no `CODEX_WORKDIR`.
    pub fn start(fixture: &Fixture) -> Session {
        Session::launch(fixture, &Launch::default())
    }

    pub fn launch(fixture: &Fixture, launch: &Launch) -> Session {
        let mut command = Command::new(server_binary());
        command
            .args(&launch.args)
            .current_dir(launch.cwd.as_ref().unwrap_or(&fixture.project))
            .env("PWD", &fixture.other)
            .env_remove("CODEX_WORKDIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &launch.env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn server");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout pipe");
        let mut stderr_pipe = child.stderr.take().expect("stderr pipe");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        if sender.send(text).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = stderr_pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                if let Ok(mut text) = sink.lock() {
                    if text.len() < 1 << 20 {
                        text.push_str(&String::from_utf8_lossy(&buffer[..n]));
                    }
                }
            }
        });
        Session {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            replies: HashMap::new(),
            sent_ids: Vec::new(),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once the process has ended on its own (after a signal, say).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, String> {
        self.child.try_wait().map_err(|e| e.to_string())
    }

    /// Sets a resource limit on the running server (before any request is sent, nothing has
    /// been written yet, so this is equivalent to a launcher-side limit).
    pub fn limit(&self, resource: rustix::process::Resource, value: u64) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
        let limit = rustix::process::Rlimit {
            current: Some(value),
            maximum: Some(value),
        };
        rustix::process::prlimit(pid, resource, limit).expect("prlimit");
    }

    /// Sends one JSON-RPC message; an id-carrying request is expected to get one reply.
    pub fn send(&mut self, message: &Value) {
        if message.get("method").is_some() {
            if let Some(id) = message.get("id") {
                self.sent_ids.push(id.to_string());
            }
        }
        self.send_raw(format!("{message}\n").as_bytes());
    }

    /// Writes raw bytes; a write error (server gone) is ignored, later waits will report it.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(bytes).and_then(|()| stdin.flush());
        }
    }

    /// Writes one raw request line whose reply may carry `id: null` (a line that does not
    /// parse), then a `ping` with `ping_id`. Replies leave in request order, so the one reply
    /// that arrives before the ping's is the raw line's; it is returned.
    pub fn raw_reply(&mut self, line: &[u8], ping_id: i64) -> Result<Value, String> {
        let mark = self.seen.len();
        self.send_raw(line);
        self.request(ping_id, "ping", json!({}));
        self.reply(ping_id)?;
        let between: Vec<Value> = self.seen[mark..]
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["id"] != json!(ping_id))
            .collect();
        ensure!(
            between.len() == 1,
            "{} replies to one raw line: {between:?}",
            between.len()
        );
        let reply = between[0].clone();
        if !reply["id"].is_null() {
            // G3 then checks it is answered exactly once.
            self.sent_ids.push(reply["id"].to_string());
        }
        Ok(reply)
    }

    /// Declares an id sent inside raw bytes, so G3 expects a reply for it.
    pub fn expect_id(&mut self, id: Value) {
        self.sent_ids.push(id.to_string());
    }

    /// Sends a request with an integer id.
    pub fn request(&mut self, id: i64, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    }

    /// Sends `tools/call`.
    pub fn call(&mut self, id: i64, tool: &str, arguments: Value) {
        self.request(
            id,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        );
    }

    /// Sends `initialize`.
    pub fn init(&mut self, id: i64) {
        self.request(id, "initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "audit", "version": "1"}}));
    }

    fn absorb(&mut self, line: String) {
        if let Ok(value) = serde_json::from_str::<Value>(&line) {
            if let Some(id) = value.get("id") {
                self.replies
                    .entry(id.to_string())
                    .or_default()
                    .push(value.clone());
            }
        }
        self.seen.push(line);
    }

    /// Waits for the reply to `id` (any JSON id value).
    pub fn reply_to(&mut self, id: &Value) -> Result<Value, String> {
        let key = id.to_string();
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some(reply) = self.replies.get(&key).and_then(|r| r.first()) {
                return Ok(reply.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.absorb(line),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("no reply to id {key} within {REPLY_TIMEOUT:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("server closed stdout before replying to id {key}"))
                }
            }
        }
    }

    /// Waits for the reply to an integer id.
    pub fn reply(&mut self, id: i64) -> Result<Value, String> {
        self.reply_to(&json!(id))
    }

    /// Sends a request and waits for its reply.
    pub fn ask(&mut self, id: i64, method: &str, params: Value) -> Result<Value, String> {
        self.request(id, method, params);
        self.reply(id)
    }

    /// Calls a tool and waits for the reply.
    pub fn tool(&mut self, id: i64, tool: &str, arguments: Value) -> Result<Value, String> {
        self.call(id, tool, arguments);
        self.reply(id)
    }

    /// Calls a tool that must succeed; returns its `structuredContent`.
    pub fn tool_ok(&mut self, id: i64, tool: &str, arguments: Value) -> Result<Value, String> {
        let reply = self.tool(id, tool, arguments)?;
        ok_payload(&reply).map_err(|e| format!("{tool}: {e}"))
    }

    /// Reads a resource; returns the whole reply.
    pub fn read(&mut self, id: i64, uri: &str) -> Result<Value, String> {
        self.ask(id, "resources/read", json!({"uri": uri}))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes stdin, waits for exit and checks G1 (exit 0), G2 (only JSON-RPC lines) and G3
    /// (one reply per id).
    pub fn finish(self) -> Result<Finished, String> {
        let finished = self.finish_unchecked()?;
        ensure!(
            finished.status.code() == Some(0),
            "G1: server exited with {:?}; stderr: {}",
            finished.status,
            tail(&finished.stderr)
        );
        Ok(finished)
    }

    /// Like [`Session::finish`] but leaves the exit status to the caller (G2 and G3 checked).
    pub fn finish_unchecked(mut self) -> Result<Finished, String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err("G1: server did not exit after EOF".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.absorb(line);
        }
        for line in &self.seen {
            let value: Value = serde_json::from_str(line)
                .map_err(|_| format!("G2: stdout line is not JSON: {}", clip(line, 200)))?;
            let envelope = value.get("jsonrpc") == Some(&json!("2.0"))
                && value.get("id").is_some()
                && (value.get("result").is_some() != value.get("error").is_some());
            ensure!(
                envelope,
                "G2: stdout line is not a JSON-RPC response: {}",
                clip(line, 200)
            );
        }
        let mut counts: HashMap<&String, usize> = HashMap::new();
        for id in &self.sent_ids {
            *counts.entry(id).or_default() += 1;
        }
        for (id, sent) in counts {
            let got = self.replies.get(id).map_or(0, Vec::len);
            ensure!(
                got == sent,
                "G3: id {id} sent {sent} time(s), answered {got} time(s)"
            );
        }
        for id in self.replies.keys() {
            ensure!(
                id == "null" || self.sent_ids.contains(id),
                "G3: reply for an id never sent: {id}"
            );
        }
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        Ok(Finished {
            status,
            lines: std::mem::take(&mut self.seen),
            stderr,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The JSON document a successful `resources/read` reply carries (its first content's text).
pub fn resource_json(reply: &Value) -> Result<Value, String> {
    let text = reply["result"]["contents"][0]["text"]
        .as_str()
        .ok_or_else(|| format!("not a resource reply: {}", clip(&reply.to_string(), 300)))?;
    serde_json::from_str(text).map_err(|e| format!("resource text is not JSON: {e}"))
}

/// The keys of the agent-facing state projection; nothing else may be shown.
pub const SHOWN_STATE_KEYS: [&str; 8] = [
    "version",
    "projectName",
    "focus",
    "status",
    "activeContractId",
    "counters",
    "decisions",
    "events",
];

/// Checks that a shown state object carries exactly the known projection keys.
pub fn known_state_keys_only(state: &Value, label: &str) -> Result<(), String> {
    let keys: Vec<&String> = state
        .as_object()
        .ok_or_else(|| format!("{label}: state is not an object"))?
        .keys()
        .collect();
    ensure!(
        keys.len() == SHOWN_STATE_KEYS.len()
            && keys.iter().all(|k| SHOWN_STATE_KEYS.contains(&k.as_str())),
        "{label}: state shows keys {keys:?}"
    );
    Ok(())
}

/// Returns `structuredContent` of a successful tool reply.
pub fn ok_payload(reply: &Value) -> Result<Value, String> {
    ensure!(
        reply.get("error").is_none(),
        "expected OK, got {}",
        clip(&reply.to_string(), 400)
    );
    ensure!(
        reply["result"].get("isError").is_none(),
        "expected OK, got tool error {}",
        clip(&reply.to_string(), 400)
    );
    Ok(reply["result"]["structuredContent"].clone())
}

/// Returns the text of a tool error reply (`isError: true`).
pub fn tool_error(reply: &Value) -> Result<String, String> {
    ensure!(
        reply["result"]["isError"] == json!(true),
        "expected TOOLERR, got {}",
        clip(&reply.to_string(), 400)
    );
    Ok(reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Returns the JSON-RPC error code of a reply.
pub fn rpc_code(reply: &Value) -> Option<i64> {
    reply["error"]["code"].as_i64()
}

/// Asserts an RPC error with one of the codes; returns its message.
pub fn rpc_error(reply: &Value, codes: &[i64]) -> Result<String, String> {
    let code = rpc_code(reply);
    ensure!(
        code.is_some_and(|c| codes.contains(&c)),
        "expected RPC error {codes:?}, got {}",
        clip(&reply.to_string(), 400)
    );
    Ok(reply["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// True when a reply (or any text) contains one of the victim sentinels.
pub fn leaks_sentinel(text: &str) -> bool {
    SENTINELS.iter().any(|s| text.contains(s))
}

/// Shortens text for a report line.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    format!("{head}…")
}

fn tail(text: &str) -> String {
    let start = text.len().saturating_sub(400);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    text[start..].to_string()
}

/// Runs a bootstrap-run (`initialize`, `harness_bootstrap`, EOF) and checks it.
pub fn bootstrap_run(fixture: &Fixture) -> Result<(), String> {
    let mut session = Session::start(fixture);
    session.init(1);
    session.tool_ok(2, "harness_bootstrap", json!({}))?;
    session.finish()?;
    Ok(())
}

/// Sets a file's modification time `seconds_ago` into the past (not following symlinks).
pub fn backdate(path: &Path, seconds_ago: u64) {
    let when = SystemTime::now() - Duration::from_secs(seconds_ago);
    let since = when
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: since.as_secs() as i64,
            tv_nsec: 0,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: since.as_secs() as i64,
            tv_nsec: 0,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &stamp,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .expect("utimensat");
}

/// Creates a FIFO.
pub fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
}

/// Peak resident set (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    proc_status_field(pid, "VmHWM:")
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
}

/// One field of `/proc/<pid>/status`.
pub fn proc_status_field(pid: u32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))
        .map(|l| l[field.len()..].trim().to_string())
}

/// Ignores SIGXFSZ in this process; the disposition is inherited by every server spawned, so
/// a write past `RLIMIT_FSIZE` fails with EFBIG instead of killing the server (as a launcher
/// that sets a file-size limit would arrange).
pub fn ignore_file_size_signal() {
    // SAFETY: installing SIG_IGN for one signal has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Starts a session, initialises it and bootstraps the harness.
pub fn boot(fixture: &Fixture) -> Result<Session, String> {
    let mut session = Session::start(fixture);
    session.init(1);
    session.reply(1)?;
    session.tool_ok(2, "harness_bootstrap", json!({}))?;
    Ok(session)
}

/// Creates a contract (title and goal filled in unless given) and returns its id.
pub fn create_contract(session: &mut Session, id: i64, extra: Value) -> Result<String, String> {
    let mut args = json!({"title": "Sample contract", "goal": "Reach the goal safely"});
    if let (Some(args), Some(extra)) = (args.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            args.insert(k.clone(), v.clone());
        }
    }
    let payload = session.tool_ok(id, "harness_create_contract", args)?;
    payload["contract"]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("create_contract returned no id: {payload}"))
}

/// Records a trace with the given summary (kind `attempt`).
pub fn trace_args(summary: &str) -> Value {
    json!({"kind": "attempt", "summary": summary, "raw": "raw output"})
}

/// Percent-encodes every byte outside the unreserved set.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
