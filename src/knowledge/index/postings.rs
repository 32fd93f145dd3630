//! Posting lists of the in-memory index, and the per-window bounds that let a query skip
//! most of them (see [`super::memory`]'s ranking). It owns the encoding of a list and the
//! statistics of its windows; it must never decide what an entry scores or whether it is
//! admitted (the caller passes the lengths and filters).
//!
//! Slots are grouped into **windows** of `1 << WINDOW_SHIFT` consecutive slots. For a term
//! with at least [`LONG_LIST`] postings the index keeps, for each window the term occurs in,
//! the largest frequency in each field and the smallest field length among the entries of the
//! window that have the term in that field ([`Window`]); shorter lists have theirs computed
//! when a query needs them.

/// A term's frequency in each field, saturated at 255 (BM25 saturates long before).
pub type Frequencies = [u8; 5];

/// Windows of this many slots (as a shift); small in tests so that little corpora span many.
#[cfg(not(test))]
pub const WINDOW_SHIFT: u32 = 12;
#[cfg(test)]
pub const WINDOW_SHIFT: u32 = 2;

/// Lists at least this long keep their window bounds up to date as they grow.
#[cfg(not(test))]
pub const LONG_LIST: usize = 128;
#[cfg(test)]
pub const LONG_LIST: usize = 3;

/// The window of `slot`.
pub fn window_of(slot: u32) -> usize {
    (slot >> WINDOW_SHIFT) as usize
}

/// The slots of window `window`: `start..end`.
pub fn window_slots(window: usize) -> (u32, u32) {
    let start = (window as u64) << WINDOW_SHIFT;
    let end = start + (1u64 << WINDOW_SHIFT);
    (
        u32::try_from(start).unwrap_or(u32::MAX),
        u32::try_from(end).unwrap_or(u32::MAX),
    )
}

/// The entries that have one term, slots ascending: each occurrence is the slot (4 bytes,
/// little-endian) then the term's frequencies, packed in 9 bytes, in one allocation.
#[derive(Default)]
pub struct Postings(Vec<[u8; 9]>);

fn unpack(packed: &[u8; 9]) -> (u32, Frequencies) {
    (
        u32::from_le_bytes([packed[0], packed[1], packed[2], packed[3]]),
        [packed[4], packed[5], packed[6], packed[7], packed[8]],
    )
}

impl Postings {
    pub fn push(&mut self, slot: u32, frequencies: Frequencies) {
        let mut packed = [0u8; 9];
        packed[..4].copy_from_slice(&slot.to_le_bytes());
        packed[4..].copy_from_slice(&frequencies);
        self.0.push(packed);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, Frequencies)> + '_ {
        self.0.iter().map(unpack)
    }

    /// The postings of slots `start..end`.
    pub fn range(&self, start: u32, end: u32) -> Run<'_> {
        let from = self.0.partition_point(|p| unpack(p).0 < start);
        let to = self.0.partition_point(|p| unpack(p).0 < end);
        Run(&self.0[from..to.max(from)])
    }

    /// Gives each posting the slot `new(slot)`, dropping those mapped to `u32::MAX`, and
    /// restores slot order.
    pub fn renumber(&mut self, new: impl Fn(u32) -> u32) {
        for packed in &mut self.0 {
            let slot = new(unpack(packed).0);
            packed[..4].copy_from_slice(&slot.to_le_bytes());
        }
        self.0.retain(|p| unpack(p).0 != u32::MAX);
        self.0.sort_unstable_by_key(|p| unpack(p).0);
    }

    /// Keeps only the postings of slots `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.0.retain(|p| keep(unpack(p).0));
    }

    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// A stretch of one list, read by position.
#[derive(Clone, Copy, Default)]
pub struct Run<'a>(&'a [[u8; 9]]);

impl Run<'_> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn slot(&self, n: usize) -> u32 {
        let p = &self.0[n];
        u32::from_le_bytes([p[0], p[1], p[2], p[3]])
    }

    pub fn frequencies(&self, n: usize) -> Frequencies {
        unpack(&self.0[n]).1
    }
}

/// What the entries of one window that have a term can contribute at most.
#[derive(Clone, Copy)]
pub struct Window {
    pub window: u32,
    pub max_frequencies: [u32; 5],
    /// For each field, the smallest length among the entries with the term in that field
    /// (`u32::MAX` if none has).
    pub min_lengths: [u32; 5],
}

/// Adds the posting of `slot` (with field `lengths`) to `windows`, whose slots are all
/// smaller or in the same window.
pub fn extend_windows(
    windows: &mut Vec<Window>,
    slot: u32,
    frequencies: Frequencies,
    lengths: [u32; 5],
) {
    let window = slot >> WINDOW_SHIFT;
    if windows.last().is_none_or(|last| last.window != window) {
        windows.push(Window {
            window,
            max_frequencies: [0; 5],
            min_lengths: [u32::MAX; 5],
        });
    }
    if let Some(last) = windows.last_mut() {
        for field in 0..5 {
            if frequencies[field] > 0 {
                let tf = u32::from(frequencies[field]);
                last.max_frequencies[field] = last.max_frequencies[field].max(tf);
                last.min_lengths[field] = last.min_lengths[field].min(lengths[field]);
            }
        }
    }
}

/// The windows of a whole list, `lengths(slot)` giving each entry's field lengths.
pub fn windows_of(postings: &Postings, lengths: impl Fn(u32) -> [u32; 5]) -> Vec<Window> {
    let mut windows = Vec::new();
    for (slot, frequencies) in postings.iter() {
        extend_windows(&mut windows, slot, frequencies, lengths(slot));
    }
    windows
}
