//! Parsing untrusted JSON: protocol lines from the client and files possibly written by a
//! Node server or tampered with. Nesting is bounded before the parser recurses.
//!
//! A protocol line is also scanned once more after it parsed (so the scan only ever sees
//! valid JSON) for what `serde_json::Value` cannot keep: a key repeated inside one object
//! (the parser silently keeps the last one) and the exact text of each top-level member,
//! which is how a request id is echoed byte for byte instead of through a double. Number
//! handling is serde_json's default everywhere else.

use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashSet;

/// Deepest array/object nesting accepted anywhere (protocol lines and stored files). The tool
/// schemas need depth 3; 64 leaves room for any honest client while keeping recursion shallow.
pub const MAX_JSON_DEPTH: usize = 64;

/// Why a document could not be parsed. The text is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A protocol line that parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<'a> {
    /// The document. Where a key is repeated (see `duplicate`), the last value is kept.
    pub value: Value,
    /// When `value` is an object: each member's key and the exact text of its value as it
    /// appears on the line (no surrounding whitespace), in line order.
    pub members: Vec<(String, &'a str)>,
    /// The first key found repeated within one object, anywhere in the document.
    pub duplicate: Option<DuplicateKey>,
}

/// A key that appears twice in the same object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The repeated key (escapes decoded: `"\u0069d"` repeats `"id"`).
    pub key: String,
    /// `None` when the top-level object repeats it; otherwise the key of the top-level
    /// member inside whose value the repeating object sits.
    pub within: Option<String>,
}

/// Parses one protocol line strictly: a lone surrogate escape is an error (JavaScript would
/// accept it; we refuse to normalise what the client sent into something else), and so is a
/// number too large for a double. Repeated keys are reported, not refused: the caller decides
/// which error they are.
pub fn parse_message(text: &str) -> Result<Message<'_>, ParseError> {
    check_depth(text)?;
    let value = serde_json::from_str(text).map_err(|error| ParseError(error.to_string()))?;
    let scan = Scan::of(text)?;
    Ok(Message {
        value,
        members: scan.members,
        duplicate: scan.duplicate,
    })
}

/// What [`parse_message`] learns from its second pass over a line already known to be valid.
struct Scan<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    members: Vec<(String, &'a str)>,
    duplicate: Option<DuplicateKey>,
}

impl<'a> Scan<'a> {
    fn of(text: &'a str) -> Result<Scan<'a>, ParseError> {
        let mut scan = Scan {
            bytes: text.as_bytes(),
            text,
            at: 0,
            members: Vec::new(),
            duplicate: None,
        };
        scan.skip_whitespace();
        if scan.peek() == Some(b'{') {
            scan.object(None)?;
        }
        Ok(scan)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skips the string starting at `self.at`; returns its text including the quotes.
    fn string(&mut self) -> &'a str {
        let start = self.at;
        self.at += 1;
        while let Some(byte) = self.peek() {
            self.at += if byte == b'\\' { 2 } else { 1 };
            if byte == b'"' {
                break;
            }
        }
        self.slice(start)
    }

    /// The text from `start` to the current position. The scan only runs on valid JSON, where
    /// every stop is an ASCII delimiter, so this is never empty by accident; `get` keeps even
    /// an impossible mis-step from panicking.
    fn slice(&self, start: usize) -> &'a str {
        self.text.get(start..self.at).unwrap_or_default()
    }

