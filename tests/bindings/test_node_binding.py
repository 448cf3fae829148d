"""The Node binding (sdk/node) under the real agent: every span carries its request's user."""

from __future__ import annotations

import random

import pytest

import spancheck
from bindings_harness import (
    NODE_DIR,
    expected_from_calls,
    llm_options,
    make_users,
    node_env,
    run_json,
    running_app,
    scoped,
    send_chat_requests,
)
from bindings_harness import check_user_spans as check
from harness import NODE

REQUESTS = 200
USERS = 50


def express_command(server, connections: int = 0) -> list[str]:
    return [NODE, str(NODE_DIR / "express_app.mjs"), *llm_options(server), "--connections", str(connections)]


def chat_plan(users: list[dict], provider: str, modes=("direct",)) -> list[tuple[dict, dict]]:
    """200 requests from 50 users: random delays, every third one streamed."""
    return [
        (users[number % len(users)], {"provider": provider, "stream": number % 3 == 0, "delayMs": random.randint(0, 50), "mode": modes[number % len(modes)]})
        for number in range(REQUESTS)
    ]


def run_express(agent, llm_server, node_modules, tmp_path, provider: str, connections: int = 0, modes=("direct",)):
    users = make_users(USERS)
    plan = chat_plan(users, provider, modes)
    mark = llm_server.mark()
    with running_app(express_command(llm_server, connections), node_env(llm_server), tmp_path, NODE_DIR) as (port, pid):
        answers = send_chat_requests(port, plan)
    for (user, _), answer in zip(plan, answers):
        assert answer["userId"] == user["user_id"], f"the handler saw {answer['userId']} in its scope, expected {user['user_id']}"
    expected = {answer["id"]: scoped(user) for (user, _), answer in zip(plan, answers)}
    assert len(expected) == REQUESTS, "response ids repeat"
    client = spancheck.Client(pid=pid, comm="node", thread_id=pid, peer_required=False)
    return expected, mark, client


def test_express_openai(agent, llm_server, node_modules, tmp_path):
    expected, mark, client = run_express(agent, llm_server, node_modules, tmp_path, "openai")
    check(agent, llm_server, mark, expected, client.pid, client, "node express openai")


def test_express_openai_pool_of_two(agent, llm_server, node_modules, tmp_path):
    """An undici Agent with 2 sockets: most requests queue for a socket."""
    expected, mark, client = run_express(agent, llm_server, node_modules, tmp_path, "openai", connections=2)
    check(agent, llm_server, mark, expected, client.pid, client, "node express openai, 2 sockets")
    records = llm_server.records_since(mark)
    assert len({record["client_port"] for record in records}) == 2, "the requests should share 2 connections"


def test_express_anthropic(agent, llm_server, node_modules, tmp_path):
    expected, mark, client = run_express(agent, llm_server, node_modules, tmp_path, "anthropic", connections=2)
    check(agent, llm_server, mark, expected, client.pid, client, "node express anthropic, 2 sockets")


def test_express_nested_and_timer_calls(agent, llm_server, node_modules, tmp_path):
    """Calls from a nested helper and from a setTimeout callback."""
    expected, mark, client = run_express(agent, llm_server, node_modules, tmp_path, "openai", modes=("nested", "timeout"))
    check(agent, llm_server, mark, expected, client.pid, client, "node express nested helper and setTimeout")


def run_scenario(llm_server, name: str, *options: str) -> dict:
    command = [NODE, str(NODE_DIR / "scenarios.mjs"), name, *llm_options(llm_server), *options]
    return run_json(command, node_env(llm_server), NODE_DIR)


@pytest.mark.parametrize(
    "scenario, count",
    [("route-handler", 40), ("cli", 0), ("precedence", 30), ("https-module", 30)],
)
def test_node_scenario(agent, llm_server, node_modules, scenario, count):
    mark = llm_server.mark()
    options = ["--count", str(count)] if count else []
    output = run_scenario(llm_server, scenario, *options)
    expected = expected_from_calls(output)
    client = spancheck.Client(pid=output["pid"], comm=output["comm"], thread_id=output["pid"], peer_required=False)
    check(agent, llm_server, mark, expected, client.pid, client, f"node {scenario}")


def test_node_invalid_input(node_modules, llm_server):
    output = run_scenario(llm_server, "invalid-input")
    errors = output["errors"]
    context_after = errors.pop("contextAfter")
    process_record_after = errors.pop("processRecordAfter")
    valid = [name for name, error in errors.items() if error is None]
    assert not valid, f"these invalid inputs raised no error: {valid}"
    # Each message names the field at fault.
    fields = {
        "missing userId": "ctx.userId",
        "empty userId": "ctx.userId",
        "numeric userId": "ctx.userId",
        "unknown field": "ctx.user_id",
        "numeric email": "ctx.email",
        "nested attrs": 'ctx.attrs["address"]',
        "array attr": 'ctx.attrs["tags"]',
        "null attr": 'ctx.attrs["plan"]',
        "NaN attr": 'ctx.attrs["score"]',
        "bigint attr": 'ctx.attrs["seats"]',
        "attrs not object": "ctx.attrs",
        "invalid key": '"9lives"',
        "long userId": "ctx.userId",
        "too many attrs": "ctx.attrs",
        "lone surrogate": "ctx.userId",
    }
    for case, field in fields.items():
        for api in ("withUserContext", "setUserContext"):
            error = errors[f"{api}: {case}"]
            assert field in error["message"], f"{api}: {case}: message {error['message']!r} does not name {field}"
            assert error["message"].startswith(f"{api}: "), f"{api}: {case}: message {error['message']!r}"
            assert error["code"].startswith("JAMJET_ERR_"), f"{api}: {case}: code {error['code']!r}"
    assert errors["withUserContext: NaN attr"]["type"] == "RangeError"
    assert errors["withUserContext: long userId"]["type"] == "RangeError"
    assert errors["withUserContext: nested attrs"]["type"] == "TypeError"
    assert errors["withUserContext: fn not a function"]["type"] == "TypeError"
    assert context_after is None, "a failed call left a context behind"
    assert process_record_after is None, "a failed setUserContext set a process record"


@pytest.mark.no_agent
def test_node_express_without_agent(llm_server, node_modules, tmp_path):
    """The application works unchanged when no agent runs."""
    users = make_users(10)
    plan = [(users[number % 10], {"provider": "openai", "stream": number % 2 == 0, "delayMs": 5}) for number in range(40)]
    mark = llm_server.mark()
    with running_app(express_command(llm_server, 2), node_env(llm_server), tmp_path, NODE_DIR) as (port, _):
        answers = send_chat_requests(port, plan)
    records = llm_server.wait_for_records(mark, len(plan))
    assert sorted(answer["id"] for answer in answers) == sorted(record["response_id"] for record in records)
    assert [answer["userId"] for answer in answers] == [user["user_id"] for user, _ in plan]
