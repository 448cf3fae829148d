"""The Python binding (sdk/python) under the real agent: every span carries its request's user."""

from __future__ import annotations

import random
import subprocess

import pytest

import spancheck
from bindings_harness import (
    PYTHON_DIR,
    PYTHON_SDK_DIR,
    expected_from_calls,
    llm_options,
    make_users,
    python_env,
    run_json,
    running_app,
    scoped,
    send_chat_requests,
)
from bindings_harness import check_user_spans as check
from harness import PYTHON

REQUESTS = 200
USERS = 50


def app_command(script: str, server, *options: str) -> list[str]:
    return [PYTHON, str(PYTHON_DIR / script), *llm_options(server), "--cacert", str(server.cert), *options]


def chat_plan(users: list[dict], count: int) -> list[tuple[dict, dict]]:
    """Requests from the users in turn: random delays, every third one streamed, both providers."""
    return [
        (users[number % len(users)], {"provider": ("openai", "anthropic")[number % 2], "stream": number % 3 == 0, "delay_ms": random.randint(0, 50)})
        for number in range(count)
    ]


@pytest.mark.parametrize("connections", [0, 2], ids=["default_pool", "two_connections"])
def test_fastapi_async_middleware(agent, llm_server, sdk_library, tmp_path, connections):
    users = make_users(USERS)
    plan = chat_plan(users, REQUESTS)
    mark = llm_server.mark()
    command = app_command("fastapi_app.py", llm_server, "--connections", str(connections))
    with running_app(command, python_env(sdk_library), tmp_path, PYTHON_DIR) as (port, pid):
        answers = send_chat_requests(port, plan)
    for (user, _), answer in zip(plan, answers):
        assert answer["user_id"] == user["user_id"], f"the handler saw {answer['user_id']}, expected {user['user_id']}"
    expected = {answer["id"]: scoped(user) for (user, _), answer in zip(plan, answers)}
    assert len(expected) == REQUESTS, "response ids repeat"
    client = spancheck.Client(pid=pid, comm="python3", thread_id=pid, peer_required=False)
    check(agent, llm_server, mark, expected, client.pid, client, f"python fastapi, {connections or 'default'} connections")


def test_threaded_server(agent, llm_server, sdk_library, tmp_path):
    users = make_users(USERS)
    plan = chat_plan(users, 100)
    mark = llm_server.mark()
    with running_app(app_command("threaded_app.py", llm_server), python_env(sdk_library), tmp_path, PYTHON_DIR) as (port, pid):
        answers = send_chat_requests(port, plan)
    for (user, _), answer in zip(plan, answers):
        assert answer["registry_user_id"] == user["user_id"], "the thread's registry slot held another user inside the scope"
    assert len({answer["thread_id"] for answer in answers}) > 1, "the requests should run on several threads"
    expected = {answer["id"]: scoped(user) for (user, _), answer in zip(plan, answers)}
    # thread.id differs per request, so only the user attributes are checked.
    check(agent, llm_server, mark, expected, pid, None, "python threaded server")


@pytest.mark.parametrize("scenario", ["cli", "precedence"])
def test_python_scenario(agent, llm_server, sdk_library, scenario):
    mark = llm_server.mark()
    output = run_json(app_command("scenarios.py", llm_server, scenario), python_env(sdk_library), PYTHON_DIR)
    expected = expected_from_calls(output)
    check(agent, llm_server, mark, expected, output["pid"], None, f"python {scenario}")


INVALID_INPUT_CHECK = r"""
import json
from jamjet.cloud import get_user_context, set_user_context, with_user_context

cases = {
    "not a dict": 5,
    "missing user_id": {"email": "a@example.com"},
    "empty user_id": {"user_id": ""},
    "numeric user_id": {"user_id": 42},
    "unknown field": {"userId": "u"},
    "numeric email": {"user_id": "u", "email": 7},
    "nested attrs": {"user_id": "u", "attrs": {"address": {"city": "Oslo"}}},
    "list attr": {"user_id": "u", "attrs": {"tags": ["a"]}},
    "None attr": {"user_id": "u", "attrs": {"plan": None}},
    "nan attr": {"user_id": "u", "attrs": {"score": float("nan")}},
    "huge int attr": {"user_id": "u", "attrs": {"seats": 2**60}},
    "attrs not dict": {"user_id": "u", "attrs": "plan=pro"},
    "invalid key": {"user_id": "u", "attrs": {"9lives": 1}},
    "long user_id": {"user_id": "x" * 129},
    "too many attrs": {"user_id": "u", "attrs": {f"k{i}": i for i in range(17)}},
    "surrogate": {"user_id": "u\ud800"},
}
errors = {}
for name, ctx in cases.items():
    for api, function in (("with_user_context", with_user_context), ("set_user_context", set_user_context)):
        try:
            function(ctx)
            errors[f"{api}: {name}"] = None
        except (TypeError, ValueError) as error:
            errors[f"{api}: {name}"] = {"type": type(error).__name__, "message": str(error)}
errors["context after"] = get_user_context()
print(json.dumps(errors))
"""

