#!/usr/bin/python3
"""Send chat requests with urllib.request, one connection per request."""

import argparse
import ssl
import sys
import urllib.error
import urllib.request

import llm_requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    llm_requests.add_request_options(parser)
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.cacert)
    url = args.base_url + llm_requests.endpoint_path(args.provider)
    responses = []
    for index in range(args.count):
        request = urllib.request.Request(
            url, data=llm_requests.request_body(args, index), headers=llm_requests.request_headers(args), method="POST"
        )
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        responses.append({"status": status, "id": llm_requests.response_id(args.provider, status, body, args.stream)})
    print(llm_requests.result(responses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