    /// Skips one value; `within` is the top-level member it belongs to (`None` at the top).
    fn value(&mut self, within: Option<&str>) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'{') => self.object(within),
            Some(b'[') => {
                self.at += 1;
                loop {
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b']') | None => break,
                        Some(b',') => self.at += 1,
                        Some(_) => self.value(within)?,
                    }
                }
                self.at += 1;
                Ok(())
            }
            Some(b'"') => {
                self.string();
                Ok(())
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.at += 1;
                }
                Ok(())
            }
        }
    }

    /// Skips one object, noting the first repeated key; at the top level (`within` is
    /// `None`) it also records each member's text.
    fn object(&mut self, within: Option<&str>) -> Result<(), ParseError> {
        let top = within.is_none();
        let mut keys = Keys::default();
        self.at += 1;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'}') | None => break,
                Some(b',') => {
                    self.at += 1;
                    continue;
                }
                _ => {}
            }
            let quoted = self.string();
            let key: Cow<'a, str> = if quoted.contains('\\') {
                Cow::Owned(
                    serde_json::from_str::<String>(quoted)
                        .map_err(|error| ParseError(error.to_string()))?,
                )
            } else {
                Cow::Borrowed(quoted.get(1..quoted.len() - 1).unwrap_or_default())
            };
            self.skip_whitespace();
            self.at += 1; // the colon
            self.skip_whitespace();
            let start = self.at;
            self.value(Some(within.unwrap_or(&key)))?;
            if top {
                self.members.push((key.to_string(), self.slice(start)));
            }
            if self.duplicate.is_none() && !keys.insert(key.clone()) {
                self.duplicate = Some(DuplicateKey {
                    key: key.into_owned(),
                    within: within.map(str::to_string),
                });
            }
        }
        self.at += 1;
        Ok(())
    }
}

/// The keys seen so far in one object: a short list searched linearly (most objects have a
/// handful of keys), then a hash set, so one huge object still costs linear time.
#[derive(Default)]
struct Keys<'a> {
    few: Vec<Cow<'a, str>>,
    many: HashSet<Cow<'a, str>>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// Records `key`; `false` when the object already had it.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&key) {
                return false;
            }
            if self.few.len() < Self::FEW {
                self.few.push(key);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(key)
    }
}

/// Parses a stored file leniently: invalid UTF-8 and lone surrogate escapes become U+FFFD,
/// as Node's reader does, so one bad byte never makes a whole record unreadable.
pub fn parse_lenient(bytes: &[u8]) -> Result<Value, ParseError> {
    parse_text(&String::from_utf8_lossy(bytes))
}

fn parse_text(text: &str) -> Result<Value, ParseError> {
    check_depth(text)?;
    let repaired = repair_lone_surrogates(text);
    serde_json::from_str(repaired.as_deref().unwrap_or(text))
        .map_err(|error| ParseError(error.to_string()))
}

