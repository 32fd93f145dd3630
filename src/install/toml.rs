//! Editing Codex CLI's `config.toml`: add, update or remove one `[mcp_servers.<name>]` table
//! with a format-preserving parser, so every other table, key, comment and blank line keeps
//! its bytes.
//!
//! Text in, text out: this module never touches the filesystem.

use super::EditError;
use toml_edit::{value, Array, DocumentMut, Item, Table};

const SERVERS: &str = "mcp_servers";

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        EditError::at(text, offset, e.message().trim_end())
    })
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
        entry.insert("command", value(command));
    }
    if !same_args {
        entry.insert("args", value(args.iter().collect::<Array>()));
    }
    Ok(doc.to_string())
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
    Ok(doc.to_string())
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

    #[test]
    fn removing_an_absent_entry_changes_nothing() {
        let text = "# c\n[mcp_servers.other]\ncommand = \"o\"\n";
        assert_eq!(remove(text, "codex-harness").ok(), Some(text.to_string()));
    }
}
