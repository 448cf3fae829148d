"""http.server.ThreadingHTTPServer application that handles each request in its own thread
inside `with with_user_context(...)`, calling the LLM through one shared httpx.Client.

Usage: threaded_app.py --base-url URL --api-key KEY --cacert FILE --port-file FILE
POST /chat takes the same headers and body as fastapi_app.py and returns {id, user_id,
thread_id, registry_user_id}: registry_user_id is the user that the thread's registry slot
held during the call, read back from the registry.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import threading
import time

import httpx

import llm
from jamjet import cloud
from jamjet.cloud import with_user_context

parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
parser.add_argument("--base-url", required=True)
parser.add_argument("--api-key", required=True)
parser.add_argument("--cacert", required=True)
parser.add_argument("--port-file", required=True)
args = parser.parse_args()

client = httpx.Client(verify=args.cacert, timeout=60)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *arguments):  # noqa: A002 (name fixed by the base class)
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = {
            "user_id": self.headers["x-user-id"],
            "email": self.headers.get("x-user-email"),
            "attrs": {
                "plan": self.headers.get("x-user-plan"),
                "seats": int(self.headers.get("x-user-seats", "0")),
                "admin": self.headers.get("x-user-admin") == "true",
            },
        }
        with with_user_context(user):
            time.sleep(body.get("delay_ms", 0) / 1000)
            registry_user_id = cloud._thread_record_user_id()
            prompt = f"Request {self.headers.get('x-request-number')} for {user['user_id']}"
            response_id = llm.call(client, args.base_url, args.api_key, body["provider"], prompt, body.get("stream", False))
        answer = {"id": response_id, "user_id": user["user_id"], "thread_id": threading.get_native_id(), "registry_user_id": registry_user_id}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # The tests open up to 200 connections at once; the default backlog of 5 resets some.
    request_queue_size = 512


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as port_file:
        port_file.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
