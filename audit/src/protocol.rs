//! Framing, envelopes, schema validation and pagination (IO-*, RPC-1, R1-7, R4-2, R4-3, R4-5,
//! R7-4, R9-H1, R9-H5, X-10, X-11, X-12, X-14, X-15).

use crate::ensure;
use crate::harness::{
    boot, create_contract, ok_payload, peak_rss_kib, rpc_code, rpc_error, Fixture, Outcome, Session,
};
use serde_json::{json, Value};

fn ping(s: &mut Session, id: i64) -> Result<(), String> {
    let reply = s.ask(id, "ping", json!({}))?;
    ensure!(
        reply["result"] == json!({}),
        "ping after the attack: {reply}"
    );
    Ok(())
}

/// IO-1 — hypothesis: a line over the 1,000,000-byte cap is parsed anyway (even a valid
/// request), amplifying memory and CPU.
pub fn io_1() -> Outcome {
    let fx = Fixture::new("io1");
    let mut s = boot(&fx)?;
    let mut blob = vec![b'x'; 1_500_000];
    blob.push(b'\n');
    s.send_raw(&blob);
    let first = s.reply_to(&Value::Null)?;
    let message = rpc_error(&first, &[-32700])?;
    ping(&mut s, 3)?;
    let big = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "harness_record_trace", "arguments": {"kind": "attempt", "summary": "oversize", "raw": "y".repeat(1_200_000)}}});
    s.send_raw(format!("{big}\n").as_bytes());
    ping(&mut s, 5)?;
    s.finish()?;
    let traces = fx.list("traces");
    ensure!(
        traces.is_empty(),
        "the oversize trace was recorded: {traces:?}"
    );
    fx.verify()?;
    Ok(format!(
        "-32700 \"{message}\"; oversize valid request dropped; ping answered"
    ))
}

/// IO-2 — hypothesis: a stream without newline grows the read buffer until OOM.
pub fn io_2() -> Outcome {
    let fx = Fixture::new("io2");
    let mut s = boot(&fx)?;
    let blob = vec![b'x'; 5_000_000];
    s.send_raw(&blob);
    s.send_raw(b"\n");
    let first = s.reply_to(&Value::Null)?;
    rpc_error(&first, &[-32700])?;
    ping(&mut s, 3)?;
    let rss = peak_rss_kib(s.pid()).ok_or("no VmHWM")?;
    ensure!(rss < 64 * 1024, "peak RSS {rss} KiB over 64 MiB");
    s.finish()?;
    fx.verify()?;
    Ok(format!("one -32700, stream continued, VmHWM {rss} KiB"))
}

/// RPC-1 — hypothesis: malformed tools/call arguments and envelopes reach handlers or produce
/// indistinguishable errors.
pub fn rpc_1() -> Outcome {
    let fx = Fixture::new("rpc1");
    let mut s = boot(&fx)?;
    s.call(3, "harness_does_not_exist", json!({}));
    for (n, args) in [json!("not-an-object"), json!([1, 2, 3]), Value::Null]
        .into_iter()
        .enumerate()
    {
        s.call(4 + n as i64, "harness_bootstrap", args);
    }
    s.send_raw(b"{not json\n");
    s.send_raw(b"{\"jsonrpc\":\"1.0\",\"id\":10,\"method\":\"ping\"}\n");
    s.expect_id(json!(10));
    s.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":42}\n");
    s.expect_id(json!(11));
    s.send_raw(b"null\n42\n[{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\"}]\n");
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    s.request(13, "no/such/method", json!({}));
    s.request(14, "ping", json!({}));
    ensure!(
        s.reply(3)?["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Unknown tool")),
        "unknown tool"
    );
    rpc_error(&s.reply(3)?, &[-32602])?;
    for id in 4..7 {
        let m = rpc_error(&s.reply(id)?, &[-32602])?;
        ensure!(m.contains("must be an object"), "id {id}: {m}");
    }
    rpc_error(&s.reply(10)?, &[-32600])?;
    rpc_error(&s.reply(11)?, &[-32600])?;
    rpc_error(&s.reply(13)?, &[-32601])?;
    ensure!(s.reply(14)?["result"] == json!({}), "ping");
    let done = s.finish()?;
    let null_errors: Vec<i64> = done
        .lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["id"].is_null())
        .filter_map(|v| v["error"]["code"].as_i64())
        .collect();
    ensure!(
        null_errors.first() == Some(&-32700),
        "bad JSON not -32700 first: {null_errors:?}"
    );
    ensure!(
        null_errors.len() == 4,
        "expected 4 id:null errors (bad JSON, null, 42, batch): {null_errors:?}"
    );
    ensure!(
        null_errors[1..].iter().all(|c| *c == -32600),
        "envelope errors: {null_errors:?}"
    );
    fx.verify()?;
    Ok("unknown tool/non-object args -32602, bad JSON -32700, envelopes/batch -32600, unknown method -32601, notification silent".into())
}