FIELDS = {
    "not a dict": ("TypeError", "ctx must be a dict"),
    "missing user_id": ("ValueError", "ctx['user_id']"),
    "empty user_id": ("ValueError", "ctx['user_id']"),
    "numeric user_id": ("TypeError", "ctx['user_id']"),
    "unknown field": ("TypeError", "ctx['userId']"),
    "numeric email": ("TypeError", "ctx['email']"),
    "nested attrs": ("TypeError", "ctx['attrs']['address']"),
    "list attr": ("TypeError", "ctx['attrs']['tags']"),
    "None attr": ("TypeError", "ctx['attrs']['plan']"),
    "nan attr": ("ValueError", "ctx['attrs']['score']"),
    "huge int attr": ("ValueError", "ctx['attrs']['seats']"),
    "attrs not dict": ("TypeError", "ctx['attrs']"),
    "invalid key": ("ValueError", '"9lives"'),
    "long user_id": ("ValueError", "ctx['user_id']"),
    "too many attrs": ("ValueError", "ctx['attrs']"),
    "surrogate": ("ValueError", "ctx['user_id']"),
}


@pytest.mark.parametrize("case", sorted(FIELDS))
def test_python_invalid_input(sdk_library, case):
    completed = subprocess.run([PYTHON, "-c", INVALID_INPUT_CHECK], env=python_env(sdk_library), capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    import json

    errors = json.loads(completed.stdout)
    expected_type, field = FIELDS[case]
    for api in ("with_user_context", "set_user_context"):
        error = errors[f"{api}: {case}"]
        assert error is not None, f"{api}: {case} raised no error"
        assert error["type"] == expected_type, f"{api}: {case} raised {error['type']}: {error['message']}"
        assert field in error["message"], f"{api}: {case}: message {error['message']!r} does not name {field}"
        assert error["message"].startswith(f"{api}: "), error["message"]
    assert errors["context after"] is None


def test_python_library_not_found(tmp_path):
    env = {"JAMJET_SDK_LIB": str(tmp_path / "missing.so"), "PYTHONPATH": str(PYTHON_SDK_DIR), "PATH": "/usr/bin:/bin"}
    script = "from jamjet.cloud import with_user_context, LibraryNotFoundError\ntry:\n    with_user_context({'user_id': 'u'})\nexcept LibraryNotFoundError as error:\n    print(error)\n"
    completed = subprocess.run([PYTHON, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "missing.so" in completed.stdout
    assert "JAMJET_SDK_LIB" in completed.stdout


@pytest.mark.no_agent
def test_python_fastapi_without_agent(llm_server, sdk_library, tmp_path):
    """The application works unchanged when no agent runs."""
    users = make_users(10)
    plan = chat_plan(users, 40)
    mark = llm_server.mark()
    with running_app(app_command("fastapi_app.py", llm_server), python_env(sdk_library), tmp_path, PYTHON_DIR) as (port, _):
        answers = send_chat_requests(port, plan)
    records = llm_server.wait_for_records(mark, len(plan))
    assert sorted(answer["id"] for answer in answers) == sorted(record["response_id"] for record in records)
    assert [answer["user_id"] for answer in answers] == [user["user_id"] for user, _ in plan]


@pytest.mark.no_agent
def test_python_threaded_without_agent(llm_server, sdk_library, tmp_path):
    users = make_users(5)
    plan = chat_plan(users, 20)
    with running_app(app_command("threaded_app.py", llm_server), python_env(sdk_library), tmp_path, PYTHON_DIR) as (port, _):
        answers = send_chat_requests(port, plan)
    assert [answer["registry_user_id"] for answer in answers] == [user["user_id"] for user, _ in plan]
