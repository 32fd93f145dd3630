//! Editing Codex CLI's `config.toml`: add, update or remove one `[mcp_servers.<name>]` table
//! with a format-preserving parser, so every other table, key, comment and blank line keeps
//! its bytes.
//!
//! Text in, text out: this module never touches the filesystem.

use super::EditError;
use toml_edit::{Array, DocumentMut, Item, Table, TableLike, Value};

const SERVERS: &str = "mcp_servers";

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        EditError::at(text, offset, e.message().trim_end())
    })
}

/// `doc` as text that keeps the shape of `text` where toml_edit would not: its line endings
/// and a missing final newline. toml_edit ends every line it writes, so a file whose last line
/// had no newline would gain one that uninstalling could not tell from the user's own.
fn render(text: &str, doc: &DocumentMut, ours: &[&str]) -> String {
    let out = with_line_endings_of(text, doc, ours);
    let content = text.strip_prefix('\u{feff}').unwrap_or(text);
    if content.is_empty() || content.ends_with('\n') {
        return out;
    }
    match out.strip_suffix('\n') {
        Some(unterminated) => unterminated
            .strip_suffix('\r')
            .unwrap_or(unterminated)
            .to_string(),
        None => out,
    }
}

/// toml_edit writes every newline it owns as `\n`, so a file whose lines all end in `\r\n`
/// would otherwise have every line rewritten; such a file gets `\r\n` back throughout. Not
/// when one of the strings we write (`ours`) holds a newline: toml_edit writes it as a
/// multi-line string, whose raw newline would then change its value. A file mixing both
/// endings keeps toml_edit's `\n`.
fn with_line_endings_of(text: &str, doc: &DocumentMut, ours: &[&str]) -> String {
    let mut out = doc.to_string();
    // toml_edit reads past a byte-order mark and does not write it back.
    if text.starts_with('\u{feff}') && !out.starts_with('\u{feff}') {
        out.insert(0, '\u{feff}');
    }
    let bytes = text.as_bytes();
    let bare_lf = (0..bytes.len()).any(|i| bytes[i] == b'\n' && (i == 0 || bytes[i - 1] != b'\r'));
    if text.contains("\r\n") && !bare_lf && !ours.iter().any(|s| s.contains(['\n', '\r'])) {
        out.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        out
    }
}

/// Sets `key` to `new`, keeping the comments and spacing around an existing value: its key's
/// decor (a comment on the line above) stays with the key, its own (`# trailing`) is copied.
fn set(entry: &mut dyn TableLike, key: &str, mut new: Value) {
    match entry.get_mut(key) {
        Some(Item::Value(old)) => {
            *new.decor_mut() = old.decor().clone();
            *old = new;
        }
        _ => {
            entry.insert(key, Item::Value(new));
        }
    }
}

fn servers_table(doc: &mut DocumentMut, create: bool) -> Result<Option<&mut Table>, EditError> {
    if !doc.contains_key(SERVERS) {
        if !create {
            return Ok(None);
        }
        let mut table = Table::new();
        table.set_implicit(true);
        doc.insert(SERVERS, Item::Table(table));
    }
    match doc.get_mut(SERVERS).and_then(Item::as_table_mut) {
        Some(table) => Ok(Some(table)),
        None => Err(EditError::Shape(format!(
            "`{SERVERS}` is not a table; fix it by hand"
        ))),
    }
}

/// The text with `[mcp_servers.<name>]` holding `command` and `args`. Other keys the user put
/// in that table (such as `env` or `[mcp_servers.<name>.env]`) are kept; if the two keys
/// already hold these values the text is returned unchanged.
pub fn upsert(text: &str, name: &str, command: &str, args: &[String]) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let servers = servers_table(&mut doc, true)?
        .ok_or_else(|| EditError::Shape(format!("`{SERVERS}` could not be created")))?;
    if !servers.contains_key(name) {
        servers.insert(name, Item::Table(Table::new()));
    }
    let entry = servers
        .get_mut(name)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| {
            EditError::Shape(format!("`{SERVERS}.{name}` is not a table; fix it by hand"))
        })?;
    let same_command = entry.get("command").and_then(Item::as_str) == Some(command);
    let same_args = entry.get("args").and_then(Item::as_array).is_some_and(|a| {
        a.len() == args.len() && a.iter().zip(args).all(|(v, w)| v.as_str() == Some(w))
    });
    if same_command && same_args {
        return Ok(text.to_string());
    }
    if !same_command {
        set(entry, "command", Value::from(command));
    }
    if !same_args {
        set(entry, "args", Value::Array(args.iter().collect::<Array>()));
    }
    let ours: Vec<&str> = std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect();
    Ok(render(text, &doc, &ours))
}

