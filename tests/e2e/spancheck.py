"""Checks of the agent's spans against the test server's records.

A record (one JSON line written by llm_server.py) states what the server sent. A Client
states who sent the request. check_span compares every field of a span with both, and
match_spans pairs the spans of a test with its records.
"""

from __future__ import annotations

import dataclasses
import math
import re
import socket

SPAN_KEYS = {
    "name",
    "kind",
    "trace_id",
    "span_id",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "status",
    "attributes",
    "resource",
}

# Allowed difference between the agent's clock (CLOCK_MONOTONIC turned into Unix time) and
# the server's time.time_ns() when the span's times are compared with the server's.
CLOCK_TOLERANCE_NS = 100_000_000
# Allowed error of gen_ai.response.time_to_first_chunk against the server's delay.
TIME_TO_FIRST_CHUNK_TOLERANCE_S = 0.005

# USD per million tokens, from the genai-prices table (pydantic/genai-prices, commit
# 47df840a) that the agent prices with. Only the models that the tests send are listed.
PRICES_PER_MTOK = {
    "gpt-4o-mini": {"input": 0.15, "cache_read": 0.075, "output": 0.6},
    "claude-3-5-haiku-latest": {"input": 0.8, "cache_read": 0.08, "cache_write": 1.0, "output": 4.0},
}


@dataclasses.dataclass(frozen=True)
class Client:
    """Process that sent a request, as the span must report it."""

    pid: int
    comm: str
    thread_id: int
    # Whether the span must carry network.peer.*. When False the keys are optional, but
    # must be right when present.
    peer_required: bool


def expected_cost_usd(record: dict) -> float | None:
    """Return the cost of the record's tokens, or None when the span must not carry a cost."""
    usage = record["usage"]
    prices = PRICES_PER_MTOK.get(record["request_model"])
    if not usage or prices is None:
        return None
    input_tokens = usage["gen_ai.usage.input_tokens"]
    cache_read = usage.get("gen_ai.usage.cache_read.input_tokens", 0)
    cache_write = usage.get("gen_ai.usage.cache_creation.input_tokens", 0)
    uncached = input_tokens - cache_read - cache_write
    cost = uncached * prices["input"] + cache_read * prices["cache_read"]
    cost += cache_write * prices.get("cache_write", prices["input"])
    # Reasoning tokens are part of the output tokens and have no price of their own here.
    cost += usage["gen_ai.usage.output_tokens"] * prices["output"]
    return cost / 1_000_000


def expected_attributes(record: dict, client: Client) -> tuple[dict, dict]:
    """Return (required, optional) attribute values for the span of `record`.

    Required keys must be present with exactly these values. Optional keys may be absent,
    but must have these values when present. Any other key is an error, except
    gen_ai.response.time_to_first_chunk, which check_span handles.
    """
    required = {
        "gen_ai.provider.name": record["provider"],
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": record["request_model"],
        "http.response.status_code": record["status"],
        "server.address": record["server_address"],
        "server.port": record["server_port"],
        "process.pid": client.pid,
        "process.executable.name": client.comm,
        "thread.id": client.thread_id,
    }
    optional = {}
    peer = {"network.peer.address": record["local_address"], "network.peer.port": record["local_port"]}
    (required if client.peer_required else optional).update(peer)
    if record["stream"]:
        required["gen_ai.request.stream"] = True
    else:
        # A request without "stream" in its body is a non-stream request, and the agent
        # may report that as false or leave the key out.
        optional["gen_ai.request.stream"] = False
    if record["status"] == 200:
        required["gen_ai.response.id"] = record["response_id"]
        required["gen_ai.response.model"] = record["response_model"]
        required["gen_ai.response.finish_reasons"] = record["finish_reasons"]
        required.update(record["usage"] or {})
    else:
        required["error.type"] = record["error_type"]
    cost = expected_cost_usd(record)
    if cost is not None:
        required["cost_usd"] = cost
    # These clients set no user context, so the user comes from the body or is absent.
    if record.get("body_end_user"):
        field, user_id = record["body_end_user"]
        required["user_id"] = user_id
        required["user.id"] = user_id
        required["jamjet.user.source"] = "request_body"
        required["jamjet.user.source_field"] = field
    else:
        required["jamjet.user.source"] = "none"
    return required, optional


def values_equal(actual, expected) -> bool:
    """Compare JSON values, requiring the same type (so True is not 1) and close floats."""
    if isinstance(expected, float):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and math.isclose(
            actual, expected, rel_tol=1e-9, abs_tol=1e-12
        )
    if type(actual) is not type(expected):
        return False
    return actual == expected


def check_span(span: dict, record: dict, client: Client) -> None:
    """Assert that every field of `span` matches the server's record and the client."""
    label = f"span for {record['provider']} response {record['response_id']} (status {record['status']})"
    assert set(span) == SPAN_KEYS, f"{label}: top-level keys {sorted(span)}, expected {sorted(SPAN_KEYS)}"
    assert span["name"] == f"chat {record['request_model']}", f"{label}: name {span['name']!r}"
    assert span["kind"] == "client", f"{label}: kind {span['kind']!r}"
    assert re.fullmatch(r"[0-9a-f]{32}", span["trace_id"]), f"{label}: invalid trace_id {span['trace_id']!r}"
    assert span["trace_id"] != "0" * 32, f"{label}: trace_id is all zeros"
    assert re.fullmatch(r"[0-9a-f]{16}", span["span_id"]), f"{label}: invalid span_id {span['span_id']!r}"
    assert span["span_id"] != "0" * 16, f"{label}: span_id is all zeros"
    check_times(span, record, label)
    check_status(span, record, label)
    assert span["resource"].get("host.name") == socket.gethostname(), f"{label}: resource {span['resource']}"
    check_attributes(span, record, client, label)