/// R1-7 — hypothesis: declared schemas are documentation only and bad arguments are coerced,
/// with side effects.
pub fn r1_7() -> Outcome {
    let fx = Fixture::new("r17");
    let mut s = Session::start(&fx);
    s.init(1);
    let cases = [
        (
            "harness_create_contract",
            json!({"goal": "Something"}),
            "missing required property \"title\"",
        ),
        (
            "harness_create_contract",
            json!({"title": "ab", "goal": "Something useful"}),
            "shorter than minLength=3",
        ),
        (
            "harness_update_state",
            json!({"status": "bogus"}),
            "not in enum",
        ),
        (
            "harness_bootstrap",
            json!({"junk": 1}),
            "unexpected property \"junk\"",
        ),
        (
            "harness_create_contract",
            json!({"title": "abc", "goal": "Something", "max_steps": 1.5}),
            "integer",
        ),
        (
            "harness_create_contract",
            json!({"title": "abc", "goal": "Something", "permissions": [1, 2]}),
            "permissions[0]: expected string, got number",
        ),
    ];
    for (n, (tool, args, needle)) in cases.iter().enumerate() {
        let reply = s.tool(10 + n as i64, tool, args.clone())?;
        let message = rpc_error(&reply, &[-32602])?;
        ensure!(
            message.starts_with(&format!("Invalid params for \"{tool}\":")),
            "{message}"
        );
        ensure!(message.contains(needle), "{tool}: {message} lacks {needle}");
    }
    ensure!(
        !fx.h("state.json").exists(),
        "invalid calls created state.json"
    );
    s.tool_ok(30, "harness_bootstrap", json!({}))?;
    s.finish()?;
    fx.verify()?;
    Ok("6 violations -32602 with field path, no state written; valid bootstrap OK".into())
}

fn list_page(
    s: &mut Session,
    id: i64,
    params: Value,
) -> Result<(Vec<String>, Option<String>), String> {
    let reply = s.ask(id, "resources/list", params)?;
    ensure!(reply.get("error").is_none(), "resources/list: {reply}");
    let uris = reply["result"]["resources"]
        .as_array()
        .ok_or_else(|| format!("resources/list: {reply}"))?
        .iter()
        .filter_map(|r| r["uri"].as_str().map(str::to_string))
        .collect();
    Ok((
        uris,
        reply["result"]["nextCursor"].as_str().map(str::to_string),
    ))
}

fn walk_pages(
    s: &mut Session,
    first_id: i64,
    page_size: Value,
    cap: usize,
) -> Result<(usize, Vec<String>), String> {
    let mut cursor: Option<String> = None;
    let mut all = Vec::new();
    for page in 0..cap {
        let mut params = json!({"page_size": page_size});
        if let Some(c) = &cursor {
            params["cursor"] = json!(c);
        }
        let (uris, next) = list_page(s, first_id + page as i64, params)?;
        all.extend(uris);
        match next {
            Some(next) => {
                ensure!(
                    Some(&next) != cursor.as_ref(),
                    "cursor did not advance: {next}"
                );
                cursor = Some(next);
            }
            None => return Ok((page + 1, all)),
        }
    }
    Err(format!("cursor walk did not end within {cap} pages"))
}

/// R4-2 — hypothesis: `resources/list` returns every record in one multi-MB response.
pub fn r4_2() -> Outcome {
    let fx = Fixture::new("r42");
    let mut s = boot(&fx)?;
    for n in 0..30 {
        s.call(
            10 + n,
            "harness_create_contract",
            json!({"title": format!("Contract {n}"), "goal": "Paginate me"}),
        );
    }
    for n in 0..30 {
        ok_payload(&s.reply(10 + n)?)?;
    }
    let (pages, uris) = walk_pages(&mut s, 100, json!(15), 20)?;
    let mut unique = uris.clone();
    unique.sort();
    unique.dedup();
    ensure!(unique.len() == uris.len(), "duplicate URIs across pages");
    ensure!(
        uris.len() >= 34 && pages >= 3,
        "{} URIs in {pages} pages",
        uris.len()
    );
    let (single, next) = list_page(&mut s, 200, json!({}))?;
    ensure!(
        next.is_none() && single.len() == uris.len(),
        "default page: {} next {next:?}",
        single.len()
    );
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "{} resources in {pages} pages of 15, no duplicates; default one page",
        uris.len()
    ))
}

