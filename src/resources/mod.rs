//! The `harness://` resources: the static list, one entry per stored record, the URI
//! templates, pagination, and reading. Reads that only observe stored records never create the
//! workspace; the governance, spec and observability views bootstrap it first, as the tools
//! they share their code with do.

mod pages;
mod uri;

pub use uri::{parse as parse_uri, percent_encode, HarnessUri};

use crate::harness::evals::{self, Kind};
use crate::harness::governance::{self, AuditRequest};
use crate::harness::records::{
    agent_safe_gate, agent_safe_trace, contract_summary, load_record, names_with_suffix,
    read_recent_gates, read_recent_traces, render_contract, Listing,
};
use crate::harness::records::{wrap, wrap_list, wrap_or_null};
use crate::harness::state::{agent_safe_state, load_state, STATE_FILE};
use crate::harness::{ensure_harness, reports, ToolError};
use crate::json::to_pretty_file;
use crate::knowledge::serve::{index_page, indexed_ids, load_item, render_knowledge_item};
use crate::sanitize::{echo, js_string, safe_file_id, vouch_server_tree, AgentJson, AgentText};
use crate::store::Store;
use crate::tools::knowledge::recent_knowledge;
use serde_json::{json, Map, Value};

/// Largest and default `resources/list` page.
pub const MAX_PAGE_SIZE: usize = 500;
pub const DEFAULT_PAGE_SIZE: usize = 200;
/// Entries in a page of `harness://knowledge/index` when `page_size` is not given.
pub const KNOWLEDGE_INDEX_PAGE: usize = 50;

/// Why a resource request failed; the protocol layer maps each to its JSON-RPC code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceError {
    /// The URI itself is unusable (-32602).
    InvalidUri(String),
    /// Well-formed, but nothing is there (-32002).
    NotFound(String),
    /// Reading failed (-32603).
    Failed(String),
    /// A list cursor this server did not hand out (-32602).
    InvalidCursor(String),
}

impl From<ToolError> for ResourceError {
    fn from(error: ToolError) -> Self {
        ResourceError::Failed(error.0)
    }
}

struct StaticResource {
    uri: &'static str,
    name: &'static str,
    title: &'static str,
    description: &'static str,
    json: bool,
    priority: f64,
}

const STATIC_RESOURCES: &[StaticResource] = &[
    StaticResource {
        uri: "harness://state",
        name: "state",
        title: "Harness State",
        description: "Status, focus, active contract, counters and recent events.",
        json: true,
        priority: 1.0,
    },
    StaticResource {
        uri: "harness://contracts",
        name: "contracts",
        title: "Harness Contracts",
        description: "Every execution contract with its status.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://traces/recent",
        name: "recent-traces",
        title: "Recent Harness Traces",
        description: "The most recent traces, oldest first.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://gates/recent",
        name: "recent-gates",
        title: "Recent Harness Gates",
        description: "The most recent completion-gate evaluations.",
        json: true,
        priority: 0.8,
    },
    StaticResource {
        uri: "harness://governance/policy",
        name: "governance-policy",
        title: "Harness Governance Policy",
        description: "The project's governance policy: write roots, forbidden paths, required verification, trace and gate requirements, side-effect permissions and sub-agent rules.",
        json: true,
        priority: 0.95,
    },
    StaticResource {
        uri: "harness://governance/report",
        name: "governance-report",
        title: "Harness Governance Report",
        description: "The PASS/FLAG/BLOCK audit of the active contract's evidence, as Markdown.",
        json: false,
        priority: 1.0,
    },
    StaticResource {
        uri: "harness://knowledge/index",
        name: "knowledge-index",
        title: "Harness Knowledge Index",
        description: "The knowledge index: one entry per item, with untrusted text wrapped.",
        json: true,
        priority: 0.95,
    },
    StaticResource {
        uri: "harness://knowledge/recent",
        name: "recent-knowledge",
        title: "Recent Harness Knowledge",
        description: "The most recently recorded knowledge items, newest first.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://evals/cases",
        name: "eval-cases",
        title: "Harness Eval Cases",
        description: "Every stored eval case, for comparing profiles and tracking regressions and holdout behaviour.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://evals/runs",
        name: "eval-runs",
        title: "Harness Eval Runs",
        description: "Every stored eval run with its verdict, score, model and cost metrics.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://harness-profiles",
        name: "harness-profiles",
        title: "Harness Profiles",
        description: "Every stored harness profile (minimal, standard, verifier-heavy, custom …).",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://harness-proposals",
        name: "harness-proposals",
        title: "Harness Proposals",
        description: "Every proposed harness change, recorded as a hypothesis before promotion.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://promotion-decisions",
        name: "promotion-decisions",
        title: "Harness Promotion Decisions",
        description: "Every promote/reject/hold decision with its holdout, regression and risk evidence.",
        json: true,
        priority: 0.9,
    },
    StaticResource {
        uri: "harness://harness/spec",
        name: "natural-language-harness-spec",
        title: "Natural-Language Harness Spec",
        description: "The harness operating loop in plain language (roles, stages, tools, state, failure modes, stop rules) with a snapshot of this project.",
        json: false,
        priority: 1.0,
    },
    StaticResource {
        uri: "harness://observability/report",
        name: "observability-report",
        title: "Harness Observability Report",
        description: "Trace-level view of the active contract, eval posture, memory, governance, safety and blind spots.",
        json: false,
        priority: 1.0,
    },
    // An addition of this implementation (not in the original's list).
    StaticResource {
        uri: POSTURE_URI,
        name: "security-posture",
        title: "Harness Security Posture",
        description: "Server version, the limits in force and the kernel confinement actually applied to this process.",
        json: true,
        priority: 0.5,
    },
];

