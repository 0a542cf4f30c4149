"""schemathesis against the server's own OpenAPI spec, over real HTTP to a real uvicorn server:
for a bounded number of generated requests per operation (valid and invalid ones), the server
never answers 500, answers only statuses the spec documents for that operation, and every error
answer has the documented shape."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import content_type_conformance, status_code_conformance

from scorehost.bridges.http.server import HttpBridge
from scorehost.core import hookimpl
from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.score import Note, Score, Track
from scorehost.core.settings import Settings

from ...conftest import Echo

EXAMPLES = 50  # per operation: the eight take about ten seconds on a busy two-core machine
EXPECTED_5XX = {503: "busy", 504: "timeout"}  # the queue is full; the request's own time limit


class _EchoOnly:
    @hookimpl
    def register_models(self, register):
        register(Echo())


@pytest.fixture(scope="module")
def api():
    host = Host(builtins=(), env={"SCOREHOST_PLUGINS": ""})
    host.pm.register(_EchoOnly(), name="echo-only")
    engine = Engine(host, device="cpu", default_timeout=10)
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    yield schemathesis.openapi.from_url(f"{bridge.address()}/openapi.json")
    bridge.stop()
    engine.shutdown(timeout=2)


SCORE = Score(tracks=[Track(name="Melody", notes=[Note(start=0, duration=480, pitch=60)])], length=1920)
REGIONS = [{"track": 0, "start": 0, "end": 960}]
SCORE_FIELDS = ("score", "score_musicxml", "score_midi_base64", "score_path")


def _check(case, reachable: bool) -> None:
    if reachable and isinstance(case.body, dict):
        # Half the edits get a real model, score and region, so that the generated
        # constraints, options, timeouts and output paths reach the checks and the engine.
        body = {k: v for k, v in case.body.items() if k not in SCORE_FIELDS}
        case.body = body | {"model": "echo", "score": SCORE.model_dump(), "regions": REGIONS}
    response = case.call(timeout=30)
    case.validate_response(response, checks=[status_code_conformance, content_type_conformance])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert {"code", "message", "field"} <= set(error), response.text
        assert response.status_code < 500 or EXPECTED_5XX.get(response.status_code) == error["code"], (
            f"server error {response.status_code}: {response.text[:300]}"
        )


def test_the_server_keeps_to_its_spec(api):
    """Each operation's cases run through hypothesis here (schemathesis's pytest plugin does
    not load lazily under this pytest), one operation after another."""
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 8
    for operation in operations:
        run = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))(
            given(operation.as_strategy(), st.booleans())(_check)
        )
        run()
