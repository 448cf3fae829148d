"""Fixtures of the end-to-end tests: the TLS test server and the agent.

The server runs once per session as a subprocess. The agent runs once per test, so that
each test sees only its own spans and can require an exact span count. Tests that use
the agent fail (never skip) when JAMJET_AGENT is unset, the binary is missing, the tests
do not run as root, or the agent exits before its probes are attached.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import E2E_DIR, OPENSSL, POLL_INTERVAL_S, PYTHON, Agent, LLMServer, tail


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_agent: checks the test server and clients without the agent")


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Generate a self-signed certificate for 127.0.0.1, ::1 and localhost, valid 2 days."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, f"openssl failed to create the test certificate: {completed.stderr}"
    return cert, key


@pytest.fixture(scope="session")
def llm_server(tls_cert, tmp_path_factory: pytest.TempPathFactory):
    cert, key = tls_cert
    directory = tmp_path_factory.mktemp("llm_server")
    records_path, port_path, log_path = directory / "records.jsonl", directory / "port", directory / "server.log"
    command = [
        PYTHON, str(E2E_DIR / "llm_server.py"), "--host", "127.0.0.1", "--port", "0",
        "--cert", str(cert), "--key", str(key), "--records", str(records_path), "--port-file", str(port_path),
    ]  # fmt: skip
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not port_path.exists():
            if process.poll() is not None:
                pytest.fail(f"the test server exited with {process.returncode} before listening:\n{tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for the test server to listen:\n{tail(log_path)}")
            time.sleep(POLL_INTERVAL_S)
        yield LLMServer(int(port_path.read_text()), cert, records_path, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def agent_binary() -> Path:
    value = os.environ.get("JAMJET_AGENT")
    if not value:
        pytest.fail("JAMJET_AGENT is not set; set it to the jamjet-agent binary, e.g. JAMJET_AGENT=build/agent/jamjet-agent")
    binary = Path(value).resolve()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(f"JAMJET_AGENT={value} is not an executable file; build the agent first")
    if os.geteuid() != 0:
        pytest.fail("the agent needs root to load BPF programs; run the end-to-end tests as root")
    return binary


@pytest.fixture
def agent_factory(agent_binary: Path, tmp_path: Path):
    """Return a function that starts an agent. Agents still running at teardown get SIGTERM."""
    started: list[Agent] = []

    def start(extra_args: tuple = (), env: dict | None = None) -> Agent:
        directory = tmp_path / f"agent{len(started)}"
        directory.mkdir()
        agent = Agent(agent_binary, directory, extra_args, env)
        started.append(agent)
        return agent.start()

    yield start
    for agent in started:
        if agent.process is not None and agent.process.poll() is None:
            agent.terminate()


@pytest.fixture
def agent(llm_server: LLMServer, agent_factory) -> Agent:
    """Agent started after the test server, before the test's clients."""
    agent = agent_factory()
    agent.server_port = llm_server.port
    return agent
