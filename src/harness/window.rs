//! Bounded readers of the directories and files that grow with use: the newest lines of the
//! trace day files, read from their tails, and the newest records of a family, chosen by the
//! date their file names carry before any record is opened. Each answers what the original's
//! whole-directory read answers; what they may read is stated on each. They never write.

use super::records::{is_refusal, read_listed, sort_newest_first, Listing};
use super::ToolError;
use crate::json::parse_lenient;
use crate::store::{Store, StoreError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Traces are read from at most this many of the newest daily files.
pub const RECENT_TRACE_FILES: usize = 7;

/// How much of a day file one backwards read takes.
const TAIL_CHUNK: u64 = 64 * 1024;

/// Names ending in `suffix` in `dir`, in the original's sort order (a listing the store
/// keeps while the directory is unchanged).
pub fn names_with_suffix(
    store: &Store,
    dir: &str,
    suffix: &str,
) -> Result<Arc<Vec<String>>, ToolError> {
    Ok(store.list_suffixed(dir, suffix)?)
}

/// The last `limit` traces of the newest daily files, oldest first. Unparsable lines become
/// `parse-error` pseudo-traces, as in the original; an unterminated last line (an append that
/// was never acknowledged) is ignored; a daily file the store refuses is skipped (on stderr).
///
/// The files are read backwards from their ends and only until `limit` lines are found, so a
/// day of 100,000 traces costs the last `limit` lines, not the day.
pub fn read_recent_traces(store: &Store, limit: usize) -> Result<Vec<Value>, ToolError> {
    let names = names_with_suffix(store, "traces", ".jsonl")?;
    let mut lines = Vec::new(); // newest first
    for name in names.iter().rev().take(RECENT_TRACE_FILES) {
        if lines.len() >= limit {
            break;
        }
        let file = format!("traces/{name}");
        let opened = match store.open_read(&file) {
            Ok(Some(opened)) => opened,
            Ok(None) => continue,
            Err(error) if is_refusal(&error) => {
                crate::log::line(format_args!(
                    "codex-harness-mcp: warning: a listing skipped {file}: {error}"
                ));
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let want = limit - lines.len();
        tail_lines(
            |offset, len| opened.read_at(offset, len),
            opened.id().size,
            want,
            &mut lines,
        )?;
    }
    Ok(lines
        .iter()
        .rev()
        .map(|line| {
            parse_lenient(line).unwrap_or_else(|_| {
                let raw = String::from_utf8_lossy(line);
                json!({"ts": crate::clock::now_iso(), "kind": "parse-error", "raw": raw})
            })
        })
        .collect())
}

/// Pushes onto `out`, newest first, up to `want` non-blank complete lines of a file of `size`
/// bytes, read backwards by `read_at(offset, len)` in chunks. Bytes after the last newline
/// (an unacknowledged append) are not a line. Holds one chunk and the lines it returns (and,
/// for a line longer than a chunk, that line).
fn tail_lines(
    mut read_at: impl FnMut(u64, usize) -> Result<Vec<u8>, StoreError>,
    size: u64,
    want: usize,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), StoreError> {
    let goal = out.len() + want;
    let mut end = size;
    // The bytes from `end` up to and including the newline that ends the line they begin.
    let mut carry: Vec<u8> = Vec::new();
    let mut tail_cut = false;
    while end > 0 && out.len() < goal {
        let start = end.saturating_sub(TAIL_CHUNK);
        let mut buffer = read_at(start, (end - start) as usize)?;
        buffer.append(&mut carry);
        end = start;
        if !tail_cut {
            match buffer.iter().rposition(|b| *b == b'\n') {
                Some(newline) => buffer.truncate(newline + 1),
                None => continue,
            }
            tail_cut = true;
        }
        // `buffer` ends with a newline. Unless it starts the file, its first line may have
        // begun earlier: that part waits for the next chunk.
        let whole = if start == 0 {
            0
        } else {
            buffer.iter().position(|b| *b == b'\n').map_or(0, |n| n + 1)
        };
        let complete = &buffer[whole..];
        if let Some(body) = complete.strip_suffix(b"\n") {
            for line in body.split(|b| *b == b'\n').rev() {
                if !String::from_utf8_lossy(line).trim().is_empty() {
                    out.push(line.to_vec());
                    if out.len() == goal {
                        return Ok(());
                    }
                }
            }
        }
        buffer.truncate(whole);
        carry = buffer;
    }
    Ok(())
}

/// The `YYYY-MM-DD` a record's file name carries: the first such run in it. Every id this
/// server or the original makes is `<prefix><date>-…` with a prefix free of digits.
fn name_date(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|at| {
        let date = &bytes[at..at + 10];
        let shaped = date.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
        shaped.then(|| &name[at..at + 10])
    })
}

/// Of `names` (in their order), those that can be among the `window` newest records by
/// time: every name of the newest dates that together hold `window` names, of the calendar
/// day before the oldest of them, and every name without a date. A record's time is taken
/// when its id is made, so no record of an earlier date can be newer than these; the day
/// before covers a record named just before midnight and stamped just after. Costs the names
/// only.
pub fn newest_days(names: &[String], window: usize) -> Vec<&String> {
    let mut per_date: BTreeMap<&str, usize> = BTreeMap::new();
    for date in names.iter().filter_map(|name| name_date(name)) {
        *per_date.entry(date).or_default() += 1;
    }
    let mut held = 0;
    let mut oldest = None;
    for (date, count) in per_date.iter().rev() {
        if held >= window.max(1) {
            break;
        }
        held += count;
        oldest = Some(*date);
    }
    let from = oldest.map(day_before);
    names
        .iter()
        .filter(|name| match (name_date(name), &from) {
            (Some(date), Some(from)) => date >= from.as_str(),
            _ => true,
        })
        .collect()
}

/// The `YYYY-MM-DD` of the day before `date` (proleptic Gregorian; a date that is no real
/// day still yields one that sorts before it).
fn day_before(date: &str) -> String {
    let field = |range: std::ops::Range<usize>| date[range].parse::<u32>().unwrap_or(0);
    let (mut year, mut month, day) = (field(0..4), field(5..7), field(8..10));
    let day = if day > 1 {
        day - 1
    } else {
        if month > 1 {
            month -= 1;
        } else {
            (year, month) = (year.saturating_sub(1), 12);
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][(month.clamp(1, 12) - 1) as usize]
    };
    format!("{year:04}-{month:02}-{day:02}")
}

/// The `limit` newest records of `dir`, newest first (ties in file-name order, as the
/// original's stable sort of the whole directory), reading only the records
/// [`newest_days`] keeps. Refused entries are skipped and named.
pub fn read_newest(store: &Store, dir: &str, limit: usize) -> Result<Listing, ToolError> {
    let names = names_with_suffix(store, dir, ".json")?;
    let mut listing = read_listed(store, dir, newest_days(&names, limit))?;
    sort_newest_first(&mut listing.records);
    listing.records.truncate(limit);
    Ok(listing)
}

/// Records read at a time by [`scan_family`].
const SCAN_CHUNK: usize = 256;

/// One pass over every record of `dir` (file-name order; refused entries skipped and named)
/// that keeps of each only its `fields`, and the `newest` newest records whole (ties in
/// file-name order, as a stable sort of the whole family): what a count over the family needs,
/// holding [`SCAN_CHUNK`] records at a time rather than the family.
pub fn scan_family(
    store: &Store,
    dir: &str,
    fields: &[&str],
    newest: usize,
) -> Result<(Vec<Value>, Vec<Value>), ToolError> {
    let names = names_with_suffix(store, dir, ".json")?;
    let mut kept = Vec::with_capacity(names.len());
    let mut recent = Vec::new();
    for chunk in names.chunks(SCAN_CHUNK) {
        let listing = read_listed(store, dir, chunk)?;
        for record in &listing.records {
            let mut slim = serde_json::Map::new();
            for field in fields {
                if let Some(value) = record.get(*field) {
                    slim.insert((*field).to_string(), value.clone());
                }
            }
            kept.push(Value::Object(slim));
        }
        recent.extend(listing.records);
        sort_newest_first(&mut recent);
        recent.truncate(newest);
    }
    Ok((kept, recent))
}

/// The `limit` newest gates, newest first (refused entries skipped and named). Gate ids are
/// `gate-<date>-<random>`, so file names are in random order within a day: the candidates are
/// the `2·limit` most recently modified files (a gate file is written once; with every file
/// of the same time as the oldest of them) of the days [`newest_days`] keeps for that many,
/// then sorted by `ts`. Only metadata is read for the others of those days.
pub fn read_recent_gates(store: &Store, limit: usize) -> Result<Listing, ToolError> {
    let names = names_with_suffix(store, "gates", ".json")?;
    let window = 2 * limit.max(1);
    let mut by_age = Vec::new();
    for name in newest_days(&names, window) {
        // A file that vanished or cannot be stated sorts oldest; reading it names the problem.
        let modified = store.modified_ms(&format!("gates/{name}")).ok().flatten();
        by_age.push((modified.unwrap_or(i64::MIN), name));
    }
    by_age.sort();
    // Files written within one timestamp tick share a time: all of the window's oldest
    // time are read, so ties never push the newest gate out by its random name.
    let from = match by_age.len().checked_sub(window) {
        Some(cut) => {
            let oldest = by_age[cut].0;
            by_age.partition_point(|(modified, _)| *modified < oldest)
        }
        None => 0,
    };
    let mut listing = read_listed(store, "gates", by_age[from..].iter().map(|(_, name)| *name))?;
    sort_newest_first(&mut listing.records);
    listing.records.truncate(limit);
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail_of(text: &str, want: usize) -> (Vec<String>, usize) {
        let bytes = text.as_bytes();
        let mut read = 0;
        let mut out = Vec::new();
        tail_lines(
            |offset, len| {
                read += len;
                Ok(bytes[offset as usize..offset as usize + len].to_vec())
            },
            bytes.len() as u64,
            want,
            &mut out,
        )
        .unwrap();
        let lines = out
            .into_iter()
            .map(|l| String::from_utf8(l).unwrap())
            .collect();
        (lines, read)
    }

    #[test]
    fn tail_lines_match_a_whole_read_and_skip_the_unterminated_end() {
        let text = "a\n\n  \nbb\nccc\nunterminated";
        assert_eq!(tail_of(text, 2).0, ["ccc", "bb"]);
        assert_eq!(tail_of(text, 9).0, ["ccc", "bb", "a"]);
        assert_eq!(tail_of("no newline", 3).0, Vec::<String>::new());
        assert_eq!(tail_of("", 3).0, Vec::<String>::new());
    }

    #[test]
    fn tail_lines_cross_chunks_and_read_only_the_tail() {
        let lines: Vec<String> = (0..20_000).map(|n| format!("{{\"n\":{n}}}")).collect();
        let text = format!("{}\n", lines.join("\n"));
        let (got, read) = tail_of(&text, 5);
        assert_eq!(
            got,
            [
                "{\"n\":19999}",
                "{\"n\":19998}",
                "{\"n\":19997}",
                "{\"n\":19996}",
                "{\"n\":19995}"
            ]
        );
        assert!(read <= TAIL_CHUNK as usize, "read {read} bytes for 5 lines");
        // Every line, across many chunk boundaries, in order.
        let (all, _) = tail_of(&text, usize::MAX);
        assert_eq!(all.len(), 20_000);
        assert!(all.iter().rev().eq(lines.iter()));
        // A line longer than a chunk is whole.
        let long = "x".repeat(3 * TAIL_CHUNK as usize);
        let (got, _) = tail_of(&format!("first\n{long}\nlast\n"), 3);
        assert_eq!(got, ["last".to_string(), long, "first".to_string()]);
    }

    #[test]
    fn name_dates_are_found_after_any_prefix() {
        assert_eq!(
            name_date("2026-05-11-fix-x-0123456789ab.json"),
            Some("2026-05-11")
        );
        assert_eq!(
            name_date("eval-run-2026-05-11-0123456789.json"),
            Some("2026-05-11")
        );
        assert_eq!(
            name_date("promotion-decision-2026-01-02-ab.json"),
            Some("2026-01-02")
        );
        assert_eq!(name_date("odd.json"), None);
    }

    #[test]
    fn newest_days_keep_the_window_the_day_before_it_and_undated_names() {
        let names: Vec<String> = [
            "r-2025-12-20-a.json",
            "r-2025-12-31-a.json",
            "r-2026-01-01-a.json",
            "r-2026-01-01-b.json",
            "r-2026-01-03-a.json",
            "undated.json",
        ]
        .map(String::from)
        .to_vec();
        let kept = |window| -> Vec<&str> {
            newest_days(&names, window)
                .into_iter()
                .map(String::as_str)
                .collect()
        };
        // 01-03 holds one; 01-02 (the day before) has none.
        assert_eq!(kept(1), ["r-2026-01-03-a.json", "undated.json"]);
        // 01-01 completes three, and 12-31 is the day before it; 12-20 is left out.
        assert_eq!(kept(3), &names[1..]);
        assert_eq!(kept(99).len(), names.len());
    }

    #[test]
    fn the_day_before_crosses_months_years_and_leap_days() {
        assert_eq!(day_before("2026-03-15"), "2026-03-14");
        assert_eq!(day_before("2026-03-01"), "2026-02-28");
        assert_eq!(day_before("2024-03-01"), "2024-02-29");
        assert_eq!(day_before("2000-03-01"), "2000-02-29");
        assert_eq!(day_before("1900-03-01"), "1900-02-28");
        assert_eq!(day_before("2026-01-01"), "2025-12-31");
        assert_eq!(day_before("2026-05-01"), "2026-04-30");
    }
}
