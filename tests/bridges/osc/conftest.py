"""OSC bridge fixtures: a running bridge on a free loopback port, with the test models plus 'octave' (tests/conftest.py)."""

from __future__ import annotations

import pytest

from scorehost.bridges.client.osc import OscClient
from scorehost.bridges.osc.server import OscBridge
from scorehost.core.settings import Settings

from ...conftest import make_engine


@pytest.fixture
def osc_server(octave_host, tmp_path):
    """Start an OSC bridge; yields a function taking Settings overrides and returning the bridge."""
    host = octave_host
    running = []

    def start(**overrides):
        settings = Settings.with_bridges([OscBridge])(
            **({"osc_port": 0, "allowed_dirs": [tmp_path]} | overrides)
        )
        engine = make_engine(
            host, device="cpu", queue_size=1000, default_timeout=20, max_notes=settings.max_notes
        )
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
