"""The OSC bridge: UDP on loopback (and, as an option, TCP with SLIP framing on the same port).

A receiving thread only reads datagrams and hands them to a small pool of handler threads, so a
burst is queued in memory rather than dropped by the kernel. Every request gets exactly one
final reply (see docs/osc.md); anything malformed gets an error reply, never silence.
"""

from __future__ import annotations

import hmac
import logging
import math
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scorehost.core.bridge import Bridge
from scorehost.core.cliparse import add_named_tracks, parse_constraint, parse_region
from scorehost.core.engine import Engine, Job
from scorehost.core.errors import PathNotAllowed, RequestError, ScorehostError, pydantic_message
from scorehost.core.paths import PathPolicy
from scorehost.core.requests import EditRequest
from scorehost.core.scoreio import SUFFIXES, read_score, write_score
from scorehost.core.settings import Settings

from . import protocol as p

log = logging.getLogger("scorehost.osc")

MAX_PENDING = 4096  # requests read but not yet handled; more are answered 'busy' at once
RECEIVE_BUFFER = 8 * 1024 * 1024
_EDIT_KEYS = {
    "model", "in", "out", "region", "r", "constraint", "c", "option", "o", "unit", "meter", "bpm",
    "key", "length", "notes", "reply", "token", "timeout",
}  # fmt: skip
_LIVE_FILL_KEYS = (_EDIT_KEYS - {"in", "unit", "meter", "bpm", "key", "length"}) | {"play", "unit"}
_PLAIN_KEYS = {  # requests without model options: any other key is an error
    p.PING: {"reply", "token"},
    p.MODELS: {"reply", "token"},
    p.STATUS: {"reply", "token", "job"},
    p.CANCEL: {"reply", "token", "job"},
    p.LIVE_CLEAR: {"reply", "token"},
    p.LIVE_STATUS: {"reply", "token"},
}
NOTES_MODES = ("none", "regions", "all")


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


class Replier:
    """Sends the replies of one request: each carries the request's tag first."""

    def __init__(self, peer: UdpPeer | TcpPeer, tag: Any):
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


# ---- the service: requests to engine calls ---------------------------------------------


