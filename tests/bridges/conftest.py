"""Fixtures of the bridge tests that run the built-in mmm model."""

from __future__ import annotations

import pytest

from scorehost.core.host import Host


@pytest.fixture(scope="session")
def mmm_host() -> Host:
    """A host with the built-in plugins, mmm's weights loaded once for every test that needs them.

    The weights ship in the package: a checkout without them is broken, so nothing is skipped."""
    host = Host(env={"SCOREHOST_PLUGINS": ""})
    host.model("mmm").load("cpu")
    return host
