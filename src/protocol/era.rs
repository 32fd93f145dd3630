//! The MCP revisions this server speaks, how a request picks one, and every way a reply
//! differs between them.
//!
//! Owns: the list of supported versions, the choice of era for each request (legacy
//! `initialize` state or modern per-request `_meta`), and the shaping of a finished result
//! or error to the version of the request it answers. It never runs a method and never
//! touches the store: [`super::methods`] computes one version-neutral value, this module
//! only removes what an older revision does not define and adds what a newer one requires.
//!
//! Two eras share one process. A request whose `params._meta` carries
//! `io.modelcontextprotocol/protocolVersion` (or `…/clientCapabilities`) is *modern*: it is
//! served statelessly at the version it names, whatever any `initialize` said. Any other
//! request is *legacy*: it is served at the version the latest `initialize` negotiated, or
//! at [`DEFAULT_LEGACY`] before any `initialize` (as this server always has).
//!
//! | what                                   | 2024-11-05 | 2025-03-26 | 2025-06-18 | 2025-11-25 | 2026-07-28 |
//! | -------------------------------------- | ---------- | ---------- | ---------- | ---------- | ---------- |
//! | how the version is chosen              | `initialize` | `initialize` | `initialize` | `initialize` | `_meta` of every request |
//! | `initialize` / `notifications/initialized` | yes    | yes        | yes        | yes        | no (-32601) |
//! | `server/discover`                      | no         | no         | no         | no         | yes        |
//! | `ping`                                 | yes        | yes        | yes        | yes        | no (-32601) |
//! | tool `annotations`                     | no         | yes        | yes        | yes        | yes        |
//! | `title` on tools, resources, templates, prompts, `Implementation` | no | no | yes | yes | yes |
//! | tool `outputSchema`, `structuredContent` | no       | no         | yes        | yes        | yes        |
//! | `Implementation.description`           | no         | no         | no         | yes        | yes        |
//! | `instructions`                         | `initialize` | `initialize` | `initialize` | `initialize` | `server/discover` |
//! | `completion/complete`                  | yes        | yes        | yes        | yes        | yes        |
//! | `completions` capability               | no         | yes        | yes        | yes        | yes        |
//! | `message` on `notifications/progress`  | no         | yes        | yes        | yes        | yes        |
//! | invalid tool arguments                 | -32602     | -32602     | -32602     | `isError` result | `isError` result |
//! | unknown resource                       | -32002     | -32002     | -32002     | -32002     | -32602     |
//! | unsupported version                    | answered with 2025-11-25 | ← | ← | ← | -32022 with `data.supported`/`data.requested` |
//! | `resultType: "complete"` on results    | no         | no         | no         | no         | yes        |
//! | `ttlMs`/`cacheScope` on list and read results, discover | no | no | no | no | yes     |
//! | server identity                        | `initialize.serverInfo` | ← | ← | ← | `_meta["io.modelcontextprotocol/serverInfo"]` of every result |

use super::jsonrpc::{RpcError, INVALID_PARAMS, RESOURCE_NOT_FOUND};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU8, Ordering};

/// One released MCP revision, oldest first (the order is the order of revisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V2024_11_05,
    V2025_03_26,
    V2025_06_18,
    V2025_11_25,
    V2026_07_28,
}

/// Versions `initialize` negotiates, oldest first.
pub const LEGACY_VERSIONS: [Version; 4] = [
    Version::V2024_11_05,
    Version::V2025_03_26,
    Version::V2025_06_18,
    Version::V2025_11_25,
];
/// Versions a request may name in its `_meta`.
pub const MODERN_VERSIONS: [Version; 1] = [Version::V2026_07_28];
/// What `initialize` answers to a version it does not know (the latest legacy revision).
pub const PREFERRED_LEGACY: Version = Version::V2025_11_25;
/// The version of a legacy request sent before any `initialize`: what this server has
/// always served such requests as, so clients that skip the handshake see no change.
pub const DEFAULT_LEGACY: Version = Version::V2025_06_18;

