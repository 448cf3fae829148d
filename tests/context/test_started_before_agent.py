"""Registries that exist before the agent starts, and registries mapped away from the
preferred address ("moved" registries).

The agent must find registries that processes created before it started: at the preferred
address, and elsewhere through /proc/PID/maps when something else occupies the preferred
address. For a process started after the agent, it finds a registry mapped elsewhere by
rescanning the process's maps at 20 ms, 200 ms, 1 s and 5 s after its exec
(agent/binary_discovery.cc, kRescanDelaysMs).
"""

from __future__ import annotations

import time

import pytest

import contextcheck

# How long after the agent the late programs start.
LATE_START_S = 2.0


def run_waiting_program(command: list[str], llm_server, start_agent):
    """Start the program, read lines up to its ready line, start the agent, then let the
    program call. Return the program's lines, its calls, their spans and the server records.
    """
    mark_before = llm_server.mark()
    process = contextcheck.start_process(command)
    agent = None
    try:
        lines, rest = contextcheck.read_lines_until(process, "ready")
        # Calls made before the agent started: the server records them, but no agent traced them.
        unseen = sum(1 for line in lines if "response_id" in line)
        llm_server.wait_for_records(mark_before, unseen)
        agent = start_agent()
        process.stdin.write(b"go\n")
        process.stdin.flush()
        lines += contextcheck.finish_process(process, rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    calls = contextcheck.calls_of(lines)
    spans, records = contextcheck.collect_spans(agent, llm_server, mark_before + unseen, calls)
    return lines, calls, spans, records


def test_contexts_set_before_agent(llm_server, agent_factory, context_client, record_property):
    command = contextcheck.client_command(context_client, llm_server, "wait")
    lines, calls, spans, records = run_waiting_program(command, llm_server, agent_factory)
    assert len(calls) == 4, f"the program printed {lines}"
    # The main thread's connection was opened before the agent started.
    result = contextcheck.check_calls(spans, records, calls, peer_required=lambda call: not call["label"].startswith("main:"))
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()


def fallback_registry_address(lines: list[dict]) -> int:
    registry = [line for line in lines if line.get("event") == "registry"]
    assert len(registry) == 1, f"the program printed {lines}"
    return registry[0]["address"]


def test_moved_registry_before_agent(llm_server, agent_factory, context_client, record_property):
    command = contextcheck.client_command(context_client, llm_server, "fallback", "--wait")
    lines, calls, spans, records = run_waiting_program(command, llm_server, agent_factory)
    assert fallback_registry_address(lines) != 0x3A5A00000000
    assert len(calls) == 2, f"the program printed {lines}"
    result = contextcheck.check_calls(spans, records, calls)
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()


def test_moved_registry_with_decoy(llm_server, agent_factory, context_client, record_property):
    """A well-formed registry naming the user "decoy" sits at the preferred address, so an agent
    that reads there instead of the real registry reports the wrong user, not just none."""
    command = contextcheck.client_command(context_client, llm_server, "fallback", "--wait", "--decoy")
    lines, calls, spans, records = run_waiting_program(command, llm_server, agent_factory)
    assert fallback_registry_address(lines) != 0x3A5A00000000
    result = contextcheck.check_calls(spans, records, calls)
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()


def call_time_ms(call: dict) -> float:
    """Return the time of a fallback call, which its label states ("scope at 412 ms")."""
    return float(call["label"].split(" at ")[1].split()[0])


def run_late_program(llm_server, agent, context_client, registry_delay_ms: int, call_times_ms: str, found_after_ms: float, record_property):
    """Start the fallback program LATE_START_S after the agent, with its registry created
    registry_delay_ms after its start, calling at call_times_ms (comma-separated).

    Calls from found_after_ms on must carry the user. Earlier calls may come before the rescan
    that finds the registry: each must carry the user or no user, never a wrong one, and
    which one it got is printed and recorded.
    """
    time.sleep(LATE_START_S)
    mark = llm_server.mark()
    _, lines = contextcheck.run_client(
        context_client, llm_server, "fallback", "--registry-delay-ms", str(registry_delay_ms), "--call-at-ms", call_times_ms
    )
    calls = contextcheck.calls_of(lines)
    assert len(calls) == 2 * len(call_times_ms.split(",")), f"the program printed {lines}"
    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls)
    sources = {span["attributes"].get("gen_ai.response.id"): span["attributes"].get("jamjet.user.source") for span in spans}

    allowed = []
    for call in calls:
        if call_time_ms(call) < found_after_ms and sources.get(call["response_id"]) == "none":
            call = dict(call, expected={"source": "none"})
        allowed.append(call)
    outcomes = ", ".join(f"{call['label']}: source {sources.get(call['response_id'])}" for call in calls)
    summary = f"registry created at {lines[0]['elapsed_ms']} ms; {outcomes}"
    print(summary)
    record_property("outcomes", summary)
    contextcheck.check_calls(spans, records, allowed).assert_all_correct()


def test_moved_registry_after_agent(llm_server, agent, context_client, record_property):
    """The registry exists from the program's start, so the 20 ms or 200 ms rescan finds it:
    calls from 400 ms on must carry the user."""
    run_late_program(llm_server, agent, context_client, 0, "0,400,6000", 400, record_property)


def test_moved_registry_between_rescans(llm_server, agent, context_client, record_property):
    """The registry appears 1.5 s after the program's start, between the 1 s and 5 s rescans.

    Calls after the 5 s rescan must carry the user. Calls at 1.6 s come before the agent can
    know where the registry is.
    """
    run_late_program(llm_server, agent, context_client, 1500, "1600,6000", 5000, record_property)


# The agent copies the parent's registry address to the child at fork (sched_process_fork).
@pytest.mark.parametrize("decoy", [False, True], ids=["plain", "decoy"])
def test_fork_of_moved_registry(llm_server, agent, context_client, record_property, decoy):
    """A process whose registry is away from the preferred address forks after the agent has
    found it. The child inherits the registry at the same address and calls with its
    inherited scope and process context, without exec, so no exec-time rescan covers it.
    With a decoy registry at the preferred address, reading there gives a wrong user."""
    mark = llm_server.mark()
    options = ["--call-at-ms", "400", "--fork"] + (["--decoy"] if decoy else [])
    _, lines = contextcheck.run_client(context_client, llm_server, "fallback", *options)
    calls = contextcheck.calls_of(lines)
    assert len(calls) == 4, f"the program printed {lines}"
    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls)
    result = contextcheck.check_calls(spans, records, calls)
    print(result.details())
    record_property("accuracy", result.summary())
    result.assert_all_correct()
