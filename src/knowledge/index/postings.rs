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
/// little-endian) then the term's frequencies, packed in 9 bytes, in one allocation. A list
/// of one occurrence (most terms of a large corpus: numbers, names, typos) is held inline,
/// without an allocation of its own.
pub enum Postings {
    One([u8; 9]),
    Many(Vec<[u8; 9]>),
}

impl Default for Postings {
    fn default() -> Postings {
        Postings::Many(Vec::new())
    }
}

fn unpack(packed: &[u8; 9]) -> (u32, Frequencies) {
    (
        u32::from_le_bytes([packed[0], packed[1], packed[2], packed[3]]),
        [packed[4], packed[5], packed[6], packed[7], packed[8]],
    )
}

impl Postings {
    fn packed(&self) -> &[[u8; 9]] {
        match self {
            Postings::One(one) => std::slice::from_ref(one),
            Postings::Many(many) => many,
        }
    }

    /// Changes the list as a vector.
    fn edit(&mut self, change: impl FnOnce(&mut Vec<[u8; 9]>)) {
        let mut many = match std::mem::take(self) {
            Postings::One(one) => vec![one],
            Postings::Many(many) => many,
        };
        change(&mut many);
        *self = Postings::Many(many);
    }

    pub fn push(&mut self, slot: u32, frequencies: Frequencies) {
        let mut packed = [0u8; 9];
        packed[..4].copy_from_slice(&slot.to_le_bytes());
        packed[4..].copy_from_slice(&frequencies);
        match self {
            Postings::Many(many) if many.capacity() == 0 => *self = Postings::One(packed),
            Postings::Many(many) => many.push(packed),
            Postings::One(_) => self.edit(|many| many.push(packed)),
        }
    }

    pub fn len(&self) -> usize {
        self.packed().len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, Frequencies)> + '_ {
        self.packed().iter().map(unpack)
    }

    /// The postings of slots `start..end`.
    pub fn range(&self, start: u32, end: u32) -> Run<'_> {
        let packed = self.packed();
        let from = packed.partition_point(|p| unpack(p).0 < start);
        let to = packed.partition_point(|p| unpack(p).0 < end);
        Run(&packed[from..to.max(from)])
    }

    /// Gives each posting the slot `new(slot)`, dropping those mapped to `u32::MAX`, and
    /// restores slot order.
    pub fn renumber(&mut self, new: impl Fn(u32) -> u32) {
        self.edit(|many| {
            for packed in many.iter_mut() {
                let slot = new(unpack(packed).0);
                packed[..4].copy_from_slice(&slot.to_le_bytes());
            }
            many.retain(|p| unpack(p).0 != u32::MAX);
            many.sort_unstable_by_key(|p| unpack(p).0);
        });
        self.shrink_to_fit();
    }

    /// Keeps only the postings of slots `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        if self.iter().all(|(slot, _)| keep(slot)) {
            return;
        }
        self.edit(|many| many.retain(|p| keep(unpack(p).0)));
        self.shrink_to_fit();
    }

    /// Returns the growth slack; a list of one goes inline.
    pub fn shrink_to_fit(&mut self) {
        if let Postings::Many(many) = self {
            match many.as_slice() {
                [one] => *self = Postings::One(*one),
                _ => many.shrink_to_fit(),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_one_is_inline_and_lists_keep_their_postings() {
        assert_eq!(std::mem::size_of::<Postings>(), 24);
        let mut list = Postings::default();
        list.push(3, [1, 0, 0, 0, 2]);
        assert!(matches!(list, Postings::One(_)));
        list.push(5, [0, 1, 0, 0, 0]);
        list.push(9, [0, 0, 1, 0, 0]);
        assert_eq!(list.iter().map(|p| p.0).collect::<Vec<_>>(), [3, 5, 9]);
        assert_eq!(list.range(4, 9).len(), 1);
        list.retain(|slot| slot == 5);
        assert!(matches!(list, Postings::One(_)));
        assert_eq!(list.iter().collect::<Vec<_>>(), [(5, [0, 1, 0, 0, 0])]);
        list.push(7, [0, 0, 0, 1, 0]);
        list.renumber(|slot| if slot == 5 { 8 } else { 1 });
        assert_eq!(list.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 8]);
        list.renumber(|slot| if slot == 1 { u32::MAX } else { 0 });
        assert!(matches!(list, Postings::One(_)));
        list.retain(|_| false);
        assert_eq!(list.len(), 0);
        list.push(2, [1, 1, 1, 1, 1]);
        assert!(matches!(list, Postings::One(_)));
    }
}
