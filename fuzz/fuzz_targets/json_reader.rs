//! The JSON reader (`json::parse_lenient` for stored files a Node server may have written,
//! `json::parse_message` for protocol lines) against `serde_json` as the reference.
//!
//! Inputs are generated documents (random whitespace, nesting wrapped to just below, at and
//! above `MAX_JSON_DEPTH`, lone surrogate escapes, invalid UTF-8 inside strings) or raw bytes.
//! Checks:
//! - on any input neither reader panics, and a value either returns nests no deeper than
//!   `MAX_JSON_DEPTH`;
//! - on valid JSON within the depth limit both give `serde_json`'s value; `parse_message`
//!   reports a repeated key exactly when the independent scan finds one, and each top-level
//!   member's text parses back to that member's value;
//! - nesting beyond the limit is refused by both; text `serde_json` refuses is refused by
//!   `parse_message` (strict);
//! - lone surrogate escapes read leniently as U+FFFD (and are refused by `parse_message`);
//!   invalid UTF-8 reads leniently as the lossy text does.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::json::{parse_lenient, parse_message, MAX_JSON_DEPTH};
use fuzz_support::{has_duplicate_key, value};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn spaced(u: &mut Unstructured<'_>, text: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len() * 2);
    let mut in_string = false;
    let mut escaped = false;
    for ch in text.chars() {
        let structural = !in_string && matches!(ch, '{' | '}' | '[' | ']' | ',' | ':');
        if structural && u.ratio(1, 3)? {
            out.push_str(u.choose(&[" ", "\n", "\t", "\r\n", "  "])?);
        }
        out.push(ch);
        if in_string {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if ch == '"' {
            in_string = true;
        }
    }
    Ok(out)
}

fn wrap(u: &mut Unstructured<'_>, inner: String) -> Result<String> {
    let levels = u.int_in_range(MAX_JSON_DEPTH - 3..=MAX_JSON_DEPTH + 2)?;
    let mut out = inner;
    for _ in 0..levels {
        out = if u.arbitrary()? {
            format!("[{out}]")
        } else {
            format!("{{\"k\":{out}}}")
        };
    }
    Ok(out)
}

/// Every raw U+FFFD of `text` becomes a lone surrogate escape (a high one only where another
/// escape cannot follow and pair with it).
fn with_lone_surrogates(u: &mut Unstructured<'_>, text: &str) -> Result<(String, bool)> {
    let mut out = String::with_capacity(text.len());
    let mut any = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\u{fffd}' && u.arbitrary()? {
            let last = chars.peek() != Some(&'\u{fffd}');
            let options: &[&str] = if last {
                &["\\udc00", "\\uDFFF", "\\ud800", "\\uDBFF"]
            } else {
                &["\\udc00", "\\uDFFF"]
            };
            out.push_str(u.choose(options)?);
            any = true;
        } else {
            out.push(ch);
        }
    }
    Ok((out, any))
}

fn check_valid(bytes: &[u8], expected: &Value) {
    let text = std::str::from_utf8(bytes).expect("valid JSON is UTF-8");
    if depth(expected) > MAX_JSON_DEPTH {
        assert!(
            parse_lenient(bytes).is_err(),
            "too deep, accepted leniently"
        );
        assert!(
            parse_message(text).is_err(),
            "too deep, accepted as a message"
        );
        return;
    }
    assert_eq!(
        parse_lenient(bytes).as_ref(),
        Ok(expected),
        "lenient differs: {text}"
    );
    let message = parse_message(text).unwrap_or_else(|e| panic!("refused ({e}): {text}"));
    assert_eq!(&message.value, expected, "message differs: {text}");
    assert_eq!(
        message.duplicate.is_some(),
        has_duplicate_key(bytes),
        "duplicate detection differs: {text}"
    );
    if let Value::Object(map) = expected {
        if message.duplicate.is_none() {
            let keys: Vec<&String> = message.members.iter().map(|(k, _)| k).collect();
            assert_eq!(keys, map.keys().collect::<Vec<_>>(), "member keys: {text}");
        }
        for (key, member_text) in &message.members {
            let member: Value = serde_json::from_str(member_text)
                .unwrap_or_else(|e| panic!("member text {member_text:?} ({e})"));
            if message.duplicate.is_none() {
                assert_eq!(Some(&member), map.get(key), "member {key}: {text}");
            }
        }
    } else {
        assert!(message.members.is_empty());
    }
}

fn check_any(bytes: &[u8]) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(expected) => check_valid(bytes, &expected),
        Err(_) => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                assert!(
                    parse_message(text).is_err(),
                    "strict reader accepted: {text:?}"
                );
            }
            let lossy = String::from_utf8_lossy(bytes);
            match serde_json::from_str::<Value>(&lossy) {
                Ok(expected) if depth(&expected) <= MAX_JSON_DEPTH => {
                    assert_eq!(
                        parse_lenient(bytes).as_ref(),
                        Ok(&expected),
                        "lossy: {lossy:?}"
                    );
                }
                _ => {
                    if let Ok(value) = parse_lenient(bytes) {
                        assert!(depth(&value) <= MAX_JSON_DEPTH);
                    }
                }
            }
        }
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    match u.int_in_range(0..=4)? {
        0 => check_any(u.bytes(u.len())?),
        1 => {
            let document = value(u, 4)?;
            let compact = serde_json::to_string(&document).unwrap_or_default();
            let text = spaced(u, &compact)?;
            check_valid(text.as_bytes(), &document);
        }
        2 => {
            let document = value(u, 2)?;
            let text = wrap(u, serde_json::to_string(&document).unwrap_or_default())?;
            check_any(text.as_bytes());
        }
        3 => {
            let document = value(u, 3)?;
            let compact = serde_json::to_string(&document).unwrap_or_default();
            let (text, any) = with_lone_surrogates(u, &compact)?;
            if any {
                assert!(
                    parse_message(&text).is_err(),
                    "lone surrogate accepted: {text}"
                );
            }
            assert_eq!(
                parse_lenient(text.as_bytes()).as_ref(),
                Ok(&document),
                "{text}"
            );
        }
        _ => {
            // Invalid UTF-8 spliced into the document's text.
            let document = value(u, 3)?;
            let mut bytes = serde_json::to_vec(&document).unwrap_or_default();
            let at = u.int_in_range(0..=bytes.len())?;
            let junk = *u.choose(&[&b"\xff"[..], b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])?;
            bytes.splice(at..at, junk.iter().copied());
            check_any(&bytes);
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
