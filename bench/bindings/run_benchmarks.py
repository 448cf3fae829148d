#!/usr/bin/python3
"""Run the Node and Python binding benchmarks against a local TLS server on 127.0.0.1.

Usage: JAMJET_SDK_LIB=build/sdk/libjamjet.so.0 bench/bindings/run_benchmarks.py [--requests N] [--rounds R]
Needs the Node addon built (npm install in sdk/node) and /usr/bin/openssl. Runs no agent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("JAMJET_SDK_LIB"):
        parser.error("set JAMJET_SDK_LIB to the built libjamjet.so.0")
    with tempfile.TemporaryDirectory() as directory:
        cert, key, port_file = Path(directory, "cert.pem"), Path(directory, "key.pem"), Path(directory, "port")
        subprocess.run(
            ["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        server = subprocess.Popen(["/usr/bin/python3", str(HERE / "tls_echo_server.py"), "--cert", str(cert), "--key", str(key), "--port-file", str(port_file)])
        try:
            deadline = time.monotonic() + 15
            while not port_file.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the benchmark server did not start")
                time.sleep(0.05)
            url = f"https://127.0.0.1:{port_file.read_text()}/v1/chat/completions"
            common = ["--url", url, "--requests", str(args.requests), "--rounds", str(args.rounds)]
            node = subprocess.run(["/usr/bin/node", str(HERE / "node_bench.mjs"), *common], env=dict(os.environ, NODE_EXTRA_CA_CERTS=str(cert)), check=True, capture_output=True, text=True)
            python = subprocess.run(["/usr/bin/python3", str(HERE / "python_bench.py"), *common, "--cacert", str(cert)], check=True, capture_output=True, text=True)
            print(json.dumps({"node": json.loads(node.stdout), "python": json.loads(python.stdout)}, indent=2))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
