"""Chaos scenarios of the OTLP exporter: the real OtlpSink (via otlp_driver) against receiver.py.

Each scenario checks that every span the driver produced is either received or counted as
dropped under the expected cause, that retryable faults lose nothing, that duplicates stay at
most 1% and that the memory queue stays within its cap.
"""

import os
import subprocess
import time

import pytest

from otlp_harness import (Receiver, check_accounting, check_memory, dropped, free_port,
                          kill_hard, log_lines, make_certificate, metric_value, run_driver,
                          scrape, start_driver, wait_for, write_config)

MEMORY_CAP = 256 * 1024  # max_queue_bytes of the scenarios that check the memory cap


@pytest.fixture
def receiver(tmp_path):
    server = Receiver(tmp_path)
    yield server
    server.stop()


def assert_all_received(run, receiver, retries_expected=True):
    stats = run.stats()
    received = receiver.stats()["accepted"]
    check_accounting(run.ids(), received, stats, retryable=True)
    assert stats["dropped_total"] == 0, stats["dropped"]
    if retries_expected:
        assert stats["retries"] > 0, stats
    return stats


def test_healthy_endpoint(tmp_path, receiver):
    config = write_config(tmp_path, receiver.url, max_queue_bytes=MEMORY_CAP)
    env = dict(os.environ, JAMJET_API_KEY="test-key-1")
    run = run_driver(tmp_path, config, count=3000, env=env)
    stats = assert_all_received(run, receiver, retries_expected=False)
    check_memory(stats, MEMORY_CAP)
    received = receiver.stats()
    assert received["decode_errors"] == 0
    assert received["authorizations"] == ["Bearer test-key-1"]
    assert received["encodings"] == ["gzip"]
    assert all(spans <= 512 for _, _, spans in received["requests"])
    assert received["resource_spans"] == 3 * len(received["requests"])  # 3 processes
    assert "test-key-1" not in run.log()


def test_api_key_file_and_no_gzip(tmp_path, receiver):
    key_file = tmp_path / "api-key"
    key_file.write_text("file-key-2\n")
    config = write_config(tmp_path, receiver.url, api_key_file=str(key_file), gzip=False)
    env = {k: v for k, v in os.environ.items() if k != "JAMJET_API_KEY"}
    run = run_driver(tmp_path, config, count=200, env=env)
    assert_all_received(run, receiver, retries_expected=False)
    assert receiver.stats()["authorizations"] == ["Bearer file-key-2"]
    assert receiver.stats()["encodings"] == [""]


def test_receiver_down_60s(tmp_path):
    """60 s outage under steady load: memory stays capped, the disk queue absorbs the rest."""
    receiver = Receiver(tmp_path, down=True)
    try:
        metrics_port = free_port()
        config = write_config(tmp_path, receiver.url, max_queue_bytes=MEMORY_CAP,
                              metrics_port=metrics_port, retry_max_backoff_ms=2000,
                              retry_max_elapsed_s=120)
        process, run = start_driver(tmp_path, config, count=13000, rate=200,
                                    extra=["--drain-timeout-s", 60])
        time.sleep(30)
        text = scrape(metrics_port)
        assert metric_value(text, "jamjet_otlp_retries_total") > 0
        assert metric_value(text, "jamjet_otlp_queue_spans", '{queue="disk"}') > 1000
        assert metric_value(text, "jamjet_otlp_queue_bytes", '{queue="memory"}') <= MEMORY_CAP
        time.sleep(30)
        receiver.control("/up")
        assert process.wait(timeout=120) == 0, run.log()
        stats = assert_all_received(run, receiver)
        check_memory(stats, MEMORY_CAP)
        print(f"60 s outage: peak RSS {stats['peak_rss_kib']} KiB, memory queue peak "
              f"{stats['max_memory_queue_bytes']} bytes")
    finally:
        receiver.stop()


@pytest.mark.parametrize("retry_after", [2, "date:3"], ids=["seconds", "http_date"])
def test_429_with_retry_after(tmp_path, receiver, retry_after):
    receiver.fault("status", count=2, status=429, retry_after=retry_after)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=500)
    assert_all_received(run, receiver)
    times = [t for t, _, _ in receiver.stats()["requests"]]
    # Backoff alone would wait at most 100 ms and 200 ms; Retry-After requests about 2 s each.
    assert times[1] - times[0] >= 1.0, times
    assert times[2] - times[1] >= 1.0, times


def test_503_without_retry_after(tmp_path, receiver):
    receiver.fault("status", count=3, status=503)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=1000)
    stats = assert_all_received(run, receiver)
    assert stats["responses"]["503"] == 3


@pytest.mark.parametrize("status", [400, 401, 500])
def test_permanent_status_is_dropped_once(tmp_path, receiver, status):
    receiver.fault("status", status=status)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=2048)
    stats = run.stats()
    check_accounting(run.ids(), receiver.stats()["accepted"], stats, retryable=False)
    assert dropped(stats, "permanent_error") == 2048
    requests = receiver.stats()["requests"]
    assert len(requests) == 4, "one request per batch of 512, no retries"
    assert stats["retries"] == 0
    lines = log_lines(run.log(), f"HTTP {status}")
    assert len(lines) == 1, lines


def test_413_splits_once(tmp_path, receiver):
    receiver.fault("too_large", max_spans=300)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=1024)
    assert_all_received(run, receiver, retries_expected=False)
    requests = receiver.stats()["requests"]
    assert [outcome for _, outcome, _ in requests].count(413) == 2


