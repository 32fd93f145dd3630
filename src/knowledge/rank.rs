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
    documents: f64,
    average_lengths: [f64; 5],
    document_frequency: HashMap<String, f64>,
}

impl Ranker {
    /// Gathers the collection statistics the `query` terms need from every entry.
    pub fn new(entries: &[&FieldStats], query: &[(String, f64)], params: Bm25Params) -> Ranker {
        let mut totals = [0f64; 5];
        let mut document_frequency: HashMap<String, f64> =
            query.iter().map(|(term, _)| (term.clone(), 0.0)).collect();
        for stats in entries {
            for (total, length) in totals.iter_mut().zip(stats.lengths) {
                *total += f64::from(length);
            }
            for (term, df) in document_frequency.iter_mut() {
                if stats.terms.contains_key(term) {
                    *df += 1.0;
                }
            }
        }
        let documents = entries.len() as f64;
        let average_lengths = totals.map(|total| (total / documents.max(1.0)).max(1.0));
        Ranker {
            params,
            documents,
            average_lengths,
            document_frequency,
        }
    }

    fn idf(&self, term: &str) -> f64 {
        let df = self.document_frequency.get(term).copied().unwrap_or(0.0);
        (1.0 + (self.documents - df + 0.5) / (df + 0.5)).ln()
    }

    /// The BM25F score of one entry for weighted query terms (0 when nothing matches).
    pub fn score(&self, stats: &FieldStats, query: &[(String, f64)]) -> f64 {
        let mut score = 0.0;
        for (term, query_weight) in query {
            let Some(frequencies) = stats.terms.get(term) else {
                continue;
            };
            let mut pseudo = 0.0;
            for (field, tf) in frequencies.iter().enumerate() {
                if *tf == 0 {
                    continue;
                }
                let b = self.params.b[field];
                let length = f64::from(stats.lengths[field]) / self.average_lengths[field];
                pseudo += self.params.weights[field] * f64::from(*tf) / (1.0 - b + b * length);
            }
            score += query_weight * self.idf(term) * pseudo / (self.params.k1 + pseudo);
        }
        score
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(terms: &[(&str, [u32; 5])], lengths: [u32; 5]) -> FieldStats {
        FieldStats {
            terms: terms.iter().map(|(t, f)| (t.to_string(), *f)).collect(),
            lengths,
        }
    }

    #[test]
    fn a_title_match_outranks_the_same_count_in_the_body() {
        let in_title = stats(&[("cach", [1, 0, 0, 0, 0])], [3, 0, 0, 0, 20]);
        let in_body = stats(&[("cach", [0, 0, 0, 0, 1])], [3, 0, 0, 0, 20]);
        let other = stats(&[("build", [1, 0, 0, 0, 0])], [3, 0, 0, 0, 20]);
        let query = vec![("cach".to_string(), 1.0)];
        let ranker = Ranker::new(
            &[&in_title, &in_body, &other],
            &query,
            Bm25Params::default(),
        );
        assert!(ranker.score(&in_title, &query) > ranker.score(&in_body, &query));
        assert!(ranker.score(&in_body, &query) > 0.0);
        assert_eq!(ranker.score(&other, &query), 0.0);
    }

    #[test]
    fn rare_terms_weigh_more_than_common_ones() {
        let common = stats(&[("test", [0, 0, 0, 0, 1])], [0, 0, 0, 0, 10]);
        let rare = stats(
            &[("flaky", [0, 0, 0, 0, 1]), ("test", [0, 0, 0, 0, 1])],
            [0, 0, 0, 0, 10],
        );
        let query = vec![("test".to_string(), 1.0), ("flaky".to_string(), 1.0)];
        let ranker = Ranker::new(&[&common, &common, &rare], &query, Bm25Params::default());
        assert!(ranker.idf("flaky") > ranker.idf("test"));
        assert!(ranker.score(&rare, &query) > ranker.score(&common, &query));
    }
}
