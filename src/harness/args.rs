//! Reading validated tool arguments with JavaScript's truthiness, which the original's
//! defaults (`x || default`, `x ?? default`) depend on.

use crate::sanitize::{js_string, sanitize_list, sanitize_nullable, sanitize_text};
use serde_json::{Map, Value};

/// Tool arguments after schema validation.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a>(pub &'a Map<String, Value>);

/// JavaScript truthiness of a JSON value.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(text) => !text.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

impl<'a> Args<'a> {
    /// The value if present and not `null` (`x ?? …` semantics).
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// The value if truthy (`x || …` semantics).
    pub fn truthy(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| truthy(v))
    }

    /// `String(x)` of a truthy value.
    pub fn text(&self, key: &str) -> Option<String> {
        self.truthy(key).map(js_string)
    }

    /// `sanitizeText(x, max)` (absent → empty string).
    pub fn sanitized(&self, key: &str, max: usize) -> String {
        sanitize_text(&self.value(key).map(js_string).unwrap_or_default(), max)
    }

    /// `sanitizeNullableText(x, max)`.
    pub fn nullable(&self, key: &str, max: usize) -> Option<String> {
        sanitize_nullable(self.value(key), max)
    }

    /// `sanitizeStringList(x, {maxLength})`.
    pub fn list(&self, key: &str, item_max: usize) -> Vec<String> {
        sanitize_list(self.value(key), item_max)
    }

    /// An integer argument, if given.
    pub fn integer(&self, key: &str) -> Option<i64> {
        self.value(key).and_then(Value::as_f64).map(|f| f as i64)
    }

    /// `x || default` for positive counts, clamped to `[1, max]`.
    pub fn count(&self, key: &str, default: i64, max: i64) -> usize {
        let given = self
            .truthy(key)
            .and_then(Value::as_f64)
            .map(|f| f as i64)
            .unwrap_or(default);
        given.clamp(1, max) as usize
    }

    pub fn boolean(&self, key: &str) -> Option<bool> {
        self.value(key).and_then(Value::as_bool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_matches_javascript() {
        for falsy in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
            assert!(!truthy(&falsy), "{falsy}");
        }
        for truthy_value in [json!(true), json!(1), json!("0"), json!([]), json!({})] {
            assert!(truthy(&truthy_value), "{truthy_value}");
        }
    }

    #[test]
    fn counts_default_and_clamp() {
        let map = json!({"a": 500, "b": 0}).as_object().cloned().unwrap();
        let args = Args(&map);
        assert_eq!(args.count("a", 5, 100), 100);
        assert_eq!(args.count("b", 5, 100), 5);
        assert_eq!(args.count("missing", 5, 100), 5);
    }
}
