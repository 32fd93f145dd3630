//! `sanitize_text`, `untrusted_block`, `safe_file_id` and `slugify` on hostile text.
//!
//! Checks, against the sanitiser's contract rather than its code:
//! - no stripped code point and no CR survives; nothing the independent loose detector
//!   (`tests/support/loose_marker.rs`: references decoded, NFKC + UTS #39 skeleton + case,
//!   everything but letters, digits and `<`-likes dropped) takes for a marker survives;
//! - untruncated output is exactly the untruncated sanitisation of the input, and is a fixed
//!   point (`s(s(x)) == s(x)`); truncated output is the longest prefix of it that fits in
//!   `max` UTF-16 units, possibly shortened to a `<`-like start (the cut backs off over a
//!   partial marker or a split character reference), plus `\n[truncated N characters]`
//!   with the right N;
//! - `untrusted_block` of the output opens once at its start and closes once at its end;
//! - `safe_file_id` only returns `^[A-Za-z0-9._-]+$` without `..`; `slugify` only returns
//!   `^[a-z0-9-]{1,56}$`;
//! - `utf16_len`, `utf16_prefix` and `utf16_slice` (JavaScript's `.length` and `.slice`, which
//!   knowledge excerpts are cut with) agree with a model built on `encode_utf16`: the slice
//!   starts at the first character at or after `start` units and keeps the whole characters
//!   that fit in `units`.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use codex_harness_mcp::sanitize::{
    safe_file_id, sanitize_text, slugify, untrusted_block, utf16_len, utf16_prefix, utf16_slice,
};
use fuzz_support::HOSTILE;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // The target uses the detector, not the genuine-marker stripping.
#[path = "../../tests/support/loose_marker.rs"]
mod loose_marker;
use loose_marker::marker_offsets as markers;

/// Labels the server really wraps text with (a label is never user text).
const LABELS: &[&str] = &[
    "contract.title",
    "trace.raw",
    "gate.evidence[3]",
    "knowledge.item.content",
];

#[derive(Debug)]
struct Case {
    text: String,
    max: usize,
    source: &'static str,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let max = match u.int_in_range(0..=3)? {
            0 => codex_harness_mcp::sanitize::MAX_TEXT_LENGTH,
            _ => u.int_in_range(0..=200)?,
        };
        let source = u.choose(LABELS)?;
        if u.ratio(1, 4)? {
            // Raw mode, for seeds: the rest of the input is the text.
            let text = String::from_utf8_lossy(u.bytes(u.len())?).into_owned();
            return Ok(Case { text, max, source });
        }
        let mut text = String::new();
        for _ in 0..u.int_in_range(0..=24)? {
            match u.int_in_range(0..=3)? {
                0 | 1 => text.push_str(u.choose(HOSTILE)?),
                2 => text.push(u.arbitrary()?),
                _ => text.push_str(u.arbitrary()?),
            }
        }
        Ok(Case { text, max, source })
    }
}

fn is_stripped(ch: char) -> bool {
    matches!(ch,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{feff}' | '\u{fffd}' | '\r')
}

fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text.slice(start, start + units)` by the model: whole characters only, starting at the
/// first one whose first unit is at or after `start`.
fn model_slice(text: &str, start: usize, units: usize) -> String {
    let mut offset = 0;
    let mut taken = 0;
    let mut out = String::new();
    for ch in text.chars() {
        let width = ch.len_utf16();
        if offset >= start {
            if taken + width > units {
                break;
            }
            taken += width;
            out.push(ch);
        }
        offset += width;
    }
    out
}

fn check_utf16(text: &str, max: usize) {
    assert_eq!(utf16_len(text), units(text));
    let start = max % (units(text) + 2);
    assert_eq!(utf16_slice(text, start, max), model_slice(text, start, max));
    assert_eq!(utf16_prefix(text, max), model_slice(text, 0, max));
}

fn check(case: &Case) {
    check_utf16(&case.text, case.max);
    let full = sanitize_text(&case.text, usize::MAX);
    assert!(
        !full.chars().any(is_stripped),
        "stripped char survived: {full:?}"
    );
    assert!(markers(&full).is_empty(), "marker survived: {full:?}");
    assert_eq!(sanitize_text(&full, usize::MAX), full, "not idempotent");

    let out = sanitize_text(&case.text, case.max);
    if units(&full) <= case.max {
        assert_eq!(
            out, full,
            "untruncated output differs from the unbounded one"
        );
    } else {
        let longest = full
            .char_indices()
            .map(|(at, ch)| at + ch.len_utf8())
            .take_while(|end| units(&full[..*end]) <= case.max)
            .last()
            .map_or("", |end| &full[..end]);
        // The cut may back off, but only to keep whole tokens or to drop a partial marker:
        // whatever was dropped is a proper suffix of the longest prefix.
        let kept = out
            .rsplit_once("\n[truncated ")
            .map_or("", |(kept, _)| kept);
        assert!(
            longest.starts_with(kept),
            "kept text is not a prefix: {out:?}"
        );
        let dropped = &longest[kept.len()..];
        assert!(
            dropped.is_empty() || dropped.contains(['<', '&', '%', '\\']) || !dropped.is_ascii(),
            "cut backed off over plain text: {dropped:?}"
        );
        let suffix = format!("\n[truncated {} characters]", units(&full) - units(kept));
        assert_eq!(out, format!("{kept}{suffix}"), "wrong truncation");
        assert!(units(&out) <= case.max + units(&suffix));
    }
    assert!(
        !out.chars().any(is_stripped),
        "stripped char survived: {out:?}"
    );
    assert!(
        markers(&out).is_empty(),
        "marker survived truncation: {out:?}"
    );

    let block = untrusted_block(Some(&out), case.source);
    assert!(block.starts_with("<untrusted-data source=\""), "{block:?}");
    assert!(block.ends_with("\n</untrusted-data>"), "{block:?}");
    let found = markers(&block);
    assert_eq!(found.len(), 2, "block has extra markers: {block:?}");
    assert_eq!(found[0], 0);
    assert_eq!(found[1], block.len() - "</untrusted-data>".len());

    if let Some(id) = safe_file_id(&case.text) {
        assert!(!id.is_empty() && !id.contains(".."), "{id:?}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
            "{id:?}"
        );
    }
    let slug = slugify(&case.text);
    assert!((1..=56).contains(&slug.len()), "{slug:?}");
    assert!(
        slug.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{slug:?}"
    );
}

fuzz_target!(|case: Case| check(&case));
