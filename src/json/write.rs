//! `JSON.stringify` output for `serde_json::Value`.

use super::number::js_number;
use serde_json::{Number, Value};

/// `JSON.stringify(value)`: one line, no spaces.
pub fn to_compact(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// `JSON.stringify(value, null, 2)`.
pub fn to_pretty(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(2), 0);
    out
}

/// `JSON.stringify(value, null, 2)` as it appears nested `depth` levels deep in a pretty
/// document (the caller writes the indentation of its first line).
pub fn to_pretty_at(value: &Value, depth: usize) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(2), depth);
    out
}

/// The original's record-file format: pretty JSON plus one trailing newline.
pub fn to_pretty_file(value: &Value) -> String {
    let mut out = to_pretty(value);
    out.push('\n');
    out
}

/// [`to_pretty_file`] of an object held as a map, without building a `Value` around it.
pub fn object_to_pretty_file(map: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    write_object(&mut out, map, Some(2), 0);
    out.push('\n');
    out
}

fn write_number(out: &mut String, number: &Number) {
    if number.is_f64() {
        out.push_str(&js_number(number.as_f64().unwrap_or(0.0)));
    } else {
        out.push_str(&number.to_string());
    }
}

/// JSON.stringify's escaping for well-formed strings: quote, backslash, `\b \f \n \r \t`,
/// and other C0 controls as lowercase `\u00xx`; everything else as is.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[plain_from..at]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        plain_from = at + 1;
    }
    out.push_str(&text[plain_from..]);
    out.push('"');
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * depth));
    }
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, indent, depth),
    }
}

fn write_object(
    out: &mut String,
    map: &serde_json::Map<String, Value>,
    indent: Option<usize>,
    depth: usize,
) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (index, (key, item)) in map.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        newline(out, indent, depth + 1);
        write_string(out, key);
        out.push(':');
        if indent.is_some() {
            out.push(' ');
        }
        write_value(out, item, indent, depth + 1);
    }
    newline(out, indent, depth);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_matches_json_stringify() {
        let value = json!({"b": [1, 2.0, "x\n"], "a": {}, "c": [], "d": null, "e": 1e21});
        assert_eq!(
            to_compact(&value),
            r#"{"b":[1,2,"x\n"],"a":{},"c":[],"d":null,"e":1e+21}"#
        );
    }

    #[test]
    fn pretty_uses_two_spaces_and_keeps_empty_containers_inline() {
        let value = json!({"a": [1, {"b": true}], "c": []});
        assert_eq!(
            to_pretty(&value),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": true\n    }\n  ],\n  \"c\": []\n}"
        );
        assert!(to_pretty_file(&value).ends_with("}\n"));
    }

    #[test]
    fn control_characters_are_escaped_like_javascript() {
        assert_eq!(to_compact(&json!("\u{1f}\u{7f}é")), "\"\\u001f\u{7f}é\"");
    }
}
