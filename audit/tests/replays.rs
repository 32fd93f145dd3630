//! Runs every audit replay under `cargo test`, so CI replays the whole catalogue on every
//! submission. `AUDIT_ONLY=PT-1,X-8` narrows the run.

use audit::runner::{self, Status};

#[test]
fn every_catalogued_attack_is_defended() {
    audit::harness::ignore_file_size_signal();
    let only: Vec<String> = std::env::var("AUDIT_ONLY")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let rows = runner::run(audit::catalogue::all(), &only, runner::default_workers());
    let table = runner::render(&rows);
    println!("{table}");
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| r.id)
        .collect();
    assert!(failed.is_empty(), "replays failed: {failed:?}\n{table}");
}
