//! Knowledge store and index under concurrency, corruption and volume (KI-1, KI-2, R2-2, R2-4,
//! R4-1, R6-4, R7-1, R9-H2).

use crate::ensure;
use crate::harness::{
    boot, bootstrap_run, ok_payload, percent_encode, rpc_error, Fixture, Outcome, Session,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn record_many(
    s: &mut Session,
    first: i64,
    count: i64,
    args: impl Fn(i64) -> Value,
) -> Result<Vec<Value>, String> {
    for n in 0..count {
        s.call(first + n, "harness_record_knowledge", args(n));
    }
    (0..count)
        .map(|n| s.reply(first + n).and_then(|r| ok_payload(&r)))
        .collect()
}

/// Ids of the knowledge index with the journal folded in (see [`Fixture::knowledge_index`]).
fn index_ids(fx: &Fixture) -> Result<Vec<String>, String> {
    fx.knowledge_index_ids()
}

/// After the writers' clean exits (each writes `index.json` from the whole index) and one
/// more session's query, checks that `index.json` alone holds `want` unique entries.
fn compacted_index_ids(fx: &Fixture, want: usize) -> Result<Vec<String>, String> {
    let mut s = Session::start(fx);
    s.tool_ok(1, "harness_query_knowledge", json!({"query": "compaction"}))?;
    s.finish()?;
    let index = fx.json("knowledge/index.json")?;
    let mut ids: Vec<String> = index["items"]
        .as_array()
        .ok_or("index has no items")?
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    ensure!(
        ids.len() == want && total == want,
        "compacted index.json: {total} entries, {} unique, want {want}",
        ids.len()
    );
    Ok(ids)
}

/// KI-1 — hypothesis: concurrent knowledge writers interleave index read-modify-write and
/// items vanish (one process, then two). Records append to the index journal; index.json is
/// only rewritten at compaction. So the on-disk index (index.json with the journal folded in)
/// is checked after each phase, and then index.json itself after a compacting query.
pub fn ki_1() -> Outcome {
    let fx = Fixture::new("ki1");
    let mut s = boot(&fx)?;
    record_many(
        &mut s,
        10,
        12,
        |i| json!({"title": format!("Race item {i}"), "content": format!("payload {i}"), "tags": ["race"]}),
    )?;
    s.finish()?;
    let ids = index_ids(&fx)?;
    ensure!(ids.len() == 12, "1P index has {} unique items", ids.len());
    let mut a = Session::start(&fx);
    let mut b = Session::start(&fx);
    for n in 0..6 {
        a.call(
            n,
            "harness_record_knowledge",
            json!({"title": format!("A race {n}"), "content": "a"}),
        );
        b.call(
            n,
            "harness_record_knowledge",
            json!({"title": format!("B race {n}"), "content": "b"}),
        );
    }
    for n in 0..6 {
        ok_payload(&a.reply(n)?)?;
        ok_payload(&b.reply(n)?)?;
    }
    a.finish()?;
    b.finish()?;
    let folded = index_ids(&fx)?;
    ensure!(
        folded.len() == 24,
        "after 2P the index has {} items",
        folded.len()
    );
    let compacted = compacted_index_ids(&fx, 24)?;
    ensure!(compacted == folded, "compaction changed the set of entries");
    let counter = fx.json("state.json")?["counters"]["knowledgeItems"].clone();
    ensure!(counter == 24, "knowledgeItems {counter}");
    fx.verify()?;
    Ok("12 (1P) + 12 (2P) items: 24 unique entries in index+journal, and in index.json after compaction, counter 24".into())
}

/// KI-2 — hypothesis: a corrupt or wrong-shape index bricks every knowledge call.
pub fn ki_2() -> Outcome {
    let fx = Fixture::new("ki2");
    let mut s = boot(&fx)?;
    s.tool_ok(
        3,
        "harness_record_research",
        json!({"title": "Corruption recovery research", "summary": "self-healing rebuild works"}),
    )?;
    s.tool_ok(4, "harness_record_lesson", json!({"title": "Lesson learned", "problem": "index corrupt", "solution": "self-healing rebuild"}))?;
    s.finish()?;
    for bad in [&b"{not valid json :::"[..], b"[]", b"{garbage"] {
        fx.plant("knowledge/index.json", bad);
        let mut s = Session::start(&fx);
        let list = s.tool_ok(1, "harness_list_knowledge", json!({}))?;
        ensure!(
            list["items"].as_array().map_or(0, Vec::len) == 2,
            "list after corruption: {list}"
        );
        let q = s.tool_ok(
            2,
            "harness_query_knowledge",
            json!({"query": "self-healing rebuild"}),
        )?;
        ensure!(
            !q["results"].as_array().is_none_or(Vec::is_empty),
            "query found nothing"
        );
        s.finish()?;
        fx.json("knowledge/index.json")?;
        fx.verify()?;
    }
    Ok("3 corruptions: index rebuilt from items, list 2, query hits".into())
}

/// R2-2 — hypothesis: recovery from a corrupt index inside the index lock re-takes the same
/// lock and deadlocks. A record only appends to the index journal, so it may succeed without
/// touching the corrupt index.json; the next reader (a query, a rebuild, a read of
/// `harness://knowledge/index`) must then rebuild it. Each call must return within 4 s, and
/// after the reader index.json must parse and hold every item.
pub fn r2_2() -> Outcome {
    let fx = Fixture::new("r22");
    let mut took = Vec::new();
    for (n, (tool, args)) in [
        (
            "harness_record_knowledge",
            json!({"title": "Deadlock recovery probe", "content": "x"}),
        ),
        ("harness_rebuild_knowledge_index", json!({})),
        ("harness_query_knowledge", json!({"query": "deadlock"})),
    ]
    .into_iter()
    .enumerate()
    {
        bootstrap_run(&fx)?;
        fx.plant("knowledge/index.json", b"{not valid json");
        let mut s = Session::start(&fx);
        let started = Instant::now();
        s.tool_ok(1, tool, args)?;
        let elapsed = started.elapsed();
        ensure!(elapsed < Duration::from_secs(4), "{tool} took {elapsed:?}");
        // The next reader rebuilds the index: after the record (which left index.json
        // corrupt) a plain read of the index resource, after the others a query.
        let started = Instant::now();
        if n == 0 {
            let reply = s.read(2, "harness://knowledge/index")?;
            ensure!(reply.get("result").is_some(), "index read: {reply}");
        } else {
            s.tool_ok(2, "harness_query_knowledge", json!({"query": "deadlock"}))?;
        }
        let reader = started.elapsed();
        ensure!(
            reader < Duration::from_secs(4),
            "reader after {tool} took {reader:?}"
        );
        s.finish()?;
        let index = fx.json("knowledge/index.json")?;
        let items = index["items"].as_array().map_or(0, Vec::len);
        let files = fx
            .list("knowledge/items")
            .iter()
            .filter(|f| f.ends_with(".json"))
            .count();
        ensure!(
            files >= 1 && items == files,
            "after {tool} and a reader: index.json holds {items} entries for {files} items"
        );
        took.push(format!("{tool} {} ms", elapsed.as_millis()));
    }
    fx.verify()?;
    Ok(format!(
        "{}; index rebuilt by the next reader",
        took.join(", ")
    ))
}

/// R2-4 — hypothesis: item ids with spaces, non-ASCII or traversal reach the filesystem.
pub fn r2_4() -> Outcome {
    let fx = Fixture::new("r24");
    let mut s = boot(&fx)?;
    for (n, id) in ["id with spaces", "idé", "../../state", "../../../V/secret"]
        .iter()
        .enumerate()
    {
        let reply = s.read(
            10 + n as i64,
            &format!("harness://knowledge/item/{}", percent_encode(id)),
        )?;
        rpc_error(&reply, &[-32002, -32602, -32603])?;
        ensure!(
            !crate::harness::leaks_sentinel(&reply.to_string()),
            "sentinel leaked"
        );
    }
    s.finish()?;
    fx.verify()?;
    Ok("4 hostile item ids: not found".into())
}

/// R4-1 — hypothesis: giant tokens become index keys and the index grows ~10 KB per item.
pub fn r4_1() -> Outcome {
    let fx = Fixture::new("r41");
    let mut s = boot(&fx)?;
    record_many(
        &mut s,
        10,
        100,
        |i| json!({"title": format!("Bucket item {i}"), "summary": "finding bucket summary", "content": "x".repeat(8_000), "key_findings": ["finding one", "finding two"], "tags": [format!("bucket-{}", i % 5)]}),
    )?;
    let q = s.tool_ok(
        200,
        "harness_query_knowledge",
        json!({"query": "finding bucket", "max_results": 5}),
    )?;
    ensure!(
        !q["results"].as_array().is_none_or(Vec::is_empty),
        "query found nothing"
    );
    s.finish()?;
    let size = std::fs::metadata(fx.h("knowledge/index.json"))
        .map_err(|e| e.to_string())?
        .len();
    ensure!(size / 100 < 4_096, "index {size} bytes for 100 items");
    let index = fx.json("knowledge/index.json")?;
    for item in index["items"].as_array().ok_or("no items")? {
        if let Some(terms) = item["termCounts"].as_object() {
            ensure!(terms.len() <= 40, "{} terms", terms.len());
            ensure!(
                terms.keys().all(|k| k.chars().count() <= 80),
                "term over 80 chars"
            );
        }
    }
    fx.verify()?;
    Ok(format!("index {} B/item, terms capped", size / 100))
}

/// R6-4 — hypothesis: 1,000 items make writes and queries slow.
pub fn r6_4() -> Outcome {
    let fx = Fixture::new("r64");
    let mut s = boot(&fx)?;
    let started = Instant::now();
    record_many(
        &mut s,
        10,
        1000,
        |i| json!({"title": format!("Scale item {i}"), "content": format!("scale payload number {i}")}),
    )?;
    let writes = started.elapsed();
    let mut slowest = Duration::ZERO;
    for n in 0..10 {
        let t = Instant::now();
        s.tool_ok(
            2000 + n,
            "harness_query_knowledge",
            json!({"query": format!("scale payload {n}")}),
        )?;
        slowest = slowest.max(t.elapsed());
    }
    ensure!(
        writes < Duration::from_secs(100),
        "1000 writes took {writes:?}"
    );
    ensure!(
        slowest < Duration::from_secs(2),
        "slowest query {slowest:?}"
    );
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "1000 writes in {} ms (mean {} ms), slowest query {} ms",
        writes.as_millis(),
        writes.as_millis() / 1000,
        slowest.as_millis()
    ))
}

