//! Editing a JSON (or JSONC) client configuration by splicing text: the file is parsed only to
//! learn where things are, and the edit replaces, inserts or removes the bytes of our one entry,
//! so every other key, its order, its formatting and every `//` or `/* */` comment keep their
//! bytes. Trailing commas (JSONC) are tolerated.
//!
//! Text in, text out: this module never touches the filesystem.

use super::EditError;
use serde_json::{Map, Value};

/// Deeper nesting than this is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

#[derive(Debug)]
struct Node {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    Scalar(Value),
}

#[derive(Debug)]
struct Member {
    key: String,
    key_start: usize,
    value: Node,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, offset: usize, message: &str) -> EditError {
        EditError::at(self.text, offset, message)
    }

    fn skip_trivia(&mut self) -> Result<(), EditError> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.bytes.get(self.pos + 1) {
                    Some(b'/') => {
                        while !matches!(self.bytes.get(self.pos), None | Some(b'\n')) {
                            self.pos += 1;
                        }
                    }
                    Some(b'*') => {
                        let start = self.pos;
                        match self.text[self.pos + 2..].find("*/") {
                            Some(at) => self.pos += 2 + at + 2,
                            None => return Err(self.error(start, "unterminated /* comment")),
                        }
                    }
                    _ => return Err(self.error(self.pos, "unexpected '/'")),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, EditError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, "nesting too deep"));
        }
        let start = self.pos;
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let text = self.string()?;
                Ok(Node {
                    start,
                    end: self.pos,
                    kind: Kind::Scalar(Value::String(text)),
                })
            }
            Some(b'-' | b'0'..=b'9') => {
                while matches!(
                    self.bytes.get(self.pos),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                let number =
                    serde_json::from_str::<serde_json::Number>(&self.text[start..self.pos])
                        .map_err(|_| self.error(start, "invalid number"))?;
                Ok(Node {
                    start,
                    end: self.pos,
                    kind: Kind::Scalar(Value::Number(number)),
                })
            }
            _ => {
                for (word, value) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    let end = self.pos + word.len();
                    if self.text[self.pos..].starts_with(word)
                        && !self.bytes.get(end).is_some_and(u8::is_ascii_alphanumeric)
                    {
                        self.pos = end;
                        return Ok(Node {
                            start,
                            end,
                            kind: Kind::Scalar(value),
                        });
                    }
                }
                Err(self.error(start, "expected a JSON value"))
            }
        }
    }

    fn string(&mut self) -> Result<String, EditError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.error(start, "unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => self.pos += 2,
                Some(byte) if *byte < 0x20 => {
                    return Err(self.error(self.pos, "control character in string"))
                }
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        let raw = self
            .text
            .get(start..self.pos)
            .ok_or_else(|| self.error(start, "unterminated string"))?;
        serde_json::from_str::<String>(raw).map_err(|_| self.error(start, "invalid string escape"))
    }

    fn object(&mut self, depth: usize) -> Result<Node, EditError> {
        let start = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_trivia()?;
            match self.bytes.get(self.pos) {
                Some(b'}') => break,
                Some(b'"') => {}
                _ => return Err(self.error(self.pos, "expected a string key or '}'")),
            }
            let key_start = self.pos;
            let key = self.string()?;
            self.skip_trivia()?;
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error(self.pos, "expected ':'"));
            }
            self.pos += 1;
            self.skip_trivia()?;
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_start,
                value,
            });
            self.skip_trivia()?;
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return Err(self.error(self.pos, "expected ',' or '}'")),
            }
        }
        self.pos += 1;
        Ok(Node {
            start,
            end: self.pos,
            kind: Kind::Object(members),
        })
    }

    fn array(&mut self, depth: usize) -> Result<Node, EditError> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_trivia()?;
            if self.bytes.get(self.pos) == Some(&b']') {
                break;
            }
            items.push(self.value(depth + 1)?);
            self.skip_trivia()?;
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => break,
                _ => return Err(self.error(self.pos, "expected ',' or ']'")),
            }
        }
        self.pos += 1;
        Ok(Node {
            start,
            end: self.pos,
            kind: Kind::Array(items),
        })
    }
}

/// Parses the whole text: `None` when it holds no value at all (empty, whitespace or only
/// comments).
fn parse(text: &str) -> Result<Option<Node>, EditError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    parser.skip_trivia()?;
    if parser.pos == text.len() {
        return Ok(None);
    }
    let root = parser.value(0)?;
    parser.skip_trivia()?;
    if parser.pos != text.len() {
        return Err(parser.error(parser.pos, "unexpected text after the JSON value"));
    }
    Ok(Some(root))
}

