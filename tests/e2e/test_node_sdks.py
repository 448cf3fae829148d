"""Spans of requests sent by the official openai and @anthropic-ai/sdk packages under Node."""

import pytest

from harness import client_of, collect_and_check, response_ids, run_node_client

# The agent may not map the sockets of Node clients, so network.peer.* is optional.
PEER_REQUIRED = False


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_node_openai(llm_server, agent, stream):
    mark = llm_server.mark()
    options = ["--stream", "--include-usage"] if stream else []
    output = run_node_client(llm_server, "openai", *options, "--count", "2")
    _, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, PEER_REQUIRED))
    assert [record["response_id"] for record in records] == response_ids(output)
    assert all(record["usage"] for record in records)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_node_anthropic(llm_server, agent, stream):
    mark = llm_server.mark()
    options = ["--stream"] if stream else []
    output = run_node_client(llm_server, "anthropic", *options, "--count", "2")
    _, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, PEER_REQUIRED))
    assert [record["response_id"] for record in records] == response_ids(output)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_node_gzip_response(llm_server, agent, provider):
    mark = llm_server.mark()
    output = run_node_client(llm_server, provider, scenario="gzip")
    _, records = collect_and_check(agent, llm_server, mark, 1, lambda record: client_of(output, PEER_REQUIRED))
    assert records[0]["content_encoding"] == "gzip"
