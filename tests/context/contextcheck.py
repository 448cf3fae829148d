"""Runs the C test programs and checks the agent's spans against the users they expected.

Each program prints one JSON line per call (see llm_call.h, print_call_line) with the
response id it received and the user that the span must report under "expected":
{"source": "scope" | "process" | "request_body" | "none", "user_id", "user_email", "attrs",
"source_field"}. check_calls pairs the lines with the spans by gen_ai.response.id, compares the
user attributes exactly (types too), and checks every other field with the e2e spancheck.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

import harness
import spancheck

# Attributes that carry the user. Any other user_attrs.* key is one too.
USER_KEYS = {"user_id", "user_email", "user.id", "user.email", "jamjet.user.source", "jamjet.user.source_field"}
USER_ATTRS_PREFIX = "user_attrs."


def is_user_key(key: str) -> bool:
    return key in USER_KEYS or key.startswith(USER_ATTRS_PREFIX)


def client_command(program: Path, server: harness.LLMServer, mode: str, *arguments: str) -> list[str]:
    return [str(program), "--port", str(server.port), "--cacert", str(server.cert), mode, *arguments]


def client_environment() -> dict:
    """Return the environment of a test program: this one plus the fake API key it sends."""
    return dict(os.environ, JAMJET_TEST_API_KEY=harness.API_KEY)


def parse_lines(stdout: str) -> list[dict]:
    lines = []
    for number, line in enumerate(stdout.splitlines(), start=1):
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError as error:
            pytest.fail(f"line {number} of the client's output is not JSON ({error}): {line[:300]!r}")
    return lines


def run_client(program: Path, server: harness.LLMServer, mode: str, *arguments: str) -> tuple[int, list[dict]]:
    """Run a test program to completion. Return its pid and its JSON lines."""
    pid, stdout = harness.run_process(client_command(program, server, mode, *arguments), env=client_environment())
    return pid, parse_lines(stdout)


def calls_of(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("event") == "call"]


def spans_for_server(spans: list[dict], server: harness.LLMServer) -> list[dict]:
    """Return the spans of calls to this test server.

    The agent traces every process on the host, so spans of other programs that call other
    servers at the same time (another test run, for example) are left out.
    """
    return [span for span in spans if span["attributes"].get("server.port") == server.port]


def wait_for_span_count(agent: harness.Agent, server: harness.LLMServer, count: int, timeout: float = harness.SPAN_TIMEOUT_S) -> int:
    """Poll the span file until it holds `count` spans for `server` or `timeout` passes.

    Return the count seen. Unlike Agent.wait_for_spans this does not fail on a timeout, so
    that a test can still report which spans are missing.
    """
    deadline = time.monotonic() + timeout
    while True:
        seen = len(spans_for_server(agent.spans(), server))
        if seen >= count or time.monotonic() > deadline:
            return seen
        if agent.process.poll() is not None:
            pytest.fail(f"the agent exited with {agent.process.returncode} while the test waited for spans; stderr:\n{harness.tail(agent.stderr_path)}")
        time.sleep(harness.POLL_INTERVAL_S)


def expected_user_attributes(expected: dict) -> dict:
    """Return every user attribute that a span with this expected user must carry, and no other."""
    source = expected["source"]
    attributes: dict = {"jamjet.user.source": source}
    if source in ("scope", "process"):
        attributes["user_id"] = attributes["user.id"] = expected["user_id"]
        if "user_email" in expected:
            attributes["user_email"] = attributes["user.email"] = expected["user_email"]
        for key, value in expected["attrs"].items():
            attributes[USER_ATTRS_PREFIX + key] = value
    elif source == "request_body":
        attributes["user_id"] = attributes["user.id"] = expected["user_id"]
        attributes["jamjet.user.source_field"] = expected["source_field"]
    else:
        assert source == "none", f"unknown expected source {source!r}"
    return attributes


def user_value_equal(actual, expected) -> bool:
    """Compare a user attribute: strings and booleans exactly, numbers by value as any JSON number."""
    if isinstance(expected, bool) or isinstance(expected, str):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and float(actual) == float(expected)
    return False


def user_mismatches(span: dict, expected: dict) -> list[str]:
    """Return one message per user attribute of the span that differs from the expected user."""
    actual = {key: value for key, value in span["attributes"].items() if is_user_key(key)}
    wanted = expected_user_attributes(expected)
    problems = []
    for key in sorted(set(actual) | set(wanted)):
        if key not in actual:
            problems.append(f"{key} is missing (expected {wanted[key]!r})")
        elif key not in wanted:
            problems.append(f"unexpected {key}={actual[key]!r}")
        elif not user_value_equal(actual[key], wanted[key]):
            problems.append(f"{key} is {actual[key]!r}, expected {wanted[key]!r}")
    return problems


def without_user(span: dict, record: dict) -> tuple[dict, dict]:
    """Return copies of the span and record for spancheck.check_span, which expects no user.

    The span keeps every attribute but the user ones, plus jamjet.user.source "none", and the
    record loses its body_end_user, so spancheck checks all the other fields exactly.
    """
    attributes = {key: value for key, value in span["attributes"].items() if not is_user_key(key)}
    attributes["jamjet.user.source"] = "none"
    return dict(span, attributes=attributes), dict(record, body_end_user=None)


@dataclasses.dataclass
class CheckResult:
    total: int = 0
    correct: int = 0
    # Calls that no span reports.
    missing: list = dataclasses.field(default_factory=list)
    # One message per span whose user is wrong.
    wrong_user: list = dataclasses.field(default_factory=list)
    # Other failures: fields other than the user, extra spans, unexpected exchanges.
    other: list = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.correct}/{self.total} spans with exactly the expected user, {len(self.missing)} missing, "
            f"{len(self.wrong_user)} with a wrong user, {len(self.other)} other problems"
        )

    def details(self, limit: int = 20) -> str:
        lines = [self.summary()]
        lines += [f"missing span: {json.dumps(call)}" for call in self.missing[:limit]]
        lines += self.wrong_user[:limit] + self.other[:limit]
        return "\n".join(lines)

    def assert_all_correct(self) -> None:
        assert not self.missing, self.details()
        assert not self.wrong_user, self.details()
        assert not self.other, self.details()
        assert self.correct == self.total, self.details()


def check_calls(spans: list[dict], records: list[dict], calls: list[dict], peer_required=lambda call: True) -> CheckResult:
    """Pair every call line with its span and server record, and check both.

    `peer_required(call)` says whether the span must carry network.peer.*.
    """
    result = CheckResult(total=len(calls))
    spans_by_id: dict[str, dict] = {}
    for span in spans:
        response_id = span["attributes"].get("gen_ai.response.id")
        if response_id is None:
            result.other.append(f"span without gen_ai.response.id: {spancheck.describe_span(span)}")
        elif response_id in spans_by_id:
            result.other.append(f"two spans report gen_ai.response.id {response_id}")
        else:
            spans_by_id[response_id] = span
    records_by_id = {record["response_id"]: record for record in records}
    call_ids = {call["response_id"] for call in calls}
    if len(call_ids) != len(calls):
        result.other.append("the client printed a response id twice")

    for call in calls:
        span = spans_by_id.get(call["response_id"])
        if span is None:
            result.missing.append(call)
            continue
        label = f"pid {call['pid']} tid {call['tid']} {call['label']!r} ({call['response_id']})"
        record = records_by_id.get(call["response_id"])
        if record is None:
            result.other.append(f"{label}: the server has no record of this response id")
            continue
        client = spancheck.Client(pid=call["pid"], comm=call["comm"], thread_id=call["tid"], peer_required=peer_required(call))
        try:
            spancheck.check_span(*without_user(span, record), client)
        except AssertionError as error:
            result.other.append(f"{label}: {error}")
        problems = user_mismatches(span, call["expected"])
        if problems:
            result.wrong_user.append(f"{label}: expected {json.dumps(call['expected'])}: " + "; ".join(problems))
        else:
            result.correct += 1

    for response_id in sorted(set(spans_by_id) - call_ids):
        result.other.append(f"span for a response no call printed: {spancheck.describe_span(spans_by_id[response_id])}")
    for response_id in sorted(set(records_by_id) - call_ids):
        result.other.append(f"the server answered {response_id}, which no call printed")
    return result


def collect_spans(agent: harness.Agent, server: harness.LLMServer, mark: int, calls: list[dict], timeout: float = harness.SPAN_TIMEOUT_S) -> tuple[list[dict], list[dict]]:
    """Wait for the server records and spans of `calls`, stop the agent (exit code 0) and return
    both. Only spans of calls to `server` are returned."""
    records = server.wait_for_records(mark, len(calls), timeout=timeout)
    wait_for_span_count(agent, server, len(calls), timeout=timeout)
    spans = stop_agent(agent, server)
    return spans, records


def stop_agent(agent: harness.Agent, server: harness.LLMServer) -> list[dict]:
    """Stop the agent with SIGTERM, require exit code 0 and no secret in its output, and return
    the spans of calls to `server`.

    Agent.stop checks every span for words such as "authorization", but the agent also
    reports other programs that run on the host meanwhile, whose command lines may contain
    them. So those words are looked for only in the spans of this test's calls, and this
    session's API key everywhere.
    """
    returncode = agent.terminate()
    assert returncode == 0, f"the agent exited with {returncode} after SIGTERM; stderr:\n{harness.tail(agent.stderr_path)}"
    spans = spans_for_server(agent.spans(), server)
    for path in (agent.spans_path, agent.stderr_path, agent.stdout_path):
        text = path.read_text(errors="replace") if path.exists() else ""
        assert harness.API_KEY not in text, f"{path.name} contains the API key"
    text = "\n".join(json.dumps(span) for span in spans).lower()
    for marker in harness.SECRET_MARKERS:
        position = text.find(marker.lower())
        assert position < 0, f"a span contains {marker!r}: ...{text[max(0, position - 200) : position + 200]}..."
    return spans


def agent_log_counters(agent: harness.Agent) -> tuple[dict, dict]:
    """Return the counters of the agent's "final:" log line and of its final warning about
    calls reported without a user (empty when it logged none)."""
    text = agent.stderr_path.read_text(errors="replace")
    final: dict = {}
    unusable: dict = {}
    for line in text.splitlines():
        if " final: calls reported without a user because the registry was unusable:" in line:
            unusable = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.split("unusable:", 1)[1])}
        elif " final: spans=" in line:
            final = {key: value for key, value in re.findall(r"(\w+)=([\w.]+)", line.split(" final: ", 1)[1])}
    return final, unusable


def start_process(command: list[str]) -> subprocess.Popen:
    """Start a test program with pipes for stdin and stdout, for programs that wait for a signal."""
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client_environment())


def read_lines_until(process: subprocess.Popen, event: str, timeout: float = harness.CLIENT_TIMEOUT_S) -> tuple[list[dict], bytes]:
    """Read JSON lines from a started program up to and including the line of `event`.

    Return the lines and any bytes read after that line. This reads the pipe's file
    descriptor directly: select() on a buffered file object can wait for lines that its
    buffer already holds.
    """
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    lines = []
    while True:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            lines.append(parse_lines(line.decode())[0])
            if lines[-1].get("event") == event:
                return lines, buffer
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([descriptor], [], [], max(0.0, remaining))
        if not ready:
            pytest.fail(f"timed out after {timeout} s waiting for the {event!r} line of test program pid {process.pid}; lines so far: {lines}")
        chunk = os.read(descriptor, 65536)
        if not chunk:
            stderr = process.stderr.read().decode(errors="replace")
            pytest.fail(f"test program pid {process.pid} closed stdout before its {event!r} line (exit code {process.wait()}); stderr:\n{stderr[-4000:]}")
        buffer += chunk


def finish_process(process: subprocess.Popen, already_read: bytes = b"") -> list[dict]:
    """Wait for a started program to exit 0 and return the JSON lines it printed after what
    read_lines_until returned."""
    try:
        stdout, stderr = process.communicate(timeout=harness.CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"test program pid {process.pid} timed out after {harness.CLIENT_TIMEOUT_S} s")
    assert process.returncode == 0, f"test program pid {process.pid} exited with {process.returncode}; stderr:\n{stderr.decode(errors='replace')[-4000:]}"
    return parse_lines((already_read + stdout).decode())
