//! Structure-aware generators shared by the fuzz targets: hostile strings, JSON values,
//! schemas from the validator's supported subset, instances built to satisfy a schema, and
//! the tool catalogue. Nothing here re-implements library logic; the targets call the real
//! library and compare it with these inputs' known properties or with an independent oracle.

pub mod jsonc;

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value};

/// Pieces that exercise the sanitiser, the marker check and path handling: controls, the
/// stripped format characters, bidi and zero-width characters, astral characters, block markers
/// in several cases, path fragments and JSON punctuation.
pub const HOSTILE: &[&str] = &[
    "a",
    "Z",
    "0",
    "-",
    "_",
    ".",
    "/",
    "..",
    "../",
    "\\",
    " ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{8}",
    "\u{b}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{200b}",
    "\u{200d}",
    "\u{200e}",
    "\u{202e}",
    "\u{2066}",
    "\u{2069}",
    "\u{2028}",
    "\u{feff}",
    "\u{fffd}",
    "é",
    "e\u{301}",
    "ß",
    "\u{fb01}",
    "\u{212a}",
    "\u{17f}",
    "😀",
    "👩\u{200d}💻",
    "\u{e0041}",
    "\u{10ffff}",
    "<untrusted-data",
    "</untrusted-data>",
    "<UnTrusted-Data source=\"x\">",
    "</UNTRUSTED-DATA",
    "untrusted-data",
    "<",
    "</",
    ">",
    "\"",
    "&",
    "%2e",
    "%2F",
    "harness://",
    "contract",
    "[truncated 3 characters]",
];

/// A string of up to `max_pieces` pieces, each a [`HOSTILE`] piece or an arbitrary char.
pub fn hostile_string(u: &mut Unstructured<'_>, max_pieces: usize) -> Result<String> {
    let pieces = u.int_in_range(0..=max_pieces)?;
    let mut out = String::new();
    for _ in 0..pieces {
        if u.ratio(3, 4)? {
            out.push_str(u.choose(HOSTILE)?);
        } else {
            out.push(u.arbitrary::<char>()?);
        }
    }
    Ok(out)
}

/// A string made only of [`HOSTILE`] pieces (no arbitrary chars): its characters avoid the
/// private-use range [`utf16_view`] maps surrogates into, so that mapping stays injective.
pub fn piece_string(u: &mut Unstructured<'_>, max_pieces: usize) -> Result<String> {
    let pieces = u.int_in_range(0..=max_pieces)?;
    let mut out = String::new();
    for _ in 0..pieces {
        out.push_str(u.choose(HOSTILE)?);
    }
    Ok(out)
}

