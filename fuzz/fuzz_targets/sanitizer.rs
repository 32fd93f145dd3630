//! `sanitize_text`, `untrusted_block`, `safe_file_id` and `slugify` on hostile text.
//!
//! Checks, against the sanitiser's contract rather than its code:
//! - no stripped code point and no CR survives; no `<untrusted-data` / `</untrusted-data`
//!   opener (ASCII case-insensitive, at an ASCII word boundary) survives;
//! - untruncated output is exactly the untruncated sanitisation of the input, and is a fixed
//!   point (`s(s(x)) == s(x)`); truncated output is the longest prefix of it that fits in
//!   `max` UTF-16 units (less a trailing marker word the cut would complete) plus
//!   `\n[truncated N characters]` with the right N;
//! - `untrusted_block` of the output opens once at its start and closes once at its end;
//! - `safe_file_id` only returns `^[A-Za-z0-9._-]+$` without `..`; `slugify` only returns
//!   `^[a-z0-9-]{1,56}$`.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use codex_harness_mcp::sanitize::{safe_file_id, sanitize_text, slugify, untrusted_block};
use fuzz_support::{hostile_string, HOSTILE};
use libfuzzer_sys::fuzz_target;

#[derive(Debug)]
struct Case {
    text: String,
    max: usize,
    source: String,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let max = match u.int_in_range(0..=3)? {
            0 => codex_harness_mcp::sanitize::MAX_TEXT_LENGTH,
            _ => u.int_in_range(0..=200)?,
        };
        let source = hostile_string(u, 3)?;
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

/// Byte offsets of every block opener or closer at an ASCII word boundary.
fn markers(text: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices("untrusted-data") {
        let opener = (at >= 1 && bytes[at - 1] == b'<')
            || (at >= 2 && bytes[at - 1] == b'/' && bytes[at - 2] == b'<');
        let after = bytes.get(at + "untrusted-data".len());
        let boundary = !after.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if opener && boundary {
            found.push(at);
        }
    }
    found
}

fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

fn check(case: &Case) {
    let full = sanitize_text(&case.text, usize::MAX);
    assert!(!full.chars().any(is_stripped), "stripped char survived: {full:?}");
    assert!(markers(&full).is_empty(), "marker survived: {full:?}");
    assert_eq!(sanitize_text(&full, usize::MAX), full, "not idempotent");

    let out = sanitize_text(&case.text, case.max);
    if units(&full) <= case.max {
        assert_eq!(out, full, "untruncated output differs from the unbounded one");
    } else {
        let longest = full
            .char_indices()
            .map(|(at, ch)| at + ch.len_utf8())
            .take_while(|end| units(&full[..*end]) <= case.max)
            .last()
            .map_or("", |end| &full[..end]);
        // A trailing marker word left by the cut is dropped (the suffix would complete it).
        let lower = longest.to_ascii_lowercase();
        let kept = ["</untrusted-data", "<untrusted-data"]
            .iter()
            .find(|marker| lower.ends_with(*marker))
            .map_or(longest, |marker| &longest[..longest.len() - marker.len()]);
        let suffix = format!("\n[truncated {} characters]", units(&full) - units(kept));
        assert_eq!(out, format!("{kept}{suffix}"), "wrong truncation");
        assert!(units(&out) <= case.max + units(&suffix));
    }
    assert!(!out.chars().any(is_stripped), "stripped char survived: {out:?}");
    assert!(markers(&out).is_empty(), "marker survived truncation: {out:?}");

    let block = untrusted_block(Some(&out), &case.source);
    assert!(block.starts_with("<untrusted-data source=\""), "{block:?}");
    assert!(block.ends_with("\n</untrusted-data>"), "{block:?}");
    let found = markers(&block);
    assert_eq!(found.len(), 2, "block has extra markers: {block:?}");
    assert_eq!(found[0], 1);
    assert_eq!(found[1], block.len() - "untrusted-data>".len());

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
