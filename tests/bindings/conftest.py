"""Fixtures of the binding tests. The TLS test server and agent fixtures are loaded from
the end-to-end tests (tests/e2e/conftest.py). This file adds the built C SDK and the Node
test dependencies."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

BINDINGS_DIR = Path(__file__).resolve().parent
E2E_DIR = BINDINGS_DIR.parent / "e2e"
sys.path.insert(0, str(E2E_DIR))
sys.path.insert(0, str(BINDINGS_DIR))

_spec = importlib.util.spec_from_file_location("e2e_conftest", E2E_DIR / "conftest.py")
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)

tls_cert = _e2e.tls_cert
llm_server = _e2e.llm_server
agent_binary = _e2e.agent_binary
agent_factory = _e2e.agent_factory
agent = _e2e.agent

NODE_TEST_DIR = BINDINGS_DIR / "node"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_agent: runs a binding without the agent")


@pytest.fixture(scope="session")
def sdk_library() -> Path:
    """Path of the built libjamjet.so.0, from JAMJET_SDK_LIB."""
    value = os.environ.get("JAMJET_SDK_LIB")
    if not value:
        pytest.fail("JAMJET_SDK_LIB is not set; set it to the built C SDK, e.g. JAMJET_SDK_LIB=build/sdk/libjamjet.so.0")
    path = Path(value).resolve()
    if not path.is_file():
        pytest.fail(f"JAMJET_SDK_LIB={value} is not a file; build it with 'cmake --build build --target jamjet_sdk'")
    return path


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The Node test dependencies, including the jamjet addon built by npm ci."""
    addon = BINDINGS_DIR.parent.parent / "sdk" / "node" / "build" / "Release" / "jamjet_native.node"
    if not (NODE_TEST_DIR / "node_modules" / "express").is_dir() or not addon.is_file():
        pytest.fail(f"the Node test dependencies or the jamjet addon are missing; run 'npm ci' in {NODE_TEST_DIR}")
    return NODE_TEST_DIR / "node_modules"
