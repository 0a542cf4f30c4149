"""theme over real HTTP: 16 bars of a folk tune developed from its 4-bar theme, nothing else
changed; the theme retrieved and reported when none is named; one clear error for each request
theme cannot serve. On tiny random weights, and on the shipped ones (where the theme must
recur), as tests/plugins/theme/serving.py explains."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.engine import Engine
from scorehost.core.score import Score
from scorehost.core.scoreio import read_score, write_score
from scorehost.core.settings import Settings

from ...plugins.theme.conftest import chorale, tune
from ...plugins.theme.serving import assert_developed, check_development, fill_span


@contextmanager
def http_client(weights, **settings):
    """An HTTP bridge on a free port in front of an engine with theme, and a client of it."""
    engine = Engine(weights.host(), device="cpu", queue_size=8, default_timeout=120)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0, **settings))
    try:
        with httpx.Client(base_url=bridge.address(), timeout=120) as http:
            yield http
    finally:
        bridge.stop()
        engine.shutdown(timeout=2)


@pytest.fixture(scope="module")
def client(theme_weights):
    with http_client(theme_weights) as http:
        yield http


@pytest.fixture(scope="module")
def tiny_client(tiny_theme):
    with http_client(tiny_theme) as http:
        yield http


def edit(
    http: httpx.Client, score: Score, *regions, constraints=(), seed: int = 1, variations: int = 1
) -> httpx.Response:
    body = {"model": "theme", "score": score.model_dump(mode="json"), "regions": list(regions),
            "constraints": list(constraints), "options": {"seed": seed, "variations": variations}}  # fmt: skip
    return http.post("/v1/edit", json=body)


def test_sixteen_bars_developed_from_the_theme_of_bars_1_to_4(client, theme_weights):
    score = tune()
    answer = edit(client, score, "0:9-24", constraints=["theme:1-4"], variations=theme_weights.variations)
    assert answer.status_code == 200, answer.text
    assert answer.json()["warnings"] == []
    check_development(
        theme_weights, score, [Score.model_validate(v["score"]) for v in answer.json()["variations"]]
    )


def test_a_job_without_a_theme_says_which_bars_retrieval_took(client):
    """As the MuseScore plugins send an edit: a job, polled; the warning is on the job and the
    result. The region as an object with bars, the theme constraint as JSON ticks elsewhere."""
    score = tune()
    body = {"model": "theme", "score": score.model_dump(mode="json"),
            "regions": [{"track": 0, "bars": "9-24"}], "options": {"seed": 4}}  # fmt: skip
    created = client.post("/v1/jobs", json=body)
    assert created.status_code == 202, created.text
    job = client.get(f"/v1/jobs/{created.json()['id']}", params={"wait": 25}).json()
    assert job["status"] == "done", job
    expected = (
        "theme: bars 1-4 of track 0 (Track 1), taken from the context before the region "
        "(retrieval; it recurs at bar 26)"
    )
    assert job["warnings"] == [expected]
    result = client.get(f"/v1/jobs/{job['id']}/result").json()
    assert result["warnings"] == [expected]
    assert_developed(score, Score.model_validate(result["variations"][0]["score"]), 0, fill_span(score), 16)


def test_bad_requests_get_one_clear_error(tiny_client):
    score = tune()
    one_note = {"type": "theme", "start": 0, "end": 240, "track": 0}  # the upbeat's first note
    cases = [
        (score, ["0:3-10"], ["theme:1-4"], "overlaps region 0"),
        (score, ["0:9-12"], [one_note], "holds 1 note"),
        (score, ["drums:9-10"], ["theme:1-4"], "does not write drum tracks"),
        (chorale(), ["0:8-9"], ["theme:0-6"], "more than the 256 the model reads"),
        (tune(4), ["0:8-9"], [], "no phrase before the region comes back"),
    ]
    for piece, regions, constraints, fragment in cases:
        answer = edit(tiny_client, piece, *regions, constraints=constraints)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["code"] == "bad_request" and fragment in error["message"], error
        assert "Traceback" not in answer.text and "\n" not in error["message"]


def test_the_theme_example_of_docs_http_md_runs(tiny_theme, tmp_path):
    """The curl example's body, as the docs print it, against a server allowed tmp_path."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "http.md").read_text()
    example = next(b for b in re.findall(r"-d '(\{.*?\})'", text, re.DOTALL) if '"model": "theme"' in b)
    body = json.loads(example)
    write_score(tune(), tmp_path / body["score_path"])
    with http_client(tiny_theme, allowed_dirs=[tmp_path]) as http:
        answer = http.post("/v1/edit", json=body)
    assert answer.status_code == 200, answer.text
    assert_developed(tune(), read_score(tmp_path / body["output_path"]), 0, fill_span(tune()), bars=16)
