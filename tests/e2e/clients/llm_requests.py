"""Request building and response parsing shared by the Python clients.

Each client script accepts the same command-line options (see add_request_options) and
prints one JSON object on stdout: its pid, main thread id and comm (the name the kernel
reports for the process), and one entry per response with the HTTP status and the
response id (null for an error response).
"""

from __future__ import annotations

import argparse
import json
import os
import threading

ANTHROPIC_VERSION = "2023-06-01"


def add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True, help="server URL up to, not including, /v1")
    parser.add_argument("--provider", choices=("openai", "anthropic"), required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key", required=True, help="fake secret sent as Authorization or x-api-key")
    parser.add_argument("--cacert", required=True, help="PEM file of the server's certificate")
    parser.add_argument("--stream", action="store_true", help="request a server-sent event stream")
    parser.add_argument("--include-usage", action="store_true", help="OpenAI streams: set stream_options.include_usage")
    parser.add_argument("--count", type=int, default=1, help="number of requests")
    parser.add_argument("--prompt-bytes", type=int, default=0, help="pad the prompt to at least this many bytes")


def endpoint_path(provider: str) -> str:
    return "/v1/chat/completions" if provider == "openai" else "/v1/messages"


def request_headers(args: argparse.Namespace) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Cookie": f"session={args.api_key}-cookie"}
    if args.provider == "openai":
        headers["Authorization"] = f"Bearer {args.api_key}"
    else:
        headers["x-api-key"] = args.api_key
        headers["anthropic-version"] = ANTHROPIC_VERSION
    return headers


def request_body(args: argparse.Namespace, index: int) -> bytes:
    """Return the JSON body of request number `index`. Each index gets a different prompt."""
    prompt = f"Request {index} from pid {os.getpid()}: say hello."
    if len(prompt) < args.prompt_bytes:
        prompt += " " + "x" * (args.prompt_bytes - len(prompt) - 1)
    body: dict = {"model": args.model, "messages": [{"role": "user", "content": prompt}]}
    if args.provider == "anthropic":
        body["max_tokens"] = 256
    if args.stream:
        body["stream"] = True
        if args.include_usage:
            body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


def response_id(provider: str, status: int, body: bytes, stream: bool) -> str | None:
    """Return the response id from a JSON body or an event stream, or None for an error."""
    if status != 200:
        return None
    if not stream:
        return json.loads(body)["id"]
    for line in body.decode().splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[len("data: ") :])
        if provider == "openai":
            return event["id"]
        if event.get("type") == "message_start":
            return event["message"]["id"]
    raise ValueError("the event stream has no response id")


def result(responses: list[dict]) -> str:
    """Return the JSON line a client prints: who sent the requests and what came back."""
    with open("/proc/self/comm", encoding="utf-8") as comm_file:
        comm = comm_file.read().strip()
    return json.dumps(
        {"pid": os.getpid(), "thread_id": threading.get_native_id(), "comm": comm, "responses": responses}
    )
