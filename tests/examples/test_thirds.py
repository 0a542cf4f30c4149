"""The example third-party plugin, installed, found through its entry point and run by the
real engine. Its own tests (examples/scorehost-thirds/tests) check the model itself."""

import importlib.metadata

import pytest

from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.requests import EditRequest, PitchRange, Region
from scorehost.core.testing import check_model

pytestmark = pytest.mark.skipif(
    not any(ep.name == "thirds" for ep in importlib.metadata.entry_points(group="scorehost")),
    reason="examples/scorehost-thirds is not installed",
)


def test_the_engine_serves_the_installed_plugin_as_check_model_runs_it(chorale):
    bars = chorale.bars()
    request = EditRequest(
        model="thirds-below",
        score=chorale,
        regions=[Region(track=2, start=bars[2].start, end=bars[3].end)],  # the tenor, a sixth below the alto
        constraints=[PitchRange(track=2, low=48, high=67)],
        options={"source": "alto", "steps": 5, "variations": 2, "seed": 11},
    )
    host = Host(env={"SCOREHOST_PLUGINS": "thirds"})
    engine = Engine(host, device="cpu")
    try:
        result = engine.run(request, timeout=30)
    finally:
        engine.shutdown()
    expected = check_model(host.model("thirds-below"), request)
    assert [v.seed for v in result.variations] == [11, 12]
    assert [v.score for v in result.variations] == [v.score for v in expected]
    assert result.variations[0].score != chorale  # it wrote something


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
