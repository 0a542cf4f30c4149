"""A real `scorehost serve` and a headless MuseScore 3 for the plugin tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scorehost.bridges.musescore import PLUGIN_FILES, PLUGIN_QML

MSCORE = shutil.which("mscore3") or shutil.which("musescore3")


@pytest.fixture(scope="session")
def server():
    """One server for every plugin test: starting it (and loading a model) is the slow part."""
    env = {**os.environ, "SCOREHOST_PLUGINS": "", "SCOREHOST_DEVICE": "cpu"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    address = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and address is None:
        line = proc.stderr.readline()
        if match := re.search(r"listening on (http://\S+)", line):
            address = match.group(1)
        elif proc.poll() is not None:
            break
    if address is None:
        proc.kill()
        pytest.fail("scorehost serve did not start")
    # Keep reading its stderr: a full pipe would block the server mid-request after a few tests
    # (the plugin then reports that it cannot reach the server).
    threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
    yield address
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)


SERVER_LOG: list[str] = []


def _drain(stream) -> None:
    for line in stream:
        SERVER_LOG.append(line)


def run_plugin(
    server, score_path: Path, folder: Path, plugin: Path = PLUGIN_QML, **settings
) -> tuple[Path, str]:
    """Run a plugin headless on a score, installed as a user would (every plugin file side by
    side, scorehost.json beside them); it saves the edited score as out.musicxml.
    Returns that path and the plugin's log lines."""
    for path in PLUGIN_FILES:
        shutil.copy(path, folder / path.name)
    saved = folder / "out.musicxml"
    sidecar = {
        "server": server,
        "model": "deepbach",
        "autorun": True,
        "save_as": str(saved),
        "options": {"seed": 3},
    } | settings
    (folder / "scorehost.json").write_text(json.dumps(sidecar))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(folder)}
    proc = subprocess.run(
        [MSCORE, "-p", str(folder / plugin.name), str(score_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    log = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if "scorehost:" in line)
    return saved, log