/// R4-3 — hypothesis: huge numeric limits produce huge responses or heavy work.
pub fn r4_3() -> Outcome {
    let fx = Fixture::new("r43");
    let mut s = boot(&fx)?;
    for n in 0..30 {
        s.call(
            10 + n,
            "harness_record_knowledge",
            json!({"title": format!("Clamp item {n}"), "content": "clamp payload"}),
        );
    }
    for n in 0..30 {
        ok_payload(&s.reply(10 + n)?)?;
    }
    let q = s.tool_ok(
        50,
        "harness_query_knowledge",
        json!({"query": "clamp payload", "max_results": 1_000_000}),
    )?;
    let results = q["results"].as_array().map_or(usize::MAX, Vec::len);
    ensure!(results <= 20, "max_results not clamped: {results}");
    let l = s.tool_ok(51, "harness_list_knowledge", json!({"limit": 1_000_000}))?;
    let items = l["items"].as_array().map_or(usize::MAX, Vec::len);
    ensure!(items <= 50, "limit not clamped: {items}");
    let (page, _) = list_page(&mut s, 52, json!({"page_size": 100_000}))?;
    ensure!(page.len() <= 500, "page_size not clamped: {}", page.len());
    s.tool_ok(53, "harness_list", json!({"max_traces": 1_000_000}))?;
    let zero = s.tool(
        54,
        "harness_query_knowledge",
        json!({"query": "x", "max_results": 0}),
    )?;
    let m = rpc_error(&zero, &[-32602])?;
    ensure!(m.contains("minimum"), "{m}");
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "results {results} <= 20, items {items} <= 50, page {} <= 500, 0 rejected",
        page.len()
    ))
}

/// R4-5 — hypothesis: on EOF right after a burst the process exits before flushing replies.
pub fn r4_5() -> Outcome {
    let fx = Fixture::new("r45");
    let mut s = boot(&fx)?;
    let mut burst = String::new();
    for n in 0..50 {
        let message = if n % 2 == 0 {
            json!({"jsonrpc": "2.0", "id": 100 + n, "method": "ping"})
        } else {
            json!({"jsonrpc": "2.0", "id": 100 + n, "method": "tools/call", "params": {"name": "harness_record_trace", "arguments": {"kind": "attempt", "summary": format!("burst {n}"), "raw": "r"}}})
        };
        burst.push_str(&format!("{message}\n"));
        s.expect_id(json!(100 + n));
    }
    s.send_raw(burst.as_bytes());
    std::thread::sleep(std::time::Duration::from_secs(2));
    let done = s.finish()?;
    ensure!(
        done.lines.len() == 52,
        "{} replies for 52 requests",
        done.lines.len()
    );
    fx.verify()?;
    Ok("50 pipelined requests + EOF, 2 s unread: all answered, exit 0".into())
}

/// R7-4 — hypothesis: any protocolVersion string is echoed as the negotiated version.
pub fn r7_4() -> Outcome {
    let fx = Fixture::new("r74");
    let variants = [
        json!("2025-06-18"),
        json!("2024-11-05"),
        json!("99.99-bogus"),
        json!("9999-01-01"),
        json!("2026-07-28"),
        json!(20250618),
        Value::Null,
    ];
    let mut seen = Vec::new();
    for variant in variants {
        let mut s = Session::start(&fx);
        let params = if variant.is_null() {
            json!({})
        } else {
            json!({"protocolVersion": variant})
        };
        let reply = s.ask(1, "initialize", params)?;
        let version = reply["result"]["protocolVersion"].clone();
        let expected = match variant.as_str() {
            Some(v @ ("2025-06-18" | "2024-11-05")) => json!(v),
            // The latest legacy revision; 2026-07-28 has no handshake to negotiate it in.
            _ => json!("2025-11-25"),
        };
        ensure!(version == expected, "{variant} negotiated {version}");
        seen.push(version.to_string());
        s.finish()?;
    }
    fx.verify()?;
    Ok(format!("negotiated {}", seen.join(", ")))
}

