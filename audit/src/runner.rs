//! Runs replays in parallel worker threads and renders the result table.

use crate::catalogue::{Check, Replay};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The verdict on one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    NotApplicable,
}

/// One row of the table.
pub struct Row {
    pub id: &'static str,
    pub attack: &'static str,
    pub expected: &'static str,
    pub observed: String,
    pub status: Status,
    pub elapsed: Duration,
}

/// Runs the selected replays (all when `only` is empty) on `workers` threads, in catalogue
/// order in the result.
pub fn run(replays: Vec<Replay>, only: &[String], workers: usize) -> Vec<Row> {
    let selected: Vec<Replay> = replays
        .into_iter()
        .filter(|r| only.is_empty() || only.iter().any(|o| o == r.id))
        .collect();
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new((0..selected.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(replay) = selected.get(index) else {
                    break;
                };
                let row = run_one(replay);
                if let Ok(mut rows) = rows.lock() {
                    rows[index] = Some(row);
                }
            });
        }
    });
    rows.into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn run_one(replay: &Replay) -> Row {
    let started = Instant::now();
    let (status, observed) = match &replay.check {
        Check::NotApplicable(reason) => {
            (Status::NotApplicable, format!("not applicable: {reason}"))
        }
        Check::Replay(func) => match std::panic::catch_unwind(func) {
            Ok(Ok(observed)) => (Status::Pass, observed),
            Ok(Err(why)) => (Status::Fail, why),
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                (Status::Fail, format!("replay panicked: {text}"))
            }
        },
    };
    Row {
        id: replay.id,
        attack: replay.attack,
        expected: replay.expected,
        observed,
        status,
        elapsed: started.elapsed(),
    }
}

/// Renders the table and the summary line.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<7} | {:<52} | {:<38} | {:<6} | observed\n",
        "ID", "attack", "expected", "result"
    ));
    out.push_str(&format!("{}\n", "-".repeat(140)));
    for row in rows {
        let status = match row.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotApplicable => "N/A",
        };
        let observed = crate::harness::clip(&row.observed.replace('\n', " "), 600);
        out.push_str(&format!(
            "{:<7} | {:<52} | {:<38} | {:<6} | {} ({:.1}s)\n",
            row.id,
            row.attack,
            row.expected,
            status,
            observed,
            row.elapsed.as_secs_f64()
        ));
    }
    out.push_str(&summary(rows));
    out.push('\n');
    out
}

/// `audit: N passed, M failed, K not applicable`.
pub fn summary(rows: &[Row]) -> String {
    let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
    format!(
        "audit: {} passed, {} failed, {} not applicable",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::NotApplicable)
    )
}

/// Worker threads: `AUDIT_THREADS`, else 6 (replays mostly wait on pipes and timers).
pub fn default_workers() -> usize {
    std::env::var("AUDIT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}
