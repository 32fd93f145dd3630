//! Knowledge retrieval's pure functions: `knowledge::tokenize`, `knowledge::analyze`,
//! `knowledge::collate` and BM25F scoring (`knowledge::Ranker`), on hostile field texts and on
//! raw statistics.
//!
//! Checks:
//! - `tokenize` keeps at most 400 tokens, each of two or more characters of the token
//!   alphabet (`a-z`, `0-9`, `_ . / -`) and no stop word;
//! - step bound (linear work, not wall time): `analyze(text, m)` reads the first `m` tokens
//!   `tokenize` gives and emits at most one term per token plus one per compound part, each
//!   at most 80 bytes and no longer than its token plus one byte;
//! - `collate` is a total order: antisymmetric, `Equal` only for equal strings, transitive;
//! - every score is finite and non-negative, below the sum of the query's idf bound, zero
//!   exactly for an entry matching no query term; scores do not depend on the order of the
//!   entries (the ranking order by score then id is the same for the reversed collection);
//!   one more occurrence of a query term never lowers an entry's score.
#![no_main]

use arbitrary::{Result, Unstructured};
use codex_harness_mcp::knowledge::STOP_WORDS;
use codex_harness_mcp::knowledge::{analyze, collate, tokenize, Bm25Params, FieldStats, Ranker};
use fuzz_support::hostile_string;
use libfuzzer_sys::fuzz_target;
use std::cmp::Ordering;

const WORDS: &[&str] = &[
    "cache",
    "caches",
    "caching",
    "cached",
    "failure",
    "failing",
    "src/core.mjs",
    "build_id",
    "a.b-c_d/e",
    "the",
    "de",
    "x",
    "42",
    "studies",
    "passed",
    "ÉCOLE",
    "ﬁle",
    "_._",
    "--",
    "é",
];

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    let mut out = String::new();
    for _ in 0..u.int_in_range(0..=12)? {
        if u.ratio(2, 3)? {
            out.push_str(u.choose(WORDS)?);
        } else {
            out.push_str(&hostile_string(u, 3)?);
        }
        out.push_str(u.choose(&[" ", "\n", ", ", "", "-"])?);
    }
    Ok(out)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

fn check_analysis(text: &str, max_terms: usize) -> Vec<String> {
    let tokens = tokenize(text);
    assert!(tokens.len() <= 400);
    for token in &tokens {
        assert!(
            token.len() >= 2 && token.bytes().all(is_token_char),
            "{token:?}"
        );
        assert!(!STOP_WORDS.contains(&token.as_str()), "{token:?}");
    }
    let terms = analyze(text, max_terms);
    if max_terms <= tokens.len() || tokens.len() < 400 {
        let read = &tokens[..max_terms.min(tokens.len())];
        let steps: usize = read
            .iter()
            .map(|t| {
                1 + t
                    .bytes()
                    .filter(|b| matches!(b, b'.' | b'/' | b'-' | b'_'))
                    .count()
                    + 1
            })
            .sum();
        assert!(
            terms.len() <= steps,
            "{} terms from {} tokens",
            terms.len(),
            read.len()
        );
        let longest = read.iter().map(String::len).max().unwrap_or(0);
        for term in &terms {
            assert!(term.len() <= 80 && term.len() <= longest + 1, "{term:?}");
            assert!(term.bytes().all(is_token_char), "{term:?}");
        }
    }
    terms
}

fn check_collation(a: &str, b: &str, c: &str) {
    assert_eq!(collate(a, b), collate(b, a).reverse());
    assert_eq!(collate(a, b) == Ordering::Equal, a == b);
    if collate(a, b) != Ordering::Greater && collate(b, c) != Ordering::Greater {
        assert_ne!(collate(a, c), Ordering::Greater, "{a:?} {b:?} {c:?}");
    }
}

struct Entry {
    id: String,
    stats: FieldStats,
}

fn stats(fields: &[Vec<String>; 5]) -> FieldStats {
    let mut stats = FieldStats::default();
    for (field, terms) in fields.iter().enumerate() {
        stats.lengths[field] = terms.len() as u32;
        for term in terms {
            stats.terms.entry(term.clone()).or_default()[field] += 1;
        }
    }
    stats
}

/// The ranker for `entries` as the collection: field length totals and each query term's
/// document frequency, counted here independently of the server's index.
fn ranker_for<E: std::borrow::Borrow<Entry>>(entries: &[E], query: &[String]) -> Ranker {
    let mut totals = [0u64; 5];
    for entry in entries {
        for (total, length) in totals.iter_mut().zip(entry.borrow().stats.lengths) {
            *total += u64::from(length);
        }
    }
    let df: Vec<usize> = query
        .iter()
        .map(|q| {
            entries
                .iter()
                .filter(|e| e.borrow().stats.terms.contains_key(q))
                .count()
        })
        .collect();
    Ranker::new(entries.len(), totals, &df, Bm25Params::default())
}

