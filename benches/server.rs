#![allow(clippy::disallowed_methods)] // The benchmark builds its fixtures and floor with std::fs.
//! End-to-end benchmark of the release binary over real pipes: `cargo bench --bench server`.
//!
//! Every figure is a median (and p95) over repeated runs after warm-up. Latencies are also
//! given as multiples of the floor: one durable atomic write (write + fsync + rename + fsync
//! of the directory) of the same size, measured on the same disk in the same run. Set
//! `BENCH_QUICK=1` for a short run (smaller knowledge bases), `BENCH_LONG=1` to add the scale
//! run: projects of 10,000, 100,000 and 200,000 items, built once (item files written here,
//! the index built by the server's own rebuild) and cached under `target/bench-cache/`.
//! The long mode ends with the record families at 100,000 records each (`families_run`);
//! `BENCH_LONG=families` runs only those.

use codex_harness_mcp::transport::{Frame, Framer, READ_CHUNK_BYTES};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_codex-harness-mcp");

struct Stats {
    median: Duration,
    p95: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        median: at(0.5),
        p95: at(0.95),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(project: &Path) -> Server {
        let mut child = Command::new(BINARY)
            .arg("--project")
            .arg(project)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Server {
            child,
            stdin,
            stdout,
            next_id: 0,
        }
    }

    /// A server on `project` that has answered `initialize`.
    fn initialized(project: &Path) -> Server {
        let mut server = Server::start(project);
        server.request("initialize", json!({"protocolVersion": "2025-06-18"}));
        server
    }

