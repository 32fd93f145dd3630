//! Round 11, scale (KS-1): a file the server would refuse to read must never brick the
//! knowledge tools, whoever made it that large.

use crate::ensure;
use crate::harness::{Fixture, Outcome, Session};
use serde_json::json;

/// The store's file bound (`MAX_FILE_BYTES`): index.json is planted one page past it.
const FILE_BOUND: usize = 64 * 1024 * 1024;

/// KS-1 — hypothesis: an index.json larger than the server reads (planted, or written by
/// another server that has no bound) makes every knowledge tool fail from then on, as the
/// server's own 92.7 MB index.json once did. Replayed by recording two items, planting a
/// valid index.json of 64 MiB + 4 KiB, then querying, recording and listing in a new
/// session: each must work, find every item (rebuilt from the item files), and leave an
/// index.json a Node server can read, far below the bound, naming all three items.
pub fn ks_1() -> Outcome {
    let fx = Fixture::new("ks1");
    let mut s = Session::start(&fx);
    s.init(1);
    s.reply(1)?;
    for n in 0..2 {
        s.tool_ok(
            10 + n,
            "harness_record_knowledge",
            json!({"title": format!("Scale note {n}"), "content": "a zeppelin hangar"}),
        )?;
    }
    s.finish()?;
    let mut planted = br#"{"version":1,"updatedAt":null,"items":[]}"#.to_vec();
    planted.resize(FILE_BOUND + 4096, b' ');
    fx.plant("knowledge/index.json", &planted);
    drop(planted);

    let mut s = Session::start(&fx);
    s.init(1);
    s.reply(1)?;
    let found = s.tool_ok(2, "harness_query_knowledge", json!({"query": "zeppelin"}))?;
    let hits = found["results"].as_array().map_or(0, Vec::len);
    ensure!(
        hits == 2,
        "query over the planted index found {hits} of 2 items"
    );
    s.tool_ok(
        3,
        "harness_record_knowledge",
        json!({"title": "Scale note 2", "content": "a zeppelin mast"}),
    )?;
    let listed = s.tool_ok(4, "harness_list_knowledge", json!({}))?;
    let count = listed["items"].as_array().map_or(0, Vec::len);
    ensure!(
        count == 3,
        "list after the planted index: {count} of 3 items"
    );
    s.finish()?;

    let size = std::fs::metadata(fx.h("knowledge/index.json"))
        .map_err(|e| format!("index.json: {e}"))?
        .len();
    ensure!(
        size <= (FILE_BOUND / 8) as u64,
        "index.json left at {size} bytes"
    );
    let index = fx.json("knowledge/index.json")?;
    let entries = index["items"].as_array().map_or(0, Vec::len);
    ensure!(entries == 3, "index.json names {entries} of 3 items");
    fx.verify()?;
    Ok(format!(
        "planted 64 MiB + 4 KiB index.json: query found 2, record and list worked, index.json rewritten ({size} bytes, 3 items)"
    ))
}