fn to_value(node: &Node) -> Value {
    match &node.kind {
        Kind::Scalar(value) => value.clone(),
        Kind::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Kind::Object(members) => Value::Object(
            members
                .iter()
                .map(|m| (m.key.clone(), to_value(&m.value)))
                .collect(),
        ),
    }
}

/// The layout conventions of the file being edited.
struct Style {
    newline: &'static str,
    unit: String,
}

impl Style {
    fn of(text: &str, root: Option<&Node>) -> Self {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let unit = root
            .and_then(|r| match &r.kind {
                Kind::Object(members) => members.first(),
                _ => None,
            })
            .and_then(|m| own_line_indent(text, m.key_start))
            .filter(|indent| !indent.is_empty())
            .unwrap_or("  ")
            .to_string();
        Self { newline, unit }
    }

    /// `value` pretty-printed with this file's indent unit, continuation lines starting at
    /// `base`.
    fn render(&self, value: &Value, base: &str) -> String {
        let mut out = String::new();
        self.render_into(&mut out, value, base);
        out
    }

    fn render_into(&self, out: &mut String, value: &Value, indent: &str) {
        let inner = format!("{indent}{}", self.unit);
        let nl = self.newline;
        match value {
            Value::Object(map) if !map.is_empty() => {
                out.push('{');
                for (i, (key, item)) in map.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { "," });
                    out.push_str(&format!("{nl}{inner}{}: ", Value::String(key.clone())));
                    self.render_into(out, item, &inner);
                }
                out.push_str(&format!("{nl}{indent}}}"));
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "" } else { "," });
                    out.push_str(&format!("{nl}{inner}"));
                    self.render_into(out, item, &inner);
                }
                out.push_str(&format!("{nl}{indent}]"));
            }
            other => out.push_str(&other.to_string()),
        }
    }
}

/// The indentation before `pos` if only spaces and tabs separate it from the start of its line.
fn own_line_indent(text: &str, pos: usize) -> Option<&str> {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..pos];
    indent
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
        .then_some(indent)
}

/// The leading whitespace of the line holding `pos`.
fn line_indent(text: &str, pos: usize) -> &str {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let width = line
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    &line[..width]
}

/// The indentation for members of `object`: that of its first member when it sits on its own
/// line, else one unit deeper than the line the object opens on.
fn member_indent(text: &str, object: &Node, members: &[Member], style: &Style) -> String {
    members
        .first()
        .and_then(|m| own_line_indent(text, m.key_start))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}{}", line_indent(text, object.start), style.unit))
}

fn members(node: &Node) -> Option<&[Member]> {
    match &node.kind {
        Kind::Object(members) => Some(members),
        _ => None,
    }
}

/// The one member called `key`, refusing duplicates (parsers disagree on which one wins).
fn find<'n>(
    members: &'n [Member],
    key: &str,
    text: &str,
) -> Result<Option<(usize, &'n Member)>, EditError> {
    let mut found = members.iter().enumerate().filter(|(_, m)| m.key == key);
    let first = found.next();
    if let Some((_, second)) = found.next() {
        return Err(EditError::at(
            text,
            second.key_start,
            &format!("duplicate key \"{key}\"; fix it by hand"),
        ));
    }
    Ok(first)
}

/// One text replacement.
struct Splice {
    start: usize,
    end: usize,
    with: String,
}

fn apply(text: &str, mut splices: Vec<Splice>) -> String {
    splices.sort_by_key(|s| std::cmp::Reverse(s.start));
    let mut out = text.to_string();
    for splice in splices {
        out.replace_range(splice.start..splice.end, &splice.with);
    }
    out
}

/// The splice adding `"key": <value>` as the last member of `object`.
fn insert_member(
    text: &str,
    object: &Node,
    members: &[Member],
    key: &str,
    value: &dyn Fn(&str) -> String,
    style: &Style,
) -> Splice {
    let indent = member_indent(text, object, members, style);
    let key = Value::String(key.to_string()).to_string();
    let member = format!("{key}: {}", value(&indent));
    let nl = style.newline;
    match members.last() {
        Some(last) => Splice {
            start: last.value.end,
            end: last.value.end,
            with: format!(",{nl}{indent}{member}"),
        },
        None => {
            let inner = &text[object.start + 1..object.end - 1];
            if inner.trim().is_empty() {
                let close = line_indent(text, object.start);
                Splice {
                    start: object.start + 1,
                    end: object.end - 1,
                    with: format!("{nl}{indent}{member}{nl}{close}"),
                }
            } else {
                Splice {
                    start: object.start + 1,
                    end: object.start + 1,
                    with: format!("{nl}{indent}{member}"),
                }
            }
        }
    }
}

