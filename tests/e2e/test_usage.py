"""Token usage in spans: OpenAI streams with and without usage, Anthropic cache tokens."""

import pytest

from harness import client_of, collect_and_check, run_python_client

USAGE_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "cost_usd",
)


def test_openai_stream_with_usage(llm_server, agent):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", "openai", "--stream", "--include-usage", "--count", "2")
    spans, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, peer_required=True))
    for span, record in zip(sorted(spans, key=lambda s: s["attributes"]["gen_ai.response.id"]), sorted(records, key=lambda r: r["response_id"])):
        body_usage = record["body_usage"]
        attributes = span["attributes"]
        assert attributes["gen_ai.usage.input_tokens"] == body_usage["prompt_tokens"]
        assert attributes["gen_ai.usage.output_tokens"] == body_usage["completion_tokens"]
        assert attributes["gen_ai.usage.cache_read.input_tokens"] == body_usage["prompt_tokens_details"]["cached_tokens"]
        assert attributes["gen_ai.usage.reasoning.output_tokens"] == body_usage["completion_tokens_details"]["reasoning_tokens"]


def test_openai_stream_without_usage(llm_server, agent):
    """A stream without stream_options.include_usage has no usage: the keys are absent, not 0."""
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", "openai", "--stream", "--count", "2")
    spans, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, peer_required=True))
    assert all(record["usage"] is None for record in records)
    for span in spans:
        present = [key for key in USAGE_KEYS if key in span["attributes"]]
        assert not present, f"usage attributes {present} on a stream that reported no usage"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_anthropic_cache_tokens(llm_server, agent, stream):
    """gen_ai.usage.input_tokens counts uncached input plus cache reads plus cache writes."""
    mark = llm_server.mark()
    options = ["--stream"] if stream else []
    output = run_python_client(llm_server, "python_httpx.py", "anthropic", *options, "--count", "2")
    spans, records = collect_and_check(agent, llm_server, mark, 2, lambda record: client_of(output, peer_required=True))
    for record in records:
        (span,) = [span for span in spans if span["attributes"]["gen_ai.response.id"] == record["response_id"]]
        body_usage = record["body_usage"]
        attributes = span["attributes"]
        total = body_usage["input_tokens"] + body_usage["cache_read_input_tokens"] + body_usage["cache_creation_input_tokens"]
        assert attributes["gen_ai.usage.input_tokens"] == total
        assert attributes["gen_ai.usage.cache_read.input_tokens"] == body_usage["cache_read_input_tokens"]
        assert attributes["gen_ai.usage.cache_creation.input_tokens"] == body_usage["cache_creation_input_tokens"]
        # For streams, the last cumulative message_delta count, not the sum of all deltas.
        assert attributes["gen_ai.usage.output_tokens"] == body_usage["output_tokens"]
