//! The installer's JSON/JSONC editor (`install::json::upsert` / `remove`) on client
//! configuration files: generated JSONC (random whitespace, `//` and `/* */` comments in every
//! gap, trailing commas, an existing entry or container or neither) or raw text.
//!
//! Checks, against an independent JSONC reading (`fuzz_support::jsonc`, comments and trailing
//! commas stripped, then `serde_json`):
//! - an install's output parses; its value is the input's with `<container>.<name>` set to
//!   the entry (merged into an existing object entry); every comment outside an existing
//!   entry of ours survives, in order; strict JSON in gives strict JSON out; installing again changes nothing;
//! - when the entry was absent, the input is a byte subsequence of the output (nothing else
//!   rewritten), and uninstalling gives back the input byte for byte; the one exception is
//!   the whitespace inside an empty object the entry goes into (`{ }` comes back as `{}`,
//!   see `collapses_to`);
//! - an uninstall's output parses, has the input's value without the entry (and without the
//!   container when the entry was all it held, unless it must be kept) and is a byte
//!   subsequence of the input;
//! - the editor refuses only what it must: a non-object root or container, a repeated key,
//!   nesting near its depth limit, or text the oracle does not read as JSONC either.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::install::json::{remove, upsert};
use fuzz_support::{has_duplicate_key, jsonc, piece_string, value};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const CONTAINERS: &[&str] = &[
    "mcpServers",
    "servers",
    "mcp",
    "context_servers",
    "mcp_servers",
];
const NAMES: &[&str] = &["codex-harness", "codexHarness", "other", ""];

fn trivia(u: &mut Unstructured<'_>) -> Result<String> {
    let mut out = String::new();
    for _ in 0..u.int_in_range(0..=3)? {
        match u.int_in_range(0..=6)? {
            0 => out.push(' '),
            1 => out.push('\n'),
            2 => out.push_str("\r\n"),
            3 => out.push('\t'),
            4 => out.push_str("    "),
            5 => {
                let text = piece_string(u, 3)?.replace(['\n', '\r'], "");
                out.push_str(&format!("// {text}\n"));
            }
            _ => {
                let text = piece_string(u, 3)?.replace("*/", "");
                out.push_str(&format!("/* {text} */"));
            }
        }
    }
    Ok(out)
}

/// `value` as JSONC text with trivia in every gap and sometimes a trailing comma.
fn render(u: &mut Unstructured<'_>, value: &Value, out: &mut String) -> Result<()> {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (index, (key, member)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&trivia(u)?);
                out.push_str(&serde_json::to_string(key).unwrap_or_default());
                out.push_str(&trivia(u)?);
                out.push(':');
                out.push_str(&trivia(u)?);
                render(u, member, out)?;
            }
            if !map.is_empty() && u.ratio(1, 4)? {
                out.push(',');
            }
            out.push_str(&trivia(u)?);
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&trivia(u)?);
                render(u, item, out)?;
            }
            if !items.is_empty() && u.ratio(1, 4)? {
                out.push(',');
            }
            out.push_str(&trivia(u)?);
            out.push(']');
        }
        scalar => out.push_str(&serde_json::to_string(scalar).unwrap_or_default()),
    }
    Ok(())
}

fn server_entry(u: &mut Unstructured<'_>) -> Result<Value> {
    if u.ratio(1, 3)? {
        return value(u, 2);
    }
    let args: Vec<String> = (0..u.int_in_range(0..=3)?)
        .map(|_| piece_string(u, 3))
        .collect::<Result<_>>()?;
    let mut entry = json!({"command": piece_string(u, 4)?, "args": args});
    if u.arbitrary()? {
        entry["type"] = json!("stdio");
    }
    Ok(entry)
}