/// R7-1 — hypothesis: same-title records on one day collide and overwrite each other.
pub fn r7_1() -> Outcome {
    let fx = Fixture::new("r71");
    let mut s = boot(&fx)?;
    let payloads = record_many(
        &mut s,
        10,
        1000,
        |_| json!({"title": "Same title", "content": "same"}),
    )?;
    s.finish()?;
    let mut ids: Vec<String> = payloads
        .iter()
        .filter_map(|p| {
            p["item"]["id"]
                .as_str()
                .or(p["id"].as_str())
                .map(str::to_string)
        })
        .collect();
    ensure!(ids.len() == 1000, "{} ids returned", ids.len());
    for id in &ids {
        let suffix = id.rsplit('-').next().unwrap_or_default();
        ensure!(
            suffix.len() >= 12 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
            "short suffix in {id}"
        );
    }
    ids.sort();
    ids.dedup();
    ensure!(ids.len() == 1000, "collisions: {} unique", ids.len());
    let files = fx
        .list("knowledge/items")
        .iter()
        .filter(|n| n.ends_with(".json"))
        .count();
    let indexed = index_ids(&fx)?.len();
    ensure!(
        files == 1000 && indexed == 1000,
        "files {files}, index+journal entries {indexed}"
    );
    fx.verify()?;
    Ok("1000 same-title items: 1000 unique >= 48-bit ids, files and index+journal entries".into())
}

