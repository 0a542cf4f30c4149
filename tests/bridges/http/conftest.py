"""Fixtures of the HTTP bridge tests: a real uvicorn server on loopback."""

import httpx
import pytest

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.engine import Engine
from scorehost.core.settings import Settings
from scorehost.core.threads import cpu_policy


@pytest.fixture
def serve(host, tmp_path):
    """Start the bridge with the given settings; yields a function returning an httpx client."""
    running = []

    def start(**overrides):
        settings = Settings.with_bridges([HttpBridge])(
            **({"http_port": 0, "max_body_bytes": 1024 * 1024} | overrides)
        )
        cpu = cpu_policy(settings.cpu_workers, settings.cpu_threads, settings.omp_wait_policy)
        engine = Engine(
            host, device="cpu", queue_size=200, default_timeout=20, max_notes=settings.max_notes, cpu=cpu
        )
        bridge = HttpBridge()
        bridge.start(engine, settings)
        running.append((bridge, engine))
        return httpx.Client(base_url=bridge.address(), timeout=30)

    yield start
    for bridge, engine in running:
        bridge.stop()
        engine.shutdown(timeout=2)