fn b64url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn tampered_cursors(cursors: &[Value]) -> Outcome {
    let fx = Fixture::new("cursor");
    let mut s = boot(&fx)?;
    let (first, _) = list_page(&mut s, 3, json!({"page_size": 5}))?;
    for (n, cursor) in cursors.iter().enumerate() {
        let reply = s.ask(
            10 + n as i64,
            "resources/list",
            json!({"page_size": 5, "cursor": cursor}),
        )?;
        if reply.get("error").is_some() {
            rpc_error(&reply, &[-32602])?;
            continue;
        }
        let uris: Vec<&str> = reply["result"]["resources"]
            .as_array()
            .ok_or("no resources")?
            .iter()
            .filter_map(|r| r["uri"].as_str())
            .collect();
        let first_page = uris.iter().zip(&first).all(|(a, b)| a == b) && uris.len() == first.len();
        ensure!(
            first_page || uris.is_empty(),
            "cursor {cursor} gave a shifted page: {uris:?}"
        );
    }
    ping(&mut s, 99)?;
    s.finish()?;
    fx.verify()?;
    Ok(format!(
        "{} tampered cursors: -32602 or first/empty page, no crash",
        cursors.len()
    ))
}

/// R9-H1 — hypothesis: a tampered cursor causes negative indexing, wrap-around or a crash.
pub fn r9_h1() -> Outcome {
    let cursors: Vec<Value> = [
        "offset:-5",
        "offset:abc",
        "offset:1e3",
        " offset:5",
        "offset:5\n",
        "offset:99999999999999999999999",
    ]
    .iter()
    .map(|c| json!(b64url(c)))
    .chain([json!("!!!garbage"), json!(12345)])
    .collect();
    tampered_cursors(&cursors)
}

/// R9-H5 — hypothesis: a cursor whose number overflows to Infinity/NaN indexes oddly.
pub fn r9_h5() -> Outcome {
    tampered_cursors(&[json!(b64url(&format!("offset:{}", "9".repeat(400))))])
}

/// X-10 — hypothesis: deeply nested JSON overflows the parser or serialiser stack and kills
/// the process (a single-message DoS).
pub fn x_10() -> Outcome {
    let fx = Fixture::new("x10");
    let mut s = boot(&fx)?;
    let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    s.send_raw(
        format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}}\n",
            deep(10_000)
        )
        .as_bytes(),
    );
    s.send_raw(format!("{{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{{\"uri\":{}}}}}\n", deep(10_000)).as_bytes());
    s.send_raw(format!("{{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{{\"name\":\"harness_bootstrap\",\"arguments\":{{\"x\":{}}}}}}}\n", deep(400_000)).as_bytes());
    s.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}\n");
    ping(&mut s, 5)?;
    let done = s.finish()?;
    let rejected = done
        .lines
        .iter()
        .filter(|l| l.contains("\"id\":null") && (l.contains("-32700") || l.contains("-32600")))
        .count();
    ensure!(
        rejected == 4,
        "{rejected} of 4 deep or array-id lines rejected with id null"
    );
    fx.verify()?;
    Ok("deep id/uri/args and array id rejected (id null), ping answered, exit 0".into())
}

/// X-11 — hypothesis: invalid UTF-8 is silently replaced (or panics the line reader).
pub fn x_11() -> Outcome {
    let fx = Fixture::new("x11");
    let mut s = boot(&fx)?;
    let bad: [&[u8]; 5] = [
        b"\xff\xfe",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xe2\x82",
        b"\x00",
    ];
    for (n, bytes) in bad.iter().enumerate() {
        let mut line = format!("{{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"tools/call\",\"params\":{{\"name\":\"harness_update_state\",\"arguments\":{{\"note\":\"a", 10 + n).into_bytes();
        line.extend_from_slice(bytes);
        line.extend_from_slice(b"b\"}}}\n");
        s.send_raw(&line);
        ping(&mut s, 20 + n as i64)?;
    }
    let done = s.finish()?;
    let parse_errors = done.lines.iter().filter(|l| l.contains("-32700")).count();
    ensure!(
        parse_errors == bad.len(),
        "{parse_errors} parse errors for {} bad lines",
        bad.len()
    );
    let events = fx.json("state.json")?["events"].to_string();
    ensure!(
        !events.contains("\"ab\"") && !events.contains("a\\u"),
        "a mangled note was stored: {events}"
    );
    fx.verify()?;
    Ok("5 invalid UTF-8 lines -> -32700 id null, next line served, nothing stored".into())
}

