"""Score limits over HTTP: a score too long is refused at once, and the server keeps answering."""

import time

import pytest

from scorehost.core.score import MAX_TICKS


@pytest.mark.parametrize("path", ["/v1/edit", "/v1/jobs"])
def test_a_score_past_the_tick_limit_is_refused_at_once(serve, chorale, path):
    client = serve()
    body = {"model": "echo", "score": chorale.model_dump(), "regions": [{"track": 1, "start": 0, "end": 480}]}
    body["score"]["length"] = 1_000_000_000  # froze the server and grew past 14 GB
    started = time.monotonic()
    answer = client.post(path, json=body)
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert error["code"] == "too_large" and f"past the limit of {MAX_TICKS:,} ticks" in error["message"]
    assert time.monotonic() - started < 5
    assert client.get("/v1/health").status_code == 200