/// The security posture resource (an addition of this implementation).
pub const POSTURE_URI: &str = "harness://security/posture";

/// One family of per-record resources: `harness://<kind>/<id>`.
struct RecordFamily {
    kind: &'static str,
    name_prefix: &'static str,
    title_prefix: &'static str,
    noun: &'static str,
    priority: f64,
}

const RECORD_FAMILIES: &[RecordFamily] = &[
    RecordFamily {
        kind: "contract",
        name_prefix: "contract-",
        title_prefix: "Harness Contract ",
        noun: "contract",
        priority: 0.95,
    },
    RecordFamily {
        kind: "knowledge/item",
        name_prefix: "knowledge-",
        title_prefix: "Harness Knowledge ",
        noun: "knowledge item",
        priority: 0.9,
    },
    RecordFamily {
        kind: "eval-case",
        name_prefix: "eval-case-",
        title_prefix: "Harness Eval Case ",
        noun: "eval case",
        priority: 0.9,
    },
    RecordFamily {
        kind: "eval-run",
        name_prefix: "eval-run-",
        title_prefix: "Harness Eval Run ",
        noun: "eval run",
        priority: 0.9,
    },
    RecordFamily {
        kind: "harness-profile",
        name_prefix: "harness-profile-",
        title_prefix: "Harness Profile ",
        noun: "harness profile",
        priority: 0.9,
    },
    RecordFamily {
        kind: "harness-proposal",
        name_prefix: "harness-proposal-",
        title_prefix: "Harness Proposal ",
        noun: "harness proposal",
        priority: 0.9,
    },
    RecordFamily {
        kind: "promotion-decision",
        name_prefix: "promotion-decision-",
        title_prefix: "Harness Promotion Decision ",
        noun: "promotion decision",
        priority: 0.9,
    },
];

/// The eval-record kind behind a per-record resource kind.
fn eval_kind(kind: &str) -> Option<Kind> {
    Some(match kind {
        "eval-case" => Kind::EvalCase,
        "eval-run" => Kind::EvalRun,
        "harness-profile" => Kind::Profile,
        "harness-proposal" => Kind::Proposal,
        "promotion-decision" => Kind::Decision,
        _ => return None,
    })
}

fn mime(json: bool) -> &'static str {
    if json {
        "application/json"
    } else {
        "text/markdown"
    }
}

/// The ids a `harness://{kind}/{id}` template can be filled with; `None` for a URI that is no
/// template of ours.
pub fn template_ids(
    store: &Store,
    uri_template: &str,
) -> Option<Result<Vec<String>, ResourceError>> {
    let kind = uri_template
        .strip_prefix("harness://")?
        .strip_suffix("/{id}")?;
    RECORD_FAMILIES
        .iter()
        .any(|family| family.kind == kind)
        .then(|| record_ids(store, kind))
}

/// The directory of a per-record family other than knowledge.
fn family_dir(kind: &str) -> &'static str {
    eval_kind(kind).map_or("contracts", Kind::dir)
}