struct Case {
    text: String,
    container: String,
    name: String,
    entry: Value,
}

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let container = if u.ratio(7, 8)? {
        u.choose(CONTAINERS)?.to_string()
    } else {
        piece_string(u, 2)?
    };
    let name = if u.ratio(7, 8)? {
        u.choose(NAMES)?.to_string()
    } else {
        piece_string(u, 2)?
    };
    let entry = server_entry(u)?;
    let text = match u.int_in_range(0..=7)? {
        0 => String::from_utf8_lossy(u.bytes(u.len())?).into_owned(),
        1 => trivia(u)?,
        _ => {
            let mut document = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                document.insert(piece_string(u, 2)?, value(u, 2)?);
            }
            if u.ratio(2, 3)? {
                let mut servers = Map::new();
                for _ in 0..u.int_in_range(0..=2)? {
                    servers.insert(u.choose(NAMES)?.to_string(), value(u, 2)?);
                }
                if u.arbitrary()? {
                    servers.insert(name.clone(), server_entry(u)?);
                }
                document.shift_remove(&container);
                let at = u.int_in_range(0..=document.len())?;
                document.shift_insert(at, container.clone(), Value::Object(servers));
            }
            let mut text = trivia(u)?;
            render(u, &Value::Object(document), &mut text)?;
            text.push_str(&trivia(u)?);
            text
        }
    };
    Ok(Case {
        text,
        container,
        name,
        entry,
    })
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `back` is `text` with one whitespace-only object interior (`{ }`, `{\n}`) emptied:
/// the one byte difference install then uninstall may make. An object our entry is inserted
/// into loses its blank interior to the entry's own lines; once the entry is removed again
/// the object is written `{}` (a blank interior of `\n` plus the closing indent is what the
/// insertion itself writes, so the two cannot be told apart).
fn collapses_to(text: &str, back: &str) -> bool {
    blank_interiors_emptied(text).any(|t| t == back)
}

/// `text` with each one whitespace-only object interior removed, one variant per interior.
fn blank_interiors_emptied(text: &str) -> impl Iterator<Item = String> + '_ {
    text.match_indices('{').filter_map(|(open, _)| {
        let rest = &text[open + 1..];
        let blank = rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
        (blank > 0 && rest[blank..].starts_with('}'))
            .then(|| format!("{}{}", &text[..=open], &rest[blank..]))
    })
}

fn is_subsequence_of_comments(needles: &[String], haystack: &[String]) -> bool {
    let mut rest = haystack.iter();
    needles.iter().all(|n| rest.any(|h| h == n))
}

