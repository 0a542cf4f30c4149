"""The HTTP bridge's settings: each field is a `scorehost serve` setting (flag, SCOREHOST_*
variable and config key of the same name); see docs/settings.md."""

from __future__ import annotations

from pydantic import Field

from scorehost.core.bridge import BridgeSettings


class HttpSettings(BridgeSettings):
    http_port: int = Field(default=8765, ge=0, le=65535, description="HTTP bridge port (0: any free port).")
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a connection has to send a request's line and headers, else it is closed.",
    )
    http_max_pending: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description="Connections one client address may hold before sending a request while the server holds half its connection limit or more; half a second after one more, its oldest still waiting are closed.",
    )
    http_body_timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds a request has to send its whole body once its headers are in; a slower one is answered 408 and closed.",
    )
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Connections and running requests the server holds at once; a request beyond them is answered 503 busy.",
    )
