"""Running the binding test applications and checking the user attributes of their spans."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import spancheck
from harness import API_KEY, SECRET_MARKERS, SPAN_TIMEOUT_S, Agent, LLMServer, tail

BINDINGS_DIR = Path(__file__).resolve().parent
NODE_DIR = BINDINGS_DIR / "node"
PYTHON_DIR = BINDINGS_DIR / "python"
PYTHON_SDK_DIR = BINDINGS_DIR.parent.parent / "sdk" / "python"

APP_START_TIMEOUT_S = 30
APP_REQUEST_TIMEOUT_S = 120

# Span attributes that the agent derives from the user context.
USER_KEYS = ("user_id", "user.id", "user_email", "user.email", "jamjet.user.source", "jamjet.user.source_field")
USER_ATTR_PREFIX = "user_attrs."


def node_env(server: LLMServer) -> dict:
    return dict(os.environ, NODE_EXTRA_CA_CERTS=str(server.cert))


def python_env(sdk_library: Path) -> dict:
    env = dict(os.environ, JAMJET_SDK_LIB=str(sdk_library), PYTHONPATH=f"{PYTHON_SDK_DIR}:{PYTHON_DIR}")
    if os.environ.get("JAMJET_SANITIZER_PRELOAD"):
        # The sanitizer build's SDK inside an uninstrumented python3 needs the ASan runtime
        # loaded first; leak checks would report python3's own allocations.
        env["LD_PRELOAD"] = os.environ["JAMJET_SANITIZER_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def llm_options(server: LLMServer) -> list[str]:
    return ["--base-url", server.base_url(), "--api-key", API_KEY]


@contextmanager
def running_app(command: list[str], env: dict, directory: Path, cwd: Path):
    """Start a test application that writes its port to --port-file; yield (port, pid)."""
    port_file = directory / "port"
    log_path = directory / "app.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*command, "--port-file", str(port_file)], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + APP_START_TIMEOUT_S
        while not port_file.exists():
            if process.poll() is not None:
                pytest.fail(f"the application exited with {process.returncode} before listening:\n{tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for the application to listen:\n{tail(log_path)}")
            time.sleep(0.05)
        yield int(port_file.read_text()), process.pid
        assert process.poll() is None, f"the application exited with {process.returncode}:\n{tail(log_path)}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def make_users(count: int) -> list[dict]:
    """Users in the binding's neutral form: user_id, email, attrs (plan, seats, admin)."""
    return [
        {
            "user_id": f"u-{index:02d}-{random.getrandbits(32):08x}",
            "email": f"user{index}@example.com",
            "attrs": {"plan": ("free", "pro", "enterprise")[index % 3], "seats": index * 7 + 1, "admin": index % 4 == 0},
        }
        for index in range(count)
    ]


def user_headers(user: dict, number: int) -> dict:
    return {
        "x-user-id": user["user_id"],
        "x-user-email": user["email"],
        "x-user-plan": user["attrs"]["plan"],
        "x-user-seats": str(user["attrs"]["seats"]),
        "x-user-admin": "true" if user["attrs"]["admin"] else "false",
        "x-request-number": str(number),
    }


def send_chat_requests(port: int, plan: list[tuple[dict, dict]]) -> list[dict]:
    """POST every (user, body) of plan to the application's /chat at once; return the JSON responses in order."""

    async def send_all() -> list[dict]:
        limits = httpx.Limits(max_connections=len(plan), max_keepalive_connections=len(plan))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=APP_REQUEST_TIMEOUT_S, limits=limits) as client:

            async def send(number: int, user: dict, body: dict) -> dict:
                response = await client.post("/chat", json=body, headers=user_headers(user, number))
                assert response.status_code == 200, f"request {number} of user {user['user_id']} failed: {response.status_code} {response.text[:2000]}"
                return response.json()

            return await asyncio.gather(*(send(number, user, body) for number, (user, body) in enumerate(plan)))

    return asyncio.run(send_all())


def scoped(user: dict) -> dict:
    return {"source": "scope", **user}


def normalize_expected(expected: dict) -> dict:
    """Accept the Node scenarios' camelCase users (userId) as well as user_id."""
    normalized = {"source": expected["source"]}
    user_id = expected.get("user_id", expected.get("userId"))
    if user_id is not None:
        normalized["user_id"] = user_id
    if expected.get("email"):
        normalized["email"] = expected["email"]
    normalized["attrs"] = dict(expected.get("attrs") or {})
    return normalized