    fn read_resource(&mut self, uri: &str) -> Duration {
        let started = Instant::now();
        self.request("resources/read", json!({"uri": uri}));
        started.elapsed()
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let message =
            json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        self.stdin
            .write_all(format!("{message}\n").as_bytes())
            .expect("write");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read");
        let reply: Value = serde_json::from_str(&line).expect("json reply");
        assert!(
            reply.get("error").is_none() && reply["result"].get("isError").is_none(),
            "{reply}"
        );
        reply
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Duration {
        let started = Instant::now();
        self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        started.elapsed()
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_project(label: &str) -> PathBuf {
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::current_dir()
        .expect("cwd")
        .join("target")
        .join(format!("bench-{label}-{suffix}"));
    std::fs::create_dir_all(&dir).expect("create project");
    dir
}

/// One durable atomic write of `bytes` into `dir`: the floor every write is compared with.
fn durable_write(dir: &Path, bytes: &[u8]) -> Duration {
    let started = Instant::now();
    let temp = dir.join("floor.json.tmp");
    let mut file = std::fs::File::create(&temp).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
    std::fs::rename(&temp, dir.join("floor.json")).expect("rename");
    std::fs::File::open(dir)
        .expect("open dir")
        .sync_all()
        .expect("fsync dir");
    started.elapsed()
}

fn measure(repeats: usize, warmup: usize, mut run: impl FnMut() -> Duration) -> Stats {
    for _ in 0..warmup {
        run();
    }
    stats((0..repeats).map(|_| run()).collect())
}

/// Queries of the knowledge benchmarks: a few words each, some matching many items.
const QUERIES: [&str; 4] = [
    "flaky test timeout",
    "auth token deploy error",
    "build cache module 42",
    "deadlock migration",
];

/// `harness_query_knowledge` timed over [`QUERIES`] in turn.
fn measure_queries(server: &mut Server) -> Stats {
    let mut q = 0;
    measure(50, 5, || {
        q += 1;
        server.call(
            "harness_query_knowledge",
            json!({"query": QUERIES[q % QUERIES.len()]}),
        )
    })
}

fn knowledge(n: usize) -> Value {
    let topics = [
        "cache",
        "flaky test",
        "migration",
        "auth token",
        "build cache",
        "deadlock",
        "timeout",
        "index",
    ];
    let topic = topics[n % topics.len()];
    json!({
        "title": format!("Note {n} about the {topic}"),
        "content": format!("When the {topic} misbehaves in module {} we saw error E{} after the deploy; the fix was to pin version {}.", n % 97, n % 1013, n % 31),
        "tags": [topic.replace(' ', "-"), format!("area-{}", n % 17)]
    })
}

/// The item `knowledge(n)` describes, as `harness_record_knowledge` stores it, `n` ms after
/// a fixed time.
fn stored_item(n: usize) -> Value {
    let fields = knowledge(n);
    let ts = 1_700_000_000_000u64 + n as u64;
    let (secs, ms) = (ts / 1000, ts % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // 1970-01-01 + days, civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}-{month:02}-{day:02}");
    let time = format!(
        "{date}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    json!({
        "id": format!("knowledge-{date}-note-{n}-{n:012x}"),
        "ts": time,
        "kind": "knowledge",
        "contractId": null,
        "title": fields["title"],
        "summary": null,
        "content": fields["content"],
        "tags": fields["tags"],
        "keyFindings": [],
        "filesChanged": [],
        "evidence": [],
        "confidence": "unknown",
        "source": {"type": null, "url": null, "path": null}
    })
}

/// A project of `items` knowledge items, built once and cached under `target/bench-cache/`:
/// the item files are written here, the index by the server's own rebuild.
fn scale_project(items: usize) -> PathBuf {
    let dir = std::env::current_dir()
        .expect("cwd")
        .join("target")
        .join("bench-cache")
        .join(format!("knowledge-{items}"));
    let done = dir.join("built");
    if done.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create project");
    Server::start(&dir).call("harness_bootstrap", json!({}));
    let items_dir = dir.join(".codex-harness/knowledge/items");
    let started = Instant::now();
    for n in 0..items {
        let item = stored_item(n);
        let id = item["id"].as_str().expect("id");
        std::fs::write(
            items_dir.join(format!("{id}.json")),
            serde_json::to_vec_pretty(&item).expect("json"),
        )
        .expect("write item");
    }
    let mut server = Server::start(&dir);
    let rebuilt = server.call("harness_rebuild_knowledge_index", json!({}));
    drop(server);
    eprintln!(
        "built the {items}-item project in {:.1} s (rebuild {:.1} s)",
        started.elapsed().as_secs_f64(),
        rebuilt.as_secs_f64()
    );
    std::fs::write(done, b"").expect("mark built");
    dir
}

/// Spawn to the first reply, on the project `dir`, over repeated starts.
fn measure_start(dir: &Path) -> Stats {
    measure(10, 2, || {
        let started = Instant::now();
        Server::initialized(dir);
        started.elapsed()
    })
}

/// The scale run: start-up, first use, record, query, list, index page and peak memory on
/// projects of `levels` items.
fn scale_run(levels: &[usize], small_record: Duration) {
    println!("\n## Scale (cached projects)\n");
    println!("| items | start → initialize | first query (loads the index) | record p50 / p95 | record vs 1,000 | query p50 / p95 | list p50 | index page p50 | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &items in levels {
        let dir = scale_project(items);
        let start = measure_start(&dir);
        let mut server = Server::initialized(&dir);
        let first = server.call("harness_query_knowledge", json!({"query": "cache"}));
        let mut n = items;
        let record = measure(50, 5, || {
            n += 1;
            server.call("harness_record_knowledge", knowledge(n))
        });
        let query = measure_queries(&mut server);
        let list = measure(50, 5, || server.call("harness_list_knowledge", json!({})));
        let page = measure(30, 3, || server.read_resource("harness://knowledge/index"));
        println!(
            "| {items} | {} | {} | {} / {} | {:.2}× | {} / {} | {} | {} | {} MiB |",
            ms(start.median),
            ms(first),
            ms(record.median),
            ms(record.p95),
            record.median.as_secs_f64() / small_record.as_secs_f64(),
            ms(query.median),
            ms(query.p95),
            ms(list.median),
            ms(page.median),
            server.peak_rss_kib() / 1024
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(levels) = std::env::var("BENCH_SCALE_ONLY") {
        // For profiling one level by hand: BENCH_SCALE_ONLY=200000 (record ratio against 1 ms).
        let levels: Vec<usize> = levels.split(',').filter_map(|l| l.parse().ok()).collect();
        scale_run(&levels, Duration::from_millis(1));
        return;
    }
    if std::env::var("BENCH_LONG").as_deref() == Ok("families") {
        families_run();
        return;
    }
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let levels: &[usize] = if quick {
        &[100, 1_000]
    } else {
        &[100, 1_000, 10_000]
    };
    println!(
        "# codex-harness-mcp benchmark ({})\n",
        if quick { "quick" } else { "full" }
    );
    println!("| measurement | median | p95 | note |\n| --- | --- | --- | --- |");

    // The floor, with a payload the size of a state.json after some activity.
    let floor_dir = temp_project("floor");
    let payload = vec![b'x'; 6 * 1024];
    let floor = measure(200, 20, || durable_write(&floor_dir, &payload));
    println!(
        "| durable atomic write, 6 KiB (floor) | {} | {} | write+fsync+rename+fsync(dir) |",
        ms(floor.median),
        ms(floor.p95)
    );

    let start_dir = temp_project("start");
    Server::start(&start_dir).call("harness_bootstrap", json!({}));
    let cold = measure(30, 3, || {
        let started = Instant::now();
        let mut server = Server::start(&start_dir);
        server.request("initialize", json!({"protocolVersion": "2025-06-18"}));
        started.elapsed()
    });
    println!(
        "| start → initialize reply | {} | {} | spawn, confine, first reply |",
        ms(cold.median),
        ms(cold.p95)
    );

    // Tool latencies are sampled alternately with the floor, so both see the same disk load.
    // That floor writes as many bytes as the state.json the tools rewrite (80 events deep).
    let loop_dir = temp_project("loop");
    let mut server = Server::start(&loop_dir);
    server.call("harness_bootstrap", json!({}));
    for n in 0..100 {
        server.call(
            "harness_record_trace",
            json!({"kind": "attempt", "summary": format!("warm {n}"), "raw": "x"}),
        );
    }
    let state_bytes = std::fs::metadata(loop_dir.join(".codex-harness/state.json"))
        .map_or(6 * 1024, |m| m.len() as usize);
    let payload = vec![b'x'; state_bytes];
    println!("| (state.json size for the interleaved floor) | {state_bytes} B | | |");
    let mut n = 0;
    let mut paired = |samples: usize,
                      warmup: usize,
                      server: &mut Server,
                      tool: &str,
                      args: &dyn Fn(usize) -> Value| {
        let mut tool_samples = Vec::new();
        let mut floor_samples = Vec::new();
        for round in 0..warmup + samples {
            n += 1;
            let floor = durable_write(&floor_dir, &payload);
            let took = server.call(tool, args(n));
            if round >= warmup {
                floor_samples.push(floor);
                tool_samples.push(took);
            }
        }
        (stats(tool_samples), stats(floor_samples))
    };
    let (trace, trace_floor) = paired(
        300,
        30,
        &mut server,
        "harness_record_trace",
        &|n| json!({"kind": "attempt", "summary": format!("step {n}"), "raw": "cargo test: 1 failed"}),
    );
    let ratio = |s: &Stats, floor: &Stats| s.median.as_secs_f64() / floor.median.as_secs_f64();
    println!(
        "| tools/call harness_record_trace | {} | {} | {:.2}× the interleaved floor ({}) |",
        ms(trace.median),
        ms(trace.p95),
        ratio(&trace, &trace_floor),
        ms(trace_floor.median)
    );
    let (contract, contract_floor) = paired(
        100,
        10,
        &mut server,
        "harness_create_contract",
        &|n| json!({"title": format!("Contract {n}"), "goal": "Benchmark the contract path"}),
    );
    println!(
        "| tools/call harness_create_contract | {} | {} | {:.2}× the interleaved floor ({}) |",
        ms(contract.median),
        ms(contract.p95),
        ratio(&contract, &contract_floor),
        ms(contract_floor.median)
    );
    drop(server);

    let knowledge_dir = temp_project("knowledge");
    let mut server = Server::start(&knowledge_dir);
    server.call("harness_bootstrap", json!({}));
    let mut stored = 0usize;
    let mut record_cost = Vec::new();
    for &level in levels {
        while stored < level - 50 {
            server.call("harness_record_knowledge", knowledge(stored));
            stored += 1;
        }
        let record = measure(50, 0, || {
            stored += 1;
            server.call("harness_record_knowledge", knowledge(stored))
        });
        let query = measure_queries(&mut server);
        println!(
            "| record_knowledge at {stored} items | {} | {} | |",
            ms(record.median),
            ms(record.p95)
        );
        println!(
            "| query_knowledge at {stored} items | {} | {} | |",
            ms(query.median),
            ms(query.p95)
        );
        record_cost.push((stored, record.median));
    }
    let thousand = record_cost
        .iter()
        .find(|(stored, _)| *stored >= 1_000)
        .map(|(_, median)| *median);
    if let (Some(first), Some(last)) = (record_cost.first(), record_cost.last()) {
        println!(
            "| record cost, {} vs {} items | {:.2}× | | target ≤ 1.5× |",
            last.0,
            first.0,
            last.1.as_secs_f64() / first.1.as_secs_f64()
        );
    }
    println!(
        "| peak RSS after {stored} items | {} KiB | | VmHWM of the server |",
        server.peak_rss_kib()
    );
    drop(server);

    // Framer throughput on a stream of large valid messages, in memory.
    let padding = "p".repeat(200 * 1024);
    let message = format!(
        "{}\n",
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": padding}})
    );
    let stream: Vec<u8> = message.as_bytes().repeat(500);
    let framer = measure(10, 2, || {
        let started = Instant::now();
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        let mut lines = 0;
        for chunk in stream.chunks(READ_CHUNK_BYTES) {
            framer.push(chunk, &mut frames);
            lines += frames
                .drain(..)
                .filter(|f| matches!(f, Frame::Line(_)))
                .count();
        }
        assert_eq!(lines, 500);
        started.elapsed()
    });
    let mb = stream.len() as f64 / 1e6;
    println!(
        "| framer throughput ({:.0} MB of 200 KiB lines) | {:.0} MB/s | {:.0} MB/s (p95 time) | in-memory, 64 KiB chunks |",
        mb,
        mb / framer.median.as_secs_f64(),
        mb / framer.p95.as_secs_f64()
    );

    for dir in [floor_dir, start_dir, loop_dir, knowledge_dir] {
        let _ = std::fs::remove_dir_all(dir);
    }
    if std::env::var_os("BENCH_LONG").is_some() {
        if let Some(thousand) = thousand {
            scale_run(&[10_000, 100_000, 200_000], thousand);
        }
        families_run();
    }
}

/// Records per family in the families run.
const FAMILY_RECORDS: usize = 100_000;
/// Days the families run spreads each record family over (the traces all fall on the last).
const FAMILY_DAYS: usize = 100;

/// `2026-MM-DD` of day `day` (0-based) of 2026.
fn day_of_2026(day: usize) -> String {
    const MONTHS: [usize; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut month, mut rest) = (0, day);
    while rest >= MONTHS[month] {
        rest -= MONTHS[month];
        month += 1;
    }
    format!("2026-{:02}-{:02}", month + 1, rest + 1)
}

/// The date and ISO time of record `n` of a family of [`FAMILY_RECORDS`]: in order, spread
/// evenly over [`FAMILY_DAYS`] days.
fn family_time(n: usize) -> (String, String) {
    let per_day = FAMILY_RECORDS / FAMILY_DAYS;
    let date = day_of_2026(n / per_day);
    let ms = (n % per_day) * 86_000;
    let time = format!(
        "{date}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
    (date, time)
}

/// A project of [`FAMILY_RECORDS`] contracts, gates, eval runs, promotion decisions and
/// decision notes (each with its Markdown companion) over [`FAMILY_DAYS`] days, and as many
/// traces in one day file, written in the original's formats; built once and cached under
/// `target/bench-cache/`. The newest contract is active and has traces and gates.
fn families_project() -> PathBuf {
    let dir = std::env::current_dir()
        .expect("cwd")
        .join("target")
        .join("bench-cache")
        .join(format!("families-{FAMILY_RECORDS}"));
    if dir.join("built").exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create project");
    let started = Instant::now();
    let mut server = Server::start(&dir);
    server.call("harness_bootstrap", json!({}));
    let root = dir.join(".codex-harness");
    let write = |rel: String, value: &Value| {
        let path = root.join(rel);
        let mut text = serde_json::to_string_pretty(value).expect("json");
        text.push('\n');
        std::fs::write(&path, text).expect("write record");
        std::fs::write(path.with_extension("md"), "# record\n").expect("write companion");
    };
    let mut newest_contract = String::new();
    for n in 0..FAMILY_RECORDS {
        let (date, ts) = family_time(n);
        let contract = format!("{date}-contract-{n}-{n:012x}");
        write(
            format!("contracts/{contract}.json"),
            &json!({"id": contract, "title": format!("Contract {n}"), "goal": "Keep the store bounded",
                "createdAt": ts, "status": "active", "parentContractId": null, "requiredInputs": [],
                "budget": {"maxSteps": 8, "maxMinutes": 45, "maxToolCalls": 30},
                "permissions": ["Read the project files the task needs."],
                "completionConditions": ["The listing stays bounded."], "outputPaths": [],
                "verificationCommands": ["cargo test"], "failureTaxonomy": ["test-failure"], "notes": null}),
        );
        let gate = format!(
            "gate-{date}-{:012x}",
            n.wrapping_mul(2_654_435_761) % (1 << 48)
        );
        write(
            format!("gates/{gate}.json"),
            &json!({"id": gate, "ts": ts, "contractId": contract, "verdict": if n % 3 == 0 { "pass" } else { "unknown" },
                "outputChecks": [], "checkedConditions": ["The listing stays bounded."],
                "uncheckedConditions": [], "evidence": ["cargo test"], "notes": null}),
        );
        let run = format!("eval-run-{date}-{n:010x}");
        write(
            format!("evals/runs/{run}.json"),
            &json!({"id": run, "ts": ts, "evalCaseId": "eval-case-2026-01-01-bench-000000000000",
                "harnessProfileId": null, "model": "bench", "provider": null, "reasoningEffort": null,
                "verdict": if n % 4 == 0 { "fail" } else { "pass" }, "score": (n % 100) as f64 / 100.0,
                "metrics": {"promptTokens": 1200, "completionTokens": 300, "totalTokens": 1500,
                    "costUsd": 0.01, "wallClockSeconds": 12.5, "toolCalls": 9, "llmCalls": 3},
                "traceIds": [], "verificationIds": [], "regressions": [], "notes": null}),
        );
        let decision = format!("promotion-decision-{date}-{n:010x}");
        write(
            format!("promotion-decisions/{decision}.json"),
            &json!({"id": decision, "ts": ts, "proposalId": "proposal-2026-01-01-bench-000000000000",
                "decision": "hold", "rationale": "Wait for the holdout runs.", "optimizationRunIds": [],
                "holdoutRunIds": [], "regressionRunIds": [], "acceptedRisks": [], "followUp": null,
                "evidence": []}),
        );
        std::fs::write(
            root.join(format!("decisions/decision-{date}-{n:012x}.md")),
            format!("# decision-{date}-{n:012x}\n\nA decision.\n"),
        )
        .expect("write decision");
        newest_contract = contract;
    }
    let (date, _) = family_time(FAMILY_RECORDS - 1);
    let mut day = String::new();
    for n in 0..FAMILY_RECORDS {
        let (_, ts) = family_time(n);
        let ts = format!("{date}{}", &ts[10..]);
        let kind = ["attempt", "failure", "success", "verification"][n % 4];
        let mut trace = json!({"id": format!("trace-{date}-{n:08x}"), "ts": ts,
            "contractId": newest_contract, "kind": kind, "summary": format!("Step {n} of the bench"),
            "raw": "cargo test: 12 passed; 0 failed", "evidencePaths": ["src/lib.rs"], "followUp": null});
        if kind == "verification" {
            trace["verification"] = json!({"commandOrCheck": "cargo test", "status": "pass",
                "exitCode": 0, "startedAt": ts, "finishedAt": ts});
        }
        day.push_str(&trace.to_string());
        day.push('\n');
    }
    std::fs::write(root.join(format!("traces/{date}.jsonl")), day).expect("write traces");
    for n in 0..80 {
        server.call(
            "harness_update_state",
            json!({"decision": format!("Decision {n} of the bench")}),
        );
    }
    server.call(
        "harness_update_state",
        json!({"active_contract_id": newest_contract}),
    );
    drop(server);
    eprintln!(
        "built the families project ({FAMILY_RECORDS} records a family) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::fs::write(dir.join("built"), b"").expect("mark built");
    dir
}

/// The families run: start-up, listings, `recent` resources, resources/list pages and the
/// governance audit on [`families_project`], with the server's peak memory.
fn families_run() {
    let dir = families_project();
    println!("\n## Families at {FAMILY_RECORDS} records each (cached project)\n");
    println!("| measurement | p50 | p95 |\n| --- | --- | --- |");
    let row = |label: &str, s: Stats| println!("| {label} | {} | {} |", ms(s.median), ms(s.p95));
    row("start → initialize", measure_start(&dir));
    let mut server = Server::initialized(&dir);
    let mut timed = |label: &str, run: &mut dyn FnMut(&mut Server) -> Duration| {
        row(label, measure(30, 3, || run(&mut server)));
    };
    timed("harness_list (contracts, 5 traces)", &mut |s| {
        s.call("harness_list", json!({}))
    });
    timed("harness_list_promotion_decisions (20)", &mut |s| {
        s.call("harness_list_promotion_decisions", json!({}))
    });
    timed("harness_audit_governance", &mut |s| {
        s.call("harness_audit_governance", json!({}))
    });
    timed("harness_next_step", &mut |s| {
        s.call("harness_next_step", json!({}))
    });
    for uri in [
        "harness://traces/recent",
        "harness://gates/recent",
        "harness://contracts",
        "harness://evals/runs",
        "harness://promotion-decisions",
    ] {
        timed(&format!("resources/read {uri}"), &mut |s| {
            s.read_resource(uri)
        });
    }
    let list = |cursor: Option<String>| {
        move |s: &mut Server| {
            let started = Instant::now();
            s.request("resources/list", json!({"cursor": cursor}));
            started.elapsed()
        }
    };
    let later = codex_harness_mcp::resources::encode_cursor(FAMILY_RECORDS + FAMILY_RECORDS / 2);
    timed("resources/list, first page", &mut list(None));
    timed(
        "resources/list, a page in the eval runs",
        &mut list(Some(later)),
    );
    println!(
        "| peak RSS of that server after the rows above | {} MiB | |",
        server.peak_rss_kib() / 1024
    );
    // The observability report aggregates over every eval record (counts by verdict, split
    // and decision): a few samples each.
    for uri in ["harness://harness/spec", "harness://observability/report"] {
        row(
            &format!("resources/read {uri}"),
            measure(5, 1, || server.read_resource(uri)),
        );
    }
    println!(
        "| peak RSS after the reports too | {} MiB | |",
        server.peak_rss_kib() / 1024
    );
}
