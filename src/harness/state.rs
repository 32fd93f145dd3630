//! `state.json`: its default shape, how a loaded file is normalised (unknown keys kept, in the
//! original's order), recovery of a corrupt file, events, migrations and the agent-safe view.

use crate::clock::{epoch_ms, now_iso};
use crate::harness::ToolError;
use crate::json::{parse_lenient, to_compact};
use crate::sanitize::{js_string, sanitize_text, untrusted_block};
use crate::store::{LockKind, Store};
use serde_json::{json, Map, Value};

/// The state schema version this server writes.
pub const CURRENT_STATE_VERSION: i64 = 5;
/// Events (and decisions) kept in state.json.
pub const MAX_STATE_EVENTS: usize = 80;
/// Pre-migration backups kept.
pub const MIGRATION_BACKUPS_KEPT: usize = 5;

pub const STATE_FILE: &str = "state.json";

const COUNTERS: [&str; 11] = [
    "contracts",
    "traces",
    "gates",
    "verifications",
    "knowledgeItems",
    "knowledgeQueries",
    "evalCases",
    "evalRuns",
    "harnessProfiles",
    "harnessProposals",
    "promotionDecisions",
];

/// The default state, key order included.
pub fn default_state() -> Map<String, Value> {
    let counters: Map<String, Value> = COUNTERS.iter().map(|c| (c.to_string(), json!(0))).collect();
    let value = json!({
        "version": CURRENT_STATE_VERSION,
        "projectName": null,
        "focus": null,
        "status": "idle",
        "activeContractId": null,
        "counters": counters,
        "decisions": [],
        "events": []
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `{...DEFAULT, ...file, counters: {...DEFAULT.counters, ...file.counters}, decisions, events}`.
pub fn normalise(file: Map<String, Value>) -> Map<String, Value> {
    let file_counters = match file.get("counters") {
        Some(Value::Object(counters)) => counters.clone(),
        _ => Map::new(),
    };
    let mut state = default_state();
    for (key, value) in file {
        state.insert(key, value);
    }
    let mut counters = default_state()
        .remove("counters")
        .and_then(|c| c.as_object().cloned())
        .unwrap_or_default();
    {
        for (key, value) in file_counters {
            // A counter is a non-negative safe integer; anything else (a string, a negative or
            // absurd number) is reset rather than carried forward and incremented as text.
            let valid = value.as_f64().is_some_and(|n| {
                n >= 0.0 && n.fract() == 0.0 && n <= crate::schema::MAX_SAFE_INTEGER
            });
            counters.insert(key, if valid { value } else { json!(0) });
        }
    }
    state.insert("counters".into(), Value::Object(counters));
    for list in ["decisions", "events"] {
        match state.get_mut(list) {
            Some(Value::Array(items)) if items.len() > MAX_STATE_EVENTS => {
                items.drain(..items.len() - MAX_STATE_EVENTS);
            }
            Some(Value::Array(_)) => {}
            _ => {
                state.insert(list.into(), json!([]));
            }
        }
    }
    state
}

/// Refuses to modify a state written by a newer schema than this server knows: writing it
/// back would silently downgrade what a newer server relies on.
fn check_writable_version(state: &Map<String, Value>) -> Result<(), ToolError> {
    match state.get("version").and_then(Value::as_f64) {
        Some(version) if version > CURRENT_STATE_VERSION as f64 => Err(ToolError::new(format!(
            "state.json has schema version {}, newer than this server's {CURRENT_STATE_VERSION}; refusing to modify it. Upgrade codex-harness-mcp.",
            crate::json::js_number(version)
        ))),
        _ => Ok(()),
    }
}

/// Appends an event (`ts` and `type` first) and keeps the newest [`MAX_STATE_EVENTS`].
pub fn push_event(state: &mut Map<String, Value>, kind: &str, fields: Value) {
    let mut event = Map::new();
    event.insert("ts".into(), json!(now_iso()));
    event.insert("type".into(), json!(kind));
    if let Value::Object(fields) = fields {
        event.extend(fields);
    }
    push_bounded(state, "events", Value::Object(event));
}

/// Pushes onto the array `key` of `state` and keeps its newest [`MAX_STATE_EVENTS`] entries.
pub fn push_bounded(state: &mut Map<String, Value>, key: &str, item: Value) {
    let entry = state.entry(key.to_string()).or_insert_with(|| json!([]));
    if !entry.is_array() {
        *entry = json!([]);
    }
    if let Value::Array(items) = entry {
        items.push(item);
        if items.len() > MAX_STATE_EVENTS {
            items.drain(..items.len() - MAX_STATE_EVENTS);
        }
    }
}

/// Adds one to a counter.
pub fn bump(state: &mut Map<String, Value>, counter: &str) {
    if let Some(Value::Object(counters)) = state.get_mut("counters") {
        let current = counters.get(counter).and_then(Value::as_f64).unwrap_or(0.0);
        counters.insert(counter.into(), json!(current as i64 + 1));
    }
}

fn is_loadable(value: &Value) -> bool {
    value.get("counters").is_some_and(Value::is_object)
}

/// Loads the state. A missing file is the default; a corrupt one (unparsable, not an object,
/// no `counters` object) is moved aside to `state.corrupt.<ms>.json` and replaced, in memory,
/// by a default state carrying a `state_recovered` event. Nothing is written here. Something
/// that is not a plain file (a symlink, FIFO, hard link…) is an error, not corruption: it is
/// left exactly where it is for the user to inspect.
pub fn load_state(store: &Store) -> Result<Map<String, Value>, ToolError> {
    let loaded = match store.read(STATE_FILE)? {
        None => return Ok(default_state()),
        Some(bytes) => parse_lenient(&bytes).ok().filter(is_loadable),
    };
    Ok(match loaded {
        Some(Value::Object(file)) => normalise(file),
        _ => recover_corrupt_state(store),
    })
}

fn recover_corrupt_state(store: &Store) -> Map<String, Value> {
    let backup = format!("state.corrupt.{}.json", epoch_ms());
    // Best effort, as in the original: a failed move must not stop the recovery.
    let _ = store.rename(STATE_FILE, &backup);
    let mut state = default_state();
    push_event(
        &mut state,
        "state_recovered",
        json!({"summary": "state.json could not be read, so it was set aside as state.corrupt.*.json and the harness state was reset."}),
    );
    state
}

pub fn save_state(store: &Store, state: &Map<String, Value>) -> Result<(), ToolError> {
    store.write_atomic(
        STATE_FILE,
        crate::json::object_to_pretty_file(state).as_bytes(),
    )?;
    Ok(())
}

/// Load, change and save the state under the state lock: the only way state is written.
pub fn mutate_state<T>(
    store: &Store,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<T, ToolError>,
) -> Result<(T, Map<String, Value>), ToolError> {
    let _lock = store.lock(LockKind::State)?;
    let mut state = load_state(store)?;
    check_writable_version(&state)?;
    let result = change(&mut state)?;
    save_state(store, &state)?;
    Ok((result, state))
}

/// Event fields an agent may see; anything else a planted state.json carries is not shown.
const EVENT_FIELDS: [&str; 22] = [
    "ts",
    "type",
    "summary",
    "note",
    "status",
    "focus",
    "activeContractId",
    "contractId",
    "traceId",
    "kind",
    "gateId",
    "verdict",
    "knowledgeId",
    "harnessProfileId",
    "mode",
    "evalCaseId",
    "split",
    "evalRunId",
    "harnessProposalId",
    "riskLevel",
    "promotionDecisionId",
    "decision",
];
/// Longest plain (unwrapped) stored string shown in a state projection.
const MAX_SHOWN_FIELD: usize = 500;

fn wrap_if_truthy(value: Option<&Value>, label: &str) -> Value {
    match value.filter(|v| crate::harness::truthy(v)) {
        Some(text) => json!(untrusted_block(Some(&js_string(text)), label)),
        None => value
            .cloned()
            .filter(|v| v.is_null() || v.is_string())
            .unwrap_or(Value::Null),
    }
}

/// A stored scalar as shown unwrapped: strings sanitised and bounded, numbers, booleans and
/// null as they are, anything else hidden.
fn shown_scalar(value: &Value, max: usize) -> Option<Value> {
    match value {
        Value::String(text) => Some(json!(sanitize_text(text, max))),
        Value::Null | Value::Bool(_) | Value::Number(_) => Some(value.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// The state as an agent may see it. Built from the known fields only: unknown top-level keys
/// a planted or foreign state.json carries are kept on disk but never shown; stored user text
/// is wrapped; other strings are sanitised.
pub fn agent_safe_state(state: &Map<String, Value>) -> Value {
    let field = |key: &str| state.get(key);
    let counters: Map<String, Value> = COUNTERS
        .iter()
        .map(|name| {
            (
                name.to_string(),
                field("counters")
                    .and_then(|c| c.get(*name))
                    .cloned()
                    .unwrap_or(json!(0)),
            )
        })
        .collect();
    let decisions: Vec<Value> = field("decisions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    json!({
                        "id": d.get("id").and_then(|v| shown_scalar(v, 180)),
                        "ts": d.get("ts").and_then(|v| shown_scalar(v, 80)),
                        "text": untrusted_block(d.get("text").map(js_string).as_deref(), "state.decision")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let events: Vec<Value> = field("events")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .map(|event| {
                    let mut shown = Map::new();
                    for (key, value) in event
                        .iter()
                        .filter(|(k, _)| EVENT_FIELDS.contains(&k.as_str()))
                    {
                        let projected = match key.as_str() {
                            "note" => Some(wrap_if_truthy(Some(value), "state.event.note")),
                            "summary" => Some(wrap_if_truthy(Some(value), "state.event.summary")),
                            _ => shown_scalar(value, MAX_SHOWN_FIELD),
                        };
                        if let Some(projected) = projected {
                            shown.insert(key.clone(), projected);
                        }
                    }
                    Value::Object(shown)
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "version": field("version").filter(|v| v.is_number()).cloned().unwrap_or(json!(CURRENT_STATE_VERSION)),
        "projectName": wrap_if_truthy(field("projectName"), "state.projectName"),
        "focus": wrap_if_truthy(field("focus"), "state.focus"),
        "status": field("status").and_then(|v| shown_scalar(v, 50)),
        "activeContractId": field("activeContractId").and_then(|v| shown_scalar(v, 120)),
        "counters": counters,
        "decisions": decisions,
        "events": events
    })
}

/// What `harness_migrate` did.
pub struct Migration {
    pub from_version: i64,
    pub applied: Vec<&'static str>,
    pub state: Map<String, Value>,
}

/// Brings state.json to [`CURRENT_STATE_VERSION`] under the state lock. The previous file is
/// copied to `state.v<from>.backup.<ms>.json` first (newest five kept) and a line is appended
/// to `migrations/<date>.jsonl`. A state that needs nothing is left untouched.
pub fn migrate(store: &Store) -> Result<Migration, ToolError> {
    let _lock = store.lock(LockKind::State)?;
    let original = store.read(STATE_FILE)?;
    let existing = match &original {
        None => default_state(),
        Some(bytes) => match parse_lenient(bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(ToolError::new(
                    "state.json is not a JSON object; it was left untouched.",
                ))
            }
            Err(error) => {
                return Err(ToolError::new(format!(
                    "state.json is not valid JSON ({error}); it was left untouched."
                )))
            }
        },
    };
    let from_version = existing
        .get("version")
        .and_then(Value::as_f64)
        .filter(|v| v.fract() == 0.0)
        .map(|v| v as i64)
        .unwrap_or(0);
    // Reporting "migrated to v5" for a newer file would be a lie; say what is wrong instead.
    check_writable_version(&existing)?;
    let has_counter = |name: &str| existing.get("counters").and_then(|c| c.get(name)).is_some();
    let mut applied = Vec::new();
    if from_version < 2 && !has_counter("verifications") {
        applied.push("state-v2-verification-counter");
    }
    for (below, step) in [
        (3, "state-v3-knowledge-counters"),
        (4, "state-v4-eval-profile-counters"),
        (5, "state-v5-meta-harness-counters"),
    ] {
        if from_version < below {
            applied.push(step);
        }
    }
    let mut state = normalise(existing.clone());
    state.insert("version".into(), json!(CURRENT_STATE_VERSION));
    if applied.is_empty() {
        return Ok(Migration {
            from_version,
            applied,
            state,
        });
    }
    let mut backup_path = Value::Null;
    if let Some(bytes) = &original {
        let backup = format!("state.v{from_version}.backup.{}.json", epoch_ms());
        store.write_atomic(&backup, bytes)?;
        backup_path = json!(store.absolute(&backup));
        prune_migration_backups(store);
    }
    let suffix = if backup_path.is_null() {
        ""
    } else {
        " Pre-migration snapshot saved."
    };
    push_event(
        &mut state,
        "state_migrated",
        json!({"summary": format!("Harness state migrated from v{from_version} to v{CURRENT_STATE_VERSION}.{suffix}")}),
    );
    save_state(store, &state)?;
    let log_line = json!({
        "ts": now_iso(),
        "fromVersion": from_version,
        "toVersion": CURRENT_STATE_VERSION,
        "applied": applied,
        "backupPath": backup_path
    });
    store.create_dir_all("migrations")?;
    let log = format!("migrations/{}.jsonl", crate::clock::today());
    store.append_line(&log, format!("{}\n", to_compact(&log_line)).as_bytes())?;
    Ok(Migration {
        from_version,
        applied,
        state,
    })
}

fn is_backup_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("state.v")
        .and_then(|r| r.strip_suffix(".json"))
    else {
        return false;
    };
    let Some((version, stamp)) = rest.split_once(".backup.") else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(version) && digits(stamp)
}

/// Keeps the [`MIGRATION_BACKUPS_KEPT`] backups that sort last by name (best effort).
fn prune_migration_backups(store: &Store) {
    let Ok(names) = store.list(".") else { return };
    let mut backups: Vec<String> = names.into_iter().filter(|n| is_backup_name(n)).collect();
    backups.sort();
    backups.reverse();
    for stale in backups.iter().skip(MIGRATION_BACKUPS_KEPT) {
        let _ = store.remove(stale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_keeps_unknown_keys_after_the_defaults() {
        let file = json!({"zeta": 1, "status": "done", "counters": {"custom": 3, "traces": 2}, "version": 3});
        let state = normalise(file.as_object().cloned().unwrap());
        let keys: Vec<&str> = state.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "version",
                "projectName",
                "focus",
                "status",
                "activeContractId",
                "counters",
                "decisions",
                "events",
                "zeta"
            ]
        );
        assert_eq!(state["version"], 3);
        assert_eq!(state["counters"]["traces"], 2);
        assert_eq!(state["counters"]["custom"], 3);
        assert_eq!(state["counters"]["gates"], 0);
    }

    #[test]
    fn events_are_bounded_at_eighty() {
        let mut state = default_state();
        for i in 0..(MAX_STATE_EVENTS + 5) {
            push_event(&mut state, "x", json!({"n": i}));
        }
        let events = state["events"].as_array().unwrap();
        assert_eq!(events.len(), MAX_STATE_EVENTS);
        assert_eq!(events[0]["n"], 5);
        assert_eq!(events[0].as_object().unwrap().keys().next().unwrap(), "ts");
    }

    #[test]
    fn backup_names_follow_the_original_pattern() {
        assert!(is_backup_name("state.v1.backup.1700000000000.json"));
        assert!(!is_backup_name("state.v1.backup.x.json"));
        assert!(!is_backup_name("state.corrupt.1.json"));
    }
}
