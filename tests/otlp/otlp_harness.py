"""Helpers of the OTLP chaos tests: the receiver process, the driver and the checks.

The tests need two environment variables, set by ctest (tests/otlp/CMakeLists.txt):
OTLP_DRIVER (path of the otlp_driver binary) and OTLP_PB2_DIR (the generated _pb2 modules).
"""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def driver_path():
    path = os.environ.get("OTLP_DRIVER")
    assert path and os.access(path, os.X_OK), "set OTLP_DRIVER to the otlp_driver binary"
    return path


class Receiver:
    """The receiver.py process, on free loopback ports."""

    def __init__(self, tmp_path, down=False, tls=None, record_spans=None):
        self.port = free_port()
        self.control_port = free_port()
        pb2_dir = os.environ.get("OTLP_PB2_DIR")
        assert pb2_dir, "set OTLP_PB2_DIR to the generated _pb2 modules"
        command = [PYTHON, str(HERE / "receiver.py"), "--port", str(self.port),
                   "--control-port", str(self.control_port), "--pb2-dir", pb2_dir]
        if down:
            command.append("--down")
        if record_spans:
            command += ["--record-spans", str(record_spans)]
        if tls:
            command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        self.log = open(tmp_path / "receiver.log", "w")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True)
        assert self.process.stdout.readline().strip() == "receiver ready"
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/v1/traces"

    def control(self, path, payload=None):
        data = json.dumps(payload or {}).encode() if path != "/stats" else None
        url = f"http://127.0.0.1:{self.control_port}{path}"
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return json.loads(response.read())

    def fault(self, mode, count=-1, **options):
        self.control("/fault", {"mode": mode, "count": count, **options})

    def stats(self):
        return self.control("/stats")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def write_config(tmp_path, url, **options):
    """Writes a YAML config with test-friendly defaults; `options` override them."""
    settings = {
        "endpoint": url,
        "state_dir": str(tmp_path / "state"),
        "flush_interval_ms": 200,
        "connect_timeout_ms": 1000,
        "request_timeout_ms": 3000,
        "retry_initial_backoff_ms": 100,
        "retry_max_backoff_ms": 1000,
        "retry_max_elapsed_s": 60,
        "metrics_port": 0,
        "summary_interval_s": 0,
    }
    settings.update(options)
    path = tmp_path / "otlp.yaml"
    lines = ["otlp:"] + [f"  {key}: {json.dumps(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class DriverRun:
    def __init__(self, tmp_path, name):
        self.ids_path = tmp_path / f"{name}.ids"
        self.stats_path = tmp_path / f"{name}.stats.json"
        self.log_path = tmp_path / f"{name}.log"

    def ids(self):
        if not self.ids_path.exists():
            return []
        return self.ids_path.read_text().split()

    def stats(self):
        return json.loads(self.stats_path.read_text())

    def log(self):
        return self.log_path.read_text()


def driver_command(config, run, count, rate, run_id, extra):
    return [driver_path(), "--config", str(config), "--count", str(count), "--rate", str(rate),
            "--ids-out", str(run.ids_path), "--stats-out", str(run.stats_path),
            "--run-id", run_id] + [str(arg) for arg in extra]


def run_driver(tmp_path, config, count, rate=0, name="run", run_id="0000000a", timeout=120,
               extra=(), env=None):
    """Runs the driver to completion and returns its DriverRun."""
    run = DriverRun(tmp_path, name)
    with open(run.log_path, "w") as log:
        result = subprocess.run(driver_command(config, run, count, rate, run_id, extra),
                                stdout=subprocess.DEVNULL, stderr=log, timeout=timeout,
                                env=env)
    assert result.returncode == 0, f"driver failed ({result.returncode}):\n{run.log()}"
    return run


def start_driver(tmp_path, config, count, rate=0, name="run", run_id="0000000a", extra=()):
    """Starts the driver in the background; returns (process, DriverRun)."""
    run = DriverRun(tmp_path, name)
    log = open(run.log_path, "w")
    process = subprocess.Popen(driver_command(config, run, count, rate, run_id, extra),
                               stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    return process, run


def kill_hard(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def dropped(stats, cause):
    return stats["dropped"][cause]


def check_accounting(sent, received, stats, retryable, check_exported=True):
    """Every sent span is received or counted as dropped; duplicates stay at most 1%."""
    sent_set = set(sent)
    assert len(sent_set) == len(sent), "the driver produced duplicate span ids"
    received_set = set(received)
    duplicates = len(received) - len(received_set)
    assert duplicates <= len(sent) // 100, f"{duplicates} duplicate spans of {len(sent)}"
    unknown = received_set - sent_set
    assert not unknown, f"{len(unknown)} received spans were never sent"
    missing = len(sent_set - received_set)
    assert missing == stats["dropped_total"], (
        f"{missing} spans missing at the receiver, {stats['dropped_total']} counted as dropped: "
        f"{stats['dropped']}")
    if retryable:
        assert received_set == sent_set, f"{missing} spans lost under a retryable fault"
    if check_exported:
        assert stats["exported"] == len(received), stats


def check_memory(stats, max_queue_bytes):
    assert stats["max_memory_queue_bytes"] <= max_queue_bytes, stats


def log_lines(text, needle):
    return [line for line in text.splitlines() if needle in line]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def metric_value(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    raise AssertionError(f"metric {name}{labels} not found in:\n{text}")


def make_certificate(tmp_path):
    """Creates a self-signed certificate for 127.0.0.1 (a CA the exporter does not trust)."""
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def stderr_print(*args):
    print(*args, file=sys.stderr)