fn check_install(case: &Case, before: Option<&(Option<Value>, Vec<String>)>, editable: bool) {
    let Case {
        text,
        container,
        name,
        entry,
    } = case;
    let out = match upsert(text, container, name, entry) {
        Ok(out) => out,
        Err(error) => {
            assert!(!editable, "refused an editable file ({error}): {text:?}");
            return;
        }
    };
    let (value_in, comments_in) =
        before.unwrap_or_else(|| panic!("editor accepted non-JSONC text: {text:?}"));
    let (value_out, comments_out) =
        jsonc::parse(&out).unwrap_or_else(|| panic!("install output is not JSONC: {out:?}"));
    let value_out = value_out.unwrap_or_else(|| panic!("install output is empty: {out:?}"));
    let mut expected = value_in.clone().unwrap_or_else(|| json!({}));
    let servers = expected
        .as_object_mut()
        .expect("an edited root is an object")
        .entry(container.clone())
        .or_insert_with(|| json!({}));
    let servers = servers
        .as_object_mut()
        .expect("an edited container is an object");
    let previous = servers.get(name).cloned();
    let wanted = match (&previous, entry) {
        (Some(Value::Object(current)), Value::Object(ours)) => {
            let mut merged = current.clone();
            merged.extend(ours.clone());
            Value::Object(merged)
        }
        _ => entry.clone(),
    };
    servers.insert(name.clone(), wanted);
    assert_eq!(
        value_out, expected,
        "install changed other keys: {text:?} -> {out:?}"
    );
    // An existing entry of ours is rewritten whole (comments inside it go); every comment
    // outside it, which is what an uninstall of the input keeps, survives.
    let outside = match previous {
        None => comments_in.clone(),
        Some(_) => remove(text, container, name, true)
            .ok()
            .and_then(|t| jsonc::parse(&t))
            .map(|(_, c)| c)
            .unwrap_or_default(),
    };
    assert!(
        is_subsequence_of_comments(&outside, &comments_out),
        "install lost a comment: {text:?} -> {out:?}"
    );
    if serde_json::from_str::<Value>(text).is_ok() {
        serde_json::from_str::<Value>(&out)
            .unwrap_or_else(|e| panic!("strict JSON in, not strict out ({e}): {out:?}"));
    }
    assert_eq!(
        upsert(&out, container, name, entry).as_deref(),
        Ok(out.as_str()),
        "installing twice changed the file"
    );
    if previous.is_none() && value_in.is_some() {
        assert!(
            jsonc::is_subsequence(text, &out)
                || blank_interiors_emptied(text).any(|t| jsonc::is_subsequence(&t, &out)),
            "install rewrote bytes of the input: {text:?} -> {out:?}"
        );
        let had_container = value_in
            .as_ref()
            .and_then(|v| v.get(container.as_str()))
            .is_some();
        let back = remove(&out, container, name, had_container)
            .unwrap_or_else(|e| panic!("uninstall refused its own install ({e}): {out:?}"));
        assert!(
            back == *text || collapses_to(text, &back),
            "install then uninstall is not the identity: {text:?} -> {out:?} -> {back:?}"
        );
    }
}

fn check_uninstall(case: &Case, before: Option<&(Option<Value>, Vec<String>)>, keep: bool) {
    let Case {
        text,
        container,
        name,
        ..
    } = case;
    let Ok(out) = remove(text, container, name, keep) else {
        return;
    };
    let Some((value_in, _)) = before else {
        panic!("uninstall accepted non-JSONC text: {text:?}");
    };
    assert!(
        jsonc::is_subsequence(&out, text),
        "uninstall added bytes: {text:?} -> {out:?}"
    );
    let (value_out, _) =
        jsonc::parse(&out).unwrap_or_else(|| panic!("uninstall output is not JSONC: {out:?}"));
    // When the entry was all the container held, the container goes too (unless it must be
    // kept, or a comment inside it keeps it: then it stays, empty).
    let mut kept = value_in.clone();
    let mut dropped = value_in.clone();
    for (expected, drop) in [(&mut kept, false), (&mut dropped, !keep)] {
        if let Some(root) = expected.as_mut().and_then(Value::as_object_mut) {
            if let Some(Value::Object(servers)) = root.get_mut(container.as_str()) {
                let only_ours = servers.len() == 1 && servers.contains_key(name.as_str());
                servers.shift_remove(name.as_str());
                if only_ours && drop {
                    root.shift_remove(container.as_str());
                }
            }
        }
    }
    assert!(
        value_out == dropped
            || (value_out == kept && jsonc::strip(&out).is_some_and(|(_, c)| !c.is_empty())),
        "uninstall changed other keys: {text:?} -> {out:?}"
    );
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let case = case(u)?;
    let keep = u.arbitrary()?;
    let before = jsonc::parse(&case.text);
    let strict = jsonc::strip(&case.text).map(|(s, _)| s).unwrap_or_default();
    let duplicate = has_duplicate_key(strict.as_bytes());
    let editable = match &before {
        Some((None, _)) => jsonc::is_blank(&case.text),
        Some((Some(Value::Object(root)), _)) => {
            !duplicate
                && depth(&Value::Object(root.clone())) < 60
                && root
                    .get(case.container.as_str())
                    .is_none_or(Value::is_object)
        }
        _ => false,
    };
    check_install(&case, before.as_ref(), editable);
    if !duplicate {
        check_uninstall(&case, before.as_ref(), keep);
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
