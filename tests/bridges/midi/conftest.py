"""MIDI bridge fixtures: a JACK server with the dummy driver (virtual ports without sound
hardware, as in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"


def _jack_running(env) -> bool:
    if not shutil.which("jack_lsp"):
        return False
    probe = subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=10)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def jack():
    """A JACK server: the one running, or jackd with the dummy driver started for the session."""
    if not shutil.which("jackd"):
        pytest.skip("jackd is not installed (apt-get install jackd2); live MIDI needs a JACK server here")
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    started = None
    if not _jack_running(env):
        log = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the server
        # Realtime scheduling (JACK's default; where it is not allowed jackd says so and runs
        # without): without it a loaded machine makes clients miss cycles, and JACK drops those
        # cycles' MIDI (clock pulses the bridge can only put back when their times show it).
        started = subprocess.Popen(
            ["jackd", "-d", "dummy", "-r", "48000", "-p", "256"],
            env={**env, "JACK_NO_AUDIO_RESERVATION": "1"},
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 15
        if not shutil.which("jack_lsp"):  # cannot ask the server: give it a moment
            time.sleep(1.5)
        while shutil.which("jack_lsp") and not _jack_running(env):
            if started.poll() is not None or time.monotonic() > deadline:
                started.kill()
                raise RuntimeError("jackd -d dummy did not start")
            time.sleep(0.1)
        if started.poll() is not None:
            raise RuntimeError(f"jackd -d dummy exited with status {started.returncode}")
    yield JACK_BACKEND
    if started is not None:
        started.terminate()
        try:
            started.wait(10)
        except subprocess.TimeoutExpired:
            started.kill()
