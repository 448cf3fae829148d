#!/usr/bin/python3
"""Send chat requests with http.client over one keep-alive connection, in two phases.

The client sends --count-before requests, prints their result as one JSON line, then
waits for a line on stdin before it sends --count requests on the same connection and
prints a second JSON line. With --count-before 0 it prints only the second line.
A test uses the pause to start the agent while the connection is open.
"""

import argparse
import http.client
import ssl
import sys
import urllib.parse

import llm_requests


def send(connection: http.client.HTTPSConnection, args: argparse.Namespace, path: str, index: int) -> dict:
    connection.request("POST", path, body=llm_requests.request_body(args, index), headers=llm_requests.request_headers(args))
    response = connection.getresponse()
    body = response.read()
    if response.will_close:
        raise RuntimeError("the server closed the keep-alive connection; this client needs it open")
    return {
        "status": response.status,
        "id": llm_requests.response_id(args.provider, response.status, body, args.stream),
        "local_port": connection.sock.getsockname()[1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    llm_requests.add_request_options(parser)
    parser.add_argument("--count-before", type=int, default=0, help="requests sent before the pause")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.base_url)
    path = url.path + llm_requests.endpoint_path(args.provider)
    context = ssl.create_default_context(cafile=args.cacert)
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=60)
    if args.count_before:
        before = [send(connection, args, path, index) for index in range(args.count_before)]
        print(llm_requests.result(before), flush=True)
        if not sys.stdin.readline():
            raise RuntimeError("stdin closed before the signal to continue")
    after = [send(connection, args, path, args.count_before + index) for index in range(args.count)]
    print(llm_requests.result(after), flush=True)
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
