"""The end-user id in the request body, used when the application named no user.

OpenAI bodies name it in safety_identifier (preferred) or user, Anthropic bodies in
metadata.user_id. A scope or a process context beats the body.
"""

from __future__ import annotations

import json
from pathlib import Path

import contextcheck
import harness
import llm_requests


def curl_command(server: harness.LLMServer, provider: str, body: dict, directory: Path) -> list[str]:
    """Return a curl command that POSTs `body`, with its headers in a config file (-K), so that
    the API key stays out of the command line, which the agent may report."""
    headers = ["Content-Type: application/json"]
    if provider == "openai":
        headers.append(f"Authorization: Bearer {harness.API_KEY}")
    else:
        headers += [f"x-api-key: {harness.API_KEY}", f"anthropic-version: {llm_requests.ANTHROPIC_VERSION}"]
    config = directory / f"{provider}.curlrc"
    config.write_text("".join(f'header = "{header}"\n' for header in headers))
    url = server.base_url() + llm_requests.endpoint_path(provider)
    return [harness.CURL, "-sS", "--max-time", "30", "--cacert", str(server.cert), "-K", str(config), "--data-binary", json.dumps(body), url]


def test_body_user_fallback_and_precedence(llm_server, agent, context_client, record_property):
    mark = llm_server.mark()
    _, lines = contextcheck.run_client(context_client, llm_server, "body")
    calls = contextcheck.calls_of(lines)
    sources = [call["expected"]["source"] for call in calls]
    assert sources.count("request_body") == 6, f"expected sources {sources}"
    assert sources.count("scope") == 3, f"expected sources {sources}"
    assert sources.count("process") == 2, f"expected sources {sources}"
    assert sources.count("none") == 1, f"expected sources {sources}"

    spans, records = contextcheck.collect_spans(agent, llm_server, mark, calls)
    result = contextcheck.check_calls(spans, records, calls)
    print(result.summary())
    record_property("accuracy", result.summary())
    result.assert_all_correct()


def test_body_user_without_sdk(llm_server, agent, tmp_path):
    """curl, which never loads the SDK, sending OpenAI and Anthropic bodies that name a user."""
    mark = llm_server.mark()
    bodies = {
        "openai": dict(harness.chat_body("openai"), user="u-body-curl"),
        "anthropic": dict(harness.chat_body("anthropic"), metadata={"user_id": "u-body-curl-anthropic"}),
    }
    expected = {
        "openai": {"source": "request_body", "user_id": "u-body-curl", "source_field": "user"},
        "anthropic": {"source": "request_body", "user_id": "u-body-curl-anthropic", "source_field": "metadata.user_id"},
    }
    for provider, body in bodies.items():
        harness.run_process(curl_command(llm_server, provider, body, tmp_path))
    records = llm_server.wait_for_records(mark, 2)
    contextcheck.wait_for_span_count(agent, llm_server, 2)
    spans = contextcheck.stop_agent(agent, llm_server)
    assert len(spans) == 2, f"{len(spans)} spans for 2 curl calls"
    by_id = {span["attributes"].get("gen_ai.response.id"): span for span in spans}
    for record in records:
        span = by_id.get(record["response_id"])
        assert span is not None, f"no span for {record['provider']} response {record['response_id']}"
        problems = contextcheck.user_mismatches(span, expected[record["provider"]])
        assert not problems, f"{record['provider']}: " + "; ".join(problems)