/// The position just after the next non-trivia byte at or after `pos` if that byte is a comma.
fn comma_after(text: &str, pos: usize) -> Option<usize> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos,
    };
    parser.skip_trivia().ok()?;
    (parser.bytes.get(parser.pos) == Some(&b',')).then_some(parser.pos)
}

fn is_blank_separator(between: &str) -> bool {
    between.bytes().filter(|b| *b == b',').count() <= 1
        && between
            .bytes()
            .all(|b| b.is_ascii_whitespace() || b == b',')
}

/// The splices removing member `index` of `object`, the exact inverse of [`insert_member`]
/// when nothing else was edited in between; comments around it are left in place.
fn remove_member(text: &str, object: &Node, members: &[Member], index: usize) -> Vec<Splice> {
    let Some(member) = members.get(index) else {
        return Vec::new();
    };
    let (start, end) = (member.key_start, member.value.end);
    let cut = |start: usize, end: usize| Splice {
        start,
        end,
        with: String::new(),
    };
    if members.len() == 1 {
        let inner = object.start + 1..object.end - 1;
        let rest = format!("{}{}", &text[inner.start..start], &text[end..inner.end]);
        if is_blank_separator(&rest) {
            return vec![cut(inner.start, inner.end)];
        }
        // Only whitespace before it: the newline and indent `insert_member` wrote go too.
        let before_blank = text[inner.start..start]
            .bytes()
            .all(|b| b.is_ascii_whitespace());
        let mut splices = vec![cut(if before_blank { inner.start } else { start }, end)];
        if let Some(comma) = comma_after(text, end) {
            splices.push(cut(comma, comma + 1));
        }
        return splices;
    }
    if index > 0 {
        let previous_end = members[index - 1].value.end;
        if is_blank_separator(&text[previous_end..start]) {
            return vec![cut(previous_end, end)];
        }
        let mut splices = vec![cut(start, end)];
        if let Some(comma) = comma_after(text, previous_end) {
            splices.push(cut(comma, comma + 1));
        }
        return splices;
    }
    let next_start = members[1].key_start;
    if is_blank_separator(&text[end..next_start]) {
        return vec![cut(start, next_start)];
    }
    let mut splices = vec![cut(start, end)];
    if let Some(comma) = comma_after(text, end) {
        splices.push(cut(comma, comma + 1));
    }
    splices
}

fn root_object(root: &Node) -> Result<&[Member], EditError> {
    members(root).ok_or_else(|| EditError::Shape("config root must be a JSON object".into()))
}

fn container_object<'n>(member: &'n Member, container: &str) -> Result<&'n [Member], EditError> {
    members(&member.value).ok_or_else(|| {
        EditError::Shape(format!(
            "\"{container}\" is not a JSON object; fix it by hand"
        ))
    })
}

/// The text with `<container>.<name>` set to `entry`. Keys the user added to an existing entry
/// are kept (ours are overwritten in place); if nothing would change the text is returned as
/// it is.
pub fn upsert(text: &str, container: &str, name: &str, entry: &Value) -> Result<String, EditError> {
    let root = parse(text)?;
    let style = Style::of(text, root.as_ref());
    let Some(root) = root else {
        if !text.trim().is_empty() {
            return Err(EditError::Shape(
                "the file holds only comments; add an empty object {} to it first".into(),
            ));
        }
        let mut servers = Map::new();
        servers.insert(name.to_string(), entry.clone());
        let mut document = Map::new();
        document.insert(container.to_string(), Value::Object(servers));
        return Ok(format!(
            "{}{}",
            style.render(&Value::Object(document), ""),
            style.newline
        ));
    };
    let root_members = root_object(&root)?;
    let Some((_, servers)) = find(root_members, container, text)? else {
        let mut servers = Map::new();
        servers.insert(name.to_string(), entry.clone());
        let servers = Value::Object(servers);
        let splice = insert_member(
            text,
            &root,
            root_members,
            container,
            &|indent| style.render(&servers, indent),
            &style,
        );
        return Ok(apply(text, vec![splice]));
    };
    let server_members = container_object(servers, container)?;
    let Some((_, existing)) = find(server_members, name, text)? else {
        let splice = insert_member(
            text,
            &servers.value,
            server_members,
            name,
            &|indent| style.render(entry, indent),
            &style,
        );
        return Ok(apply(text, vec![splice]));
    };
    let current = to_value(&existing.value);
    let wanted = match (&current, entry) {
        (Value::Object(current), Value::Object(ours)) => {
            let mut merged = current.clone();
            for (key, value) in ours {
                merged.insert(key.clone(), value.clone());
            }
            Value::Object(merged)
        }
        _ => entry.clone(),
    };
    if wanted == current {
        return Ok(text.to_string());
    }
    let indent = own_line_indent(text, existing.key_start)
        .map(str::to_string)
        .unwrap_or_else(|| line_indent(text, existing.key_start).to_string());
    let splice = Splice {
        start: existing.value.start,
        end: existing.value.end,
        with: style.render(&wanted, &indent),
    };
    Ok(apply(text, vec![splice]))
}