class OscService:
    """Answers decoded OSC messages; independent of the transport."""

    def __init__(self, engine: Engine, settings: Settings, pool: ThreadPoolExecutor):
        self.engine, self.settings, self.pool = engine, settings, pool
        self.paths = PathPolicy(settings.allowed_dirs)
        self._pending = 0
        self._lock = threading.Lock()

    # Called by the receiving threads: must be quick.
    def receive(self, data: bytes, peer: UdpPeer | TcpPeer) -> None:
        try:
            messages = p.decode(data)
        except ValueError as exc:
            Replier(peer, "").error("malformed", str(exc))
            return
        if not messages:
            Replier(peer, "").error("malformed", "an empty bundle")
        for addr, args in messages:
            with self._lock:
                busy = self._pending >= MAX_PENDING
                if not busy:
                    self._pending += 1
            if busy:
                self._replier(peer, args).error("busy", "too many requests waiting; try again shortly")
                continue
            try:
                self.pool.submit(self._handle_counted, addr, args, peer)
            except RuntimeError:  # the pool is shutting down
                with self._lock:
                    self._pending -= 1
                self._replier(peer, args).error("busy", "the server is shutting down")

    def _replier(self, peer, args: list[Any]) -> Replier:
        port = p.reply_port(args)
        return Replier(peer.redirected(port) if port else peer, p.leading_tag(args))

    def _handle_counted(self, addr: str, args: list[Any], peer) -> None:
        try:
            self.handle(addr, args, peer)
        finally:
            with self._lock:
                self._pending -= 1

    def handle(self, addr: str, args: list[Any], peer) -> None:
        reply = self._replier(peer, args)
        try:
            name = addr[len(p.PREFIX) + 1 :] if addr.startswith(p.PREFIX + "/") else None
            if name not in p.REQUESTS:
                known = ", ".join(p.address(n) for n in p.REQUESTS)
                raise _Error(
                    "unknown_address", f"no such address {p.clip(addr, 100)!r}; scorehost answers {known}"
                )
            parsed = p.read_arguments(args)
            if name != p.PING:
                self._authorize(parsed)
            allowed = _PLAIN_KEYS.get(name)
            if allowed is not None:
                unknown = sorted(parsed.keys() - allowed) + (["track="] if parsed.tracks else [])
                if unknown:
                    keys = ", ".join(f"{k}=" for k in sorted(allowed))
                    raise RequestError(
                        f"{p.address(name)} takes only {keys}; not {unknown[0].rstrip('=')}=",
                        unknown[0].rstrip("="),
                    )
            getattr(self, "_" + name.replace("/", "_"))(parsed, reply)
        except ScorehostError as exc:
            reply.error(getattr(exc, "code", "error"), str(exc), getattr(exc, "job_id", ""))
        except ValidationError as exc:
            reply.error("bad_request", pydantic_message(exc))
        except Exception as exc:  # a bug must cost one reply, not the server
            log.exception("OSC request %s failed", addr)
            reply.error("internal", f"internal error: {type(exc).__name__}: {exc}")

    def _authorize(self, args: p.Arguments) -> None:
        token = self.settings.token
        if token and not hmac.compare_digest((args.get("token") or "").encode(), token.encode()):
            raise _Error("unauthorized", "missing or wrong token: add the argument token=TOKEN")

    # ---- requests -----------------------------------------------------------------------

    def _ping(self, args: p.Arguments, reply: Replier) -> None:
        from scorehost.core.host import _builtin_version

        reply.send("pong", _builtin_version(), len(self.engine.host.models()))

    def _models(self, args: p.Arguments, reply: Replier) -> None:
        infos = [m.info() for m in self.engine.host.models().values()]
        for index, info in enumerate(infos):
            reply.send(
                "model",
                index,
                len(infos),
                info["id"],
                p.clip(info["description"], 500),
                ",".join(info["capabilities"]["constraints"]),
                ",".join(info["options_schema"].get("properties", {})),
            )
        reply.send("models/end", len(infos))

    def _status(self, args: p.Arguments, reply: Replier) -> None:
        job = self._job(args)
        reply.send("progress", job.id, float(job.fraction), str(job.status))

    def _cancel(self, args: p.Arguments, reply: Replier) -> None:
        job = self._job(args)
        job.cancel()
        reply.send("cancelled", job.id, str(job.status))

    def _job(self, args: p.Arguments) -> Job:
        job_id = args.get("job")
        if not job_id:
            raise RequestError("name the job: job=ID (the id of the accepted reply)", "job")
        job = self.engine.get(job_id)
        if job is None:
            raise _Error(
                "unknown_job", f"no job {p.clip(job_id, 64)} (the server keeps only its latest finished jobs)"
            )
        return job

    def _edit(self, args: p.Arguments, reply: Replier) -> None:
        unit = p.read_unit(args)
        model = args.get("model")
        if not model:
            raise RequestError("name the model: model=ID (see /scorehost/models)", "model")
        if args.get("in") is not None and args.tracks:
            raise RequestError("give the score once: in=PATH or track=NAME note lists, not both", "in")
        if args.get("in") is not None:
            source = self.paths.readable(args.get("in") or "", "in")
            score = read_score(
                source, max_bytes=self.settings.max_body_bytes, max_notes=self.settings.max_notes
            )
        elif args.tracks:
            source, score = None, p.inline_score(args, unit)
        else:
            raise RequestError("no score: give in=PATH, or track=NAME followed by notes", "in")
        specs = args.all("region", "r")
        if not specs:
            raise RequestError("give at least one region=TRACKS:BARS, e.g. region=alto,tenor:3-4", "region")
        score = add_named_tracks(score, [s.partition(":")[0] for s in specs])
        request = EditRequest(
            model=model,
            score=score,
            regions=[r for spec in specs for r in parse_region(score, spec)],
            constraints=[parse_constraint(score, s) for s in args.all("constraint", "c")],
            options=read_options(args),
            timeout=_timeout(args),
        )
        notes = _notes_mode(args, "none" if source else "regions")
        outputs = self._outputs(args, source, request.options.get("variations", 1), notes)
        job = self.engine.submit(request)
        self.follow(job, reply, request, outputs, notes, unit)

    def _live_fill(self, args: p.Arguments, reply: Replier) -> None:
        live = self._live()
        specs = args.all("region", "r") or ([live.default_region] if live.default_region else [])
        if not specs:
            raise RequestError("give the bars to fill: region=ch2:5-8", "region")
        unit = p.read_unit(args)
        notes = _notes_mode(args, "regions")
        out = self._outputs(args, None, 1, notes)
        job, request = live.fill(
            specs,
            model=args.get("model"),
            constraints=args.all("constraint", "c"),
            options=read_options(args, _LIVE_FILL_KEYS),
            timeout=_timeout(args),
            play=(args.get("play") or "1").lower() not in ("0", "no", "false", "off"),
        )
        self.follow(job, reply, request, out, notes, unit)

    def _live_clear(self, args: p.Arguments, reply: Replier) -> None:
        self._live().clear()
        reply.send("live/cleared")

    def _live_status(self, args: p.Arguments, reply: Replier) -> None:
        state = self._live().state()
        reply.send(
            "live/state",
            int(state["playing"]),
            int(state["position"]),
            state["notes"],
            state["bpm"],
            state["tracks"],
        )

    def _live(self):
        bridge = self.engine.host.bridges().get("midi")
        if bridge is None or not getattr(bridge, "running", False):
            raise _Error("not_running", "the live MIDI bridge is not running; start serve with --bridge midi")
        return bridge

    # ---- results ------------------------------------------------------------------------

    def _outputs(self, args: p.Arguments, source: Path | None, variations: Any, notes: str) -> list[Path]:
        """The files results go to, checked before the work starts (never over a file)."""
        count = variations if isinstance(variations, int) and variations > 0 else 1
        out = args.get("out")
        if out is None:
            if source is None or notes != "none":
                return []
            return self._free_names(source, count)
        if Path(out).suffix.lower() not in SUFFIXES:
            raise RequestError(f"unknown file type; end the name with one of {', '.join(SUFFIXES)}", "out")
        first = self.paths.writable(out, "out")
        targets = (
            [first]
            if count == 1
            else [first.with_name(f"{first.stem}-{i}{first.suffix}") for i in range(1, count + 1)]
        )
        return [self.paths.writable(str(t), "out") for t in targets]

    def _free_names(self, source: Path, count: int) -> list[Path]:
        for n in range(1, 1000):
            stem = f"{source.stem}-scorehost" + ("" if n == 1 else f"-{n}")
            names = [
                source.with_name(f"{stem}{'' if count == 1 else f'-{i}'}{source.suffix}")
                for i in range(1, count + 1)
            ]
            if not any(t.exists() for t in names):
                try:
                    return [self.paths.writable(str(t), "out") for t in names]
                except PathNotAllowed:
                    break
        raise RequestError("cannot choose a result file next to the input; give out=PATH", "out")

    def follow(
        self, job: Job, reply: Replier, request: EditRequest, outputs: list[Path], notes: str, unit: str
    ) -> None:
        """Report a job: accepted now, progress as it runs, then its results and done (or error)."""
        reply.send("accepted", job.id)
        state = {"fraction": -1.0, "time": 0.0, "finished": False}
        lock = threading.Lock()

        def listener(j: Job) -> None:
            if j.done:
                with lock:
                    if state["finished"]:
                        return
                    state["finished"] = True
                try:
                    self.pool.submit(self._finish, j, reply, request, outputs, notes, unit)
                except RuntimeError:
                    self._finish(j, reply, request, outputs, notes, unit)
                return
            now = time.monotonic()
            if j.fraction - state["fraction"] >= 0.02 and now - state["time"] >= 0.05:
                state["fraction"], state["time"] = j.fraction, now
                reply.send("progress", j.id, float(j.fraction), str(j.status))

        job.on_change(listener)
        if job.done:
            listener(job)

    def _finish(
        self, job: Job, reply: Replier, request: EditRequest, outputs: list[Path], notes: str, unit: str
    ) -> None:
        try:
            result = job.wait(0)
            written = [
                write_score(v.score, path) for v, path in zip(result.variations, outputs, strict=False)
            ]
        except ScorehostError as exc:
            reply.error(exc.code, str(exc), job.id)
            return
        for index, variation in enumerate(result.variations):
            log_prob = math.nan if variation.log_prob is None else float(variation.log_prob)
            path = str(written[index]) if index < len(written) else ""
            reply.send("variation", job.id, index, variation.seed, log_prob, path)
            if notes == "none":
                continue
            for track_index, track in enumerate(variation.score.tracks):
                spans = [(r.start, r.end) for r in request.regions if r.track == track_index]
                if notes == "regions" and not spans:
                    continue
                chosen = [n for n in track.notes if notes == "all" or any(s <= n.start < e for s, e in spans)]
                chunks = p.note_chunks(chosen, unit)
                for c, values in enumerate(chunks):
                    reply.send("notes", job.id, index, track_index, track.name, c, len(chunks), *values)
        for warning in result.warnings:
            reply.send("warning", job.id, p.clip(warning))
        first = str(written[0]) if written else ""
        reply.send("done", job.id, len(result.variations), first, float(result.timings.get("total", 0.0)))


