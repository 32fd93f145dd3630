#!/usr/bin/env python3
"""Judges one conformance run: every scored scenario must pass every check, except the
checks listed below, which exercise the suite's own reference fixtures (tools, prompts and
resources named `test_*` that a reference server has and this one does not) or an optional
capability this server does not declare.

Owns: that list and its reasons (README's "Conformance" section repeats it), and the
verdict. It never runs the suite and never relaxes a check that does not need a fixture:
a scenario missing from the list must pass whole, so a new scenario in a suite upgrade
fails until it is classified here.

Usage: summarise.py SET RESULTS_DIR SUITE_LOG
Prints one line per scenario and a closing "SET: N passed, N failed" (scenarios that
apply); exits 1 when any applicable scenario has a failing check.
"""

import glob
import json
import os
import re
import sys

FIXTURE_TOOL = "calls the suite's fixture tool {}, which this server does not have"
FIXTURE_PROMPT = "gets the suite's fixture prompt {}, which this server does not have"
FIXTURE_RESOURCE = "reads the suite's fixture resource {}, which this server does not have"

# scenario -> (reason, check ids allowed to fail; None = the whole scenario).
NOT_APPLICABLE = {
    "completion-complete": (
        "completes an argument of the fixture prompt test_prompt_with_arguments; this server "
        "answers -32602 for a prompt it does not have, as the completion spec says", None),
    "logging-set-level": (
        "this server declares no `logging` capability (it sends no log notifications; its "
        "diagnostics go to stderr), so logging/setLevel is Method not found", None),
    "tools-call-with-logging": (
        FIXTURE_TOOL.format("test_tool_with_logging") + ", after logging/setLevel", None),
    "resources-subscribe": (
        "subscribes to the fixture resource test://watched-resource; this server declares no "
        "`resources.subscribe` capability", None),
    "resources-unsubscribe": (
        "as resources-subscribe", None),
    "resources-read-text": (FIXTURE_RESOURCE.format("test://static-text"), None),
    "resources-read-binary": (FIXTURE_RESOURCE.format("test://static-binary"), None),
    "resources-templates-read": (
        FIXTURE_RESOURCE.format("template test://template/{id}/data"), None),
    "prompts-get-simple": (FIXTURE_PROMPT.format("test_simple_prompt"), None),
    "prompts-get-with-args": (FIXTURE_PROMPT.format("test_prompt_with_arguments"), None),
    "prompts-get-embedded-resource": (
        FIXTURE_PROMPT.format("test_prompt_with_embedded_resource"), None),
    "prompts-get-with-image": (FIXTURE_PROMPT.format("test_prompt_with_image"), None),
    "server-stateless": (
        "four checks call the fixture tools test_missing_capability, "
        "test_streaming_elicitation and test_logging_tool (the suite itself reports them "
        "'Not testable'); every other check must pass",
        {"sep-2575-server-rejects-undeclared-capability",
         "sep-2575-missing-capability-http-400",
         "sep-2575-http-server-no-independent-requests-on-stream",
         "sep-2575-server-no-log-without-loglevel"}),
}
for tool, scenario in [
        ("test_simple_text", "tools-call-simple-text"),
        ("test_image_content", "tools-call-image"),
        ("test_audio_content", "tools-call-audio"),
        ("test_embedded_resource", "tools-call-embedded-resource"),
        ("test_multiple_content_types", "tools-call-mixed-content"),
        ("test_error_handling", "tools-call-error"),
        ("test_tool_with_progress", "tools-call-with-progress"),
        ("test_sampling", "tools-call-sampling"),
        ("test_elicitation", "tools-call-elicitation"),
        ("test_elicitation_sep1034_defaults", "elicitation-sep1034-defaults"),
        ("test_elicitation_sep1330_enums", "elicitation-sep1330-enums")]:
    NOT_APPLICABLE[scenario] = (FIXTURE_TOOL.format(tool), None)
# (input-required-result-unsupported-methods needs no fixture: it must pass.)
for suffix in ["basic-elicitation", "basic-sampling", "basic-list-roots", "request-state",
               "multiple-input-requests", "multi-round", "missing-input-response",
               "non-tool-request", "result-type", "tampered-state", "capability-check",
               "ignore-extra-params", "validate-input"]:
    NOT_APPLICABLE["input-required-result-" + suffix] = (
        "drives the fixture tools and prompt test_input_required_result_* through an "
        "InputRequiredResult exchange; this server never asks the client for input", None)


def scenario_name(result_dir):
    name = os.path.basename(result_dir)
    name = re.sub(r"-\d{4}-\d\d-\d\dT[\d-]+Z$", "", name)
    return re.sub(r"^server-", "", name)


def unscored(log_text):
    """Scenarios the suite ran but says do not count for the requirement set."""
    section = log_text.split("Not scored for", 1)
    if len(section) < 2:
        return {}
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^\s+[✓✗] (\S+) \((.+)\)$", section[1], re.M)}


def main():
    set_name, results, log_path = sys.argv[1:4]
    with open(log_path, encoding="utf-8") as log:
        not_scored = unscored(log.read())
    passed = failed = 0
    lines = []
    found = sorted(glob.glob(os.path.join(results, "*", "checks.json")))
    if not found:
        print(f"{set_name}: the suite wrote no results (see {log_path})")
        return 1
    for path in found:
        scenario = scenario_name(os.path.dirname(path))
        with open(path, encoding="utf-8") as f:
            checks = json.load(f)
        count = {}
        for check in checks:
            count[check["status"]] = count.get(check["status"], 0) + 1
        failing = {c["id"] for c in checks if c["status"] == "FAILURE"}
        tally = (f"{count.get('SUCCESS', 0)} passed, {len(failing)} failed"
                 + "".join(f", {n} {s.lower()}" for s, n in sorted(count.items())
                           if s not in ("SUCCESS", "FAILURE")))
        if scenario in not_scored:
            lines.append(f"  {scenario}: {tally} [not scored: {not_scored[scenario]}]")
            continue
        reason, allowed = NOT_APPLICABLE.get(scenario, (None, set()))
        if allowed is None:
            lines.append(f"  {scenario}: {tally} [not applicable: {reason}]")
            continue
        unexpected = failing - allowed
        ok = not unexpected and count.get("SUCCESS", 0) > 0
        passed, failed = passed + ok, failed + (not ok)
        excused = failing & allowed
        note = f" [{len(excused)} allowed: {reason}]" if excused else ""
        verdict = "PASS" if ok else "FAIL " + ", ".join(sorted(unexpected) or ["no check passed"])
        lines.append(f"  {scenario}: {tally} {verdict}{note}")
    print(f"== conformance {set_name}")
    print("\n".join(lines))
    print(f"{set_name}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
