//! Compact storage for the in-memory index's strings and times, so that an item costs a few
//! dozen bytes beyond its postings: strings packed end to end in one buffer, a map from a
//! string to its number that stores only the string's hash (the string itself is compared in
//! the buffer), and `ts` as a number when it is in the canonical form. It owns these
//! encodings only; it must never decide what is indexed.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Strings numbered in the order they were pushed, packed in one buffer.
#[derive(Default)]
pub struct Strings {
    bytes: String,
    ends: Vec<u32>,
}

impl Strings {
    /// Appends `text`; returns its number.
    pub fn push(&mut self, text: &str) -> u32 {
        self.bytes.push_str(text);
        self.ends
            .push(u32::try_from(self.bytes.len()).expect("index strings below 4 GiB"));
        (self.ends.len() - 1) as u32
    }

    pub fn get(&self, n: u32) -> &str {
        let n = n as usize;
        let start = if n == 0 { 0 } else { self.ends[n - 1] as usize };
        &self.bytes[start..self.ends[n] as usize]
    }

    /// Returns the growth slack but for an eighth (see the in-memory index's `compact`).
    pub fn shrink_to_headroom(&mut self) {
        self.bytes
            .shrink_to(self.bytes.len() + self.bytes.len() / 8);
        self.ends.shrink_to(self.ends.len() + self.ends.len() / 8);
    }
}

/// A map from strings to numbers that stores 16 bytes an entry: the string's hash and its
/// number; the caller resolves a number to its string to confirm a match. Two strings with one
/// hash (by chance or by design) keep working: the second is kept whole in a map of its own.
pub struct StrMap {
    by_hash: HashMap<u64, u32>,
    collided: HashMap<Box<str>, u32>,
    hash: fn(&str) -> u64,
}

fn sip(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

impl Default for StrMap {
    fn default() -> StrMap {
        StrMap {
            by_hash: HashMap::new(),
            collided: HashMap::new(),
            hash: sip,
        }
    }
}

impl StrMap {
    /// The number of `key`; `name(n)` is the string number `n` stands for.
    pub fn get<'a>(&self, key: &str, name: impl Fn(u32) -> &'a str) -> Option<u32> {
        match self.by_hash.get(&(self.hash)(key)) {
            Some(n) if name(*n) == key => Some(*n),
            Some(_) => self.collided.get(key).copied(),
            None => None,
        }
    }

    /// Replaces every number `n` the map holds with `new(n)`.
    pub fn renumber(&mut self, new: impl Fn(u32) -> u32) {
        for n in self.by_hash.values_mut().chain(self.collided.values_mut()) {
            *n = new(*n);
        }
    }

    /// Maps `key` to `value` (replacing what it mapped to); `name(value)` must be `key`.
    pub fn insert<'a>(&mut self, key: &str, value: u32, name: impl Fn(u32) -> &'a str) {
        let hash = (self.hash)(key);
        match self.by_hash.get_mut(&hash) {
            Some(n) if name(*n) == key => *n = value,
            Some(_) => {
                self.collided.insert(key.into(), value);
            }
            None => {
                self.by_hash.insert(hash, value);
            }
        }
    }
}

/// A `ts`: the digits of a canonical `YYYY-MM-DDTHH:MM:SS.mmmZ` as one number (their order is
/// the strings' order), or, with the top bit set, the index of any other text in a side list
/// (each text once, so that equal stamps are equal times).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp(u64);

const ODD: u64 = 1 << 63;
const CANONICAL: &[u8; 24] = b"0000-00-00T00:00:00.000Z";

/// Times, with the few that are not canonical kept as text.
#[derive(Default)]
pub struct Stamps {
    odd: Vec<Box<str>>,
    odd_ids: HashMap<Box<str>, u64>,
}

impl Stamps {
    pub fn stamp(&mut self, ts: &str) -> Stamp {
        let bytes = ts.as_bytes();
        let canonical = bytes.len() == CANONICAL.len()
            && bytes.iter().zip(CANONICAL).all(|(b, shape)| match shape {
                b'0' => b.is_ascii_digit(),
                _ => b == shape,
            });
        if canonical {
            let digits = bytes.iter().filter(|b| b.is_ascii_digit());
            return Stamp(digits.fold(0, |n, d| n * 10 + u64::from(d - b'0')));
        }
        if let Some(n) = self.odd_ids.get(ts) {
            return Stamp(ODD | n);
        }
        let n = self.odd.len() as u64;
        self.odd.push(ts.into());
        self.odd_ids.insert(ts.into(), n);
        Stamp(ODD | n)
    }

    /// The text of `stamp`.
    pub fn text(&self, stamp: Stamp) -> String {
        if stamp.0 & ODD != 0 {
            return self.odd[(stamp.0 & !ODD) as usize].to_string();
        }
        let mut digits = format!("{:017}", stamp.0).into_bytes().into_iter();
        CANONICAL
            .iter()
            .map(|shape| match shape {
                b'0' => char::from(digits.next().unwrap_or(b'0')),
                _ => char::from(*shape),
            })
            .collect()
    }

    /// The order of the two times' texts.
    pub fn cmp(&self, a: Stamp, b: Stamp) -> Ordering {
        if (a.0 | b.0) & ODD == 0 {
            return a.0.cmp(&b.0);
        }
        self.text(a).cmp(&self.text(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_order_as_their_texts() {
        let texts = [
            "2026-01-02T03:04:05.006Z",
            "2026-01-02T03:04:05.007Z",
            "2025-12-31T23:59:59.999Z",
            "2026-01-02T03:04:05Z",
            "",
            "9",
            "2026-01-02T03:04:05.006Z",
            "2026-01-02 03:04:05.006Z",
            "9",
        ];
        let mut stamps = Stamps::default();
        let stamped: Vec<Stamp> = texts.iter().map(|t| stamps.stamp(t)).collect();
        for (a, x) in texts.iter().zip(&stamped) {
            assert_eq!(stamps.text(*x), *a);
            for (b, y) in texts.iter().zip(&stamped) {
                assert_eq!(stamps.cmp(*x, *y), a.cmp(b), "{a} {b}");
                assert_eq!(x == y, a == b, "{a} {b}");
            }
        }
        assert!(stamped[0].0 & ODD == 0 && stamped[3].0 & ODD != 0);
    }

    #[test]
    fn colliding_strings_keep_their_own_numbers() {
        let mut strings = Strings::default();
        let mut map = StrMap {
            hash: |_| 7,
            ..StrMap::default()
        };
        for word in ["a", "b", "c"] {
            let n = strings.push(word);
            map.insert(word, n, |n| strings.get(n));
        }
        for (n, word) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(map.get(word, |n| strings.get(n)), Some(n as u32));
        }
        assert_eq!(map.get("d", |n| strings.get(n)), None);
        // Numbered again (an id recorded again takes a new slot).
        for word in ["b", "a"] {
            let n = strings.push(word);
            map.insert(word, n, |n| strings.get(n));
        }
        assert_eq!(map.get("a", |n| strings.get(n)), Some(4));
        assert_eq!(map.get("b", |n| strings.get(n)), Some(3));
        assert_eq!(map.get("c", |n| strings.get(n)), Some(2));
        assert_eq!(map.by_hash.len() + map.collided.len(), 3);
    }
}
