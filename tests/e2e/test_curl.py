"""Spans of requests sent by the curl command-line tool (one process per request)."""

import json
import subprocess

import pytest

import llm_requests
from harness import CLIENT_TIMEOUT_S, chat_body, collect_and_check, curl_command, run_process
from spancheck import Client

PROVIDERS = ("openai", "anthropic")


def curl_client(pid: int) -> Client:
    # curl makes its TLS calls on its main thread, and the agent can map its socket.
    return Client(pid=pid, comm="curl", thread_id=pid, peer_required=True)


def test_curl_openai_json(llm_server, agent):
    mark = llm_server.mark()
    pid, stdout = run_process(curl_command(llm_server, "openai", chat_body("openai")))
    _, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["response_id"] == json.loads(stdout)["id"]


def test_curl_anthropic_stream(llm_server, agent):
    mark = llm_server.mark()
    pid, stdout = run_process(curl_command(llm_server, "anthropic", chat_body("anthropic", stream=True)))
    _, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["response_id"] == llm_requests.response_id("anthropic", 200, stdout.encode(), stream=True)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_curl_gzip_response(llm_server, agent, provider):
    mark = llm_server.mark()
    command = curl_command(llm_server, provider, chat_body(provider), scenario="gzip", extra=("--compressed",))
    pid, _ = run_process(command)
    _, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["content_encoding"] == "gzip"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_curl_rate_limit_error(llm_server, agent, provider):
    mark = llm_server.mark()
    pid, _ = run_process(curl_command(llm_server, provider, chat_body(provider), scenario="429"))
    spans, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["status"] == 429
    attributes = spans[0]["attributes"]
    assert spans[0]["status"]["code"] == "error"
    assert attributes["http.response.status_code"] == 429
    assert attributes["error.type"] == ("rate_limit_exceeded" if provider == "openai" else "rate_limit_error")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("scenario", ["close", "chunked"])
def test_curl_response_framing(llm_server, agent, provider, stream, scenario):
    mark = llm_server.mark()
    pid, _ = run_process(curl_command(llm_server, provider, chat_body(provider, stream, include_usage=True), scenario))
    _, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["scenario"] == scenario


def test_curl_large_body_expect_continue(llm_server, agent, tmp_path):
    """A 1.1 MiB body: curl sends Expect: 100-continue, so a 100 response precedes the real one."""
    body_path = tmp_path / "body.json"
    body_path.write_text(json.dumps(chat_body("openai", prompt="x" * (1100 * 1024))))
    mark = llm_server.mark()
    pid, _ = run_process(curl_command(llm_server, "openai", body_path))
    spans, records = collect_and_check(agent, llm_server, mark, 1, lambda record: curl_client(pid))
    assert records[0]["request_body_bytes"] > 1024 * 1024
    assert records[0]["expect_continue"] is True
    assert "jamjet.http.request.body_truncated" not in spans[0]["attributes"]


def test_hundred_curl_processes(llm_server, agent):
    """100 one-shot curl processes, 10 at a time: every request gets a span with its own pid."""
    mark = llm_server.mark()
    pid_by_response_id = {}
    for batch_start in range(0, 100, 10):
        batch = []
        for index in range(batch_start, batch_start + 10):
            provider = PROVIDERS[index % 2]
            body = chat_body(provider, prompt=f"curl request {index}")
            process = subprocess.Popen(curl_command(llm_server, provider, body), stdout=subprocess.PIPE, text=True)
            batch.append((provider, process))
        for provider, process in batch:
            stdout, _ = process.communicate(timeout=CLIENT_TIMEOUT_S)
            assert process.returncode == 0, f"curl pid {process.pid} exited with {process.returncode}"
            pid_by_response_id[json.loads(stdout)["id"]] = process.pid
    assert len(set(pid_by_response_id.values())) == 100
    spans, _ = collect_and_check(
        agent, llm_server, mark, 100, lambda record: curl_client(pid_by_response_id[record["response_id"]])
    )
    assert len({span["attributes"]["process.pid"] for span in spans}) == 100
