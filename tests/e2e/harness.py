"""Handles of the test server and the agent, and functions that run the clients."""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
CLIENTS_DIR = E2E_DIR / "clients"
NODE_DIR = E2E_DIR / "node"
PYTHON = "/usr/bin/python3"
NODE = "/usr/bin/node"
CURL = "/usr/bin/curl"
OPENSSL = "/usr/bin/openssl"

sys.path.insert(0, str(CLIENTS_DIR))
import llm_requests  # noqa: E402 (needs the path above)
import spancheck  # noqa: E402

# Fake API key, different in every session. The agent must never write it anywhere.
API_KEY = "sk-test-SECRET-" + secrets.token_hex(12)
# Text that must appear neither in the span file nor in the agent's logs, compared
# without regard to case. The clients send the key as Authorization or x-api-key and in
# a Cookie header.
SECRET_MARKERS = ("sk-test-SECRET", API_KEY, "authorization", "bearer ", "cookie", "key=")

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-3-5-haiku-latest"
MODELS = {"openai": OPENAI_MODEL, "anthropic": ANTHROPIC_MODEL}

AGENT_READY_TIMEOUT_S = 60
SPAN_TIMEOUT_S = 30
AGENT_STOP_TIMEOUT_S = 20
CLIENT_TIMEOUT_S = 60
POLL_INTERVAL_S = 0.05


def tail(path: Path, max_chars: int = 6000) -> str:
    """Return the end of a log file for a failure message."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace")
    return text[-max_chars:] if text else "(empty)"


# The test server.


class LLMServer:
    """Handle of the running llm_server.py subprocess and its records file."""

    def __init__(self, port: int, cert: Path, records_path: Path, log_path: Path):
        self.port = port
        self.cert = cert
        self.records_path = records_path
        self.log_path = log_path

    def base_url(self, scenario: str = "", host: str = "127.0.0.1") -> str:
        """Return the URL that clients put before /v1. A scenario selects the response framing."""
        prefix = f"/s/{scenario}" if scenario else ""
        return f"https://{host}:{self.port}{prefix}"

    def records(self) -> list[dict]:
        if not self.records_path.exists():
            return []
        lines = self.records_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line]

    def mark(self) -> int:
        """Return the number of records so far, for a later records_since(mark)."""
        return len(self.records())

    def records_since(self, mark: int) -> list[dict]:
        return self.records()[mark:]

    def wait_for_records(self, mark: int, count: int, timeout: float = SPAN_TIMEOUT_S) -> list[dict]:
        """Poll until `count` records follow `mark`, then return exactly those."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.records_since(mark)
            if len(records) >= count:
                assert len(records) == count, f"the server recorded {len(records)} exchanges, expected {count}"
                return records
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {count} server records, got {len(records)}; server log:\n{tail(self.log_path)}")
            time.sleep(POLL_INTERVAL_S)


# The agent.


class Agent:
    """One run of the agent under test, writing spans to its own file."""

    def __init__(self, binary: Path, directory: Path, extra_args: tuple = (), env: dict | None = None):
        self.binary = binary
        self.extra_args = tuple(extra_args)
        self.env = env
        self.server_port: int | None = None  # when set, spans() keeps only calls to this port
        self.spans_path = directory / "spans.jsonl"
        self.ready_path = directory / "ready"
        self.stderr_path = directory / "agent.stderr"
        self.stdout_path = directory / "agent.stdout"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Agent":
        """Start the agent and wait until it reports that its probes are attached."""
        command = [
            str(self.binary), "--output", f"file:{self.spans_path}",
            "--ready-file", str(self.ready_path), "--log-level", "debug", *self.extra_args,
        ]  # fmt: skip
        with open(self.stdout_path, "wb") as stdout, open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=self.env
            )
        deadline = time.monotonic() + AGENT_READY_TIMEOUT_S
        while not self.ready_path.exists():
            if self.process.poll() is not None:
                pytest.fail(
                    f"the agent exited with {self.process.returncode} before it created its ready file "
                    f"(could it not load its BPF programs?); command: {' '.join(command)}\nstderr:\n{tail(self.stderr_path)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {AGENT_READY_TIMEOUT_S} s waiting for the agent's ready file {self.ready_path}; stderr:\n{tail(self.stderr_path)}")
            time.sleep(POLL_INTERVAL_S)
        return self

    def spans(self) -> list[dict]:
        """Return the spans written so far, leaving out a last line that has no newline yet."""
        if not self.spans_path.exists():
            return []
        spans = []
        for number, line in enumerate(self.spans_path.read_text().split("\n")[:-1], start=1):
            try:
                span = json.loads(line)
            except json.JSONDecodeError as error:
                pytest.fail(f"line {number} of the span file is not valid JSON ({error}): {line[:500]!r}")
            # The agent traces the whole host: calls that other programs make to other servers
            # are theirs. Spans without a server port stay, so garbage spans still fail tests.
            port = span.get("attributes", {}).get("server.port")
            if self.server_port is not None and isinstance(port, int) and port != self.server_port:
                continue
            spans.append(span)
        return spans

    def wait_for_spans(self, count: int, timeout: float = SPAN_TIMEOUT_S) -> list[dict]:
        """Poll the span file until it contains at least `count` spans, and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if len(spans) >= count:
                return spans
            if self.process.poll() is not None:
                pytest.fail(f"the agent exited with {self.process.returncode} while the test waited for spans; stderr:\n{tail(self.stderr_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {count} spans, got {len(spans)}; agent stderr:\n{tail(self.stderr_path)}")
            time.sleep(POLL_INTERVAL_S)

    def terminate(self) -> int:
        """Send SIGTERM and return the exit code. Fail, after SIGKILL, if the agent does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=AGENT_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the agent did not exit within {AGENT_STOP_TIMEOUT_S} s of SIGTERM; stderr:\n{tail(self.stderr_path)}")
        return self.process.returncode

    def stop(self) -> list[dict]:
        """Stop the agent with SIGTERM and return every span it wrote.

        Asserts that it exits 0 and that no secret appears in its spans or logs.
        """
        returncode = self.terminate()
        assert returncode == 0, f"the agent exited with {returncode} after SIGTERM; stderr:\n{tail(self.stderr_path)}"
        self.assert_no_secrets()
        return self.spans()

    def assert_no_secrets(self) -> None:
        for path in (self.spans_path, self.stderr_path, self.stdout_path):
            if not path.exists():
                continue
            text = path.read_text(errors="replace").lower()
            for marker in SECRET_MARKERS:
                position = text.find(marker.lower())
                excerpt = text[max(0, position - 200) : position + 200]
                assert position < 0, f"{path.name} contains {marker!r}: ...{excerpt}..."


