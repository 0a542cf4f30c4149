"""A small OSC client for scorehost's address space (docs/osc.md): the CLI, tests and bench use it."""

from __future__ import annotations

import itertools
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

from scorehost.bridges.osc import protocol as p

FINAL = {"done", "error"}


class OscError(Exception):
    def __init__(self, code: str, message: str, job_id: str = ""):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.job_id = code, message, job_id


class OscClient:
    """Sends requests from one UDP socket and sorts the replies by tag."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9100, token: str | None = None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.server = (host, port)
        self.token = token
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.connected = _local(host)
        if self.connected:
            self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
            # Connected, the socket hears the kernel's "port unreachable": with nothing
            # listening there, a call fails at once (ConnectionRefusedError), not at its timeout.
            self.sock.connect(self.server)
        else:
            self.sock.bind(("", 0))
        self._tags = itertools.count(1)
        self._stash: dict[Any, deque] = defaultdict(deque)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> OscClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, name: str, *args: Any, tag: Any = None) -> Any:
        """Send a request; returns its tag."""
        tag = next(self._tags) if tag is None else tag
        extra = [f"token={self.token}"] if self.token else []
        data = p.encode(p.address(name), tag, *args, *extra)
        try:
            self.sock.send(data) if self.connected else self.sock.sendto(data, self.server)
        except ConnectionRefusedError:
            raise self._refused() from None
        return tag

    def replies(self, tag: Any, timeout: float = 30.0, final: set[str] = FINAL) -> Iterator[tuple[str, list]]:
        """Yield (name, args after the tag) for one request until its final reply."""
        deadline = time.monotonic() + timeout
        while True:
            while self._stash[tag]:
                name, args = self._stash[tag].popleft()
                yield name, args
                if name in final:
                    del self._stash[tag]
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no final reply from scorehost at {self.server[0]}:{self.server[1]} in {timeout:g} s"
                )
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65_535)
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                raise self._refused() from None
            for address, args in p.decode(data):
                if address.startswith(p.PREFIX + "/") and args:
                    self._stash[args[0]].append((address[len(p.PREFIX) + 1 :], args[1:]))

    def _refused(self) -> ConnectionRefusedError:
        host, port = self.server
        return ConnectionRefusedError(f"nothing listens for OSC at {host}:{port} (UDP)")

    def call(self, name: str, *args: Any, timeout: float = 30.0, on_reply: Callable | None = None) -> list:
        """Send a request and return the arguments of its final reply; raise OscError on error."""
        tag = self.send(name, *args)
        for reply, values in self.replies(tag, timeout, final=_finals(name)):
            if on_reply is not None:
                on_reply(reply, values)
            if reply == "error":
                raise OscError(str(values[1]), str(values[2]), str(values[0]))
            if reply in _finals(name):
                return values
        raise AssertionError("unreachable")


def _finals(name: str) -> set[str]:
    return {
        "ping": {"pong"},
        "models": {"models/end"},
        "status": {"progress"},
        "cancel": {"cancelled"},
        "live/clear": {"live/cleared"},
        "live/status": {"live/state"},
    }.get(name, {"done"}) | {"error"}


def _local(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")