/// `_meta` key of a modern request's protocol version.
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of a modern request's client capabilities.
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the server's identity in every modern result.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// 2026-07-28's `UnsupportedProtocolVersionError`.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// Caching hints (2026-07-28 `CacheableResult`). The catalogues of tools, prompts and
/// templates are compiled into the binary: they change only when the binary does, which
/// restarts the process, so an hour is safe and bounds how long a client that keeps its
/// cache across restarts can miss an upgrade. They are the same for every caller: public.
const CATALOGUE_TTL_MS: u64 = 3_600_000;
/// Stored records (the resource list and every resource read) can be changed at any moment
/// by another process sharing the project (a second server, the Node server, the user), so
/// they are stale at once; they are the project's own data: private.
const RECORD_TTL_MS: u64 = 0;

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2024_11_05 => "2024-11-05",
            Version::V2025_03_26 => "2025-03-26",
            Version::V2025_06_18 => "2025-06-18",
            Version::V2025_11_25 => "2025-11-25",
            Version::V2026_07_28 => "2026-07-28",
        }
    }

    pub fn parse(text: &str) -> Option<Version> {
        LEGACY_VERSIONS
            .into_iter()
            .chain(MODERN_VERSIONS)
            .find(|v| v.as_str() == text)
    }

    pub fn is_modern(self) -> bool {
        self >= Version::V2026_07_28
    }

    /// 2025-03-26 added `message` to `notifications/progress`.
    pub fn progress_has_message(self) -> bool {
        self >= Version::V2025_03_26
    }

    /// SEP-1303: from 2025-11-25 a schema violation is a tool result the model can read.
    pub fn input_errors_are_tool_results(self) -> bool {
        self >= Version::V2025_11_25
    }

    fn code(self, code: i64) -> i64 {
        // 2026-07-28 renumbered "resource not found" to Invalid Params and forbids -32002.
        if code == RESOURCE_NOT_FOUND && self.is_modern() {
            INVALID_PARAMS
        } else {
            code
        }
    }

    fn index(self) -> u8 {
        self as u8
    }

    fn from_index(index: u8) -> Version {
        LEGACY_VERSIONS
            .into_iter()
            .chain(MODERN_VERSIONS)
            .find(|v| v.index() == index)
            .unwrap_or(DEFAULT_LEGACY)
    }
}

/// The legacy version the latest `initialize` negotiated. Atomic so a `Server` stays `Sync`;
/// the loop is single-threaded, so relaxed ordering is enough.
#[derive(Debug)]
pub struct LegacyState(AtomicU8);

impl Default for LegacyState {
    fn default() -> Self {
        LegacyState(AtomicU8::new(DEFAULT_LEGACY.index()))
    }
}

impl LegacyState {
    pub fn current(&self) -> Version {
        Version::from_index(self.0.load(Ordering::Relaxed))
    }

    /// `initialize`: the requested version if it is a legacy one, else [`PREFERRED_LEGACY`].
    /// The answer holds for every later legacy request, until the next `initialize`.
    pub fn negotiate(&self, requested: Option<&str>) -> Version {
        let version = requested
            .and_then(Version::parse)
            .filter(|v| !v.is_modern())
            .unwrap_or(PREFERRED_LEGACY);
        self.0.store(version.index(), Ordering::Relaxed);
        version
    }
}

fn meta(params: Option<&Value>) -> Option<&Map<String, Value>> {
    params?.get("_meta")?.as_object()
}

/// The version a request is served at. A request is modern when its `_meta` carries either
/// per-request key; it must then carry both, well-formed (-32602), at a version served
/// statelessly (-32022). `server/discover` exists only in the modern era.
pub fn select(
    method: &str,
    params: Option<&Value>,
    legacy: &LegacyState,
) -> Result<Version, RpcError> {
    let meta = meta(params);
    let version = meta.and_then(|m| m.get(PROTOCOL_VERSION_KEY));
    let capabilities = meta.and_then(|m| m.get(CLIENT_CAPABILITIES_KEY));
    if version.is_none() && capabilities.is_none() && method != "server/discover" {
        return Ok(legacy.current());
    }
    let (Some(Value::String(requested)), Some(Value::Object(_))) = (version, capabilities) else {
        return Err(RpcError::new(
            INVALID_PARAMS,
            format!(
                "A {} request must carry params._meta[\"{PROTOCOL_VERSION_KEY}\"] (a string) and \
                 params._meta[\"{CLIENT_CAPABILITIES_KEY}\"] (an object).",
                MODERN_VERSIONS[0].as_str()
            ),
        ));
    };
    match Version::parse(requested).filter(|v| v.is_modern()) {
        Some(version) => Ok(version),
        None => Err(
            RpcError::new(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version")
                .with_data(json!({"supported": supported_modern(), "requested": requested})),
        ),
    }
}

/// The versions a modern request may name, newest first.
pub fn supported_modern() -> Vec<&'static str> {
    MODERN_VERSIONS.iter().rev().map(|v| v.as_str()).collect()
}

/// The server's `Implementation`, as the version defines it.
pub fn server_info(version: Version) -> Value {
    let mut info = json!({"name": "codex-harness-mcp", "version": env!("CARGO_PKG_VERSION")});
    if version >= Version::V2025_06_18 {
        info["title"] = json!("Codex Harness");
    }
    if version >= Version::V2025_11_25 {
        info["description"] = json!(
            "A durable, auditable working loop for one project: contracts, traces, verification, \
             knowledge, evals and governance, stored under .codex-harness/ and confined by the kernel."
        );
    }
    info
}