def check_times(span: dict, record: dict, label: str) -> None:
    start = span["start_time_unix_nano"]
    end = span["end_time_unix_nano"]
    assert type(start) is int, f"{label}: start_time_unix_nano {start!r} is not an integer"
    assert type(end) is int, f"{label}: end_time_unix_nano {end!r} is not an integer"
    assert start < end, f"{label}: start_time_unix_nano {start} is not before end_time_unix_nano {end}"
    # The client sends the request before the server receives it, and reads the end of the
    # response after the server has written it.
    received = record["received_unix_ns"]
    completed = record["completed_unix_ns"]
    assert start <= received + CLOCK_TOLERANCE_NS, f"{label}: span starts {(start - received) / 1e6:.3f} ms after the server received the request"
    assert end >= completed - CLOCK_TOLERANCE_NS, f"{label}: span ends {(completed - end) / 1e6:.3f} ms before the server finished the response"
    assert end - start < 60 * 10**9, f"{label}: span lasts {(end - start) / 1e9:.1f} s"


def check_status(span: dict, record: dict, label: str) -> None:
    status = span["status"]
    assert isinstance(status, dict), f"{label}: status {status!r} is not an object"
    if record["status"] == 200:
        assert status.get("code") in ("unset", "ok"), f"{label}: status {status} for a successful response"
        assert not status.get("message"), f"{label}: status message {status.get('message')!r} for a successful response"
    else:
        assert status.get("code") == "error", f"{label}: status {status} for HTTP {record['status']}"
        assert isinstance(status.get("message", ""), str), f"{label}: status message {status.get('message')!r}"


def check_attributes(span: dict, record: dict, client: Client, label: str) -> None:
    attributes = dict(span["attributes"])
    required, optional = expected_attributes(record, client)
    first_chunk = attributes.pop("gen_ai.response.time_to_first_chunk", None)
    if record["stream"]:
        assert first_chunk is not None, f"{label}: gen_ai.response.time_to_first_chunk is missing for a stream"
        assert isinstance(first_chunk, (int, float)) and not isinstance(first_chunk, bool), f"{label}: time_to_first_chunk {first_chunk!r} is not a number"
        duration_s = (span["end_time_unix_nano"] - span["start_time_unix_nano"]) / 1e9
        # The server waits first_chunk_delay_s after reading the request before it sends anything.
        minimum = record["first_chunk_delay_s"] - TIME_TO_FIRST_CHUNK_TOLERANCE_S
        assert minimum <= first_chunk <= duration_s, f"{label}: time_to_first_chunk {first_chunk} s is outside [{minimum}, {duration_s}]"
    else:
        assert first_chunk is None, f"{label}: time_to_first_chunk {first_chunk!r} on a non-stream response"

    for key, value in required.items():
        assert key in attributes, f"{label}: attribute {key} is missing (expected {value!r})"
        assert values_equal(attributes[key], value), f"{label}: attribute {key} is {attributes[key]!r}, expected {value!r}"
    for key, value in optional.items():
        if key in attributes:
            assert values_equal(attributes[key], value), f"{label}: attribute {key} is {attributes[key]!r}, expected {value!r} or absent"
    unexpected = sorted(set(attributes) - set(required) - set(optional))
    assert not unexpected, f"{label}: unexpected attributes {unexpected}: " + ", ".join(f"{key}={attributes[key]!r}" for key in unexpected)


def describe_span(span: dict) -> str:
    """Return a one-line summary of a span for failure messages."""
    attributes = span.get("attributes", {})
    keys = ("gen_ai.response.id", "http.response.status_code", "error.type", "process.pid")
    summary = ", ".join(f"{key}={attributes.get(key)!r}" for key in keys)
    return f"{{status={span.get('status')}, {summary}}}"


def match_spans(spans: list[dict], records: list[dict]) -> list[tuple[dict, dict]]:
    """Pair each record with its span, by response id, or for error responses by provider.

    Asserts that there is exactly one span per record and no other span.
    """
    assert len(spans) == len(records), f"{len(spans)} spans for {len(records)} server exchanges; spans: " + "; ".join(
        describe_span(span) for span in spans
    )
    spans_by_id: dict[str, dict] = {}
    unidentified: list[dict] = []
    for span in spans:
        response_id = span["attributes"].get("gen_ai.response.id")
        if response_id is None:
            unidentified.append(span)
            continue
        assert response_id not in spans_by_id, f"two spans report gen_ai.response.id {response_id}"
        spans_by_id[response_id] = span
    pairs = []
    for record in records:
        if record["response_id"] is not None:
            span = spans_by_id.pop(record["response_id"], None)
            assert span is not None, f"no span reports gen_ai.response.id {record['response_id']}; spans: " + "; ".join(
                describe_span(span) for span in spans
            )
        else:
            candidates = [span for span in unidentified if span["attributes"].get("gen_ai.provider.name") == record["provider"]]
            assert candidates, f"no span without a response id for the {record['provider']} HTTP {record['status']} exchange"
            span = candidates[0]
            unidentified.remove(span)
        pairs.append((span, record))
    assert not spans_by_id, f"spans with response ids the server never sent: {sorted(spans_by_id)}"
    assert not unidentified, f"{len(unidentified)} spans without a response id that match no exchange"
    span_ids = [span["span_id"] for span in spans]
    assert len(set(span_ids)) == len(span_ids), f"span ids repeat: {span_ids}"
    return pairs


def check_spans(spans: list[dict], records: list[dict], clients: dict) -> None:
    """Check every span against its record. `clients` maps a record's seq to its Client."""
    for span, record in match_spans(spans, records):
        check_span(span, record, clients[record["seq"]])
