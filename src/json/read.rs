//! Parsing untrusted JSON: protocol lines from the client and files possibly written by a
//! Node server or tampered with. Nesting is bounded before the parser recurses.

use serde_json::Value;

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

/// Parses one protocol line strictly: a lone surrogate escape is an error (JavaScript would
/// accept it; we refuse to normalise what the client sent into something else), and so is a
/// number too large for a double.
pub fn parse_message(text: &str) -> Result<Value, ParseError> {
    check_depth(text)?;
    serde_json::from_str(text).map_err(|error| ParseError(error.to_string()))
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
        assert_eq!(parse_message(r#"{"c":"\ud83d\ude00"}"#).unwrap()["c"], "😀");
        assert!(parse_message("[1e400]").is_err());
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
