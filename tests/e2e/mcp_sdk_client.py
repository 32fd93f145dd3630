"""Drive the server with the official MCP Python SDK, a third-party client that checks every
result against the protocol schema of the version it negotiated and every tool result against
the tool's outputSchema.

Usage: python mcp_sdk_client.py SERVER_BINARY PROJECT_DIR MODE
MODE is the SDK's connect mode: "legacy" (initialize handshake), "auto" (server/discover,
falling back to initialize) or a modern version such as "2026-07-28" (adopted directly).
Lists tools, resources (all pages), templates and prompts; calls every tool with valid
arguments; reads every resource and every template (filled with real ids); gets every prompt;
asks completion/complete for every template variable and every prompt argument.
Prints one line per check and a summary; exits 1 if anything failed.
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters
from mcp.types import PromptReference, ResourceTemplateReference

# The version each connect mode must land on against this server.
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
EXPECTED_VERSION = {"legacy": "2025-11-25", "auto": "2026-07-28", "2026-07-28": "2026-07-28"}

failures = []
checks = 0


def record(ok, what, detail=""):
    global checks
    checks += 1
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(what)


async def call(client, name, arguments):
    try:
        result = await client.call_tool(name, arguments)
    except Exception as error:  # the SDK raises on schema violations
        record(False, f"tools/call {name}", repr(error))
        return None
    ok = not result.is_error and result.structured_content is not None
    record(ok, f"tools/call {name}", result.content[0].text if result.content else "no content")
    return result.structured_content


async def complete(client, ref, argument, prefix, expected):
    """`expected` is an id the completion must offer for `prefix`, or None when the argument
    names no record (then the answer must be a valid, empty completion)."""
    what = f"completion/complete {getattr(ref, 'uri', None) or ref.name} {argument}"
    try:
        result = (await client.complete(ref, {"name": argument, "value": prefix})).completion
    except Exception as error:
        record(False, what, repr(error))
        return
    ok = expected in result.values if expected else result.values == []
    record(ok, what, f"{result.values} for {prefix!r}, expected {expected!r}")


async def exercise(client, mode):
    record(client.protocol_version == EXPECTED_VERSION[mode], f"{mode} negotiates {EXPECTED_VERSION[mode]}",
           client.protocol_version)
    listing = await client.list_tools()
    # Legacy: initialize's serverInfo. 2026-07-28: the stamp in every result's _meta (a pinned
    # client has no discover result to take it from, so read it off a result).
    info = client.server_info if mode == "legacy" else (listing.meta or {}).get(SERVER_INFO_KEY, {})
    name = info.name if mode == "legacy" else info.get("name")
    record(name == "codex-harness-mcp", "server identity", str(info))

    tools = listing.tools
    record(len(tools) == 30, "tools/list has 30 tools", str(len(tools)))
    record(all(t.output_schema for t in tools), "every tool declares an outputSchema")

    await call(client, "harness_bootstrap", {"project_name": "sdk-e2e"})
    await call(client, "harness_migrate", {})
    contract = await call(client, "harness_create_contract", {
        "title": "SDK end to end", "goal": "Exercise every tool from a real client",
        "completion_conditions": ["all calls succeed"], "output_paths": ["README.md"],
        "verification_commands": ["python mcp_sdk_client.py"]})
    contract_id = contract["contract"]["id"] if contract else "missing"
    await call(client, "harness_update_state", {"focus": "e2e", "decision": "Use the SDK", "note": "n"})
    await call(client, "harness_record_trace", {"kind": "attempt", "summary": "first try", "raw": "output"})
    await call(client, "harness_record_verification", {
        "command_or_check": "python mcp_sdk_client.py", "status": "pass", "exit_code": 0, "raw_output": "ok"})
    await call(client, "harness_next_step", {})
    await call(client, "harness_eval_gate", {"checked_conditions": ["all calls succeed"]})
    await call(client, "harness_compact_context", {})
    await call(client, "harness_list", {})
    profile = await call(client, "harness_record_harness_profile", {"name": "Baseline profile", "mode": "standard"})
    profile_id = profile["profile"]["id"] if profile else "missing"
    await call(client, "harness_list_harness_profiles", {})
    case = await call(client, "harness_record_eval_case", {"title": "Case one", "split": "holdout"})
    case_id = case["case"]["id"] if case else "missing"
    run_a = await call(client, "harness_record_eval_run", {"eval_case_id": case_id, "harness_profile_id": profile_id, "verdict": "fail", "score": 0.5})
    run_b = await call(client, "harness_record_eval_run", {"eval_case_id": case_id, "verdict": "pass", "score": 0.75, "cost_usd": 0.1})
    run_a_id = run_a["run"]["id"] if run_a else "missing"
    run_b_id = run_b["run"]["id"] if run_b else "missing"
    await call(client, "harness_compare_eval_runs", {"baseline_run_id": run_a_id, "candidate_run_id": run_b_id})
    proposal = await call(client, "harness_record_harness_proposal", {"title": "Smaller prompts", "proposed_change": "Trim the system prompt", "holdout_run_ids": [run_b_id]})
    proposal_id = proposal["proposal"]["id"] if proposal else "missing"
    await call(client, "harness_list_harness_proposals", {})
    decision = await call(client, "harness_record_promotion_decision", {"proposal_id": proposal_id, "decision": "hold", "rationale": "Needs another holdout run"})
    decision_id = decision["decision"]["id"] if decision else "missing"
    await call(client, "harness_list_promotion_decisions", {})
    await call(client, "harness_export_nl_harness", {})
    await call(client, "harness_export_observability_report", {})
    await call(client, "harness_write_governance_policy", {"network_allowed": False})
    await call(client, "harness_audit_governance", {})
    await call(client, "harness_export_governance_report", {})
    item = await call(client, "harness_record_knowledge", {"title": "Flaky test fix", "content": "Pin the clock in tests", "tags": ["tests"]})
    item_id = item["item"]["id"] if item else "missing"
    await call(client, "harness_record_research", {"title": "Landlock ABI notes", "summary": "ABI 7 scopes signals"})
    await call(client, "harness_record_lesson", {"title": "Lock order", "problem": "Deadlock risk", "solution": "State lock first"})
    await call(client, "harness_query_knowledge", {"query": "flaky clock tests"})
    await call(client, "harness_list_knowledge", {})
    await call(client, "harness_rebuild_knowledge_index", {})

    uris = []
    cursor = None
    while True:
        page = await client.list_resources(cursor=cursor)
        uris.extend(str(r.uri) for r in page.resources)
        cursor = page.next_cursor
        if not cursor:
            break
    record(len(uris) >= 15, "resources/list", str(len(uris)))
    for uri in uris:
        try:
            result = await client.read_resource(uri)
            text = result.contents[0].text
            if result.contents[0].mime_type == "application/json":
                json.loads(text)
            record(bool(text), f"resources/read {uri}")
        except Exception as error:
            record(False, f"resources/read {uri}", repr(error))

    templates = (await client.list_resource_templates()).resource_templates
    record(len(templates) == 7, "resources/templates/list has 7 templates", str(len(templates)))
    ids = {"contract": contract_id, "knowledge/item": item_id, "eval-case": case_id, "eval-run": run_a_id,
           "harness-profile": profile_id, "harness-proposal": proposal_id, "promotion-decision": decision_id}
    for template in templates:
        form = template.uri_template
        kind = form[len("harness://"):-len("/{id}")]
        record_id = ids.get(kind, "missing")
        try:
            result = await client.read_resource(form.replace("{id}", record_id))
            record(bool(result.contents[0].text), f"template {form}")
        except Exception as error:
            record(False, f"template {form}", repr(error))
        await complete(client, ResourceTemplateReference(type="ref/resource", uri=form), "id", record_id[:3], record_id)

    prompts = (await client.list_prompts()).prompts
    record(len(prompts) == 18, "prompts/list has 18 prompts", str(len(prompts)))
    # The prompt arguments that name a record, and a stored id of that record.
    named = {"contract_id": contract_id, "baseline_run_id": run_a_id, "candidate_run_id": run_a_id}
    completed_ids = set()
    for prompt in prompts:
        arguments = {a.name: "value" for a in (prompt.arguments or [])}
        try:
            result = await client.get_prompt(prompt.name, arguments)
            record(bool(result.messages), f"prompts/get {prompt.name}")
        except Exception as error:
            record(False, f"prompts/get {prompt.name}", repr(error))
        for argument in prompt.arguments or []:
            expected = named.get(argument.name)
            if expected:
                completed_ids.add(argument.name)
            await complete(client, PromptReference(type="ref/prompt", name=prompt.name), argument.name,
                           expected[:3] if expected else "", expected)
    record(completed_ids == set(named), "every id-naming prompt argument completed", str(completed_ids))


async def main(binary, project, mode):
    params = StdioServerParameters(command=binary, args=["--project", project])
    try:
        async with Client(params, mode=mode, raise_exceptions=True) as client:
            await exercise(client, mode)
    except Exception as error:
        record(False, f"connect {mode}", repr(error))
    print(f"sdk e2e {mode}: {checks} checks, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3])))