class _Error(ScorehostError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def read_options(args: p.Arguments, reserved: set[str] = _EDIT_KEYS) -> dict[str, Any]:
    """Model options: option=KEY=VALUE, or any KEY=VALUE that is not a key of the request (the
    model's options then refuse an unknown one: nothing is silently ignored)."""
    from scorehost.core.cliparse import parse_option

    options: dict[str, Any] = {}
    for key, value in args.pairs:
        if key in ("option", "o"):
            name, parsed = parse_option(value)
            options[name] = parsed
        elif key not in reserved:
            options[key] = parse_option(f"{key}={value}")[1]
    return options


def _timeout(args: p.Arguments) -> float | None:
    text = args.get("timeout")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise RequestError(f"{text!r} is not a number of seconds", "timeout") from None
    if not 0 < value <= 3600:
        raise RequestError("must be in 0..3600 seconds", "timeout")
    return value


def _notes_mode(args: p.Arguments, default: str) -> str:
    mode = (args.get("notes") or default).lower()
    if mode not in NOTES_MODES:
        raise RequestError(f"notes must be one of {', '.join(NOTES_MODES)}, not {mode!r}", "notes")
    return mode


# ---- the bridge -------------------------------------------------------------------------


class OscBridge(Bridge):
    name = "osc"
    description = (
        "OSC over UDP (TCP with SLIP as an option) for DAWs, Max for Live and TouchOSC: see docs/osc.md"
    )

    def __init__(self) -> None:
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self.threads: list[threading.Thread] = []
        self.service: OscService | None = None
        self.pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()
        self.host, self.port = "", 0

    def start(self, engine: Engine, settings: Settings) -> None:
        self._stopping.clear()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="scorehost-osc")
        self.service = OscService(engine, settings, self.pool)
        # Port 0 asks for any free port; TCP must then get the same number as UDP, which
        # another program may hold for TCP only, so a few ports are tried.
        attempts = 20 if settings.osc_port == 0 and settings.osc_tcp else 1
        for attempt in range(attempts):
            try:
                self._bind(settings)
                break
            except OSError as exc:
                self._close_sockets()
                if attempt == attempts - 1:
                    self.stop()
                    which = "TCP and UDP" if settings.osc_tcp else "UDP"
                    raise ScorehostError(
                        f"the OSC bridge could not listen on {settings.host}:{settings.osc_port} ({which}: "
                        f"{exc.strerror or exc}; is the port taken?)"
                    ) from exc
        self.udp.settimeout(0.2)
        self._thread(self._serve_udp, "scorehost-osc-udp")
        if self.tcp is not None:
            self.tcp.listen(16)
            self.tcp.settimeout(0.2)
            self._thread(self._serve_tcp, "scorehost-osc-tcp")

    def _bind(self, settings: Settings) -> None:
        """UDP on the port asked for; with TCP, TCP on the same port number."""
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        _raise_receive_buffer(self.udp)
        self.udp.bind((settings.host, settings.osc_port))
        self.host, self.port = settings.host, self.udp.getsockname()[1]
        if settings.osc_tcp:
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.tcp.bind((settings.host, self.port))

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
        sock, service = self.udp, self.service
        assert sock is not None and service is not None
        while not self._stopping.is_set():
            try:
                data, addr = sock.recvfrom(65_535)
            except TimeoutError:
                continue
            except OSError:  # an ICMP error from an earlier reply, or the socket closed
                if self._stopping.is_set():
                    return
                continue
            service.receive(data, UdpPeer(sock, addr[:2]))

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
        assert self.service is not None and self.udp is not None
        peer = TcpPeer(conn, addr[:2], self.udp)
        limit = self.service.settings.max_body_bytes
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
                        self.service.receive(slip_decode(frame), peer)
                if len(buffer) > limit:
                    Replier(peer, "").error("too_large", f"a frame over {limit:,} bytes; closing")
                    return

    def address(self) -> str:
        where = f"udp://{self.host}:{self.port}" if self.port else ""
        return where + (f" and tcp://{self.host}:{self.port} (SLIP)" if self.tcp is not None else "")

    def stop(self) -> None:
        self._stopping.set()
        for thread in self.threads:
            thread.join(2)
        self.threads = []
        self._close_sockets()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=False)
            self.pool = None


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
