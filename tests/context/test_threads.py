"""A thread pool that serves requests for different users, traced by the real agent.

Each thread makes its calls on one keep-alive connection (one libcurl easy handle) under a
per-request scope, nested scopes, no scope (the process context), or a scope without an
email. The main thread calls before the threads start (process context) and after it
cleared the process context (no user). Every span must carry exactly the expected user.
"""

from __future__ import annotations

import collections

import contextcheck

THREADS = 32
REQUESTS_PER_THREAD = 10
# Labels that context_client prints, one per attribution case.
THREAD_LABELS = {"scope", "nested inner", "nested outer after inner", "no scope", "scope without email"}
MAIN_LABELS = {"main before threads", "main after clearing"}


def run_thread_pool(program, llm_server, agent, threads: int, requests: int, record_property) -> contextcheck.CheckResult:
    mark = llm_server.mark()
    pid, lines = contextcheck.run_client(program, llm_server, "threads", str(threads), str(requests))
    calls = contextcheck.calls_of(lines)
    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls)
    result = contextcheck.check_calls(spans, records, calls)
    print(f"{program.name}, {threads} threads x {requests} requests: {result.summary()}")
    record_property("accuracy", result.summary())

    labels = collections.Counter(call["label"] for call in calls)
    assert set(labels) == THREAD_LABELS | MAIN_LABELS, f"the client printed labels {dict(labels)}"
    assert {call["pid"] for call in calls} == {pid}, "every call must come from the client process"
    thread_ids = {call["tid"] for call in calls if call["label"] in THREAD_LABELS}
    assert len(thread_ids) == threads, f"calls came from {len(thread_ids)} threads, expected {threads}"
    sources = collections.Counter(call["expected"]["source"] for call in calls)
    assert sources["none"] == 1, f"expected sources {dict(sources)}"
    return result


def test_thread_pool_users(llm_server, agent, context_client, record_property):
    result = run_thread_pool(context_client, llm_server, agent, THREADS, REQUESTS_PER_THREAD, record_property)
    assert result.total >= THREADS * REQUESTS_PER_THREAD, result.summary()
    result.assert_all_correct()


def test_thread_pool_shared_library(llm_server, agent, context_client_shared, record_property):
    """The same program linked with libjamjet.so instead of libjamjet.a."""
    result = run_thread_pool(context_client_shared, llm_server, agent, 8, 6, record_property)
    result.assert_all_correct()
