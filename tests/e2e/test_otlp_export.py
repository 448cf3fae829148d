"""Spans of real LLM calls reach an OTLP/HTTP receiver with every attribute, the user's included."""

import json
import os
import sys
from pathlib import Path

import harness

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "otlp"))
import otlp_harness  # noqa: E402

CALLS = 5
OTLP_API_KEY = "otlp-test-KEY-" + os.urandom(6).hex()


def test_otlp_receives_spans_with_user(llm_server, agent_factory, tmp_path):
    sdk_lib = os.environ.get("JAMJET_SDK_LIB")
    assert sdk_lib and Path(sdk_lib).exists(), "set JAMJET_SDK_LIB to the built libjamjet.so"
    received_path = tmp_path / "received.jsonl"
    receiver = otlp_harness.Receiver(tmp_path, record_spans=received_path)
    try:
        env = dict(os.environ, JAMJET_API_KEY=OTLP_API_KEY)
        agent = agent_factory(
            extra_args=(
                "--output", "otlp",
                f"--otlp-endpoint={receiver.url}",
                f"--otlp-state-dir={tmp_path / 'state'}",
                "--otlp-flush-interval-ms=200",
                "--otlp-metrics-port=0",
            ),
            env=env,
        )  # fmt: skip
        agent.server_port = llm_server.port
        mark = llm_server.mark()
        client_env = dict(os.environ)
        if os.environ.get("JAMJET_SANITIZER_PRELOAD"):
            # The sanitized SDK inside an uninstrumented python3 needs the ASan runtime first;
            # leak checks would report python3's own allocations.
            client_env["LD_PRELOAD"] = os.environ["JAMJET_SANITIZER_PRELOAD"]
            client_env["ASAN_OPTIONS"] = "detect_leaks=0"
        pid, output = harness.run_process([
            "/usr/bin/python3", str(Path(__file__).parent / "clients" / "ctypes_context_client.py"),
            sdk_lib, llm_server.base_url() + "/v1", str(llm_server.cert), harness.API_KEY, str(CALLS),
        ], env=client_env)  # fmt: skip
        assert output.strip(), "the client printed nothing"
        client = json.loads(output.strip().splitlines()[-1])
        assert client["pid"] == pid
        local_spans = agent.wait_for_spans(CALLS)
        assert agent.terminate() == 0, "the agent did not exit cleanly"
        records = llm_server.records_since(mark)
        assert len(records) == CALLS

        received = [json.loads(line) for line in received_path.read_text().splitlines()]
        # Other programs on the host may make calls too; keep the calls to this test's server.
        received = [span for span in received if span["attributes"].get("server.port") == llm_server.port]
        by_id = {span["attributes"].get("gen_ai.response.id"): span for span in received}
        assert sorted(by_id) == sorted(client["response_ids"]), f"received ids {sorted(by_id)}"
        local_by_id = {span["attributes"]["gen_ai.response.id"]: span for span in local_spans}

        for response_id in client["response_ids"]:
            span = by_id[response_id]
            local = local_by_id[response_id]
            # The OTLP span carries exactly what the local sink wrote.
            assert span["attributes"] == local["attributes"], f"attributes differ for {response_id}"
            assert span["span_id"] == local["span_id"]
            assert span["trace_id"] == local["trace_id"]
            assert span["name"] == local["name"]
            assert span["start_time_unix_nano"] == local["start_time_unix_nano"]
            assert span["end_time_unix_nano"] == local["end_time_unix_nano"]
            assert span["kind"] == 3, "OTLP SPAN_KIND_CLIENT is 3"
            attributes = span["attributes"]
            assert attributes["user_id"] == "user-otlp-7"
            assert attributes["user.id"] == "user-otlp-7"
            assert attributes["user_email"] == "otlp@example.com"
            assert attributes["user.email"] == "otlp@example.com"
            assert attributes["user_attrs.plan"] == "enterprise"
            assert attributes["user_attrs.seats"] == 42.0
            assert attributes["user_attrs.trial"] is False
            assert attributes["jamjet.user.source"] == "scope"
            assert attributes["process.pid"] == client["pid"]
            assert attributes["thread.id"] == client["thread_id"]
            resource = span["resource"]
            assert resource["process.pid"] == client["pid"]
            assert resource["service.name"] == "python3"
            assert resource["host.name"] == local["resource"]["host.name"]
            assert "[REDACTED]" in resource["process.command_line"]
            assert harness.API_KEY not in resource["process.command_line"]

        stats = receiver.stats()
        assert stats["authorizations"] == [f"Bearer {OTLP_API_KEY}"]
        assert stats["encodings"] == ["gzip"]
        assert OTLP_API_KEY not in agent.stderr_path.read_text(errors="replace")
        agent.assert_no_secrets()
    finally:
        receiver.stop()