/// The ids of the stored records of `kind`. Only safe file ids: any other names no readable
/// record, so it is neither listed nor offered for completion (and never shown unwrapped).
fn record_ids(store: &Store, kind: &str) -> Result<Vec<String>, ResourceError> {
    let ids = match (kind, eval_kind(kind)) {
        ("contract", _) => file_ids(store, "contracts")?,
        ("knowledge/item", _) => knowledge_ids(store)?,
        (_, Some(eval)) => file_ids(store, eval.dir())?,
        _ => Vec::new(),
    };
    Ok(ids
        .into_iter()
        .filter(|id| safe_file_id(id).is_some())
        .collect())
}

fn file_ids(store: &Store, dir: &str) -> Result<Vec<String>, ToolError> {
    Ok(names_with_suffix(store, dir, ".json")?
        .iter()
        .map(|name| name.trim_end_matches(".json").to_string())
        .collect())
}

/// The resources `start..end` of the full listing (static ones, then each family's records),
/// and how many there are in all. Only the page is built: a listing of 200,000 records costs
/// their ids, not 200,000 resource objects.
fn resource_page(
    store: &Store,
    start: usize,
    end: usize,
) -> Result<(Vec<Value>, usize), ResourceError> {
    let mut page: Vec<Value> = STATIC_RESOURCES
        .iter()
        .enumerate()
        .filter(|(n, _)| (start..end).contains(n))
        .map(|(_, r)| {
            json!({"uri": r.uri, "name": r.name, "title": r.title, "description": r.description,
                   "mimeType": mime(r.json), "annotations": {"audience": ["assistant"], "priority": r.priority}})
        })
        .collect();
    let mut total = STATIC_RESOURCES.len();
    for family in RECORD_FAMILIES {
        let (first, last) = (start.saturating_sub(total), end.saturating_sub(total));
        // Knowledge items are paged in the in-memory index: an unsafe id in the page is left
        // out of it (never shown) but keeps its place, so cursors stay offsets.
        let (ids, count) = if family.kind == "knowledge/item" {
            let (ids, count) = indexed_ids(store, first, last)?;
            let safe: Vec<String> = ids
                .into_iter()
                .filter(|id| safe_file_id(id).is_some())
                .collect();
            (safe, count)
        } else {
            pages::ids_page(store, family_dir(family.kind), first, last)?
        };
        for id in &ids {
            page.push(json!({
                "uri": format!("harness://{}/{}", family.kind, percent_encode(id)),
                "name": format!("{}{id}", family.name_prefix),
                "title": format!("{}{id}", family.title_prefix),
                "description": format!("Markdown view of the stored {} {id}, with untrusted data boundaries.", family.noun),
                "mimeType": "text/markdown",
                "annotations": {"audience": ["assistant"], "priority": family.priority}
            }));
        }
        total += count;
    }
    Ok((page, total))
}

