"""Refuse requests that do not name this server in their Host header (DNS rebinding), and
state-changing requests sent by a web page of another origin (drive-by posts).

A web page on a domain its owner rebinds to 127.0.0.1 reaches the loopback server from the
user's browser as same-origin, but its requests still say `Host: attacker.example`: only
requests that name this server (a loopback name or address, the configured --host, or the
address the connection came in on, with the server's port) are served. A page of any other
origin can still send a form or a fetch without CORS; its POST or DELETE carries an Origin
header, which must name this server too. Clients that are not browsers send no Origin.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .limits import refuse

WILDCARDS = ("", "0.0.0.0", "::")  # binding these listens on every address: they name no host
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HostCheck:
    """Pure ASGI middleware, outside everything else: nothing is read or run for a request
    that names another host."""

    def __init__(self, app, host: str):
        self.app = app
        configured = host.strip().lower().strip("[]")
        self.names = {"localhost"} | ({configured} if configured not in WILDCARDS else set())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        server = scope.get("server")  # (address, port) of the socket the request came in on
        hosts = [value for name, value in scope.get("headers", []) if name == b"host"]
        if len(hosts) != 1 or not self.allowed(
            hosts[0].decode("latin-1"), scope.get("scheme", "http"), server
        ):
            shown = hosts[0].decode("latin-1")[:100] if hosts else ""
            return await refuse(
                send,
                403,
                "host_not_allowed",
                f"the Host header {shown!r} does not name this server; use http://127.0.0.1:PORT "
                "or http://localhost:PORT (or the address it was started with, --host)",
            )
        origin = next((value for name, value in scope["headers"] if name == b"origin"), None)
        if scope["method"] in STATE_CHANGING and origin is not None:
            text = origin.decode("latin-1")
            parts = urlsplit(text) if "://" in text else None
            if (
                parts is None
                or parts.scheme not in _DEFAULT_PORTS
                or not self.allowed(parts.netloc, parts.scheme, server)
            ):
                return await refuse(
                    send,
                    403,
                    "origin_not_allowed",
                    f"a web page of another origin ({text[:100]!r}) may not send {scope['method']} requests here",
                )
        await self.app(scope, receive, send)

    def allowed(self, authority: str, scheme: str, server) -> bool:
        """Whether HOST[:PORT] names this server: an allowed name or a loopback address, and
        the port the server listens on (the scheme's default when none is given)."""
        name, port = split_authority(authority)
        if name is None:
            return False
        if server is not None:
            if (port if port is not None else _DEFAULT_PORTS.get(scheme, 80)) != server[1]:
                return False
            if name == str(server[0]).lower():
                return True
        if name in self.names:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False


def split_authority(authority: str) -> tuple[str | None, int | None]:
    """("host", port) of HOST[:PORT] or [IPv6][:PORT], lowercased; (None, None) when malformed."""
    text = authority.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None, None
        port_text = rest[1:] if rest else None
    else:
        name, colon, port_text = text.partition(":")
        port_text = port_text if colon else None
    if not name or (port_text is not None and not (port_text.isdigit() and int(port_text) < 65536)):
        return None, None
    return name, int(port_text) if port_text is not None else None