/// The text without `<container>.<name>`. When our entry was all the container held, the
/// container goes too, unless `keep_container` (the client refuses a file without it): then
/// it is left as an empty object. Unchanged when the entry is absent.
pub fn remove(
    text: &str,
    container: &str,
    name: &str,
    keep_container: bool,
) -> Result<String, EditError> {
    let Some(root) = parse(text)? else {
        return Ok(text.to_string());
    };
    let root_members = root_object(&root)?;
    let Some((servers_index, servers)) = find(root_members, container, text)? else {
        return Ok(text.to_string());
    };
    let server_members = container_object(servers, container)?;
    let Some((index, _)) = find(server_members, name, text)? else {
        return Ok(text.to_string());
    };
    let splices = remove_member(text, &servers.value, server_members, index);
    let only_ours = server_members.len() == 1
        && splices.len() == 1
        && splices
            .first()
            .is_some_and(|s| s.start == servers.value.start + 1 && s.end == servers.value.end - 1);
    if only_ours && keep_container {
        let emptied = Splice {
            start: servers.value.start + 1,
            end: servers.value.end - 1,
            with: String::new(),
        };
        return Ok(apply(text, vec![emptied]));
    }
    if only_ours {
        return Ok(apply(
            text,
            remove_member(text, &root, root_members, servers_index),
        ));
    }
    Ok(apply(text, splices))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Value {
        json!({"command": "/bin/x", "args": ["--project", "/p"]})
    }

    fn install(text: &str) -> String {
        upsert(text, "mcpServers", "codex-harness", &entry()).unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn uninstall(text: &str) -> String {
        remove(text, "mcpServers", "codex-harness", false).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn empty_file_gets_a_two_space_document() {
        assert_eq!(
            install(""),
            "{\n  \"mcpServers\": {\n    \"codex-harness\": {\n      \"command\": \"/bin/x\",\n      \"args\": [\n        \"--project\",\n        \"/p\"\n      ]\n    }\n  }\n}\n"
        );
    }

    #[test]
    fn install_then_remove_restores_every_byte() {
        for original in [
            "{}\n",
            "{\n  \"theme\": \"dark\"\n}\n",
            "{\n    \"mcpServers\": {\n        \"other\": {\"command\": \"o\"}\n    },\n    \"z\": [1, 2]\n}",
            "// top\n{\n  /* a */ \"a\": 1, // after a\n  \"mcpServers\": {\n    // keep me\n    \"other\": {}, // trailing\n  },\n}\n",
            "{\r\n  \"mcpServers\": {\r\n    \"other\": {}\r\n  }\r\n}\r\n",
            "{\"mcpServers\":{\"a\":1,\"b\":2}}",
        ] {
            let installed = install(original);
            assert!(!installed.starts_with("ERR"), "{installed}");
            let parsed = parse(&installed).ok().flatten().map(|n| to_value(&n));
            assert_eq!(
                parsed.and_then(|v| v.pointer("/mcpServers/codex-harness").cloned()),
                Some(entry()),
                "{installed}"
            );
            assert_eq!(uninstall(&installed), original, "{installed}");
        }
    }

    /// install_json target: an object holding only a comment got the entry's newline and
    /// indent inserted before the comment, and removing the entry left them behind.
    #[test]
    fn install_then_remove_restores_an_object_holding_only_a_comment() {
        for original in [
            "\t{// c\n}",
            "{\n  /* c */\n}\n",
            "{\"mcpServers\": {// c\n}}",
        ] {
            let installed = install(original);
            assert!(!installed.starts_with("ERR"), "{installed}");
            assert_eq!(uninstall(&installed), original, "{installed:?}");
        }
    }

    #[test]
    fn new_entry_follows_the_files_indentation() {
        let out = install("{\n    \"mcpServers\": {\n        \"other\": {}\n    }\n}\n");
        assert!(
            out.contains(",\n        \"codex-harness\": {\n            \"command\""),
            "{out}"
        );
    }

    #[test]
    fn second_install_changes_nothing() {
        let once = install("{\"a\": 1}");
        assert_eq!(install(&once), once);
    }

    #[test]
    fn update_keeps_extra_keys_and_position() {
        let original = "{\n  \"mcpServers\": {\n    \"codex-harness\": {\"command\": \"node\", \"env\": {\"A\": \"b\"}},\n    \"z\": {}\n  }\n}\n";
        let out = install(original);
        let value = parse(&out)
            .ok()
            .flatten()
            .map(|n| to_value(&n))
            .unwrap_or_default();
        assert_eq!(
            value["mcpServers"]["codex-harness"]["env"],
            json!({"A": "b"})
        );
        assert_eq!(
            value["mcpServers"]["codex-harness"]["command"],
            json!("/bin/x")
        );
        assert!(out.ends_with("},\n    \"z\": {}\n  }\n}\n"), "{out}");
    }

    #[test]
    fn removing_a_middle_member_keeps_its_neighbours() {
        let text = "{\"mcpServers\": {\"a\": 1, \"codex-harness\": {}, \"b\": 2}}";
        assert_eq!(uninstall(text), "{\"mcpServers\": {\"a\": 1, \"b\": 2}}");
        let first = "{\"mcpServers\": {\"codex-harness\": {}, \"b\": 2}}";
        assert_eq!(uninstall(first), "{\"mcpServers\": {\"b\": 2}}");
    }

    #[test]
    fn removal_keeps_neighbouring_comments() {
        let text = "{\"mcpServers\": {\"a\": 1, // note\n \"codex-harness\": {}}}";
        let out = uninstall(text);
        assert!(out.contains("// note"), "{out}");
        assert_eq!(
            parse(&out).ok().flatten().map(|n| to_value(&n)),
            Some(json!({"mcpServers": {"a": 1}}))
        );
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let out = install("{\n  \"a\": 1,\n  \"b\" 2\n}\n");
        assert!(out.starts_with("ERR line 3, column 7"), "{out}");
        assert!(install("{\n /* open").starts_with("ERR line 2, column 2"));
    }

    #[test]
    fn wrong_shapes_and_duplicates_are_refused() {
        assert!(install("[]").starts_with("ERR config root must be a JSON object"));
        assert!(
            install("{\"mcpServers\": 3}").starts_with("ERR \"mcpServers\" is not a JSON object")
        );
        assert!(install("{\"mcpServers\": {}, \"mcpServers\": {}}").contains("duplicate key"));
        assert!(install("// only a comment\n").starts_with("ERR"));
    }

    #[test]
    fn nesting_beyond_the_limit_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(install(&deep).contains("nesting too deep"));
    }

    #[test]
    fn removing_the_last_server_can_keep_an_empty_container() {
        let keep = |text: &str| remove(text, "mcpServers", "codex-harness", true).ok();
        let fresh = install("");
        assert_eq!(
            keep(&fresh),
            Some("{\n  \"mcpServers\": {}\n}\n".to_string())
        );
        let beside = install("{\"theme\": \"dark\"}");
        assert_eq!(
            keep(&beside).and_then(|t| parse(&t).ok().flatten().map(|n| to_value(&n))),
            Some(json!({"theme": "dark", "mcpServers": {}}))
        );
        let two = "{\"mcpServers\": {\"a\": 1, \"codex-harness\": {}}}";
        assert_eq!(keep(two), Some("{\"mcpServers\": {\"a\": 1}}".to_string()));
    }

    #[test]
    fn removing_from_a_file_without_the_entry_changes_nothing() {
        for text in ["", "{}", "{\"mcpServers\": {\"a\": 1}}", "{\"b\": 1}"] {
            assert_eq!(uninstall(text), text);
        }
    }
}
