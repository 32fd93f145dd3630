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

    pub fn redact(&self, text: &str) -> String {
        self.needles.iter().fold(text.to_string(), |out, needle| {
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
}
