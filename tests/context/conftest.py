"""Fixtures of the user-context end-to-end tests.

They reuse the end-to-end fixtures of tests/e2e (certificate, test server, agent) and add the
paths of the C test programs and an agent started with extra options. Tests fail, never skip,
when a program or the agent is missing or the agent cannot load its BPF programs.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

CONTEXT_DIR = Path(__file__).resolve().parent
E2E_DIR = CONTEXT_DIR.parent / "e2e"
sys.path.insert(0, str(E2E_DIR))

# The e2e conftest is loaded under another module name, because this file is "conftest" too.
_spec = importlib.util.spec_from_file_location("e2e_conftest", E2E_DIR / "conftest.py")
e2e_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e_conftest)

# Fixtures that pytest picks up from this module's namespace.
tls_cert = e2e_conftest.tls_cert
llm_server = e2e_conftest.llm_server
agent_binary = e2e_conftest.agent_binary
agent_factory = e2e_conftest.agent_factory
agent = e2e_conftest.agent

from harness import Agent  # noqa: E402 (needs the path above)


def program_path(variable: str) -> Path:
    """Return the test program that the environment variable names, failing when it is missing."""
    value = os.environ.get(variable)
    if not value:
        pytest.fail(f"{variable} is not set; run the tests through ctest, or set it to the built program")
    path = Path(value).resolve()
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"{variable}={value} is not an executable file; build it first")
    return path


@pytest.fixture
def context_client() -> Path:
    return program_path("JAMJET_CONTEXT_CLIENT")


@pytest.fixture
def context_client_shared() -> Path:
    return program_path("JAMJET_CONTEXT_CLIENT_SHARED")


@pytest.fixture
def registry_fuzz() -> Path:
    return program_path("JAMJET_REGISTRY_FUZZ")


@pytest.fixture
def agent_with_options(llm_server, agent_binary: Path, tmp_path: Path):
    """Return a function that starts an agent with extra command-line options.

    harness.Agent builds the agent's command itself, so the options go through a shell script
    that execs the agent: the agent keeps the script's pid and receives the SIGTERM that
    Agent.stop sends. Agents still running at teardown get SIGTERM.
    """
    started: list[Agent] = []

    def start(*options: str) -> Agent:
        directory = tmp_path / f"agent{len(started)}"
        directory.mkdir()
        wrapper = directory / "run-agent.sh"
        quoted = " ".join(f"'{option}'" for option in options)
        wrapper.write_text(f'#!/bin/sh\nexec \'{agent_binary}\' {quoted} "$@"\n')
        wrapper.chmod(0o755)
        agent = Agent(wrapper, directory)
        started.append(agent)
        return agent.start()

    yield start
    for agent in started:
        if agent.process is not None and agent.process.poll() is None:
            agent.terminate()
