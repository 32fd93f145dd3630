//! Ranking: BM25F (field-weighted BM25, Robertson & Zaragoza) over the per-field term
//! statistics stored in each index entry. Each field's term frequency is length-normalised
//! with its own `b`, weighted, summed into one pseudo-frequency, then saturated once with `k1`
//! and multiplied by the term's idf over the whole index. Only the statistics are read: no
//! item file is opened to score.
//!
//! Parameters (see [`Bm25Params::default`]): `k1 = 1.2`; field weights title 3.0, tags 2.5,
//! summary 1.5, key findings 1.5, body 1.0; `b` 0.75 for the long fields (summary, findings,
//! body), 0.3 for the short ones (title, tags) whose length says little about topicality.

use std::collections::HashMap;

/// Per-entry statistics: for each term, its frequency in each field; and each field's length.
/// Fields are, in array order: title, tags, summary, key findings, body (content, changed
/// files, evidence, source url and path).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldStats {
    pub terms: HashMap<String, [u32; 5]>,
    pub lengths: [u32; 5],
}

/// BM25F parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25Params {
    pub k1: f64,
    pub weights: [f64; 5],
    pub b: [f64; 5],
}

impl Default for Bm25Params {
    fn default() -> Self {
        Bm25Params {
            k1: 1.2,
            weights: [3.0, 2.5, 1.5, 1.5, 1.0],
            b: [0.3, 0.3, 0.75, 0.75, 0.75],
        }
    }
}

/// Collection statistics for one query over a set of entries.
pub struct Ranker {
    params: Bm25Params,
    average_lengths: [f64; 5],
    /// The idf of each query term, in query order.
    idf: Vec<f64>,
}

impl Ranker {
    /// `documents` entries whose field lengths add up to `total_lengths`, of which
    /// `document_frequency[i]` contain query term `i`.
    pub fn new(
        documents: usize,
        total_lengths: [u64; 5],
        document_frequency: &[usize],
        params: Bm25Params,
    ) -> Ranker {
        let documents = documents as f64;
        let average_lengths =
            total_lengths.map(|total| (total as f64 / documents.max(1.0)).max(1.0));
        let idf = document_frequency
            .iter()
            .map(|df| {
                let df = *df as f64;
                (1.0 + (documents - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        Ranker {
            params,
            average_lengths,
            idf,
        }
    }

    /// The BM25F score of one entry with field `lengths` (0 when nothing matches).
    /// `frequencies` gives, for each query term in order, its weight in the query and its
    /// per-field frequencies in the entry (`None` when absent).
    pub fn score(
        &self,
        lengths: [u32; 5],
        frequencies: impl Iterator<Item = (f64, Option<[u32; 5]>)>,
    ) -> f64 {
        // Each field's length normalisation, once for all the terms.
        let mut normalised = [0.0; 5];
        for (field, norm) in normalised.iter_mut().enumerate() {
            let b = self.params.b[field];
            let length = f64::from(lengths[field]) / self.average_lengths[field];
            *norm = 1.0 - b + b * length;
        }
        let mut score = 0.0;
        for ((query_weight, frequencies), idf) in frequencies.zip(&self.idf) {
            let Some(frequencies) = frequencies else {
                continue;
            };
            let mut pseudo = 0.0;
            for (field, tf) in frequencies.iter().enumerate() {
                if *tf == 0 {
                    continue;
                }
                pseudo += self.params.weights[field] * f64::from(*tf) / normalised[field];
            }
            score += query_weight * idf * pseudo / (self.params.k1 + pseudo);
        }
        score
    }

    /// An upper bound of what query term `term`, with weight `query_weight`, adds to
    /// [`Self::score`] for any entry whose frequencies are at most `max_frequencies` and whose
    /// length is at least `min_lengths[f]` in each field `f` where the term occurs (0 when it
    /// occurs in none). Each step is the step of `score` with a larger numerator or a smaller
    /// denominator, so the bound is exact for an entry at the extremes; what float rounding
    /// may add is far below the margin the caller leaves. Never negative.
    pub fn term_bound(
        &self,
        term: usize,
        query_weight: f64,
        max_frequencies: [u32; 5],
        min_lengths: [u32; 5],
    ) -> f64 {
        let mut pseudo = 0.0;
        for (field, tf) in max_frequencies.iter().enumerate() {
            if *tf == 0 {
                continue;
            }
            let b = self.params.b[field];
            let length = f64::from(min_lengths[field]) / self.average_lengths[field];
            pseudo += self.params.weights[field] * f64::from(*tf) / (1.0 - b + b * length);
        }
        let idf = self.idf.get(term).copied().unwrap_or(0.0);
        (query_weight * idf * pseudo / (self.params.k1 + pseudo)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Doc = (Vec<(&'static str, [u32; 5])>, [u32; 5]);

    /// Ranks `docs` for `query` (weight 1 each) the way the index does.
    fn scores(docs: &[Doc], query: &[&str]) -> Vec<f64> {
        let mut totals = [0u64; 5];
        for (_, lengths) in docs {
            for (total, length) in totals.iter_mut().zip(lengths) {
                *total += u64::from(*length);
            }
        }
        let df: Vec<usize> = query
            .iter()
            .map(|q| {
                docs.iter()
                    .filter(|(t, _)| t.iter().any(|(x, _)| x == q))
                    .count()
            })
            .collect();
        let ranker = Ranker::new(docs.len(), totals, &df, Bm25Params::default());
        docs.iter()
            .map(|(terms, lengths)| {
                ranker.score(
                    *lengths,
                    query
                        .iter()
                        .map(|q| (1.0, terms.iter().find(|(t, _)| t == q).map(|(_, f)| *f))),
                )
            })
            .collect()
    }

    #[test]
    fn a_title_match_outranks_the_same_count_in_the_body() {
        let docs = [
            (vec![("cach", [1, 0, 0, 0, 0])], [3, 0, 0, 0, 20]),
            (vec![("cach", [0, 0, 0, 0, 1])], [3, 0, 0, 0, 20]),
            (vec![("build", [1, 0, 0, 0, 0])], [3, 0, 0, 0, 20]),
        ];
        let s = scores(&docs, &["cach"]);
        assert!(s[0] > s[1]);
        assert!(s[1] > 0.0);
        assert_eq!(s[2], 0.0);
    }

    #[test]
    fn rare_terms_weigh_more_than_common_ones() {
        let common = (vec![("test", [0, 0, 0, 0, 1])], [0, 0, 0, 0, 10]);
        let rare = (
            vec![("flaky", [0, 0, 0, 0, 1]), ("test", [0, 0, 0, 0, 1])],
            [0, 0, 0, 0, 10],
        );
        let ranker = Ranker::new(3, [0, 0, 0, 0, 30], &[3, 1], Bm25Params::default());
        assert!(ranker.idf[1] > ranker.idf[0]);
        let s = scores(&[common.clone(), common, rare], &["test", "flaky"]);
        assert!(s[2] > s[0]);
    }
}
