"""The OSC bridge's transport: UDP on loopback (and, as an option, TCP with SLIP framing on the
same port), and where replies go.

A receiving thread only reads datagrams (or SLIP frames of a TCP connection) and hands each to
`receive(data, peer)`, which must be quick; nothing here reads OSC beyond the framing.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from scorehost.core.errors import ScorehostError

from . import protocol as p

log = logging.getLogger("scorehost.osc")

RECEIVE_BUFFER = 8 * 1024 * 1024


# ---- where replies go -------------------------------------------------------------------


class UdpPeer:
    def __init__(self, sock: socket.socket, addr: tuple[str, int]):
        self.sock, self.addr = sock, addr

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.addr)
        except OSError as exc:  # the client went away; nothing to tell it
            log.debug("cannot reply to %s: %s", self.addr, exc)

    def redirected(self, port: int) -> UdpPeer:
        return UdpPeer(self.sock, (self.addr[0], port))


class TcpPeer:
    def __init__(self, conn: socket.socket, addr: tuple[str, int], udp: socket.socket):
        self.conn, self.addr, self.udp = conn, addr, udp
        self.lock = threading.Lock()

    def send(self, data: bytes) -> None:
        try:
            with self.lock:
                self.conn.sendall(slip_encode(data))
        except OSError as exc:
            log.debug("cannot reply to %s: %s", self.addr, exc)

    def redirected(self, port: int) -> UdpPeer:
        return UdpPeer(self.udp, (self.addr[0], port))


Peer = UdpPeer | TcpPeer


class Replier:
    """Sends the replies of one request: each carries the request's tag first."""

    def __init__(self, peer: Peer, tag: Any):
        self.peer, self.tag = peer, tag

    def send(self, name: str, *args: Any) -> None:
        self.peer.send(p.encode(p.address(name), self.tag, *args))

    def error(self, code: str, message: str, job_id: str = "") -> None:
        self.send("error", job_id, code, p.clip(message))


# ---- SLIP framing (OSC 1.1 over TCP) ----------------------------------------------------

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


def slip_encode(data: bytes) -> bytes:
    body = data.replace(bytes([ESC]), bytes([ESC, ESC_ESC])).replace(bytes([END]), bytes([ESC, ESC_END]))
    return bytes([END]) + body + bytes([END])


def slip_decode(frame: bytes) -> bytes:
    return frame.replace(bytes([ESC, ESC_END]), bytes([END])).replace(bytes([ESC, ESC_ESC]), bytes([ESC]))


# ---- the sockets ------------------------------------------------------------------------


class OscSockets:
    """The bridge's UDP socket, its optional TCP one, and the threads that read them."""

    def __init__(self) -> None:
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self.threads: list[threading.Thread] = []
        self.host, self.port = "", 0
        self._receive: Callable[[bytes, Peer], None] | None = None
        self._max_frame = 0
        self._stopping = threading.Event()

    def open(
        self, host: str, port: int, tcp: bool, max_frame: int, receive: Callable[[bytes, Peer], None]
    ) -> None:
        """Listen, and hand every datagram or frame (of at most max_frame bytes) to receive;
        raises if the port is taken."""
        self._stopping.clear()
        self._receive, self._max_frame = receive, max_frame
        # Port 0 asks for any free port; TCP must then get the same number as UDP, which
        # another program may hold for TCP only, so a few ports are tried.
        attempts = 20 if port == 0 and tcp else 1
        for attempt in range(attempts):
            try:
                self._bind(host, port, tcp)
                break
            except OSError as exc:
                self._close_sockets()
                if attempt == attempts - 1:
                    which = "TCP and UDP" if tcp else "UDP"
                    raise ScorehostError(
                        f"the OSC bridge could not listen on {host}:{port} ({which}: "
                        f"{exc.strerror or exc}; is the port taken?)"
                    ) from exc
        self.udp.settimeout(0.2)
        self._thread(self._serve_udp, "scorehost-osc-udp")
        if self.tcp is not None:
            self.tcp.listen(16)
            self.tcp.settimeout(0.2)
            self._thread(self._serve_tcp, "scorehost-osc-tcp")

    def address(self) -> str:
        where = f"udp://{self.host}:{self.port}" if self.port else ""
        return where + (f" and tcp://{self.host}:{self.port} (SLIP)" if self.tcp is not None else "")

    def close(self) -> None:
        self._stopping.set()
        for thread in self.threads:
            thread.join(2)
        self.threads = []
        self._close_sockets()

    def _bind(self, host: str, port: int, tcp: bool) -> None:
        """UDP on the port asked for; with TCP, TCP on the same port number."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        _raise_receive_buffer(self.udp)
        self.udp.bind((host, port))
        self.host, self.port = host, self.udp.getsockname()[1]
        if tcp:
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind((host, self.port))

    def _close_sockets(self) -> None:
        for sock in (self.udp, self.tcp):
            if sock is not None:
                sock.close()
        self.udp = self.tcp = None

    def _thread(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _serve_udp(self) -> None:
        sock, receive = self.udp, self._receive
        assert sock is not None and receive is not None
        while not self._stopping.is_set():
            try:
                data, addr = sock.recvfrom(65_535)
            except TimeoutError:
                continue
            except OSError:  # an ICMP error from an earlier reply, or the socket closed
                if self._stopping.is_set():
                    return
                continue
            receive(data, UdpPeer(sock, addr[:2]))

    def _serve_tcp(self) -> None:
        assert self.tcp is not None
        while not self._stopping.is_set():
            try:
                conn, addr = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._thread(self._serve_connection, "scorehost-osc-conn", conn, addr)

    def _serve_connection(self, conn: socket.socket, addr) -> None:
        assert self._receive is not None and self.udp is not None
        peer = TcpPeer(conn, addr[:2], self.udp)
        limit = self._max_frame
        buffer = b""
        conn.settimeout(0.5)
        with conn:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(65_536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                *frames, buffer = buffer.split(bytes([END]))
                for frame in frames:
                    if frame:
                        self._receive(slip_decode(frame), peer)
                if len(buffer) > limit:
                    Replier(peer, "").error("too_large", f"a frame over {limit:,} bytes; closing")
                    return


def _raise_receive_buffer(sock: socket.socket) -> None:
    """Ask for a large kernel buffer so a burst waits for the reader instead of being dropped."""
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            return
        except OSError:
            continue
