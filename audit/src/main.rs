//! `cargo run -p audit --release [ID ...]`: replays the catalogue (or the named entries)
//! against the release binary, prints the table and exits non-zero if any replay failed.

use audit::runner::{self, Status};
use std::process::ExitCode;

fn main() -> ExitCode {
    let only: Vec<String> = std::env::args().skip(1).collect();
    audit::harness::ignore_file_size_signal();
    let rows = runner::run(audit::catalogue::all(), &only, runner::default_workers());
    print!("{}", runner::render(&rows));
    if rows.iter().any(|r| r.status == Status::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
