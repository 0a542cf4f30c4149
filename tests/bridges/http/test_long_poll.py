"""GET /v1/jobs/{id}?wait=S: long polling, for clients whose requests time out (MuseScore's
plugins, whose requests end after 30 s)."""

from __future__ import annotations

import time

from scorehost.core.score import Note, Score, Track

SCORE = Score(length=1920, tracks=[Track(name="A", notes=[Note(start=0, duration=480, pitch=60)])])


def test_a_long_poll_answers_when_the_job_ends_or_when_the_wait_is_over(serve):
    client = serve()
    body = {"model": "slow", "score": SCORE.model_dump(), "regions": [{"track": 0, "start": 0, "end": 960}]}
    body["options"] = {"seconds": 2.0}
    job = client.post("/v1/jobs", json=body).json()
    started = time.monotonic()
    early = client.get(f"/v1/jobs/{job['id']}", params={"wait": 0.3}).json()
    assert early["status"] in ("queued", "running") and time.monotonic() - started < 1.5
    done = client.get(f"/v1/jobs/{job['id']}", params={"wait": 20}).json()
    took = time.monotonic() - started
    assert done["status"] == "done" and 1.5 < took < 6, took  # when the job ended, not after 20 s
    assert client.get(f"/v1/jobs/{job['id']}", params={"wait": 26}).status_code == 422  # 25 s at most
