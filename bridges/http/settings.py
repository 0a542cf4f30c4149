"""The HTTP bridge's settings: each field is a `scorehost serve` setting (flag, SCOREHOST_*
variable and config key of the same name); see docs/settings.md."""

from __future__ import annotations

from pydantic import Field

from scorehost.core.bridge import BridgeSettings


class HttpSettings(BridgeSettings):
    http_port: int = Field(default=8765, ge=0, le=65535, description="HTTP bridge port (0: any free port).")