def user_attribute_errors(attributes: dict, expected: dict) -> list[str]:
    """Return how the span's user attributes differ from the expected user (empty when they match)."""
    expected = normalize_expected(expected)
    errors = []

    def compare(key: str, value) -> None:
        if key not in attributes:
            errors.append(f"{key} is missing (expected {value!r})")
        elif not spancheck.values_equal(attributes[key], value):
            errors.append(f"{key} is {attributes[key]!r}, expected {value!r}")

    compare("jamjet.user.source", expected["source"])
    if "user_id" in expected:
        compare("user_id", expected["user_id"])
        compare("user.id", expected["user_id"])
    else:
        for key in ("user_id", "user.id"):
            if key in attributes:
                errors.append(f"{key} is {attributes[key]!r}, expected no user")
    if "email" in expected:
        compare("user_email", expected["email"])
        compare("user.email", expected["email"])
    else:
        for key in ("user_email", "user.email"):
            if key in attributes:
                errors.append(f"{key} is {attributes[key]!r}, expected no email")
    expected_attrs = {}
    for key, value in expected["attrs"].items():
        # The record stores numbers as doubles, so the span reports them as floats.
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        expected_attrs[USER_ATTR_PREFIX + key] = float(value) if is_number else value
    for key, value in expected_attrs.items():
        compare(key, value)
    unexpected = sorted(key for key in attributes if key.startswith(USER_ATTR_PREFIX) and key not in expected_attrs)
    if unexpected:
        errors.append(f"unexpected attributes {unexpected}")
    if expected["source"] == "request_body":
        if "jamjet.user.source_field" not in attributes:
            errors.append("jamjet.user.source_field is missing for a request_body user")
    elif "jamjet.user.source_field" in attributes:
        errors.append(f"jamjet.user.source_field is {attributes['jamjet.user.source_field']!r} for a {expected['source']} user")
    return errors


def wait_for_process_spans(agent: Agent, pid: int, count: int, timeout: float = SPAN_TIMEOUT_S) -> None:
    """Poll until the agent has written `count` spans of process `pid`."""
    deadline = time.monotonic() + timeout
    while len(spans_of(agent.spans(), pid)) < count:
        if agent.process.poll() is not None:
            pytest.fail(f"the agent exited with {agent.process.returncode} while the test waited for spans; stderr:\n{tail(agent.stderr_path)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {count} spans of pid {pid}, got {len(spans_of(agent.spans(), pid))}")
        time.sleep(0.05)


def spans_of(spans: list[dict], pid: int) -> list[dict]:
    """Return the spans of one process. The agent traces every process on the machine."""
    return [span for span in spans if span["attributes"].get("process.pid") == pid]


def assert_no_secrets(spans: list[dict]) -> None:
    """Assert that no span of the application contains the fake API key or a credential header.

    Only the application's spans are searched, because other processes on the machine also
    get spans from the same agent.
    """
    text = json.dumps(spans).lower()
    for marker in SECRET_MARKERS:
        position = text.find(marker.lower())
        assert position < 0, f"a span contains {marker!r}: ...{text[max(0, position - 200) : position + 200]}..."


def check_user_spans(
    agent: Agent, server: LLMServer, mark: int, expected_by_id: dict, pid: int, client: spancheck.Client | None, label: str
) -> tuple[int, int]:
    """Wait for one span per expected response, stop the agent, and check every span of `pid`.

    Every span of the application's process must match one server record
    (spancheck.match_spans, no extra spans) and carry exactly its request's user. When
    `client` is given, the rest of the span is checked too (spancheck.check_span). Returns
    (correct, total) and fails unless all are correct.
    """
    records = server.wait_for_records(mark, len(expected_by_id))
    wait_for_process_spans(agent, pid, len(expected_by_id))
    returncode = agent.terminate()
    assert returncode == 0, f"the agent exited with {returncode} after SIGTERM; stderr:\n{tail(agent.stderr_path)}"
    spans = spans_of(agent.spans(), pid)
    assert_no_secrets(spans)
    pairs = spancheck.match_spans(spans, records)
    failures = []
    correct = 0
    for span, record in pairs:
        response_id = record["response_id"]
        assert response_id in expected_by_id, f"{label}: the server sent {response_id}, which no application call reported"
        errors = user_attribute_errors(span["attributes"], expected_by_id[response_id])
        if errors:
            failures.append(f"{response_id} (expected {normalize_expected(expected_by_id[response_id])}): " + "; ".join(errors))
        else:
            correct += 1
        if client is not None:
            # The user attributes were checked above. check_span expects those of a call
            # without a user context, so it gets them in their place.
            other = {key: value for key, value in span["attributes"].items() if key not in USER_KEYS and not key.startswith(USER_ATTR_PREFIX)}
            required, _ = spancheck.expected_attributes(record, client)
            other.update({key: value for key, value in required.items() if key in USER_KEYS})
            spancheck.check_span({**span, "attributes": other}, record, client)
    total = len(pairs)
    print(f"attribution accuracy {label}: {correct}/{total}")
    assert not failures, f"{label}: {len(failures)} of {total} spans carry the wrong user:\n" + "\n".join(failures[:20])
    return correct, total


def run_json(command: list[str], env: dict, cwd: Path, timeout: float = APP_REQUEST_TIMEOUT_S) -> dict:
    """Run a scenario to completion and return its JSON output. Fail on a non-zero exit."""
    completed = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert completed.returncode == 0, f"{' '.join(command)} exited with {completed.returncode}:\n{completed.stderr[-4000:]}"
    return json.loads(completed.stdout)


def expected_from_calls(output: dict) -> dict:
    ids = [call["id"] for call in output["calls"]]
    assert all(ids), f"a call returned no response id: {output['calls']}"
    assert len(set(ids)) == len(ids), "two calls returned the same response id"
    return {call["id"]: call["expected"] for call in output["calls"]}

