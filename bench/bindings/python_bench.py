"""Cost of the Python binding (sdk/python) for an application that never calls it and for one
that wraps every request in with_user_context().

Usage: python_bench.py --url https://127.0.0.1:PORT/ --cacert FILE [--requests N] [--rounds R]
(run_benchmarks.py starts the local TLS server and sets JAMJET_SDK_LIB.) Each round runs three
child processes, one per mode, in turn:
  plain   httpx only; jamjet is never imported
  loaded  jamjet.cloud is imported but never called
  scoped  every request runs inside with_user_context() with its own context
and prints per-request times for sequential httpx.Client GET requests and for 16 concurrent
asyncio tasks sharing an httpx.AsyncClient (POST requests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk" / "python"
CONCURRENCY = 16
BODY = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello."}]})


def user_context(index: int) -> dict:
    return {"user_id": f"user-{index % 50}", "email": f"user{index % 50}@example.com", "attrs": {"plan": "pro", "seats": index % 50, "admin": False}}


def child(args: argparse.Namespace) -> dict:
    import httpx

    result: dict = {"mode": args.mode}
    scope = None
    if args.mode != "plain":
        sys.path.insert(0, str(SDK_DIR))
        from jamjet import cloud

        if args.mode == "scoped":
            scope = cloud.with_user_context
            iterations = 100_000
            start = time.perf_counter_ns()
            for index in range(iterations):
                with cloud.with_user_context(user_context(index)):
                    pass
            result["with_user_context_ns"] = (time.perf_counter_ns() - start) / iterations

    # httpx.Client sends a POST's headers and body in two writes, and the second one waits
    # for the server's delayed ACK (about 40 ms), so the sequential requests are GETs.
    def send(client, index: int) -> None:
        if scope is None:
            client.get(args.url).read()
            return
        with scope(user_context(index)):
            client.get(args.url).read()

    with httpx.Client(verify=args.cacert) as client:
        for index in range(200):
            send(client, index)
        start = time.perf_counter_ns()
        for index in range(args.requests):
            send(client, index)
        result["sequential"] = (time.perf_counter_ns() - start) / args.requests / 1000

    async def send_async(client, index: int) -> None:
        if scope is None:
            await client.post(args.url, content=BODY)
            return
        async with scope(user_context(index)):
            await client.post(args.url, content=BODY)

    async def concurrent() -> float:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(verify=args.cacert, limits=limits) as client:
            for index in range(200):
                await send_async(client, index)
            counter = iter(range(args.requests))

            async def worker() -> None:
                for index in counter:
                    await send_async(client, index)

            start = time.perf_counter_ns()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            return (time.perf_counter_ns() - start) / args.requests / 1000

    result["concurrent"] = asyncio.run(concurrent())
    return result


def parent(args: argparse.Namespace) -> dict:
    modes = ("plain", "loaded", "scoped")
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            command = [sys.executable, __file__, "--url", args.url, "--cacert", args.cacert, "--requests", str(args.requests), "--mode", mode]
            runs[mode].append(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout))
    summary = {
        mode: {
            "sequential_us": statistics.median(run["sequential"] for run in runs[mode]),
            "concurrent_us": statistics.median(run["concurrent"] for run in runs[mode]),
        }
        for mode in modes
    }
    summary["scoped"]["with_user_context_ns"] = statistics.median(run["with_user_context_ns"] for run in runs["scoped"])
    return {"python": sys.version.split()[0], "requests": args.requests, "rounds": args.rounds, "concurrency": CONCURRENCY, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--cacert", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", choices=("plain", "loaded", "scoped"))
    args = parser.parse_args()
    result = child(args) if args.mode else parent(args)
    print(json.dumps(result, indent=None if args.mode else 2))


if __name__ == "__main__":
    main()
