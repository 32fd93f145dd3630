//! The unified diff `--dry-run` prints: what an edit would change, in the format `patch` and
//! every reviewer already read.
//!
//! Text in, text out; the line diff itself comes from the `similar` crate.

use similar::TextDiff;

/// The unified diff (3 lines of context) from `old` to `new` of the file at `path`; empty when
/// they are equal. A file that does not exist yet is shown as coming from `/dev/null`.
pub fn unified(path: &str, old: Option<&str>, new: &str) -> String {
    let before = old.unwrap_or("");
    if old.is_some() && before == new {
        return String::new();
    }
    let from = if old.is_some() { path } else { "/dev/null" };
    TextDiff::from_lines(before, new)
        .unified_diff()
        .context_radius(3)
        .header(from, path)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("f", Some("a\n"), "a\n"), "");
    }

    #[test]
    fn changed_line_is_shown_with_context_and_headers() {
        let out = unified("/c/f.json", Some("a\nb\nc\n"), "a\nB\nc\n");
        assert_eq!(
            out,
            "--- /c/f.json\n+++ /c/f.json\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn new_file_comes_from_dev_null() {
        let out = unified("/c/f", None, "x\n");
        assert_eq!(out, "--- /dev/null\n+++ /c/f\n@@ -0,0 +1 @@\n+x\n");
    }

    #[test]
    fn missing_final_newline_is_flagged() {
        let out = unified("f", Some("a"), "a\nb\n");
        assert!(out.contains("\\ No newline at end of file"), "{out}");
    }
}
