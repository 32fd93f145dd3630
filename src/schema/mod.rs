//! The JSON-Schema subset the tool schemas use, validated before any handler runs.
//!
//! Supported keywords: `type` (object, string, integer, number, boolean, array, null), `required`,
//! `properties`, `additionalProperties: false`, `enum`, `minLength`/`maxLength` (UTF-16 units),
//! `minimum`/`maximum`, `items`, `minItems`/`maxItems`. `default` and descriptions are ignored
//! (handlers apply their own defaults, as the original's do). The first violation is reported,
//! in the original's order and wording; `maximum`, `maxLength` and the item counts are this
//! project's additions. Recursion follows the *schema*, and is cut off at
//! [`MAX_SCHEMA_DEPTH`], so no instance can make the validator recurse without bound.

use crate::json::{js_number, to_compact};
use crate::sanitize::{sanitize_text, utf16_len};
use serde_json::Value;

/// Deepest schema nesting the validator follows; deeper subschemas are a validation error.
pub const MAX_SCHEMA_DEPTH: usize = 32;

/// Longest rejected enum value echoed back in an error message, in UTF-16 units.
pub const MAX_ECHOED_VALUE: usize = 200;

/// JavaScript's `typeof`, refined the way the original's messages are: `null` and `array`.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Largest magnitude an `integer` argument may have: JavaScript's safe-integer range, so every
/// accepted integer is exact in a double, in an `i64`, and in a Node reader of our files.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `Number.isInteger`: `1.0`, `1e3` and `-0` count as integers.
fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(number) => {
            number.is_i64()
                || number.is_u64()
                || number
                    .as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Equality as `enum` needs it: numbers compare by value (`1 == 1.0`, `-0 == 0`, as in
/// JavaScript and JSON Schema), containers element by element, everything else exactly.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

fn in_enum(options: &[Value], instance: &Value) -> bool {
    options.iter().any(|option| json_equal(option, instance))
}

fn bound(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

fn count_bound(schema: &Value, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_f64)
        .filter(|n| *n >= 0.0)
        .map(|n| n as usize)
}

/// A rejected string as the original quotes it when it is a safe id, else in a block.
fn echoed_value(text: &str) -> String {
    match crate::sanitize::safe_file_id(text) {
        Some(id) => to_compact(&Value::String(id)),
        None => crate::sanitize::untrusted_block(Some(text), "args.value"),
    }
}

fn enum_message(path: &str, value: &Value, options: &Value) -> String {
    match value {
        // The rejected value is echoed bounded and inside a block: it is untrusted input.
        Value::String(text) => format!(
            "{path}: value {} not in enum {}",
            echoed_value(&sanitize_text(text, MAX_ECHOED_VALUE)),
            to_compact(options)
        ),
        _ => format!("{path}: value not in enum {}", to_compact(options)),
    }
}

/// Validates `instance` against `schema`; `Err` carries the first violation, e.g.
/// `args.title: string shorter than minLength=3 (got 1)`.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    validate_at(schema, instance, "args", 0)
}

fn validate_at(schema: &Value, instance: &Value, path: &str, depth: usize) -> Result<(), String> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(format!(
            "{path}: schema nesting exceeds {MAX_SCHEMA_DEPTH} levels"
        ));
    }
    let Some(kind) = schema.get("type").and_then(Value::as_str) else {
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !in_enum(options, instance) {
                return Err(format!(
                    "{path}: value not in enum {}",
                    to_compact(&Value::Array(options.clone()))
                ));
            }
        }
        return Ok(());
    };
    let expected = |kind: &str| format!("{path}: expected {kind}, got {}", type_name(instance));
    match kind {
        "object" => {
            let Value::Object(map) = instance else {
                return Err(expected("object"));
            };
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        return Err(format!("{path}: missing required property \"{name}\""));
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                for key in map.keys() {
                    if !properties.is_some_and(|p| p.contains_key(key)) {
                        return Err(format!("{path}: unexpected property \"{key}\""));
                    }
                }
            }
            for (key, subschema) in properties.into_iter().flatten() {
                if let Some(value) = map.get(key) {
                    validate_at(subschema, value, &format!("{path}.{key}"), depth + 1)?;
                }
            }
        }
        "string" => {
            let Value::String(text) = instance else {
                return Err(expected("string"));
            };
            let length = utf16_len(text);
            if let Some(min) = count_bound(schema, "minLength").filter(|min| length < *min) {
                return Err(format!(
                    "{path}: string shorter than minLength={min} (got {length})"
                ));
            }
            if let Some(max) = count_bound(schema, "maxLength").filter(|max| length > *max) {
                return Err(format!(
                    "{path}: string longer than maxLength={max} (got {length})"
                ));
            }
            if let Some(options) = schema.get("enum") {
                if !options.as_array().is_some_and(|o| in_enum(o, instance)) {
                    return Err(enum_message(path, instance, options));
                }
            }
        }
        "integer" | "number" => {
            let is_number = matches!(instance, Value::Number(_));
            if kind == "integer" && !is_integer(instance) {
                let suffix = if is_number { " (non-integer)" } else { "" };
                return Err(format!(
                    "{path}: expected integer, got {}{suffix}",
                    type_name(instance)
                ));
            }
            let Some(value) = instance.as_f64().filter(|_| is_number) else {
                return Err(expected("number"));
            };
            let exact = match instance {
                Value::Number(n) => n
                    .as_i64()
                    .map(|i| i.unsigned_abs() as f64)
                    .or(n.as_u64().map(|u| u as f64)),
                _ => None,
            }
            .unwrap_or(value.abs());
            if kind == "integer" && exact > MAX_SAFE_INTEGER {
                return Err(format!(
                    "{path}: integer outside the safe range ±{}",
                    js_number(MAX_SAFE_INTEGER)
                ));
            }
            if let Some(min) = bound(schema, "minimum").filter(|min| value < *min) {
                return Err(format!("{path}: {kind} below minimum={}", js_number(min)));
            }
            if let Some(max) = bound(schema, "maximum").filter(|max| value > *max) {
                return Err(format!("{path}: {kind} above maximum={}", js_number(max)));
            }
        }
        "boolean" if !instance.is_boolean() => return Err(expected("boolean")),
        "null" if !instance.is_null() => return Err(expected("null")),
        "array" => {
            let Value::Array(items) = instance else {
                return Err(expected("array"));
            };
            if let Some(min) = count_bound(schema, "minItems").filter(|min| items.len() < *min) {
                return Err(format!(
                    "{path}: array shorter than minItems={min} (got {})",
                    items.len()
                ));
            }
            if let Some(max) = count_bound(schema, "maxItems").filter(|max| items.len() > *max) {
                return Err(format!(
                    "{path}: array longer than maxItems={max} (got {})",
                    items.len()
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate_at(item_schema, item, &format!("{path}[{index}]"), depth + 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool_schema() -> Value {
        json!({
            "type": "object",
            "required": ["title", "kind"],
            "properties": {
                "title": {"type": "string", "minLength": 3, "maxLength": 5},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "count": {"type": "integer", "minimum": 1, "maximum": 3},
                "ratio": {"type": "number", "minimum": 0},
                "flag": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2}
            },
            "additionalProperties": false
        })
    }

    fn check(instance: Value) -> Result<(), String> {
        validate(&tool_schema(), &instance)
    }

    #[test]
    fn valid_instance_passes() {
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 2, "tags": ["x"]})),
            Ok(())
        );
    }

    #[test]
    fn messages_follow_the_original_wording_and_order() {
        assert_eq!(
            check(json!([])),
            Err("args: expected object, got array".into())
        );
        assert_eq!(
            check(json!({"kind": "a"})),
            Err("args: missing required property \"title\"".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "zz": 1})),
            Err("args: unexpected property \"zz\"".into())
        );
        assert_eq!(
            check(json!({"title": "ab", "kind": "a"})),
            Err("args.title: string shorter than minLength=3 (got 2)".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "c"})),
            Err("args.kind: value \"c\" not in enum [\"a\",\"b\"]".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 1.5})),
            Err("args.count: expected integer, got number (non-integer)".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": "1"})),
            Err("args.count: expected integer, got string".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 0})),
            Err("args.count: integer below minimum=1".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "ratio": -0.5})),
            Err("args.ratio: number below minimum=0".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "flag": null})),
            Err("args.flag: expected boolean, got null".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "tags": ["x", 2]})),
            Err("args.tags[1]: expected string, got number".into())
        );
    }

    #[test]
    fn integral_doubles_are_integers() {
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 1.0})),
            Ok(())
        );
        let parsed: Value =
            serde_json::from_str(r#"{"title":"abc","kind":"a","count":2e0}"#).unwrap();
        assert_eq!(check(parsed), Ok(()));
    }

    #[test]
    fn integers_beyond_the_safe_range_are_refused() {
        let at = json!({"title": "abc", "kind": "a", "ratio": 1, "tags": ["x"]});
        assert_eq!(check(at), Ok(()));
        let schema = json!({"type": "integer"});
        assert_eq!(validate(&schema, &json!(9_007_199_254_740_991u64)), Ok(()));
        assert_eq!(validate(&schema, &json!(9_007_199_254_740_990u64)), Ok(()));
        assert_eq!(validate(&schema, &json!(-9_007_199_254_740_991i64)), Ok(()));
        assert!(validate(&schema, &json!(9_007_199_254_740_992u64)).is_err());
        assert!(validate(&schema, &json!(18_446_744_073_709_551_615u64)).is_err());
        assert!(validate(&schema, &json!(1e20)).is_err());
    }

    #[test]
    fn max_length_at_below_and_above() {
        assert_eq!(check(json!({"title": "abcde", "kind": "a"})), Ok(()));
        assert_eq!(check(json!({"title": "abcd", "kind": "a"})), Ok(()));
        assert_eq!(
            check(json!({"title": "abcdef", "kind": "a"})),
            Err("args.title: string longer than maxLength=5 (got 6)".into())
        );
    }

    #[test]
    fn min_length_counts_utf16_units() {
        assert_eq!(check(json!({"title": "😀a", "kind": "a"})), Ok(()));
    }

    #[test]
    fn maximum_and_item_counts_are_enforced() {
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 3})),
            Ok(())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "count": 4})),
            Err("args.count: integer above maximum=3".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "tags": []})),
            Err("args.tags: array shorter than minItems=1 (got 0)".into())
        );
        assert_eq!(
            check(json!({"title": "abc", "kind": "a", "tags": ["a", "b", "c"]})),
            Err("args.tags: array longer than maxItems=2 (got 3)".into())
        );
    }

    #[test]
    fn self_referencing_depth_is_bounded() {
        let mut schema = json!({"type": "array"});
        for _ in 0..(MAX_SCHEMA_DEPTH + 5) {
            schema = json!({"type": "array", "items": schema});
        }
        let mut instance = json!([]);
        for _ in 0..(MAX_SCHEMA_DEPTH + 5) {
            instance = json!([instance]);
        }
        let error = validate(&schema, &instance).unwrap_err();
        assert!(error.contains("schema nesting exceeds"), "{error}");
    }
}