/// A JSON number: small integers, integral and fractional doubles, and values at the edge of
/// exact double precision (never beyond it: the validator uses JavaScript's double semantics).
pub fn number(u: &mut Unstructured<'_>) -> Result<Value> {
    const EXACT: i64 = 1 << 53;
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::from(u.int_in_range(-4i64..=12)?),
        1 => float(f64::from(u.int_in_range(-4i8..=12)?)),
        2 => float(f64::from(u.arbitrary::<i16>()?) / 4.0),
        3 => Value::from(*u.choose(&[EXACT, -EXACT, EXACT - 1, 0, -1])?),
        4 => float(*u.choose(&[1e300, -1e300, 0.5, -0.0, 1e-7, 1e21])?),
        _ => Value::from(u.arbitrary::<i32>()?),
    })
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// An arbitrary JSON value of bounded depth.
pub fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let kinds = if depth == 0 { 4 } else { 6 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => number(u)?,
        3 => Value::String(piece_string(u, 6)?),
        4 => {
            let len = u.int_in_range(0..=4)?;
            Value::Array(
                (0..len)
                    .map(|_| value(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let len = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..len {
                map.insert(property_name(u)?, value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// Property names: a few fixed ones (so schemas and instances meet) or hostile ones.
pub fn property_name(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(3, 4)? {
        Ok(u.choose(&["a", "b", "c", "title", "😀", "", "__proto__"])?
            .to_string())
    } else {
        piece_string(u, 3)
    }
}

fn count(u: &mut Unstructured<'_>, max: u64) -> Result<Value> {
    Ok(Value::from(u.int_in_range(0..=max)?))
}

/// A schema from the validator's supported subset, nesting at most `depth` levels.
pub fn schema(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let kinds = if depth == 0 { 6 } else { 8 };
    let mut out = Map::new();
    let kind = u.int_in_range(0..=kinds - 1)?;
    let mut set = |key: &str, value: Value| {
        out.insert(key.to_string(), value);
    };
    match kind {
        0 => {
            set("type", "string".into());
            if u.arbitrary()? {
                set("minLength", count(u, 6)?);
            }
            if u.arbitrary()? {
                set("maxLength", count(u, 8)?);
            }
            if u.ratio(1, 3)? {
                let len = u.int_in_range(0..=3)?;
                let options = (0..len)
                    .map(|_| piece_string(u, 3).map(Value::String))
                    .collect::<Result<_>>()?;
                set("enum", Value::Array(options));
            }
        }
        1 | 2 => {
            set("type", if kind == 1 { "integer" } else { "number" }.into());
            if u.arbitrary()? {
                set("minimum", number(u)?);
            }
            if u.arbitrary()? {
                set("maximum", number(u)?);
            }
        }
        3 => set("type", "boolean".into()),
        4 => set("type", "null".into()),
        5 => {
            let len = u.int_in_range(0..=4)?;
            let options = (0..len).map(|_| value(u, 1)).collect::<Result<_>>()?;
            set("enum", Value::Array(options));
        }
        6 => {
            set("type", "array".into());
            if u.arbitrary()? {
                set("items", schema(u, depth - 1)?);
            }
            if u.arbitrary()? {
                set("minItems", count(u, 3)?);
            }
            if u.arbitrary()? {
                set("maxItems", count(u, 4)?);
            }
        }
        _ => {
            set("type", "object".into());
            let len = u.int_in_range(0..=4)?;
            let mut properties = Map::new();
            for _ in 0..len {
                properties.insert(property_name(u)?, schema(u, depth - 1)?);
            }
            let mut required: Vec<Value> = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let name = Value::String(property_name(u)?);
                if !required.contains(&name) {
                    required.push(name);
                }
            }
            if !properties.is_empty() || u.arbitrary()? {
                set("properties", Value::Object(properties));
            }
            if !required.is_empty() {
                set("required", Value::Array(required));
            }
            if u.arbitrary()? {
                set("additionalProperties", Value::Bool(false));
            }
        }
    }
    Ok(Value::Object(out))
}

fn as_count(schema: &Value, key: &str) -> Option<usize> {
    schema.get(key).and_then(Value::as_u64).map(|n| n as usize)
}

fn utf16_units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A string whose length in UTF-16 units lies in `[min, max]` (when that is possible).
fn string_between(u: &mut Unstructured<'_>, min: usize, max: Option<usize>) -> Result<String> {
    let mut text = piece_string(u, 4)?;
    if let Some(max) = max {
        while utf16_units(&text) > max {
            text.pop();
        }
    }
    while utf16_units(&text) < min {
        text.push(*u.choose(&['a', 'é', '😀', ' '])?);
        if max.is_some_and(|max| utf16_units(&text) > max) {
            text.pop();
            text.push('a');
        }
    }
    Ok(text)
}

/// A value that satisfies `schema` (from the supported subset, as the tool catalogue uses it).
/// The caller asserts that the validator agrees.
pub fn satisfying(u: &mut Unstructured<'_>, schema: &Value, depth: usize) -> Result<Value> {
    let options = schema.get("enum").and_then(Value::as_array);
    if let Some(options) = options.filter(|o| !o.is_empty()) {
        return Ok(u.choose(options)?.clone());
    }
    Ok(match schema.get("type").and_then(Value::as_str) {
        Some("string") => {
            let min = as_count(schema, "minLength").unwrap_or(0);
            Value::String(string_between(u, min, as_count(schema, "maxLength"))?)
        }
        Some(kind @ ("integer" | "number")) => {
            let min = schema.get("minimum").and_then(Value::as_f64);
            let max = schema.get("maximum").and_then(Value::as_f64);
            let low = min.map_or(-5.0, f64::ceil);
            let high = max.map_or(low + 10.0, f64::floor).max(low);
            let step = f64::from(u.int_in_range(0u8..=10)?);
            let mut picked = (low + step).min(high);
            if kind == "number" && u.arbitrary()? && picked + 0.5 <= high {
                picked += 0.5;
            }
            if picked.fract() == 0.0 && picked.abs() < 1e15 && u.arbitrary()? {
                Value::from(picked as i64)
            } else {
                float(picked)
            }
        }
        Some("boolean") => Value::Bool(u.arbitrary()?),
        Some("null") => Value::Null,
        Some("array") => {
            let min = as_count(schema, "minItems").unwrap_or(0);
            let max = as_count(schema, "maxItems").unwrap_or(min + 3).max(min);
            let len = u.int_in_range(min..=max.min(min + 4))?;
            let items = schema.get("items");
            Value::Array(
                (0..len)
                    .map(|_| match items {
                        Some(items) if depth > 0 => satisfying(u, items, depth - 1),
                        Some(_) => Ok(Value::Null),
                        None => value(u, 1),
                    })
                    .collect::<Result<_>>()?,
            )
        }
        Some("object") => {
            let mut map = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let properties = schema.get("properties").and_then(Value::as_object);
            let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
            for (key, subschema) in properties.into_iter().flatten() {
                if (required.contains(&key.as_str()) || u.arbitrary()?) && depth > 0 {
                    map.insert(key.clone(), satisfying(u, subschema, depth - 1)?);
                }
            }
            for name in required {
                if !map.contains_key(name) {
                    if closed && !properties.is_some_and(|p| p.contains_key(name)) {
                        // Unsatisfiable (required but forbidden): give up on validity.
                        map.insert(name.to_string(), Value::Null);
                    } else {
                        map.insert(name.to_string(), value(u, 1)?);
                    }
                }
            }
            if !closed && u.ratio(1, 4)? {
                let key = property_name(u)?;
                if !properties.is_some_and(|p| p.contains_key(&key)) {
                    map.insert(key, value(u, 1)?);
                }
            }
            Value::Object(map)
        }
        _ => value(u, 1)?,
    })
}

/// An instance near `schema`: usually a satisfying value with one small mutation, sometimes a
/// satisfying value, sometimes anything. Near-misses are where validators disagree.
pub fn near(u: &mut Unstructured<'_>, schema: &Value, depth: usize) -> Result<Value> {
    let mut instance = match u.int_in_range(0..=3)? {
        0 => return value(u, depth),
        _ => satisfying(u, schema, depth)?,
    };
    if u.arbitrary()? {
        mutate(u, &mut instance, depth)?;
    }
    Ok(instance)
}

fn mutate(u: &mut Unstructured<'_>, target: &mut Value, depth: usize) -> Result<()> {
    match target {
        Value::Object(map) if !map.is_empty() && u.arbitrary()? => {
            let key = u.choose(&map.keys().cloned().collect::<Vec<_>>())?.clone();
            match u.int_in_range(0..=2)? {
                0 => {
                    map.shift_remove(&key);
                }
                1 => {
                    if let Some(child) = map.get_mut(&key) {
                        mutate(u, child, depth.saturating_sub(1))?;
                    }
                }
                _ => {
                    map.insert(property_name(u)?, value(u, 1)?);
                }
            }
        }
        Value::Array(items) if !items.is_empty() && u.arbitrary()? => {
            if u.arbitrary()? {
                items.pop();
            } else {
                let index = u.choose_index(items.len())?;
                mutate(u, &mut items[index], depth.saturating_sub(1))?;
            }
        }
        Value::String(text) if u.arbitrary()? => {
            if u.arbitrary()? {
                text.pop();
            } else {
                text.push_str(u.choose(HOSTILE)?);
            }
        }
        Value::Number(n) if u.arbitrary()? => {
            let f = n.as_f64().unwrap_or(0.0);
            *target = float(f + *u.choose(&[-1.0, 1.0, 0.5, -0.5, 0.0])?);
        }
        _ => *target = value(u, depth.min(1))?,
    }
    Ok(())
}

/// The same value with every string and key rewritten so that one `char` stands for one
/// UTF-16 unit: each astral character becomes two private-use characters (one per surrogate).
/// An oracle counting `char`s then counts what JavaScript's `.length` counts. Injective on
/// strings free of U+E000–U+E7FF, which [`piece_string`] guarantees.
pub fn utf16_view(value: &Value) -> Value {
    fn map(text: &str) -> String {
        text.encode_utf16()
            .map(|unit| match unit {
                0xD800..=0xDFFF => char::from_u32(0xE000 + u32::from(unit - 0xD800)).unwrap_or('?'),
                _ => char::from_u32(u32::from(unit)).unwrap_or('?'),
            })
            .collect()
    }
    match value {
        Value::String(text) => Value::String(map(text)),
        Value::Array(items) => Value::Array(items.iter().map(utf16_view).collect()),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| (map(k), utf16_view(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every tool definition in the real catalogue (including tools without a handler yet).
pub fn catalogue() -> &'static [Value] {
    static CATALOGUE: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(|| {
        serde_json::from_str(include_str!("../../src/tools/catalog.json"))
            .expect("catalog.json is valid JSON")
    })
}

/// Whether `bytes` is a JSON document in which some object repeats a key (escapes decoded),
/// judged by serde's own tokenizer rather than the server's reader: the session target's
/// independent oracle for the server's duplicate-key refusal.
pub fn has_duplicate_key(bytes: &[u8]) -> bool {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::cell::Cell;
    use std::fmt;

    struct Scan<'a>(&'a Cell<bool>);

    impl<'de> DeserializeSeed<'de> for Scan<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Scan<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Scan(self.0))?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut keys = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !keys.insert(key) {
                    self.0.set(true);
                }
                map.next_value_seed(Scan(self.0))?;
            }
            Ok(())
        }
    }

    let found = Cell::new(false);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Scan(&found).deserialize(&mut deserializer).is_ok() && found.get()
}
