//! Removal of orphaned temp files left by a crash in the middle of an atomic write.

use super::Store;
use crate::clock::epoch_ms;
use rustix::fs::FileType;

/// Temp files older than this are orphans (no live write takes that long).
pub const TEMP_MAX_AGE_MS: i64 = 5 * 60 * 1000;
/// Directory levels below the root that are examined (root = 0), as the original does.
pub const REAPER_MAX_DEPTH: usize = 3;

/// `<anything>.tmp.<digits>.<hex>`: the temp names this server and the Node server create.
fn is_temp_name(name: &str) -> bool {
    let mut parts = name.rsplitn(3, '.');
    let (Some(hex), Some(pid), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    rest.ends_with(".tmp")
        && !hex.is_empty()
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
}

impl Store {
    /// Deletes regular temp files older than [`TEMP_MAX_AGE_MS`] down to [`REAPER_MAX_DEPTH`].
    /// Symlinks are neither followed nor deleted. Errors are ignored: reaping is hygiene, and
    /// must never stop the server from starting. Returns how many files were removed.
    pub fn reap_temp_files(&self) -> usize {
        let now = epoch_ms();
        let mut removed = 0;
        let mut pending = vec![(String::from("."), 0usize)];
        while let Some((dir, depth)) = pending.pop() {
            let Ok(entries) = self.list_typed(&dir) else {
                continue;
            };
            for (name, file_type) in entries {
                let rel = if dir == "." {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                match file_type {
                    FileType::Directory if depth < REAPER_MAX_DEPTH => {
                        pending.push((rel, depth + 1))
                    }
                    FileType::RegularFile if is_temp_name(&name) => {
                        let old = self
                            .modified_ms(&rel)
                            .ok()
                            .flatten()
                            .is_some_and(|modified| now - modified > TEMP_MAX_AGE_MS);
                        if old && self.remove(&rel).is_ok() {
                            removed += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::is_temp_name;

    #[test]
    fn temp_names_match_the_original_pattern() {
        assert!(is_temp_name("state.json.tmp.1234.deadbeef"));
        assert!(is_temp_name("x.tmp.1.a"));
        assert!(!is_temp_name("state.json"));
        assert!(!is_temp_name("x.tmp.12a.beef"));
        assert!(!is_temp_name("x.tmp.12.BEEF"));
        assert!(!is_temp_name("x.tmpx.12.beef"));
    }
}
