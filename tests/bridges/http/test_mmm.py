"""A new drum track over real HTTP with the built-in mmm model: the request a client sends to
add a track is the score with an empty track plus a region over it."""

from __future__ import annotations

import httpx
import pytest

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.engine import Engine
from scorehost.core.score import Score, note_tuples
from scorehost.core.scoreio import read_score
from scorehost.core.settings import Settings

from ...conftest import CHORALE, corpus_path

GM_DRUM_KEYS = range(27, 88)  # the General MIDI percussion keys mmm writes (27..87)


@pytest.fixture(scope="module")
def client(mmm_host):
    engine = Engine(mmm_host, device="cpu", queue_size=8, default_timeout=120)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    with httpx.Client(base_url=bridge.address(), timeout=120) as http:
        yield http
    bridge.stop()
    engine.shutdown(timeout=2)


def test_adding_a_drum_track_to_a_three_track_score(client):
    chorale = read_score(corpus_path(CHORALE))
    trio = chorale.model_copy(update={"tracks": [chorale.tracks[i] for i in (0, 1, 3)], "fermatas": []})
    score = trio.model_dump()
    score["tracks"].append({"name": "Drums", "is_drum": True, "notes": []})
    body = {
        "model": "mmm",
        "score": score,
        "regions": [{"track": 3, "start": 0, "end": trio.length}],
        "options": {"seed": 3},
    }
    answer = client.post("/v1/edit", json=body)
    assert answer.status_code == 200, answer.text
    result = Score.model_validate(answer.json()["variations"][0]["score"])
    assert len(result.tracks) == 4
    for old, new in zip(trio.tracks, result.tracks, strict=False):
        assert note_tuples(new) == note_tuples(old)
    drums = result.tracks[3]
    assert drums.is_drum and drums.name == "Drums" and drums.notes
    assert all(n.pitch in GM_DRUM_KEYS and 0 <= n.start < trio.length for n in drums.notes)
