"""SIGTERM to `scorehost serve` while a synchronous edit runs: the edit is answered with a JSON
503 that says the server is stopping, the process exits 0, and nothing logs a traceback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx


def test_sigterm_answers_a_running_sync_edit_with_json_503(chorale):
    env = {**os.environ, "SCOREHOST_PLUGINS": "", "SCOREHOST_DEVICE": "cpu"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        address = None
        while address is None:
            line = proc.stderr.readline()
            assert line, "serve exited before it listened"
            if match := re.search(r"listening on (http://\S+)", line):
                address = match.group(1)
        body = {
            "model": "deepbach",
            "score": chorale.model_dump(),
            "regions": [{"track": t, "start": 0, "end": chorale.length} for t in (1, 2, 3)],
            "options": {"iterations": 2000, "seed": 1},
            "timeout": 600,
        }
        answers: list[httpx.Response] = []
        edit = threading.Thread(
            target=lambda: answers.append(httpx.post(f"{address}/v1/edit", json=body, timeout=120))
        )
        edit.start()
        deadline = time.monotonic() + 60
        while httpx.get(f"{address}/v1/health", timeout=10).json()["jobs"] == 0:
            assert time.monotonic() < deadline and edit.is_alive()
            time.sleep(0.05)
        time.sleep(1.0)  # the edit is under way
        proc.send_signal(signal.SIGTERM)
        edit.join(60)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = proc.stderr.read()
    assert len(answers) == 1
    answer = answers[0]
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == "busy" and "shutting down" in error["message"]
    assert "Traceback" not in log and "ERROR" not in log, log