/// X-12 — hypothesis: lone surrogates are stored, NUL is silently deleted (making a different
/// id), and out-of-range numbers wrap, saturate or become Infinity.
///
/// Hardened outcomes asserted: a lone surrogate escape anywhere in a request line makes the
/// line unparsable (`-32700`, `id: null` as JSON-RPC prescribes for an unparsable request);
/// an integer argument beyond ±(2^53−1) is `-32602` naming the safe range (a literal too large
/// for a double, `1e400`, may instead be a `-32700` parse error), while ±(2^53−1) itself is
/// accepted; ids and URIs are taken as given: NUL or a zero-width character inside an id is
/// refused, never stripped into another record's id.
pub fn x_12() -> Outcome {
    let fx = Fixture::new("x12");
    let mut s = boot(&fx)?;
    let id = create_contract(&mut s, 3, json!({}))?;
    let raw_lines = [
        (
            10,
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"harness_update_state","arguments":{"note":"\ud800"}}}"#,
        ),
        (
            11,
            r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"harness_update_state","arguments":{"note":"\udc00x"}}}"#,
        ),
    ];
    for (rid, line) in raw_lines {
        let reply = s.raw_reply(format!("{line}\n").as_bytes(), 100 + rid)?;
        ensure!(
            rpc_code(&reply) == Some(-32700) && (reply["id"].is_null() || reply["id"] == rid),
            "lone surrogate: {reply}"
        );
    }
    s.tool_ok(
        12,
        "harness_record_trace",
        json!({"kind": "attempt", "summary": "emoji \u{1F600}", "raw": "r"}),
    )?;
    for (n, hidden) in ["\u{0}", "\u{200B}", "\u{FEFF}"].iter().enumerate() {
        // The real id with the hidden character inserted before its last character: a
        // normalising server would resolve it to the real contract.
        let (head, tail) = id.split_at(id.len() - 1);
        let hostile = format!("{head}{hidden}{tail}");
        let gate = s.tool(
            13 + 10 * n as i64,
            "harness_eval_gate",
            json!({"contract_id": hostile}),
        )?;
        ensure!(
            gate["result"]["isError"] == true || gate.get("error").is_some(),
            "id with {hidden:?} resolved: {gate}"
        );
    }
    let nul_uri = s.read(14, "harness://contract/abc%00def")?;
    ensure!(
        nul_uri.get("error").is_some(),
        "NUL URI answered: {nul_uri}"
    );
    let nul_path = s.tool(
        15,
        "harness_list",
        json!({"project_path": format!("{}\u{0}", fx.project.display())}),
    )?;
    ensure!(
        nul_path["result"]["isError"] == true || nul_path.get("error").is_some(),
        "NUL project_path: {nul_path}"
    );
    let verification = |rid: i64, number: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{rid},"method":"tools/call","params":{{"name":"harness_record_verification","arguments":{{"command_or_check":"x","status":"pass","raw_output":"o","exit_code":{number}}}}}}}"#
        )
    };
    let numbers = [
        "9007199254740992",
        "-9007199254740992",
        "18446744073709551616",
        "99999999999999999999",
        "1e400",
    ];
    for (n, number) in numbers.iter().enumerate() {
        let rid = 50 + n as i64;
        let reply = s.raw_reply(
            format!("{}\n", verification(rid, number)).as_bytes(),
            150 + rid,
        )?;
        let code = rpc_code(&reply);
        let range = code == Some(-32602)
            && reply["id"] == rid
            && reply["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("safe range"));
        let unparsable = *number == "1e400" && code == Some(-32700);
        ensure!(range || unparsable, "exit_code {number}: {reply}");
    }
    for (n, number) in ["9007199254740991", "-9007199254740991"].iter().enumerate() {
        let rid = 60 + n as i64;
        let reply = s.raw_reply(
            format!("{}\n", verification(rid, number)).as_bytes(),
            160 + rid,
        )?;
        ok_payload(&reply).map_err(|e| format!("exit_code {number} refused: {e}"))?;
    }
    let line = r#"{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"harness_record_verification","arguments":{"command_or_check":"x","status":"pass","raw_output":"o","exit_code":-0}}}"#;
    let reply = s.raw_reply(format!("{line}\n").as_bytes(), 130)?;
    ensure!(
        reply["id"] == 30 && (rpc_code(&reply).is_none() || rpc_code(&reply) == Some(-32602)),
        "-0: {reply}"
    );
    let line = r#"{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"harness_create_contract","arguments":{"title":"abc","goal":"abcdef","max_steps":9007199254740993}}}"#;
    let reply = s.raw_reply(format!("{line}\n").as_bytes(), 131)?;
    ensure!(
        rpc_code(&reply) == Some(-32602) && reply["id"] == 31,
        "max_steps 2^53+1: {reply}"
    );
    ping(&mut s, 40)?;
    s.finish()?;
    let stored = std::fs::read_to_string(fx.h("state.json")).unwrap_or_default();
    ensure!(
        !stored.contains("\\ud800") && !stored.contains("\\udc00"),
        "lone surrogate stored"
    );
    let verifications = std::fs::read_dir(fx.h("traces"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|t| t.matches("9007199254740991").count())
                .sum::<usize>()
        })
        .unwrap_or(0);
    ensure!(
        verifications >= 2,
        "±(2^53−1) exit codes not stored verbatim"
    );
    fx.verify()?;
    Ok("lone surrogates -32700, pair kept; NUL/ZWSP/BOM ids, NUL URI and path refused; ±2^53, 2^64, 1e20 exit_code -32602 (safe range), 1e400 refused, ±(2^53−1) stored".into())
}

