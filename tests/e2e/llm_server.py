#!/usr/bin/python3
"""Local TLS server that speaks the OpenAI Chat Completions and Anthropic Messages formats.

The end-to-end tests run it as a subprocess on 127.0.0.1 and point real clients at it.
Every exchange it serves is appended as one JSON line to the records file, with the
values that the agent's span must report for it (ids, models, token counts, status,
finish reasons, the Host header, the client's port). Token counts differ for every
request, so a span can be matched to its record by gen_ai.response.id.

Routes (POST only; any query string is ignored):
  [/s/SCENARIO]/v1/chat/completions   OpenAI
  [/s/SCENARIO]/v1/messages           Anthropic

SCENARIO selects how the response is framed, so that an SDK can reach it through its
base URL (for example https://127.0.0.1:PORT/s/gzip/v1):
  (none)   JSON with Content-Length; streams use chunked transfer encoding
  gzip     non-stream JSON with Content-Encoding: gzip when the request accepts gzip
  429      rate-limit error in the provider's JSON error format, with Retry-After
  close    no Content-Length and Connection: close; the body ends when the server closes
  chunked  non-stream JSON sent with chunked transfer encoding in several chunks

Run: llm_server.py --cert CERT --key KEY --records FILE --port-file FILE [--port 0]
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import itertools
import json
import logging
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time

log = logging.getLogger("llm_server")

# Seconds the server waits before it sends anything for a stream, so that a span's
# gen_ai.response.time_to_first_chunk has a known lower bound.
STREAM_FIRST_CHUNK_DELAY_S = 0.05
# Seconds between two stream events.
STREAM_EVENT_INTERVAL_S = 0.002

# Response model that the server reports for a request model, as the real APIs return a
# dated snapshot name for an alias. Other request models are echoed back unchanged.
RESPONSE_MODELS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
}

SCENARIOS = ("gzip", "429", "close", "chunked")
ROUTE = re.compile(r"^(?:/s/(?P<scenario>[a-z0-9]+))?/v1/(?P<endpoint>chat/completions|messages)$")



def body_end_user(provider: str, body: dict) -> list | None:
    """Return [field, value] of the end-user id in a request body, or None."""
    if provider == "openai":
        for field in ("safety_identifier", "user"):
            if isinstance(body.get(field), str) and body[field]:
                return [field, body[field]]
        return None
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str) and metadata["user_id"]:
        return ["metadata.user_id", metadata["user_id"]]
    return None

class BadRequest(Exception):
    """Invalid request body, which the server rejects with 400."""


def prompt_text(body: dict) -> str:
    """Concatenate the text of all messages (and the Anthropic system prompt)."""
    parts = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(block.get("text", "") for block in content if isinstance(block, dict))
    return "\n".join(parts)


class TokenPlan:
    """Token counts and reply text for one request, derived from its prompt and sequence number."""

    def __init__(self, seq: int, prompt: str):
        self.seq = seq
        self.words = [f"reply{seq}"] + ["word"] * (3 + seq % 5) + ["end."]
        self.text = " ".join(self.words)
        # Every count is at least 2 and changes with seq, so that a zero is never mistaken
        # for "absent". The counts of one response lie in disjoint ranges, so that a span
        # that reports one counter under another's key never passes by chance:
        # input >= 1000 > cached >= 334 > output in [100, 210] > reasoning, and
        # cache_creation in [20, 30] > cache_read in [2, 10].
        self.prompt_chars = len(prompt)
        self.input_tokens = 1000 + self.prompt_chars // 4 + 3 * seq
        self.output_tokens = 100 + (seq * 7) % 97 + len(self.words)
        self.cached_tokens = 1 + self.input_tokens // 3
        self.reasoning_tokens = 1 + self.output_tokens // 4
        # Anthropic reports uncached input separately from cache reads and writes.
        self.cache_read_tokens = 2 + seq % 9
        self.cache_creation_tokens = 20 + (seq * 5) % 11


class LLMHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jamjet-e2e-llm-server/1"
    # Idle keep-alive connections close after this many seconds.
    timeout = 120

    server: "LLMServer"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (name fixed by the base class)
        log.info("%s:%s %s", self.client_address[0], self.client_address[1], format % args)

    def do_GET(self) -> None:
        self.send_json(404, {"error": {"message": "only POST is served", "type": "not_found"}})

    def do_POST(self) -> None:
        received_ns = time.time_ns()
        path = self.path.split("?", 1)[0]
        match = ROUTE.match(path)
        body_bytes = self.read_body()
        if match is None or (match["scenario"] and match["scenario"] not in SCENARIOS):
            self.send_json(404, {"error": {"message": f"no route for {path}", "type": "not_found"}})
            return
        provider = "openai" if match["endpoint"] == "chat/completions" else "anthropic"
        scenario = match["scenario"] or ""
        try:
            body = json.loads(body_bytes or b"null")
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                raise BadRequest("the body must be a JSON object with a string 'model'")
        except (ValueError, BadRequest) as error:
            self.send_json(400, {"error": {"message": f"invalid request: {error}", "type": "invalid_request_error"}})
            return

        seq = self.server.next_seq()
        record = self.new_record(seq, provider, scenario, path, body, len(body_bytes), received_ns)
        if scenario == "429":
            self.send_rate_limit_error(record)
        elif record["stream"]:
            self.send_stream(record, TokenPlan(seq, prompt_text(body)))
        else:
            self.send_completion(record, TokenPlan(seq, prompt_text(body)))
        record["completed_unix_ns"] = time.time_ns()
        self.server.write_record(record)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # Skip trailers up to the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def new_record(
        self, seq: int, provider: str, scenario: str, path: str, body: dict, body_size: int, received_ns: int
    ) -> dict:
        host = self.headers.get("Host", "")
        host_match = re.match(r"^(\[[^\]]+\]|[^:]+)(?::(\d+))?$", host)
        server_address = host_match[1].strip("[]") if host_match else None
        server_port = int(host_match[2]) if host_match and host_match[2] else None
        stream = body.get("stream") is True
        stream_options = body.get("stream_options") if isinstance(body.get("stream_options"), dict) else {}
        return {
            # The end-user id the body carries, which the agent reports when the app set no context.
            "body_end_user": body_end_user(provider, body),
            "seq": seq,
            "provider": provider,
            "scenario": scenario,
            "path": path,
            "request_model": body["model"],
            "stream": stream,
            "stream_field_sent": "stream" in body,
            "include_usage": provider == "openai" and stream and stream_options.get("include_usage") is True,
            "request_body_bytes": body_size,
            # BaseHTTPRequestHandler sends a 100 response first when the request has "Expect: 100-continue".
            "expect_continue": self.headers.get("Expect", "").lower() == "100-continue",
            "host": host,
            "server_address": server_address,
            "server_port": server_port,
            "client_address": self.client_address[0],
            "client_port": self.client_address[1],
            # The server's end of the connection: what the client sees as its peer.
            "local_address": self.connection.getsockname()[0],
            "local_port": self.connection.getsockname()[1],
            "received_unix_ns": received_ns,
            # The fields below are filled in by the response writers.
            "status": None,
            "response_id": None,
            "response_model": None,
            "finish_reasons": None,
            "usage": None,
            # Usage object of the response body (for streams, the last one sent).
            "body_usage": None,
            "error_type": None,
            "content_encoding": None,
            "first_chunk_delay_s": None,
        }

    # Response framing.

    def send_json(self, status: int, payload: dict, extra_headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_body(self, record: dict, payload: dict) -> None:
        """Send a 200 non-stream JSON body with the framing of the record's scenario."""
        data = json.dumps(payload).encode()
        scenario = record["scenario"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-request-id", f"req_{record['seq']}")
        if scenario == "gzip" and "gzip" in self.headers.get("Accept-Encoding", ""):
            data = gzip.compress(data)
            record["content_encoding"] = "gzip"
            self.send_header("Content-Encoding", "gzip")
        if scenario == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            # Two writes, so that the body does not arrive in the same read as the headers.
            half = len(data) // 2
            self.wfile.write(data[:half])
            self.wfile.write(data[half:])
            self.close_connection = True
        elif scenario == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = max(1, len(data) // 3)
            for start in range(0, len(data), step):
                self.write_chunk(data[start : start + step])
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def start_event_stream(self, record: dict) -> None:
        time.sleep(STREAM_FIRST_CHUNK_DELAY_S)
        record["first_chunk_delay_s"] = STREAM_FIRST_CHUNK_DELAY_S
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", f"req_{record['seq']}")
        if record["scenario"] == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_event(self, record: dict, text: str) -> None:
        data = text.encode()
        if record["scenario"] == "close":
            self.wfile.write(data)
        else:
            self.write_chunk(data)
        time.sleep(STREAM_EVENT_INTERVAL_S)

    def end_event_stream(self, record: dict) -> None:
        if record["scenario"] != "close":
            self.wfile.write(b"0\r\n\r\n")

    # Provider formats.

    def new_response_id(self, record: dict) -> str:
        prefix = "chatcmpl-" if record["provider"] == "openai" else "msg_"
        return f"{prefix}e2e{record['seq']:05d}{secrets.token_hex(6)}"

    def fill_success(self, record: dict, plan: TokenPlan, with_usage: bool) -> None:
        record["status"] = 200
        record["response_id"] = self.new_response_id(record)
        record["response_model"] = RESPONSE_MODELS.get(record["request_model"], record["request_model"])
        if record["provider"] == "openai":
            record["finish_reasons"] = ["stop"]
            if with_usage:
                record["body_usage"] = self.openai_usage(plan)
                record["usage"] = {
                    "gen_ai.usage.input_tokens": plan.input_tokens,
                    "gen_ai.usage.output_tokens": plan.output_tokens,
                    "gen_ai.usage.cache_read.input_tokens": plan.cached_tokens,
                    "gen_ai.usage.reasoning.output_tokens": plan.reasoning_tokens,
                }
        else:
            record["finish_reasons"] = ["end_turn"]
            record["body_usage"] = self.anthropic_usage(plan, plan.output_tokens)
            # The span reports all input tokens: uncached + cache reads + cache writes.
            record["usage"] = {
                "gen_ai.usage.input_tokens": plan.input_tokens + plan.cache_read_tokens + plan.cache_creation_tokens,
                "gen_ai.usage.output_tokens": plan.output_tokens,
                "gen_ai.usage.cache_read.input_tokens": plan.cache_read_tokens,
                "gen_ai.usage.cache_creation.input_tokens": plan.cache_creation_tokens,
            }

    def openai_usage(self, plan: TokenPlan) -> dict:
        return {
            "prompt_tokens": plan.input_tokens,
            "completion_tokens": plan.output_tokens,
            "total_tokens": plan.input_tokens + plan.output_tokens,
            "prompt_tokens_details": {"cached_tokens": plan.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": plan.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def anthropic_usage(self, plan: TokenPlan, output_tokens: int) -> dict:
        return {
            "input_tokens": plan.input_tokens,
            "cache_creation_input_tokens": plan.cache_creation_tokens,
            "cache_read_input_tokens": plan.cache_read_tokens,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    def send_completion(self, record: dict, plan: TokenPlan) -> None:
        self.fill_success(record, plan, with_usage=True)
        if record["provider"] == "openai":
            payload = {
                "id": record["response_id"],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": record["response_model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": plan.text, "refusal": None, "annotations": []},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": self.openai_usage(plan),
                "service_tier": "default",
                "system_fingerprint": "fp_e2e",
            }
        else:
            payload = {
                "id": record["response_id"],
                "type": "message",
                "role": "assistant",
                "model": record["response_model"],
                "content": [{"type": "text", "text": plan.text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": self.anthropic_usage(plan, plan.output_tokens),
            }
        self.send_body(record, payload)

    def send_stream(self, record: dict, plan: TokenPlan) -> None:
        self.fill_success(record, plan, with_usage=record["provider"] == "anthropic" or record["include_usage"])
        self.start_event_stream(record)
        if record["provider"] == "openai":
            self.write_openai_stream(record, plan)
        else:
            self.write_anthropic_stream(record, plan)
        self.end_event_stream(record)

    def write_openai_stream(self, record: dict, plan: TokenPlan) -> None:
        include_usage = record["include_usage"]

        def chunk(delta: dict, finish_reason: str | None) -> str:
            payload = {
                "id": record["response_id"],
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": record["response_model"],
                "system_fingerprint": "fp_e2e",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                # The real API sends "usage": null on every chunk but the last when usage is requested.
                payload["usage"] = None
            return f"data: {json.dumps(payload)}\n\n"

        self.write_event(record, chunk({"role": "assistant", "content": "", "refusal": None}, None))
        for index, word in enumerate(plan.words):
            self.write_event(record, chunk({"content": word if index == 0 else " " + word}, None))
        self.write_event(record, chunk({}, "stop"))
        if include_usage:
            usage_chunk = {
                "id": record["response_id"],
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": record["response_model"],
                "system_fingerprint": "fp_e2e",
                "choices": [],
                "usage": self.openai_usage(plan),
            }
            self.write_event(record, f"data: {json.dumps(usage_chunk)}\n\n")
        self.write_event(record, "data: [DONE]\n\n")

    def write_anthropic_stream(self, record: dict, plan: TokenPlan) -> None:
        def event(name: str, payload: dict) -> str:
            return f"event: {name}\ndata: {json.dumps(payload)}\n\n"

        message = {
            "id": record["response_id"],
            "type": "message",
            "role": "assistant",
            "model": record["response_model"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self.anthropic_usage(plan, 1),
        }
        self.write_event(record, event("message_start", {"type": "message_start", "message": message}))
        block = {"type": "text", "text": ""}
        self.write_event(record, event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}))
        self.write_event(record, event("ping", {"type": "ping"}))
        for index, word in enumerate(plan.words):
            delta = {"type": "text_delta", "text": word if index == 0 else " " + word}
            self.write_event(record, event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        self.write_event(record, event("content_block_stop", {"type": "content_block_stop", "index": 0}))
        # Two message_delta events whose output_tokens are cumulative: the span must report
        # the last value, not the sum.
        partial = {"output_tokens": plan.output_tokens // 2}
        self.write_event(
            record,
            event("message_delta", {"type": "message_delta", "delta": {"stop_reason": None, "stop_sequence": None}, "usage": partial}),
        )
        final = {
            "input_tokens": plan.input_tokens,
            "cache_creation_input_tokens": plan.cache_creation_tokens,
            "cache_read_input_tokens": plan.cache_read_tokens,
            "output_tokens": plan.output_tokens,
        }
        self.write_event(
            record,
            event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": final}),
        )
        self.write_event(record, event("message_stop", {"type": "message_stop"}))

    def send_rate_limit_error(self, record: dict) -> None:
        record["status"] = 429
        if record["provider"] == "openai":
            record["error_type"] = "rate_limit_exceeded"
            payload = {
                "error": {
                    "message": "Rate limit reached for requests (e2e test server).",
                    "type": "rate_limit_exceeded",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            }
        else:
            record["error_type"] = "rate_limit_error"
            payload = {
                "type": "error",
                "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit (e2e test server)."},
                "request_id": f"req_{record['seq']}",
            }
        self.send_json(429, payload, {"Retry-After": "1", "x-request-id": f"req_{record['seq']}"})


class LLMServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer that runs each TLS handshake in the connection's own thread."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], ssl_context: ssl.SSLContext, records_path: str):
        self.ssl_context = ssl_context
        self.records_file = open(records_path, "a", encoding="utf-8")
        self.records_lock = threading.Lock()
        self.seq_counter = itertools.count(1)
        self.seq_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, LLMHandler)

    def next_seq(self) -> int:
        with self.seq_lock:
            return next(self.seq_counter)

    def write_record(self, record: dict) -> None:
        with self.records_lock:
            self.records_file.write(json.dumps(record) + "\n")
            self.records_file.flush()

    def finish_request(self, request: socket.socket, client_address) -> None:
        try:
            tls_socket = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log.warning("TLS handshake with %s:%s failed: %s", client_address[0], client_address[1], error)
            return
        try:
            self.RequestHandlerClass(tls_socket, client_address, self)
        finally:
            tls_socket.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback only)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--cert", required=True, help="PEM certificate file")
    parser.add_argument("--key", required=True, help="PEM private key file")
    parser.add_argument("--records", required=True, help="file that receives one JSON line per exchange")
    parser.add_argument("--port-file", required=True, help="file that receives the port once the server listens")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error(f"--host {args.host} is not a loopback address; use 127.0.0.1 or ::1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = LLMServer((args.host, args.port), context, args.records)
    port = server.server_address[1]

    def stop(signum, frame):
        log.info("received signal %d, stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Write to a temporary name and rename, so that a reader never sees a partial port.
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as port_file:
        port_file.write(str(port))
    os.replace(args.port_file + ".tmp", args.port_file)
    log.info("listening on https://%s:%d (pid %d)", args.host, port, os.getpid())
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
