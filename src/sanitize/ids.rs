//! Ids: which stored-record ids are safe to turn into file names, slugs for readable ids, and
//! random hex drawn from the kernel's CSPRNG.

use super::text::sanitize_text;
use unicode_normalization::UnicodeNormalization;

/// Longest id accepted, in UTF-16 units (longer ones fail because the truncation suffix
/// contains characters outside the safe set).
const MAX_ID_LENGTH: usize = 180;

/// `safeFileId`: the id if it is non-empty, made only of `[A-Za-z0-9._-]`, free of `..` and at
/// most [`MAX_ID_LENGTH`] long; otherwise `None`. Only ids that pass this ever become part of a
/// file name. Stricter than the original, which sanitised first (so `abc\u0000def` became the
/// different id `abcdef`): an id is used exactly as given or not at all.
pub fn safe_file_id(value: &str) -> Option<String> {
    let id = sanitize_text(value, MAX_ID_LENGTH);
    let safe = id == value
        && !id.is_empty()
        && !id.contains("..")
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    safe.then_some(id)
}

/// `slugify`: NFKD, accents dropped, lowercase, runs of other characters collapsed to `-`,
/// at most 56 characters (a trailing `-` can survive the cut, as in the original).
pub fn slugify(value: &str) -> String {
    let source = if value.is_empty() { "contract" } else { value };
    let folded: String = sanitize_text(source, 160)
        .nfkd()
        .filter(|ch| !('\u{300}'..='\u{36f}').contains(ch))
        .collect::<String>()
        .to_lowercase();
    let mut slug = String::new();
    for ch in folded.chars() {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            slug.push(ch);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let trimmed = slug.trim_matches('-');
    let cut: String = trimmed.chars().take(56).collect();
    if cut.is_empty() {
        "contract".to_string()
    } else {
        cut
    }
}

/// `bytes` random bytes from the kernel, as lowercase hex. Fails only if the kernel's
/// random source fails, which is reported rather than papered over.
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids_accept_only_the_safe_alphabet() {
        assert_eq!(safe_file_id("abc-1.2_x").as_deref(), Some("abc-1.2_x"));
        for bad in [
            "abc\u{200b}",
            "abc\u{0}def",
            "x\r",
            "",
            "a..b",
            "../x",
            "a/b",
            "a\\b",
            "id with spaces",
            "idé",
            "%2e%2e",
        ] {
            assert_eq!(safe_file_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn id_length_limit_at_below_and_above() {
        assert!(safe_file_id(&"a".repeat(MAX_ID_LENGTH)).is_some());
        assert!(safe_file_id(&"a".repeat(MAX_ID_LENGTH - 1)).is_some());
        assert!(safe_file_id(&"a".repeat(MAX_ID_LENGTH + 1)).is_none());
    }

    #[test]
    fn slugs_fold_accents_and_punctuation() {
        assert_eq!(slugify("Héllo Wörld — test"), "hello-world-test");
        assert_eq!(slugify("!!!"), "contract");
        assert_eq!(slugify(""), "contract");
        let long = format!("{}-{}", "a".repeat(55), "bbb");
        assert_eq!(slugify(&long), format!("{}-", "a".repeat(55)));
        assert_eq!(slugify(&"!".repeat(200)), "truncated-40-characters");
    }

    #[test]
    fn random_hex_has_the_requested_width_and_varies() {
        let first = random_hex(6).unwrap();
        assert_eq!(first.len(), 12);
        assert!(first
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let distinct: std::collections::HashSet<String> =
            (0..1000).map(|_| random_hex(6).unwrap()).collect();
        assert_eq!(distinct.len(), 1000);
    }
}
