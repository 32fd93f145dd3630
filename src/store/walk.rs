//! Walking the harness tree: every entry beneath the root down to a depth, typed from its
//! directory listing. It never opens an entry to learn its type and never follows a symlink,
//! so a planted FIFO cannot block a walk and a link cannot lead it out of the tree.

use super::{Store, StoreError};
use rustix::fs::FileType;

/// What a directory listing says an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Directory,
    File,
    Symlink,
    Fifo,
    Socket,
    Device,
    /// The filesystem does not report types in listings (no `d_type`).
    Unknown,
}

impl From<FileType> for EntryKind {
    fn from(file_type: FileType) -> Self {
        match file_type {
            FileType::Directory => Self::Directory,
            FileType::RegularFile => Self::File,
            FileType::Symlink => Self::Symlink,
            FileType::Fifo => Self::Fifo,
            FileType::Socket => Self::Socket,
            FileType::CharacterDevice | FileType::BlockDevice => Self::Device,
            FileType::Unknown => Self::Unknown,
        }
    }
}

/// One entry of a walk: its path relative to the root, its name and its kind.
#[derive(Debug, Clone)]
pub struct Entry {
    pub rel: String,
    pub name: String,
    pub kind: EntryKind,
}

impl Store {
    /// Hands every entry below the root to `visit`, down to `max_depth` directory levels
    /// (root = 0). A directory is entered when it is within the depth and `visit` returns
    /// `true` for it; what `visit` returns for other entries is ignored. A directory other
    /// than the root that cannot be listed goes to `unlisted`; the root's failure is returned.
    pub fn walk(
        &self,
        max_depth: usize,
        mut visit: impl FnMut(&Entry) -> bool,
        mut unlisted: impl FnMut(&str, StoreError),
    ) -> Result<(), StoreError> {
        let mut pending = vec![(String::from("."), 0usize)];
        while let Some((dir, depth)) = pending.pop() {
            let entries = match self.list_typed(&dir) {
                Ok(entries) => entries,
                Err(error) if dir == "." => return Err(error),
                Err(error) => {
                    unlisted(&dir, error);
                    continue;
                }
            };
            for (name, file_type) in entries {
                let rel = if dir == "." {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                let entry = Entry {
                    rel,
                    name,
                    kind: file_type.into(),
                };
                let enter = visit(&entry);
                if entry.kind == EntryKind::Directory && enter && depth < max_depth {
                    pending.push((entry.rel, depth + 1));
                }
            }
        }
        Ok(())
    }
}