/// X-14 — hypothesis: inherited-name keys bypass `additionalProperties: false` and enum errors
/// echo raw, bidi-laden, untruncated input.
pub fn x_14() -> Outcome {
    let fx = Fixture::new("x14");
    let mut s = boot(&fx)?;
    for (n, key) in ["constructor", "toString", "__proto__", "hasOwnProperty"]
        .iter()
        .enumerate()
    {
        let mut args = serde_json::Map::new();
        args.insert(
            key.to_string(),
            if *key == "__proto__" {
                json!({})
            } else {
                json!(1)
            },
        );
        let reply = s.tool(10 + n as i64, "harness_bootstrap", Value::Object(args))?;
        let m = rpc_error(&reply, &[-32602])?;
        ensure!(m.contains("unexpected property"), "{key}: {m}");
    }
    let hostile = format!("\u{202E}{}", "z".repeat(300));
    let reply = s.tool(20, "harness_update_state", json!({"status": hostile}))?;
    let m = rpc_error(&reply, &[-32602])?;
    ensure!(!m.contains('\u{202E}'), "bidi echoed");
    let echoed = m.matches('z').count();
    ensure!(
        echoed < 300,
        "echo not truncated ({echoed} of 300 characters)"
    );
    ensure!(
        m.contains("<untrusted-data source=\"args.value\">"),
        "echo not in a block: {m}"
    );
    s.tool_ok(
        21,
        "harness_record_knowledge",
        json!({"title": "constructor __proto__ item", "content": "constructor __proto__ toString"}),
    )?;
    let q = s.tool_ok(
        22,
        "harness_query_knowledge",
        json!({"query": "constructor __proto__"}),
    )?;
    for result in q["results"].as_array().ok_or("no results")? {
        ensure!(result["score"].is_number(), "non-numeric score: {result}");
    }
    s.finish()?;
    fx.verify()?;
    Ok("4 inherited-name keys -32602, enum echo sanitised+truncated, scores numeric".into())
}

/// X-15 — hypothesis: a non-integer or hostile `page_size` makes cursors loop forever or
/// silently return nothing.
pub fn x_15() -> Outcome {
    let fx = Fixture::new("x15");
    let mut s = boot(&fx)?;
    for n in 0..12 {
        s.call(
            10 + n,
            "harness_create_contract",
            json!({"title": format!("Page {n}"), "goal": "Page walk"}),
        );
    }
    for n in 0..12 {
        ok_payload(&s.reply(10 + n)?)?;
    }
    let (_, total) = walk_pages(&mut s, 100, json!(500), 3)?;
    let mut observed = Vec::new();
    for (n, size) in [json!(2.5), json!("abc"), json!(-10), json!(0), json!(1e9)]
        .into_iter()
        .enumerate()
    {
        let reply = s.ask(200 + n as i64, "resources/list", json!({"page_size": size}))?;
        if reply.get("error").is_some() {
            rpc_error(&reply, &[-32602])?;
            observed.push(format!("{size}: -32602"));
            continue;
        }
        let (pages, all) = walk_pages(&mut s, 300 + 100 * n as i64, size.clone(), total.len() + 2)?;
        ensure!(
            all.len() == total.len(),
            "{size}: walk saw {} of {}",
            all.len(),
            total.len()
        );
        observed.push(format!("{size}: {pages} pages"));
    }
    s.finish()?;
    fx.verify()?;
    Ok(observed.join("; "))
}