def test_413_drops_after_split(tmp_path, receiver):
    receiver.fault("too_large", max_spans=100)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=1024)
    stats = run.stats()
    check_accounting(run.ids(), receiver.stats()["accepted"], stats, retryable=False)
    assert dropped(stats, "too_large") == 1024
    assert len(receiver.stats()["requests"]) == 6  # 2 batches, each split once into 2 halves


def test_partial_success(tmp_path, receiver):
    receiver.fault("partial", reject=7)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=1024)
    stats = run.stats()
    check_accounting(run.ids(), receiver.stats()["accepted"], stats, retryable=False)
    requests = len(receiver.stats()["requests"])
    assert dropped(stats, "partial_rejection") == 7 * requests
    assert stats["retries"] == 0


def test_hanging_receiver(tmp_path, receiver):
    receiver.fault("hang", count=2)
    config = write_config(tmp_path, receiver.url, request_timeout_ms=1000)
    run = run_driver(tmp_path, config, count=500)
    assert_all_received(run, receiver)


def test_slow_receiver(tmp_path, receiver):
    """Small batches complete at 1 KiB/s; a large one times out, is retried and gets through."""
    receiver.fault("slow", bytes_per_s=1024)
    config = write_config(tmp_path, receiver.url, max_batch_spans=10, request_timeout_ms=5000)
    run = run_driver(tmp_path, config, count=40)
    assert_all_received(run, receiver, retries_expected=False)
    assert min(seconds for seconds in request_durations(receiver)) > 0.3

    receiver.fault("slow", count=1, bytes_per_s=1024)
    config = write_config(tmp_path, receiver.url, request_timeout_ms=1500)
    run = run_driver(tmp_path, config, count=512, name="large", run_id="0000000b")
    stats = run.stats()
    assert stats["dropped_total"] == 0, stats
    assert stats["retries"] >= 1, stats
    assert set(run.ids()) <= set(receiver.stats()["accepted"])


def request_durations(receiver):
    """Returns the gaps between consecutive requests, a lower bound of each request's time."""
    times = [t for t, _, _ in receiver.stats()["requests"]]
    return [later - earlier for earlier, later in zip(times, times[1:])]


def test_connection_reset_mid_body(tmp_path, receiver):
    receiver.fault("reset", count=3, after_bytes=200)
    config = write_config(tmp_path, receiver.url)
    run = run_driver(tmp_path, config, count=1000)
    stats = assert_all_received(run, receiver)
    assert stats["responses"]["0"] >= 3


def test_tls_unknown_ca(tmp_path):
    cert, key = make_certificate(tmp_path)
    receiver = Receiver(tmp_path, tls=(cert, key))
    try:
        config = write_config(tmp_path, receiver.url, retry_max_elapsed_s=3)
        run = run_driver(tmp_path, config, count=600)
        stats = run.stats()
        check_accounting(run.ids(), receiver.stats()["accepted"], stats, retryable=False)
        assert dropped(stats, "retry_exhausted") == 600
        assert stats["retries"] > 0
        # The same server is accepted once its certificate is trusted.
        config = write_config(tmp_path, receiver.url, ca_file=str(cert))
        run = run_driver(tmp_path, config, count=300, name="trusted", run_id="0000000b")
        stats = run.stats()
        assert stats["dropped_total"] == 0, stats
        assert set(run.ids()) <= set(receiver.stats()["accepted"])
    finally:
        receiver.stop()


def test_kill_during_outage_then_restart(tmp_path):
    receiver = Receiver(tmp_path, down=True)
    try:
        config = write_config(tmp_path, receiver.url)
        process, first = start_driver(tmp_path, config, count=3000, name="first",
                                      extra=["--hold-s", 300])
        assert wait_for(lambda: len(first.ids()) == 3000, timeout=30)
        time.sleep(1.0)  # two disk sync periods
        kill_hard(process)
        receiver.control("/up")
        second = run_driver(tmp_path, config, count=0, name="second")
        received = receiver.stats()["accepted"]
        assert set(first.ids()) <= set(received)
        duplicates = len(received) - len(set(received))
        assert duplicates <= 30, duplicates
        assert second.stats()["dropped_total"] == 0
    finally:
        receiver.stop()


def test_unwritable_state_dir_uses_memory(tmp_path, receiver):
    config = write_config(tmp_path, receiver.url, state_dir="/dev/null/jamjet")
    run = run_driver(tmp_path, config, count=1000)
    assert_all_received(run, receiver, retries_expected=False)
    assert log_lines(run.log(), "the disk queue is off")
    assert run.stats()["disk_enabled"] is False


def test_full_disk_falls_back_to_memory(tmp_path, receiver):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                   check=True)
    try:
        config = write_config(tmp_path, receiver.url, state_dir=str(mount_point),
                              max_queue_bytes=4 * 1024 * 1024)
        run = run_driver(tmp_path, config, count=3000)
        assert_all_received(run, receiver, retries_expected=False)
        assert log_lines(run.log(), "keeping spans in memory only")
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_shutdown_with_hanging_endpoint(tmp_path, receiver):
    """Shutdown returns soon after its deadline; unsent spans stay on disk for the next start."""
    receiver.fault("hang")
    config = write_config(tmp_path, receiver.url, request_timeout_ms=30000)
    first = run_driver(tmp_path, config, count=1000, name="first",
                       extra=["--drain-timeout-s", 1, "--shutdown-s", 3])
    stats = first.stats()
    assert 2.5 <= stats["shutdown_seconds"] <= 4.5, stats
    assert stats["exported"] == 0
    assert stats["dropped_total"] == 0, stats["dropped"]
    assert stats["disk_spans"] == 1000
    receiver.fault("ok")
    run_driver(tmp_path, config, count=0, name="second")
    assert set(first.ids()) <= set(receiver.stats()["accepted"])
