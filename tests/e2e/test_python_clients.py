"""Spans of requests sent by Python clients: httpx (sync and asyncio), urllib and http.client."""

import subprocess

import pytest

from harness import (
    API_KEY,
    CLIENTS_DIR,
    MODELS,
    PYTHON,
    client_of,
    collect_and_check,
    read_json_line,
    response_ids,
    run_python_client,
)

PROVIDERS = ("openai", "anthropic")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_httpx_sync(llm_server, agent, provider):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", provider, "--count", "2")
    _, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, peer_required=True))
    assert [record["response_id"] for record in records] == response_ids(output)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_httpx_async_streams(llm_server, agent, provider):
    """Four concurrent streams from one asyncio event loop."""
    mark = llm_server.mark()
    output = run_python_client(
        llm_server, "python_httpx.py", provider, "--mode", "async", "--stream", "--include-usage", "--count", "4"
    )
    # The agent may not map the sockets of asyncio clients, so network.peer.* is optional.
    _, records = collect_and_check(agent, llm_server, mark, 4, lambda record: client_of(output, peer_required=False))
    assert sorted(record["response_id"] for record in records) == sorted(response_ids(output))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_urllib(llm_server, agent, provider):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_urllib.py", provider, "--count", "2")
    _, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, peer_required=True))
    assert [record["response_id"] for record in records] == response_ids(output)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_mebibyte_prompt(llm_server, agent, provider):
    """A request body over 1 MiB: the span is complete and reports no truncation."""
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", provider, "--prompt-bytes", str(1100 * 1024))
    spans, records = collect_and_check(agent, llm_server, mark, 1, lambda record: client_of(output, peer_required=True))
    assert records[0]["request_body_bytes"] > 1024 * 1024
    assert "jamjet.http.request.body_truncated" not in spans[0]["attributes"]
    assert "jamjet.http.response.body_truncated" not in spans[0]["attributes"]


def test_twenty_requests_one_connection(llm_server, agent):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", "openai", "--count", "20")
    spans, records = collect_and_check(agent, llm_server, mark, 20, lambda record: client_of(output, peer_required=True))
    assert len({record["client_port"] for record in records}) == 1, "httpx.Client should reuse one connection"
    assert sorted(span["attributes"]["gen_ai.response.id"] for span in spans) == sorted(response_ids(output))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_connection_opened_before_agent(llm_server, agent_factory, provider):
    """A keep-alive connection with one exchange before the agent starts and three after.

    Only the three later exchanges get spans, and nothing else is reported for the
    connection (no span for the earlier exchange, no span from a partial parse).
    """
    mark = llm_server.mark()
    command = [
        PYTHON, str(CLIENTS_DIR / "python_http_client.py"), "--base-url", llm_server.base_url(),
        "--provider", provider, "--model", MODELS[provider], "--api-key", API_KEY,
        "--cacert", str(llm_server.cert), "--count-before", "1", "--count", "3",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        before = read_json_line(process)
        agent = agent_factory()
        agent.server_port = llm_server.port
        process.stdin.write("continue\n")
        process.stdin.flush()
        after = read_json_line(process)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    records = llm_server.wait_for_records(mark, 4)
    assert len({record["client_port"] for record in records}) == 1, "all four requests should share one connection"
    assert records[0]["response_id"] == response_ids(before)[0]
    # The agent did not see this connection being opened, so network.peer.* is optional.
    later_mark = mark + 1
    _, later = collect_and_check(agent, llm_server, later_mark, 3, lambda record: client_of(after, peer_required=False))
    assert [record["response_id"] for record in later] == response_ids(after)
