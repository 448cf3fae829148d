"""Checks of the test server and every client, without the agent.

These tests need neither root nor JAMJET_AGENT: run them alone with
`/usr/bin/python3 -m pytest tests/e2e -m no_agent`. They show that a failure in the
agent tests is not caused by the server or a client.
"""

import json
import subprocess

import pytest

import llm_requests
from harness import (
    API_KEY,
    CLIENTS_DIR,
    MODELS,
    PYTHON,
    chat_body,
    curl_command,
    response_ids,
    run_node_client,
    run_process,
    run_python_client,
)

pytestmark = pytest.mark.no_agent

PROVIDERS = ("openai", "anthropic")


def check_records(records: list[dict], ids: list, provider: str, stream: bool, status: int = 200) -> None:
    assert [record["response_id"] for record in records] == ids
    for record in records:
        assert record["provider"] == provider
        assert record["request_model"] == MODELS[provider]
        assert record["stream"] is stream
        assert record["status"] == status
        assert record["server_port"] == record["local_port"]
        if status == 200:
            assert record["finish_reasons"] == (["stop"] if provider == "openai" else ["end_turn"])
        else:
            assert record["error_type"] in ("rate_limit_exceeded", "rate_limit_error")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_curl_against_server(llm_server, provider, stream):
    mark = llm_server.mark()
    _, stdout = run_process(curl_command(llm_server, provider, chat_body(provider, stream, include_usage=True)))
    records = llm_server.wait_for_records(mark, 1)
    check_records(records, [llm_requests.response_id(provider, 200, stdout.encode(), stream)], provider, stream)
    usage = records[0]["usage"]
    assert usage is not None
    assert len(set(usage.values())) == len(usage), f"token counts should differ from each other: {usage}"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("scenario", ["gzip", "close", "chunked"])
def test_curl_scenarios(llm_server, provider, scenario):
    mark = llm_server.mark()
    _, stdout = run_process(curl_command(llm_server, provider, chat_body(provider), scenario, extra=("--compressed",)))
    records = llm_server.wait_for_records(mark, 1)
    check_records(records, [json.loads(stdout)["id"]], provider, stream=False)
    assert records[0]["scenario"] == scenario
    assert records[0]["content_encoding"] == ("gzip" if scenario == "gzip" else None)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_curl_rate_limit(llm_server, provider):
    mark = llm_server.mark()
    _, stdout = run_process(curl_command(llm_server, provider, chat_body(provider), "429", extra=("-D", "-")))
    records = llm_server.wait_for_records(mark, 1)
    check_records(records, [None], provider, stream=False, status=429)
    assert "retry-after: 1" in stdout.lower()
    error_type = records[0]["error_type"]
    assert f'"type": "{error_type}"' in stdout


def test_openai_stream_usage_only_when_requested(llm_server):
    mark = llm_server.mark()
    run_python_client(llm_server, "python_httpx.py", "openai", "--stream")
    run_python_client(llm_server, "python_httpx.py", "openai", "--stream", "--include-usage")
    without_usage, with_usage = llm_server.wait_for_records(mark, 2)
    assert without_usage["usage"] is None
    assert with_usage["usage"]["gen_ai.usage.input_tokens"] > 0


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_httpx_against_server(llm_server, provider, mode):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_httpx.py", provider, "--mode", mode, "--count", "3", "--stream")
    records = llm_server.wait_for_records(mark, 3)
    assert output["comm"] == "python3"
    assert output["thread_id"] == output["pid"]
    assert sorted(str(record["response_id"]) for record in records) == sorted(map(str, response_ids(output)))
    check_records(sorted(records, key=lambda r: r["response_id"]), sorted(response_ids(output)), provider, stream=True)
    if mode == "sync":
        assert len({record["client_port"] for record in records}) == 1, "the sync client should reuse one connection"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_urllib_against_server(llm_server, provider):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_urllib.py", provider, "--count", "2")
    records = llm_server.wait_for_records(mark, 2)
    check_records(records, response_ids(output), provider, stream=False)


def test_urllib_rate_limit(llm_server):
    mark = llm_server.mark()
    output = run_python_client(llm_server, "python_urllib.py", "anthropic", scenario="429")
    records = llm_server.wait_for_records(mark, 1)
    assert output["responses"] == [{"status": 429, "id": None}]
    check_records(records, [None], "anthropic", stream=False, status=429)


def test_http_client_pauses_on_one_connection(llm_server):
    mark = llm_server.mark()
    command = [
        PYTHON, str(CLIENTS_DIR / "python_http_client.py"), "--base-url", llm_server.base_url(), "--provider", "openai",
        "--model", MODELS["openai"], "--api-key", API_KEY, "--cacert", str(llm_server.cert),
        "--count-before", "1", "--count", "2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        before = json.loads(process.stdout.readline())
        assert len(llm_server.wait_for_records(mark, 1)) == 1
        process.stdin.write("continue\n")
        process.stdin.flush()
        after = json.loads(process.stdout.readline())
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    records = llm_server.wait_for_records(mark, 3)
    check_records(records, response_ids(before) + response_ids(after), "openai", stream=False)
    assert len({record["client_port"] for record in records}) == 1


def test_large_prompt_against_server(llm_server):
    mark = llm_server.mark()
    run_python_client(llm_server, "python_httpx.py", "openai", "--prompt-bytes", str(1100 * 1024))
    (record,) = llm_server.wait_for_records(mark, 1)
    assert record["request_body_bytes"] > 1024 * 1024


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_node_sdk_against_server(llm_server, provider, stream):
    mark = llm_server.mark()
    options = ["--stream", "--include-usage"] if stream and provider == "openai" else ["--stream"] if stream else []
    output = run_node_client(llm_server, provider, *options)
    records = llm_server.wait_for_records(mark, 1)
    assert output["comm"] == "node"
    check_records(records, response_ids(output), provider, stream)
    assert records[0]["usage"] is not None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_node_sdk_gzip(llm_server, provider):
    mark = llm_server.mark()
    output = run_node_client(llm_server, provider, scenario="gzip")
    records = llm_server.wait_for_records(mark, 1)
    check_records(records, response_ids(output), provider, stream=False)
    assert records[0]["content_encoding"] == "gzip", "the SDK's fetch should accept gzip"


def test_curl_expect_continue(llm_server, tmp_path):
    body_path = tmp_path / "body.json"
    body_path.write_text(json.dumps(chat_body("openai", prompt="x" * (1100 * 1024))))
    mark = llm_server.mark()
    _, stdout = run_process(curl_command(llm_server, "openai", body_path))
    (record,) = llm_server.wait_for_records(mark, 1)
    assert record["expect_continue"] is True
    assert record["response_id"] == json.loads(stdout)["id"]
