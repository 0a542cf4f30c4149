"""The example third-party plugin, installed, found through its entry point and run by the
real engine. Its own tests (examples/scorehost-thirds/tests) check the model itself."""

import importlib.metadata

import pytest

from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.requests import EditRequest, PitchClasses, PitchRange, Region

pytestmark = pytest.mark.skipif(
    not any(ep.name == "thirds" for ep in importlib.metadata.entry_points(group="scorehost")),
    reason="examples/scorehost-thirds is not installed",
)


def test_writes_the_alto_a_third_below_in_key_and_range(chorale):
    engine = Engine(Host(env={"SCOREHOST_PLUGINS": "thirds"}), device="cpu")
    bars = chorale.bars()
    request = EditRequest(
        model="thirds-below",
        score=chorale,
        regions=[Region(track=1, start=bars[1].start, end=bars[4].end)],
        constraints=[PitchRange(track=1, low=57, high=72), PitchClasses.from_key(6, "minor")],
        options={"source": "soprano", "variations": 2, "seed": 3},
    )
    result = engine.run(request, timeout=30)
    engine.shutdown()
    assert [v.seed for v in result.variations] == [3, 4]
    written = [
        n for n in result.variations[0].score.tracks[1].notes if bars[1].start <= n.start < bars[4].end
    ]
    soprano = {n.start: n.pitch for n in chorale.tracks[0].notes}
    assert written and all(57 <= n.pitch <= 72 and n.pitch % 12 in {6, 8, 9, 11, 1, 2, 4} for n in written)
    assert all((soprano[n.start] - n.pitch) % 12 in (3, 4) for n in written)


def test_refuses_to_follow_itself(chorale):
    engine = Engine(Host(env={"SCOREHOST_PLUGINS": "thirds"}), device="cpu")
    with pytest.raises(Exception, match="cannot follow itself"):
        engine.submit(
            EditRequest(
                model="thirds-below",
                score=chorale,
                regions=[Region(track=1, start=0, end=480)],
                options={"source": 1},
            )
        )
    engine.shutdown()