fn scores(entries: &[&Entry], query: &[String]) -> Vec<f64> {
    let ranker = ranker_for(entries, query);
    entries
        .iter()
        .map(|e| {
            ranker.score(
                e.stats.lengths,
                query.iter().map(|q| (1.0, e.stats.terms.get(q).copied())),
            )
        })
        .collect()
}

fn order(entries: &[&Entry], scores: &[f64]) -> Vec<String> {
    let mut ranked: Vec<(f64, &str)> = scores
        .iter()
        .zip(entries)
        .map(|(s, e)| (*s, e.id.as_str()))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| collate(a.1, b.1)));
    ranked.into_iter().map(|(_, id)| id.to_string()).collect()
}

fn idf_bound(documents: usize, df: usize) -> f64 {
    let (n, df) = (documents as f64, df as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let max_terms = u.int_in_range(0..=450)?;
    let (a, b, c) = (text(u)?, text(u)?, text(u)?);
    check_analysis(&a, max_terms);
    check_collation(&a, &b, &c);
    let token_triple: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|t| tokenize(t).into_iter().next().unwrap_or_default())
        .collect();
    check_collation(&token_triple[0], &token_triple[1], &token_triple[2]);

    let mut entries = Vec::new();
    for index in 0..u.int_in_range(1..=6)? {
        let fields: [Vec<String>; 5] = [
            check_analysis(&text(u)?, 200),
            check_analysis(&text(u)?, 200),
            check_analysis(&text(u)?, 200),
            check_analysis(&text(u)?, 200),
            check_analysis(&text(u)?, 200),
        ];
        entries.push(Entry {
            id: format!("k-{}-{index}", u.choose(&["a", "b", "a_b", "a-b", "a.b"])?),
            stats: stats(&fields),
        });
    }
    let mut query = analyze(&text(u)?, 32);
    query.sort();
    query.dedup();

    let forward: Vec<&Entry> = entries.iter().collect();
    let backward: Vec<&Entry> = entries.iter().rev().collect();
    let ahead = scores(&forward, &query);
    let mut behind = scores(&backward, &query);
    behind.reverse();
    assert_eq!(
        ahead.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
        behind.iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
        "scores depend on entry order"
    );
    let mut reversed_order = order(&backward, &scores(&backward, &query));
    assert_eq!(order(&forward, &ahead), reversed_order.split_off(0));
    let bound: f64 = query
        .iter()
        .map(|q| {
            let df = entries
                .iter()
                .filter(|e| e.stats.terms.contains_key(q))
                .count();
            idf_bound(entries.len(), df)
        })
        .sum();
    for (entry, score) in entries.iter().zip(&ahead) {
        assert!(score.is_finite() && *score >= 0.0, "score {score}");
        assert!(*score <= bound + 1e-9, "score {score} above bound {bound}");
        let matches = query.iter().any(|q| entry.stats.terms.contains_key(q));
        assert_eq!(*score > 0.0, matches, "score {score}, matches {matches}");
    }

    // One more occurrence of a query term, collection statistics unchanged.
    if let (Some(term), false) = (query.first(), entries.is_empty()) {
        let index = u.choose_index(entries.len())?;
        let field = u.int_in_range(0..=4usize)?;
        let ranker = ranker_for(&entries, &query);
        let entry = &entries[index].stats;
        let before = ranker.score(
            entry.lengths,
            query.iter().map(|q| (1.0, entry.terms.get(q).copied())),
        );
        let mut more = entry.terms.get(term).copied().unwrap_or_default();
        more[field] = more[field].saturating_add(1);
        let after = ranker.score(
            entry.lengths,
            query.iter().map(|q| {
                (
                    1.0,
                    if q == term {
                        Some(more)
                    } else {
                        entry.terms.get(q).copied()
                    },
                )
            }),
        );
        assert!(after >= before, "{after} < {before}");
    }

    // Raw statistics at the extremes.
    let documents = u.int_in_range(0..=u32::MAX as usize)?;
    let totals: [u64; 5] = u.arbitrary()?;
    let df: Vec<usize> = (0..u.int_in_range(0..=4)?)
        .map(|_| u.int_in_range(0..=documents))
        .collect::<Result<_>>()?;
    let ranker = Ranker::new(documents, totals, &df, Bm25Params::default());
    let lengths: [u32; 5] = u.arbitrary()?;
    let frequencies: Vec<Option<[u32; 5]>> =
        df.iter().map(|_| u.arbitrary()).collect::<Result<_>>()?;
    let score = ranker.score(lengths, frequencies.iter().map(|f| (1.0, *f)));
    assert!(score.is_finite() && score >= 0.0, "raw score {score}");
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
