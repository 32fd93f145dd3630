//! Removing the project's absolute path from anything that leaves the process as an error.

/// Replaces each known spelling of the project directory with `<project>`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    /// `candidates` are the spellings to hide (the pinned project, `CODEX_WORKDIR`, `PWD`, the
    /// working directory). One-character candidates such as `/` are ignored, as in the
    /// original; longer spellings are replaced first so a prefix never leaves a tail behind.
    pub fn new(candidates: impl IntoIterator<Item = String>) -> Self {
        let mut needles: Vec<String> = candidates
            .into_iter()
            .map(|c| c.trim_end_matches('/').to_string())
            .filter(|c| c.chars().count() > 1)
            .collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    /// The vouch mark is removed first: a mark inside a spelling would hide it from the
    /// replacement, and the reply's last guard, which strips the mark, would then reveal it.
    pub fn redact(&self, text: &str) -> String {
        let text = super::without_vouch_mark(text.to_string());
        self.needles.iter().fold(text, |out, needle| {
            out.replace(needle.as_str(), "<project>")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_replaced_longest_first() {
        let redactor = Redactor::new(["/home/u/p".into(), "/home/u/p/sub".into(), "/".into()]);
        assert_eq!(
            redactor.redact("at /home/u/p/sub/x and /home/u/p/y"),
            "at <project>/x and <project>/y"
        );
        assert_eq!(redactor.redact("/etc"), "/etc");
    }

    /// mcp_session target: a URI holding the project path split by the vouch mark was echoed
    /// in an error unredacted; the reply's final guard then stripped the mark, leaving the path.
    #[test]
    fn a_vouch_mark_inside_the_path_does_not_hide_it() {
        let mark = super::super::agent_json::vouch(String::new());
        assert!(!mark.is_empty(), "no vouch mark to test with");
        let redactor = Redactor::new(["/home/u/p".into()]);
        let text = format!("file:///etc/x/home/u{mark}/p/y");
        let sent = super::super::without_vouch_mark(redactor.redact(&text));
        assert!(!sent.contains("/home/u/p"), "{sent:?}");
        assert_eq!(sent, "file:///etc/x<project>/y");
    }
}
