//! The installer's TOML editor (`install::toml::upsert` / `remove`) on Codex CLI's
//! `config.toml`: generated documents (tables, dotted and inline tables, arrays of tables,
//! comments, blank lines, an existing `[mcp_servers.<name>]` or not) or raw text.
//!
//! Checks, with the `toml` crate as an independent reader:
//! - an install's output parses; its `mcp_servers.<name>` has exactly the given `command` and
//!   `args`, and every other key of the document has its old value; every comment line of the
//!   input is still there; installing again changes nothing;
//! - when the entry was absent, uninstalling the output gives back the input byte for byte
//!   (a file mixing CRLF and LF line endings comes back with LF);
//! - an uninstall's output parses and equals the input without `mcp_servers.<name>` (and
//!   without an implicit `mcp_servers` it leaves empty);
//! - text the `toml` crate reads as a document whose `mcp_servers` is absent or a table is
//!   never refused by an install.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::install::toml::{remove, upsert};
use fuzz_support::piece_string;
use libfuzzer_sys::fuzz_target;
use toml::{Table, Value};

const NAMES: &[&str] = &[
    "codex-harness",
    "codexHarness",
    "other",
    "a.b",
    "with space",
    "",
];
const KEYS: &[&str] = &[
    "model",
    "approval_policy",
    "env",
    "command",
    "args",
    "x-y",
    "\"q k\"",
];

fn scalar(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 => format!("{}", u.arbitrary::<i32>()?),
        1 => u
            .choose(&["true", "false", "1.5", "-0.0", "inf", "1979-05-27"])?
            .to_string(),
        2 => format!("'{}'", piece_string(u, 3)?.replace(['\'', '\n', '\r'], "")),
        3 => "[1, 'a', [true]]".to_string(),
        4 => "{ k = 1, m = 'x' }".to_string(),
        _ => toml::Value::String(piece_string(u, 4)?).to_string(),
    })
}

fn quoted(name: &str) -> String {
    toml::Value::String(name.to_string()).to_string()
}

fn document(u: &mut Unstructured<'_>, name: &str) -> Result<String> {
    let mut out = String::new();
    for _ in 0..u.int_in_range(0..=8)? {
        match u.int_in_range(0..=9)? {
            0 => out.push('\n'),
            1 => out.push_str(&format!(
                "# {}\n",
                piece_string(u, 3)?.replace(['\n', '\r'], "")
            )),
            2 | 3 => out.push_str(&format!("{} = {}\n", u.choose(KEYS)?, scalar(u)?)),
            4 => out.push_str(&format!(
                "[{}]\n",
                u.choose(&["profiles", "tui", "a.b", "env"])?
            )),
            5 => out.push_str(&format!("[mcp_servers.{}]\n", quoted(name))),
            6 => out.push_str(&format!("[mcp_servers.{}]\n", quoted(u.choose(NAMES)?))),
            7 => out.push_str("[mcp_servers]\n"),
            8 => out.push_str(&format!("[mcp_servers.{}.env]\n", quoted(name))),
            _ => out.push_str("[[hooks]]\n"),
        }
    }
    Ok(out)
}

/// A file whose lines all end in CRLF keeps them byte for byte; one mixing CRLF and LF, or
/// getting a value of ours with a newline (`force`), comes back with toml_edit's LF (the
/// editor's documented limit).
fn newlines(text: &str, force: bool) -> std::borrow::Cow<'_, str> {
    let crlf = text.matches("\r\n").count();
    if crlf > 0 && (force || crlf != text.matches('\n').count()) {
        text.replace("\r\n", "\n").into()
    } else {
        text.into()
    }
}

fn comment_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with('#'))
        .collect()
}

fn servers(table: &mut Table) -> Option<&mut Table> {
    table.get_mut("mcp_servers").and_then(Value::as_table_mut)
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let name = if u.ratio(7, 8)? {
        u.choose(NAMES)?.to_string()
    } else {
        piece_string(u, 2)?
    };
    let command = piece_string(u, 4)?;
    let args: Vec<String> = (0..u.int_in_range(0..=3)?)
        .map(|_| piece_string(u, 3))
        .collect::<Result<_>>()?;
    let text = if u.ratio(1, 6)? {
        String::from_utf8_lossy(u.bytes(u.len())?).into_owned()
    } else {
        document(u, &name)?
    };
    let before: Option<Table> = text.parse::<Table>().ok();

    match upsert(&text, &name, &command, &args) {
        Ok(out) => {
            let Some(before) = &before else {
                // The editor's parser (toml_edit) and the oracle disagree on the input.
                panic!("install accepted text the toml crate refuses: {text:?}");
            };
            let after: Table = out
                .parse()
                .unwrap_or_else(|e| panic!("install output does not parse ({e}): {out:?}"));
            let mut expected = before.clone();
            let had_entry = before
                .get("mcp_servers")
                .and_then(|s| s.get(name.as_str()))
                .is_some();
            let entry = expected
                .entry("mcp_servers")
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
                .expect("an edited mcp_servers is a table")
                .entry(name.clone())
                .or_insert_with(|| Value::Table(Table::new()));
            let entry = entry.as_table_mut().expect("an edited entry is a table");
            entry.insert("command".into(), Value::String(command.clone()));
            entry.insert(
                "args".into(),
                Value::Array(args.iter().cloned().map(Value::String).collect()),
            );
            assert_eq!(
                after, expected,
                "install changed other keys: {text:?} -> {out:?}"
            );
            let kept = comment_lines(&out);
            for comment in comment_lines(&text) {
                assert!(
                    kept.contains(&comment),
                    "lost {comment:?}: {text:?} -> {out:?}"
                );
            }
            assert_eq!(
                upsert(&out, &name, &command, &args).as_deref(),
                Ok(out.as_str()),
                "installing twice changed the file"
            );
            if !had_entry {
                let back = remove(&out, &name)
                    .unwrap_or_else(|e| panic!("uninstall refused its own install ({e}): {out:?}"));
                let ours_multiline = std::iter::once(&command)
                    .chain(&args)
                    .any(|s| s.contains(['\n', '\r']));
                assert_eq!(
                    newlines(&back, ours_multiline),
                    newlines(&text, ours_multiline),
                    "install then uninstall is not the identity: {out:?}"
                );
            }
        }
        Err(error) => {
            let editable = before.as_ref().is_some_and(|b| {
                b.get("mcp_servers").is_none_or(|s| {
                    s.as_table()
                        .is_some_and(|s| s.get(name.as_str()).is_none_or(Value::is_table))
                })
            });
            assert!(!editable, "refused an editable file ({error}): {text:?}");
        }
    }

    if let Ok(out) = remove(&text, &name) {
        let Some(before) = &before else {
            panic!("uninstall accepted text the toml crate refuses: {text:?}");
        };
        let after: Table = out
            .parse()
            .unwrap_or_else(|e| panic!("uninstall output does not parse ({e}): {out:?}"));
        let mut expected = before.clone();
        if let Some(servers) = servers(&mut expected) {
            servers.remove(name.as_str());
        }
        // An implicit `[mcp_servers]` left empty is dropped, an explicit one stays: either way
        // the document means the same.
        let mut after_normalised = after.clone();
        for table in [&mut expected, &mut after_normalised] {
            if servers(table).is_some_and(|s| s.is_empty()) {
                table.remove("mcp_servers");
            }
        }
        assert_eq!(
            after_normalised, expected,
            "uninstall changed other keys: {text:?} -> {out:?}"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
