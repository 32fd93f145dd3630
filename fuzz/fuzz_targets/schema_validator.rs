//! `schema::validate` on structure-aware schemas and instances.
//!
//! Checks, for schemas from the supported subset (bounded depth) and instances near them:
//! - it never panics;
//! - differential: it accepts exactly what the `jsonschema` crate accepts. Lengths are made
//!   comparable by handing the oracle a view in which each UTF-16 unit is one `char` (our
//!   `minLength`/`maxLength` count UTF-16 units as JavaScript does; the oracle counts chars);
//! - every tool's real `inputSchema` from `catalog.json` accepts instances built to satisfy
//!   it, and the oracle agrees on those instances too;
//! - integers beyond ±(2^53 − 1) are refused by ours; the oracle gets that bound added;
//! - raw mode (seeds): a JSON `{"tool", "instance"}` is checked against the oracle on that
//!   tool's real schema, whatever the instance.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::schema::{validate, MAX_SAFE_INTEGER};
use fuzz_support::{catalogue, near, satisfying, schema, utf16_view};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Our validator also refuses integers beyond JavaScript's safe range (±(2^53 − 1)); the
/// oracle is told so by bounding every `integer` subschema the same way.
fn with_safe_integer_bounds(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), with_safe_integer_bounds(v)))
                .collect();
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                let safe = MAX_SAFE_INTEGER;
                let low = map
                    .get("minimum")
                    .and_then(Value::as_f64)
                    .map_or(-safe, |m| m.max(-safe));
                let high = map
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .map_or(safe, |m| m.min(safe));
                out.insert("minimum".into(), serde_json::json!(low));
                out.insert("maximum".into(), serde_json::json!(high));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(with_safe_integer_bounds).collect()),
        other => other.clone(),
    }
}

fn oracle(schema: &Value, instance: &Value) -> bool {
    let validator = jsonschema::validator_for(&utf16_view(&with_safe_integer_bounds(schema)))
        .unwrap_or_else(|error| {
            panic!("generated schema rejected by the oracle: {error}\n{schema}")
        });
    validator.is_valid(&utf16_view(instance))
}

/// Raw mode, for seeds: `{"tool": name, "instance": …}` checks the real catalogue schema
/// against the oracle on any instance; `{"schema": …, "instance": …}` only must not panic
/// (such a schema may use keywords outside the subset, where no differential applies).
fn raw(bytes: &[u8]) {
    let Ok(case) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let instance = &case["instance"];
    if let Some(tool) = catalogue().iter().find(|t| t["name"] == case["tool"]) {
        let schema = &tool["inputSchema"];
        let ours = validate(schema, instance);
        assert_eq!(
            ours.is_ok(),
            oracle(schema, instance),
            "validators disagree on {}\ninstance: {instance}\nours:     {ours:?}",
            tool["name"]
        );
    } else if let Some(schema) = case.get("schema") {
        let _ = validate(schema, instance);
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    if u.ratio(1, 4)? {
        let rest = u.bytes(u.len())?;
        raw(rest);
        return Ok(());
    }
    if u.ratio(1, 3)? {
        let tools = catalogue();
        let tool = u.choose(tools)?;
        let input_schema = &tool["inputSchema"];
        let instance = satisfying(u, input_schema, 4)?;
        assert_eq!(
            validate(input_schema, &instance),
            Ok(()),
            "{} rejected an instance built to satisfy its schema: {instance}",
            tool["name"]
        );
        assert!(oracle(input_schema, &instance), "oracle rejects {instance}");
        return Ok(());
    }
    let schema = schema(u, 4)?;
    for _ in 0..u.int_in_range(1..=4)? {
        let instance = near(u, &schema, 4)?;
        let ours = validate(&schema, &instance);
        let theirs = oracle(&schema, &instance);
        assert_eq!(
            ours.is_ok(),
            theirs,
            "validators disagree\nschema:   {schema}\ninstance: {instance}\nours:     {ours:?}"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
