"""OTLP/HTTP trace receiver for the exporter's chaos tests.

Listens on 127.0.0.1 only. Every POST to /v1/traces is decoded with the _pb2 modules that the
build generates from exporter/otlp/proto (directory given by --pb2-dir). The span ids of
accepted requests are recorded. A control server on a second port switches fault modes at run
time and reports what was received:

  POST /fault  {"mode": MODE, "count": N, ...}  apply MODE to the next N requests (-1: all)
  POST /down, POST /up                          stop or restart listening on the data port
  GET  /stats                                   JSON of requests, statuses and accepted span ids

Modes: ok, status (with "status" and optional "retry_after": a number of seconds or "date:N"
for an HTTP-date N seconds ahead), too_large (413 when a request has more than "max_spans"),
partial (accept but reject the last "reject" spans of each request), hang (read the body, never
send a response), slow (read the body at "bytes_per_s", 1024 by default), reset (read "after_bytes" of
the body, then reset the connection).
"""

import argparse
import email.utils
import gzip
import http.server
import json
import select
import socket
import ssl
import struct
import sys
import threading
import time

HANG_LIMIT_S = 120  # a hung request is released after this even if the client stays


def any_value(value):
    """Return the Python value of an OTLP AnyValue."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def span_to_json(resource_spans, span):
    """Return an accepted span with its resource, attribute values decoded."""
    return {
        "name": span.name,
        "kind": span.kind,
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "status_code": span.status.code,
        "attributes": {kv.key: any_value(kv.value) for kv in span.attributes},
        "resource": {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes},
    }


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.fault = {"mode": "ok", "count": 0}
        self.requests = []  # (monotonic time, status or "reset"/"hang", span count)
        self.accepted = []  # span ids (hex) of accepted spans, duplicates kept
        self.resource_spans = 0
        self.decode_errors = 0
        self.authorizations = set()
        self.encodings = set()
        self.record_file = None  # accepted spans as JSON lines, with --record-spans

    def take_fault(self):
        with self.lock:
            fault = dict(self.fault)
            if fault["count"] == 0:
                return {"mode": "ok"}
            if fault["count"] > 0:
                self.fault["count"] -= 1
            return fault

    def record(self, outcome, spans):
        with self.lock:
            self.requests.append((time.monotonic(), outcome, spans))


def make_handler(state, pb2):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep the test output quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            fault = state.take_fault()
            mode = fault["mode"]
            if mode == "reset":
                self.rfile.read(min(length, fault.get("after_bytes", 100)))
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                state.record("reset", 0)
                self.close_connection = True
                self.connection.close()
                return
            if mode == "slow":
                body = self.read_slowly(length, fault.get("bytes_per_s", 1024))
            else:
                body = self.rfile.read(length)
            if body is None:
                state.record("slow_aborted", 0)
                self.close_connection = True
                return
            request = self.decode(body)
            if request is None:
                state.record(400, 0)
                return self.answer(400, b"")
            spans = [(rs, span) for rs in request.resource_spans
                     for ss in rs.scope_spans for span in ss.spans]
            if mode == "hang":
                state.record("hang", len(spans))
                return self.hang()
            if mode == "status":
                state.record(fault["status"], len(spans))
                return self.answer(fault["status"], b"", self.retry_after(fault))
            if mode == "too_large" and len(spans) > fault["max_spans"]:
                state.record(413, len(spans))
                return self.answer(413, b"")
            rejected = min(fault.get("reject", 0), len(spans)) if mode == "partial" else 0
            accepted = spans[:len(spans) - rejected]
            with state.lock:
                state.accepted.extend(span.span_id.hex() for _, span in accepted)
                state.resource_spans += len(request.resource_spans)
                if state.record_file is not None:
                    for resource_spans, span in accepted:
                        state.record_file.write(json.dumps(span_to_json(resource_spans, span)) + "\n")
                    state.record_file.flush()
            state.record(200, len(spans))
            response = pb2.ExportTraceServiceResponse()
            if rejected:
                response.partial_success.rejected_spans = rejected
                response.partial_success.error_message = "rejected by the test receiver"
            self.answer(200, response.SerializeToString())

        def decode(self, body):
            with state.lock:
                state.authorizations.add(self.headers.get("Authorization", ""))
                state.encodings.add(self.headers.get("Content-Encoding", ""))
            try:
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    raise ValueError("wrong content type")
                return pb2.ExportTraceServiceRequest.FromString(body)
            except Exception:  # any undecodable body counts as a decode error
                with state.lock:
                    state.decode_errors += 1
                return None

        def read_slowly(self, length, bytes_per_s):
            chunks = []
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(1024, remaining))
                if not chunk:
                    return None
                chunks.append(chunk)
                remaining -= len(chunk)
                time.sleep(len(chunk) / bytes_per_s)
            return b"".join(chunks)

        def hang(self):
            deadline = time.monotonic() + HANG_LIMIT_S
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.connection], [], [], 0.2)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    break  # the client closed the connection
            self.close_connection = True

        def retry_after(self, fault):
            value = fault.get("retry_after")
            if value is None:
                return None
            if isinstance(value, str) and value.startswith("date:"):
                when = time.time() + float(value[5:])
                return email.utils.formatdate(when, usegmt=True)
            return str(value)

        def answer(self, status, body, retry_after=None):
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(body)

    return Handler


class DataServer:
    """The OTLP listener; stop() closes the socket so that connects are refused."""

    def __init__(self, port, handler, tls_context):
        self.port = port
        self.handler = handler
        self.tls_context = tls_context
        self.server = None
        self.thread = None

    def start(self):
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        server.daemon_threads = True
        if self.tls_context is not None:
            server.socket = self.tls_context.wrap_socket(server.socket, server_side=True)
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def make_control_handler(state, data_server):
    class Control(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def reply(self, payload):
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with state.lock:
                start = state.requests[0][0] if state.requests else 0
                self.reply({
                    "requests": [[t - start, outcome, spans]
                                 for t, outcome, spans in state.requests],
                    "accepted": state.accepted,
                    "resource_spans": state.resource_spans,
                    "decode_errors": state.decode_errors,
                    "authorizations": sorted(state.authorizations),
                    "encodings": sorted(state.encodings),
                    "listening": data_server.server is not None,
                })

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/fault":
                with state.lock:
                    state.fault = {"count": -1, **payload}
            elif self.path == "/down":
                data_server.stop()
            elif self.path == "/up":
                if data_server.server is None:
                    data_server.start()
            self.reply({"ok": True})

    return Control


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--pb2-dir", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--down", action="store_true", help="start without listening")
    parser.add_argument("--record-spans", help="append each accepted span to this file as a JSON line")
    args = parser.parse_args()

    sys.path.insert(0, args.pb2_dir)
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb2

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    state = State()
    if args.record_spans:
        state.record_file = open(args.record_spans, "a")
    data_server = DataServer(args.port, make_handler(state, pb2), tls_context)
    if not args.down:
        data_server.start()
    control = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.control_port), make_control_handler(state, data_server))
    control.daemon_threads = True
    print("receiver ready", flush=True)
    control.serve_forever()


if __name__ == "__main__":
    main()
