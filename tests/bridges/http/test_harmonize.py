"""Fifty clients harmonizing at once through HTTP with the built-in DeepBach model."""

import threading

import httpx
import pytest

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.score import Score, note_tuples
from scorehost.core.settings import Settings


@pytest.fixture(scope="module")
def address():
    host = Host(env={"SCOREHOST_PLUGINS": ""})
    if "deepbach" not in host.models():
        pytest.skip("the deepbach plugin is not available")
    engine = Engine(host, device="cpu", queue_size=100, default_timeout=300)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    yield bridge.address()
    bridge.stop()
    engine.shutdown()


def _melody_exercise(chorale: Score, bars: int) -> Score:
    end = chorale.bars()[bars].end
    soprano = chorale.tracks[0].model_copy(
        update={"notes": [n for n in chorale.tracks[0].notes if n.end <= end]}
    )
    empty = [t.model_copy(update={"notes": []}) for t in chorale.tracks[1:]]
    return chorale.model_copy(update={"tracks": [soprano, *empty], "length": end, "fermatas": []})


def test_fifty_concurrent_harmonizations(address, chorale):
    exercise = _melody_exercise(chorale, 2)
    regions = [{"track": t, "start": 0, "end": exercise.length} for t in (1, 2, 3)]
    answers: list[httpx.Response] = []

    def harmonize(seed: int) -> None:
        body = {
            "model": "deepbach",
            "score": exercise.model_dump(),
            "regions": regions,
            "options": {"seed": seed, "iterations": 8},
        }
        with httpx.Client(base_url=address, timeout=300) as client:
            answers.append(client.post("/v1/edit", json=body))

    threads = [threading.Thread(target=harmonize, args=(seed,)) for seed in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 50
    for answer in answers:
        if answer.status_code != 200:  # a clear error is acceptable; a crash or silence is not
            assert answer.json()["error"]["message"]
            continue
        result = Score.model_validate(answer.json()["variations"][0]["score"])
        assert note_tuples(result.tracks[0]) == note_tuples(exercise.tracks[0])
        for voice in result.tracks[1:]:
            assert voice.notes and all(0 <= n.start < exercise.length for n in voice.notes)
    assert sum(a.status_code == 200 for a in answers) == 50
