"""OSC bridge fixtures: a running bridge on a free loopback port, with the test models plus 'octave'."""

from __future__ import annotations

import pytest

from scorehost.bridges.client.osc import OscClient
from scorehost.bridges.osc.server import OscBridge
from scorehost.core import hookimpl
from scorehost.core.engine import Engine
from scorehost.core.model import Model
from scorehost.core.requests import Variation
from scorehost.core.settings import Settings


class Octave(Model):
    """Writes into each region the notes track 0 has there, an octave lower: visible, checkable."""

    model_id = "octave"
    description = "test: copies track 0 an octave down into the regions"

    def inpaint(self, request, options, job):
        score = request.score
        tracks = [t.model_copy(update={"notes": list(t.notes)}) for t in score.tracks]
        for region in request.regions:
            source = [n for n in score.tracks[0].notes if region.start <= n.start < region.end]
            kept = [n for n in tracks[region.track].notes if not region.start <= n.start < region.end]
            written = [
                n.model_copy(
                    update={"pitch": max(0, n.pitch - 12), "duration": min(n.duration, region.end - n.start)}
                )
                for n in source
            ]
            tracks[region.track] = tracks[region.track].model_copy(update={"notes": kept + written})
        result = score.model_copy(update={"tracks": tracks})
        return [Variation(score=result, log_prob=-1.0, seed=s) for s in options.seeds()]


class OctavePlugin:
    @hookimpl
    def register_models(self, register):
        register(Octave())


@pytest.fixture
def osc_server(host, tmp_path):
    """Start an OSC bridge; yields a function taking Settings overrides and returning the bridge."""
    host.pm.register(OctavePlugin(), name="octave")
    running = []

    def start(**overrides):
        settings = Settings(**({"osc_port": 0, "allowed_dirs": [tmp_path]} | overrides))
        engine = Engine(host, device="cpu", queue_size=1000, default_timeout=20, max_notes=settings.max_notes)
        bridge = OscBridge()
        bridge.start(engine, settings)
        running.append((bridge, engine))
        return bridge

    yield start
    for bridge, engine in running:
        bridge.stop()
        engine.shutdown(timeout=2)


@pytest.fixture
def client_for():
    clients = []

    def make(bridge, **kwargs):
        client = OscClient("127.0.0.1", bridge.port, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
