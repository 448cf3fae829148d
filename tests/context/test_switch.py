"""A thread that switches user between two calls on one kept-alive connection, while the agent
reads its ring buffer 2 s late (--consumer-delay-ms 2000).

Right after each call the program overwrites the scope's memory (heap scopes are also freed,
and stack scopes reuse the same address for the next user), and it rewrites the process
record in place. Each span must carry the user that was current at its SSL_write.
"""

from __future__ import annotations

import collections

import contextcheck

ROUNDS = 6
CONSUMER_DELAY_MS = 2000
LABELS = {"heap scope A", "heap scope B", "stack scope A", "stack scope B", "process A", "process B", "process cleared"}


def test_switch_users_with_delayed_agent(llm_server, agent_with_options, context_client, record_property):
    agent = agent_with_options("--consumer-delay-ms", str(CONSUMER_DELAY_MS))
    mark = llm_server.mark()
    pid, lines = contextcheck.run_client(context_client, llm_server, "switch", str(ROUNDS))
    calls = contextcheck.calls_of(lines)
    # The client has overwritten every scope by now. The agent, which sleeps 2 s before each
    # read of its ring buffer, must not have written all the spans yet, or the delay did not
    # make it lag.
    spans_at_client_exit = len(contextcheck.spans_for_server(agent.spans(), llm_server))
    assert spans_at_client_exit < len(calls), "the agent kept up with the client despite --consumer-delay-ms"
    labels = collections.Counter(call["label"] for call in calls)
    assert labels == {label: ROUNDS for label in LABELS}, f"the client printed labels {dict(labels)}"
    assert len({call["tid"] for call in calls}) == 1, "all calls must come from one thread"

    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls, timeout=60)
    ports = {record["client_port"] for record in records}
    assert len(ports) == 1, f"the calls used {len(ports)} connections, expected one kept-alive connection"
    result = contextcheck.check_calls(spans, records, calls)
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()
