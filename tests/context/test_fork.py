"""A process that forks with a scope open.

The parent names a process context and enters a scope, then forks twice: once from the main
thread and once from a second thread with a scope of its own. Each child calls under the
scope it inherited, under a new scope, under the inherited process context and under a
process context of its own. The parent calls while its first child calls, and again after
both children exited. Every span must carry the right user and the right process.pid.
"""

from __future__ import annotations

import collections

import contextcheck

CHILD_LABELS = (
    "inherited scope",
    "new scope",
    "inherited scope after its own",
    "inherited process context",
    "own process context",
)


def test_fork_keeps_users_per_process(llm_server, agent, context_client, record_property):
    mark = llm_server.mark()
    parent_pid, lines = contextcheck.run_client(context_client, llm_server, "fork")
    calls = contextcheck.calls_of(lines)

    pids = collections.defaultdict(set)
    for call in calls:
        pids[call["label"].split(":")[0]].add(call["pid"])
    assert pids["parent"] == {parent_pid}, f"parent calls came from pids {pids['parent']}"
    child_pids = pids["child of main"] | pids["child of thread"]
    assert len(pids["child of main"]) == 1, f"child calls came from pids {dict(pids)}"
    assert len(pids["child of thread"]) == 1, f"child calls came from pids {dict(pids)}"
    assert len(child_pids) == 2, f"child pids {child_pids}, parent {parent_pid}"
    assert parent_pid not in child_pids, f"child pids {child_pids}, parent {parent_pid}"
    for child in ("child of main", "child of thread"):
        labels = [call["label"] for call in calls if call["label"].startswith(child + ":")]
        assert labels == [f"{child}: {label}" for label in CHILD_LABELS], f"{child} printed {labels}"

    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls)
    result = contextcheck.check_calls(spans, records, calls)
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()
