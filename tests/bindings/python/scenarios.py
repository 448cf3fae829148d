"""Python test applications that are not servers. Each prints one JSON object on stdout:
{pid, comm, calls: [{id, expected}]}, where expected is the user that the agent must report
for the call: {source, user_id?, email?, attrs?}.

Usage: scenarios.py SCENARIO --base-url URL --api-key KEY --cacert FILE [--count N]
  cli         one user through set_user_context, then cleared with set_user_context(None)
  precedence  a process-level user, and scopes in asyncio tasks, threads and executors
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import threading

import httpx

import llm
from jamjet.cloud import set_user_context, with_user_context

parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
parser.add_argument("scenario", choices=("cli", "precedence"))
parser.add_argument("--base-url", required=True)
parser.add_argument("--api-key", required=True)
parser.add_argument("--cacert", required=True)
parser.add_argument("--count", type=int, default=12)
args = parser.parse_args()


def user_number(index: int) -> dict:
    return {
        "user_id": f"user-{index}",
        "email": f"user{index}@example.com",
        "attrs": {"plan": "pro" if index % 2 else "free", "seats": index * 3, "admin": index % 3 == 0},
    }


def scoped(user: dict) -> dict:
    return {"source": "scope", **user}


def cli() -> list[dict]:
    user = {"user_id": "cli-user", "email": "cli@example.com", "attrs": {"plan": "team", "seats": 5, "trial": False}}
    calls = []
    with httpx.Client(verify=args.cacert, timeout=60) as client:
        set_user_context(user)
        calls.append({"id": llm.call(client, args.base_url, args.api_key, "openai", "cli 1"), "expected": {"source": "process", **user}})
        calls.append({"id": llm.call(client, args.base_url, args.api_key, "anthropic", "cli 2", stream=True), "expected": {"source": "process", **user}})
        set_user_context(None)
        calls.append({"id": llm.call(client, args.base_url, args.api_key, "openai", "cli 3"), "expected": {"source": "none"}})
        calls.append({
            "id": llm.call(client, args.base_url, args.api_key, "openai", "cli 4", end_user="body-user"),
            "expected": {"source": "request_body", "user_id": "body-user"},
        })  # fmt: skip
    return calls


def precedence() -> list[dict]:
    process_user = {"user_id": "process-user", "email": "process@example.com", "attrs": {"role": "batch"}}
    set_user_context(process_user)
    calls: list[dict] = []
    lock = threading.Lock()
    client = httpx.Client(verify=args.cacert, timeout=60)

    def call_and_record(expected: dict, prompt: str, **options) -> None:
        response_id = llm.call(client, args.base_url, args.api_key, "openai", prompt, **options)
        with lock:
            calls.append({"id": response_id, "expected": expected})

    async def in_task(index: int) -> None:
        async with httpx.AsyncClient(verify=args.cacert, timeout=60) as async_client:
            async with with_user_context(user_number(index)):
                await asyncio.sleep(random.random() / 50)
                # A body end-user id loses to the scope too.
                response_id = await llm.call_async(async_client, args.base_url, args.api_key, "openai", f"task {index}", stream=index % 2 == 0)
                calls.append({"id": response_id, "expected": scoped(user_number(index))})
                # asyncio.to_thread and run_in_executor carry the task's context.
                await asyncio.to_thread(call_and_record, scoped(user_number(index)), f"to_thread {index}")
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, call_and_record, scoped(user_number(index)), f"executor {index}")
            # Outside the scope again: the process user.
            await asyncio.to_thread(call_and_record, {"source": "process", **process_user}, f"after {index}")

    async def tasks() -> None:
        await asyncio.gather(*(in_task(index) for index in range(args.count)))

    asyncio.run(tasks())

    # A thread started inside a scope inherits it; one started outside gets the process user.
    with with_user_context(user_number(100)):
        inside = threading.Thread(target=call_and_record, args=(scoped(user_number(100)), "thread inside", ), kwargs={"end_user": "body-user"})
        inside.start()
        with concurrent.futures.ThreadPoolExecutor(2) as executor:
            executor.submit(call_and_record, scoped(user_number(100)), "pool inside").result()
    outside = threading.Thread(target=call_and_record, args=({"source": "process", **process_user}, "thread outside"))
    outside.start()
    inside.join()
    outside.join()
    client.close()
    set_user_context(None)
    return calls


if __name__ == "__main__":
    result = cli() if args.scenario == "cli" else precedence()
    with open("/proc/self/comm", encoding="utf-8") as comm:
        print(json.dumps({"pid": os.getpid(), "comm": comm.read().strip(), "calls": result}))
