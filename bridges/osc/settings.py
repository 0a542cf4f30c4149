"""The OSC bridge's settings: each field is a `scorehost serve` setting (flag, SCOREHOST_*
variable and config key of the same name); see docs/settings.md."""

from __future__ import annotations

from pydantic import Field

from scorehost.core.bridge import BridgeSettings


class OscSettings(BridgeSettings):
    osc_port: int = Field(default=9100, ge=0, le=65535, description="OSC bridge UDP port.")
    osc_tcp: bool = Field(default=False, description="Also serve OSC over TCP (SLIP framing) on osc_port.")
