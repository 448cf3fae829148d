"""A program that corrupts its own registry while its threads make calls (registry_fuzz.c).

The agent must keep running, report every call, give each call the user of an intact record
and no user otherwise, report later calls correctly, and exit 0 on SIGTERM. Its final
warning counts the calls it reported without a user because of a bad registry, and those
counts must match the reasons that the program computed for its calls.
"""

from __future__ import annotations

import collections
import os

import contextcheck

PHASES = 48
WORKERS = 4
CHAOS_DURATION_MS = 3000
# A fixed seed by default, so that a failure can be repeated; JAMJET_FUZZ_SEED overrides it.
DEFAULT_SEED = 20240611
# Reasons of registry_fuzz.c that the agent counts under these names in its final warning.
# Reasons without an entry (ok, no_registry, no_context) are not counted as problems.
AGENT_COUNTER_OF_REASON = {
    "bad_header": "bad_header",
    "foreign_registry": "foreign_registry",
    "torn": "torn",
    "read_failed": "read_failed",
    "bad_record": "bad_record",
    "record_invalid": "record_*",
}


def fuzz_seed() -> str:
    return os.environ.get("JAMJET_FUZZ_SEED", str(DEFAULT_SEED))


def run_fuzz(registry_fuzz, llm_server, *arguments: str) -> tuple[int, list[dict], list[dict]]:
    _, lines = contextcheck.run_client(registry_fuzz, llm_server, *arguments, "--seed", fuzz_seed(), "--workers", str(WORKERS))
    assert lines and lines[0].get("event") == "seed", f"the program did not print its seed first: {lines[:1]}"
    seed = lines[0]["seed"]
    print(f"registry_fuzz seed {seed}")
    return seed, lines, contextcheck.calls_of(lines)


def check_agent_still_correct(context_client, llm_server, agent) -> list[dict]:
    """Run a clean program after the fuzzing. Return its calls, whose spans must be exact."""
    _, lines = contextcheck.run_client(context_client, llm_server, "threads", "4", "4")
    return contextcheck.calls_of(lines)


def test_registry_corruption_phases(llm_server, agent, registry_fuzz, context_client, record_property):
    mark = llm_server.mark()
    seed, lines, calls = run_fuzz(registry_fuzz, llm_server, "phases", "--phases", str(PHASES))
    record_property("seed", seed)
    assert len(calls) == PHASES * WORKERS * 2, f"seed {seed}: the program printed {len(calls)} calls"
    later_calls = check_agent_still_correct(context_client, llm_server, agent)
    all_calls = calls + later_calls

    spans, records = contextcheck.collect_spans(agent, llm_server, mark, all_calls, timeout=60)
    result = contextcheck.check_calls(spans, records, all_calls)
    print(f"seed {seed}: {result.summary()}")
    record_property("accuracy", result.summary())
    reasons = collections.Counter(call["expected"]["reason"] for call in calls)
    print(f"seed {seed}: expected outcomes {dict(reasons)}")
    assert not result.missing, f"seed {seed}: " + result.details()
    assert not result.wrong_user, f"seed {seed}: " + result.details()
    assert not result.other, f"seed {seed}: " + result.details()

    # Each kind of outcome occurred, so the run covered what it claims.
    for reason in ("ok", "no_registry", "bad_header", "foreign_registry", "torn", "read_failed", "bad_record", "record_invalid"):
        assert reasons[reason] > 0, f"seed {seed}: no call had outcome {reason}: {dict(reasons)}"

    _, unusable = contextcheck.agent_log_counters(agent)
    agent_counts = collections.Counter()
    for key, value in unusable.items():
        agent_counts["record_*" if key.startswith("record_") else key] += value
    expected_counts = collections.Counter()
    for reason, count in reasons.items():
        if reason in AGENT_COUNTER_OF_REASON:
            expected_counts[AGENT_COUNTER_OF_REASON[reason]] += count
    print(f"seed {seed}: agent counters {unusable}")
    assert agent_counts == expected_counts, f"seed {seed}: the agent counted {dict(agent_counts)} ({unusable}), the program expected {dict(expected_counts)}"


def test_registry_chaos_writes(llm_server, agent, registry_fuzz, context_client, record_property):
    """Random writes without pause: each span has the scope user, the process user or none."""
    mark = llm_server.mark()
    seed, lines, calls = run_fuzz(registry_fuzz, llm_server, "chaos", "--duration-ms", str(CHAOS_DURATION_MS))
    record_property("seed", seed)
    assert len(calls) >= WORKERS, f"seed {seed}: the program printed {len(calls)} calls"
    later_calls = check_agent_still_correct(context_client, llm_server, agent)
    all_calls = calls + later_calls
    spans, records = contextcheck.collect_spans(agent, llm_server, mark, all_calls, timeout=60)

    # Each chaos call allows several users. Expect the one whose source the span reports, so
    # that check_calls compares every attribute of that user.
    sources = {span["attributes"].get("gen_ai.response.id"): span["attributes"].get("jamjet.user.source") for span in spans}
    resolved = []
    for call in all_calls:
        if call["expected"]["source"] == "any":
            options = {option["source"]: option for option in call["expected"]["expected_any"]}
            source = sources.get(call["response_id"])
            call = dict(call, expected=options.get(source, options["none"]))
        resolved.append(call)
    result = contextcheck.check_calls(spans, records, resolved)
    observed = collections.Counter(sources.get(call["response_id"]) for call in calls)
    print(f"seed {seed}: {result.summary()}; sources of chaos calls {dict(observed)}")
    record_property("accuracy", result.summary())
    result.assert_all_correct()
