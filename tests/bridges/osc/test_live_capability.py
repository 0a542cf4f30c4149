"""The OSC bridge's /scorehost/live/* requests go to whichever bridge offers LiveFill (the
protocol of core/bridge.py), found by that capability: a third-party live bridge, named
anything, is served as the MIDI bridge is."""

from __future__ import annotations

import pytest

from scorehost.bridges.client.osc import OscError
from scorehost.core import Bridge, LiveFill, LiveState, hookimpl


class Looper(Bridge, LiveFill):
    """A live bridge that is not the MIDI one: it reports a fixed state and counts clears."""

    name = "looper"
    description = "test: a live bridge that records nothing"
    default_region = ""

    def __init__(self) -> None:
        self.running = False
        self.cleared = 0

    def start(self, engine, settings):
        self.running = True

    def stop(self):
        self.running = False

    def fill(self, specs, model=None, constraints=(), options=None, timeout=None, play=True):
        raise NotImplementedError

    def clear(self) -> None:
        self.cleared += 1

    def state(self) -> LiveState:
        return {"playing": True, "position": 960, "notes": 3, "bpm": 90.0, "tracks": "ch1,ch3"}


@pytest.fixture
def looper(octave_host):
    bridge = Looper()

    class Plugin:
        @hookimpl
        def register_bridges(self, register):
            register(bridge)

    octave_host.pm.register(Plugin(), name="looper")
    return bridge


def test_a_live_bridge_of_any_name_is_found_by_its_capability(looper, osc_server, client_for):
    client = client_for(osc_server())
    with pytest.raises(OscError, match="not_running.*start serve with --bridge looper"):
        client.call("live/status")
    looper.start(None, None)
    assert client.call("live/status") == [1, 960, 3, 90.0, "ch1,ch3"]
    assert client.call("live/clear") == [] and looper.cleared == 1


def test_without_a_live_bridge_live_requests_say_so(octave_host, osc_server, client_for):
    client = client_for(osc_server())
    with pytest.raises(OscError, match="not_running"):
        client.call("live/status")