# Clients.


def run_process(command: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[int, str]:
    """Run a client to completion and return its pid and stdout. Fail on a non-zero exit."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    try:
        stdout, stderr = process.communicate(timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"client timed out after {CLIENT_TIMEOUT_S} s: {' '.join(command)}")
    assert process.returncode == 0, f"client exited with {process.returncode}: {' '.join(command)}\nstderr:\n{stderr[-4000:]}"
    return process.pid, stdout


def curl_command(server: LLMServer, provider: str, body: dict | Path, scenario: str = "", extra: tuple = ()) -> list[str]:
    """Return a curl command line that POSTs `body`, a JSON object or a file that contains one."""
    headers = ["-H", "Content-Type: application/json", "-H", f"Cookie: session={API_KEY}-cookie"]
    if provider == "openai":
        headers += ["-H", f"Authorization: Bearer {API_KEY}"]
    else:
        headers += ["-H", f"x-api-key: {API_KEY}", "-H", f"anthropic-version: {llm_requests.ANTHROPIC_VERSION}"]
    url = server.base_url(scenario) + llm_requests.endpoint_path(provider)
    data = f"@{body}" if isinstance(body, Path) else json.dumps(body)
    return [CURL, "-sS", "--max-time", "30", "--cacert", str(server.cert), *headers, *extra, "--data-binary", data, url]


def chat_body(provider: str, stream: bool = False, include_usage: bool = False, prompt: str = "Say hello.") -> dict:
    body = {"model": MODELS[provider], "messages": [{"role": "user", "content": prompt}]}
    if provider == "anthropic":
        body["max_tokens"] = 256
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def run_python_client(server: LLMServer, script: str, provider: str, *options: str, scenario: str = "") -> dict:
    """Run a Python client script to completion and return its JSON output."""
    command = [
        PYTHON, str(CLIENTS_DIR / script), "--base-url", server.base_url(scenario), "--provider", provider,
        "--model", MODELS[provider], "--api-key", API_KEY, "--cacert", str(server.cert), *options,
    ]  # fmt: skip
    pid, stdout = run_process(command)
    output = json.loads(stdout)
    assert output["pid"] == pid, f"client reported pid {output['pid']}, but subprocess started pid {pid}"
    return output


def run_node_client(server: LLMServer, provider: str, *options: str, scenario: str = "") -> dict:
    """Run a Node SDK client to completion and return its JSON output."""
    script = "openai_client.mjs" if provider == "openai" else "anthropic_client.mjs"
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.fail(f"{NODE_DIR}/node_modules is missing; run 'npm ci' in {NODE_DIR}")
    command = [
        NODE, str(NODE_DIR / script), "--base-url", server.base_url(scenario),
        "--model", MODELS[provider], "--api-key", API_KEY, *options,
    ]  # fmt: skip
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(server.cert))
    pid, stdout = run_process(command, env=env, cwd=NODE_DIR)
    output = json.loads(stdout)
    assert output["pid"] == pid, f"client reported pid {output['pid']}, but subprocess started pid {pid}"
    return output


def client_of(output: dict, peer_required: bool) -> spancheck.Client:
    """Return the Client that a client script's JSON output describes."""
    return spancheck.Client(
        pid=output["pid"], comm=output["comm"], thread_id=output["thread_id"], peer_required=peer_required
    )


def response_ids(output: dict) -> list:
    return [response["id"] for response in output["responses"]]


def read_json_line(process: subprocess.Popen, timeout: float = CLIENT_TIMEOUT_S) -> dict:
    """Read one JSON line from a client's stdout pipe, failing after `timeout` seconds.

    A reader thread does the blocking readline, because select() on a buffered text pipe misses
    a second line that arrived in the same read as the first.
    """
    result: dict = {}
    reader = threading.Thread(target=lambda: result.update(line=process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        pytest.fail(f"timed out after {timeout} s waiting for output of client pid {process.pid}")
    line = result["line"]
    assert line, f"client pid {process.pid} closed stdout (exit code {process.poll()})"
    return json.loads(line)


def collect_and_check(agent: Agent, server: LLMServer, mark: int, count: int, client_for) -> tuple[list[dict], list[dict]]:
    """Wait for `count` exchanges and their spans, stop the agent, and check every span.

    `client_for(record)` returns the spancheck.Client that sent the record's request.
    Returns the spans and the records.
    """
    records = server.wait_for_records(mark, count)
    agent.wait_for_spans(count)
    spans = agent.stop()
    spancheck.check_spans(spans, records, {record["seq"]: client_for(record) for record in records})
    return spans, records
