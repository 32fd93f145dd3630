//! Every crash or invariant failure the fuzz targets (`fuzz/`) found, pinned as an ordinary
//! test so CI without nightly still guards it. Each test names the target that found it; the
//! raw libFuzzer input is kept next to the readable fixture under `tests/fixtures/fuzz/` and
//! can be replayed with `cargo +nightly fuzz run <target> <file>`.

#[allow(dead_code)] // Only the detector itself is used here.
#[path = "support/loose_marker.rs"]
mod loose_marker;

use codex_harness_mcp::sanitize::sanitize_text;
use codex_harness_mcp::schema::validate;
use serde_json::Value;

fn fixture(text: &str) -> (Value, Value) {
    let case: Value = serde_json::from_str(text).expect("fixture is JSON");
    (case["schema"].clone(), case["instance"].clone())
}

/// schema_validator: `{"enum":[-1]}` refused `-1.0` although JSON Schema and JavaScript both
/// treat them as the same number (enum membership compared serde_json representations).
#[test]
fn enum_membership_compares_numbers_by_value() {
    let (schema, instance) = fixture(include_str!(
        "fixtures/fuzz/schema_enum_integral_double.json"
    ));
    assert!(instance.is_f64(), "the fixture must keep the double form");
    assert_eq!(validate(&schema, &instance), Ok(()));
    assert_eq!(
        validate(&serde_json::json!({"enum": [0]}), &serde_json::json!(-0.0)),
        Ok(())
    );
    assert_eq!(
        validate(
            &serde_json::json!({"enum": [[1, {"a": 2}]]}),
            &serde_json::json!([1.0, {"a": 2.0}])
        ),
        Ok(())
    );
    assert!(validate(&schema, &serde_json::json!(-1.5)).is_err());
    assert!(validate(&schema, &serde_json::json!("-1")).is_err());
}

/// sanitizer: `sanitize_text(x, usize::MAX)` overflowed computing its capacity hint
/// (`max * 4 + 64`), a panic under overflow checks for any caller asking for "no limit".
#[test]
fn sanitize_text_accepts_the_largest_limit() {
    assert_eq!(sanitize_text("a\u{200b}b", usize::MAX), "ab");
    assert_eq!(sanitize_text("", usize::MAX), "");
}

/// sanitizer: truncating `…</untrusted-datax` right after its marker word left
/// `</untrusted-data` followed by the suffix's newline: a live closing marker in "sanitised"
/// text. The partial opener is now left out of the kept prefix (and since markers need no
/// word boundary any more, `</untrusted-datax` is itself redacted before the cut).
#[test]
fn truncation_cannot_complete_a_block_marker() {
    let text = include_str!("fixtures/fuzz/sanitizer_truncated_closer.txt");
    for max in 0..text.len() {
        let out = sanitize_text(text, max);
        let lower = out.to_ascii_lowercase();
        assert!(!lower.contains("</untrusted-data\n"), "{max}: {out:?}");
        assert!(!lower.contains("<untrusted-data\n"), "{max}: {out:?}");
    }
    assert_eq!(
        sanitize_text(text, 16),
        "[untrusted-data-\n[truncated 17 characters]"
    );
}

/// sanitizer: with markers matched after NFKC folding, a marker word followed by U+017F
/// (which folds to "s") was taken as the word continuing, so `</UNTRUSTED-DATAſ` survived
/// although the original's ASCII `\b` makes it a marker. The boundary is now judged on the
/// character as written.
#[test]
fn a_non_ascii_letter_after_the_marker_word_is_a_boundary() {
    let text = include_str!("fixtures/fuzz/sanitizer_long_s_boundary.txt");
    let out = sanitize_text(text, 12_000);
    assert!(
        !out.to_ascii_lowercase().contains("</untrusted-data"),
        "{out:?}"
    );
    assert!(out.starts_with("[untrusted-data-marker-redacted]"));
}

/// sanitizer: every raw input the target kept (`tests/fixtures/fuzz/sanitizer/`), read as its
/// text (the bytes after the target's 4-byte header, lossily), leaves nothing the loose
/// detector takes for a marker, whole or cut at any length. The first run of the loose-marker
/// invariant found that the detector itself sliced `&` + a 4-byte character mid-character
/// (`crash-90aed9d6…`: `&#…;&\u{b3123}`); the sanitiser was right, the oracle now is too.
#[test]
fn kept_sanitizer_inputs_leave_no_marker_like_text() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/sanitizer");
    #[allow(clippy::disallowed_methods)] // Reads committed fixtures.
    let entries = std::fs::read_dir(&dir).expect("fixture directory");
    let mut replayed = 0;
    for entry in entries {
        let path = entry.expect("entry").path();
        #[allow(clippy::disallowed_methods)]
        let bytes = std::fs::read(&path).expect("fixture");
        let text = String::from_utf8_lossy(bytes.get(4..).unwrap_or_default()).into_owned();
        // The finding: the detector must read the raw text without panicking.
        loose_marker::marker_offsets(&text);
        for max in (0..text.len() + 2).chain([12_000]) {
            let out = sanitize_text(&text, max);
            assert!(
                loose_marker::marker_offsets(&out).is_empty(),
                "{}: cut at {max}: {out:?}",
                path.display()
            );
        }
        replayed += 1;
    }
    assert!(replayed >= 4, "only {replayed} inputs replayed");
}
