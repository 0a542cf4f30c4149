"""The OSC bridge: UDP on loopback (and, as an option, TCP with SLIP framing on the same port).

It puts three parts together: the transport (transport.py: sockets, SLIP framing, where
replies go), request handling (handlers.py: the address space, the token, building edit
requests) and result delivery (delivery.py: progress, results and the files they go to).
A receiving thread only reads datagrams and hands them to a small pool of handler threads, so a
burst is queued in memory rather than dropped by the kernel. Every request gets exactly one
final reply (see docs/osc.md); anything malformed gets an error reply, never silence.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

from scorehost.core.bridge import Bridge
from scorehost.core.engine import Engine
from scorehost.core.errors import ScorehostError
from scorehost.core.settings import Settings

from .handlers import MAX_PENDING, NOTES_MODES, OscService, read_options
from .settings import OscSettings
from .transport import RECEIVE_BUFFER, OscSockets, Replier, TcpPeer, UdpPeer, slip_decode, slip_encode

# What this module defined before it was split in three stays importable from here.
__all__ = [
    "MAX_PENDING",
    "NOTES_MODES",
    "RECEIVE_BUFFER",
    "OscBridge",
    "OscService",
    "Replier",
    "TcpPeer",
    "UdpPeer",
    "read_options",
    "slip_decode",
    "slip_encode",
]


class OscBridge(Bridge):
    name = "osc"
    description = (
        "OSC over UDP (TCP with SLIP as an option) for DAWs, Max for Live and TouchOSC: see docs/osc.md"
    )

    settings_model = OscSettings

    def __init__(self) -> None:
        self.sockets = OscSockets()
        self.service: OscService | None = None
        self.pool: ThreadPoolExecutor | None = None

    def start(self, engine: Engine, settings: Settings) -> None:
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="scorehost-osc")
        self.service = OscService(engine, settings, self.pool)
        try:
            own = self.own_settings(settings)
            self.sockets.open(
                settings.host, own.osc_port, own.osc_tcp, settings.max_body_bytes, self.service.receive
            )
        except ScorehostError:
            self.stop()
            raise

    def address(self) -> str:
        return self.sockets.address()

    def stop(self) -> None:
        self.sockets.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=False)
            self.pool = None

    # The sockets, as attributes of the bridge (tests and benchmarks read them).

    @property
    def udp(self) -> socket.socket | None:
        return self.sockets.udp

    @property
    def tcp(self) -> socket.socket | None:
        return self.sockets.tcp

    @property
    def host(self) -> str:
        return self.sockets.host

    @property
    def port(self) -> int:
        return self.sockets.port
