//! Knowledge: everything about the project's knowledge items, as one pipeline.
//!
//! * **analyse** ([`analyze`]): the original's tokenizer (the index's `termCounts` depend on
//!   it bit for bit), its collation of tokens, and our stemming analyser. Pure functions.
//! * **index** ([`index`]): the index entry of an item, the segment files and journal that
//!   hold them, index.json as the export a Node server reads, and the in-memory index built
//!   from them ([`index::memory`]). Only this stage touches the index files.
//! * **rank** ([`rank`]): field-weighted BM25 over stemmed terms. Pure functions.
//! * **serve** ([`serve`]): building an item from tool arguments, its files and Markdown
//!   companion, listing, paging and querying, as the tools and resources call them. It must
//!   never write an item file after creating it, and never take the state lock while holding
//!   the index lock.

pub mod analyze;
pub mod index;
pub mod rank;
pub mod serve;

pub use analyze::{analyze, collate, is_integer_key, tokenize, STOP_WORDS};
pub use rank::{Bm25Params, FieldStats, Ranker};