/// An error as the version of its request defines it.
pub fn shape_error(version: Version, mut error: RpcError) -> RpcError {
    error.code = version.code(error.code);
    error
}

fn strip(items: Option<&mut Value>, keys: &[&str]) {
    if let Some(Value::Array(items)) = items {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for key in keys {
                item.remove(*key);
            }
        }
    }
}

/// A result as the version of its request defines it.
pub fn shape_result(version: Version, method: &str, mut result: Value) -> Value {
    if version < Version::V2025_06_18 {
        let list = match method {
            "tools/list" => "tools",
            "resources/list" => "resources",
            "resources/templates/list" => "resourceTemplates",
            "prompts/list" => "prompts",
            _ => "",
        };
        strip(result.get_mut(list), &["title", "outputSchema"]);
        if let Some(object) = result.as_object_mut() {
            object.remove("structuredContent");
        }
        if let Some(Value::Array(content)) = result.get_mut("content") {
            content.retain(|item| item["type"] != "resource_link");
        }
    }
    if version < Version::V2025_03_26 {
        strip(result.get_mut("tools"), &["annotations"]);
        if let Some(Value::Object(capabilities)) = result.get_mut("capabilities") {
            capabilities.remove("completions");
        }
    }
    if !version.is_modern() {
        return result;
    }
    let Some(object) = result.as_object_mut() else {
        return result;
    };
    object.insert("resultType".into(), json!("complete"));
    let meta = object
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(SERVER_INFO_KEY.into(), server_info(version));
    }
    let cache = match method {
        "tools/list" | "prompts/list" | "resources/templates/list" => {
            Some((CATALOGUE_TTL_MS, "public"))
        }
        // Carries this process's confinement posture, so it is not the same for everyone.
        "server/discover" => Some((CATALOGUE_TTL_MS, "private")),
        "resources/list" | "resources/read" => Some((RECORD_TTL_MS, "private")),
        _ => None,
    };
    if let Some((ttl, scope)) = cache {
        object.insert("ttlMs".into(), json!(ttl));
        object.insert("cacheScope".into(), json!(scope));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modern(version: &str) -> Value {
        json!({"_meta": {PROTOCOL_VERSION_KEY: version, CLIENT_CAPABILITIES_KEY: {}}})
    }

    #[test]
    fn versions_parse_and_order_as_revisions() {
        for version in LEGACY_VERSIONS.into_iter().chain(MODERN_VERSIONS) {
            assert_eq!(Version::parse(version.as_str()), Some(version));
            assert_eq!(Version::from_index(version.index()), version);
        }
        assert!(Version::V2024_11_05 < Version::V2026_07_28);
        assert_eq!(Version::parse("2025-11-26"), None);
    }

    #[test]
    fn negotiation_holds_until_the_next_initialize_and_unknown_gets_the_latest_legacy() {
        let state = LegacyState::default();
        assert_eq!(state.current(), DEFAULT_LEGACY);
        assert_eq!(state.negotiate(Some("2024-11-05")), Version::V2024_11_05);
        assert_eq!(select("tools/list", None, &state), Ok(Version::V2024_11_05));
        assert_eq!(state.negotiate(Some("2026-07-28")), PREFERRED_LEGACY);
        assert_eq!(state.negotiate(None), PREFERRED_LEGACY);
    }

    #[test]
    fn modern_requests_need_both_keys_and_a_modern_version() {
        let state = LegacyState::default();
        assert_eq!(
            select("tools/list", Some(&modern("2026-07-28")), &state),
            Ok(Version::V2026_07_28)
        );
        let half = json!({"_meta": {PROTOCOL_VERSION_KEY: "2026-07-28"}});
        assert_eq!(
            select("tools/list", Some(&half), &state).unwrap_err().code,
            INVALID_PARAMS
        );
        assert_eq!(
            select("server/discover", None, &state).unwrap_err().code,
            INVALID_PARAMS
        );
        let error = select("tools/list", Some(&modern("2025-11-25")), &state).unwrap_err();
        assert_eq!(error.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(
            error.data,
            Some(json!({"supported": ["2026-07-28"], "requested": "2025-11-25"}))
        );
    }

    #[test]
    fn resource_not_found_is_invalid_params_only_in_the_modern_era() {
        let not_found = || RpcError::new(RESOURCE_NOT_FOUND, "x");
        assert_eq!(
            shape_error(Version::V2025_11_25, not_found()).code,
            RESOURCE_NOT_FOUND
        );
        assert_eq!(
            shape_error(Version::V2026_07_28, not_found()).code,
            INVALID_PARAMS
        );
    }
}
