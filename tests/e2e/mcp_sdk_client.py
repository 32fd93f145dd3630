"""Drive the server with the official MCP Python SDK, a third-party client that checks every
message against the protocol schema and every tool result against the tool's outputSchema.

Usage: python mcp_sdk_client.py SERVER_BINARY PROJECT_DIR
Lists tools, resources (all pages), templates and prompts; calls every tool with valid
arguments; reads every resource and every template (filled with real ids); gets every prompt.
Prints one line per check and a summary; exits 1 if anything failed.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

failures = []
checks = 0


def record(ok, what, detail=""):
    global checks
    checks += 1
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(what)


async def call(session, name, arguments):
    try:
        result = await session.call_tool(name, arguments)
    except Exception as error:  # the SDK raises on schema violations
        record(False, f"tools/call {name}", repr(error))
        return None
    ok = not result.is_error and result.structured_content is not None
    record(ok, f"tools/call {name}", result.content[0].text if result.content else "no content")
    return result.structured_content


async def main(binary, project):
    params = StdioServerParameters(command=binary, args=["--project", project])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            record(init.server_info.name == "codex-harness-mcp", "initialize", str(init.server_info))

            tools = (await session.list_tools()).tools
            record(len(tools) == 30, "tools/list has 30 tools", str(len(tools)))
            record(all(t.output_schema for t in tools), "every tool declares an outputSchema")

            boot = await call(session, "harness_bootstrap", {"project_name": "sdk-e2e"})
            await call(session, "harness_migrate", {})
            contract = await call(session, "harness_create_contract", {
                "title": "SDK end to end", "goal": "Exercise every tool from a real client",
                "completion_conditions": ["all calls succeed"], "output_paths": ["README.md"],
                "verification_commands": ["python mcp_sdk_client.py"]})
            contract_id = contract["contract"]["id"] if contract else "missing"
            await call(session, "harness_update_state", {"focus": "e2e", "decision": "Use the SDK", "note": "n"})
            await call(session, "harness_record_trace", {"kind": "attempt", "summary": "first try", "raw": "output"})
            await call(session, "harness_record_verification", {
                "command_or_check": "python mcp_sdk_client.py", "status": "pass", "exit_code": 0, "raw_output": "ok"})
            await call(session, "harness_next_step", {})
            await call(session, "harness_eval_gate", {"checked_conditions": ["all calls succeed"]})
            await call(session, "harness_compact_context", {})
            await call(session, "harness_list", {})
            profile = await call(session, "harness_record_harness_profile", {"name": "Baseline profile", "mode": "standard"})
            profile_id = profile["profile"]["id"] if profile else "missing"
            await call(session, "harness_list_harness_profiles", {})
            case = await call(session, "harness_record_eval_case", {"title": "Case one", "split": "holdout"})
            case_id = case["case"]["id"] if case else "missing"
            run_a = await call(session, "harness_record_eval_run", {"eval_case_id": case_id, "harness_profile_id": profile_id, "verdict": "fail", "score": 0.5})
            run_b = await call(session, "harness_record_eval_run", {"eval_case_id": case_id, "verdict": "pass", "score": 0.75, "cost_usd": 0.1})
            run_a_id = run_a["run"]["id"] if run_a else "missing"
            run_b_id = run_b["run"]["id"] if run_b else "missing"
            await call(session, "harness_compare_eval_runs", {"baseline_run_id": run_a_id, "candidate_run_id": run_b_id})
            proposal = await call(session, "harness_record_harness_proposal", {"title": "Smaller prompts", "proposed_change": "Trim the system prompt", "holdout_run_ids": [run_b_id]})
            proposal_id = proposal["proposal"]["id"] if proposal else "missing"
            await call(session, "harness_list_harness_proposals", {})
            decision = await call(session, "harness_record_promotion_decision", {"proposal_id": proposal_id, "decision": "hold", "rationale": "Needs another holdout run"})
            decision_id = decision["decision"]["id"] if decision else "missing"
            await call(session, "harness_list_promotion_decisions", {})
            await call(session, "harness_export_nl_harness", {})
            await call(session, "harness_export_observability_report", {})
            await call(session, "harness_write_governance_policy", {"network_allowed": False})
            await call(session, "harness_audit_governance", {})
            await call(session, "harness_export_governance_report", {})
            item = await call(session, "harness_record_knowledge", {"title": "Flaky test fix", "content": "Pin the clock in tests", "tags": ["tests"]})
            item_id = item["item"]["id"] if item else "missing"
            await call(session, "harness_record_research", {"title": "Landlock ABI notes", "summary": "ABI 7 scopes signals"})
            await call(session, "harness_record_lesson", {"title": "Lock order", "problem": "Deadlock risk", "solution": "State lock first"})
            await call(session, "harness_query_knowledge", {"query": "flaky clock tests"})
            await call(session, "harness_list_knowledge", {})
            await call(session, "harness_rebuild_knowledge_index", {})


            uris = []
            cursor = None
            while True:
                page = await session.list_resources(cursor=cursor) if cursor else await session.list_resources()
                uris.extend(str(r.uri) for r in page.resources)
                cursor = page.next_cursor
                if not cursor:
                    break
            record(len(uris) >= 15, "resources/list", str(len(uris)))
            for uri in uris:
                try:
                    result = await session.read_resource(uri)
                    text = result.contents[0].text
                    if result.contents[0].mime_type == "application/json":
                        json.loads(text)
                    record(bool(text), f"resources/read {uri}")
                except Exception as error:
                    record(False, f"resources/read {uri}", repr(error))

            templates = (await session.list_resource_templates()).resource_templates
            ids = {"contract": contract_id, "knowledge/item": item_id, "eval-case": case_id, "eval-run": run_a_id,
                   "harness-profile": profile_id, "harness-proposal": proposal_id, "promotion-decision": decision_id}
            for template in templates:
                form = template.uri_template
                kind = form[len("harness://"):-len("/{id}")]
                uri = form.replace("{id}", ids.get(kind, "missing"))
                try:
                    result = await session.read_resource(uri)
                    record(bool(result.contents[0].text), f"template {form}")
                except Exception as error:
                    record(False, f"template {form}", repr(error))

            prompts = (await session.list_prompts()).prompts
            record(len(prompts) == 18, "prompts/list has 18 prompts", str(len(prompts)))
            for prompt in prompts:
                arguments = {a.name: "value" for a in (prompt.arguments or [])}
                try:
                    result = await session.get_prompt(prompt.name, arguments)
                    record(bool(result.messages), f"prompts/get {prompt.name}")
                except Exception as error:
                    record(False, f"prompts/get {prompt.name}", repr(error))
    print(f"sdk e2e: {checks} checks, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
