"""`scorehost serve` as a process: starts the bridges, answers, and stops cleanly on SIGTERM."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from scorehost.core.cli import cli
from scorehost.core.errors import ScorehostError


def _start(*args):
    env = {**os.environ, "SCOREHOST_PLUGINS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", *args], stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if match := re.search(r"listening on (http://\S+)", line):
            return proc, match.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("".join(lines))


def test_serve_answers_and_stops_on_sigterm():
    proc, address = _start("--http-port", "0")
    try:
        assert httpx.get(f"{address}/v1/health", timeout=10).json()["status"] == "ok"
        assert address.startswith("http://127.0.0.1:")  # loopback by default
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert "stopping" in proc.stderr.read()


def test_serve_refuses_a_public_bind_without_a_token():
    proc = subprocess.run(
        [sys.executable, "-m", "scorehost.core", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: binding 0.0.0.0 exposes the server")


def test_serve_takes_every_midi_setting_as_a_flag(tmp_path):
    """The flags reach Settings (which forbids unknown fields) before the bind is refused."""
    result = CliRunner().invoke(
        cli,
        ["serve", "--host", "0.0.0.0", "--midi-in", "in", "--midi-out", "out", "--midi-backend", "x"]
        + ["--midi-meter", "3/4", "--midi-save-dir", str(tmp_path)],
    )
    assert isinstance(result.exception, ScorehostError)
    assert str(result.exception).startswith("binding 0.0.0.0 exposes the server")


def test_serve_preloads_models_before_listening():
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0", "--preload", "mmm"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SCOREHOST_PLUGINS": ""},
    )
    try:
        lines = []
        while not any("listening on" in line for line in lines):
            line = proc.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        assert any(line.startswith("scorehost: loaded mmm on cpu") for line in lines), lines
        assert [i for i, x in enumerate(lines) if "loaded mmm" in x] < [
            i for i, x in enumerate(lines) if "listening" in x
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_serve_refuses_to_preload_an_unknown_model():
    proc = subprocess.run(
        [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0", "--preload", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SCOREHOST_PLUGINS": ""},
    )
    assert proc.returncode == 1
    assert "unknown model 'nope'" in proc.stderr.strip().splitlines()[-1]
