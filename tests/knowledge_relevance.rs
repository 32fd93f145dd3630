#![allow(clippy::disallowed_methods)] // Tests read fixtures with std::fs.
//! Retrieval quality: a labelled set of knowledge items and queries is loaded into a real
//! project through the binary; our ranking (through `harness_query_knowledge`) and the
//! original's term-count scoring (re-implemented here, over the index the server wrote) are
//! compared on recall@5 and mean reciprocal rank.

mod common;

use codex_harness_mcp::knowledge::tokenize;
use common::{Server, TempProject};
use serde_json::{json, Value};
use std::collections::HashMap;

const CUTOFF: usize = 5;
const DEPTH: usize = 20;

/// The original's score (spec §4.2 #24 steps 4–5) of one index entry.
fn original_score(entry: &Value, tokens: &[String], query: &str) -> f64 {
    if query.is_empty() && tokens.is_empty() {
        return 1.0;
    }
    let title = entry["title"].as_str().unwrap_or("").to_lowercase();
    let tags: Vec<String> = entry["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let mut score = 0.0;
    for token in tokens {
        score += entry["termCounts"][token].as_f64().unwrap_or(0.0);
        if title.contains(token.as_str()) {
            score += 4.0;
        }
        if tags.contains(token) {
            score += 3.0;
        }
        if entry["kind"].as_str() == Some(token.as_str()) {
            score += 2.0;
        }
    }
    score
}

/// The original's ranking of the index for `query`: ids, best first.
fn original_ranking(index: &Value, query: &str) -> Vec<String> {
    let tokens = tokenize(query);
    let mut scored: Vec<(f64, String, String)> = index["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                original_score(e, &tokens, query),
                e["ts"].as_str().unwrap_or("").to_string(),
                e["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .filter(|(score, _, _)| *score > 0.0 || tokens.is_empty())
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    scored
        .into_iter()
        .map(|(_, _, id)| id)
        .take(DEPTH)
        .collect()
}

struct Metrics {
    recall: f64,
    mrr: f64,
}

fn evaluate(rankings: &[(Vec<String>, Vec<String>)]) -> Metrics {
    let mut recall = 0.0;
    let mut mrr = 0.0;
    for (ranked, relevant) in rankings {
        let found = ranked
            .iter()
            .take(CUTOFF)
            .filter(|id| relevant.contains(id))
            .count();
        recall += found as f64 / relevant.len() as f64;
        if let Some(rank) = ranked.iter().position(|id| relevant.contains(id)) {
            mrr += 1.0 / (rank + 1) as f64;
        }
    }
    let n = rankings.len() as f64;
    Metrics {
        recall: recall / n,
        mrr: mrr / n,
    }
}

#[test]
fn bm25_ranking_beats_the_original_term_counts_on_recall_and_mrr() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/knowledge-relevance.json"
    ))
    .expect("fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture json");
    let items = fixture["items"].as_array().expect("items");
    let queries = fixture["queries"].as_array().expect("queries");
    assert!(items.len() >= 200 && queries.len() >= 40);

    let project = TempProject::new("relevance");
    let mut server = Server::start(&project.path);
    let mut id_of: HashMap<String, String> = HashMap::new();
    for item in items {
        let recorded = server.call_ok(
            "harness_record_knowledge",
            json!({"title": item["title"], "summary": item["summary"], "tags": item["tags"], "content": item["content"]}),
        );
        let id = recorded["item"]["id"].as_str().expect("id").to_string();
        id_of.insert(item["key"].as_str().expect("key").to_string(), id);
    }
    let index = server.call_ok("harness_rebuild_knowledge_index", json!({}))["index"].clone();

    let mut ours = Vec::new();
    let mut original = Vec::new();
    for query in queries {
        let q = query["query"].as_str().expect("query");
        let relevant: Vec<String> = query["relevant"]
            .as_array()
            .expect("relevant")
            .iter()
            .map(|k| id_of[k.as_str().expect("key")].clone())
            .collect();
        let result = server.call_ok(
            "harness_query_knowledge",
            json!({"query": q, "max_results": DEPTH}),
        );
        let ranked: Vec<String> = result["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["item"]["id"].as_str().expect("id").to_string())
            .collect();
        ours.push((ranked, relevant.clone()));
        original.push((original_ranking(&index, q), relevant));
    }
    let ours = evaluate(&ours);
    let original = evaluate(&original);
    println!(
        "{} items, {} queries: original recall@{CUTOFF} {:.3} MRR {:.3}; ours recall@{CUTOFF} {:.3} MRR {:.3}",
        items.len(),
        queries.len(),
        original.recall,
        original.mrr,
        ours.recall,
        ours.mrr
    );
    assert!(
        ours.recall > original.recall,
        "recall: ours {} vs original {}",
        ours.recall,
        original.recall
    );
    assert!(
        ours.mrr > original.mrr,
        "MRR: ours {} vs original {}",
        ours.mrr,
        original.mrr
    );
    assert_eq!(server.finish(), 0);
}