const CURSOR_PREFIX: &str = "offset:";
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Lenient decoding, as Node's: unknown characters and padding are skipped.
fn base64url_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        let Some(value) = BASE64URL.iter().position(|c| *c == byte).or(match byte {
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }) else {
            continue;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

pub fn encode_cursor(offset: usize) -> String {
    base64url_encode(format!("{CURSOR_PREFIX}{offset}").as_bytes())
}

/// The offset a cursor names: 0 without one, `None` for a cursor this server could not have
/// handed out (restarting at page 1 would show the client the same page twice, silently).
pub fn decode_cursor(cursor: Option<&Value>) -> Option<usize> {
    let text = match cursor {
        None | Some(Value::Null) => return Some(0),
        Some(Value::String(text)) => text,
        Some(_) => return None,
    };
    let decoded = String::from_utf8(base64url_decode(text)).ok()?;
    decoded
        .strip_prefix(CURSOR_PREFIX)
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
}

fn page_size(params: &Map<String, Value>) -> usize {
    let requested = match params.get("page_size") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match requested {
        Some(size) if size.is_finite() && size >= 1.0 => (size as usize).min(MAX_PAGE_SIZE),
        _ => DEFAULT_PAGE_SIZE,
    }
}

/// `resources/list` with `offset:N` cursors (clamped to the list).
pub fn list(store: &Store, params: &Map<String, Value>) -> Result<Value, ResourceError> {
    let start = decode_cursor(params.get("cursor"))
        .ok_or_else(|| ResourceError::InvalidCursor("Invalid cursor.".into()))?;
    let (page, total) = resource_page(store, start, start.saturating_add(page_size(params)))?;
    let end = start
        .saturating_add(page_size(params))
        .min(total)
        .max(start.min(total));
    let mut result = Map::new();
    result.insert("resources".into(), Value::Array(page));
    if end < total {
        result.insert("nextCursor".into(), json!(encode_cursor(end)));
    }
    Ok(Value::Object(result))
}

/// `resources/templates/list`: the per-record URI forms.
pub fn templates() -> Value {
    let templates: Vec<Value> = RECORD_FAMILIES
        .iter()
        .map(|family| {
            json!({
                "uriTemplate": format!("harness://{}/{{id}}", family.kind),
                "name": family.kind,
                "title": family.title_prefix.trim_end(),
                "description": format!("Markdown view of one stored {}, with untrusted data boundaries.", family.noun),
                "mimeType": "text/markdown"
            })
        })
        .collect();
    json!({"resourceTemplates": templates})
}

/// The one place a resource's text is made: Markdown arrives as [`AgentText`], JSON passes
/// the [`AgentJson`] sink.
fn contents(uri: &str, mime_type: &str, text: AgentText) -> Value {
    json!({"contents": [{"uri": uri, "mimeType": mime_type, "text": text.into_string()}]})
}

fn json_contents(uri: &str, value: Value) -> Value {
    let shown = AgentJson::from_result(value);
    json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": to_pretty_file(shown.as_value())}]})
}

fn numeric_param(params: &Map<String, Value>, key: &str, default: usize) -> usize {
    params
        .get(key)
        .and_then(Value::as_f64)
        .filter(|n| *n >= 1.0)
        .map(|n| n as usize)
        .unwrap_or(default)
}

/// The security posture: version, pinned project (redacted), limits and confinement.
/// Built only from this program's constants and what the kernel reported at start-up.
fn posture_document(posture: &Value) -> Value {
    vouch_server_tree(json!({
        "server": {"name": "codex-harness-mcp", "version": env!("CARGO_PKG_VERSION")},
        "project": "<project>",
        "limits": {
            "maxLineBytes": crate::transport::MAX_LINE_BYTES,
            "maxJsonDepth": crate::json::MAX_JSON_DEPTH,
            "maxSchemaDepth": crate::schema::MAX_SCHEMA_DEPTH,
            "maxTextLength": crate::sanitize::MAX_TEXT_LENGTH,
            "maxListItems": crate::sanitize::MAX_LIST_ITEMS,
            "maxListItemLength": crate::sanitize::MAX_LIST_ITEM_LENGTH,
            "maxFileBytes": crate::store::MAX_FILE_BYTES,
            "lockTimeoutMs": crate::store::LOCK_TIMEOUT_MS,
            "maxStateEvents": crate::harness::state::MAX_STATE_EVENTS,
            "maxResourcePageSize": MAX_PAGE_SIZE
        },
        "confinement": posture
    }))
}

/// Reads a stored eval record as Markdown, or the original's not-found message.
fn eval_record(store: &Store, kind: Kind, id: &str, uri: &str) -> Result<Value, ResourceError> {
    let record = evals::load(store, kind, id)?.ok_or_else(|| {
        let noun = match kind {
            Kind::EvalCase => "Harness eval case",
            Kind::EvalRun => "Harness eval run",
            Kind::Profile => "Harness profile",
            Kind::Proposal => "Harness proposal",
            Kind::Decision => "Promotion decision",
        };
        ResourceError::NotFound(format!("{noun} not found: {}", echo(id, "uri.id")))
    })?;
    Ok(contents(uri, "text/markdown", evals::render(kind, &record)))
}

/// A page of the records of `kind` ([`pages`]), agent-safe, under `key`.
fn eval_list(
    store: &Store,
    kind: Kind,
    key: &str,
    uri: &str,
    params: &Map<String, Value>,
) -> Result<Value, ResourceError> {
    let (listing, next) = pages::read_page(store, kind.dir(), params)?;
    let records: Vec<Value> = listing
        .records
        .iter()
        .map(|r| evals::agent_safe(kind, r))
        .collect();
    let mut out = Map::new();
    out.insert(
        "projectPath".into(),
        AgentText::launch_path(store.project_path()).into_json(),
    );
    out.insert(key.into(), Value::Array(records));
    if let Some(next) = next {
        out.insert("nextOffset".into(), next);
    }
    Ok(json_contents(uri, Value::Object(out)))
}

/// `resources/read`. `posture` is the confinement posture reported by the security resource.
pub fn read(
    store: &Store,
    posture: &Value,
    params: &Map<String, Value>,
) -> Result<Value, ResourceError> {
    let uri = match params.get("uri") {
        Some(Value::String(uri)) => uri.clone(),
        other => {
            let shown = other
                .map(|value| echo(&js_string(value), "uri"))
                .unwrap_or_else(|| "undefined".into());
            return Err(ResourceError::InvalidUri(format!(
                "Invalid harness resource URI: {shown}"
            )));
        }
    };
    let parsed = parse_uri(&uri)?;
    let project_path = AgentText::launch_path(store.project_path()).into_json();
    let unknown =
        || ResourceError::NotFound(format!("Unknown harness resource: {}", echo(&uri, "uri")));
    match (parsed.kind.as_str(), parsed.id.as_str()) {
        ("state", _) => {
            let initialized = store.exists(STATE_FILE).map_err(ToolError::from)?;
            let state = load_state(store)?;
            Ok(json_contents(
                &uri,
                json!({"projectPath": project_path, "initialized": initialized, "state": agent_safe_state(&state)}),
            ))
        }
        ("contracts", _) => {
            let (listing, next) = pages::read_page(store, "contracts", params)?;
            let contracts: Vec<Value> = listing.records.iter().map(contract_summary).collect();
            let mut result = json!({"projectPath": project_path, "contracts": contracts});
            if let Some(next) = next {
                result["nextOffset"] = next;
            }
            Listing::report_into(&listing.skipped, &mut result);
            Ok(json_contents(&uri, result))
        }
        ("contract", id) => {
            let Some(safe) = safe_file_id(id) else {
                return Err(ResourceError::NotFound(format!(
                    "Invalid harness contract id: {}",
                    echo(id, "uri.id")
                )));
            };
            let contract = load_record(store, "contracts", &safe)?.ok_or_else(|| {
                ResourceError::NotFound(format!("Harness contract not found: {safe}"))
            })?;
            Ok(contents(&uri, "text/markdown", render_contract(&contract)))
        }
        ("traces", "recent") => {
            let traces = read_recent_traces(store, numeric_param(params, "max_traces", 8))?;
            let traces: Vec<Value> = traces.iter().map(agent_safe_trace).collect();
            Ok(json_contents(
                &uri,
                json!({"projectPath": project_path, "recentTraces": traces}),
            ))
        }
        ("gates", "recent") => {
            let listing = read_recent_gates(store, numeric_param(params, "max_gates", 8))?;
            // Oldest first, as the traces.
            let gates: Vec<Value> = listing.records.iter().rev().map(agent_safe_gate).collect();
            let mut result = json!({"projectPath": project_path, "recentGates": gates});
            Listing::report_into(&listing.skipped, &mut result);
            Ok(json_contents(&uri, result))
        }
        ("governance", "policy") => {
            ensure_harness(store, None, false)?;
            let policy = governance::read_policy(store)?;
            Ok(json_contents(
                &uri,
                json!({"projectPath": project_path, "policy": policy}),
            ))
        }
        ("governance", "report") => {
            ensure_harness(store, None, false)?;
            let request = AuditRequest {
                contract_id: params
                    .get("contract_id")
                    .filter(|v| crate::harness::truthy(v))
                    .map(js_string),
                max_traces: numeric_param(params, "max_traces", 20),
                max_gates: numeric_param(params, "max_gates", 12),
            };
            let audit = governance::audit(store, &request)?;
            Ok(contents(
                &uri,
                "text/markdown",
                governance::render_report(&audit),
            ))
        }
        ("evals", "cases") => eval_list(store, Kind::EvalCase, "cases", &uri, params),
        ("evals", "runs") => eval_list(store, Kind::EvalRun, "runs", &uri, params),
        ("harness-profiles", _) => eval_list(store, Kind::Profile, "profiles", &uri, params),
        ("harness-proposals", _) => eval_list(store, Kind::Proposal, "proposals", &uri, params),
        ("promotion-decisions", _) => eval_list(store, Kind::Decision, "decisions", &uri, params),
        ("harness", "spec") => {
            ensure_harness(store, None, false)?;
            let text = reports::spec_text(store, numeric_param(params, "max_traces", 5))?;
            Ok(contents(&uri, "text/markdown", text))
        }
        ("observability", "report") => {
            ensure_harness(store, None, false)?;
            let text = reports::observability_text(
                store,
                None,
                numeric_param(params, "max_traces", 10),
                numeric_param(params, "max_knowledge", 8),
            )?;
            Ok(contents(&uri, "text/markdown", text))
        }
        ("knowledge", "index") => Ok(json_contents(
            &uri,
            json!({"projectPath": project_path, "index": knowledge_index_view(store, params)?}),
        )),
        ("knowledge", "recent") => {
            let limit = numeric_param(params, "max_results", 8);
            Ok(json_contents(&uri, recent_knowledge(store, limit)?))
        }
        ("knowledge", path) if path.starts_with("item/") => {
            let id = &path["item/".len()..];
            let item = load_item(store, id)?.ok_or_else(|| {
                ResourceError::NotFound(format!(
                    "Harness knowledge item not found: {}",
                    echo(id, "uri.id")
                ))
            })?;
            Ok(contents(
                &uri,
                "text/markdown",
                render_knowledge_item(&item),
            ))
        }
        ("security", "posture") => Ok(json_contents(&uri, posture_document(posture))),
        (kind, id) => match eval_kind(kind) {
            Some(eval) => eval_record(store, eval, id, &uri),
            None => Err(unknown()),
        },
    }
}

/// Ids of the indexed knowledge items, oldest first.
fn knowledge_ids(store: &Store) -> Result<Vec<String>, ToolError> {
    Ok(indexed_ids(store, 0, usize::MAX)?.0)
}

/// `harness://knowledge/index`: a page of entries, oldest first: from `offset` (a number, 0
/// by default), `page_size` as `resources/list` takes it ([`KNOWLEDGE_INDEX_PAGE`] by
/// default), with `nextOffset` while more remain (a number: it reaches the agent as it is,
/// where a cursor string would be wrapped as untrusted text). Each entry is reduced to its
/// listing fields, text wrapped. `updatedAt` is the newest entry's time.
fn knowledge_index_view(
    store: &Store,
    params: &Map<String, Value>,
) -> Result<Value, ResourceError> {
    let start = numeric_param(params, "offset", 0);
    let size = match params.get("page_size") {
        Some(_) => page_size(params),
        None => KNOWLEDGE_INDEX_PAGE,
    };
    let (entries, total) = index_page(store, start, size)?;
    let newest = crate::knowledge::serve::newest_entries(store, 1)?;
    let items: Vec<Value> = entries
        .iter()
        .map(|entry| {
            json!({
                "id": entry.get("id"),
                "ts": entry.get("ts"),
                "kind": entry.get("kind"),
                "title": wrap(entry.get("title"), "knowledge.title"),
                "summary": wrap_or_null(entry.get("summary"), "knowledge.summary"),
                "tags": wrap_list(entry.get("tags"), "knowledge.tags"),
                "confidence": entry.get("confidence")
            })
        })
        .collect();
    let mut view = json!({
        "version": crate::knowledge::index::INDEX_VERSION,
        "updatedAt": newest.first().and_then(|e| e.get("ts")).cloned().unwrap_or(Value::Null),
        "items": items
    });
    let end = start.saturating_add(entries.len());
    if end < total {
        view["nextOffset"] = json!(end);
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_match_the_original_encoding() {
        assert_eq!(encode_cursor(3), "b2Zmc2V0OjM");
        assert_eq!(decode_cursor(Some(&json!("b2Zmc2V0OjM"))), Some(3));
        assert_eq!(decode_cursor(Some(&json!("b2Zmc2V0OjM="))), Some(3));
        assert_eq!(decode_cursor(Some(&json!("garbage"))), None);
        assert_eq!(decode_cursor(Some(&json!(5))), None);
        assert_eq!(decode_cursor(None), Some(0));
        for offset in [0, 1, 15, 200, 123_456] {
            assert_eq!(
                decode_cursor(Some(&json!(encode_cursor(offset)))),
                Some(offset)
            );
        }
    }

    #[test]
    fn page_size_defaults_and_clamps() {
        let params = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(page_size(&params(json!({}))), DEFAULT_PAGE_SIZE);
        assert_eq!(
            page_size(&params(json!({"page_size": 0}))),
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(page_size(&params(json!({"page_size": "10"}))), 10);
        assert_eq!(
            page_size(&params(json!({"page_size": MAX_PAGE_SIZE}))),
            MAX_PAGE_SIZE
        );
        assert_eq!(
            page_size(&params(json!({"page_size": MAX_PAGE_SIZE - 1}))),
            MAX_PAGE_SIZE - 1
        );
        assert_eq!(
            page_size(&params(json!({"page_size": MAX_PAGE_SIZE + 1}))),
            MAX_PAGE_SIZE
        );
    }
}