/// The text without `[mcp_servers.<name>]` (and its subtables); unchanged if it is absent.
pub fn remove(text: &str, name: &str) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let Some(servers) = servers_table(&mut doc, false)? else {
        return Ok(text.to_string());
    };
    if servers.remove(name).is_none() {
        return Ok(text.to_string());
    }
    if servers.is_empty() && servers.is_implicit() {
        doc.remove(SERVERS);
    }
    Ok(render(text, &doc, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn fresh_file_gets_one_table() {
        let out = upsert("", "codex-harness", "/bin/x", &args()).unwrap_or_default();
        assert_eq!(
            out,
            "[mcp_servers.codex-harness]\ncommand = \"/bin/x\"\nargs = []\n"
        );
    }

    #[test]
    fn other_tables_and_comments_keep_their_bytes_and_removal_restores_the_file() {
        let original = "# my settings\nmodel = \"o3\"  # pinned\n\n[mcp_servers.other]\ncommand = \"o\"\nargs = [ \"a\" ]\n\n[profiles.x]\nk = 1\n";
        let installed = upsert(original, "codex-harness", "/bin/x", &args()).unwrap_or_default();
        let ours = "[mcp_servers.codex-harness]\ncommand = \"/bin/x\"\nargs = []\n\n";
        assert_eq!(installed.replacen(ours, "", 1), original, "{installed}");
        assert_eq!(
            remove(&installed, "codex-harness").ok(),
            Some(original.to_string())
        );
    }

    #[test]
    fn second_upsert_is_byte_identical() {
        let once = upsert(
            "a = 1\n",
            "codex-harness",
            "/bin/x",
            &["--project".into(), "/p".into()],
        )
        .unwrap_or_default();
        let twice = upsert(
            &once,
            "codex-harness",
            "/bin/x",
            &["--project".into(), "/p".into()],
        );
        assert_eq!(twice.ok(), Some(once));
    }

    #[test]
    fn update_keeps_the_users_extra_keys() {
        let original = "[mcp_servers.codex-harness]\ncommand = \"node\"\nargs = [\"s.mjs\"]\nstartup_timeout_sec = 20\n\n[mcp_servers.codex-harness.env]\nA = \"b\"\n";
        let out = upsert(original, "codex-harness", "/bin/x", &args()).unwrap_or_default();
        assert!(out.contains("command = \"/bin/x\""), "{out}");
        assert!(out.contains("startup_timeout_sec = 20"), "{out}");
        assert!(
            out.contains("[mcp_servers.codex-harness.env]\nA = \"b\""),
            "{out}"
        );
    }

    /// install_toml target: updating our entry dropped the user's comment above `args` (and
    /// a trailing comment on it), because the key was replaced along with its value.
    #[test]
    fn updating_the_entry_keeps_comments_on_its_lines() {
        let original = "[mcp_servers.n]\n# why\nargs = [\"old\"] # pinned\ncommand = \"/old\"\n";
        let out = upsert(original, "n", "/x", &args()).unwrap_or_default();
        assert_eq!(
            out,
            "[mcp_servers.n]\n# why\nargs = [] # pinned\ncommand = \"/x\"\n"
        );
    }

    #[test]
    fn malformed_toml_reports_line_and_column() {
        let err = upsert("a = 1\nb = = 2\n", "n", "/bin/x", &args()).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.starts_with("line 2, column 5"), "{text}");
    }

    #[test]
    fn servers_that_are_not_a_table_are_refused() {
        assert!(upsert("mcp_servers = 3\n", "n", "/bin/x", &args()).is_err());
    }

    /// install_toml target: a file with CRLF line endings came back from install then
    /// uninstall with every line ending rewritten to LF.
    #[test]
    fn crlf_line_endings_survive_install_and_uninstall() {
        for original in ["# c\r\n", "\r\n[a]\r\nx = 1\r\n", "a = '''x\r\ny'''\r\n"] {
            let installed = upsert(original, "n", "/x", &args()).unwrap_or_default();
            assert!(
                !installed.replace("\r\n", "").contains('\n'),
                "{installed:?}"
            );
            assert_eq!(remove(&installed, "n").ok().as_deref(), Some(original));
        }
        // Our own value with a newline stays a multi-line string with its exact value.
        let installed = upsert("# c\r\n", "n", "a\r\nb", &args()).unwrap_or_default();
        let doc: DocumentMut = installed.parse().unwrap_or_default();
        assert_eq!(doc["mcp_servers"]["n"]["command"].as_str(), Some("a\r\nb"));
    }

    #[test]
    fn a_byte_order_mark_survives_install_and_uninstall() {
        for original in ["\u{feff}\n\n", "\u{feff}[a]\r\nx = 1\r\n", "\u{feff}"] {
            let installed = upsert(original, "n", "/x", &args()).unwrap_or_default();
            assert!(installed.starts_with("\u{feff}["), "{installed:?}");
            assert_eq!(remove(&installed, "n").ok().as_deref(), Some(original));
        }
    }

    /// install_toml target: toml_edit ends every line it writes, so a file whose last line
    /// had no newline came back from install then uninstall with one.
    #[test]
    fn a_file_without_a_final_newline_keeps_it_missing() {
        for original in [
            "[[hooks]]\t",
            "a = 1",
            "[x] # c",
            "a = 1\r\n[x]",
            "\u{feff}a = 1",
        ] {
            let installed = upsert(original, "n", "/x", &args()).unwrap_or_default();
            assert!(installed.contains("[mcp_servers.n]"), "{installed:?}");
            assert!(!installed.ends_with('\n'), "{installed:?}");
            assert_eq!(remove(&installed, "n").ok().as_deref(), Some(original));
        }
    }

    #[test]
    fn removing_an_absent_entry_changes_nothing() {
        let text = "# c\n[mcp_servers.other]\ncommand = \"o\"\n";
        assert_eq!(remove(text, "codex-harness").ok(), Some(text.to_string()));
    }
}
