//! `harness://` resource URIs (`resources::parse_uri`, `percent_encode`) and `resources/list`
//! cursors (`encode_cursor` / `decode_cursor`).
//!
//! Checks:
//! - parsing never panics; a parsed kind holds no `/`, `?` or `#`; query and fragment never
//!   change what a URI names; a scheme other than `harness` (in any case) is refused;
//! - every id that `safe_file_id` accepts (the gate before any record file is opened) makes
//!   record file names (`<id>.json`, `<id>.md`) that are one normal path component: never
//!   empty, `..`, a separator or NUL, so never a path outside the record's directory;
//! - every id round-trips: `harness://<kind>/<percent_encode(id)>` parses back to exactly
//!   that kind and id, with or without extra leading slashes, a query or a fragment;
//! - every offset round-trips through a cursor; a cursor string the server did not hand out
//!   decodes to nothing or to an offset whose own cursor decodes to the same offset; a
//!   non-string cursor is refused.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::resources::{decode_cursor, encode_cursor, parse_uri, percent_encode};
use codex_harness_mcp::sanitize::safe_file_id;
use fuzz_support::hostile_string;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::path::{Component, Path};

const KINDS: &[&str] = &[
    "state",
    "contracts",
    "contract",
    "traces",
    "gates",
    "knowledge",
    "evals",
    "governance",
    "spec",
    "",
    "Contract",
];

/// Ids become file names only with a suffix (`<id>.json`, `<id>.md`): `.` is a safe id, as in
/// the original (it names `..json`), but `..` never is.
fn check_safe_id(id: &str) {
    if let Some(safe) = safe_file_id(id) {
        assert_eq!(safe, id, "safe_file_id changed an id it accepted");
        assert!(!safe.is_empty() && !safe.contains(['/', '\\', '\0']) && safe != "..");
        for file in [format!("{safe}.json"), format!("{safe}.md")] {
            let components: Vec<Component<'_>> = Path::new(&file).components().collect();
            assert!(
                matches!(components.as_slice(), [Component::Normal(_)]),
                "record file name is not one path component: {file:?}"
            );
        }
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    // An arbitrary URI.
    let raw = if u.arbitrary()? {
        format!("harness://{}", hostile_string(u, 6)?)
    } else {
        hostile_string(u, 8)?
    };
    if let Ok(parsed) = parse_uri(&raw) {
        assert!(
            !parsed.kind.contains(['/', '?', '#']),
            "{raw:?} -> {parsed:?}"
        );
        let scheme = raw.split(':').next().unwrap_or_default();
        assert!(scheme.eq_ignore_ascii_case("harness"), "{raw:?} accepted");
        let bare = raw.split(['?', '#']).next().unwrap_or_default();
        assert_eq!(
            parse_uri(bare).ok(),
            Some(parsed.clone()),
            "query changed {raw:?}"
        );
        check_safe_id(&parsed.id);
    }

    // A chosen kind and id, encoded as the server encodes ids.
    let kind = u.choose(KINDS)?;
    let id = hostile_string(u, 6)?;
    check_safe_id(&id);
    let slashes = "/".repeat(u.int_in_range(1..=3)?);
    let suffix = u.choose(&["", "?x=1", "#frag", "?a#b", "?"])?;
    let scheme = u.choose(&["harness", "HARNESS", "Harness"])?;
    let uri = format!("{scheme}://{kind}{slashes}{}{suffix}", percent_encode(&id));
    let parsed = parse_uri(&uri).unwrap_or_else(|e| panic!("{uri:?} refused: {e:?}"));
    assert_eq!(parsed.kind, *kind, "{uri:?}");
    assert_eq!(parsed.id, id, "{uri:?}");

    // Cursors.
    let offset: usize = u.arbitrary()?;
    let cursor = Value::String(encode_cursor(offset));
    assert_eq!(decode_cursor(Some(&cursor)), Some(offset), "{cursor}");
    let forged = Value::String(hostile_string(u, 6)?);
    if let Some(n) = decode_cursor(Some(&forged)) {
        let again = Value::String(encode_cursor(n));
        assert_eq!(decode_cursor(Some(&again)), Some(n));
    }
    let mut bytes = encode_cursor(offset).into_bytes();
    if !bytes.is_empty() {
        let at = u.choose_index(bytes.len())?;
        bytes[at] = u.arbitrary()?;
    }
    let _ = decode_cursor(Some(&Value::String(
        String::from_utf8_lossy(&bytes).into_owned(),
    )));
    assert_eq!(decode_cursor(Some(&Value::from(offset as u64))), None);
    assert_eq!(decode_cursor(None), Some(0));
    assert_eq!(decode_cursor(Some(&Value::Null)), Some(0));
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
