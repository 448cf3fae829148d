"""FastAPI application whose HTTP middleware runs each request inside with_user_context().

Usage: fastapi_app.py --base-url URL --api-key KEY --cacert FILE --port-file FILE [--connections N]
POST /chat with the user in x-user-id, x-user-email, x-user-plan, x-user-seats and
x-user-admin headers and a JSON body {provider, stream, delay_ms} returns {id, user_id}. The
LLM calls go through one shared httpx.AsyncClient. uvicorn listens on 127.0.0.1 (plain HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import llm
from jamjet.cloud import get_user_context, with_user_context

parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
parser.add_argument("--base-url", required=True)
parser.add_argument("--api-key", required=True)
parser.add_argument("--cacert", required=True)
parser.add_argument("--port-file", required=True)
parser.add_argument("--connections", type=int, default=0, help="limit of the shared client's connections; 0 for httpx's default")
args = parser.parse_args()

limits = httpx.Limits(max_connections=args.connections) if args.connections else httpx.Limits()
# One client for the whole application, created outside the event loop as httpx allows.
client = httpx.AsyncClient(verify=args.cacert, limits=limits, timeout=60)
app = FastAPI()


@app.on_event("shutdown")
async def close_client() -> None:
    await client.aclose()


@app.middleware("http")
async def authenticate(request: Request, call_next):
    user_id = request.headers.get("x-user-id")
    if not user_id:
        return JSONResponse({"error": "x-user-id is missing"}, status_code=401)
    user = {
        "user_id": user_id,
        "email": request.headers.get("x-user-email"),
        "attrs": {
            "plan": request.headers.get("x-user-plan"),
            "seats": int(request.headers.get("x-user-seats", "0")),
            "admin": request.headers.get("x-user-admin") == "true",
        },
    }
    async with with_user_context(user):
        return await call_next(request)


@app.post("/chat")
async def chat(request: Request):
    body = await request.json()
    await asyncio.sleep(body.get("delay_ms", 0) / 1000)
    prompt = f"Request {request.headers.get('x-request-number')} for {request.headers.get('x-user-id')}"
    response_id = await llm.call_async(client, args.base_url, args.api_key, body["provider"], prompt, body.get("stream", False))
    return {"id": response_id, "user_id": get_user_context()["user_id"]}


def main() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    port = listener.getsockname()[1]
    with open(args.port_file + ".tmp", "w", encoding="utf-8") as port_file:
        port_file.write(str(port))
    os.replace(args.port_file + ".tmp", args.port_file)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
