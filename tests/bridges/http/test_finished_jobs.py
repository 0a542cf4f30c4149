"""Finished jobs do not pile up: they expire by age (even when nothing else is submitted) and
by the memory their scores hold, and DELETE frees a finished one at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.engine import NOTE_BYTES, Engine
from scorehost.core.score import Note, Score, Track
from scorehost.core.settings import Settings

NOTES = 2000
BIG = Score(
    tracks=[Track(notes=[Note(start=i * 120, duration=120, pitch=40 + i % 40) for i in range(NOTES)])],
    length=NOTES * 120,
)


def _body(score: Score, model: str = "echo", **extra) -> dict:
    return {
        "model": model,
        "score": score.model_dump(),
        "regions": [{"track": 0, "start": 0, "end": 480}],
        **extra,
    }


def _done(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while (job := client.get(f"/v1/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return job


@pytest.fixture
def bridge(host):
    """A bridge over an engine that keeps about three finished jobs' worth of memory."""
    job_bytes = 4096 + NOTE_BYTES * 2 * NOTES  # the request's score and one variation's
    engine = Engine(host, device="cpu", keep_bytes=3 * job_bytes + 1000)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0, max_body_bytes=4 * 1024 * 1024))
    yield bridge, engine
    bridge.stop()
    engine.shutdown(timeout=2)


def test_finished_jobs_are_forgotten_oldest_first_past_their_memory(bridge):
    server, engine = bridge
    with httpx.Client(base_url=server.address(), timeout=30) as client:
        ids = []
        for _ in range(6):
            ids.append(client.post("/v1/jobs", json=_body(BIG)).json()["id"])
            assert _done(client, ids[-1])["status"] == "done"
        last = client.post("/v1/jobs", json=_body(BIG)).json()["id"]  # a submission makes room
        statuses = [client.get(f"/v1/jobs/{i}").status_code for i in ids]
        assert statuses == [404, 404, 404, 200, 200, 200], statuses
        _done(client, last)
        time.sleep(1.5)  # the engine's supervisor trims what finished since, without a submission
        assert client.get(f"/v1/jobs/{ids[3]}").status_code == 404
    assert sum(j.size() for j in engine.jobs.values() if j.done) <= engine.keep_bytes


def test_delete_frees_a_finished_job(bridge):
    server, _ = bridge
    with httpx.Client(base_url=server.address(), timeout=30) as client:
        job_id = client.post("/v1/jobs", json=_body(BIG)).json()["id"]
        _done(client, job_id)
        deleted = client.delete(f"/v1/jobs/{job_id}")
        assert deleted.status_code == 200 and deleted.json()["status"] == "done"
        assert client.get(f"/v1/jobs/{job_id}").json()["error"]["code"] == "unknown_job"
        assert client.get(f"/v1/jobs/{job_id}/result").status_code == 404


def test_finished_jobs_expire_by_age_in_a_real_server(chorale):
    env = {**os.environ, "SCOREHOST_PLUGINS": "", "SCOREHOST_DEVICE": "cpu"}
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"]
    proc = subprocess.Popen(
        [*command, "--finished-jobs-seconds", "1"], stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        while not (match := re.search(r"listening on (http://\S+)", proc.stderr.readline() or "x")):
            assert proc.poll() is None, "serve exited before it listened"
        with httpx.Client(base_url=match.group(1), timeout=60) as client:
            body = _body(chorale, "deepbach", options={"iterations": 1, "seed": 1})
            body["regions"] = [{"track": 3, "start": 0, "end": 1920}]
            job_id = client.post("/v1/jobs", json=body).json()["id"]
            assert _done(client, job_id)["status"] == "done"
            finished = time.monotonic()
            while client.get(f"/v1/jobs/{job_id}").status_code == 200:
                assert time.monotonic() - finished < 5, "a finished job outlived --finished-jobs-seconds 1"
                time.sleep(0.1)
            assert time.monotonic() - finished > 0.5
            assert client.get("/v1/health").json()["jobs"] == 0
    finally:
        proc.terminate()
        proc.wait(20)