/// Rejects nesting deeper than [`MAX_JSON_DEPTH`] with one linear scan, so the recursive
/// parser never sees a document that could exhaust the stack.
fn check_depth(text: &str) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(ParseError(format!(
                        "JSON nesting exceeds the maximum depth of {MAX_JSON_DEPTH}"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(bytes.get(..4)?).ok()?;
    u16::from_str_radix(text, 16).ok()
}

/// Rewrites `\uD800`-style escapes that are not half of a valid pair to `\uFFFD`. Returns
/// `None` when nothing needed changing (the common case, no allocation).
fn repair_lone_surrogates(text: &str) -> Option<String> {
    // Fast path: no `\uD…` escape at all (the common case for files we wrote).
    if !text.contains("\\ud") && !text.contains("\\uD") {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied_up_to = 0;
    let mut index = 0;
    let mut in_string = false;
    while index < bytes.len() {
        let byte = bytes[index];
        if !in_string {
            in_string = byte == b'"';
            index += 1;
            continue;
        }
        match byte {
            b'"' => {
                in_string = false;
                index += 1;
            }
            b'\\' if bytes.get(index + 1) == Some(&b'u') => {
                let unit = hex4(&bytes[index + 2..]);
                let is_high = matches!(unit, Some(0xD800..=0xDBFF));
                let is_low = matches!(unit, Some(0xDC00..=0xDFFF));
                let next_is_low = bytes.get(index + 6) == Some(&b'\\')
                    && bytes.get(index + 7) == Some(&b'u')
                    && matches!(
                        hex4(&bytes[(index + 8).min(bytes.len())..]),
                        Some(0xDC00..=0xDFFF)
                    );
                if is_high && next_is_low {
                    index += 12;
                } else if is_high || is_low {
                    let repaired = out.get_or_insert_with(String::new);
                    repaired.push_str(&text[copied_up_to..index]);
                    repaired.push_str("\\ufffd");
                    index += 6;
                    copied_up_to = index;
                } else {
                    index += 2;
                }
            }
            b'\\' => index += 2,
            _ => index += 1,
        }
    }
    out.map(|mut repaired| {
        repaired.push_str(&text[copied_up_to..]);
        repaired
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_lines_refuse_lone_surrogates_but_keep_pairs() {
        assert!(parse_message(r#"{"a":"x\ud800y"}"#).is_err());
        assert!(parse_message(r#"{"a":"\udc00"}"#).is_err());
        assert_eq!(
            parse_message(r#"{"c":"\ud83d\ude00"}"#).unwrap().value["c"],
            "😀"
        );
        assert!(parse_message("[1e400]").is_err());
    }

    #[test]
    fn members_keep_the_exact_text_of_their_values() {
        let message = parse_message(
            "{\"jsonrpc\":\"2.0\", \"id\" : 18446744073709551617 ,\"x\":[1,{\"b\":\"]}\\\"\"}],\"m\":-0}",
        )
        .unwrap();
        let texts: Vec<(&str, &str)> = message
            .members
            .iter()
            .map(|(key, text)| (key.as_str(), *text))
            .collect();
        assert_eq!(
            texts,
            [
                ("jsonrpc", "\"2.0\""),
                ("id", "18446744073709551617"),
                ("x", "[1,{\"b\":\"]}\\\"\"}]"),
                ("m", "-0")
            ]
        );
        assert_eq!(message.duplicate, None);
        assert!(parse_message("[1,2]").unwrap().members.is_empty());
    }

    #[test]
    fn every_member_text_parses_back_to_the_members_value() {
        let documents = [
            r#"{"a" : [ ] , "b":{ "c" : [1 ,2] } ,"d":"x\"}\\","e":true,"f":null,"g":-1.5e-3}"#,
            r#"{"k":"é\u00e9\ud83d\ude00","\u006b2":{"":{}},"n":1E+2}"#,
            r#"{}"#,
            "{\n\t\"x\"\r:\n0\n}",
        ];
        for text in documents {
            let message = parse_message(text).unwrap();
            let object = message.value.as_object().unwrap();
            assert_eq!(message.members.len(), object.len(), "{text}");
            for (key, member) in &message.members {
                let reparsed: Value = serde_json::from_str(member).unwrap();
                assert_eq!(&reparsed, &object[key], "{text}: {key}");
                assert_eq!(member.trim(), *member, "{text}: {key}");
            }
        }
    }

    fn next(seed: &mut u64, n: u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 33) % n
    }

    /// A small deterministic generator of documents with keys and strings that need escapes.
    fn generated(seed: &mut u64, depth: usize) -> Value {
        let words = ["id", "a\"b", "\\", "é", "\u{1f600}", "", "}", "]:,", "\n"];
        let kind = if depth == 0 {
            next(seed, 4)
        } else {
            next(seed, 6)
        };
        match kind {
            0 => Value::from(words[next(seed, 9) as usize]),
            1 => serde_json::json!(next(seed, 1 << 20) as f64 / 7.0),
            2 => Value::from(next(seed, 3) == 0),
            3 => Value::Null,
            4 => (0..next(seed, 4))
                .map(|_| generated(seed, depth - 1))
                .collect(),
            _ => {
                let mut map = serde_json::Map::new();
                for _ in 0..next(seed, 5) {
                    let key = format!("{}{}", words[next(seed, 9) as usize], next(seed, 3));
                    map.insert(key, generated(seed, depth - 1));
                }
                Value::Object(map)
            }
        }
    }

    #[test]
    fn generated_documents_scan_exactly_like_the_parser_reads_them() {
        let mut seed = 7;
        for _ in 0..2000 {
            let mut map = serde_json::Map::new();
            map.insert("k".into(), generated(&mut seed, 4));
            map.insert("\"id\"".into(), generated(&mut seed, 3));
            let document = Value::Object(map);
            for text in [
                serde_json::to_string(&document).unwrap(),
                serde_json::to_string_pretty(&document).unwrap(),
            ] {
                let message = parse_message(&text).unwrap();
                assert_eq!(message.duplicate, None, "{text}");
                assert_eq!(message.members.len(), 2, "{text}");
                for (key, member) in &message.members {
                    let reparsed: Value = serde_json::from_str(member).unwrap();
                    assert_eq!(reparsed, message.value[key], "{text}");
                    assert!(document.get(key).is_some(), "{text}: {key}");
                }
            }
        }
    }

    #[test]
    fn a_repeated_key_is_found_at_any_depth_and_located() {
        let duplicate = |text: &str| parse_message(text).unwrap().duplicate;
        let at = |key: &str, within: Option<&str>| {
            Some(DuplicateKey {
                key: key.into(),
                within: within.map(str::to_string),
            })
        };
        assert_eq!(duplicate(r#"{"id":1,"id":2}"#), at("id", None));
        assert_eq!(duplicate(r#"{"id":1,"\u0069d":2}"#), at("id", None));
        assert_eq!(
            duplicate(r#"{"params":{"name":"a","name":"b"}}"#),
            at("name", Some("params"))
        );
        assert_eq!(
            duplicate(r#"{"params":{"arguments":{"x":[{"k":1,"k":2}]}}}"#),
            at("k", Some("params"))
        );
        // The same key in sibling objects, or an object's key inside a string, is no repeat.
        assert_eq!(
            duplicate(r#"{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}"#),
            None
        );
        assert_eq!(duplicate(r#"{"a":"\"a\":1,\"a\":2"}"#), None);
        // Past the short list, the hash set takes over and still finds the repeat.
        let wide: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let wide = wide.join(",");
        assert_eq!(duplicate(&format!("{{{wide}}}")), None);
        assert_eq!(duplicate(&format!("{{{wide},\"k3\":0}}")), at("k3", None));
        assert_eq!(duplicate(&format!("{{{wide},\"k39\":0}}")), at("k39", None));
    }

    #[test]
    fn lone_surrogate_escapes_in_files_become_replacement_characters() {
        let value = parse_lenient(br#"{"a":"x\ud800y","b":"\udc00","c":"\ud83d\ude00"}"#).unwrap();
        assert_eq!(value["a"], "x\u{fffd}y");
        assert_eq!(value["b"], "\u{fffd}");
        assert_eq!(value["c"], "😀");
    }

    #[test]
    fn invalid_utf8_in_files_is_decoded_lossily() {
        let value = parse_lenient(b"{\"a\":\"\xff\"}").unwrap();
        assert_eq!(value["a"], "\u{fffd}");
    }

    #[test]
    fn nesting_at_the_limit_parses_and_one_deeper_is_refused() {
        let at = "[".repeat(MAX_JSON_DEPTH) + &"]".repeat(MAX_JSON_DEPTH);
        assert!(parse_message(&at).is_ok());
        let below = "[".repeat(MAX_JSON_DEPTH - 1) + &"]".repeat(MAX_JSON_DEPTH - 1);
        assert!(parse_message(&below).is_ok());
        let above = "[".repeat(MAX_JSON_DEPTH + 1) + &"]".repeat(MAX_JSON_DEPTH + 1);
        let error = parse_message(&above).unwrap_err();
        assert!(error.0.contains("maximum depth"), "{error}");
    }

    #[test]
    fn brackets_inside_strings_do_not_count_as_nesting() {
        let text = format!("{{\"a\":\"{}\"}}", "[".repeat(1000));
        assert!(parse_message(&text).is_ok());
    }

    #[test]
    fn million_deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(1_000_000);
        assert!(parse_message(&text).is_err());
    }
}
