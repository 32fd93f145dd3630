//! Knowledge retrieval as pure functions: the original's tokenizer (the index's `termCounts`
//! depend on it bit for bit), its collation of tokens, and our ranking (field-weighted BM25
//! over stemmed terms). No I/O and no state: [`crate::harness::knowledge`] owns the files and
//! feeds these functions what it read.

mod analyze;
mod rank;

pub use analyze::{analyze, collate, is_integer_key, tokenize, STOP_WORDS};
pub use rank::{Bm25Params, FieldStats, Ranker};
