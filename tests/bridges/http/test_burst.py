"""A burst of 200 concurrent clients against a real `scorehost serve`, each on its own
connection, all let go at once: edits (synchronous, as MIDI, and as jobs) with the example
plugin's model, health and model listings, and requests that must be refused (an unknown model,
a body that is not JSON, a path outside the allowed folders). Each gets exactly one answer, the
one it should, in the documented shape; the jobs all finish; the server stays up and logs no
traceback. (The slowloris guard counts connections that have not sent their request: two
hundred from one address at once must not be taken for an attack.)"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
import time
from importlib.util import find_spec

import httpx
import pytest

from scorehost.core.score import Score
from scorehost.core.scoreio import read_score_bytes

CLIENTS = 200

pytestmark = pytest.mark.skipif(
    find_spec("scorehost_thirds") is None,
    reason="the example plugin is not installed: pip install ./examples/scorehost-thirds",
)


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "SCOREHOST_PLUGINS": "thirds", "SCOREHOST_DEVICE": "cpu"}
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"]
    command += ["--queue-size", str(CLIENTS), "--allow-dir", str(tmp_path)]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    log: list[str] = []
    try:
        while not (match := re.search(r"listening on (http://\S+)", proc.stderr.readline() or "x")):
            assert proc.poll() is None, "serve exited before it listened"
        reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
        reader.start()  # drained, so the access log never fills the pipe
        yield match.group(1), proc, log
    finally:
        proc.terminate()
        proc.wait(20)


def _edit(chorale: Score, **extra) -> dict:
    body = {
        "model": "thirds-below",
        "score": chorale.model_dump(),
        "regions": [{"track": "alto", "bars": "2-3"}],
        "options": {"source": "soprano"},
    }
    return body | extra


KINDS = ("edit", "job", "health", "unknown-model", "not-json", "models", "outside", "edit-midi")
EXPECTED = {
    "edit": (200, None),
    "job": (202, None),
    "health": (200, None),
    "unknown-model": (404, "unknown_model"),
    "not-json": (400, "bad_json"),
    "models": (200, None),
    "outside": (403, "path_not_allowed"),
    "edit-midi": (200, None),
}


def test_200_concurrent_clients_each_get_one_answer_and_the_server_stays_up(server, chorale):
    address, proc, log = server
    start = threading.Barrier(CLIENTS, timeout=30)
    answers: dict[int, httpx.Response] = {}
    failures: dict[int, BaseException] = {}

    def call(i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        try:
            with httpx.Client(base_url=address, timeout=60) as client:
                start.wait()
                if kind == "edit":
                    answer = client.post("/v1/edit", json=_edit(chorale))
                elif kind == "edit-midi":
                    answer = client.post("/v1/edit", params={"format": "midi"}, json=_edit(chorale))
                elif kind == "job":
                    answer = client.post("/v1/jobs", json=_edit(chorale))
                elif kind == "health":
                    answer = client.get("/v1/health")
                elif kind == "models":
                    answer = client.get("/v1/models")
                elif kind == "unknown-model":
                    answer = client.post("/v1/edit", json=_edit(chorale, model="nope"))
                elif kind == "not-json":
                    headers = {"Content-Type": "application/json"}
                    answer = client.post("/v1/edit", content=b'{"model": ', headers=headers)
                else:
                    answer = client.post(
                        "/v1/edit", json=_edit(chorale, score=None, score_path="/etc/hosts.mid")
                    )
                answers[i] = answer
        except BaseException as exc:  # noqa: BLE001  (reported below, by client)
            failures[i] = exc

    started = time.monotonic()
    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, 90 - (time.monotonic() - started)))
    took = time.monotonic() - started
    assert not failures, {i: repr(exc) for i, exc in list(failures.items())[:5]}
    assert sorted(answers) == list(range(CLIENTS)), f"{CLIENTS - len(answers)} clients got no answer"
    for i, answer in answers.items():
        kind = KINDS[i % len(KINDS)]
        status, code = EXPECTED[kind]
        assert answer.status_code == status, (i, kind, answer.status_code, answer.text[:300])
        if code is not None:
            assert answer.json()["error"]["code"] == code, (i, kind, answer.text[:300])
    edited = [a.json() for i, a in answers.items() if KINDS[i % len(KINDS)] == "edit"]
    altos = [Score.model_validate(e["variations"][0]["score"]).tracks[1].notes for e in edited]
    assert altos[0] and altos[0] != chorale.tracks[1].notes  # bars 2-3 rewritten ...
    assert all(alto == altos[0] for alto in altos)  # ... the same way for every client
    midi = next(a.json() for i, a in answers.items() if KINDS[i % len(KINDS)] == "edit-midi")
    assert read_score_bytes(base64.b64decode(midi["variations"][0]["score_midi_base64"]), ".mid").tracks
    assert took < 60, took

    # the jobs all finish, and the server still answers
    jobs = [a.json()["id"] for i, a in answers.items() if KINDS[i % len(KINDS)] == "job"]
    with httpx.Client(base_url=address, timeout=10) as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses = {client.get(f"/v1/jobs/{job}").json()["status"] for job in jobs}
            if statuses == {"done"}:
                break
            time.sleep(0.2)
        assert statuses == {"done"}, statuses
        assert client.get("/v1/health").json()["status"] == "ok"
    assert proc.poll() is None
    assert not [line for line in log if "Traceback" in line], "".join(log)[-3000:]