/// R9-H2 — hypothesis: a 900,000-character field fills the disk.
pub fn r9_h2() -> Outcome {
    let fx = Fixture::new("r9h2");
    let mut s = boot(&fx)?;
    let huge = "z".repeat(900_000);
    s.tool_ok(
        3,
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "huge raw", "raw": huge}),
    )?;
    s.tool_ok(
        4,
        "harness_record_knowledge",
        json!({"title": "Huge content", "content": huge}),
    )?;
    s.finish()?;
    let day = fx
        .list("traces")
        .into_iter()
        .next()
        .ok_or("no trace file")?;
    let line =
        std::fs::read_to_string(fx.h(&format!("traces/{day}"))).map_err(|e| e.to_string())?;
    ensure!(line.len() < 14_000, "trace line {} bytes", line.len());
    ensure!(
        line.contains("[truncated 888000 characters]"),
        "no truncation marker"
    );
    let item = fx
        .list("knowledge/items")
        .into_iter()
        .find(|n| n.ends_with(".json"))
        .ok_or("no item")?;
    let size = std::fs::metadata(fx.h(&format!("knowledge/items/{item}")))
        .map_err(|e| e.to_string())?
        .len();
    ensure!(size < 20_000, "item {size} bytes");
    fx.verify()?;
    Ok(format!(
        "trace line {} B, item {size} B, marker present",
        line.len()
    ))
}
