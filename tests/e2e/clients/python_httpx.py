#!/usr/bin/python3
"""Send chat requests with httpx, synchronously or with asyncio, over one pooled client.

The sync mode sends the requests one after another, so they share one keep-alive
connection. The async mode sends them concurrently.
"""

import argparse
import asyncio
import ssl
import sys

import httpx

import llm_requests


def send_sync(args: argparse.Namespace, context: ssl.SSLContext) -> list[dict]:
    responses = []
    url = args.base_url + llm_requests.endpoint_path(args.provider)
    headers = llm_requests.request_headers(args)
    with httpx.Client(verify=context, timeout=30) as client:
        for index in range(args.count):
            response = client.post(url, content=llm_requests.request_body(args, index), headers=headers)
            body = response.read()
            status = response.status_code
            responses.append({"status": status, "id": llm_requests.response_id(args.provider, status, body, args.stream)})
    return responses


async def send_async(args: argparse.Namespace, context: ssl.SSLContext) -> list[dict]:
    url = args.base_url + llm_requests.endpoint_path(args.provider)
    headers = llm_requests.request_headers(args)
    async with httpx.AsyncClient(verify=context, timeout=30) as client:

        async def send_one(index: int) -> dict:
            response = await client.post(url, content=llm_requests.request_body(args, index), headers=headers)
            status = response.status_code
            return {"status": status, "id": llm_requests.response_id(args.provider, status, response.content, args.stream)}

        return list(await asyncio.gather(*(send_one(index) for index in range(args.count))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    llm_requests.add_request_options(parser)
    parser.add_argument("--mode", choices=("sync", "async"), default="sync")
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.cacert)
    if args.mode == "sync":
        responses = send_sync(args, context)
    else:
        responses = asyncio.run(send_async(args, context))
    print(llm_requests.result(responses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
